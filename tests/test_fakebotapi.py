"""What the Telegram tests rely on in the fake Bot API, over HTTP and in-process alike.

Each test drives the fake through the real python-telegram-bot ``Bot``: if the fake let through what
Telegram refuses, or showed PTB a failure differently than Telegram does, the bot's tests would pass
for the wrong reason.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import html
import http.client
import json
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TimedOut

from bot.telegram_bot import maybe_delivered
from tests.fakebotapi import FakeBotAPI, FakeTelegram, HtmlParseError, parse_html
from tests.ptb_request import InProcessTelegram

Carrier = Callable[..., contextlib.AbstractContextManager[tuple[FakeTelegram, Callable[..., Bot]]]]


@contextlib.contextmanager
def over_http(**kwargs: Any) -> Iterator[tuple[FakeTelegram, Callable[..., Bot]]]:
    with FakeBotAPI(**kwargs) as api:
        yield api, lambda token=api.token: Bot(token, base_url=api.base_url)


@contextlib.contextmanager
def in_process(**kwargs: Any) -> Iterator[tuple[FakeTelegram, Callable[..., Bot]]]:
    fake = InProcessTelegram(**kwargs)
    yield fake, lambda token=fake.token: Bot(token, request=fake.request(False, {}),
                                              get_updates_request=fake.request(True, {}))


@pytest.fixture(params=[over_http, in_process], ids=["http", "in_process"])
def carrier(request: pytest.FixtureRequest) -> Carrier:
    return request.param


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


def test_what_the_bot_sends_is_recorded_as_the_user_sees_it(carrier: Carrier) -> None:
    # bytes that would break a sloppy multipart parser: CRLFs, NULs, a fake boundary
    payload = b"BEGIN:VCALENDAR\r\n\x00\xff\r\n--boundary\r\n\r\n" + bytes(range(256)) + b"\r\n"
    with carrier() as (fake, make_bot):
        async def main() -> None:
            async with make_bot() as bot:
                assert bot.username == "sozialmonitor_bot"
                message = await bot.send_message(42, "<b>M21</b> erledigt &amp; &lt;geprüft&gt; 😀", parse_mode="HTML")
                assert message.text == "M21 erledigt & <geprüft> 😀"
                await bot.send_message(-1001234, "Gruppe <ohne> HTML")
                await bot.send_document(42, payload, filename="Termine_Ä.ics", caption="<i>Kalender</i>",
                                        parse_mode="HTML")
                await bot.send_photo(42, png(), filename="trend_M21.png", caption="Trend")
                await bot.set_my_commands([BotCommand("status", "Stand")])
                await bot.set_my_commands([BotCommand("status", "state")], language_code="en")
                await bot.set_my_commands([BotCommand("termin", "Termin")], scope=BotCommandScopeChat(42))

        asyncio.run(main())
    first, group, document, photo = fake.sent
    assert (first.method, first.chat_id, first.parse_mode) == ("sendMessage", 42, "HTML")
    assert first.visible_text == "M21 erledigt & <geprüft> 😀" and first.text.startswith("<b>M21</b>")
    assert (group.chat_id, group.visible_text, group.parse_mode) == (-1001234, "Gruppe <ohne> HTML", None)
    assert (document.method, document.filename, document.data) == ("sendDocument", "Termine_Ä.ics", payload)
    assert document.visible_text == "Kalender"
    assert (photo.method, photo.data, photo.visible_text) == ("sendPhoto", png(), "Trend")
    assert fake.commands_for() == [("status", "Stand")]
    assert fake.commands_for("default", "en") == [("status", "state")]
    assert fake.commands_for("chat:42") == [("termin", "Termin")]


def test_what_telegram_refuses_is_refused(carrier: Carrier) -> None:
    with carrier(strict_chats=True) as (fake, make_bot):
        async def main() -> None:
            with pytest.raises(InvalidToken):
                async with make_bot("999:wrong"):
                    pass  # pragma: no cover
            async with make_bot() as bot:
                with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                    await bot.send_message(42, "x")
                with pytest.raises(BadRequest, match=r"(?i)chat not found"):
                    await bot.set_my_commands([BotCommand("termin", "Termin")], scope=BotCommandScopeChat(42))
                fake.add_chat(42)
                with pytest.raises(BadRequest, match=r"(?i)message is too long"):
                    await bot.send_message(42, "x" * 4097)
                with pytest.raises(BadRequest, match=r"(?i)message is too long"):
                    await bot.send_message(42, "😀" * 2049)  # 4098 UTF-16 units
                await bot.send_message(42, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")  # counted after parsing
                with pytest.raises(BadRequest, match=r"(?i)can't parse entities: unsupported start tag \"br\""):
                    await bot.send_message(42, "Zeile 1<br>Zeile 2", parse_mode="HTML")
                with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
                    await bot.send_message(42, "<b> </b>", parse_mode="HTML")
                with pytest.raises(BadRequest, match=r"(?i)caption is too long"):
                    await bot.send_document(42, b"data", filename="a.txt", caption="c" * 1025)
                with pytest.raises(BadRequest, match=r"(?i)image_process_failed"):
                    await bot.send_photo(42, b"not an image", filename="x.png")
                with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
                    await bot.set_my_commands([BotCommand("Status", "Großbuchstaben sind verboten")])

        asyncio.run(main())
    assert [len(m.visible_text or "") for m in fake.sent] == [4096]


def test_failures_reach_ptb_as_the_errors_the_bot_tells_apart(carrier: Carrier) -> None:
    with carrier() as (fake, make_bot):
        async def main() -> None:
            async with make_bot() as bot:
                fake.fail_next("sendMessage", 429, retry_after=1)
                with pytest.raises(RetryAfter) as flood:
                    await bot.send_message(42, "a")
                assert flood.value.retry_after == dtm.timedelta(seconds=1)
                fake.fail_next("sendMessage", 502)  # nginx's HTML page: nothing was carried out
                with pytest.raises(NetworkError, match=r"Bad Gateway \(502\)") as gateway:
                    await bot.send_message(42, "b")
                assert not isinstance(gateway.value.__cause__, httpx.HTTPError)  # an answer, not a network error
                assert not maybe_delivered(gateway.value)  # so a reminder that met it is sent again
                fake.fail_next("sendMessage", close_connection=True)  # no answer: it may have arrived
                with pytest.raises(NetworkError) as dropped:
                    await bot.send_message(42, "c")
                assert isinstance(dropped.value.__cause__, httpx.RemoteProtocolError) and maybe_delivered(dropped.value)
                fake.delay_next("sendMessage", 1.0)  # carried out, answered after the client gave up
                with pytest.raises(TimedOut) as late:
                    await bot.send_message(42, "d", read_timeout=0.2)
                assert isinstance(late.value.__cause__, httpx.ReadTimeout) and maybe_delivered(late.value)
                assert (await bot.send_message(42, "e")).text == "e"

        asyncio.run(main())
        assert [m.text for m in fake.sent] == ["d", "e"]
        assert [r.status for r in fake.requests if r.method == "sendMessage"] == [429, 502, None, 200, 200]


def test_updates_are_delivered_until_confirmed_and_a_long_poll_waits_for_one(carrier: Carrier) -> None:
    with carrier() as (fake, make_bot):
        async def main() -> int:
            async with make_bot() as bot:
                first = fake.send_user_message(42, text="/status M21", language_code="en")
                group = fake.send_user_message(-1001234, 43, "/status@sozialmonitor_bot")
                updates = await bot.get_updates(timeout=0)
                assert [u.update_id for u in updates] == [first, group]
                message = updates[0].message
                assert (message.text, message.chat.type, message.from_user.language_code) == ("/status M21",
                                                                                              "private", "en")
                assert message.entities[0].type == "bot_command" and message.entities[0].length == 7
                assert updates[1].message.chat.type == "supergroup" and updates[1].message.from_user.id == 43
                assert [u.update_id for u in await bot.get_updates(offset=group, timeout=0)] == [group]
                assert await bot.get_updates(offset=group + 1, timeout=0) == ()
                # A long poll answers as soon as an update comes ...
                poll = asyncio.create_task(bot.get_updates(offset=group + 1, timeout=5))
                await asyncio.to_thread(fake.wait_for_call, "getUpdates", lambda p: p.get("timeout") == 5)
                later = fake.send_user_message(42, text="drei")
                assert [u.update_id for u in await asyncio.wait_for(poll, 3)] == [later]
                # ... and with nothing at its timeout.
                assert await asyncio.wait_for(bot.get_updates(offset=later + 1, timeout=1), 4) == ()
            return first

        first = asyncio.run(main())
    assert fake.update_log[first].delivered_at is not None


def test_stopping_the_http_fake_releases_a_waiting_long_poll() -> None:
    answers: list[Any] = []
    with FakeBotAPI() as api:
        idle = http.client.HTTPConnection("127.0.0.1", api.port, timeout=5)  # a keep-alive connection left open
        idle.request("GET", "/echo")
        idle.getresponse().read()

        def long_poll() -> None:
            conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=10)
            try:
                conn.request("POST", f"/bot{api.token}/getUpdates", body=b"timeout=30",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
                answers.append(json.loads(conn.getresponse().read()))
            finally:
                conn.close()

        poller = threading.Thread(target=long_poll)
        poller.start()
        api.wait_for_call("getUpdates")
    poller.join(5)
    idle.close()
    assert not poller.is_alive() and answers == [{"ok": True, "result": []}]


@pytest.mark.parametrize(("text", "visible"), [
    ("a &lt; b &amp;&amp; c &gt; d &quot;e&quot;", 'a < b && c > d "e"'),
    ("AT&T &nbsp; 5 > 3 &#228;&#x1F600;", "AT&T &nbsp; 5 > 3 ä😀"),
    ("<b>fett <i>kursiv</i></b> <code>M21</code>", "fett kursiv M21"),
    ('<a href="https://example.org/?a=1&amp;b=2">Link</a>', "Link"),
    ("<B>GROSS</B><b></b>", "GROSS"),
])
def test_html_check_accepts_what_telegram_accepts(text: str, visible: str) -> None:
    assert parse_html(text) == visible


@pytest.mark.parametrize(("text", "error"), [
    ("a < b", "Unclosed start tag at byte offset 2"),
    ("<br>", 'Unsupported start tag "br" at byte offset 0'),
    ("ä<p>x</p>", 'Unsupported start tag "p" at byte offset 2'),
    ("<b>offen", 'Can\'t find end tag corresponding to start tag "b"'),
    ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
    ("x</b>", "Unexpected end tag at byte offset 1"),
])
def test_html_check_refuses_what_telegram_refuses(text: str, error: str) -> None:
    with pytest.raises(HtmlParseError) as caught:
        parse_html(text)
    assert error in str(caught.value)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_escaped_text_comes_through_the_html_check_unchanged(text: str) -> None:
    assert parse_html(html.escape(text, quote=False)) == text
    assert parse_html(f"<b>{html.escape(text)}</b>") == text

