"""The Telegram front end: every registry command as a chat command, deny by default, robust sending."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import re
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import ParamSpec, TypeVar

# Opt in to PTB's timedelta periods now: otherwise every RetryAfter raised inside PTB emits a
# PTBDeprecationWarning (v22.2), which our warnings-as-errors test runs would turn into failures.
os.environ.setdefault("PTB_TIMEDELTA", "true")

import httpx
from telegram import Bot, BotCommand, BotCommandScopeChat, LinkPreviewOptions, Update
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
    ApplicationBuilder,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from commands import Caller, all_commands
from commands.registry import ADMIN, split_command
from commands.reply import Attachment, Reply, ReplyBuilder
from commands.texts import text
from storage.models import Person

from .outbox_service import Letter, Limits, OutboxService, Part, Refused, RetryLater, Target, group_addresses
from .reminders import dispatch_keeping
from .render import plain_from_html, render_caption
from .runtime import Sink
from .workspace import Monitor

__all__ = [
    "BotStartError",
    "Limits",
    "TelegramBot",
    "TelegramTransport",
    "client_language",
    "file_url_for",
    "maybe_delivered",
]

log = logging.getLogger("sozialmonitor.telegram")

_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")

_P = ParamSpec("_P")
_R = TypeVar("_R")


class BotStartError(Exception):
    """The bot cannot start (token rejected, webhook unavailable); the message is one German sentence."""


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
    if not isinstance(cause, httpx.TransportError):
        # An HTTP error answer (e.g. 502 from Telegram's front end, whose HTML page PTB fails to parse as JSON):
        # the request was answered, so it was not carried out.
        return False
    return not isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
                          | httpx.WriteError | httpx.WriteTimeout)


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class TelegramTransport:
    """Telegram's wire for the outbox service: one Bot API call per text piece or file.

    Flood limits (per chat, per group, overall) and retries are the service's; this only maps Telegram's
    answers: 429 -> RetryLater(retry_after), network errors -> RetryLater, refusals -> Refused. HTML that
    Telegram cannot parse goes again as plain text; a group that became a supergroup is followed."""

    channel = "telegram"
    idempotent = False
    catch_all = False

    def __init__(self, bot: Callable[[], Bot], monitor: Monitor, limits: Limits) -> None:
        self._bot = bot
        self.monitor = monitor
        self.limits_ = limits
        self.ready = asyncio.Event()

    def address(self, person: Person) -> str | None:
        return str(person.telegram_id) if person.telegram_id else None

    def group_addresses(self, recipient: str) -> list[str]:
        return group_addresses(self.channel, self.monitor.settings, recipient)

    def limits(self, address: str) -> Sequence[tuple[float, float]]:
        own = [(self.limits_.chat_rate, self.limits_.chat_period)]
        if address.startswith("-"):  # groups: Telegram allows about 20 messages a minute
            own.append((self.limits_.group_per_minute, 60.0))
        return own

    def overall(self) -> tuple[float, float]:
        return self.limits_.overall_per_second, 1.0

    def parts(self, letter: Letter) -> list[Part]:
        return [*letter.texts, *letter.attachments]

    async def wait_ready(self) -> None:
        await self.ready.wait()

    async def send(self, address: str, part: Part, letter: Letter, tag: str) -> str | None:
        if isinstance(part, Letter):  # only a channel served elsewhere gets whole letters (they wait in the outbox)
            raise Refused("Letter")
        chat_id = int(address)
        try:
            try:
                await self._send_part(chat_id, part)
            except ChatMigrated as exc:
                chat_id = int(exc.new_chat_id)
                await self._send_part(chat_id, part)
                return str(chat_id)
        except RetryAfter as exc:
            raise RetryLater("RetryAfter", seconds=_seconds(exc._retry_after)) from None
        except BadRequest as exc:
            if isinstance(part, str) and "parse" in str(exc).lower():
                log.error("Telegram refused the HTML of a %s; sending it as plain text", letter.kind)
                await self._plain(chat_id, part)
                return None
            raise Refused(type(exc).__name__) from None
        except NetworkError as exc:
            raise RetryLater(_describe(exc), maybe_delivered=maybe_delivered(exc)) from None
        except TelegramError as exc:  # Forbidden (bot blocked), InvalidToken, ...
            raise Refused(type(exc).__name__) from None
        return None

    async def _plain(self, chat_id: int, html: str) -> None:
        try:
            await self._bot().send_message(chat_id, plain_from_html(html), parse_mode=None)
        except RetryAfter as exc:
            raise RetryLater("RetryAfter", seconds=_seconds(exc._retry_after)) from None
        except BadRequest as exc:
            raise Refused(type(exc).__name__) from None
        except NetworkError as exc:
            raise RetryLater(_describe(exc), maybe_delivered=maybe_delivered(exc)) from None
        except TelegramError as exc:
            raise Refused(type(exc).__name__) from None

    async def _send_part(self, chat_id: int, part: str | Attachment) -> None:
        bot = self._bot()
        if isinstance(part, str):
            await bot.send_message(chat_id, part, parse_mode=ParseMode.HTML)
            return
        caption = render_caption(part.caption) if part.caption else None
        if part.kind == "photo":
            await bot.send_photo(chat_id, photo=part.data, filename=part.filename, caption=caption,
                                 parse_mode=ParseMode.HTML)
        else:
            await bot.send_document(chat_id, document=part.data, filename=part.filename, caption=caption,
                                    parse_mode=ParseMode.HTML)


class TelegramBot:
    """The Application with its handlers and a managed lifecycle (`serve`); everything it sends, replies too,
    goes through the outbox service (its own, or the one `sozialmonitor run` shares among all channels)."""

    def __init__(self, monitor: Monitor, *, token: str | None = None, api_url: str | None = None,
                 limits: Limits | None = None,
                 reminders: Callable[[Monitor, Sink, datetime], object] | None = None,
                 clock: Callable[[], datetime] | None = None, service: OutboxService | None = None) -> None:
        self.monitor = monitor
        self.limits = limits or (service.limits if service is not None else Limits())
        self.clock = clock or monitor.now
        self.reminders = reminders
        settings = monitor.settings
        token = token if token is not None else settings.telegram.token
        api_url = api_url if api_url is not None else settings.telegram.api_url
        builder = (
            ApplicationBuilder()
            .token(token)
            .defaults(Defaults(parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)))
            .concurrent_updates(32)
            .connect_timeout(5).read_timeout(self.limits.read_timeout).write_timeout(15).media_write_timeout(30).pool_timeout(5)
            .get_updates_read_timeout(self.limits.poll_timeout + 5)
        )
        if api_url:
            builder = builder.base_url(api_url)
            file_url = file_url_for(api_url)
            if file_url:
                builder = builder.base_file_url(file_url)
        self.application = builder.build()
        self.application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, self._on_message))
        self.transport = TelegramTransport(lambda: self.application.bot, monitor, self.limits)
        # Notices and reminders wait in the outbox until every recipient has them: a stop or crash loses none.
        self._owns_service = service is None
        self.service = service if service is not None else OutboxService(monitor, [], limits=self.limits)
        self.service.add_transport(self.transport)
        self.outbox = self.service.outbox
        self.sink = self.service
        self.application.add_error_handler(self._on_error)
        self._chat_locks: dict[int, asyncio.Lock] = {}

    # ------------------------------------------------------------------ access
    def caller_for(self, user_id: int, chat_id: int, language_code: str | None, *, group: bool) -> Caller:
        """Who asks: the catalogue person with this telegram_id, member rights in an enabled group."""
        person = self.monitor.catalogue.person_by_telegram(user_id)
        return Caller(user_id=user_id, chat_id=chat_id, person=person,
                      group_member=group and self._group_enabled(chat_id),
                      language=client_language(language_code), channel="telegram")

    def _group_enabled(self, chat_id: int) -> bool:
        access = self.monitor.settings.access
        return chat_id in access.group_chats or (bool(access.admin_chat) and chat_id == access.admin_chat)

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
            await self.service.deliver_reply(Target("telegram", str(chat.id), str(chat.id)), reply)
        for k, notice in enumerate(reply.notices):
            self.service.hand_over(notice, items.get(k))

    async def _answer(self, said: str, caller: Caller, name: str) -> tuple[Reply, dict[int, int | None]]:
        """The reply, and the outbox items of its notices (by index): all written before the reply goes out."""
        try:
            return await self._in_worker(self._dispatch_keeping, said, caller, self.clock())
        except Exception as exc:
            log.exception("command /%s failed", name)
            self.service.report_error(type(exc).__name__)
            return ReplyBuilder().line(self._t("internal_error", caller.language)).build("error"), {}

    def _dispatch_keeping(self, said: str, caller: Caller, now: datetime) -> tuple[Reply, dict[int, int | None]]:
        return dispatch_keeping(self.monitor, said, caller, now, outbox=self.outbox)

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
        self.service.report_error(what)

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

    async def _in_worker(self, func: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return await self.service.in_worker(func, *args, **kwargs)

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
    async def close(self) -> None:
        """Nothing left to release: `serve` shuts the Application down itself when `stop` is set."""

    async def serve(self, stop: asyncio.Event, *, ready: Callable[[str], None] | None = None) -> None:
        """Connect (retrying while Telegram is unreachable), poll or listen for webhooks, deliver, until
        `stop` is set; then stop fetching, finish the updates already fetched, drain the outbox, shut down.
        Raises BotStartError if Telegram refuses the token or the webhook cannot start."""
        app = self.application
        if self._owns_service:
            # What waits in the outbox (from before a restart, or handed over before now) goes out first.
            self.service.start()
        try:
            if not await self._retrying(stop, app.initialize):
                return
            await app.start()
            self.transport.ready.set()
            if self.reminders is not None and app.job_queue is not None:
                app.job_queue.run_repeating(
                    self._reminder_tick, interval=self.monitor.settings.reminders.check_minutes * 60, first=1,
                    name="reminders", job_kwargs={"id": "reminders", "replace_existing": True})
            if not await self._retrying(stop, self._start_updates):
                return
            # What lives now (store, Application, HTTP clients, handlers) lives as long as the bot: frozen out of
            # the collector's generations, it is no longer walked by every full collection.
            gc.freeze()
            menu_task = asyncio.create_task(self._menus_when_possible(stop), name="sozialmonitor-menu")
            if ready is not None:
                ready(app.bot.username)
            await stop.wait()
            menu_task.cancel()
            await asyncio.gather(menu_task, return_exceptions=True)
        finally:
            await self._shutdown()

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

    async def _retrying(self, stop: asyncio.Event, action: Callable[[], Awaitable[object]]) -> bool:
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

    async def _shutdown(self) -> None:
        app = self.application
        if app.updater is not None and app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()  # handles the updates already fetched, ends running jobs
        if self._owns_service:
            await self.service.close()  # queued notices get drain_seconds; what is left stays in the outbox
        elif self.transport.ready.is_set():
            await self.service.drain(self.limits.drain_seconds)  # while this bot can still send
        await app.shutdown()  # a no-op if initialize never succeeded ...
        await app.bot.shutdown()  # ... so close the HTTP clients a failed initialize left open


def _addressed_to(said: str, username: str | None) -> bool:
    """'/status@sozialmonitor_bot' is for us, '/status@otherbot' is not, '/status' is for everyone."""
    head = said.strip().split(maxsplit=1)[0]
    _, at, target = head.partition("@")
    return not at or (username is not None and target.casefold() == username.casefold())


def _describe(exc: BaseException) -> str:
    """The kind of error and its network cause, for logs (never the request URL: it holds the token)."""
    cause = exc.__cause__
    return type(exc).__name__ + (f"/{type(cause).__name__}" if cause is not None else "")


def _polling_error(exc: TelegramError) -> None:
    # PTB retries polling itself; its default callback logs a full traceback for every network hiccup.
    log.warning("polling for updates failed (%s); PTB retries", type(exc).__name__)
