"""Chat commands: pure handlers (state, args, caller, now) -> Reply, and their registry."""

from . import core, ingest_cmds, meetings, reminders, report, sozialindex, steps  # noqa: F401  (registers the commands)
from .registry import Caller, all_commands, dispatch
from .reply import Attachment, Reply, Span
from .state import State

__all__ = ["Attachment", "Caller", "Reply", "Span", "State", "all_commands", "dispatch"]
