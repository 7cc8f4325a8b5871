"""Messages the monitor sends on its own (ingest notices, reminders), shared by watchers/ and bot/."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .reply import Reply

__all__ = ["ADMINS", "ADMIN_CHAT", "Outgoing", "Sink"]

ADMINS = "@admins"  # recipient meaning: every admin of the catalogue (and the admin chat, if set)
ADMIN_CHAT = "@admin_chat"  # recipient meaning: only the admin chat of the settings (a group, not a person)


@dataclass(frozen=True)
class Outgoing:
    """A message the monitor sends on its own: an ingest notice, a reminder, an operating notice.

    recipients are person names from the catalogue, or ADMINS. `key` is an idempotency key: a reminder
    with a key is recorded as sent in the store before the next message goes out.
    """

    recipients: tuple[str, ...]
    reply: Reply
    kind: str = "notice"  # notice | reminder | error
    key: str = ""


Sink = Callable[[Outgoing], None]  # must be thread-safe: the watcher calls it from its own thread
