"""Messages the monitor sends on its own, and the channels a person is reached on (the message model itself,
`Outgoing`, `ADMINS`, `Sink`, lives in `storage.messages` and is re-exported here)."""

from __future__ import annotations

from storage.messages import ADMIN_CHAT, ADMINS, Outgoing, Sink
from storage.models import Person

__all__ = ["ADMINS", "ADMIN_CHAT", "CHANNELS", "Outgoing", "Sink", "channels_of", "configured_channels"]

CHANNELS = ("telegram", "matrix", "email")  # the fixed order of fallbacks after a person's preferred channel


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
