"""Messages the monitor sends on its own, for the commands: re-exported from `storage.messages`."""

from storage.messages import ADMIN_CHAT, ADMINS, Outgoing, Sink

__all__ = ["ADMINS", "ADMIN_CHAT", "Outgoing", "Sink"]
