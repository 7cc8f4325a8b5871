"""`sozialmonitor run`: the chat (Telegram or console) with the background services, until a signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TextIO

from commands.texts import text

from .console import ConsoleChat
from .runtime import Service, Sink
from .workspace import Monitor

__all__ = ["RedactingFormatter", "protocol_watcher", "reminder_delivery", "reminder_ticker", "run", "setup_logging",
           "watcher"]

log = logging.getLogger("sozialmonitor.run")

_QUIET = ("httpx", "httpcore", "apscheduler", "watchdog")


class RedactingFormatter(logging.Formatter):
    """Replaces secrets (the bot token) wherever they appear: message, arguments, tracebacks."""

    def __init__(self, secrets: list[str], fmt: str) -> None:
        super().__init__(fmt)
        self.secrets = [s for s in secrets if s]

    def format(self, record: logging.LogRecord) -> str:
        out = super().format(record)
        for secret in self.secrets:
            out = out.replace(secret, "<token>")
        return out


def setup_logging(secrets: list[str], stream: TextIO | None = None) -> logging.Handler:
    """Log to stderr with the token redacted; httpx (which logs every URL, token included) only warns."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(RedactingFormatter(secrets, "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in _QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler


# ---------------------------------------------------------------------- the background services
def watcher(monitor: Monitor, sink: Sink) -> Service:
    """The shared-folder watcher: imports what waits in eingang/ and what arrives, notices to `sink`."""
    from watchers import build_watcher

    return build_watcher(monitor, sink)


def protocol_watcher(monitor: Monitor, sink: Sink) -> Service:
    """The protocols folder: a protocol dropped there counts as sent for signature and is announced."""
    from watchers.protocols import ProtocolFolderWatcher

    return ProtocolFolderWatcher(monitor, sink)


def reminder_ticker(monitor: Monitor, sink: Sink) -> Service:
    """The console mode's reminder Service; under Telegram the JobQueue calls `deliver_reminders`."""
    from .reminders import ReminderService

    return ReminderService(monitor, sink)


def reminder_delivery() -> Callable[..., object]:
    """`deliver_reminders(monitor, sink, now)`, called by the bot's JobQueue job."""
    from .reminders import deliver_reminders

    return deliver_reminders


def _start(services: list[Service]) -> list[Service]:
    started = []
    for service in services:
        try:
            service.start()
        except Exception:
            log.exception("starting %s failed; running without it", type(service).__name__)
            continue
        started.append(service)
    return started


def _stop(services: list[Service]) -> None:
    for service in reversed(services):
        try:
            service.stop()
        except Exception:
            log.exception("stopping %s failed", type(service).__name__)


# ---------------------------------------------------------------------- run
def run(monitor: Monitor, *, console: bool = False, as_user: str | None = None) -> int:
    """Telegram when a token is set (and not --console), else the console chat; 0 after SIGINT/SIGTERM.

    `as_user` (`--as ID|NAME`) chats on the console as that catalogue person; it implies the console."""
    if monitor.settings.telegram.token and not console and as_user is None:
        return _run_telegram(monitor)
    return _run_console(monitor, as_user)


def _run_telegram(monitor: Monitor) -> int:
    from .telegram_bot import BotStartError, TelegramBot

    settings = monitor.settings
    handler = setup_logging([settings.telegram.token])
    try:
        bot = TelegramBot(monitor, reminders=reminder_delivery())
        try:
            asyncio.run(_serve(monitor, bot))
        except BotStartError as exc:
            sys.stderr.write(f"{exc}\n")
            return 1
        print(text(settings.language, "cli.stopped"), flush=True)
        return 0
    finally:
        logging.getLogger().removeHandler(handler)


async def _serve(monitor: Monitor, bot: Any) -> None:
    loop = asyncio.get_running_loop()
    stop_requested = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop_requested.set)
    lang = monitor.settings.language

    def ready(username: str) -> None:
        print(text(lang, "bot.started", username=username), flush=True)

    stop_bot = asyncio.Event()
    bot_task = asyncio.create_task(bot.serve(stop_bot, ready=ready))
    # Services start at once: notices they hand over while Telegram is still unreachable wait in the bot.
    services = await loop.run_in_executor(
        None, _start, [watcher(monitor, bot.sink), protocol_watcher(monitor, bot.sink)])
    try:
        signal_task = asyncio.create_task(stop_requested.wait())
        await asyncio.wait({bot_task, signal_task}, return_when=asyncio.FIRST_COMPLETED)
        signal_task.cancel()
    finally:
        # The services go first, so whatever they still report reaches the bot before it stops.
        await loop.run_in_executor(None, _stop, services)
        stop_bot.set()
        await bot_task
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


class _WatchedStdin:
    """stdin that knows when the main thread waits in readline: only then may a signal interrupt it."""

    def __init__(self, stream: TextIO, stop: threading.Event) -> None:
        self.stream = stream
        self.stop = stop
        self.waiting = False

    def readline(self) -> str:
        self.waiting = True
        try:
            if self.stop.is_set():  # the signal came just before we started to wait
                return ""
            return self.stream.readline()
        finally:
            self.waiting = False


@contextlib.contextmanager
def _signals(handler: Callable[[int, Any], None]) -> Iterator[None]:
    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _interactive(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def _run_console(monitor: Monitor, as_user: str | None = None) -> int:
    stop = threading.Event()
    stdin = _WatchedStdin(sys.stdin, stop)
    chat = ConsoleChat(monitor, stdin=stdin, as_user=as_user)  # type: ignore[arg-type]

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()
        # Interrupt only a wait for input; a command in progress finishes (no half-done write).
        if stdin.waiting:
            raise KeyboardInterrupt

    services: list[Service] = []
    with _signals(on_signal):
        try:
            services = _start([watcher(monitor, chat.sink), protocol_watcher(monitor, chat.sink),
                               reminder_ticker(monitor, chat.sink)])
            if not stop.is_set():
                lines = chat.loop(stop)
                if lines == 0 and not _interactive(sys.stdin):
                    # No one is typing (stdin is /dev/null, as under a service manager): keep the watcher
                    # and the reminders running headless until a signal, as `run` promises.
                    while not stop.wait(0.5):
                        pass
        except KeyboardInterrupt:
            pass
        finally:
            with _signals(lambda signum, frame: stop.set()):  # a second signal must not cut the shutdown short
                _stop(services)
    chat.say(text(monitor.settings.language, "cli.stopped"))
    return 0
