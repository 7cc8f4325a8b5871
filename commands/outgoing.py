"""Messages the monitor sends on its own (ingest notices, reminders), shared by watchers/ and bot/."""

from __future__ import annotations

from collections.abc import Callable

from storage.models import Person

from .reply import Outgoing

__all__ = ["ADMINS", "ADMIN_CHAT", "CHANNELS", "Outgoing", "Sink", "channels_of", "configured_channels"]

ADMINS = "@admins"  # recipient meaning: every admin of the catalogue (and the admin chat, if set)
ADMIN_CHAT = "@admin_chat"  # recipient meaning: only the admin chat of the settings (a group, not a person)

CHANNELS = ("telegram", "matrix", "email")  # the fixed order of fallbacks after a person's preferred channel

Sink = Callable[[Outgoing], None]  # must be thread-safe: the watcher calls it from its own thread


def configured_channels(settings: object) -> set[str]:
    """The channels the settings set up (Telegram counts always: an id in the catalogue is its set-up)."""
    out = {"telegram"}
    email = getattr(settings, "email", None)
    matrix = getattr(settings, "matrix", None)
    if email is not None and email.host:
        out.add("email")
    if matrix is not None and matrix.homeserver and matrix.user_id:
        out.add("matrix")
    return out


def channels_of(person: Person, available: set[str] | frozenset[str]) -> list[str]:
    """The channels `person` can be reached on, best first: the preferred one (`kanal`), then the fixed order."""
    has = {"telegram": person.telegram_id is not None, "matrix": bool(person.matrix_id), "email": bool(person.email)}
    order = ([person.channel] if person.channel in CHANNELS else []) + [c for c in CHANNELS if c != person.channel]
    return [c for c in order if has[c] and c in available]
