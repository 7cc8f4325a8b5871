"""What runs beside the chat: background services and the messages they want delivered."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from storage.messages import ADMIN_CHAT, ADMINS, Outgoing, Sink

if TYPE_CHECKING:
    from .workspace import Monitor

__all__ = ["ADMINS", "ADMIN_CHAT", "Outgoing", "Service", "Sink", "recipient_chats"]


def recipient_chats(monitor: Monitor, recipient: str) -> list[int]:
    """The Telegram chats a recipient stands for: a person's own chat; ADMINS = every admin with an id and the
    admin chat; ADMIN_CHAT = only the admin chat. Empty when nobody can be reached."""
    access = monitor.settings.access
    if recipient == ADMIN_CHAT:
        return [access.admin_chat] if access.admin_chat else []
    if recipient == ADMINS:
        ids = [p.telegram_id for p in monitor.catalogue.admins if p.telegram_id]
        if access.admin_chat:
            ids.append(access.admin_chat)
        return list(dict.fromkeys(ids))
    person = monitor.catalogue.person(recipient)
    return [person.telegram_id] if person is not None and person.telegram_id else []


class Service(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None:
        """Stop and join every thread; safe to call twice."""
