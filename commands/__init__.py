"""Chat commands: pure handlers (state, args, caller, now) -> Reply, and their registry.

Each command module is imported when one of its commands is first needed (see `registry.lazy_modules`):
`sozialmonitor ask "/status M21"` does not pay for the calendar, the holiday tables or the report's charts.
"""

from .registry import Caller, all_commands, dispatch, lazy_modules
from .reply import Attachment, Reply, Span
from .state import State

__all__ = ["COMMAND_MODULES", "Attachment", "Caller", "Reply", "Span", "State", "all_commands", "dispatch"]

# Module -> the command names (German and English) it registers. tests/test_commands_lazy.py checks this table
# against what each module really registers; a name missing here still works, only slower.
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "core": ("start", "hilfe", "help", "status", "massnahmen", "measures", "termine", "meetings"),
    "ingest_cmds": ("indikatoren", "indicators", "lieferungen", "deliveries"),
    "meetings": ("termin", "schedule", "protokoll", "protocol", "unterschrieben", "signed", "protokolle",
                 "protocols", "kalender", "calendar"),
    "reminders": ("erinnerungen", "reminders"),
    "report": ("bericht", "report", "trend", "chart"),
    "steps": ("schritte", "steps", "schritt", "step"),
    "history": ("verlauf", "history"),
    "template": ("vorlage", "template"),
    "sozialindex": ("sozialindex", "socialindex"),
}

lazy_modules(__name__, COMMAND_MODULES)
