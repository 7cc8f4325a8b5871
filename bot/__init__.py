"""The composition root: command line, chats (Telegram, Matrix, console), e-mail, the outbox service and the
background services, wired around one open workspace (see ARCHITECTURE.md)."""

from commands.texts import catalogue as _catalogue
from commands.texts import text as _text
from watchers import wording as _wording

_wording.install(_text, _catalogue)  # the ingest words its notices and reports with the chat layer's catalogues
