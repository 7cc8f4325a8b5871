"""What runs beside the chat: background services and the messages they want delivered."""

from __future__ import annotations

from typing import Protocol

from storage.messages import ADMIN_CHAT, ADMINS, Outgoing, Sink

__all__ = ["ADMINS", "ADMIN_CHAT", "Outgoing", "Service", "Sink"]


class Service(Protocol):
    def start(self) -> None: ...

    def stop(self) -> None:
        """Stop and join every thread; safe to call twice."""
