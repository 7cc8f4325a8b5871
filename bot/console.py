"""The console chat: the chat commands on stdin, replies and notices on stdout, no Telegram needed."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from commands import Caller, dispatch
from commands.reminders import recipient_label
from commands.reply import Reply

from .render import render_plain
from .runtime import Outgoing
from .workspace import Monitor

__all__ = ["ConsoleChat", "save_attachments"]


def save_attachments(reply: Reply, folder: Path) -> list[Path]:
    """Files of a reply (report, calendar, chart) land in the workspace's `ausgaben/` folder."""
    paths = []
    for attachment in reply.attachments:
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / Path(attachment.filename).name
        target.write_bytes(attachment.data)
        paths.append(target)
    return paths


class ConsoleChat:
    """Reads commands line by line until EOF; prints notices from other threads without tearing lines."""

    def __init__(self, monitor: Monitor, *, stdin: TextIO | None = None, stdout: TextIO | None = None,
                 caller: Caller | None = None, clock: Callable | None = None) -> None:
        self.monitor = monitor
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.caller = caller or Caller(operator=True)
        self.clock = clock or monitor.now
        self._print_lock = threading.Lock()
        self.outputs = monitor.settings.workspace / "ausgaben"

    def say(self, text: str) -> None:
        with self._print_lock:
            self.stdout.write(text.rstrip("\n") + "\n")
            self.stdout.flush()

    def sink(self, message: Outgoing) -> None:
        """Print a notice or reminder as it happens (called from any thread)."""
        to = ", ".join(recipient_label(self.monitor.state, r) for r in message.recipients)
        self.say(f"[{message.kind} → {to}]\n{self.render(message.reply)}")

    def render(self, reply: Reply) -> str:
        text = render_plain(reply)
        for path in save_attachments(reply, self.outputs):
            text += f"\n📎 {path}"
        # What a command tells other people (e.g. a moved meeting) is shown here: no chat to deliver it to.
        for notice in reply.notices:
            text += f"\n[{notice.kind} → {recipient_label(self.monitor.state, notice.person)}]\n{notice.text}"
        return text

    def answer(self, line: str) -> Reply:
        return dispatch(self.monitor.state, line, self.caller, self.clock())

    def loop(self, stop: threading.Event | None = None) -> int:
        """Answer lines until end of input, /ende or `stop`; returns how many lines were read."""
        lang = self.monitor.settings.language
        from commands.texts import text

        self.say(text(lang, "cli.console_intro"))
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
