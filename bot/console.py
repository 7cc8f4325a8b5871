"""The console chat: the chat commands on stdin, replies and notices on stdout, no Telegram needed."""

from __future__ import annotations

import gc
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from commands import Caller, dispatch
from commands.lookup import catalogue_person
from commands.reply import Attachment, Reply
from commands.texts import text as _text

from .render import plain_from_html, render_plain
from .workspace import Monitor

if TYPE_CHECKING:
    from .outbox_service import Letter, OutboxService

__all__ = ["ConsoleChat", "IdentityError", "identity", "save_attachments"]


class IdentityError(Exception):
    """`--as` names nobody (or several): one sentence for stderr."""


def identity(monitor: Monitor, who: str) -> Caller:
    """The caller `--as ID|NAME` stands for, answered as that Telegram user would be.

    A number is a Telegram id (a stranger if no catalogue person has it: they get no data, as in Telegram);
    anything else is a catalogue person's name or an unambiguous start of it ('Erika', 'Beispiel: Max')."""
    lang = monitor.settings.language
    token = who.strip()
    if token.lstrip("-").isdigit():
        user_id = int(token)
        return Caller(user_id=user_id, chat_id=user_id, person=monitor.catalogue.person_by_telegram(user_id))
    match = catalogue_person(monitor.catalogue, token)
    if match.found is None:
        if match.ambiguous:
            raise IdentityError(_text(lang, "cli.as_ambiguous", found=who,
                                      names=", ".join(p.name for p in match.candidates)))
        raise IdentityError(_text(lang, "cli.as_unknown", found=who,
                                  names=", ".join(p.name for p in monitor.catalogue.persons) or _text(lang, "none")))
    person = match.found
    return Caller(user_id=person.telegram_id, chat_id=person.telegram_id, person=person)


def describe(monitor: Monitor, caller: Caller) -> str:
    """'Sie chatten als Beispiel: Erika Muster (mitglied, Amt 61).'"""
    lang = monitor.settings.language
    if caller.person is None:
        return _text(lang, "cli.console_as_stranger", user_id=caller.user_id)
    office = f", {caller.person.office}" if caller.person.office else ""
    return _text(lang, "cli.console_as", name=caller.person.name, role=caller.person.role, office=office)


def save_attachments(reply: Reply, folder: Path) -> list[Path]:
    """Files of a reply (report, calendar, chart) land in the workspace's `ausgaben/` folder."""
    return save_attachments_of(reply.attachments, folder)


def save_attachments_of(attachments: Sequence[Attachment], folder: Path) -> list[Path]:
    paths = []
    for attachment in attachments:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / Path(attachment.filename).name
        target.write_bytes(attachment.data)
        paths.append(target)
    return paths


class ConsoleChat:
    """Reads commands line by line until EOF; prints notices from other threads without tearing lines."""

    def __init__(self, monitor: Monitor, *, stdin: TextIO | None = None, stdout: TextIO | None = None,
                 caller: Caller | None = None, clock: Callable[[], datetime] | None = None,
                 as_user: str | None = None, service: OutboxService | None = None) -> None:
        self.monitor = monitor
        self.service = service  # the outbox service: a command's notices go on to e-mail or a later run
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self._caller = caller or Caller(operator=True)
        self.as_user = as_user
        if as_user is not None:
            self._caller = identity(monitor, as_user)  # refused here, before the chat starts
        self.clock = clock or monitor.now
        self._print_lock = threading.Lock()
        self.outputs = monitor.settings.workspace / "ausgaben"

    def say(self, text: str) -> None:
        with self._print_lock:
            self.stdout.write(text.rstrip("\n") + "\n")
            self.stdout.flush()

    def show(self, letter: Letter) -> None:
        """The console transport's output: a message of the outbox service (a notice or reminder as it happens)."""
        from commands.reminders import recipient_label  # with the holiday calendar: only when a letter is shown

        to = ", ".join(recipient_label(self.monitor.state, r) for r in letter.recipients)
        body = "\n".join(plain_from_html(t) for t in letter.texts)
        for path in save_attachments_of(letter.attachments, self.outputs):
            body += f"\n📎 {path}"
        self.say(f"[{letter.kind} → {to}]\n{body}")

    def render(self, reply: Reply) -> str:
        text = render_plain(reply)
        for path in save_attachments(reply, self.outputs):
            text += f"\n📎 {path}"
        # What a command tells other people (e.g. a moved meeting) is shown here: no chat to deliver it to.
        for notice in reply.notices:
            from commands.reminders import recipient_label

            text += f"\n[{notice.kind} → {recipient_label(self.monitor.state, notice.person)}]\n{notice.text}"
        return text

    @property
    def caller(self) -> Caller:
        """Who types; with `--as` looked up again each time, so that a changed catalogue counts at once."""
        if self.as_user is not None:
            try:
                self._caller = identity(self.monitor, self.as_user)
            except IdentityError:
                pass  # the person left the catalogue mid-session: keep the last known identity
        return self._caller

    def answer(self, line: str) -> Reply:
        if self.service is None or not self.service.persistent:
            return dispatch(self.monitor.state, line, self.caller, self.clock())
        # Notices go on to the people's own channels too (the console shows them with the reply).
        from .reminders import dispatch_keeping

        reply, items = dispatch_keeping(self.monitor, line, self.caller, self.clock(), outbox=self.service.outbox)
        for k, notice in enumerate(reply.notices):
            self.service.hand_over(notice, items.get(k), skip=("console",))
        return reply

    def loop(self, stop: threading.Event | None = None) -> int:
        """Answer lines until end of input, /ende or `stop`; returns how many lines were read."""
        lang = self.monitor.settings.language
        from commands.texts import text

        self.say(text(lang, "cli.console_intro"))
        if self.as_user is not None:
            self.say(describe(self.monitor, self.caller))
        # `run` starts the chat once the store and the services are up: what lives now lives until the stop, so
        # no full collection need walk it again.
        gc.freeze()
        read = 0
        while stop is None or not stop.is_set():
            line = self.stdin.readline()
            if not line:
                break
            read += 1
            line = line.strip()
            if not line:
                continue
            if line in ("/exit", "/quit", "/ende"):
                break
            self.say(self.render(self.answer(line)))
        return read
