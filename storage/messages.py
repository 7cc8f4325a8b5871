"""The message model: what a command answers (lines of styled spans and attachments, rendered later as HTML or
plain text) and what the monitor sends on its own (`Outgoing`, to catalogue names or the admins).

Shared by every package: the watchers and the bot send Outgoing messages, the commands build Replies, the outbox
keeps them. Only the shape lives here; the words come from the text catalogues of commands/.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["ADMINS", "ADMIN_CHAT", "Attachment", "Outgoing", "Reply", "ReplyBuilder", "Sink", "Span", "b", "code",
           "i"]

ADMINS = "@admins"  # recipient meaning: every admin of the catalogue (and the admin chat, if set)
ADMIN_CHAT = "@admin_chat"  # recipient meaning: only the admin chat of the settings (a group, not a person)


@dataclass(frozen=True)
class Span:
    text: str
    style: str = ""  # "" | "b" | "i" | "code"


def b(text: object) -> Span:
    return Span(str(text), "b")


def i(text: object) -> Span:
    return Span(str(text), "i")


def code(text: object) -> Span:
    return Span(str(text), "code")


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    kind: str = "document"  # document | photo
    caption: str = ""
    mime: str = "application/octet-stream"


@dataclass(frozen=True)
class Reply:
    """status: ok | usage (unknown command, bad arguments) | denied | error."""

    lines: tuple[tuple[Span, ...], ...] = ()
    attachments: tuple[Attachment, ...] = ()
    status: str = "ok"
    notices: tuple[Outgoing, ...] = field(default=(), compare=False)  # what it tells other people

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def plain(self) -> str:
        """The text without styles: the one plain rendering (console, `ask`, e-mail, Matrix `body`)."""
        return "\n".join("".join(s.text for s in line) for line in self.lines)


@dataclass(frozen=True)
class Outgoing:
    """A message the monitor sends on its own: a notice of a command or an import, a reminder, an invitation.

    recipients are catalogue names, ADMINS or ADMIN_CHAT (above). A `key` makes it a reminder whose
    sent mark is stored: it must not arrive twice. `subject` heads an e-mail (default: from kind and first line);
    `calendar` is an iCalendar text (METHOD:REQUEST or CANCEL) that channels able to carry invitations attach.
    """

    recipients: tuple[str, ...]
    reply: Reply
    kind: str = "notice"  # notice | reminder | error
    key: str = ""
    subject: str = ""
    calendar: str = ""

    @property
    def person(self) -> str:
        """The (first) recipient: a command's notice has exactly one."""
        return self.recipients[0] if self.recipients else ""

    @property
    def text(self) -> str:
        return self.reply.plain()


class ReplyBuilder:
    """Collects lines; `line("M21 ", b("title"))` takes strings and spans."""

    def __init__(self) -> None:
        self._lines: list[tuple[Span, ...]] = []
        self._attachments: list[Attachment] = []
        self._notices: list[Outgoing] = []

    def line(self, *parts: str | Span) -> ReplyBuilder:
        self._lines.append(tuple(p if isinstance(p, Span) else Span(str(p)) for p in parts if p != ""))
        return self

    def blank(self) -> ReplyBuilder:
        if self._lines and self._lines[-1]:
            self._lines.append(())
        return self

    def attach(self, attachment: Attachment) -> ReplyBuilder:
        self._attachments.append(attachment)
        return self

    def notify(self, person: str, text: str | Reply, *, kind: str = "notice", key: str = "", subject: str = "",
               calendar: str = "") -> ReplyBuilder:
        """Tell `person` (a catalogue name or ADMINS) something, as a message of its own."""
        reply = text if isinstance(text, Reply) else ReplyBuilder().line(text).build()
        self._notices.append(Outgoing((person,), reply, kind, key, subject, calendar))
        return self

    def build(self, status: str = "ok") -> Reply:
        lines = list(self._lines)
        while lines and not lines[-1]:
            lines.pop()
        return Reply(tuple(lines), tuple(self._attachments), status, tuple(self._notices))


class Sink(Protocol):
    """Where a message the monitor sends on its own goes (the outbox, the console, a test's list).

    Must be thread-safe: the watchers call it from their own threads.
    """

    def __call__(self, message: Outgoing, /) -> None: ...
