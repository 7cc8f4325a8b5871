"""A small, faithful fake of the Telegram Bot API for tests and benchmarks.

The server speaks plain HTTP on 127.0.0.1 (stdlib ``http.server`` in background threads) and
answers like ``api.telegram.org`` does, closely enough that the *real* python-telegram-bot
``Bot``/``Application`` (or the real ``sozialmonitor run`` process) can talk to it::

    with FakeBotAPI(token="123:ABC", bot_username="sozialmonitor_bot") as api:
        app = ApplicationBuilder().token(api.token).base_url(api.base_url) \\
            .base_file_url(api.base_file_url).build()
        ...
        api.send_user_message(chat_id=42, user_id=42, text="/status M21")
        reply = api.wait_for_sent(lambda m: m.chat_id == 42, timeout=10)

What it implements (everything else answers 404 "Not Found: method not found", like Telegram):

* ``getMe``, ``logOut``, ``close``, ``setWebhook``, ``deleteWebhook`` (incl.
  ``drop_pending_updates``), ``getWebhookInfo``
* ``getUpdates`` with ``offset`` confirmation, ``limit`` and long polling (``timeout``); a newer
  ``getUpdates`` terminates an older, still waiting one with 409 Conflict, like Telegram
  (``allowed_updates`` is recorded but not applied)
* ``sendMessage``, ``sendDocument``, ``sendPhoto`` (uploads via multipart/form-data, file ids,
  ``getFile`` and downloads below :attr:`FakeBotAPI.base_file_url`), ``editMessageText``,
  ``editMessageReplyMarkup``, ``deleteMessage``, ``sendChatAction``, ``answerCallbackQuery``
* ``setMyCommands``, ``getMyCommands``, ``deleteMyCommands`` (per scope and language code)

Requests may be JSON, application/x-www-form-urlencoded (what python-telegram-bot sends for
calls without files) or multipart/form-data (what it sends for uploads); the body is parsed
without the removed ``cgi`` module.

Faithfulness details that catch real bugs: ``parse_mode="HTML"`` is parsed like Telegram does
(unsupported tags, unescaped ``<`` and unbalanced tags give 400 "can't parse entities"), the
visible text and its entities (UTF-16 offsets) are returned; text longer than 4096 and captions
longer than 1024 characters are rejected; editing a message without changes gives "message is not
modified". ``Markdown``/``MarkdownV2`` are accepted but *not* parsed (text is returned verbatim).

Failure injection: :meth:`FakeBotAPI.fail_next` (HTTP error such as 429 with ``retry_after``,
500, an nginx-style HTML 502, or closing the connection), :meth:`FakeBotAPI.delay_next`
(the call is carried out but the answer is held back, e.g. beyond a client read timeout).

Timing: every request is recorded with ``time.perf_counter()`` stamps (:attr:`requests`),
injected updates record when they were queued, delivered and confirmed (:attr:`update_log`),
and :meth:`FakeBotAPI.roundtrip` / :meth:`FakeBotAPI.echo` help benchmarks.

The module uses the standard library only.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import http.client
import http.server
import itertools
import json
import logging
import mimetypes
import re
import socket
import struct
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable
from typing import Any

__all__ = [
    "Call",
    "FakeBotAPI",
    "HtmlParseError",
    "RequestRecord",
    "SentMessage",
    "UpdateRecord",
    "UploadedFile",
    "bot_command_entities",
    "parse_html",
    "parse_multipart",
]

_LOGGER = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024


# --------------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart/form-data request."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclasses.dataclass
class SentMessage:
    """Something the bot put into a chat (sendMessage/sendDocument/sendPhoto/editMessage*)."""

    method: str
    chat_id: int | str
    message_id: int
    text: str | None = None  # raw ``text`` parameter as the bot sent it (markup included)
    parse_mode: str | None = None
    caption: str | None = None  # raw ``caption`` parameter
    filename: str | None = None
    file_bytes: bytes | None = None
    mime_type: str | None = None
    reply_markup: dict[str, Any] | None = None
    visible_text: str | None = None  # text/caption as a user sees it (after parse_mode)
    entities: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    params: dict[str, Any] = dataclasses.field(default_factory=dict)
    message: dict[str, Any] = dataclasses.field(default_factory=dict)  # the Message JSON returned
    received_at: float = 0.0  # time.perf_counter() when the request arrived

    @property
    def data(self) -> bytes | None:
        """Alias of :attr:`file_bytes`."""
        return self.file_bytes


class Call(tuple):
    """``(method, params)`` of one request; also has ``.method`` and ``.params``."""

    __slots__ = ()

    def __new__(cls, method: str, params: dict[str, Any]) -> Call:
        return super().__new__(cls, (method, params))

    @property
    def method(self) -> str:
        return self[0]

    @property
    def params(self) -> dict[str, Any]:
        return self[1]


@dataclasses.dataclass
class RequestRecord:
    """One HTTP request to the Bot API endpoint, with timing (``time.perf_counter()``)."""

    method: str
    params: dict[str, Any]
    content_type: str
    received_at: float
    status: int | None = None
    responded_at: float | None = None
    injected: str | None = None  # "fail", "close" or "delay" when a failure rule applied

    @property
    def duration(self) -> float | None:
        return None if self.responded_at is None else self.responded_at - self.received_at


@dataclasses.dataclass
class UpdateRecord:
    """An update queued by the test and what happened to it (``time.perf_counter()`` stamps)."""

    update_id: int
    payload: dict[str, Any]
    queued_at: float
    delivered_at: float | None = None  # first time a getUpdates answer contained it
    confirmed_at: float | None = None  # when a later offset confirmed it


@dataclasses.dataclass
class _FailRule:
    method: str  # lower case, "*" for any
    count: int
    kind: str  # "fail", "close" or "delay"
    status: int = 500
    description: str | None = None
    retry_after: int | None = None
    migrate_to_chat_id: int | None = None
    body: bytes | None = None
    delay: float = 0.0


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


class HtmlParseError(ValueError):
    """Raised by :func:`parse_html` with Telegram's wording."""


def _bad_request(description: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}")


# --------------------------------------------------------------------------------------------
# Text helpers: UTF-16 offsets, bot commands, HTML parse mode
# --------------------------------------------------------------------------------------------


def _u16len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


_BOT_COMMAND_RE = re.compile(r"(?<![A-Za-z0-9_/<>])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_])")


def bot_command_entities(text: str) -> list[dict[str, Any]]:
    """``bot_command`` entities Telegram attaches to a user's text (UTF-16 offsets)."""
    return [
        {"type": "bot_command", "offset": _u16len(text[: m.start()]), "length": _u16len(m.group(0))}
        for m in _BOT_COMMAND_RE.finditer(text)
    ]


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_HTML_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _decode_html_entities(text: str) -> str:
    def repl(m: re.Match[str]) -> str:
        if m.group(3):
            return _NAMED_ENTITIES[m.group(3)]
        code = int(m.group(1)) if m.group(1) else int(m.group(2), 16)
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return m.group(0)
        return chr(code)

    return _HTML_ENTITY_RE.sub(repl, text)


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram's HTML parse mode like the Bot API does.

    Returns the visible text and the message entities (UTF-16 offsets, sorted like Telegram).
    Raises :class:`HtmlParseError` with Telegram's wording (without the "Bad Request: can't
    parse entities: " prefix) for text Telegram rejects. Only ``&lt; &gt; &amp; &quot;`` and
    numeric character references are decoded; any other ``&`` stays as it is, a bare ``>`` is
    fine, but every ``<`` starts a tag.
    """

    def byte_offset(index: int) -> int:
        return len(text[:index].encode("utf-8"))

    out: list[str] = []
    pos16 = 0
    stack: list[dict[str, Any]] = []
    entities: list[dict[str, Any]] = []
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char == "&":
            m = _HTML_ENTITY_RE.match(text, i)
            decoded = _decode_html_entities(m.group(0)) if m else "&"
            out.append(decoded)
            pos16 += _u16len(decoded)
            i = m.end() if m else i + 1
            continue
        if char != "<":
            out.append(char)
            pos16 += _u16len(char)
            i += 1
            continue
        start = i
        if i + 1 < n and text[i + 1] == "/":
            j = i + 2
            while j < n and not text[j].isspace() and text[j] != ">":
                j += 1
            name = text[i + 2 : j].lower()
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != ">":
                raise HtmlParseError(f"Unclosed end tag at byte offset {byte_offset(start)}")
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {byte_offset(start)}")
            opened = stack.pop()
            if name and name != opened["tag"]:
                raise HtmlParseError(
                    f"Unmatched end tag at byte offset {byte_offset(start)}, "
                    f'expected "</{opened["tag"]}>", found "</{name}>"'
                )
            _close_html_entity(opened, pos16, stack, entities)
            i = j + 1
            continue
        # start tag
        j = i + 1
        while j < n and not text[j].isspace() and text[j] not in ">/":
            j += 1
        name = text[i + 1 : j].lower()
        if j >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(start)}")
        if name not in _HTML_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {byte_offset(start)}')
        attrs: dict[str, str] = {}
        while True:
            while j < n and text[j].isspace():
                j += 1
            if j >= n:
                raise HtmlParseError(f'Unclosed start tag "{name}" at byte offset {byte_offset(start)}')
            if text[j] == ">":
                j += 1
                break
            k = j
            while k < n and not text[k].isspace() and text[k] not in "=>":
                k += 1
            attr = text[j:k].lower()
            if not attr:
                raise HtmlParseError(f'Empty attribute name in the tag "{name}" at byte offset {byte_offset(start)}')
            while k < n and text[k].isspace():
                k += 1
            if k >= n:
                raise HtmlParseError(f'Unclosed start tag "{name}" at byte offset {byte_offset(start)}')
            if text[k] != "=":
                attrs[attr] = ""
                j = k
                continue
            k += 1
            while k < n and text[k].isspace():
                k += 1
            if k >= n:
                raise HtmlParseError(f'Unclosed start tag "{name}" at byte offset {byte_offset(start)}')
            if text[k] in "'\"":
                close = text.find(text[k], k + 1)
                if close < 0:
                    raise HtmlParseError(f'Unclosed start tag "{name}" at byte offset {byte_offset(start)}')
                raw = text[k + 1 : close]
                j = close + 1
            else:
                e = k
                while e < n and not text[e].isspace() and text[e] != ">":
                    e += 1
                raw = text[k:e]
                j = e
            attrs[attr] = _decode_html_entities(raw)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(start)}')
        if name == "tg-emoji" and not attrs.get("emoji-id", "").isdigit():
            raise HtmlParseError(f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {byte_offset(start)}')
        stack.append({"tag": name, "offset": pos16, "attrs": attrs})
        i = j
    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1]["tag"]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close_html_entity(
    opened: dict[str, Any], pos16: int, stack: list[dict[str, Any]], entities: list[dict[str, Any]]
) -> None:
    tag, attrs, offset = opened["tag"], opened["attrs"], opened["offset"]
    length = pos16 - offset
    if tag == "code" and stack and stack[-1]["tag"] == "pre" and attrs.get("class", "").startswith("language-"):
        stack[-1]["language"] = attrs["class"][len("language-") :]
        return
    if length <= 0:
        return
    entity: dict[str, Any] = {"type": _HTML_TAGS[tag], "offset": offset, "length": length}
    if tag == "a":
        href = attrs.get("href", "")
        if not href:
            return
        user = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user:
            entity = {
                "type": "text_mention",
                "offset": offset,
                "length": length,
                "user": {"id": int(user.group(1)), "is_bot": False, "first_name": ""},
            }
        else:
            entity["url"] = href
    elif tag == "pre" and opened.get("language"):
        entity["language"] = opened["language"]
    elif tag == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attrs["emoji-id"]
    entities.append(entity)


# --------------------------------------------------------------------------------------------
# Request body parsing
# --------------------------------------------------------------------------------------------

_JSON_PARAMS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
        "reply_parameters",
        "link_preview_options",
        "media",
        "results",
    }
)
_INT_PARAMS = frozenset(
    {
        "offset",
        "limit",
        "timeout",
        "message_id",
        "message_thread_id",
        "reply_to_message_id",
        "user_id",
        "width",
        "height",
        "duration",
        "cache_time",
        "max_connections",
    }
)
_BOOL_PARAMS = frozenset(
    {
        "disable_notification",
        "protect_content",
        "drop_pending_updates",
        "disable_web_page_preview",
        "allow_sending_without_reply",
        "has_spoiler",
        "show_alert",
        "disable_content_type_detection",
        "show_caption_above_media",
        "allow_paid_broadcast",
        "revoke",
    }
)


def _coerce(name: str, value: Any) -> Any:
    """Turn a form field (always a string) into the JSON type Telegram would read from it."""
    if not isinstance(value, str):
        return value
    try:
        if name in _JSON_PARAMS:
            return json.loads(value)
        if name in _INT_PARAMS:
            return int(value)
        if name in _BOOL_PARAMS:
            return value.lower() in ("true", "1")
        if name == "chat_id" and re.fullmatch(r"-?\d+", value):
            return int(value)
    except ValueError as exc:
        raise _bad_request(f"can't parse {name}: {exc}") from exc
    return value


_FORM_ESCAPE_RE = re.compile(r"%(0[0-9A-Fa-f]|1[0-9A-Fa-f]|22)")
_DISPOSITION_PARAM_RE = re.compile(r';\s*([A-Za-z0-9_*.-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))')


def _parse_disposition(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for m in _DISPOSITION_PARAM_RE.finditer(value):
        key = m.group(1).lower()
        if m.group(2) is not None:
            val = re.sub(r"\\(.)", r"\1", m.group(2))
            # httpx/browsers escape '"' and control characters HTML5-style as %XX
            val = _FORM_ESCAPE_RE.sub(lambda e: chr(int(e.group(1), 16)), val)
        else:
            val = m.group(3).strip()
        if key.endswith("*"):
            charset, _, rest = val.partition("'")
            _, _, encoded = rest.partition("'")
            key, val = key[:-1], urllib.parse.unquote(encoded, encoding=charset or "utf-8")
        params[key] = val
    return params


def parse_multipart(body: bytes, boundary: bytes) -> dict[str, str | UploadedFile]:
    """Parse a multipart/form-data body into text fields and :class:`UploadedFile` parts."""
    fields: dict[str, str | UploadedFile] = {}
    # A delimiter is CRLF "--" boundary, followed by "--" (the last one) or transport padding and
    # CRLF; the first one may start the body without the CRLF (RFC 2046, section 5.1.1).
    delimiter = re.compile(rb"\r\n--" + re.escape(boundary) + rb"(--|[ \t]*\r\n)")
    matches = list(delimiter.finditer(b"\r\n" + body))
    data = b"\r\n" + body
    if not matches:
        raise ValueError("multipart body without boundary")
    if matches[-1].group(1) != b"--":
        raise ValueError("multipart body without closing delimiter")
    for current, following in itertools.pairwise(matches):
        if current.group(1) == b"--":
            break
        chunk = data[current.end() : following.start()]
        if chunk.startswith(b"\r\n"):
            head, content = b"", chunk[2:]
        else:
            head, sep, content = chunk.partition(b"\r\n\r\n")
            if not sep:
                raise ValueError("multipart part without header/body separator")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if ":" in line:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
        disposition = _parse_disposition(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if name is None:
            raise ValueError("multipart part without name")
        if "filename" in disposition or headers.get("content-type", "").split(";")[0] not in (
            "",
            "text/plain",
        ):
            fields[name] = UploadedFile(disposition.get("filename"), headers.get("content-type"), content)
        else:
            fields[name] = content.decode("utf-8", "replace")
    return fields


# --------------------------------------------------------------------------------------------
# Image helpers (sendPhoto answers with real dimensions when it can read them)
# --------------------------------------------------------------------------------------------

_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


def _looks_like_image(data: bytes) -> bool:
    return data.startswith(_IMAGE_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")


def _image_size(data: bytes) -> tuple[int, int]:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return width, height
    if data.startswith((b"GIF87a", b"GIF89a")) and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return width, height
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                break
            marker = data[i + 1]
            seg_len = struct.unpack(">H", data[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return width, height
            i += 2 + seg_len
    return 100, 100


# --------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeBotAPI/1.0"
    sys_version = ""
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self.server.api._handle(self)

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.api._log_requests:
            _LOGGER.info("%s - %s", self.address_string(), format % args)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 resets bursts of new connections (bench: 20 chats at once)

    def __init__(self, address: tuple[str, int], api: FakeBotAPI):
        self.api = api
        self._conn_lock = threading.Lock()
        self._conn_threads: list[threading.Thread] = []
        self._conn_socks: set[socket.socket] = set()
        self._conn_counter = itertools.count(1)
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self._serve_connection,
            args=(request, client_address),
            name=f"FakeBotAPI-conn-{next(self._conn_counter)}",
            daemon=True,
        )
        with self._conn_lock:
            self._conn_threads = [t for t in self._conn_threads if t.is_alive()]
            self._conn_threads.append(thread)
            self._conn_socks.add(request)
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            with self._conn_lock:
                self._conn_socks.discard(request)
            self.shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.api._record_internal_error(f"connection {client_address}:\n{traceback.format_exc()}")

    def close_connections(self, timeout: float) -> list[threading.Thread]:
        """Shut down every open keep-alive connection and join the handler threads."""
        with self._conn_lock:
            socks = list(self._conn_socks)
            threads = list(self._conn_threads)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return [t for t in threads if t.is_alive()]


_CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, socket.timeout)

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
    504: "Gateway Timeout",
}

_NGINX_PAGE = (
    "<html>\r\n<head><title>{code} {phrase}</title></head>\r\n<body>\r\n"
    "<center><h1>{code} {phrase}</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
    "</body>\r\n</html>\r\n"
)

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


# --------------------------------------------------------------------------------------------
# The fake
# --------------------------------------------------------------------------------------------


class FakeBotAPI:
    """Fake Telegram Bot API server on 127.0.0.1; use as a context manager (or start()/stop()).

    All public state accessors return snapshots (copies) and are thread-safe.
    """

    def __init__(
        self,
        token: str = "123456:TEST-TOKEN",
        *,
        bot_username: str = "sozialmonitor_bot",
        bot_first_name: str = "Sozialmonitor",
        host: str = "127.0.0.1",
        port: int = 0,
        log_requests: bool = False,
        strict_chats: bool = False,
        raise_internal_errors: bool = True,
    ) -> None:
        """
        Args:
            token: the only token accepted; anything else gets 401 Unauthorized.
            bot_username / bot_first_name: what getMe reports and what sent messages are "from".
            port: 0 picks a free port.
            log_requests: log each request via the ``logging`` module (off by default).
            strict_chats: if true, sending to a chat that never wrote to the bot (no injected
                update, no :meth:`add_chat`) fails with 400 "chat not found", like Telegram.
            raise_internal_errors: re-raise bugs of the fake itself when leaving the context.
        """
        bot_id, sep, _ = token.partition(":")
        self.token = token
        self.bot_id = int(bot_id) if sep and bot_id.isdigit() else 123456
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self._host = host
        self._port = port
        self._log_requests = log_requests
        self._strict_chats = strict_chats
        self._raise_internal_errors = raise_internal_errors

        self._cond = threading.Condition(threading.RLock())
        self._tls = threading.local()
        self._stopping = False
        self._active_requests = 0
        self._server: _Server | None = None
        self._serve_thread: threading.Thread | None = None

        self._requests: list[RequestRecord] = []
        self._sent: list[SentMessage] = []
        self._fail_rules: list[_FailRule] = []
        self._internal_errors: list[str] = []
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._webhook_url = ""
        self._pending: list[UpdateRecord] = []
        self._update_log: dict[int, UpdateRecord] = {}
        self._next_update_id = 100_001
        self._poll_generation = 0
        self._chats: dict[int | str, dict[str, Any]] = {}
        self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._message_counters: dict[int | str, int] = {}
        self._files: dict[str, tuple[UploadedFile, str]] = {}  # file_id -> (file, file_path)
        self._file_counter = itertools.count(1)
        self._callback_counter = itertools.count(1)
        self._callback_queries: dict[str, dict[str, Any]] = {}
        self._callback_answers: list[dict[str, Any]] = []

        self._methods: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {}
        for canonical, func in (
            ("getMe", self._m_get_me),
            ("logOut", self._m_true),
            ("close", self._m_true),
            ("getUpdates", self._m_get_updates),
            ("setWebhook", self._m_set_webhook),
            ("deleteWebhook", self._m_delete_webhook),
            ("getWebhookInfo", self._m_get_webhook_info),
            ("sendMessage", self._m_send_message),
            ("sendDocument", self._m_send_document),
            ("sendPhoto", self._m_send_photo),
            ("editMessageText", self._m_edit_message_text),
            ("editMessageReplyMarkup", self._m_edit_message_reply_markup),
            ("deleteMessage", self._m_delete_message),
            ("sendChatAction", self._m_send_chat_action),
            ("answerCallbackQuery", self._m_answer_callback_query),
            ("getFile", self._m_get_file),
            ("setMyCommands", self._m_set_my_commands),
            ("getMyCommands", self._m_get_my_commands),
            ("deleteMyCommands", self._m_delete_my_commands),
        ):
            self._methods[canonical.lower()] = (canonical, func)

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakeBotAPI:
        if self._server is not None:
            raise RuntimeError("FakeBotAPI already started")
        self._stopping = False
        self._server = _Server((self._host, self._port), self)
        self._port = self._server.server_address[1]
        self._serve_thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="FakeBotAPI-serve",
            daemon=True,
        )
        self._serve_thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, release waiting long polls/delays, close connections, join threads."""
        server, self._server = self._server, None
        if server is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        server.shutdown()
        if self._serve_thread is not None:
            self._serve_thread.join(timeout)
        with self._cond:
            # released long polls and delayed answers finish writing before connections close
            self._cond.wait_for(lambda: self._active_requests == 0, timeout=timeout)
        leaked = server.close_connections(timeout)
        server.server_close()
        if leaked:
            raise RuntimeError(f"FakeBotAPI: handler threads did not finish: {leaked}")

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        self.stop()
        if exc_type is None and self._raise_internal_errors and self._internal_errors:
            raise RuntimeError("FakeBotAPI internal errors:\n" + "\n".join(self._internal_errors))

    # ---------------------------------------------------------------- addresses

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        return f"http://{self._host}:{self._port}"

    @property
    def base_url(self) -> str:
        """Pass to ``ApplicationBuilder().base_url()`` / ``Bot(base_url=...)``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Pass to ``ApplicationBuilder().base_file_url()`` / ``Bot(base_file_url=...)``."""
        return f"{self.url}/file/bot"

    @property
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # ---------------------------------------------------------------- recorded state

    @property
    def sent(self) -> list[SentMessage]:
        """Everything the bot sent or edited, in order."""
        with self._cond:
            return list(self._sent)

    @property
    def calls(self) -> list[Call]:
        """``(method, params)`` for every Bot API request, including failed ones."""
        with self._cond:
            return [Call(r.method, r.params) for r in self._requests]

    @property
    def requests(self) -> list[RequestRecord]:
        """Every Bot API request with content type, HTTP status and timing."""
        with self._cond:
            return list(self._requests)

    @property
    def commands(self) -> dict[tuple[str, str], list[dict[str, str]]]:
        """What setMyCommands set: ``{(scope_key, language_code): [{"command", "description"}]}``.

        ``scope_key`` is the scope type (``"default"``, ``"all_private_chats"``,
        ``"all_group_chats"``, ``"all_chat_administrators"``), ``"chat:<chat_id>"``,
        ``"chat_administrators:<chat_id>"`` or ``"chat_member:<chat_id>:<user_id>"``;
        ``language_code`` is ``""`` when none was given.
        """
        with self._cond:
            return {k: [dict(c) for c in v] for k, v in self._commands.items()}

    def commands_for(self, scope: str = "default", language_code: str = "") -> list[tuple[str, str]]:
        """``[(command, description), ...]`` set for one scope key and language code."""
        with self._cond:
            return [(c["command"], c["description"]) for c in self._commands.get((scope, language_code), [])]

    @property
    def update_log(self) -> dict[int, UpdateRecord]:
        with self._cond:
            return dict(self._update_log)

    @property
    def pending_updates(self) -> int:
        """Updates not yet confirmed by the bot (via a later getUpdates offset)."""
        with self._cond:
            return len(self._pending)

    @property
    def callback_answers(self) -> list[dict[str, Any]]:
        with self._cond:
            return list(self._callback_answers)

    @property
    def internal_errors(self) -> list[str]:
        with self._cond:
            return list(self._internal_errors)

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        """Params of every call to ``method`` (case-insensitive)."""
        with self._cond:
            return [r.params for r in self._requests if r.method.lower() == method.lower()]

    def chat_messages(self, chat_id: int | str) -> list[dict[str, Any]]:
        """Current Message JSON of every message in a chat (user and bot), by message_id."""
        with self._cond:
            return [dict(m) for (c, _), m in sorted(self._messages.items(), key=lambda kv: kv[0][1]) if c == chat_id]

    # ---------------------------------------------------------------- waiting

    def _wait(self, find: Callable[[], Any], timeout: float, what: Callable[[], str]) -> Any:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = find()
                if found is not None:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(what())
                self._cond.wait(remaining)

    def wait_for_sent(
        self,
        predicate: Callable[[SentMessage], bool] | None = None,
        timeout: float = 10.0,
        *,
        since: int = 0,
    ) -> SentMessage:
        """First message in ``sent[since:]`` matching ``predicate``; waits for it if needed.

        Raises ``TimeoutError`` (listing what was sent) if none arrives within ``timeout``.
        Use ``since=len(api.sent)`` (or :meth:`mark`) to only look at new messages.
        """

        def find() -> SentMessage | None:
            return next((m for m in self._sent[since:] if predicate is None or predicate(m)), None)

        def what() -> str:
            got = [(m.method, m.chat_id, m.text if m.text is not None else m.caption) for m in self._sent[since:]]
            return f"no matching message sent within {timeout} s; sent since #{since}: {got!r}"

        return self._wait(find, timeout, what)

    async def wait_for_sent_async(
        self,
        predicate: Callable[[SentMessage], bool] | None = None,
        timeout: float = 10.0,
        *,
        since: int = 0,
    ) -> SentMessage:
        """:meth:`wait_for_sent` for use inside a running event loop (waits in a worker thread)."""
        return await asyncio.to_thread(self.wait_for_sent, predicate, timeout, since=since)

    def mark(self) -> int:
        """Current number of sent messages, for ``wait_for_sent(..., since=api.mark())``."""
        with self._cond:
            return len(self._sent)

    def wait_for_call(
        self,
        method: str,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 10.0,
        *,
        since: int = 0,
    ) -> Call:
        """First request in ``calls[since:]`` to ``method`` (case-insensitive) matching ``predicate``."""

        def find() -> Call | None:
            for r in self._requests[since:]:
                if r.method.lower() == method.lower() and (predicate is None or predicate(r.params)):
                    return Call(r.method, r.params)
            return None

        def what() -> str:
            return f"no {method} call within {timeout} s; calls: {[r.method for r in self._requests[since:]]}"

        return self._wait(find, timeout, what)

    async def wait_for_call_async(
        self,
        method: str,
        predicate: Callable[[dict[str, Any]], bool] | None = None,
        timeout: float = 10.0,
        *,
        since: int = 0,
    ) -> Call:
        return await asyncio.to_thread(self.wait_for_call, method, predicate, timeout, since=since)

    def wait_until_confirmed(self, update_id: int, timeout: float = 10.0) -> UpdateRecord:
        """Wait until the bot confirmed ``update_id`` (asked getUpdates for a later offset)."""

        def find() -> UpdateRecord | None:
            rec = self._update_log.get(update_id)
            return rec if rec is not None and rec.confirmed_at is not None else None

        return self._wait(find, timeout, lambda: f"update {update_id} not confirmed within {timeout} s")

    # ---------------------------------------------------------------- failure injection

    def fail_next(
        self,
        method: str,
        status: int = 500,
        *,
        count: int = 1,
        retry_after: int | None = None,
        description: str | None = None,
        migrate_to_chat_id: int | None = None,
        body: bytes | None = None,
        close_connection: bool = False,
        delay: float = 0.0,
    ) -> None:
        """Let the next ``count`` calls of ``method`` ("*" = any) fail without being carried out.

        * ``status`` with a Telegram-style JSON error (``{"ok": false, "error_code": ...,
          "description": ...}``). 429 always carries ``parameters.retry_after`` (default 1) and
          "Too Many Requests: retry after N"; ``migrate_to_chat_id`` adds that parameter.
          502 and 504 answer with nginx's HTML page like Telegram's front end does.
        * ``body`` replaces the response body verbatim.
        * ``close_connection=True`` closes the connection without any answer (a network error).
        * ``delay`` seconds pass before the failure is answered (released early by stop()).
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        rule = _FailRule(
            method=method.lower(),
            count=count,
            kind="close" if close_connection else "fail",
            status=status,
            description=description,
            retry_after=retry_after,
            migrate_to_chat_id=migrate_to_chat_id,
            body=body,
            delay=delay,
        )
        with self._cond:
            self._fail_rules.append(rule)

    def delay_next(self, method: str, seconds: float, *, count: int = 1) -> None:
        """Carry out the next ``count`` calls of ``method`` ("*" = any) normally, but hold the
        answer back for ``seconds`` (use it to exceed a client's read timeout: the message is
        then recorded as sent although the client saw a timeout, like with real Telegram)."""
        with self._cond:
            self._fail_rules.append(_FailRule(method=method.lower(), count=count, kind="delay", delay=seconds))

    def clear_failures(self) -> None:
        with self._cond:
            self._fail_rules.clear()

    def _take_rule(self, method: str) -> _FailRule | None:
        with self._cond:
            for rule in self._fail_rules:
                if rule.method in ("*", method.lower()):
                    rule.count -= 1
                    if rule.count <= 0:
                        self._fail_rules.remove(rule)
                    return rule
        return None

    def _sleep(self, seconds: float) -> None:
        """Interruptible sleep (returns early when the server stops)."""
        if seconds <= 0:
            return
        with self._cond:
            self._cond.wait_for(lambda: self._stopping, timeout=seconds)

    # ---------------------------------------------------------------- injecting updates

    def add_chat(
        self,
        chat_id: int,
        chat_type: str | None = None,
        *,
        title: str | None = None,
        first_name: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """Make a chat known (its Chat JSON is used in messages; needed with ``strict_chats``)."""
        chat_type = chat_type or self._default_chat_type(chat_id)
        if chat_type == "private" and chat_id <= 0:
            raise ValueError("private chats have the (positive) user id as chat id")
        if chat_type in ("group", "supergroup", "channel") and chat_id >= 0:
            raise ValueError(f"{chat_type} chats have negative ids")
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat["first_name"] = first_name or "Test"
        else:
            chat["title"] = title or f"Test {chat_type} {chat_id}"
        if username:
            chat["username"] = username
        with self._cond:
            self._chats[chat_id] = chat
        return dict(chat)

    def send_user_message(
        self,
        chat_id: int,
        user_id: int | None = None,
        text: str = "",
        *,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        chat_type: str | None = None,
        chat_title: str | None = None,
        language_code: str | None = None,
        entities: list[dict[str, Any]] | None = None,
        reply_to_message_id: int | None = None,
        document: tuple[bytes, str] | tuple[bytes, str, str] | None = None,
        caption: str | None = None,
    ) -> int:
        """Queue a user's message as an Update for getUpdates; returns its update_id.

        ``chat_type`` defaults to "private" for positive ids, "supergroup" for ids starting
        with -100 and "group" otherwise; in private chats ``user_id`` defaults to ``chat_id``.
        Text starting with "/" (and any other bot command) gets ``bot_command`` entities unless
        ``entities`` is given. ``document=(data, filename[, mime_type])`` sends a file instead
        (with optional ``caption``); the bot can fetch it with getFile.
        """
        chat_type = chat_type or self._default_chat_type(chat_id)
        if user_id is None:
            if chat_type != "private":
                raise ValueError("user_id is required for group chats")
            user_id = chat_id
        if chat_type == "private" and user_id != chat_id:
            raise ValueError("in a private chat, chat_id equals the user's id")
        with self._cond:
            known = self._chats.get(chat_id)
        if known is None or known["type"] != chat_type or (chat_title and known.get("title") != chat_title):
            self.add_chat(chat_id, chat_type, title=chat_title, first_name=first_name, username=username)
        sender: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            sender["last_name"] = last_name
        if username:
            sender["username"] = username
        if language_code:
            sender["language_code"] = language_code
        with self._cond:
            message = self._new_message(chat_id, sender)
            if reply_to_message_id is not None:
                replied = self._messages.get((chat_id, reply_to_message_id))
                if replied is None:
                    raise ValueError(f"no message {reply_to_message_id} in chat {chat_id}")
                message["reply_to_message"] = {k: v for k, v in replied.items() if k != "reply_to_message"}
            if document is not None:
                data, filename, *mime = document
                file = UploadedFile(filename, mime[0] if mime else None, data)
                message["document"] = self._document_json(file, self._store_file(file, "documents"))
                if caption:
                    message["caption"] = caption
                    cmd = entities if entities is not None else bot_command_entities(caption)
                    if cmd:
                        message["caption_entities"] = cmd
            else:
                if not text:
                    raise ValueError("text must not be empty")
                message["text"] = text
                found = entities if entities is not None else bot_command_entities(text)
                if found:
                    message["entities"] = found
            self._messages[(chat_id, message["message_id"])] = message
            return self._queue_update({"message": message})

    def send_callback_query(
        self,
        chat_id: int,
        user_id: int | None = None,
        data: str = "",
        *,
        message_id: int | None = None,
        first_name: str = "Test",
        username: str | None = None,
        language_code: str | None = None,
    ) -> int:
        """Queue a callback query (button press) on a bot message; returns the update_id.

        ``message_id`` defaults to the bot's latest message in the chat.
        """
        with self._cond:
            if message_id is None:
                own = [
                    mid
                    for (c, mid), m in self._messages.items()
                    if c == chat_id and m.get("from", {}).get("id") == self.bot_id
                ]
                if not own:
                    raise ValueError(f"the bot has no message in chat {chat_id}")
                message_id = max(own)
            message = self._messages.get((chat_id, message_id))
            if message is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            if user_id is None:
                user_id = chat_id
            sender: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
            if username:
                sender["username"] = username
            if language_code:
                sender["language_code"] = language_code
            query_id = str(4_000_000_000_000 + next(self._callback_counter))
            query = {
                "id": query_id,
                "from": sender,
                "message": dict(message),
                "chat_instance": str(-abs(chat_id) * 7919),
                "data": data,
            }
            self._callback_queries[query_id] = query
            return self._queue_update({"callback_query": query})

    def inject_update(self, update: dict[str, Any]) -> int:
        """Queue a raw Update payload (``update_id`` is added); returns the update_id."""
        with self._cond:
            return self._queue_update(dict(update))

    def _queue_update(self, content: dict[str, Any]) -> int:
        with self._cond:
            update_id = self._next_update_id
            self._next_update_id += 1
            record = UpdateRecord(update_id, {"update_id": update_id, **content}, time.perf_counter())
            self._pending.append(record)
            self._update_log[update_id] = record
            self._cond.notify_all()
            return update_id

    # ---------------------------------------------------------------- benchmark helpers

    def roundtrip(self, chat_id: int, text: str, *, timeout: float = 10.0, **kwargs: Any) -> tuple[SentMessage, float]:
        """Inject a user message and wait for the bot's first message to that chat.

        Returns the message and the seconds from queuing the update to the arrival of the bot's
        request (both measured inside this server). ``kwargs`` go to :meth:`send_user_message`.
        """
        since = self.mark()
        update_id = self.send_user_message(chat_id, text=text, **kwargs)
        queued = self.update_log[update_id].queued_at
        message = self.wait_for_sent(lambda m: m.chat_id == chat_id, timeout, since=since)
        return message, message.received_at - queued

    def echo(self, count: int = 1, payload: bytes = b"") -> list[float]:
        """Round-trip ``count`` requests to ``/echo`` over one keep-alive connection.

        Measures the fake server's own HTTP latency (seconds per request). With a payload the
        server echoes it (POST), otherwise answers a tiny JSON (GET).
        """
        conn = http.client.HTTPConnection(self._host, self._port, timeout=10)
        timings: list[float] = []
        try:
            for _ in range(count):
                start = time.perf_counter()
                if payload:
                    conn.request("POST", "/echo", body=payload)
                else:
                    conn.request("GET", "/echo")
                response = conn.getresponse()
                body = response.read()
                timings.append(time.perf_counter() - start)
                if response.status != 200 or (payload and body != payload):
                    raise RuntimeError(f"echo failed: {response.status} {body[:100]!r}")
        finally:
            conn.close()
        return timings

    # ---------------------------------------------------------------- HTTP handling

    def _record_internal_error(self, text: str) -> None:
        last_line = text.strip().splitlines()[-1] if text.strip() else ""
        if any(exc.__name__ in last_line for exc in _CLIENT_GONE):
            return
        with self._cond:
            self._internal_errors.append(text)

    def _handle(self, handler: _Handler) -> None:
        with self._cond:
            self._active_requests += 1
        try:
            self._handle_request(handler)
        finally:
            with self._cond:
                self._active_requests -= 1
                self._cond.notify_all()

    def _handle_request(self, handler: _Handler) -> None:
        received = time.perf_counter()
        self._tls.received_at = received
        try:
            body = self._read_body(handler)
        except (ValueError, OSError):
            handler.close_connection = True
            return
        path = urllib.parse.urlsplit(handler.path).path
        if path == "/echo":
            if handler.command == "POST":
                self._write(handler, 200, body, "application/octet-stream")
            else:
                self._write_json(handler, 200, {"ok": True, "result": True})
            return
        if m := re.fullmatch(r"/file/bot([^/]*)/(.+)", path):
            self._serve_file(handler, urllib.parse.unquote(m.group(1)), urllib.parse.unquote(m.group(2)))
            return
        m = re.fullmatch(r"/bot([^/]*)/([^/]*)", path)
        if m is None:
            self._write_json(handler, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        token, method = urllib.parse.unquote(m.group(1)), urllib.parse.unquote(m.group(2))
        entry = self._methods.get(method.lower())
        canonical = entry[0] if entry else method
        content_type = handler.headers.get("Content-Type", "")
        record = RequestRecord(canonical, {}, content_type.split(";")[0].strip(), received)
        try:
            record.params = self._parse_params(handler, body, content_type)
        except _ApiError as exc:
            self._finish(handler, record, exc)
            return
        except ValueError as exc:
            self._finish(handler, record, _bad_request(f"can't parse request: {exc}"))
            return
        finally:
            with self._cond:
                self._requests.append(record)
                self._cond.notify_all()
        if token != self.token:
            self._finish(handler, record, _ApiError(401, "Unauthorized"))
            return
        rule = self._take_rule(canonical)
        if rule is not None and rule.kind in ("fail", "close"):
            record.injected = rule.kind
            self._sleep(rule.delay)
            if rule.kind == "close":
                handler.close_connection = True
                with contextlib.suppress(OSError):
                    handler.connection.shutdown(socket.SHUT_RDWR)
                with self._cond:
                    record.responded_at = time.perf_counter()
                return
            self._write_failure(handler, record, rule)
            return
        if entry is None:
            self._finish(handler, record, _ApiError(404, "Not Found: method not found"))
            return
        try:
            result = entry[1](record.params)
        except _ApiError as exc:
            result = exc
        except Exception:
            self._record_internal_error(f"{canonical}({record.params!r}):\n{traceback.format_exc()}")
            result = _ApiError(500, "Internal Server Error: bug in FakeBotAPI")
        if rule is not None and rule.kind == "delay":
            record.injected = "delay"
            self._sleep(rule.delay)
        self._finish(handler, record, result)

    def _read_body(self, handler: _Handler) -> bytes:
        if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(handler.rfile.read(size))
                handler.rfile.readline()
        length = int(handler.headers.get("Content-Length") or 0)
        return handler.rfile.read(length) if length else b""

    def _parse_params(self, handler: _Handler, body: bytes, content_type: str) -> dict[str, Any]:
        raw: dict[str, Any] = {}
        query = urllib.parse.urlsplit(handler.path).query
        if query:
            raw.update(urllib.parse.parse_qsl(query, keep_blank_values=True))
        mime = content_type.split(";")[0].strip().lower()
        if mime == "application/json":
            if body.strip():
                data = json.loads(body)
                if not isinstance(data, dict):
                    raise ValueError("JSON body must be an object")
                raw.update(data)
        elif mime == "application/x-www-form-urlencoded":
            raw.update(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        elif mime == "multipart/form-data":
            boundary = _parse_disposition(content_type).get("boundary")
            if not boundary:
                raise ValueError("multipart/form-data without boundary")
            raw.update(parse_multipart(body, boundary.encode("latin-1")))
        elif body.strip():
            raise ValueError(f"unsupported Content-Type {content_type!r}")
        params = {name: _coerce(name, value) for name, value in raw.items()}
        for name, value in list(params.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                attached = params.get(value[len("attach://") :])
                if isinstance(attached, UploadedFile):
                    params[name] = attached
        return params

    def _finish(self, handler: _Handler, record: RequestRecord, result: Any) -> None:
        if isinstance(result, _ApiError):
            payload: dict[str, Any] = {"ok": False, "error_code": result.status, "description": result.description}
            if result.parameters:
                payload["parameters"] = result.parameters
            status = result.status
        else:
            payload = {"ok": True, "result": result}
            status = 200
        record.status = status
        self._write_json(handler, status, payload)
        with self._cond:
            record.responded_at = time.perf_counter()

    def _write_failure(self, handler: _Handler, record: RequestRecord, rule: _FailRule) -> None:
        status = rule.status
        record.status = status
        if rule.body is not None:
            self._write(handler, status, rule.body, "application/json")
        elif status in (502, 504):
            phrase = http.HTTPStatus(status).phrase
            self._write(handler, status, _NGINX_PAGE.format(code=status, phrase=phrase).encode(), "text/html")
        else:
            parameters: dict[str, Any] = {}
            description = rule.description or _DEFAULT_DESCRIPTIONS.get(status) or http.HTTPStatus(status).phrase
            if rule.retry_after is not None:
                parameters["retry_after"] = rule.retry_after
                if rule.description is None:
                    description = f"Too Many Requests: retry after {rule.retry_after}"
            if rule.migrate_to_chat_id is not None:
                parameters["migrate_to_chat_id"] = rule.migrate_to_chat_id
                if rule.description is None:
                    description = "Bad Request: group chat was upgraded to a supergroup chat"
            payload: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
            if parameters:
                payload["parameters"] = parameters
            self._write_json(handler, status, payload)
        with self._cond:
            record.responded_at = time.perf_counter()

    def _write_json(self, handler: _Handler, status: int, payload: Any) -> None:
        self._write(handler, status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), "application/json")

    def _write(self, handler: _Handler, status: int, body: bytes, content_type: str) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            if self._stopping:
                handler.send_header("Connection", "close")
                handler.close_connection = True
            handler.end_headers()
            handler.wfile.write(body)
            handler.wfile.flush()
        except (*_CLIENT_GONE, OSError):
            handler.close_connection = True

    def _serve_file(self, handler: _Handler, token: str, file_path: str) -> None:
        if token != self.token:
            self._write_json(handler, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        with self._cond:
            found = next((f for f, p in self._files.values() if p == file_path), None)
        if found is None:
            self._write_json(handler, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        self._write(handler, 200, found.data, found.content_type or "application/octet-stream")

    # ---------------------------------------------------------------- model helpers

    @staticmethod
    def _default_chat_type(chat_id: int | str) -> str:
        if isinstance(chat_id, str):
            return "channel"
        if chat_id > 0:
            return "private"
        return "supergroup" if str(chat_id).startswith("-100") else "group"

    def _chat_json(self, chat_id: int | str) -> dict[str, Any]:
        chat = self._chats.get(chat_id)
        if chat is not None:
            return dict(chat)
        if self._strict_chats:
            raise _bad_request("chat not found")
        if isinstance(chat_id, str):
            if not re.fullmatch(r"@[A-Za-z][A-Za-z0-9_]{3,31}", chat_id):
                raise _bad_request("chat not found")
            return {"id": -1_000_000_000_000 - (abs(hash(chat_id)) % 10**9), "type": "channel", "title": chat_id}
        if chat_id == 0:
            raise _bad_request("chat not found")
        chat_type = self._default_chat_type(chat_id)
        if chat_type == "private":
            return {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"}
        return {"id": chat_id, "type": chat_type, "title": f"Chat {chat_id}"}

    def _new_message(self, chat_id: int | str, sender: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat_json(chat_id)
        message_id = self._message_counters.get(chat_id, 0) + 1
        self._message_counters[chat_id] = message_id
        return {"message_id": message_id, "from": sender, "chat": chat, "date": int(time.time())}

    def _store_file(self, file: UploadedFile, folder: str) -> str:
        number = next(self._file_counter)
        file_id = f"BQACAgIAAxkBAAI{number:06d}FakeFileId"
        ext = ""
        if file.filename and "." in file.filename:
            ext = "." + file.filename.rsplit(".", 1)[1]
        elif folder == "photos":
            ext = ".jpg"
        with self._cond:
            self._files[file_id] = (file, f"{folder}/file_{number}{ext}")
        return file_id

    def _document_json(self, file: UploadedFile, file_id: str) -> dict[str, Any]:
        doc: dict[str, Any] = {"file_id": file_id, "file_unique_id": "U" + file_id[-16:]}
        if file.filename:
            doc["file_name"] = file.filename
        mime = self._mime_type(file)
        if mime:
            doc["mime_type"] = mime
        doc["file_size"] = len(file.data)
        return doc

    @staticmethod
    def _mime_type(file: UploadedFile) -> str | None:
        content_type = (file.content_type or "").split(";")[0].strip()
        if content_type and content_type != "application/octet-stream":
            return content_type
        guessed = mimetypes.guess_type(file.filename or "")[0]
        return guessed or content_type or None

    def _require_chat_id(self, params: dict[str, Any]) -> int | str:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise _bad_request("chat_id is empty")
        if isinstance(chat_id, bool) or not isinstance(chat_id, int | str):
            raise _bad_request("chat not found")
        return chat_id

    def _format(
        self, text: str, parse_mode: Any, explicit: Any, what: str = "text"
    ) -> tuple[str, list[dict[str, Any]]]:
        mode = (parse_mode or "").lower() if isinstance(parse_mode, str) else ""
        if mode not in ("", "html", "markdown", "markdownv2"):
            raise _bad_request(f"unsupported parse_mode {parse_mode}")
        if explicit:
            if not isinstance(explicit, list):
                raise _bad_request(f"can't parse {what} entities JSON object")
            return text, list(explicit)
        if mode == "html":
            try:
                return parse_html(text)
            except HtmlParseError as exc:
                raise _bad_request(f"can't parse entities: {exc}") from exc
        return text, []

    def _reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise _bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise _bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
            for row in rows:
                for button in row:
                    if not isinstance(button, dict) or not button.get("text"):
                        raise _bad_request(
                            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                        )
                    data = button.get("callback_data")
                    if data is not None and not 1 <= len(str(data).encode()) <= 64:
                        raise _bad_request("BUTTON_DATA_INVALID")
        return markup

    def _reply_to(self, chat_id: int | str, params: dict[str, Any]) -> dict[str, Any] | None:
        reply = params.get("reply_parameters")
        message_id = params.get("reply_to_message_id")
        allow_missing = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
        if message_id is None:
            return None
        replied = self._messages.get((chat_id, message_id))
        if replied is None:
            if allow_missing:
                return None
            raise _bad_request("message to be replied not found")
        return {k: v for k, v in replied.items() if k != "reply_to_message"}

    def _bot_message(self, chat_id: int | str, params: dict[str, Any]) -> dict[str, Any]:
        message = self._new_message(chat_id, self.bot_user)
        if params.get("message_thread_id") is not None:
            message["message_thread_id"] = params["message_thread_id"]
        replied = self._reply_to(chat_id, params)
        if replied is not None:
            message["reply_to_message"] = replied
        return message

    def _record_sent(self, sent: SentMessage) -> None:
        with self._cond:
            self._sent.append(sent)
            self._cond.notify_all()

    def _caption(self, params: dict[str, Any]) -> tuple[str | None, list[dict[str, Any]]]:
        caption = params.get("caption")
        if caption is None or caption == "":
            return None, []
        visible, entities = self._format(
            str(caption), params.get("parse_mode"), params.get("caption_entities"), "caption"
        )
        if len(visible) > MAX_CAPTION_LENGTH:
            raise _bad_request("message caption is too long")
        return visible, entities

    # ---------------------------------------------------------------- Bot API methods

    def _m_true(self, params: dict[str, Any]) -> bool:
        return True

    def _m_get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url")
        if not isinstance(url, str):
            raise _bad_request("bad webhook: URL must be a string")
        with self._cond:
            self._webhook_url = url
            if params.get("drop_pending_updates"):
                self._drop_pending()
            self._cond.notify_all()
        return True

    def _m_delete_webhook(self, params: dict[str, Any]) -> bool:
        with self._cond:
            self._webhook_url = ""
            if params.get("drop_pending_updates"):
                self._drop_pending()
        return True

    def _drop_pending(self) -> None:
        now = time.perf_counter()
        for record in self._pending:
            record.confirmed_at = now
        self._pending.clear()
        self._cond.notify_all()

    def _m_get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        with self._cond:
            return {
                "url": self._webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._pending),
            }

    def _m_get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = params.get("offset")
        limit = params.get("limit") or 100
        timeout = params.get("timeout") or 0
        if not isinstance(offset, int | None) or not isinstance(limit, int) or not isinstance(timeout, int | float):
            raise _bad_request("wrong parameter type")
        limit = max(1, min(100, limit))
        deadline = time.monotonic() + max(0, timeout)
        with self._cond:
            if self._webhook_url:
                raise _ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()  # terminate an older long poll (409 Conflict)
            if offset:
                now = time.perf_counter()
                keep: list[UpdateRecord] = []
                if offset > 0:
                    for record in self._pending:
                        if record.update_id < offset:
                            record.confirmed_at = now
                        else:
                            keep.append(record)
                else:
                    keep = self._pending[offset:]
                    for record in self._pending[: len(self._pending) - len(keep)]:
                        record.confirmed_at = now
                self._pending = keep
                self._cond.notify_all()
            while True:
                if self._stopping:
                    return []
                if generation != self._poll_generation:
                    raise _ApiError(409, _DEFAULT_DESCRIPTIONS[409])
                if self._pending:
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._cond.wait(remaining)
            batch = self._pending[:limit]
            now = time.perf_counter()
            for record in batch:
                if record.delivered_at is None:
                    record.delivered_at = now
            return [json.loads(json.dumps(r.payload)) for r in batch]

    def _m_send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._require_chat_id(params)
        text = params.get("text")
        if text is None or text == "":
            raise _bad_request("message text is empty")
        text = str(text)
        visible, entities = self._format(text, params.get("parse_mode"), params.get("entities"))
        if not visible.strip():
            raise _bad_request("message text is empty")
        if len(visible) > MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")
        markup = self._reply_markup(params)
        with self._cond:
            message = self._bot_message(chat_id, params)
            message["text"] = visible
            if entities:
                message["entities"] = entities
            if markup and "inline_keyboard" in markup:
                message["reply_markup"] = markup
            self._messages[(chat_id, message["message_id"])] = message
            self._record_sent(
                SentMessage(
                    method="sendMessage",
                    chat_id=chat_id,
                    message_id=message["message_id"],
                    text=text,
                    parse_mode=params.get("parse_mode"),
                    reply_markup=markup,
                    visible_text=visible,
                    entities=entities,
                    params=params,
                    message=message,
                    received_at=self._received_at(),
                )
            )
            return message

    def _received_at(self) -> float:
        """Arrival time of the request this handler thread is serving."""
        return getattr(self._tls, "received_at", None) or time.perf_counter()

    def _file_param(self, params: dict[str, Any], name: str) -> UploadedFile:
        value = params.get(name)
        if isinstance(value, UploadedFile):
            return value
        if isinstance(value, str) and value:
            with self._cond:
                stored = self._files.get(value)
            if stored is not None:
                return stored[0]
            if value.startswith(("http://", "https://")):
                filename = urllib.parse.urlsplit(value).path.rsplit("/", 1)[-1] or None
                return UploadedFile(filename, None, b"")
            raise _bad_request("wrong file identifier/HTTP URL specified")
        raise _bad_request(f"there is no {name} in the request")

    def _send_file(self, params: dict[str, Any], method: str, kind: str) -> dict[str, Any]:
        chat_id = self._require_chat_id(params)
        file = self._file_param(params, kind)
        if isinstance(params.get(kind), UploadedFile) and not file.data:
            raise _bad_request("file must be non-empty")
        if kind == "photo" and file.data and not _looks_like_image(file.data):
            raise _bad_request("IMAGE_PROCESS_FAILED")
        caption, caption_entities = self._caption(params)
        markup = self._reply_markup(params)
        with self._cond:
            message = self._bot_message(chat_id, params)
            reused = params.get(kind)
            if isinstance(reused, str) and reused in self._files:
                file_id = reused  # resending by file_id keeps the file
            else:
                file_id = self._store_file(file, "documents" if kind == "document" else "photos")
            if kind == "document":
                message["document"] = self._document_json(file, file_id)
            else:
                width, height = _image_size(file.data)
                unique = "U" + file_id[-16:]
                message["photo"] = [
                    {
                        "file_id": file_id,
                        "file_unique_id": unique,
                        "file_size": len(file.data),
                        "width": width,
                        "height": height,
                    }
                ]
            if caption is not None:
                message["caption"] = caption
                if caption_entities:
                    message["caption_entities"] = caption_entities
            if markup and "inline_keyboard" in markup:
                message["reply_markup"] = markup
            self._messages[(chat_id, message["message_id"])] = message
            self._record_sent(
                SentMessage(
                    method=method,
                    chat_id=chat_id,
                    message_id=message["message_id"],
                    parse_mode=params.get("parse_mode"),
                    caption=params.get("caption"),
                    filename=file.filename,
                    file_bytes=file.data,
                    mime_type=self._mime_type(file),
                    reply_markup=markup,
                    visible_text=caption,
                    entities=caption_entities,
                    params=params,
                    message=message,
                    received_at=self._received_at(),
                )
            )
            return message

    def _m_send_document(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_file(params, "sendDocument", "document")

    def _m_send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_file(params, "sendPhoto", "photo")

    def _editable(self, params: dict[str, Any]) -> tuple[int | str, dict[str, Any]]:
        if params.get("inline_message_id"):
            raise _bad_request("inline messages are not supported by FakeBotAPI")
        chat_id = self._require_chat_id(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise _bad_request("message identifier is not specified")
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise _bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise _bad_request("message can't be edited")
        return chat_id, message

    def _m_edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        text = params.get("text")
        if text is None or text == "":
            raise _bad_request("message text is empty")
        text = str(text)
        visible, entities = self._format(text, params.get("parse_mode"), params.get("entities"))
        if not visible.strip():
            raise _bad_request("message text is empty")
        if len(visible) > MAX_TEXT_LENGTH:
            raise _bad_request("message is too long")
        markup = self._reply_markup(params)
        with self._cond:
            chat_id, old = self._editable(params)
            if "text" not in old:
                raise _bad_request("there is no text in the message to edit")
            new = {k: v for k, v in old.items() if k not in ("entities", "reply_markup", "edit_date")}
            new["text"] = visible
            if entities:
                new["entities"] = entities
            if markup and "inline_keyboard" in markup:
                new["reply_markup"] = markup
            self._check_modified(old, new)
            new["edit_date"] = int(time.time())
            self._messages[(chat_id, new["message_id"])] = new
            self._record_sent(
                SentMessage(
                    method="editMessageText",
                    chat_id=chat_id,
                    message_id=new["message_id"],
                    text=text,
                    parse_mode=params.get("parse_mode"),
                    reply_markup=markup,
                    visible_text=visible,
                    entities=entities,
                    params=params,
                    message=new,
                    received_at=self._received_at(),
                )
            )
            return new

    def _m_edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        markup = self._reply_markup(params)
        with self._cond:
            chat_id, old = self._editable(params)
            new = {k: v for k, v in old.items() if k not in ("reply_markup", "edit_date")}
            if markup and markup.get("inline_keyboard"):
                new["reply_markup"] = markup
            self._check_modified(old, new)
            new["edit_date"] = int(time.time())
            self._messages[(chat_id, new["message_id"])] = new
            self._record_sent(
                SentMessage(
                    method="editMessageReplyMarkup",
                    chat_id=chat_id,
                    message_id=new["message_id"],
                    reply_markup=markup,
                    params=params,
                    message=new,
                    received_at=self._received_at(),
                )
            )
            return new

    @staticmethod
    def _check_modified(old: dict[str, Any], new: dict[str, Any]) -> None:
        def key(m: dict[str, Any]) -> tuple[Any, ...]:
            return (
                m.get("text"),
                m.get("entities") or [],
                m.get("caption"),
                m.get("caption_entities") or [],
                (m.get("reply_markup") or {}).get("inline_keyboard") or [],
            )

        if key(old) == key(new):
            raise _bad_request(
                "message is not modified: specified new message content and reply markup are exactly "
                "the same as a current content and reply markup of the message"
            )

    def _m_delete_message(self, params: dict[str, Any]) -> bool:
        chat_id = self._require_chat_id(params)
        with self._cond:
            if self._messages.pop((chat_id, params.get("message_id")), None) is None:
                raise _bad_request("message to delete not found")
        return True

    def _m_send_chat_action(self, params: dict[str, Any]) -> bool:
        chat_id = self._require_chat_id(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        with self._cond:
            self._chat_json(chat_id)
        return True

    def _m_answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = params.get("callback_query_id")
        with self._cond:
            if query_id not in self._callback_queries:
                raise _bad_request("query is too old and response timeout expired or query ID is invalid")
            del self._callback_queries[query_id]
            self._callback_answers.append(dict(params))
            self._cond.notify_all()
        return True

    def _m_get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = params.get("file_id")
        with self._cond:
            stored = self._files.get(file_id) if isinstance(file_id, str) else None
        if stored is None:
            raise _bad_request("invalid file_id")
        file, path = stored
        return {
            "file_id": file_id,
            "file_unique_id": "U" + file_id[-16:],
            "file_size": len(file.data),
            "file_path": path,
        }

    def _scope_key(self, params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        language = params.get("language_code") or ""
        if not isinstance(scope, dict) or not isinstance(language, str):
            raise _bad_request("can't parse BotCommandScope JSON object")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise _bad_request("invalid language code specified")
        scope_type = scope.get("type")
        if scope_type in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
            return scope_type, language
        if "chat_id" in scope:
            chat_id = _coerce("chat_id", scope["chat_id"])
            with self._cond:
                self._chat_json(chat_id)  # "chat not found" for chats the bot does not know (strict_chats)
            scope = {**scope, "chat_id": chat_id}
        if scope_type in ("chat", "chat_administrators") and "chat_id" in scope:
            return f"{scope_type}:{scope['chat_id']}", language
        if scope_type == "chat_member" and "chat_id" in scope and "user_id" in scope:
            return f"chat_member:{scope['chat_id']}:{scope['user_id']}", language
        raise _bad_request("wrong bot command scope type specified")

    def _m_set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad_request("too many commands specified")
        cleaned: list[dict[str, str]] = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad_request("can't parse BotCommand JSON object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not _COMMAND_RE.fullmatch(name):
                raise _bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self._scope_key(params)
        with self._cond:
            if cleaned:
                self._commands[key] = cleaned
            else:
                self._commands.pop(key, None)
            self._cond.notify_all()
        return True

    def _m_get_my_commands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        key = self._scope_key(params)
        with self._cond:
            return [dict(c) for c in self._commands.get(key, [])]

    def _m_delete_my_commands(self, params: dict[str, Any]) -> bool:
        key = self._scope_key(params)
        with self._cond:
            self._commands.pop(key, None)
            self._cond.notify_all()
        return True
