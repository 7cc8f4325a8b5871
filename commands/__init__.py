"""Chat commands: pure handlers (state, args, caller, now) -> Reply, and their registry."""

# Importing the command modules registers their commands.
from . import (  # noqa: F401
    core,
    history,
    ingest_cmds,
    meetings,
    reminders,
    report,
    sozialindex,
    steps,
    template,
)
from .registry import Caller, all_commands, dispatch
from .reply import Attachment, Reply, Span
from .state import State

__all__ = ["Attachment", "Caller", "Reply", "Span", "State", "all_commands", "dispatch"]
