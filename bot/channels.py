"""Which channels a workspace has set up, and a one-shot send through them (`reminders --send`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from commands.texts import text
from storage.models import Person

from .outbox_service import Letter, Limits, OutboxService, Part, Transport
from .runtime import Outgoing
from .workspace import Monitor, active_channels

if TYPE_CHECKING:
    from storage.catalogue import CatalogueProblem
    from storage.config import Settings

__all__ = ["ConsoleTransport", "active_channels", "channel_problems", "send_once"]

log = logging.getLogger("sozialmonitor.channels")

# What closes a channel started for one send (the Bot's HTTP clients, the Matrix session).
_Closer = Callable[[], Awaitable[None]]


def channel_problems(settings: Settings) -> list[CatalogueProblem]:
    """What `check` says about the channels beyond the settings' own validation: the secrets that only the
    environment gives (never printed), and what a set-up channel cannot do without."""
    from storage.catalogue import CatalogueProblem

    path = settings.settings_file
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        lines = []

    def line_of(section: str) -> int | None:
        return next((n for n, line in enumerate(lines, 1) if line.strip() == f"[{section}]"), None)

    problems = []
    email, matrix = settings.email, settings.matrix
    if email.host:
        if not email.sender:
            problems.append(CatalogueProblem(str(path), line_of("email"), "check.email_no_sender"))
        if email.user and not email.password:
            problems.append(CatalogueProblem(str(path), line_of("email"), "check.email_no_password"))
    if matrix.homeserver:
        if not matrix.user_id:
            problems.append(CatalogueProblem(str(path), line_of("matrix"), "check.matrix_no_user"))
        if not matrix.token:
            problems.append(CatalogueProblem(str(path), line_of("matrix"), "check.matrix_no_token"))
    return problems


class ConsoleTransport:
    """The console chat as a channel: every message once, printed as it happens, whoever it is for."""

    channel = "console"
    idempotent = True
    catch_all = True

    def __init__(self, show: Callable[[Letter], None]) -> None:
        self._show = show

    def address(self, person: Person) -> str | None:
        return None

    def group_addresses(self, recipient: str) -> list[str]:
        return []

    def limits(self, address: str) -> Sequence[tuple[float, float]]:
        return ()

    def overall(self) -> tuple[float, float]:
        return 0.0, 0.0

    def parts(self, letter: Letter) -> list[Part]:
        return [letter]

    async def wait_ready(self) -> None:
        return None

    async def send(self, address: str, part: Part, letter: Letter, tag: str) -> str | None:
        self._show(letter)
        return None


async def _start_transport(channel: str, monitor: Monitor, limits: Limits) -> tuple[Transport | None, _Closer | None]:
    """A transport ready to send without receiving (no polling, no sync), and what to close afterwards."""
    settings = monitor.settings
    if channel == "telegram":
        from telegram import Bot

        from .telegram_bot import TelegramTransport

        api_url, token = settings.telegram.api_url, settings.telegram.token
        bot = Bot(token, base_url=api_url) if api_url else Bot(token)
        transport = TelegramTransport(lambda: bot, monitor, limits)
        await bot.initialize()  # asks Telegram who we are: fails at once when unreachable or refused
        transport.ready.set()
        return transport, bot.shutdown
    if channel == "email":
        from .email_channel import EmailTransport

        email = EmailTransport(monitor)
        return email, None
    if channel == "matrix":
        from .matrix_channel import MatrixTransport

        matrix = MatrixTransport(monitor)
        await matrix.connect()
        return matrix, matrix.close
    return None, None


def send_once(monitor: Monitor, kept: Sequence[tuple[Outgoing, int | None]], *,
              limits: Limits | None = None) -> tuple[list[tuple[str, str]], int]:
    """Deliver messages already in the outbox (and whatever else waits there) through every set-up channel,
    once: what a channel does not take now (unreachable, rate limited beyond patience) stays in the outbox for
    the next `sozialmonitor run`, never lost and never sent twice to a target that has it.

    Returns (recipient, reason) for each failure and how many messages wait."""
    limits = limits or Limits()
    lang = monitor.settings.language

    async def go() -> tuple[list[tuple[str, str]], int]:
        service = OutboxService(monitor, [], limits=limits)
        service.patience = limits.reply_patience
        closers: list[_Closer] = []
        problems: list[tuple[str, str]] = []
        for channel in active_channels(monitor):
            try:
                transport, closer = await _start_transport(channel, monitor, limits)
            except Exception as exc:  # unreachable or refused: its messages wait in the outbox
                log.warning("%s not reachable: %s", channel, type(exc).__name__)
                problems.append((text(lang, f"channel.name.{channel}"), f"{type(exc).__name__}: {exc}"))
                service.absent.add(channel)
                continue
            if transport is not None:
                service.add_transport(transport)
            if closer is not None:
                closers.append(closer)
        for message, item in kept:
            service.hand_over(message, item)
        try:
            service.start()
            await service.drain(limits.reply_patience * 4)
            await service.close(drain=0)
        finally:
            for closer in closers:
                try:
                    await closer()
                except Exception:
                    log.exception("closing a channel failed")
        return problems + list(service.problems), service.waiting()

    return asyncio.run(go())
