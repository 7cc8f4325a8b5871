"""One way out: every message the monitor sends passes through one outbox service to its transport.

Reminders, notices of commands and imports, replies to commands and operating notices all take this path. The
service writes what must survive a restart into the outbox before anything is sent, routes each recipient to the
one channel they read (their preferred one, then a fixed order), spaces messages per recipient and per channel,
retries network errors and server rate limits with backoff, and records each target that has a message, so that
neither a stop nor a crash loses or doubles one. Transports only know how to put one part on their wire.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, ParamSpec, Protocol, TypeAlias, TypeVar

from aiolimiter import AsyncLimiter

from commands.outgoing import ADMIN_CHAT, ADMINS, Outgoing, channels_of
from commands.reply import Attachment, Reply, ReplyBuilder
from commands.texts import text
from storage.models import Person
from storage.outbox import Outbox, OutboxItem

from .render import render_html

if TYPE_CHECKING:
    from storage.config import Settings

    from .workspace import Monitor

__all__ = ["Letter", "Limits", "OutboxService", "Part", "Refused", "RetryLater", "Target", "Transport",
           "group_addresses", "outbox_entry", "person_address"]

log = logging.getLogger("sozialmonitor.outbox")


@dataclass(frozen=True)
class Limits:
    """Flood limits and retry timing; the defaults follow Telegram's documented limits."""

    overall_per_second: float = 30.0
    group_per_minute: float = 20.0
    chat_rate: float = 1.0  # messages per `chat_period` to any one target
    chat_period: float = 1.0
    backoff_start: float = 1.0
    backoff_max: float = 60.0
    reply_patience: float = 30.0  # a reply is given up after this long; notices are retried until stop
    drain_seconds: float = 5.0  # at stop, queued notices get this long to go out
    poll_timeout: float = 10.0
    read_timeout: float = 15.0  # a reply slower than this counts as timed out (it may still have arrived)
    error_report_every: float = 300.0  # seconds between two admin notices about the same kind of error


class RetryLater(Exception):
    """A passing failure: the network, or the server's rate limit (`seconds` = the wait it asked for).

    `maybe_delivered`: the request may have been carried out although no answer came (a read timeout)."""

    def __init__(self, reason: str, *, seconds: float | None = None, maybe_delivered: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.seconds = seconds
        self.maybe_delivered = maybe_delivered


class Refused(Exception):
    """The server refused the message for good (blocked bot, unknown address): retrying cannot help."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Letter:
    """What goes to every target of one message: HTML texts (Telegram's subset, escaped), files, mail extras."""

    kind: str
    key: str
    texts: tuple[str, ...]
    attachments: tuple[Attachment, ...] = ()
    subject: str = ""
    calendar: str = ""
    recipients: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()  # channels that showed it already (the console chat prints a command's notices)


# One piece a transport puts on its wire: an HTML text, a file, or the whole letter (e-mail, the console, and
# a channel served by another process, whose letter waits in the outbox).
Part: TypeAlias = str | Attachment | Letter

_P = ParamSpec("_P")
_R = TypeVar("_R")


@dataclass(frozen=True)
class Target:
    """One place a message goes: a Telegram chat, a Matrix user or room, an e-mail address, the console."""

    channel: str
    address: str
    label: str = ""  # for logs and notices: a person's name, "admins", a chat id; never message content

    @property
    def key(self) -> int | str:
        """How the outbox remembers it: a Telegram chat id as a number (as ever), others as 'channel:address'."""
        if self.channel == "telegram":
            try:
                return int(self.address)
            except ValueError:
                pass
        return f"{self.channel}:{self.address}"


class Transport(Protocol):
    """One channel's wire. `send` raises RetryLater or Refused; anything else counts as a passing failure."""

    channel: str
    idempotent: bool  # a repeated part is recognised by the server (Matrix transaction ids): safe to resend
    catch_all: bool  # gets every message once, whoever it is for (the console)

    def address(self, person: Person) -> str | None:
        """The person's address on this channel, or None."""

    def group_addresses(self, recipient: str) -> list[str]:
        """Where ADMINS / ADMIN_CHAT go on this channel besides the admins themselves (admin chat, admin room)."""

    def limits(self, address: str) -> Sequence[tuple[float, float]]:
        """(messages, per seconds) for one address; the first entry of `overall` is the channel's own."""

    def overall(self) -> tuple[float, float]: ...

    def parts(self, letter: Letter) -> list[Part]:
        """The letter as the pieces this channel sends one by one."""

    async def wait_ready(self) -> None:
        """Return once the channel can send (connected, logged in)."""

    async def send(self, address: str, part: Part, letter: Letter, tag: str) -> str | None:
        """Send one part (one that `parts` gave); `tag` is stable across retries of it. Returns a new address if
        the target moved."""


def _tag(letter: Letter, target: Target) -> str:
    """A kept message's stable tag for one target, the same after a restart: Matrix transaction ids and e-mail
    Message-IDs are built from it, so a server or client recognises a resent part. From the content, not the
    outbox id: ids of finished entries are used again."""
    digest = hashlib.sha256(repr((letter.kind, letter.key, letter.texts, letter.subject, letter.calendar,
                                  letter.recipients, target.channel, target.address)).encode()).hexdigest()
    return f"sm{digest[:32]}"


def person_address(channel: str, person: Person) -> str | None:
    """A person's address on a channel, from the catalogue (Telegram id, Matrix id, e-mail address)."""
    value = {"telegram": person.telegram_id, "matrix": person.matrix_id, "email": person.email}.get(channel)
    return str(value) if value else None


def group_addresses(channel: str, settings: Settings, recipient: str) -> list[str]:
    """Where ADMINS and ADMIN_CHAT go on a channel besides the admins: the admin chat, the first Matrix room."""
    if recipient not in (ADMINS, ADMIN_CHAT):
        return []
    if channel == "telegram":
        chat = settings.access.admin_chat
        return [str(chat)] if chat else []
    if channel == "matrix":
        return list(settings.matrix.rooms[:1])
    return []


def outbox_entry(message: Outgoing, created: datetime | None, keys: Sequence[str] = (),
                 letter: Letter | None = None) -> dict[str, object]:
    """The outbox entry of a message: what a restart needs to send it again to the targets that lack it."""
    texts = letter.texts if letter is not None else tuple(render_html(message.reply))
    return {"kind": message.kind, "key": message.key, "recipients": message.recipients, "messages": texts,
            "created": created, "keys": tuple(keys), "subject": message.subject, "calendar": message.calendar}


@dataclass
class _Envelope:
    """One message on its way to one target; `parts` shrinks as they are delivered."""

    target: Target
    parts: list[Part]
    letter: Letter
    at_least_once: bool  # resend even when a timed-out request may have arrived
    item: int | None = None  # its message in the persistent outbox, if it has one
    tag: str = field(default_factory=lambda: uuid.uuid4().hex[:24])
    sent: int = 0
    refused: bool = False  # refused for good: its parts will never go

    @property
    def kind(self) -> str:
        return self.letter.kind

    @property
    def label(self) -> str:
        return self.target.label or self.target.address


class OutboxService:
    """The outbox and its delivery: callable from any thread as the monitor's sink; runs on one event loop.

    It is also a KeepingSink (bot.reminders): `keep` writes reminders to the outbox in one step with the keys
    they carry, `hand_over` passes a kept message on for sending.
    """

    def __init__(self, monitor: Monitor, transports: Sequence[Transport], *, limits: Limits | None = None,
                 outbox: Outbox | None = None, clock: Callable[[], datetime] | None = None,
                 absent: Sequence[str] = ()) -> None:
        self.monitor = monitor
        self.transports: dict[str, Transport] = {t.channel: t for t in transports}
        # Channels set up but not served by this process (`run --console` with a token, a channel that did not
        # start): their messages are routed as usual and wait in the outbox for the next run.
        self.absent: set[str] = set(absent)
        self.limits = limits or Limits()
        self.clock = clock or monitor.now
        self.outbox = outbox if outbox is not None else (
            monitor.outbox if monitor.outbox is not None else Outbox(monitor.settings.data / "postausgang.json"))
        self.patience: float | None = None  # None: notices are retried until stop (a one-shot send sets one)
        # Bounded: a run goes on for months. Given up, refused or left at stop; (recipient, reason) for the CLI.
        self.undelivered: deque[_Envelope] = deque(maxlen=1000)
        self.problems: deque[tuple[str, str]] = deque(maxlen=1000)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handover = threading.Lock()  # callers in other threads vs. start and close
        self._early: list[tuple[Letter, int | None]] = []
        self._queues: dict[str, asyncio.Queue[_Envelope]] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._open_items: dict[int, int] = {}  # outbox item -> envelopes still on their way
        self._limiters: dict[tuple[str, int | str], list[AsyncLimiter]] = {}
        self._overall: dict[str, AsyncLimiter] = {}
        self._error_reported: dict[str, float] = {}
        self._warned_unreachable: set[str] = set()
        # Commands of every chat run here, one at a time: the event loop stays free for sending, and nothing that
        # renders charts (matplotlib is not thread-safe) or writes the store runs twice at once.
        self._executor: ThreadPoolExecutor | None = None

    async def in_worker(self, func: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
        """Run a command (or a reminder run) in the one worker thread shared by all chats."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sozialmonitor-commands")
        return await asyncio.get_running_loop().run_in_executor(self._executor,
                                                                functools.partial(func, *args, **kwargs))

    def add_transport(self, transport: Transport) -> None:
        self.transports[transport.channel] = transport
        self.absent.discard(transport.channel)

    @property
    def persistent(self) -> bool:
        """Whether any message can go further than the console: only then is the outbox written."""
        return bool(self.absent) or any(not t.catch_all for t in self.transports.values())

    # ------------------------------------------------------------------ any thread
    def __call__(self, message: Outgoing) -> None:
        self.submit(message)

    def submit(self, message: Outgoing, *, skip: Sequence[str] = ()) -> None:
        """The sink: keep the message in the outbox first (from then on a stop or crash cannot lose it), then
        hand it to the event loop. Never raises: a broken message is reported to the admins by its kind."""
        try:
            letter = replace(self.letter(message), skip=tuple(skip))
            self._hand(letter, self._persist(message, letter) if self.persistent else None)
        except Exception as exc:
            log.error("a %s could not be handed over", getattr(message, "kind", "message"), exc_info=exc)
            self.report_error(type(exc).__name__)

    def keep(self, messages: Sequence[Outgoing], keys: Sequence[Sequence[str]]) -> list[int]:
        """Reminders into the outbox in one write, each with the keys it carries (raises if it cannot)."""
        return self.outbox.add_many([self._entry(m, self.letter(m), own)
                                     for m, own in zip(messages, keys, strict=True)])

    def hand_over(self, message: Outgoing, item: int | None, *, skip: Sequence[str] = ()) -> None:
        self._hand(replace(self.letter(message), skip=tuple(skip)), item)

    def report_error(self, what: str) -> None:
        """Tell the admins briefly (the kind of error only, never a traceback), at most every few minutes."""
        now = time.monotonic()
        last = self._error_reported.get(what)
        if last is not None and now - last < self.limits.error_report_every:
            return
        self._error_reported[what] = now
        notice = ReplyBuilder().line(self._t("bot.error_notice", what=what)).build()
        self._hand(self.letter(Outgoing((ADMINS,), notice, "error")), None)

    @staticmethod
    def letter(message: Outgoing) -> Letter:
        return Letter(message.kind, message.key, tuple(render_html(message.reply)), message.reply.attachments,
                      message.subject, message.calendar, tuple(message.recipients))

    def _entry(self, message: Outgoing, letter: Letter, keys: Sequence[str] = ()) -> dict[str, object]:
        return outbox_entry(message, self.clock(), keys, letter)

    def _persist(self, message: Outgoing, letter: Letter) -> int | None:
        if letter.attachments:
            return None  # files are answers to someone asking, not notices that must survive a restart
        try:
            return self.outbox.add_many([self._entry(message, letter)])[0]
        except Exception:  # an unwritable outbox must not stop the notice itself
            log.exception("outbox not writable; the %s is kept in memory only", message.kind)
            return None

    def _hand(self, letter: Letter, item: int | None) -> None:
        with self._handover:
            loop = self._loop
            if loop is None or loop.is_closed():
                self._early.append((letter, item))  # delivered once the service runs
                return
        try:
            loop.call_soon_threadsafe(self._enqueue_safely, letter, item)
        except RuntimeError:  # the loop closed between the check and the call
            self._early.append((letter, item))

    def _enqueue_safely(self, letter: Letter, item: int | None) -> None:
        try:
            self.enqueue(letter, item=item)
        except Exception as exc:
            log.error("routing a %s failed", letter.kind, exc_info=exc)
            self.report_error(type(exc).__name__)

    # ------------------------------------------------------------------ routing
    def _t(self, key: str, lang: str | None = None, **params: object) -> str:
        return text(lang or self.monitor.settings.language, key, **params)

    def route(self, person: Person) -> Target | None:
        """The one place a person is reached: their preferred channel, else the first in the fixed order."""
        for channel in channels_of(person, frozenset(self.transports) | self.absent):
            transport = self.transports.get(channel)
            address = transport.address(person) if transport is not None else person_address(channel, person)
            if address:
                return Target(channel, address, person.name)
        return None

    def _group_addresses(self, channel: str, recipient: str) -> list[str]:
        transport = self.transports.get(channel)
        if transport is not None:
            return transport.group_addresses(recipient)
        return group_addresses(channel, self.monitor.settings, recipient)

    def targets(self, recipients: Sequence[str], kind: str) -> list[Target]:
        """Every target of a message, each once: persons routed, ADMINS = every admin and the admin chat/room."""
        catalogue = self.monitor.catalogue
        found: list[Target] = []
        catch_all = [t for t in self.transports.values() if t.catch_all]
        for recipient in recipients:
            if recipient in (ADMINS, ADMIN_CHAT):
                if recipient == ADMINS:
                    found += [t for t in (self.route(p) for p in catalogue.admins) if t is not None]
                label = "admins" if recipient == ADMINS else "admin chat"
                for channel in [*self.transports, *sorted(self.absent)]:
                    found += [Target(channel, a, label) for a in self._group_addresses(channel, recipient)]
                continue
            person = catalogue.person(recipient)
            target = self.route(person) if person is not None else None
            if target is not None:
                found.append(target)
            elif not catch_all:
                self._unreachable(recipient, kind)
        found += [Target(t.channel, t.channel, ", ".join(recipients)) for t in catch_all]
        unique: dict[int | str, Target] = {}
        for target in found:
            unique.setdefault(target.key, target)
        return list(unique.values())

    def _unreachable(self, recipient: str, kind: str) -> None:
        log.warning("%s for %r not deliverable: reachable on no set-up channel", kind, recipient)
        only_telegram = (set(self.transports) | self.absent) <= {"telegram"}
        self.problems.append((recipient, self._t("rem.cli_no_chat" if only_telegram else "rem.no_channel")))
        if recipient in self._warned_unreachable or kind == "error":
            return
        self._warned_unreachable.add(recipient)
        key = "bot.no_telegram_id" if only_telegram else "channel.unreachable"
        notice = ReplyBuilder().line(self._t(key, name=recipient, kind=self._t(f"bot.kind.{kind}"))).build()
        self._hand(self.letter(Outgoing((ADMINS,), notice, "error")), None)

    # ------------------------------------------------------------------ event loop
    def enqueue(self, letter: Letter, *, item: int | None = None, delivered: Sequence[int | str] = ()) -> None:
        """Queue one envelope per target (on the event loop); targets in `delivered` already have it."""
        if not letter.texts and not letter.attachments:
            self._finish_item(item)
            return
        targets = [t for t in self.targets(letter.recipients, letter.kind) if t.channel not in letter.skip]
        if not targets:  # each unreachable person was named already
            log.info("%s without any reachable recipient (%s)", letter.kind, ", ".join(letter.recipients))
        done = set(delivered)
        # A reminder carries an idempotency key: it was recorded as sent, so it must not arrive twice.
        at_least_once = not letter.key
        envelopes, shown = [], []
        for t in targets:
            transport = self.transports.get(t.channel)
            if transport is not None and transport.catch_all:
                # The console only shows: the outbox entry waits for the people's own channels.
                shown.append(_Envelope(t, transport.parts(letter), letter, True))
            elif t.key not in done:
                envelopes.append(_Envelope(t, transport.parts(letter) if transport is not None else [letter], letter,
                                           at_least_once, item, tag=_tag(letter, t) if item is not None else
                                           uuid.uuid4().hex[:24]))
        if item is not None:
            if not envelopes:
                self._finish_item(item)
            else:
                self._open_items[item] = len(envelopes)
        for envelope in [*shown, *envelopes]:
            if envelope.target.channel in self.transports:
                self._queue(envelope.target.channel).put_nowait(envelope)
            else:
                self.undelivered.append(envelope)  # its channel runs elsewhere: it waits in the outbox

    def _queue(self, channel: str) -> asyncio.Queue[_Envelope]:
        """One queue and one worker per channel: a slow mail server never holds up a chat."""
        if channel not in self._queues:
            self._queues[channel] = asyncio.Queue()
            self._workers.append(asyncio.get_running_loop().create_task(
                self._worker(channel, self._queues[channel]), name=f"sozialmonitor-{channel}"))
        return self._queues[channel]

    async def _worker(self, channel: str, queue: asyncio.Queue[_Envelope]) -> None:
        transport = self.transports[channel]
        await transport.wait_ready()
        while True:
            envelope = await queue.get()
            try:
                if await self.deliver(envelope, patience=self.patience) or envelope.refused:
                    self._settle(envelope)  # delivered, or refused for good (the admins were told)
            except Exception:
                log.exception("delivering a %s failed", envelope.kind)
            finally:
                queue.task_done()

    async def deliver_reply(self, target: Target, reply: Reply, *, patience: float | None = None) -> bool:
        """Send a reply now, in the caller's task; retried within `patience` (default the limits' reply_patience).

        A reply twice is harmless, a lost one leaves someone waiting: it is resent even when an ambiguous
        network error means the first may have arrived."""
        transport = self.transports[target.channel]
        letter = Letter("reply", "", tuple(render_html(reply)), reply.attachments)
        envelope = _Envelope(target, transport.parts(letter), letter, True)
        return await self.deliver(envelope, patience=self.limits.reply_patience if patience is None else patience)

    async def deliver(self, envelope: _Envelope, *, patience: float | None) -> bool:
        """Send the envelope's remaining parts in order. Rate limits and network errors are retried with
        backoff (until `patience` runs out; None = until stopped); refusals are not."""
        transport = self.transports[envelope.target.channel]
        loop = asyncio.get_running_loop()
        give_up = None if patience is None else loop.time() + patience
        delay = self.limits.backoff_start
        while envelope.parts:
            part = envelope.parts[0]
            try:
                await self._pace(transport, envelope.target)
                moved = await transport.send(envelope.target.address, part, envelope.letter,
                                             f"{envelope.tag}.{envelope.sent}")
            except Refused as exc:
                return self._undeliverable(envelope, exc.reason)
            except Exception as exc:  # RetryLater, or a fault of the transport: both are retried
                retry = exc if isinstance(exc, RetryLater) else RetryLater(type(exc).__name__)
                if not isinstance(exc, RetryLater):
                    log.error("%s transport failed unexpectedly", transport.channel, exc_info=exc)
                if retry.maybe_delivered and not envelope.at_least_once and not transport.idempotent:
                    log.warning("%s for %s failed (%s) and may have arrived; not sent again (no duplicates)",
                                envelope.kind, envelope.label, retry.reason)
                    envelope.parts.pop(0)
                    envelope.sent += 1
                    continue
                if retry.seconds is not None:
                    wait = retry.seconds + 0.1
                else:
                    wait, delay = delay, min(delay * 2, self.limits.backoff_max)
                log.warning("sending a %s by %s to %s failed (%s); retrying in %.1f s",
                            envelope.kind, transport.channel, envelope.label, retry.reason, wait)
            else:
                if moved:
                    envelope.target = replace(envelope.target, address=moved)
                envelope.parts.pop(0)
                envelope.sent += 1
                delay = self.limits.backoff_start
                continue
            if give_up is not None and loop.time() + wait > give_up:
                log.warning("giving up a %s to %s after network errors", envelope.kind, envelope.label)
                self.undelivered.append(envelope)
                return False
            await asyncio.sleep(wait)
        return True

    async def _pace(self, transport: Transport, target: Target) -> None:
        """Wait for the channel's overall limit and the target's own (both token buckets)."""
        rate, period = transport.overall()
        if rate and period:
            if transport.channel not in self._overall:
                self._overall[transport.channel] = AsyncLimiter(rate, period)
            await self._overall[transport.channel].acquire()
        key = (transport.channel, target.key)
        if key not in self._limiters:
            if len(self._limiters) > 1024:  # forget idle targets so strangers cannot grow this forever
                for other, limiters in list(self._limiters.items()):
                    if all(limiter.has_capacity(limiter.max_rate) for limiter in limiters):
                        del self._limiters[other]
            self._limiters[key] = [AsyncLimiter(r, p) for r, p in transport.limits(target.address) if r and p]
        for limiter in self._limiters[key]:
            await limiter.acquire()

    def _undeliverable(self, envelope: _Envelope, reason: str) -> bool:
        log.warning("%s refused a %s for %s (%s)", envelope.target.channel, envelope.kind, envelope.label, reason)
        self.undelivered.append(envelope)
        self.problems.append((envelope.label, reason))
        envelope.refused = True
        if envelope.kind in ("notice", "reminder"):
            notice = ReplyBuilder().line(self._t("bot.undeliverable", recipient=envelope.label, reason=reason))
            self.enqueue(self.letter(Outgoing((ADMINS,), notice.build(), "error")))
        return False

    def _settle(self, envelope: _Envelope) -> None:
        """The envelope reached its target (or never can): remember it, and drop the item once all are done."""
        if envelope.item is None:
            return
        try:
            self.outbox.delivered(envelope.item, envelope.target.key)
        except Exception:
            log.exception("outbox not writable")
        left = self._open_items.get(envelope.item, 1) - 1
        self._open_items[envelope.item] = left
        if left <= 0:
            self._finish_item(envelope.item)

    def _finish_item(self, item: int | None) -> None:
        if item is None:
            return
        self._open_items.pop(item, None)
        try:
            self.outbox.finish(item)
        except Exception:
            log.exception("outbox not writable")

    @staticmethod
    def _letter_of(pending: OutboxItem) -> Letter:
        return Letter(pending.kind, pending.key, pending.messages, (), pending.subject, pending.calendar,
                      pending.recipients)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Begin delivering on the running loop: first what a previous run left in the outbox, then what was
        handed over before now."""
        with self._handover:
            self._loop = asyncio.get_running_loop()
            early, self._early = self._early, []
        skip = {item for _, item in early if item is not None}
        for pending in self.outbox.pending():
            if pending.id in skip:
                continue
            log.info("resending a %s left from before the restart", pending.kind)
            self._enqueue_safely_item(pending)
        for letter, item in early:
            self._enqueue_safely(letter, item)

    def _enqueue_safely_item(self, pending: OutboxItem) -> None:
        try:
            self.enqueue(self._letter_of(pending), item=pending.id, delivered=pending.delivered)
        except Exception as exc:
            log.error("resuming a %s failed", pending.kind, exc_info=exc)

    async def drain(self, seconds: float) -> None:
        """Wait up to `seconds` for every queue to empty."""
        async def all_done() -> None:
            for queue in list(self._queues.values()):
                await queue.join()

        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_done(), seconds)

    async def close(self, drain: float | None = None) -> None:
        """Give queued messages `drain` seconds (default the limits'), then stop; what is left stays in the outbox."""
        await self.drain(self.limits.drain_seconds if drain is None else drain)
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers.clear()
        for queue in self._queues.values():
            while not queue.empty():
                self.undelivered.append(queue.get_nowait())
        self._queues.clear()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        with self._handover:
            self._loop = None
            early = list(self._early)
        left = [e for e in self.undelivered if e.parts and not e.refused]
        if left or early:
            log.warning(self._t("bot.undelivered_at_stop", n=len(left) + len(early)))

    def waiting(self) -> int:
        """How many messages wait in the outbox."""
        return len(self.outbox.pending())

