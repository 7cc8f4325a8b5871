"""The Telegram front end: every registry command as a chat command, deny by default, robust sending."""

from __future__ import annotations

import asyncio
import html
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# Opt in to PTB's timedelta periods now: otherwise every RetryAfter raised inside PTB emits a
# PTBDeprecationWarning (v22.2), which our warnings-as-errors test runs would turn into failures.
os.environ.setdefault("PTB_TIMEDELTA", "true")

import httpx
from aiolimiter import AsyncLimiter
from telegram import BotCommand, BotCommandScopeChat, LinkPreviewOptions, Update
from telegram.constants import ChatType, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)

from commands import Caller, all_commands
from commands.registry import ADMIN, split_command
from commands.reply import Attachment, Reply, ReplyBuilder
from commands.texts import text
from storage.outbox import Outbox

from .reminders import dispatch_keeping, notice_message
from .render import render_caption, render_html
from .runtime import ADMIN_CHAT, ADMINS, Outgoing, recipient_chats
from .workspace import Monitor

__all__ = [
    "BotStartError",
    "ChatRateLimiter",
    "Limits",
    "TelegramBot",
    "client_language",
    "file_url_for",
    "maybe_delivered",
]

log = logging.getLogger("sozialmonitor.telegram")

_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")


class BotStartError(Exception):
    """The bot cannot start (token rejected, webhook unavailable); the message is one German sentence."""


@dataclass(frozen=True)
class Limits:
    """Flood limits and retry timing; the defaults follow Telegram's documented limits."""

    overall_per_second: float = 30.0
    group_per_minute: float = 20.0
    chat_rate: float = 1.0  # messages per `chat_period` in any one chat (PTB has no such limit)
    chat_period: float = 1.0
    max_retries: int = 3  # retries of a 429 inside the rate limiter
    backoff_start: float = 1.0
    backoff_max: float = 60.0
    reply_patience: float = 30.0  # a reply is given up after this long; notices are retried until stop
    drain_seconds: float = 5.0  # at stop, queued notices get this long to go out
    poll_timeout: float = 10.0
    read_timeout: float = 15.0  # a reply slower than this counts as timed out (it may still have arrived)
    error_report_every: float = 300.0  # seconds between two admin notices about the same kind of error


def client_language(language_code: str | None) -> str | None:
    """English for English-language Telegram clients, else None (the settings language).

    Chosen so: the settings language stays the team's language; a client set to English signals that
    its user reads English better, and every text exists in English.
    """
    return "en" if language_code and language_code.lower().startswith("en") else None


def file_url_for(api_url: str) -> str | None:
    """The file download base of a Bot API server whose method base is `api_url` (…/bot → …/file/bot)."""
    return api_url[: -len("bot")] + "file/bot" if api_url.endswith("/bot") else None


def maybe_delivered(exc: NetworkError) -> bool:
    """Could the request have reached Telegram although we got an error? A read timeout: yes;
    a refused connection, a full pool or an HTTP error answer: no."""
    cause = exc.__cause__
    if cause is None:
        return False  # an HTTP error answer (e.g. 502 from Telegram's front end): not carried out
    return not isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
                          | httpx.WriteError | httpx.WriteTimeout)


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class ChatRateLimiter(AIORateLimiter):
    """PTB's AIORateLimiter (overall and per-group limits, retries on 429) plus a per-chat limit."""

    def __init__(self, limits: Limits) -> None:
        super().__init__(overall_max_rate=limits.overall_per_second, overall_time_period=1,
                         group_max_rate=limits.group_per_minute, group_time_period=60,
                         max_retries=limits.max_retries)
        self._chat_rate = (limits.chat_rate, limits.chat_period)
        self._chat_limiters: dict[str, AsyncLimiter] = {}

    def _chat_limiter(self, chat_id: object) -> AsyncLimiter | None:
        rate, period = self._chat_rate
        if chat_id is None or not rate or not period:
            return None
        key = str(chat_id)
        if key not in self._chat_limiters:
            if len(self._chat_limiters) > 1024:  # forget idle chats so strangers cannot grow this forever
                for other, limiter in list(self._chat_limiters.items()):
                    if limiter.has_capacity(limiter.max_rate):
                        del self._chat_limiters[other]
            self._chat_limiters[key] = AsyncLimiter(rate, period)
        return self._chat_limiters[key]

    async def process_request(self, callback: Any, args: Any, kwargs: dict[str, Any], endpoint: str,
                              data: dict[str, Any], rate_limit_args: int | None) -> Any:
        limiter = self._chat_limiter(data.get("chat_id")) if endpoint.startswith(("send", "edit")) else None
        if limiter is None:
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)
        async with limiter:
            return await super().process_request(callback, args, kwargs, endpoint, data, rate_limit_args)


@dataclass
class _Text:
    html: str
    plain: bool = False  # fallback after Telegram refused the HTML: send as plain text


@dataclass
class _Envelope:
    """One reply or notice on its way to one chat; `parts` shrinks as they are delivered."""

    chat_id: int
    parts: list[_Text | Attachment]
    kind: str  # reply | notice | reminder | error
    label: str  # for logs: person name or chat id, never message content
    at_least_once: bool  # retry even when a timed-out request may have arrived
    item: int | None = None  # its message in the persistent outbox, if it has one


class _KeepingSink:
    """`bot.sink`: callable from any thread for notices; for reminders a KeepingSink (bot.reminders), so that
    their outbox entries are written together with their sent marks."""

    def __init__(self, bot: TelegramBot) -> None:
        self._bot = bot

    def __call__(self, message: Outgoing) -> None:
        # Written to the outbox first, in the caller's thread: from then on a stop or crash cannot lose it.
        self._bot._hand(message, self._bot._persist(message))

    def keep(self, messages: Sequence[Outgoing], keys: Sequence[Sequence[str]]) -> list[int]:
        return self._bot._keep(messages, keys)

    def hand_over(self, message: Outgoing, item: int | None) -> None:
        self._bot._hand(message, item)


@dataclass(frozen=True)
class _Persisted:
    """An Outgoing already written to the outbox (item id), on its way through the update queue."""

    message: Outgoing
    item: int | None


class TelegramBot:
    """The Application with its handlers, the outbox for notices, and a managed lifecycle (`serve`)."""

    def __init__(self, monitor: Monitor, *, token: str | None = None, api_url: str | None = None,
                 limits: Limits | None = None,
                 reminders: Callable[[Monitor, Callable[[Outgoing], None], datetime], object] | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.monitor = monitor
        self.limits = limits or Limits()
        self.clock = clock or monitor.now
        self.reminders = reminders
        settings = monitor.settings
        token = token if token is not None else settings.telegram.token
        api_url = api_url if api_url is not None else settings.telegram.api_url
        builder = (
            ApplicationBuilder()
            .token(token)
            .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
            .rate_limiter(ChatRateLimiter(self.limits))
            .concurrent_updates(32)
            .connect_timeout(5).read_timeout(self.limits.read_timeout).write_timeout(15).media_write_timeout(30).pool_timeout(5)
            .get_updates_read_timeout(self.limits.poll_timeout + 5)
        )
        if api_url:
            builder = builder.base_url(api_url)
            file_url = file_url_for(api_url)
            if file_url:
                builder = builder.base_file_url(file_url)
        self.application: Application = builder.build()
        self.application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, self._on_message))
        self.application.add_handler(TypeHandler(Outgoing, self._on_outgoing))
        self.application.add_handler(TypeHandler(_Persisted, self._on_persisted))
        # Notices and reminders wait here until every recipient has them: a stop or crash loses none.
        # The monitor's own outbox: one object per process for the file (two would overwrite each other).
        self.outbox = monitor.outbox if monitor.outbox is not None else Outbox(settings.data / "postausgang.json")
        self.sink = _KeepingSink(self)
        self._open_items: dict[int, int] = {}  # outbox item -> envelopes still on their way
        self.application.add_error_handler(self._on_error)
        # Commands and reminders run here, one at a time: the event loop stays free for sending,
        # and nothing that renders charts or writes the store runs twice at once.
        self._executor: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._early: list[_Persisted] = []
        self._handover = threading.Lock()  # sink() vs. serve() starting and ending
        self._outbox: asyncio.Queue[_Envelope] | None = None
        self._chat_locks: dict[int, asyncio.Lock] = {}
        self._error_reported: dict[str, float] = {}
        self._warned_unreachable: set[str] = set()
        self.delivered = 0  # envelopes fully delivered (for tests and the benchmark)
        self.undelivered: list[_Envelope] = []  # given up or left at stop

    # ------------------------------------------------------------------ thread-safe entry point
    def _hand(self, message: Outgoing, item: int | None) -> None:
        """Hand a notice or reminder (already in the outbox as `item`) to the bot from any thread, through the
        application's update queue."""
        persisted = _Persisted(message, item)
        with self._handover:
            loop = self._loop
            if loop is None or loop.is_closed():
                self._early.append(persisted)  # delivered once the bot runs
                return
        try:
            loop.call_soon_threadsafe(self.application.update_queue.put_nowait, persisted)
        except RuntimeError:  # the loop closed between the check and the call
            self._early.append(persisted)

    def _persist(self, message: Outgoing) -> int | None:
        if message.reply is None or message.reply.attachments:
            return None  # files are answers to someone asking, not notices that must survive a restart
        try:
            return self.outbox.add(kind=message.kind, key=message.key, recipients=message.recipients,
                                   messages=render_html(message.reply), created=self.clock())
        except Exception:  # an unwritable outbox must not stop the notice itself
            log.exception("outbox not writable; the %s is kept in memory only", message.kind)
            return None

    def _keep(self, messages: Sequence[Outgoing], keys: Sequence[Sequence[str]]) -> list[int]:
        """Reminders into the outbox in one write, each with the keys it carries (raises if it cannot)."""
        return self.outbox.add_many([
            {"kind": m.kind, "key": m.key, "recipients": m.recipients, "messages": render_html(m.reply),
             "created": self.clock(), "keys": own} for m, own in zip(messages, keys, strict=True)])

    # ------------------------------------------------------------------ access
    def caller_for(self, user_id: int, chat_id: int, language_code: str | None, *, group: bool) -> Caller:
        """Who asks: the catalogue person with this telegram_id, member rights in an enabled group."""
        person = self.monitor.catalogue.person_by_telegram(user_id)
        return Caller(user_id=user_id, chat_id=chat_id, person=person,
                      group_member=group and self._group_enabled(chat_id),
                      language=client_language(language_code))

    def _group_enabled(self, chat_id: int) -> bool:
        access = self.monitor.settings.access
        return chat_id in access.group_chats or (bool(access.admin_chat) and chat_id == access.admin_chat)

    def admin_chats(self) -> list[int]:
        """ADMINS: every admin of the catalogue with a telegram_id, and the admin chat if set."""
        return recipient_chats(self.monitor, ADMINS)

    def _t(self, key: str, lang: str | None = None, **params: object) -> str:
        return text(lang or self.monitor.settings.language, key, **params)

    # ------------------------------------------------------------------ handlers
    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user, chat = update.message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None or user.is_bot or not message.text:
            return
        said = message.text
        parsed = split_command(said)
        group = chat.type in (ChatType.GROUP, ChatType.SUPERGROUP)
        if parsed is None and group:
            return  # people talking among themselves
        if parsed is not None and not _addressed_to(said, context.bot.username):
            return  # /cmd@otherbot
        name = parsed[0] if parsed else "-"
        lang = client_language(user.language_code)
        items: dict[int, int | None] = {}
        async with self._chat_lock(chat.id):
            if group and not self._group_enabled(chat.id):
                log.info("refused /%s: group chat %s is not enabled (user %s)", name, chat.id, user.id)
                reply = ReplyBuilder().line(self._t("bot.group_not_enabled", lang, chat_id=chat.id)).build("denied")
            else:
                caller = self.caller_for(user.id, chat.id, user.language_code, group=group)
                if parsed is None and not caller.is_member:
                    reply = ReplyBuilder().line(self._t("denied.unknown", lang, user_id=user.id)).build("denied")
                else:
                    reply, items = await self._answer(said, caller, name)
                if reply.status == "denied":
                    log.info("refused /%s for user %s in chat %s", name, user.id, chat.id)
            # A reply twice is harmless, a lost one leaves someone waiting: replies are resent even when an
            # ambiguous network error (a reset connection, a read timeout) means the first may have arrived.
            await self._deliver(_Envelope(chat.id, self._parts(reply), "reply", str(chat.id), True),
                                patience=self.limits.reply_patience)
        for k, notice in enumerate(reply.notices):
            self._enqueue(notice_message(notice), item=items.get(k))

    async def _answer(self, said: str, caller: Caller, name: str) -> tuple[Reply, dict[int, int | None]]:
        """The reply, and the outbox items of its notices (by index): all written before the reply goes out."""
        try:
            return await self._in_worker(self._dispatch_keeping, said, caller, self.clock())
        except Exception as exc:
            log.exception("command /%s failed", name)
            self.report_error(type(exc).__name__)
            return ReplyBuilder().line(self._t("internal_error", caller.language)).build("error"), {}

    def _dispatch_keeping(self, said: str, caller: Caller, now: datetime) -> tuple[Reply, dict[int, int | None]]:
        return dispatch_keeping(self.monitor, said, caller, now, outbox=self.outbox)

    async def _on_outgoing(self, update: Outgoing, context: ContextTypes.DEFAULT_TYPE) -> None:
        self._enqueue(update)

    async def _on_persisted(self, update: _Persisted, context: ContextTypes.DEFAULT_TYPE) -> None:
        self._enqueue(update.message, item=update.item)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        exc = context.error
        what = type(exc).__name__
        if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
            log.warning("Telegram network problem: %s", what)  # retried; telling the admins would fail too
            return
        log.error("unhandled error: %s", what, exc_info=exc)
        self.report_error(what)

    def report_error(self, what: str) -> None:
        """Tell the admins briefly (the kind of error only, never a traceback), at most every few minutes."""
        now = time.monotonic()
        last = self._error_reported.get(what)
        if last is not None and now - last < self.limits.error_report_every:
            return
        self._error_reported[what] = now
        self._enqueue(Outgoing((ADMINS,), ReplyBuilder().line(self._t("bot.error_notice", what=what)).build(),
                               "error"))

    # ------------------------------------------------------------------ outbox
    def _parts(self, reply: Reply) -> list[_Text | Attachment]:
        return [*(_Text(m) for m in render_html(reply)), *reply.attachments]

    def _enqueue(self, message: Outgoing, *, item: int | None = None, delivered: tuple[int, ...] = (),
                 parts: list[_Text | Attachment] | None = None) -> None:
        """Resolve recipients to chats and queue one envelope per chat (called on the event loop).

        `item` is the message's outbox entry; chats in `delivered` already have it (a restart resumes)."""
        parts = self._parts(message.reply) if parts is None else parts
        if not parts:
            self._finish_item(item)
            return
        targets: list[tuple[int, str]] = []
        for recipient in message.recipients:
            if recipient == ADMINS:
                targets += [(chat_id, "admins") for chat_id in self.admin_chats()]
                continue
            if recipient == ADMIN_CHAT:
                targets += [(chat_id, "admin chat") for chat_id in recipient_chats(self.monitor, ADMIN_CHAT)]
                continue
            person = self.monitor.catalogue.person(recipient)
            if person is not None and person.telegram_id:
                targets.append((person.telegram_id, recipient))
                continue
            log.warning("%s for %r not deliverable: no telegram_id in the catalogue", message.kind, recipient)
            if recipient not in self._warned_unreachable and message.kind != "error":
                self._warned_unreachable.add(recipient)
                self._enqueue(Outgoing((ADMINS,), ReplyBuilder().line(self._t(
                    "bot.no_telegram_id", name=recipient, kind=self._t(f"bot.kind.{message.kind}"))).build(),
                    "error"))
        if not targets:
            log.warning("%s without any reachable recipient (%s)", message.kind, ", ".join(message.recipients))
        # A reminder carries an idempotency key: it was recorded as sent, so it must not arrive twice.
        at_least_once = not message.key
        envelopes = [_Envelope(chat_id, list(parts), message.kind, label, at_least_once, item)
                     for chat_id, label in dict(targets).items() if chat_id not in delivered]
        if item is not None:
            if not envelopes:
                self._finish_item(item)
                return
            self._open_items[item] = len(envelopes)
        for envelope in envelopes:
            self._outbox_queue().put_nowait(envelope)

    def _settle(self, envelope: _Envelope) -> None:
        """The envelope reached its chat (or never can): remember it, and drop the item once all are done."""
        if envelope.item is None:
            return
        try:
            self.outbox.delivered(envelope.item, envelope.chat_id)
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

    def _resume_outbox(self, skip: set[int]) -> None:
        """Queue what a previous run left in the outbox, to the chats that do not have it yet."""
        for pending in self.outbox.pending():
            if pending.id in skip:
                continue
            log.info("resending a %s left from before the restart", pending.kind)
            self._enqueue(Outgoing(pending.recipients, None, pending.kind, pending.key),  # type: ignore[arg-type]
                          item=pending.id, delivered=pending.delivered, parts=[_Text(m) for m in pending.messages])

    def _outbox_queue(self) -> asyncio.Queue[_Envelope]:
        if self._outbox is None:
            self._outbox = asyncio.Queue()
        return self._outbox

    async def _outbox_loop(self) -> None:
        queue = self._outbox_queue()
        while True:
            envelope = await queue.get()
            try:
                await self._deliver(envelope, patience=None)
                self._settle(envelope)  # delivered, or refused for good (the admins were told)
            except Exception:
                log.exception("delivering a %s failed", envelope.kind)
            finally:
                queue.task_done()

    async def _deliver(self, envelope: _Envelope, *, patience: float | None) -> bool:
        """Send the envelope's remaining parts in order. Flood control and network errors are retried with
        backoff (until `patience` runs out; None = until stopped); refusals by Telegram are not."""
        loop = asyncio.get_running_loop()
        give_up = None if patience is None else loop.time() + patience
        delay = self.limits.backoff_start
        while envelope.parts:
            part = envelope.parts[0]
            try:
                await self._send_part(envelope.chat_id, part)
            except RetryAfter as exc:  # the rate limiter's own retries are used up
                wait = _seconds(exc._retry_after) + 0.1
            except ChatMigrated as exc:
                envelope.chat_id = int(exc.new_chat_id)
                continue
            except BadRequest as exc:
                if isinstance(part, _Text) and not part.plain and "parse" in str(exc).lower():
                    log.error("Telegram refused the HTML of a %s for %s; sending it as plain text",
                              envelope.kind, envelope.label)
                    envelope.parts[0] = _Text(_strip_html(part.html), plain=True)
                    continue
                return self._undeliverable(envelope, exc)
            except NetworkError as exc:
                if maybe_delivered(exc) and not envelope.at_least_once:
                    log.warning("%s for %s failed (%s) and may have arrived; not sent again (no duplicates)",
                                envelope.kind, envelope.label, _describe(exc))
                    envelope.parts.pop(0)
                    continue
                wait, delay = delay, min(delay * 2, self.limits.backoff_max)
                log.warning("sending a %s to %s failed (%s); retrying in %.1f s",
                            envelope.kind, envelope.label, _describe(exc), wait)
            except TelegramError as exc:  # Forbidden (bot blocked), InvalidToken, ...
                return self._undeliverable(envelope, exc)
            else:
                envelope.parts.pop(0)
                delay = self.limits.backoff_start
                continue
            if give_up is not None and loop.time() + wait > give_up:
                log.warning("giving up a %s to %s after network errors", envelope.kind, envelope.label)
                self.undelivered.append(envelope)
                return False
            await asyncio.sleep(wait)
        self.delivered += 1
        return True

    def _undeliverable(self, envelope: _Envelope, exc: TelegramError) -> bool:
        reason = type(exc).__name__
        log.warning("Telegram refused a %s for %s (%s)", envelope.kind, envelope.label, reason)
        self.undelivered.append(envelope)
        if envelope.kind in ("notice", "reminder"):
            self._enqueue(Outgoing((ADMINS,), ReplyBuilder().line(self._t(
                "bot.undeliverable", recipient=envelope.label, reason=reason)).build(), "error"))
        return False

    async def _send_part(self, chat_id: int, part: _Text | Attachment) -> None:
        bot = self.application.bot
        if isinstance(part, _Text):
            if part.plain:
                await bot.send_message(chat_id, part.html, parse_mode=None)
            else:
                await bot.send_message(chat_id, part.html)
            return
        caption = render_caption(part.caption) if part.caption else None
        if part.kind == "photo":
            await bot.send_photo(chat_id, photo=part.data, filename=part.filename, caption=caption)
        else:
            await bot.send_document(chat_id, document=part.data, filename=part.filename, caption=caption)

    # ------------------------------------------------------------------ helpers
    def _chat_lock(self, chat_id: int) -> asyncio.Lock:
        """Replies in one chat keep their order; different chats do not wait for each other."""
        if chat_id not in self._chat_locks:
            if len(self._chat_locks) > 1024:
                for other, lock in list(self._chat_locks.items()):
                    if not lock.locked():
                        del self._chat_locks[other]
            self._chat_locks[chat_id] = asyncio.Lock()
        return self._chat_locks[chat_id]

    async def _in_worker(self, func: Callable[..., Any], *args: Any) -> Any:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sozialmonitor-commands")
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)

    def menus(self) -> dict[tuple[str, bool], list[BotCommand]]:
        """The command menu per (language, admin): every registry command, admin ones for admins only."""
        out: dict[tuple[str, bool], list[BotCommand]] = {}
        for lang in ("de", "en"):
            for admin in (False, True):
                entries = []
                for cmd in all_commands():
                    if cmd.access == ADMIN and not admin:
                        continue
                    name = (cmd.en or cmd.name) if lang == "en" else cmd.name
                    if _COMMAND_NAME.fullmatch(name):
                        entries.append(BotCommand(name, (cmd.help_text(lang) or name)[:256]))
                out[(lang, admin)] = entries
        return out

    async def set_menus(self) -> None:
        """setMyCommands: the settings language by default, English for English clients; admins see more."""
        bot = self.application.bot
        menus = self.menus()
        default = self.monitor.settings.language
        await bot.set_my_commands(menus[(default, False)])
        await bot.set_my_commands(menus[("en", False)], language_code="en")
        for person in self.monitor.catalogue.admins:
            if not person.telegram_id:
                continue
            scope = BotCommandScopeChat(person.telegram_id)
            try:
                await bot.set_my_commands(menus[(default, True)], scope=scope)
                await bot.set_my_commands(menus[("en", True)], scope=scope, language_code="en")
            except BadRequest as exc:  # the admin has not started a chat with the bot yet
                log.info("admin menu for %s not set (%s)", person.name, type(exc).__name__)

    async def _reminder_tick(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert self.reminders is not None
        await self._in_worker(self.reminders, self.monitor, self.sink, self.clock())

    # ------------------------------------------------------------------ lifecycle
    async def serve(self, stop: asyncio.Event, *, ready: Callable[[str], None] | None = None) -> None:
        """Connect (retrying while Telegram is unreachable), poll or listen for webhooks, deliver, until
        `stop` is set; then stop fetching, finish the updates already fetched, drain the outbox, shut down.
        Raises BotStartError if Telegram refuses the token or the webhook cannot start."""
        app = self.application
        with self._handover:
            self._loop = asyncio.get_running_loop()
            early, self._early = self._early, []
        # What waits in the outbox (from before a restart, or handed over before now) goes out first.
        self._resume_outbox(skip={p.item for p in early if p.item is not None})
        for message in early:
            app.update_queue.put_nowait(message)
        outbox_task = None
        try:
            if not await self._retrying(stop, app.initialize):
                return
            await app.start()
            outbox_task = asyncio.create_task(self._outbox_loop(), name="sozialmonitor-outbox")
            if self.reminders is not None and app.job_queue is not None:
                app.job_queue.run_repeating(
                    self._reminder_tick, interval=self.monitor.settings.reminders.check_minutes * 60, first=1,
                    name="reminders", job_kwargs={"id": "reminders", "replace_existing": True})
            if not await self._retrying(stop, self._start_updates):
                return
            menu_task = asyncio.create_task(self._menus_when_possible(stop), name="sozialmonitor-menu")
            if ready is not None:
                ready(app.bot.username)
            await stop.wait()
            menu_task.cancel()
            await asyncio.gather(menu_task, return_exceptions=True)
        finally:
            await self._shutdown(outbox_task)

    async def _menus_when_possible(self, stop: asyncio.Event) -> None:
        try:
            await self._retrying(stop, self.set_menus)
        except TelegramError as exc:  # a menu Telegram refuses must not stop the bot
            log.error("setting the command menu failed (%s)", type(exc).__name__)

    async def _start_updates(self) -> None:
        telegram = self.monitor.settings.telegram
        updater = self.application.updater
        assert updater is not None
        if telegram.mode == "webhook":
            if not telegram.webhook_url:
                raise BotStartError(self._t("bot.webhook_unavailable", detail="webhook_url"))
            try:
                await updater.start_webhook(listen=telegram.webhook_listen, port=telegram.webhook_port,
                                            url_path="telegram", webhook_url=telegram.webhook_url.rstrip("/")
                                            + "/telegram", allowed_updates=["message"])
            except RuntimeError as exc:  # PTB without the webhooks extra (tornado)
                raise BotStartError(self._t("bot.webhook_unavailable", detail=type(exc).__name__)) from None
            return
        await updater.start_polling(timeout=timedelta(seconds=self.limits.poll_timeout),
                                    allowed_updates=["message"], error_callback=_polling_error)

    async def _retrying(self, stop: asyncio.Event, action: Callable[[], Any]) -> bool:
        """Run `action` until it succeeds (True) or `stop` is set (False); network errors wait and retry."""
        delay = self.limits.backoff_start
        while not stop.is_set():
            try:
                await action()
                return True
            except InvalidToken:
                raise BotStartError(self._t("bot.token_rejected")) from None
            except (NetworkError, RetryAfter) as exc:
                if isinstance(exc, BadRequest):
                    raise
                log.warning(self._t("bot.waiting", what=type(exc).__name__, seconds=delay))
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                except TimeoutError:
                    pass
                delay = min(delay * 2, self.limits.backoff_max)
        return False

    async def _shutdown(self, outbox_task: asyncio.Task | None) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()  # handles the updates already fetched (and queued notices), ends running jobs
        else:
            while not app.update_queue.empty():  # never started: notices handed over meanwhile
                item = app.update_queue.get_nowait()
                if isinstance(item, _Persisted):
                    item = item.message
                if isinstance(item, Outgoing):
                    self.undelivered.append(_Envelope(0, [], item.kind, ", ".join(item.recipients), False))
        if outbox_task is not None:
            queue = self._outbox_queue()
            try:
                await asyncio.wait_for(queue.join(), self.limits.drain_seconds)
            except TimeoutError:
                pass
            outbox_task.cancel()
            try:
                await outbox_task
            except asyncio.CancelledError:
                pass
            while not queue.empty():
                self.undelivered.append(queue.get_nowait())
        left = [e for e in self.undelivered if e.parts or e.chat_id == 0]
        if left:
            log.warning(self._t("bot.undelivered_at_stop", n=len(left)))
        await app.shutdown()  # a no-op if initialize never succeeded ...
        await app.bot.shutdown()  # ... so close the HTTP clients a failed initialize left open
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None
        with self._handover:
            self._loop = None


def _addressed_to(said: str, username: str | None) -> bool:
    """'/status@sozialmonitor_bot' is for us, '/status@otherbot' is not, '/status' is for everyone."""
    head = said.strip().split(maxsplit=1)[0]
    _, at, target = head.partition("@")
    return not at or (username is not None and target.casefold() == username.casefold())


def _describe(exc: BaseException) -> str:
    """The kind of error and its network cause, for logs (never the request URL: it holds the token)."""
    cause = exc.__cause__
    return type(exc).__name__ + (f"/{type(cause).__name__}" if cause is not None else "")


def _strip_html(markup: str) -> str:
    return html.unescape(re.sub(r"</?(?:b|i|code)>", "", markup))


def _polling_error(exc: TelegramError) -> None:
    # PTB retries polling itself; its default callback logs a full traceback for every network hiccup.
    log.warning("polling for updates failed (%s); PTB retries", type(exc).__name__)
