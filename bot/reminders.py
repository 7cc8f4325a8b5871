"""Delivering reminders: exactly-once hand-over to a sink, the console ticker, and a one-shot Telegram send."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from commands.reminders import Bundle, bundle_reply, claim_all, due_reminders
from commands.texts import text

from .runtime import Outgoing, Sink, recipient_chats

__all__ = ["ReminderService", "deliver_reminders", "send_via_telegram"]

log = logging.getLogger(__name__)

# Ticker, JobQueue job and CLI may run at once in one process; claim_all() already prevents duplicates,
# this lock only keeps the messages of one run together.
_RUN_LOCK = threading.Lock()


def deliver_reminders(monitor: Any, sink: Sink, now: datetime | None = None) -> list[Bundle]:
    """Send what is due at `now`: one message per recipient, each recorded as sent BEFORE the sink gets it.

    A crash after recording loses at most the message in hand; it is never sent twice. Reminders missed
    while the process was down come out on the first call after start, if they are still relevant.
    Returns the bundles handed to the sink.
    """
    state = monitor.state
    now = now or monitor.now()
    delivered: list[Bundle] = []
    with _RUN_LOCK:
        for claimed in claim_all(state, due_reminders(state, now), now):
            message = Outgoing((claimed.recipient,), bundle_reply(state, claimed), kind="reminder", key=claimed.key)
            try:
                sink(message)
            except Exception:  # one failing recipient must not hold up the others
                log.exception("reminder for %s not handed over", claimed.recipient)
            delivered.append(claimed)
    return delivered


class ReminderService:
    """Service: asks the engine every `check_minutes` (and once at start, to catch up) and delivers to `sink`.

    Used by the console mode; under Telegram the JobQueue calls `deliver_reminders` instead.
    """

    def __init__(self, monitor: Any, sink: Sink, *, interval: float | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.monitor = monitor
        self.sink = sink
        self.interval = interval if interval is not None else monitor.settings.reminders.check_minutes * 60
        self.clock = clock or monitor.now
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="erinnerungen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def tick(self) -> list[Bundle]:
        try:
            return deliver_reminders(self.monitor, self.sink, self.clock())
        except Exception:
            log.exception("reminder run failed")
            return []
        finally:
            self.runs += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(max(self.interval, 0.01))


def send_via_telegram(monitor: Any, messages: list[Outgoing], *, token: str,
                      api_url: str = "") -> tuple[list[tuple[str, str]], int]:
    """One-shot sending for `sozialmonitor reminders --send`, without polling (which would eat updates).

    Every message goes into the outbox first and leaves it once each of its chats has it: what Telegram does
    not take now (unreachable, flood control) is delivered by the next `sozialmonitor run`, never lost and never
    sent twice to a chat that has it. Returns (recipient, reason) for each failure and how many messages wait.
    """
    import asyncio

    from telegram import Bot
    from telegram.constants import ParseMode
    from telegram.error import TelegramError

    from storage.outbox import Outbox

    from .render import render_html

    box = Outbox(monitor.settings.data / "postausgang.json")
    items = [(m, render_html(m.reply), box.add(kind=m.kind, key=m.key, recipients=m.recipients,
                                                messages=render_html(m.reply), created=monitor.now()))
             for m in messages]
    lang = monitor.settings.language
    waiting = {item for _, _, item in items}

    async def send() -> list[tuple[str, str]]:
        problems: list[tuple[str, str]] = []
        kwargs = {"base_url": api_url} if api_url else {}
        try:
            async with Bot(token, **kwargs) as bot:
                for message, parts, item in items:
                    complete = True
                    for recipient in message.recipients:
                        chats = recipient_chats(monitor, recipient)
                        if not chats:  # nobody to send to: the admins get these listed as ohne_telegram
                            problems.append((recipient, text(lang, "rem.cli_no_chat")))
                        for chat in chats:
                            try:
                                for part in parts:
                                    await bot.send_message(chat, part, parse_mode=ParseMode.HTML)
                            except TelegramError as exc:
                                complete = False
                                problems.append((recipient, f"{type(exc).__name__}: {exc}"))
                            else:
                                box.delivered(item, chat)
                    if complete:
                        box.finish(item)
                        waiting.discard(item)
        except TelegramError as exc:  # Telegram unreachable, or the token refused: all of it waits
            problems.append(("Telegram", f"{type(exc).__name__}: {exc}"))
        return problems

    try:
        return asyncio.run(send()), len(waiting)
    finally:
        box.close()
