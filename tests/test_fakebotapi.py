"""The fake Bot API must be faithful enough for the real python-telegram-bot.

Every test here talks to :class:`FakeBotAPI` through the real ``telegram.Bot``/``Application``
(or raw HTTP where PTB would hide what is checked). Nothing sleeps for a fixed time: waits are
bounded waits on conditions.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import http.client
import io
import json
import struct
import threading
import time
import urllib.error
import urllib.request
import zlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ExtBot,
)
from telegram.warnings import PTBDeprecationWarning

from tests.fakebotapi import FakeBotAPI, HtmlParseError, SentMessage, parse_html, parse_multipart

TOKEN = "123456:AAH-fake-token_for-tests"
BOT_NAME = "sozialmonitor_bot"


@pytest.fixture
def api():
    with FakeBotAPI(token=TOKEN, bot_username=BOT_NAME) as server:
        yield server


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    # PTB 22.2+ warns (PTBDeprecationWarning) whenever an int time period is *read*, and
    # RetryAfter reads its own retry_after in __init__; with filterwarnings=error that would turn
    # every 429 into a warning exception. Opting in to timedelta values avoids it.
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


def make_bot(api: FakeBotAPI, token: str = TOKEN, cls: type[Bot] = Bot, **kwargs: Any) -> Bot:
    return cls(token, base_url=api.base_url, base_file_url=api.base_file_url, **kwargs)


def png_bytes(width: int, height: int) -> bytes:
    """A valid RGB PNG built by hand (no Pillow)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def raw_post(api: FakeBotAPI, method: str, body: bytes, content_type: str, token: str = TOKEN) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{api.base_url}{token}/{method}", data=body, headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        with err:
            return err.code, json.loads(err.read())


# --------------------------------------------------------------------------------------------
# plain Bot calls
# --------------------------------------------------------------------------------------------


def test_get_me_and_send_message_with_html(api: FakeBotAPI) -> None:
    async def main() -> None:
        async with make_bot(api) as bot:
            assert bot.username == BOT_NAME
            me = await bot.get_me()
            assert me.is_bot and me.id == 123456 and me.username == BOT_NAME

            first = await bot.send_message(42, "<b>M21</b> erledigt &amp; geprüft 😀 <i>ok</i>", parse_mode="HTML")
            second = await bot.send_message(42, "zweite Nachricht")
            other = await bot.send_message(-100777, "Gruppe")

            assert first.text == "M21 erledigt & geprüft 😀 ok"
            assert first.entities == (
                MessageEntity(MessageEntity.BOLD, 0, 3),
                MessageEntity(MessageEntity.ITALIC, 26, 2),  # the emoji counts 2 UTF-16 units
            )
            assert first.parse_entities()[first.entities[1]] == "ok"
            assert first.from_user.id == me.id and first.chat.id == 42 and first.chat.type == "private"
            assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)
            assert other.chat.type == "supergroup"
            assert isinstance(first.date, dtm.datetime)

    asyncio.run(main())

    sent = api.sent
    assert [m.method for m in sent] == ["sendMessage"] * 3
    assert sent[0].text == "<b>M21</b> erledigt &amp; geprüft 😀 <i>ok</i>"
    assert sent[0].parse_mode == "HTML"
    assert sent[0].visible_text == "M21 erledigt & geprüft 😀 ok"
    assert sent[1].parse_mode is None
    # PTB sends plain calls as application/x-www-form-urlencoded (never JSON), getMe without body
    kinds = {(r.method, r.content_type) for r in api.requests}
    assert ("sendMessage", "application/x-www-form-urlencoded") in kinds
    assert ("getMe", "") in kinds
    assert api.calls[0] == ("getMe", {})
    assert all(r.status == 200 and r.duration is not None for r in api.requests)


def test_send_document_and_photo_record_exact_bytes(api: FakeBotAPI, tmp_path: Any) -> None:
    # bytes that would break a sloppy multipart parser: CRLFs, NULs, a fake boundary
    payload = b"%PDF-1.4\r\n\x00\xff\r\n--boundary\r\n\r\n" + bytes(range(256)) + b"\r\n"
    image = png_bytes(3, 2)
    target = tmp_path / "download.pdf"

    async def main() -> None:
        async with make_bot(api) as bot:
            doc = await bot.send_document(
                42,
                io.BytesIO(payload),
                filename='Bericht_Ä "Q3".pdf',
                caption="<b>Ausschussbericht</b>",
                parse_mode=ParseMode.HTML,
            )
            assert doc.document.file_name == 'Bericht_Ä "Q3".pdf'
            assert doc.document.mime_type == "application/pdf"
            assert doc.document.file_size == len(payload)
            assert doc.caption == "Ausschussbericht"
            assert doc.caption_entities == (MessageEntity(MessageEntity.BOLD, 0, 16),)

            photo = await bot.send_photo(42, image, caption="Diagramm")
            assert (photo.photo[-1].width, photo.photo[-1].height) == (3, 2)

            # downloads go through base_file_url (PTB percent-encodes the ':' of the token there)
            file = await bot.get_file(doc.document.file_id)
            await file.download_to_drive(target)
            again = await bot.send_document(43, doc.document.file_id)  # resend by file_id
            assert again.document.file_id == doc.document.file_id

    asyncio.run(main())

    document, photo, again = api.sent
    assert (document.method, document.filename, document.file_bytes) == ("sendDocument", 'Bericht_Ä "Q3".pdf', payload)
    assert document.caption == "<b>Ausschussbericht</b>" and document.parse_mode == "HTML"
    assert document.visible_text == "Ausschussbericht"
    assert (photo.method, photo.file_bytes, photo.caption) == ("sendPhoto", image, "Diagramm")
    assert again.file_bytes == payload and again.chat_id == 43
    assert target.read_bytes() == payload
    # uploads go as multipart/form-data, a resend by file_id as a plain form
    kinds = [(r.method, r.content_type) for r in api.requests if r.method == "sendDocument"]
    assert kinds == [("sendDocument", "multipart/form-data"), ("sendDocument", "application/x-www-form-urlencoded")]


def test_invalid_photo_and_text_limits_are_rejected_like_telegram(api: FakeBotAPI) -> None:
    async def main() -> None:
        async with make_bot(api) as bot:
            with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
                await bot.send_photo(42, b"not an image", filename="x.png")
            with pytest.raises(BadRequest, match=r"(?i)message is too long"):
                await bot.send_message(42, "x" * 4097)
            await bot.send_message(42, "x" * 4096)
            # the limit applies after entity parsing
            await bot.send_message(42, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
            with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
                await bot.send_message(42, "<b> </b>", parse_mode="HTML")
            with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
                await bot.send_document(42, b"data", filename="a.txt", caption="c" * 1025)
            with pytest.raises(BadRequest, match=r"(?i)can.t parse entities: unsupported start tag \"br\""):
                await bot.send_message(42, "Zeile 1<br>Zeile 2", parse_mode="HTML")
            with pytest.raises(BadRequest, match=r"(?i)unsupported start tag"):
                await bot.send_message(42, "Quote < 5 %", parse_mode="HTML")
            await bot.send_message(42, "Quote < 5 %")  # fine without parse_mode
            with pytest.raises(BadRequest, match=r"(?i)unsupported parse_mode"):
                await bot.send_message(42, "x", parse_mode="XML")

    asyncio.run(main())
    assert [len(m.visible_text or "") for m in api.sent] == [4096, 4096, 11]


def test_wrong_token_is_rejected_with_401(api: FakeBotAPI) -> None:
    async def main() -> None:
        with pytest.raises(InvalidToken, match="rejected by the server"):
            async with make_bot(api, token="999:wrong"):
                pass  # pragma: no cover

    asyncio.run(main())
    assert api.requests[-1].status == 401
    status, body = raw_post(api, "getMe", b"", "application/json", token="999:wrong")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})


def test_unknown_method_answers_404_like_telegram(api: FakeBotAPI) -> None:
    status, body = raw_post(api, "sendDice", b'{"chat_id": 42}', "application/json")
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
    assert api.calls[-1] == ("sendDice", {"chat_id": 42})

    async def main() -> None:
        async with make_bot(api) as bot:
            with pytest.raises(EndPointNotFound):
                await bot.do_api_request("sendNonsense", api_kwargs={"chat_id": 42})

    asyncio.run(main())


def test_json_and_urlencoded_bodies_are_accepted(api: FakeBotAPI) -> None:
    status, body = raw_post(
        api,
        "sendMessage",
        json.dumps(
            {
                "chat_id": "42",
                "text": "12",
                "reply_markup": {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]},
            }
        ).encode(),
        "application/json",
    )
    assert status == 200 and body["ok"] is True
    assert body["result"]["text"] == "12"  # a numeric text stays a string
    status, body = raw_post(api, "sendMessage", b"chat_id=42&text=%C3%84nderung", "application/x-www-form-urlencoded")
    assert status == 200 and body["result"]["text"] == "Änderung"
    assert body["result"]["message_id"] == 2
    status, body = raw_post(api, "sendMessage", b"chat_id=42", "application/x-www-form-urlencoded")
    assert (status, body["description"]) == (400, "Bad Request: message text is empty")
    assert api.sent[0].reply_markup == {"inline_keyboard": [[{"text": "A", "callback_data": "a"}]]}
    assert api.sent[0].chat_id == 42


def test_multipart_parser_handles_edge_cases() -> None:
    body = (
        b"preamble\r\n--XyZ\r\n"
        b'Content-Disposition: form-data; name="chat_id"\r\n\r\n'
        b"42\r\n--XyZ\r\n"
        b'Content-Disposition: form-data; name="document"; filename="a%22b\\\\c.bin"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
        b"\r\n--XyZ-not-a-boundary\r\r\n\r\n--XyZ--\r\nepilogue"
    )
    fields = parse_multipart(body, b"XyZ")
    assert fields["chat_id"] == "42"
    document = fields["document"]
    assert document.filename == 'a"b\\c.bin'
    assert document.data == b"\r\n--XyZ-not-a-boundary\r\r\n"
    with pytest.raises(ValueError, match="closing delimiter"):
        parse_multipart(b'--XyZ\r\nContent-Disposition: form-data; name="a"\r\n\r\n1', b"XyZ")


# --------------------------------------------------------------------------------------------
# the real Application with long polling
# --------------------------------------------------------------------------------------------


def test_application_answers_commands_in_private_and_group_chats(api: FakeBotAPI) -> None:
    seen: list[tuple[int, str, list[str], str | None]] = []

    async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None and update.effective_user is not None
        seen.append(
            (
                update.effective_chat.id,
                update.effective_chat.type,
                context.args or [],
                update.effective_user.language_code,
            )
        )
        await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)
        await update.effective_chat.send_message(
            f"Status {' '.join(context.args or [])}: <b>offen</b>", parse_mode="HTML"
        )

    async def post_init(application: Application) -> None:
        await application.bot.set_my_commands(
            [BotCommand("status", "Stand einer Empfehlung")],
            scope=BotCommandScopeAllPrivateChats(),
            language_code="de",
        )

    async def main() -> None:
        application = (
            ApplicationBuilder()
            .token(TOKEN)
            .base_url(api.base_url)
            .base_file_url(api.base_file_url)
            .post_init(post_init)
            .build()
        )
        application.add_handler(CommandHandler("status", status))
        async with application:
            await application.post_init(application)
            await application.start()
            await application.updater.start_polling(poll_interval=0, timeout=1)

            api.send_user_message(
                chat_id=42, user_id=42, text="/status M21", first_name="Erika", chat_type="private", language_code="de"
            )
            reply = await api.wait_for_sent_async(lambda m: m.chat_id == 42, timeout=10)
            assert reply.text == "Status M21: <b>offen</b>" and reply.visible_text == "Status M21: offen"

            # a group: addressed to another bot (ignored by CommandHandler), then to ours
            api.send_user_message(-4711, 42, "/status@other_bot M1", chat_title="AG Soziales")
            update_id = api.send_user_message(
                chat_id=-1001234567890,
                user_id=43,
                text=f"/status@{BOT_NAME} M21",
                first_name="Max",
                chat_type="supergroup",
                chat_title="Ausschuss",
            )
            reply = await api.wait_for_sent_async(lambda m: m.chat_id < 0, timeout=10)
            assert reply.chat_id == -1001234567890 and reply.text.startswith("Status M21")
            await asyncio.to_thread(api.wait_until_confirmed, update_id - 1, 10)

            await application.updater.stop()
            await application.stop()

    asyncio.run(main())

    assert seen == [(42, "private", ["M21"], "de"), (-1001234567890, "supergroup", ["M21"], None)]
    assert [m.chat_id for m in api.sent] == [42, -1001234567890]
    group_update = api.update_log[max(api.update_log)].payload["message"]
    assert group_update["entities"] == [{"type": "bot_command", "offset": 0, "length": len(f"/status@{BOT_NAME}")}]
    assert group_update["chat"] == {"id": -1001234567890, "type": "supergroup", "title": "Ausschuss"}
    methods = [c.method for c in api.calls]
    assert methods[:1] == ["getMe"] and "deleteWebhook" in methods and "getUpdates" in methods
    assert api.calls_to("sendChatAction") == [
        {"chat_id": 42, "action": "typing"},
        {"chat_id": -1001234567890, "action": "typing"},
    ]
    assert api.commands == {
        ("all_private_chats", "de"): [{"command": "status", "description": "Stand einer Empfehlung"}]
    }
    # the final getUpdates of updater.stop() confirmed every update
    assert api.pending_updates == 0
    records = api.update_log.values()
    assert all(r.delivered_at is not None and r.confirmed_at is not None for r in records)


def test_callback_queries_inline_keyboards_and_edits(api: FakeBotAPI) -> None:
    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and query.message is not None
        await query.answer("Gespeichert")
        await query.edit_message_text(f"Gewählt: {query.data}")

    async def main() -> None:
        application = ApplicationBuilder().token(TOKEN).base_url(api.base_url).build()
        application.add_handler(CallbackQueryHandler(on_button))
        async with application:
            await application.start()
            await application.updater.start_polling(poll_interval=0, timeout=1)
            keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Umgesetzt", callback_data="done:M21")]])
            message = await application.bot.send_message(42, "Stand M21?", reply_markup=keyboard)
            assert message.reply_markup == keyboard

            since = api.mark()
            api.send_callback_query(42, data="done:M21")
            edit = await api.wait_for_sent_async(lambda m: m.method == "editMessageText", since=since)
            assert edit.message_id == message.message_id and edit.text == "Gewählt: done:M21"

            with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
                await application.bot.edit_message_text("Gewählt: done:M21", 42, message.message_id)
            with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
                await application.bot.answer_callback_query("123")
            assert await application.bot.delete_message(42, message.message_id)
            with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
                await application.bot.delete_message(42, message.message_id)

            await application.updater.stop()
            await application.stop()

    asyncio.run(main())
    assert [a["text"] for a in api.callback_answers] == ["Gespeichert"]
    assert api.sent[0].reply_markup == {"inline_keyboard": [[{"text": "Umgesetzt", "callback_data": "done:M21"}]]}


def test_user_documents_can_be_downloaded_by_the_bot(api: FakeBotAPI) -> None:
    data = b"Empfehlung;Status\r\nM21;offen\r\n"
    api.send_user_message(42, document=(data, "stand.csv", "text/csv"), caption="/import")

    async def main() -> None:
        async with make_bot(api) as bot:
            (update,) = await bot.get_updates(timeout=0)
            message = update.message
            assert message.document.file_name == "stand.csv" and message.document.mime_type == "text/csv"
            assert message.caption == "/import"
            assert message.caption_entities == (MessageEntity(MessageEntity.BOT_COMMAND, 0, 7),)
            file = await message.document.get_file()
            assert bytes(await file.download_as_bytearray()) == data

    asyncio.run(main())


# --------------------------------------------------------------------------------------------
# getUpdates semantics
# --------------------------------------------------------------------------------------------


def test_get_updates_offset_limit_and_long_poll(api: FakeBotAPI) -> None:
    first = api.send_user_message(42, text="eins")
    second = api.send_user_message(42, text="zwei")

    async def main() -> None:
        async with make_bot(api) as bot:
            assert [u.update_id for u in await bot.get_updates(timeout=0)] == [first, second]
            assert [u.update_id for u in await bot.get_updates(timeout=0, limit=1)] == [first]
            # offset confirms everything before it
            assert [u.update_id for u in await bot.get_updates(offset=second, timeout=0)] == [second]
            assert api.update_log[first].confirmed_at is not None
            assert await bot.get_updates(offset=second + 1, timeout=0) == ()

            # long poll returns early when an update arrives ...
            since = len(api.calls)
            poll = asyncio.create_task(bot.get_updates(offset=second + 1, timeout=5))
            await api.wait_for_call_async("getUpdates", since=since)
            started = time.perf_counter()
            third = api.send_user_message(42, text="drei")
            updates = await poll
            assert [u.update_id for u in updates] == [third]
            assert updates[0].message.text == "drei"
            assert time.perf_counter() - started < 2

            # ... and returns [] after its timeout
            started = time.perf_counter()
            assert await bot.get_updates(offset=third + 1, timeout=1) == ()
            assert 0.9 <= time.perf_counter() - started < 3

            # a second bot instance polling terminates the first one's poll with 409, like Telegram
            # (a single Bot cannot overlap get_updates: PTB's getUpdates pool has one connection)
            since = len(api.calls)
            older = asyncio.create_task(bot.get_updates(offset=third + 1, timeout=5))
            await api.wait_for_call_async("getUpdates", since=since)
            async with make_bot(api) as second_instance:
                assert await second_instance.get_updates(offset=third + 1, timeout=0) == ()
            with pytest.raises(Conflict, match="terminated by other getUpdates request"):
                await older

            # drop_pending_updates on deleteWebhook clears the queue
            api.send_user_message(42, text="vier")
            assert await bot.delete_webhook(drop_pending_updates=True)
            assert await bot.get_updates(timeout=0) == ()

    asyncio.run(main())
    record = api.update_log[first]
    assert record.queued_at <= record.delivered_at <= record.confirmed_at


# --------------------------------------------------------------------------------------------
# failures
# --------------------------------------------------------------------------------------------


def test_429_raises_retry_after_on_a_plain_bot_call(api: FakeBotAPI) -> None:
    api.fail_next("sendMessage", status=429, retry_after=1, count=1)

    async def main() -> None:
        async with make_bot(api) as bot:
            with pytest.raises(RetryAfter) as caught:
                await bot.send_message(42, "zu schnell")
            assert caught.value.retry_after == dtm.timedelta(seconds=1)
            await bot.send_message(42, "wieder ok")

    asyncio.run(main())
    assert [m.text for m in api.sent] == ["wieder ok"]  # the failed call was not carried out
    failed = [r for r in api.requests if r.status == 429]
    assert len(failed) == 1 and failed[0].injected == "fail"


def test_retry_after_warns_without_ptb_timedelta(api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    # Documents a PTB 22 trap: without PTB_TIMEDELTA, *constructing* RetryAfter emits a
    # PTBDeprecationWarning, so under filterwarnings=error a 429 surfaces as that warning.
    monkeypatch.delenv("PTB_TIMEDELTA")
    api.fail_next("sendMessage", status=429, retry_after=1)

    async def main() -> None:
        async with make_bot(api) as bot:
            with pytest.warns(PTBDeprecationWarning, match="retry_after"), pytest.raises(RetryAfter):
                await bot.send_message(42, "x")

    asyncio.run(main())


def test_aio_rate_limiter_retries_a_429_once(api: FakeBotAPI) -> None:
    api.fail_next("sendMessage", status=429, retry_after=1, count=1)

    async def main() -> float:
        async with make_bot(api, cls=ExtBot, rate_limiter=AIORateLimiter(max_retries=2)) as bot:
            started = time.perf_counter()
            message = await bot.send_message(42, "Bericht fertig")
            assert message.text == "Bericht fertig"
            return time.perf_counter() - started

    elapsed = asyncio.run(main())
    assert [m.text for m in api.sent] == ["Bericht fertig"]
    assert [r.status for r in api.requests if r.method == "sendMessage"] == [429, 200]
    assert elapsed >= 1.0  # it honoured retry_after


def test_server_errors_and_network_failures(api: FakeBotAPI) -> None:
    async def main() -> None:
        async with make_bot(api) as bot:
            api.fail_next("sendMessage", status=500)
            with pytest.raises(NetworkError, match="Internal Server Error"):
                await bot.send_message(42, "a")

            api.fail_next("sendMessage", status=502)  # nginx HTML page, not JSON
            with pytest.raises(NetworkError, match=r"Bad Gateway \(502\)"):
                await bot.send_message(42, "b")

            api.fail_next("*", status=403)
            with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
                await bot.send_message(42, "c")

            api.fail_next("sendMessage", status=400, migrate_to_chat_id=-1009999)
            with pytest.raises(ChatMigrated) as migrated:
                await bot.send_message(-4711, "d")
            assert migrated.value.new_chat_id == -1009999

            api.fail_next("sendMessage", close_connection=True)
            with pytest.raises(NetworkError):
                await bot.send_message(42, "e")

            # answer held back beyond the read timeout: PTB times out, but the message was sent
            api.delay_next("sendMessage", 2.0)
            with pytest.raises(TimedOut):
                await bot.send_message(42, "f", read_timeout=0.2)

            assert (await bot.send_message(42, "g")).text == "g"

    asyncio.run(main())
    assert [m.text for m in api.sent] == ["f", "g"]
    assert [r.injected for r in api.requests if r.method == "sendMessage"] == [
        "fail",
        "fail",
        "fail",
        "fail",
        "close",
        "delay",
        None,
    ]


# --------------------------------------------------------------------------------------------
# commands
# --------------------------------------------------------------------------------------------


def test_my_commands_per_scope_and_language(api: FakeBotAPI) -> None:
    async def main() -> None:
        async with make_bot(api) as bot:
            default = [BotCommand("status", "Status"), BotCommand("hilfe", "Hilfe")]
            assert await bot.set_my_commands(default)
            assert await bot.set_my_commands([BotCommand("bericht", "Bericht")], scope=BotCommandScopeChat(-100123))
            assert await bot.set_my_commands([BotCommand("status", "state")], language_code="en")
            assert await bot.get_my_commands() == tuple(default)
            assert [c.command for c in await bot.get_my_commands(language_code="en")] == ["status"]
            assert await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats()) == ()
            with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
                await bot.set_my_commands([BotCommand("Status", "Großbuchstaben sind verboten")])
            with pytest.raises(BadRequest, match=r"(?i)bot_command_description_invalid"):
                await bot.set_my_commands([BotCommand("status", "")])
            assert await bot.delete_my_commands(language_code="en")

    asyncio.run(main())
    assert api.commands_for() == [("status", "Status"), ("hilfe", "Hilfe")]
    assert api.commands_for("chat:-100123") == [("bericht", "Bericht")]
    assert ("default", "en") not in api.commands


# --------------------------------------------------------------------------------------------
# HTML parse mode
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "visible", "entities"),
    [
        ("a &lt; b &amp;&amp; c &gt; d", "a < b && c > d", []),
        ("AT&T &nbsp; 5 > 3 &#228;&#x1F600;", "AT&T &nbsp; 5 > 3 ä😀", []),
        ("<b>fett <i>kursiv</i></b>", "fett kursiv", [("bold", 0, 11), ("italic", 5, 6)]),
        ('<a href="https://example.org/?a=1&amp;b=2">Link</a>', "Link", [("text_link", 0, 4)]),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1", [("pre", 0, 5)]),
        ('<span class="tg-spoiler">geheim</span>', "geheim", [("spoiler", 0, 6)]),
        ("<blockquote expandable>Zitat</blockquote>", "Zitat", [("expandable_blockquote", 0, 5)]),
        ("<B>GROSS</B><b></b>", "GROSS", [("bold", 0, 5)]),
        ("😀<u>x</u>", "😀x", [("underline", 2, 1)]),
    ],
)
def test_parse_html_accepts_what_telegram_accepts(
    text: str, visible: str, entities: list[tuple[str, int, int]]
) -> None:
    got_text, got_entities = parse_html(text)
    assert got_text == visible
    assert [(e["type"], e["offset"], e["length"]) for e in got_entities] == entities


def test_parse_html_keeps_link_and_language_details() -> None:
    _, (link,) = parse_html('<a href="https://example.org/?a=1&amp;b=2">Link</a>')
    assert link["url"] == "https://example.org/?a=1&b=2"
    _, (pre,) = parse_html('<pre><code class="language-python">x = 1</code></pre>')
    assert pre["language"] == "python"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<br>", 'Unsupported start tag "br" at byte offset 0'),
        ("ä<p>x</p>", 'Unsupported start tag "p" at byte offset 2'),
        ("<b>offen", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler"'),
    ],
)
def test_parse_html_rejects_what_telegram_rejects(text: str, error: str) -> None:
    with pytest.raises(HtmlParseError) as caught:
        parse_html(text)
    assert error in str(caught.value)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_escaped_text_round_trips_through_html(text: str) -> None:
    visible, entities = parse_html(html.escape(text, quote=False))
    assert (visible, entities) == (text, [])
    visible, entities = parse_html(f"<b>{html.escape(text)}</b>")
    assert visible == text
    assert entities == ([{"type": "bold", "offset": 0, "length": len(text.encode("utf-16-le")) // 2}] if text else [])


# --------------------------------------------------------------------------------------------
# lifecycle, timing
# --------------------------------------------------------------------------------------------


def test_stop_releases_stuck_long_poll_and_leaks_no_threads() -> None:
    before = set(threading.enumerate())
    result: dict[str, Any] = {}
    with FakeBotAPI(token=TOKEN) as server:
        # a raw long poll that would hang 30 s, plus an idle keep-alive connection left open
        idle = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        idle.request("GET", "/echo")
        assert idle.getresponse().read() == b'{"ok": true, "result": true}'

        def long_poll() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            try:
                conn.request("POST", f"/bot{TOKEN}/getUpdates?timeout=30")
                result["body"] = json.loads(conn.getresponse().read())
            finally:
                conn.close()

        poller = threading.Thread(target=long_poll)
        poller.start()
        server.wait_for_call("getUpdates", timeout=5)
        started = time.perf_counter()
    stop_took = time.perf_counter() - started
    poller.join(5)
    idle.close()
    assert not poller.is_alive()
    assert result["body"] == {"ok": True, "result": []}
    assert stop_took < 3
    assert set(threading.enumerate()) - before == set()


def test_no_thread_leak_after_ptb_session() -> None:
    before = set(threading.enumerate())
    with FakeBotAPI(token=TOKEN) as server:

        async def main() -> None:
            async with make_bot(server) as bot:
                await bot.send_message(42, "hallo")

        asyncio.run(main())
        assert [m.text for m in server.sent] == ["hallo"]
    assert set(threading.enumerate()) - before == set()


def test_timing_helpers(api: FakeBotAPI) -> None:
    timings = api.echo(count=5)
    assert len(timings) == 5 and all(0 < t < 1 for t in timings)
    assert len(api.echo(count=2, payload=b"x" * 10_000)) == 2

    async def main() -> tuple[SentMessage, float]:
        async def echo_handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            await update.effective_chat.send_message("pong")

        application = ApplicationBuilder().token(TOKEN).base_url(api.base_url).build()
        application.add_handler(CommandHandler("ping", echo_handler))
        async with application:
            await application.start()
            await application.updater.start_polling(poll_interval=0, timeout=1)
            outcome = await asyncio.to_thread(api.roundtrip, 42, "/ping", timeout=10)
            await application.updater.stop()
            await application.stop()
        return outcome

    message, latency = asyncio.run(main())
    assert message.text == "pong" and 0 < latency < 5
    with pytest.raises(TimeoutError, match="no matching message"):
        api.wait_for_sent(lambda m: m.text == "never", timeout=0.05)


def test_injection_rejects_impossible_chats(api: FakeBotAPI) -> None:
    with pytest.raises(ValueError, match="chat_id equals"):
        api.send_user_message(42, user_id=43, text="x")
    with pytest.raises(ValueError, match="user_id is required"):
        api.send_user_message(-100123, text="x")
    with pytest.raises(ValueError, match="negative"):
        api.send_user_message(42, 43, text="x", chat_type="group")


def test_strict_chats_reject_unknown_chats() -> None:
    with FakeBotAPI(token=TOKEN, strict_chats=True) as server:

        async def main() -> None:
            async with make_bot(server) as bot:
                with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                    await bot.send_message(42, "x")
                with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                    await bot.set_my_commands([BotCommand("admin", "Verwaltung")], scope=BotCommandScopeChat(42))
                server.add_chat(42)
                await bot.send_message(42, "x")
                await bot.set_my_commands([BotCommand("admin", "Verwaltung")], scope=BotCommandScopeChat(42))
                # a user who writes to the bot makes the chat known, like on Telegram
                server.send_user_message(7, text="/start")
                await bot.send_message(7, "Willkommen")

        asyncio.run(main())
        assert server.commands_for("chat:42") == [("admin", "Verwaltung")]
