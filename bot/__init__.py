"""The composition root: command line, chats (Telegram, Matrix, console), e-mail, the outbox service and the
background services, wired around one open workspace (see ARCHITECTURE.md)."""
