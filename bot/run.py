"""`sozialmonitor run`: the chats (Telegram, Matrix, or the console) and e-mail, with the background services,
all sending through one outbox service, until a signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import TYPE_CHECKING, Protocol, TextIO

from commands.texts import text

from .console import ConsoleChat
from .runtime import Service, Sink
from .workspace import Monitor

__all__ = ["RedactingFormatter", "protocol_watcher", "reminder_ticker", "run", "setup_logging", "watcher"]

if TYPE_CHECKING:
    from .email_channel import EmailTransport
    from .outbox_service import OutboxService

log = logging.getLogger("sozialmonitor.run")

_QUIET = ("httpx", "httpcore", "apscheduler", "watchdog")


class Front(Protocol):
    """A chat the bot serves (Telegram, Matrix): serves until `stop` is set, says `ready(name)` once it listens."""

    async def serve(self, stop: asyncio.Event, *, ready: Callable[[str], None]) -> None: ...

    async def close(self) -> None: ...


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
    """The reminder Service: every `check_minutes` the due reminders into the outbox service (or the console)."""
    from .reminders import ReminderService

    return ReminderService(monitor, sink)


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
    """Every chat channel that is set up (Telegram, Matrix) unless --console, else the console chat; e-mail
    whenever it is set up. 0 after SIGINT/SIGTERM.

    `as_user` (`--as ID|NAME`) chats on the console as that catalogue person; it implies the console."""
    from .channels import active_channels

    channels = active_channels(monitor)
    chats = [c for c in channels if c in ("telegram", "matrix")] if not console and as_user is None else []
    if chats:
        return _run_chats(monitor, chats, email="email" in channels)
    return _run_console(monitor, as_user, email="email" in channels)


def _secrets(monitor: Monitor) -> list[str]:
    settings = monitor.settings
    return [settings.telegram.token, settings.matrix.token, settings.email.password]


def _email_transport(monitor: Monitor) -> EmailTransport:
    from .email_channel import EmailTransport

    lang = monitor.settings.language
    email = monitor.settings.email
    print(text(lang, "email.started", host=email.host, port=email.port, security=email.security), flush=True)
    return EmailTransport(monitor)


def _run_chats(monitor: Monitor, chats: list[str], *, email: bool) -> int:
    from .outbox_service import OutboxService
    from .telegram_bot import BotStartError

    handler = setup_logging(_secrets(monitor))
    try:
        service = OutboxService(monitor, [_email_transport(monitor)] if email else [])
        fronts: list[Front] = []
        if "telegram" in chats:
            from .telegram_bot import TelegramBot

            fronts.append(TelegramBot(monitor, service=service))
        if "matrix" in chats:
            from .matrix_channel import MatrixBot

            fronts.append(MatrixBot(monitor, service=service))
        try:
            asyncio.run(_serve(monitor, service, fronts))
        except BotStartError as exc:
            sys.stderr.write(f"{exc}\n")
            return 1
        print(text(monitor.settings.language, "cli.stopped"), flush=True)
        return 0
    finally:
        logging.getLogger().removeHandler(handler)


async def _serve(monitor: Monitor, service: OutboxService, fronts: list[Front]) -> None:
    loop = asyncio.get_running_loop()
    stop_requested = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop_requested.set)
    lang = monitor.settings.language

    def ready(name: str) -> None:
        if name.startswith("@") and ":" in name:
            print(text(lang, "matrix.started", user_id=name), flush=True)
        else:
            print(text(lang, "bot.started", username=name), flush=True)

    service.start()  # what waits in the outbox goes out as soon as its channel is ready
    stop_fronts = asyncio.Event()
    tasks = [asyncio.create_task(front.serve(stop_fronts, ready=ready)) for front in fronts]
    # Services start at once: notices they hand over while a channel is still unreachable wait in the outbox.
    background = [watcher(monitor, service), protocol_watcher(monitor, service), reminder_ticker(monitor, service)]
    services = await loop.run_in_executor(None, _start, background)
    try:
        signal_task = asyncio.create_task(stop_requested.wait())
        await asyncio.wait({*tasks, signal_task}, return_when=asyncio.FIRST_COMPLETED)
        signal_task.cancel()
    finally:
        # The services go first, so whatever they still report reaches the outbox before the channels stop.
        await loop.run_in_executor(None, _stop, services)
        stop_fronts.set()
        results = await asyncio.gather(*tasks, return_exceptions=True)  # each drains the queues while it can send
        await service.close(drain=0 if fronts else None)
        for front in fronts:
            with contextlib.suppress(Exception):  # a channel that fails to close must not keep the others open
                await front.close()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]


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
def _signals(handler: Callable[[int, FrameType | None], None]) -> Iterator[None]:
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


class _ServiceThread:
    """The outbox service on an event loop of its own thread, for the console mode (stdin owns the main thread)."""

    def __init__(self, service: OutboxService) -> None:
        self.service = service
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="postausgang", daemon=True)

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._begin(), self.loop).result(30)

    async def _begin(self) -> None:
        self.service.start()

    def stop(self) -> None:
        try:
            asyncio.run_coroutine_threadsafe(self.service.close(), self.loop).result(60)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=30)
            self.loop.close()


def _run_console(monitor: Monitor, as_user: str | None = None, *, email: bool = False) -> int:
    from .channels import ConsoleTransport, active_channels
    from .outbox_service import OutboxService

    stop = threading.Event()
    stdin = _WatchedStdin(sys.stdin, stop)
    # The console shows every message; e-mail goes out too; chats set up but not served here keep theirs waiting.
    absent = [c for c in active_channels(monitor) if c != "email"]
    service = OutboxService(monitor, [_email_transport(monitor)] if email else [], absent=absent)
    chat = ConsoleChat(monitor, stdin=stdin, as_user=as_user, service=service)  # type: ignore[arg-type]
    service.add_transport(ConsoleTransport(chat.show))
    runner = _ServiceThread(service)
    runner.start()
    sink = service

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()
        # Interrupt only a wait for input; a command in progress finishes (no half-done write).
        if stdin.waiting:
            raise KeyboardInterrupt

    services: list[Service] = []
    with _signals(on_signal):
        try:
            services = _start([watcher(monitor, sink), protocol_watcher(monitor, sink), reminder_ticker(monitor, sink)])
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
                runner.stop()
    chat.say(text(monitor.settings.language, "cli.stopped"))
    return 0
