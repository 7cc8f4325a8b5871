"""A fake Telegram Bot API: the methods Sozialmonitor calls, answered the way Telegram answers them.

:class:`FakeTelegram` holds the semantics and what the tests look at; it answers one request given as
``(path, content type, body)``, so any transport can carry it. :class:`FakeBotAPI` serves it over HTTP on
127.0.0.1 for the tests that run the real ``sozialmonitor`` process (and the bot benchmark);
``tests/ptb_request.py`` carries it in-process through python-telegram-bot's request seam::

    with FakeBotAPI() as api:
        # sozialmonitor run with SOZIALMONITOR_TELEGRAM_API_URL=api.base_url
        api.send_user_message(MEMBER_ID, text="/status M21")
        reply = api.wait_for_sent(lambda m: m.chat_id == MEMBER_ID)

Methods: getMe, getUpdates (offset, limit, long polling), deleteWebhook, setWebhook, sendMessage,
sendDocument, sendPhoto (uploads as multipart/form-data) and setMyCommands (per scope and language);
any other method answers 404 like Telegram. What catches real bugs: HTML parse mode is checked like
Telegram checks it (an unsupported tag, an unescaped ``<`` or an unbalanced tag is a 400 "can't parse
entities"), texts over 4096 and captions over 1024 characters are refused, a photo must be an image, a
wrong token gets 401, and with ``strict_chats`` a chat that never wrote to the bot is "chat not found".
Failures on demand: :meth:`FakeTelegram.fail_next` (an error status such as 429 with ``retry_after``,
a 5xx, or a dropped connection) and :meth:`FakeTelegram.delay_next` (carried out, answered late).
"""

from __future__ import annotations

import dataclasses
import email.parser
import email.policy
import http.client
import http.server
import json
import mimetypes
import re
import socket
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable
from typing import Any

__all__ = ["Answer", "Exchange", "FakeBotAPI", "FakeTelegram", "HtmlParseError", "RequestRecord", "SentMessage",
           "UpdateRecord", "parse_html"]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024


@dataclasses.dataclass
class SentMessage:
    """Something the bot put into a chat."""

    method: str  # sendMessage | sendDocument | sendPhoto
    chat_id: int | str
    message_id: int
    text: str | None = None  # the text as the bot sent it, markup included
    caption: str | None = None  # likewise the caption of a file
    parse_mode: str | None = None
    visible_text: str | None = None  # text or caption as the user sees it (after parse mode)
    filename: str | None = None
    data: bytes | None = None  # the uploaded file
    received_at: float = 0.0  # time.perf_counter() when the request arrived


@dataclasses.dataclass
class RequestRecord:
    """One Bot API request (also the failed ones)."""

    method: str
    params: dict[str, Any]
    received_at: float
    status: int | None = None


@dataclasses.dataclass
class UpdateRecord:
    """An update queued by a test (``time.perf_counter()`` stamps)."""

    update_id: int
    payload: dict[str, Any]
    queued_at: float
    delivered_at: float | None = None  # first time a getUpdates answer carried it


@dataclasses.dataclass(frozen=True)
class Answer:
    """What goes back for one request: a status and body, answered `hold` seconds late, or no answer at all."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"
    hold: float = 0.0
    drop: bool = False  # close the connection without answering


@dataclasses.dataclass
class _Rule:
    method: str  # lower case; "*" for any
    count: int
    status: int = 500
    retry_after: int | None = None
    drop: bool = False
    hold: float = 0.0  # > 0: carried out, but answered this late
    migrate_to: int | None = None  # the group became this supergroup (400 with migrate_to_chat_id)


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


class HtmlParseError(ValueError):
    """Text Telegram refuses in HTML parse mode; the message is Telegram's wording."""


def _bad_request(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


def _json_answer(status: int, payload: dict[str, Any], hold: float = 0.0) -> Answer:
    return Answer(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), hold=hold)


def _error_answer(error: _ApiError) -> Answer:
    payload: dict[str, Any] = {"ok": False, "error_code": error.status, "description": error.description}
    if error.parameters:
        payload["parameters"] = error.parameters
    return _json_answer(error.status, payload)


# ------------------------------------------------------------------ HTML parse mode

_HTML_TAGS = frozenset({"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
                        "code", "pre", "blockquote", "tg-emoji"})
_HTML_TAG = re.compile(r"<(/?)([^\s>/]*)[^>]*>")
_HTML_ENTITY = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _entity(m: re.Match[str]) -> str:
    if m.group(3):
        return _NAMED[m.group(3)]
    code = int(m.group(1)) if m.group(1) else int(m.group(2), 16)
    return m.group(0) if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF else chr(code)


def parse_html(text: str) -> str:
    """The text a user sees of `text` sent in HTML parse mode; raises HtmlParseError where Telegram refuses it.

    Like the Bot API: every ``<`` starts a tag, only Telegram's tags are allowed and must be balanced,
    ``&lt; &gt; &amp; &quot;`` and numeric references are decoded, any other ``&`` stays as it is.
    """
    out: list[str] = []
    opened: list[str] = []
    i = 0
    while (start := text.find("<", i)) >= 0:
        out.append(text[i:start])
        at = len(text[:start].encode("utf-8"))
        tag = _HTML_TAG.match(text, start)
        if tag is None:
            raise HtmlParseError(f"Unclosed start tag at byte offset {at}")
        closing, name = tag.group(1), tag.group(2).lower()
        if not closing:
            if name not in _HTML_TAGS:
                raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {at}')
            opened.append(name)
        elif not opened:
            raise HtmlParseError(f"Unexpected end tag at byte offset {at}")
        elif name and name != opened[-1]:
            raise HtmlParseError(f'Unmatched end tag at byte offset {at}, '
                                 f'expected "</{opened[-1]}>", found "</{name}>"')
        else:
            opened.pop()
        i = tag.end()
    if opened:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{opened[-1]}"')
    out.append(text[i:])
    return _HTML_ENTITY.sub(_entity, "".join(out))


def _u16len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


# ------------------------------------------------------------------ request bodies

_JSON_PARAMS = frozenset({"commands", "scope", "allowed_updates", "link_preview_options"})
_INT_PARAMS = frozenset({"offset", "limit", "max_connections"})
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a")
_BOT_COMMAND = re.compile(r"(?<![\w/])/\w{1,64}(?:@\w{3,32})?")


@dataclasses.dataclass(frozen=True)
class _Upload:
    filename: str | None
    content_type: str | None
    data: bytes


def _coerce(name: str, value: str) -> Any:
    """A form field as the JSON type Telegram reads from it."""
    if name in _JSON_PARAMS:
        return json.loads(value)
    if name in _INT_PARAMS or (name == "chat_id" and re.fullmatch(r"-?\d+", value)):
        return int(value)
    return float(value) if name == "timeout" else value


def parse_params(content_type: str, body: bytes) -> dict[str, Any]:
    """The parameters of a request as python-telegram-bot sends them: a form, or multipart with uploads."""
    mime = content_type.split(";")[0].strip().lower()
    fields: dict[str, str | _Upload] = {}
    if mime == "application/x-www-form-urlencoded":
        fields.update(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    elif mime == "multipart/form-data":
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            data = part.get_payload(decode=True)
            filename = part.get_filename()
            if filename is not None:  # httpx escapes '"' HTML5-style
                fields[str(name)] = _Upload(filename.replace("%22", '"'), part.get_content_type(), data)
            else:
                fields[str(name)] = data.decode("utf-8")
    elif body.strip():
        raise ValueError(f"unsupported Content-Type {content_type!r}")
    return {name: value if isinstance(value, _Upload) else _coerce(name, value) for name, value in fields.items()}


# ------------------------------------------------------------------ the fake


@dataclasses.dataclass
class Exchange:
    """One request on its way through the fake; a long poll is stepped until it has updates or times out."""

    record: RequestRecord | None
    answer: Answer | None = None
    method: Callable[[Exchange], Any] | None = None
    hold: float = 0.0
    deadline: float = 0.0

    @property
    def params(self) -> dict[str, Any]:
        return self.record.params if self.record is not None else {}


_WAIT = object()  # a long poll with nothing to deliver yet

_DESCRIPTIONS = {401: "Unauthorized", 403: "Forbidden: bot was blocked by the user", 404: "Not Found",
                 500: "Internal Server Error"}
_NGINX_PAGE = ("<html>\r\n<head><title>{code} {phrase}</title></head>\r\n<body>\r\n<center><h1>{code} {phrase}"
               "</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n")
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")


class FakeTelegram:
    """The Bot API's state and semantics, independent of how requests reach it; thread-safe."""

    def __init__(self, token: str = "123456:TEST-TOKEN", *, bot_username: str = "sozialmonitor_bot",
                 strict_chats: bool = False) -> None:
        """`strict_chats`: sending to a chat that never wrote to the bot (nor was added) fails, like on Telegram."""
        self.token = token
        self.bot_id = int(token.split(":")[0]) if token.split(":")[0].isdigit() else 123456
        self.bot_username = bot_username
        self._strict_chats = strict_chats
        self._cond = threading.Condition(threading.RLock())
        self._wakers: list[Callable[[], None]] = []
        self._stopping = False
        self._requests: list[RequestRecord] = []
        self._sent: list[SentMessage] = []
        self._rules: list[_Rule] = []
        self._errors: list[str] = []
        self._commands: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self._pending: list[UpdateRecord] = []
        self._updates: dict[int, UpdateRecord] = {}
        self._next_update = 100_001
        self._chats: set[int | str] = set()
        self._message_ids: dict[int | str, int] = {}
        self._files = 0
        self._methods: dict[str, tuple[str, Callable[[Exchange], Any]]] = {
            name.lower(): (name, func) for name, func in (
                ("getMe", self._get_me), ("getUpdates", self._get_updates), ("deleteWebhook", self._true),
                ("setWebhook", self._true), ("sendMessage", self._send_message),
                ("sendDocument", self._send_document), ("sendPhoto", self._send_photo),
                ("setMyCommands", self._set_my_commands))}

    # ------------------------------------------------------------------ what the tests look at
    @property
    def sent(self) -> list[SentMessage]:
        """Everything the bot put into chats, in order."""
        with self._cond:
            return list(self._sent)

    @property
    def requests(self) -> list[RequestRecord]:
        with self._cond:
            return list(self._requests)

    @property
    def update_log(self) -> dict[int, UpdateRecord]:
        with self._cond:
            return dict(self._updates)

    def commands_for(self, scope: str = "default", language_code: str = "") -> list[tuple[str, str]]:
        """``[(command, description)]`` set for a scope (``"default"``, ``"chat:ID"``, …) and language."""
        with self._cond:
            return list(self._commands.get((scope, language_code), []))

    def mark(self) -> int:
        """The number of messages sent so far, for ``wait_for_sent(..., since=mark)``."""
        with self._cond:
            return len(self._sent)

    def wait_for_sent(self, predicate: Callable[[SentMessage], bool] | None = None, timeout: float = 10.0, *,
                      since: int = 0) -> SentMessage:
        """The first message in ``sent[since:]`` that matches; waits for it, TimeoutError if none comes."""
        def find() -> SentMessage | None:
            return next((m for m in self._sent[since:] if predicate is None or predicate(m)), None)

        return self._wait(find, timeout, lambda: f"no matching message within {timeout} s; sent: "
                          f"{[(m.method, m.chat_id, m.visible_text) for m in self._sent[since:]]!r}")

    def wait_for_call(self, method: str, predicate: Callable[[dict[str, Any]], bool] | None = None,
                      timeout: float = 10.0) -> RequestRecord:
        """The first request to `method` whose params match; waits for it."""
        def find() -> RequestRecord | None:
            return next((r for r in self._requests if r.method.lower() == method.lower()
                         and (predicate is None or predicate(r.params))), None)

        return self._wait(find, timeout, lambda: f"no matching {method} within {timeout} s; calls: "
                          f"{[r.method for r in self._requests]}")

    def _wait(self, find: Callable[[], Any], timeout: float, what: Callable[[], str]) -> Any:
        deadline = time.monotonic() + timeout
        with self._cond:
            while (found := find()) is None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(what())
                self._cond.wait(remaining)
            return found

    # ------------------------------------------------------------------ what the tests do
    def fail_next(self, method: str, status: int = 500, *, count: int = 1, retry_after: int | None = None,
                  close_connection: bool = False, migrate_to: int | None = None) -> None:
        """The next `count` calls of `method` ("*": any) fail without being carried out: with `status` (429
        carries ``retry_after``, default 1; 502 and 504 are nginx's HTML page), or a dropped connection.
        `migrate_to`: the chat was upgraded to that supergroup (Telegram's 400 with ``migrate_to_chat_id``)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        if migrate_to is not None:
            status = 400
        with self._cond:
            self._rules.append(_Rule(method.lower(), count, status, retry_after, drop=close_connection,
                                     migrate_to=migrate_to))

    def delay_next(self, method: str, seconds: float, *, count: int = 1) -> None:
        """The next `count` calls of `method` are carried out but answered `seconds` late (past a client's
        read timeout the message is there although the client saw a timeout, as on Telegram)."""
        with self._cond:
            self._rules.append(_Rule(method.lower(), count, hold=seconds))

    def add_chat(self, chat_id: int) -> None:
        """The chat has written to the bot (matters with `strict_chats`)."""
        with self._cond:
            self._chats.add(chat_id)

    def send_user_message(self, chat_id: int, user_id: int | None = None, text: str = "", *,
                          first_name: str = "Test", language_code: str | None = None) -> int:
        """Queue a user's text message for getUpdates; returns its update_id. In a private chat (positive id)
        the user is the chat; groups have negative ids (-100… a supergroup) and need `user_id`."""
        if user_id is None:
            if chat_id < 0:
                raise ValueError("user_id is required in a group chat")
            user_id = chat_id
        if chat_id > 0 and user_id != chat_id:
            raise ValueError("in a private chat, chat_id equals the user's id")
        sender: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            sender["language_code"] = language_code
        with self._cond:
            self._chats.add(chat_id)
            message = {"message_id": self._next_message_id(chat_id), "from": sender, "chat": self._chat(chat_id),
                       "date": int(time.time()), "text": text}
            commands = [{"type": "bot_command", "offset": _u16len(text[:m.start()]), "length": _u16len(m.group())}
                        for m in _BOT_COMMAND.finditer(text)]
            if commands:
                message["entities"] = commands
            update_id, self._next_update = self._next_update, self._next_update + 1
            record = UpdateRecord(update_id, {"update_id": update_id, "message": message}, time.perf_counter())
            self._pending.append(record)
            self._updates[update_id] = record
            self._notify()
            return update_id

    def roundtrip(self, chat_id: int, text: str, *, timeout: float = 10.0) -> tuple[SentMessage, float]:
        """Queue a user's message and wait for the bot's first message to that chat; returns it and the seconds
        from queuing the update to the arrival of the bot's request (for the benchmark)."""
        since = self.mark()
        update_id = self.send_user_message(chat_id, text=text)
        message = self.wait_for_sent(lambda m: m.chat_id == chat_id, timeout, since=since)
        return message, message.received_at - self.update_log[update_id].queued_at

    # ------------------------------------------------------------------ answering a request
    def begin(self, path: str, content_type: str, body: bytes) -> Exchange:
        """Take one request to ``/bot<token>/<method>``; `step` answers it."""
        received = time.perf_counter()
        found = re.fullmatch(r"/bot([^/]*)/([^/]+)", path)
        if found is None:
            return Exchange(None, _error_answer(_ApiError(404, "Not Found")))
        token, method = urllib.parse.unquote(found.group(1)), urllib.parse.unquote(found.group(2))
        name, func = self._methods.get(method.lower(), (method, None))
        record = RequestRecord(name, {}, received)
        exchange = Exchange(record, method=func)
        try:
            record.params = parse_params(content_type, body)
        except ValueError as exc:
            exchange.answer = _error_answer(_bad_request(f"can't parse request: {exc}"))
        with self._cond:
            self._requests.append(record)
            self._notify()
            if exchange.answer is not None:
                return exchange
            if token != self.token:
                exchange.answer = _error_answer(_ApiError(401, "Unauthorized"))
                return exchange
            rule = next((r for r in self._rules if r.method in ("*", name.lower())), None)
            if rule is not None:
                rule.count -= 1
                if rule.count <= 0:
                    self._rules.remove(rule)
                if not rule.hold:
                    exchange.answer = self._failure(rule)
                    return exchange
                exchange.hold = rule.hold
        if func is None:
            exchange.answer = _error_answer(_ApiError(404, "Not Found: method not found"))
        timeout = record.params.get("timeout")
        exchange.deadline = time.monotonic() + (timeout if isinstance(timeout, float) else 0.0)
        return exchange

    def step(self, exchange: Exchange) -> Answer | None:
        """The answer, or None while a long poll waits (call again when something changed, or at its deadline)."""
        if exchange.answer is not None:
            answer = exchange.answer
        else:
            assert exchange.method is not None and exchange.record is not None
            try:
                result = exchange.method(exchange)
            except _ApiError as exc:
                answer = _error_answer(exc)
            except Exception:
                with self._cond:
                    self._errors.append(f"{exchange.record.method}: {traceback.format_exc()}")
                answer = _error_answer(_ApiError(500, "Internal Server Error: bug in the fake Bot API"))
            else:
                if result is _WAIT:
                    return None
                answer = _json_answer(200, {"ok": True, "result": result}, exchange.hold)
        if exchange.record is not None:
            exchange.record.status = None if answer.drop else answer.status
        return answer

    def watch(self, waker: Callable[[], None]) -> Callable[[], None]:
        """Call `waker` whenever something changes (a new update, a stop); returns the function that ends it."""
        with self._cond:
            self._wakers.append(waker)
        return lambda: self._unwatch(waker)

    def _unwatch(self, waker: Callable[[], None]) -> None:
        with self._cond:
            self._wakers.remove(waker)

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()
            for waker in self._wakers:
                waker()

    def _failure(self, rule: _Rule) -> Answer:
        if rule.drop:
            return Answer(0, drop=True)
        if rule.status in (502, 504):  # Telegram's front end answers these, with its HTML page
            phrase = http.HTTPStatus(rule.status).phrase
            return Answer(rule.status, _NGINX_PAGE.format(code=rule.status, phrase=phrase).encode(), "text/html")
        if rule.retry_after is not None:
            return _error_answer(_ApiError(rule.status, f"Too Many Requests: retry after {rule.retry_after}",
                                           {"retry_after": rule.retry_after}))
        if rule.migrate_to is not None:
            return _error_answer(_ApiError(400, "Bad Request: group chat was upgraded to a supergroup chat",
                                           {"migrate_to_chat_id": rule.migrate_to}))
        description = _DESCRIPTIONS.get(rule.status) or http.HTTPStatus(rule.status).phrase
        return _error_answer(_ApiError(rule.status, description))

    # ------------------------------------------------------------------ the methods
    def _true(self, exchange: Exchange) -> bool:
        return True

    def _bot_user(self) -> dict[str, Any]:
        return {"id": self.bot_id, "is_bot": True, "first_name": "Sozialmonitor", "username": self.bot_username}

    def _get_me(self, exchange: Exchange) -> dict[str, Any]:
        return {**self._bot_user(), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    def _get_updates(self, exchange: Exchange) -> Any:
        params = exchange.params
        offset, limit = params.get("offset") or 0, params.get("limit") or 100
        with self._cond:
            self._pending = [u for u in self._pending if u.update_id >= offset]  # an offset confirms the earlier
            if not self._pending and not self._stopping and time.monotonic() < exchange.deadline:
                return _WAIT
            batch = self._pending[:limit]
            now = time.perf_counter()
            for update in batch:
                update.delivered_at = update.delivered_at or now
            return [json.loads(json.dumps(u.payload)) for u in batch]

    def _chat(self, chat_id: int | str) -> dict[str, Any]:
        if self._strict_chats and chat_id not in self._chats:
            raise _bad_request("chat not found")
        if not isinstance(chat_id, int) or chat_id == 0:
            raise _bad_request("chat not found")
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}

    def _next_message_id(self, chat_id: int | str) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def _visible(self, text: Any, parse_mode: Any, limit: int, too_long: str) -> str:
        text = str(text)
        if str(parse_mode or "").lower() == "html":
            try:
                text = parse_html(text)
            except HtmlParseError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from None
        elif parse_mode:
            raise _bad_request(f"unsupported parse_mode {parse_mode}")
        if _u16len(text) > limit:  # counted in UTF-16 units, the stricter reading of Telegram's limit
            raise _bad_request(too_long)
        return text

    def _post(self, exchange: Exchange, sent: SentMessage, content: dict[str, Any]) -> dict[str, Any]:
        assert exchange.record is not None
        with self._cond:
            chat = self._chat(sent.chat_id)
            sent.message_id = self._next_message_id(sent.chat_id)
            sent.received_at = exchange.record.received_at
            self._sent.append(sent)
            self._notify()
        return {"message_id": sent.message_id, "from": self._bot_user(), "chat": chat, "date": int(time.time()),
                **content}

    def _send_message(self, exchange: Exchange) -> dict[str, Any]:
        params = exchange.params
        text = params.get("text")
        if not text:
            raise _bad_request("message text is empty")
        visible = self._visible(text, params.get("parse_mode"), MAX_TEXT_LENGTH, "message is too long")
        if not visible.strip():
            raise _bad_request("message text is empty")
        sent = SentMessage("sendMessage", params.get("chat_id", ""), 0, text=text,
                           parse_mode=params.get("parse_mode"), visible_text=visible)
        return self._post(exchange, sent, {"text": visible})

    def _send_file(self, exchange: Exchange, method: str, kind: str) -> dict[str, Any]:
        params = exchange.params
        upload = params.get(kind)
        if not isinstance(upload, _Upload):
            raise _bad_request(f"there is no {kind} in the request")
        if not upload.data:
            raise _bad_request("file must be non-empty")
        if kind == "photo" and not upload.data.startswith(_IMAGE_MAGIC):
            raise _bad_request("IMAGE_PROCESS_FAILED")
        caption = params.get("caption") or None
        visible = None if caption is None else self._visible(caption, params.get("parse_mode"), MAX_CAPTION_LENGTH,
                                                              "message caption is too long")
        with self._cond:
            self._files += 1
            file_id = f"BQACAgIAAxkBAAI{self._files:06d}FakeFileId"
        file = {"file_id": file_id, "file_unique_id": f"U{self._files:06d}", "file_size": len(upload.data)}
        if kind == "photo":
            content: dict[str, Any] = {"photo": [{**file, "width": 100, "height": 100}]}
        else:
            mime = upload.content_type if upload.content_type not in (None, "application/octet-stream") else None
            mime = mime or mimetypes.guess_type(upload.filename or "")[0]
            content = {"document": {**file, "file_name": upload.filename, "mime_type": mime}}
        if visible is not None:
            content["caption"] = visible
        sent = SentMessage(method, params.get("chat_id", ""), 0, caption=caption, parse_mode=params.get("parse_mode"),
                           visible_text=visible, filename=upload.filename, data=upload.data)
        return self._post(exchange, sent, content)

    def _send_document(self, exchange: Exchange) -> dict[str, Any]:
        return self._send_file(exchange, "sendDocument", "document")

    def _send_photo(self, exchange: Exchange) -> dict[str, Any]:
        return self._send_file(exchange, "sendPhoto", "photo")

    def _set_my_commands(self, exchange: Exchange) -> bool:
        params = exchange.params
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad_request("can't parse commands JSON object")
        for command in commands:
            if not _COMMAND_NAME.fullmatch(str(command.get("command"))):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        scope = params.get("scope") or {"type": "default"}
        key = scope["type"]
        with self._cond:
            if "chat_id" in scope:
                self._chat(int(scope["chat_id"]))  # "chat not found" for a chat that never wrote to the bot
                key = f"{key}:{scope['chat_id']}"
            self._commands[(key, params.get("language_code") or "")] = [(c["command"], c["description"])
                                                                       for c in commands]
        return True


# ------------------------------------------------------------------ over HTTP


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # else every small answer waits ~40 ms for the client's delayed ACK
    server: _Server

    def do_POST(self) -> None:
        self.server.api._serve(self)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 resets bursts of new connections (bench: 20 chats at once)
    block_on_close = True  # server_close() joins the connection threads

    def __init__(self, address: tuple[str, int], api: FakeBotAPI) -> None:
        self.api = api
        self.lock = threading.Lock()
        self.connections: set[socket.socket] = set()
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        with self.lock:
            self.connections.add(sock)
        return sock, address

    def shutdown_request(self, request: Any) -> None:
        with self.lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Idle keep-alive connections would keep their threads reading forever."""
        with self.lock:
            connections = list(self.connections)
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class FakeBotAPI(FakeTelegram):
    """The fake served over HTTP on 127.0.0.1; use as a context manager. ``base_url`` is what the product
    takes as ``SOZIALMONITOR_TELEGRAM_API_URL``; `port` 0 picks a free one."""

    def __init__(self, token: str = "123456:TEST-TOKEN", *, port: int = 0, **kwargs: Any) -> None:
        super().__init__(token, **kwargs)
        self.port = port
        self._active = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    def __enter__(self) -> FakeBotAPI:
        self._stopping = False
        self._server = _Server(("127.0.0.1", self.port), self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-bot-api", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        server, self._server = self._server, None
        assert server is not None and self._thread is not None
        with self._cond:
            self._stopping = True  # releases waiting long polls and late answers
            self._notify()
            self._cond.wait_for(lambda: self._active == 0, timeout=5)  # they finish writing first
        server.shutdown()
        self._thread.join()
        server.close_connections()
        server.server_close()
        if exc_info[0] is None and self._errors:
            raise RuntimeError("the fake Bot API failed:\n" + "\n".join(self._errors))

    def echo(self, count: int) -> list[float]:
        """Seconds per round trip of `count` tiny requests over one keep-alive connection (benchmark baseline)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        timings = []
        try:
            for _ in range(count):
                start = time.perf_counter()
                conn.request("GET", "/echo")
                conn.getresponse().read()
                timings.append(time.perf_counter() - start)
        finally:
            conn.close()
        return timings

    def _serve(self, handler: _Handler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        path = urllib.parse.urlsplit(handler.path).path
        if path == "/echo":
            self._write(handler, Answer(200, b'{"ok": true, "result": true}'))
            return
        exchange = self.begin(path, handler.headers.get("Content-Type", ""), body)
        with self._cond:
            self._active += 1
        try:
            self._answer(handler, exchange)
        finally:
            with self._cond:
                self._active -= 1
                self._cond.notify_all()

    def _answer(self, handler: _Handler, exchange: Exchange) -> None:
        with self._cond:
            while (answer := self.step(exchange)) is None:
                self._cond.wait(max(0.0, exchange.deadline - time.monotonic()))
            if answer.hold:
                self._cond.wait_for(lambda: self._stopping, timeout=answer.hold)
        if answer.drop:
            handler.close_connection = True
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self._write(handler, answer)

    def _write(self, handler: _Handler, answer: Answer) -> None:
        try:
            handler.send_response(answer.status)
            handler.send_header("Content-Type", answer.content_type)
            handler.send_header("Content-Length", str(len(answer.body)))
            if self._stopping:
                handler.send_header("Connection", "close")
                handler.close_connection = True
            handler.end_headers()
            handler.wfile.write(answer.body)
            handler.wfile.flush()
        except OSError:  # the client is gone
            handler.close_connection = True
