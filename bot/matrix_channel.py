"""Matrix as a channel (matrix-nio): the same commands as on Telegram, in allowed rooms and direct chats.

Commands are written `!status M21` (Element keeps `/` for its own commands) or `/status M21`. Deny by default:
a person is recognised by the catalogue's `matrix_id`; in a room of `[matrix] rooms` everyone is a member, as in
a Telegram group of `group_chats`; strangers are told their Matrix id. Replies are HTML (`formatted_body`,
escaped) with a plain `body`; files go up as uploads. Reminders and notices reach a person in their direct room,
created on first need, and the admins also in the first room of the list (the Fachstelle's room).

Sending goes through the outbox service like every channel; Matrix transaction ids make a resent part arrive
once. The sync position and the direct rooms are kept in the outbox file, so a restart neither loses nor
repeats what was said meanwhile. Encrypted rooms are not supported (the bot cannot read them and says so).
"""

from __future__ import annotations

import asyncio
import gc
import io
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, ParamSpec, TypedDict, TypeVar

import aiohttp
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    InviteMemberEvent,
    MegolmEvent,
    RoomCreateResponse,
    RoomMessageText,
    RoomPreset,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
    WhoamiResponse,
)

from commands import Caller
from commands.registry import split_command
from commands.reply import Attachment, Reply, ReplyBuilder
from commands.texts import text
from storage.models import Person

from .outbox_service import Letter, Limits, OutboxService, Part, Refused, RetryLater, Target, group_addresses
from .reminders import dispatch_keeping
from .render import plain_from_html

if TYPE_CHECKING:
    from .workspace import Monitor

__all__ = ["MatrixBot", "MatrixStartError", "MatrixTransport", "command_text"]

log = logging.getLogger("sozialmonitor.matrix")

CHANNEL = "matrix"
_MESSAGE_LIMIT = 30000  # characters of HTML per event; Matrix allows 65 KB per event with its JSON around it
_FATAL = ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_FORBIDDEN", "M_USER_DEACTIVATED")

_P = ParamSpec("_P")
_R = TypeVar("_R")


class _State(TypedDict):
    """What the outbox file keeps for Matrix: the sync position, and each person's direct room."""

    since: str
    direct: dict[str, str]


class MatrixStartError(Exception):
    """The Matrix account cannot be used (token refused); one German sentence."""


def command_text(body: str) -> str:
    """'!status M21' -> '/status M21' (Element keeps '/' for itself); anything else unchanged."""
    said = body.strip()
    return "/" + said[1:] if said.startswith("!") else said


def _retry_or_refuse(response: ErrorResponse, what: str) -> Exception:
    code = response.status_code or ""
    if code == "M_LIMIT_EXCEEDED" or code == "429":
        wait = (response.retry_after_ms or 1000) / 1000
        return RetryLater(f"{what} M_LIMIT_EXCEEDED", seconds=wait)
    status = response.transport_response.status if response.transport_response is not None else 0
    if not code or status >= 500:
        return RetryLater(f"{what} {code or status}")
    return Refused(f"{what} {code}")


def _html(markup: str) -> str:
    return markup.replace("\n", "<br>\n")


class MatrixTransport:
    """Matrix's wire for the outbox service; also the one AsyncClient the front end syncs with."""

    channel = CHANNEL
    idempotent = True  # a repeated transaction id is the same event: resending is always safe
    catch_all = False

    def __init__(self, monitor: Monitor, limits: Limits | None = None, *, request_timeout: float = 30.0) -> None:
        settings = monitor.settings.matrix
        self.monitor = monitor
        self.limits_ = limits or Limits()
        self.user_id = settings.user_id
        # No retries inside nio: rate limits and timeouts come back to the outbox service, which backs off.
        config = AsyncClientConfig(max_limit_exceeded=0, max_timeouts=0, request_timeout=request_timeout,
                                   encryption_enabled=False, store_sync_tokens=False)
        self.client = AsyncClient(settings.homeserver.rstrip("/"), settings.user_id, config=config)
        self.client.access_token = settings.token
        self.client.user_id = settings.user_id
        self.ready = asyncio.Event()
        self._state = self._load_state()

    # ------------------------------------------------------------------ state kept in the outbox file
    def _load_state(self) -> _State:
        outbox = self.monitor.outbox
        state = outbox.channel_state(CHANNEL) if outbox is not None else {}
        return {"since": state.get("since", ""), "direct": dict(state.get("direct", {}))}

    def remember(self, *, since: str | None = None, direct: dict[str, str] | None = None) -> None:
        if since is not None:
            self._state["since"] = since
        if direct is not None:
            self._state["direct"] = direct
        outbox = self.monitor.outbox
        if outbox is not None:
            try:
                outbox.remember(CHANNEL, self._state)
            except Exception:
                log.exception("Matrix state not writable")

    @property
    def since(self) -> str:
        return self._state["since"]

    # ------------------------------------------------------------------ Transport
    def address(self, person: Person) -> str | None:
        return person.matrix_id or None

    def group_addresses(self, recipient: str) -> list[str]:
        return group_addresses(CHANNEL, self.monitor.settings, recipient)

    def limits(self, address: str) -> Sequence[tuple[float, float]]:
        return [(self.limits_.chat_rate * 5, self.limits_.chat_period)] if self.limits_.chat_rate else []

    def overall(self) -> tuple[float, float]:
        return self.limits_.overall_per_second, 1.0

    def parts(self, letter: Letter) -> list[Part]:
        texts: list[str] = []
        for piece in letter.texts:  # Telegram's pieces joined again: Matrix takes much longer messages
            if texts and len(texts[-1]) + len(piece) + 1 <= _MESSAGE_LIMIT:
                texts[-1] += "\n" + piece
            else:
                texts.append(piece)
        return [*texts, *letter.attachments]

    async def wait_ready(self) -> None:
        await self.ready.wait()

    async def connect(self) -> str:
        """Check the token (whoami); the device id then comes from the server. Raises MatrixStartError."""
        try:
            response = await self.client.whoami()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise RetryLater(type(exc).__name__) from None
        if isinstance(response, WhoamiResponse):
            self.client.device_id = response.device_id or self.client.device_id
            self.ready.set()
            return str(response.user_id)  # nio ships no type hints: its fields are untyped
        if response.status_code in _FATAL:
            raise MatrixStartError(text(self.monitor.settings.language, "matrix.token_rejected"))
        raise RetryLater(str(response.status_code))

    async def close(self) -> None:
        await self.client.close()

    async def room_for(self, address: str) -> str:
        """A room id for an address: rooms are used as they are, a user gets their direct room."""
        if address.startswith("!"):
            return address
        known = self._state["direct"].get(address)
        if known:
            return known
        for room_id, room in self.client.rooms.items():  # a direct chat the person opened with us
            if (room_id not in self.monitor.settings.matrix.rooms and len(room.users) == 2
                    and address in room.users and not room.encrypted):
                self.remember(direct={**self._state["direct"], address: room_id})
                return str(room_id)
        try:
            response = await self.client.room_create(is_direct=True, invite=[address],
                                                     preset=RoomPreset.trusted_private_chat)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise RetryLater(type(exc).__name__) from None
        if not isinstance(response, RoomCreateResponse):
            raise _retry_or_refuse(response, "createRoom")
        room_id = str(response.room_id)
        self.remember(direct={**self._state["direct"], address: room_id})
        return room_id

    def forget_direct(self, address: str) -> None:
        if address in self._state["direct"]:
            direct = dict(self._state["direct"])
            del direct[address]
            self.remember(direct=direct)

    async def send(self, address: str, part: Part, letter: Letter, tag: str) -> str | None:
        if isinstance(part, Letter):  # only a channel served elsewhere gets whole letters (they wait in the outbox)
            raise Refused("Letter")
        room_id = await self.room_for(address)
        try:
            if isinstance(part, Attachment):
                content = await self._upload(part)
            else:
                content = {"msgtype": "m.text", "body": plain_from_html(part), "format": "org.matrix.custom.html",
                           "formatted_body": _html(part)}
            response = await self.client.room_send(room_id, "m.room.message", content, tx_id=tag)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise RetryLater(type(exc).__name__, maybe_delivered=True) from None
        if isinstance(response, RoomSendResponse):
            return None
        if response.status_code == "M_FORBIDDEN" and address.startswith("@"):
            # The person left their direct room: the next try opens a new one.
            self.forget_direct(address)
            raise RetryLater("M_FORBIDDEN (direct room left)")
        raise _retry_or_refuse(response, "send")

    async def _upload(self, attachment: Attachment) -> dict[str, object]:
        data = attachment.data
        mime = attachment.mime if attachment.mime != "application/octet-stream" or attachment.kind != "photo" \
            else "image/png"
        response, _ = await self.client.upload(lambda *_: io.BytesIO(data), content_type=mime,
                                               filename=attachment.filename, filesize=len(data))
        if not isinstance(response, UploadResponse):
            raise _retry_or_refuse(response, "upload")
        msgtype = "m.image" if attachment.kind == "photo" else "m.file"
        return {"msgtype": msgtype, "body": attachment.caption or attachment.filename, "filename": attachment.filename,
                "url": response.content_uri, "info": {"mimetype": mime, "size": len(data)}}


class MatrixBot:
    """The Matrix front end: syncs, answers commands, joins invitations; sends through the outbox service."""

    def __init__(self, monitor: Monitor, *, service: OutboxService | None = None, limits: Limits | None = None,
                 clock: Callable[[], datetime] | None = None, sync_timeout: float = 10.0) -> None:
        self.monitor = monitor
        self.limits = limits or (service.limits if service is not None else Limits())
        self.clock = clock or monitor.now
        self.sync_timeout = sync_timeout
        self.transport = MatrixTransport(monitor, self.limits)
        self._owns_service = service is None
        self.service = service if service is not None else OutboxService(monitor, [], limits=self.limits)
        self.service.add_transport(self.transport)
        self.sink = self.service
        self._told_encrypted: set[str] = set()

    @property
    def user_id(self) -> str:
        return self.transport.user_id

    def person(self, matrix_id: str) -> Person | None:
        wanted = matrix_id.casefold()
        return next((p for p in self.monitor.catalogue.persons if p.matrix_id and p.matrix_id.casefold() == wanted),
                    None)

    def _t(self, key: str, **params: object) -> str:
        return text(self.monitor.settings.language, key, **params)

    async def serve(self, stop: asyncio.Event, *, ready: Callable[[str], None] | None = None) -> None:
        """Log in (retrying while the server is unreachable), sync and answer until `stop`; then shut down.
        Raises MatrixStartError (a BotStartError for `run`) if the server refuses the token."""
        if self._owns_service:
            self.service.start()
        try:
            if not await self._connect(stop):
                return
            since = self.transport.since
            if not since:
                # First start: what was said before the bot existed is not answered now.
                first = await self._sync(stop, since=None, timeout=0)
                if first is None:
                    return
                await self._invites(first)
                since = first.next_batch
                self.transport.remember(since=since)
            gc.freeze()  # what lives now lives as long as the bot: no full collection walks it again
            if ready is not None:
                ready(self.user_id)
            while not stop.is_set():
                response = await self._sync(stop, since=since, timeout=self.sync_timeout)
                if response is None:
                    break
                await self._invites(response)
                await self._events(response)
                if response.next_batch != since:
                    since = response.next_batch
                    self.transport.remember(since=since)
        finally:
            if self._owns_service:
                await self.service.close()
            elif self.transport.ready.is_set():
                await self.service.drain(self.limits.drain_seconds)  # while this client can still send
            await self.transport.close()

    async def close(self) -> None:
        await self.transport.close()

    async def _connect(self, stop: asyncio.Event) -> bool:
        delay = self.limits.backoff_start
        while not stop.is_set():
            try:
                await self.transport.connect()
                return True
            except MatrixStartError as exc:
                from .telegram_bot import BotStartError

                raise BotStartError(str(exc)) from None
            except RetryLater as exc:
                log.warning(self._t("matrix.waiting", what=exc.reason, seconds=delay))
                if await _wait(stop, delay):
                    return False
                delay = min(delay * 2, self.limits.backoff_max)
        return False

    async def _sync(self, stop: asyncio.Event, *, since: str | None, timeout: float) -> SyncResponse | None:
        """One sync, retried with backoff; None once `stop` is set."""
        delay = self.limits.backoff_start
        while not stop.is_set():
            task = asyncio.ensure_future(self.transport.client.sync(timeout=int(timeout * 1000), since=since,
                                                                     full_state=since is None))
            stopper = asyncio.ensure_future(stop.wait())
            done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if task not in done:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                return None
            try:
                response = task.result()
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                reason = type(exc).__name__
            else:
                if isinstance(response, SyncResponse):
                    return response
                if response.status_code in _FATAL:
                    from .telegram_bot import BotStartError

                    raise BotStartError(self._t("matrix.token_rejected"))
                reason = str(response.status_code or response.message)
                if response.status_code == "M_LIMIT_EXCEEDED" and response.retry_after_ms:
                    delay = response.retry_after_ms / 1000
            log.warning(self._t("matrix.waiting", what=reason, seconds=delay))
            if await _wait(stop, delay):
                return None
            delay = min(delay * 2, self.limits.backoff_max)
        return None

    async def _invites(self, response: SyncResponse) -> None:
        """Join every room we are invited to: direct chats, and rooms the Fachstelle adds us to. What we answer
        there is decided per message (deny by default)."""
        for room_id, info in response.rooms.invite.items():
            inviter = next((e.sender for e in info.invite_state if isinstance(e, InviteMemberEvent)), "?")
            log.info("joining %s (invited by %s)", room_id, inviter)
            try:
                await self.transport.client.join(room_id)
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.warning("joining %s failed (%s); the next sync retries", room_id, type(exc).__name__)

    async def _events(self, response: SyncResponse) -> None:
        for room_id, joined in response.rooms.join.items():
            for event in joined.timeline.events:
                if getattr(event, "sender", None) == self.user_id:
                    continue
                try:
                    if isinstance(event, RoomMessageText):
                        await self._on_message(room_id, event)
                    elif isinstance(event, MegolmEvent):
                        await self._on_encrypted(room_id)
                except Exception as exc:
                    log.exception("handling a Matrix message failed")
                    self.service.report_error(type(exc).__name__)

    async def _on_encrypted(self, room_id: str) -> None:
        if room_id in self._told_encrypted:
            return
        self._told_encrypted.add(room_id)
        await self._reply(room_id, ReplyBuilder().line(self._t("matrix.encrypted")).build())

    def _is_direct(self, room_id: str) -> bool:
        room = self.transport.client.rooms.get(room_id)
        return room is not None and len(room.users) <= 2

    async def _on_message(self, room_id: str, event: RoomMessageText) -> None:
        said = command_text(event.body or "")
        parsed = split_command(said)
        allowed = room_id in self.monitor.settings.matrix.rooms
        direct = not allowed and self._is_direct(room_id)
        if parsed is None and not direct:
            return  # people talking among themselves
        name = parsed[0] if parsed else "-"
        if not allowed and not direct:
            log.info("refused !%s: room %s is not enabled (user %s)", name, room_id, event.sender)
            await self._reply(room_id, ReplyBuilder().line(self._t("matrix.room_not_enabled", room_id=room_id))
                              .build("denied"))
            return
        person = self.person(event.sender)
        caller = Caller(person=person, group_member=allowed, channel="matrix")
        if not caller.is_member:
            log.info("refused !%s for stranger %s", name, event.sender)
            await self._reply(room_id, ReplyBuilder().line(self._t("matrix.denied_unknown", user_id=event.sender))
                              .build("denied"))
            return
        try:
            reply, items = await self._in_worker(dispatch_keeping, self.monitor, said, caller, self.clock())
        except Exception as exc:
            log.exception("command !%s failed", name)
            self.service.report_error(type(exc).__name__)
            reply, items = ReplyBuilder().line(self._t("internal_error")).build("error"), {}
        await self._reply(room_id, reply)
        for k, notice in enumerate(reply.notices):
            self.service.hand_over(notice, items.get(k))

    async def _reply(self, room_id: str, reply: Reply) -> None:
        await self.service.deliver_reply(Target(CHANNEL, room_id, room_id), reply)

    async def _in_worker(self, func: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
        return await self.service.in_worker(func, *args, **kwargs)


async def _wait(stop: asyncio.Event, seconds: float) -> bool:
    """Sleep `seconds` unless `stop` comes first (True then)."""
    try:
        await asyncio.wait_for(stop.wait(), seconds)
        return True
    except TimeoutError:
        return False
