"""Tests for bot/telegram_bot.py: the real PTB Application against the fake Bot API, in-process through PTB's
request seam (tests/ptb_request.py); the real process over HTTP is tested in test_run_e2e.py."""

from __future__ import annotations

import gc
import json
import struct
import threading
import time
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest

from bot.runtime import ADMINS, Outgoing
from bot.telegram_bot import BotStartError, Limits, TelegramBot, client_language, file_url_for
from bot.workspace import Monitor
from commands.reply import Attachment, ReplyBuilder, Span
from commands.texts import text
from storage.config import AccessSettings
from tests.conftest import RunningFront, free_port
from tests.fakebotapi import SentMessage
from tests.ptb_request import InProcessTelegram

ADMIN_ID, MEMBER_ID, STRANGER_ID = 100000001, 100000002, 555000111
GROUP, OTHER_GROUP = -1001234567890, -1009876543210
FAST = Limits(chat_rate=20, chat_period=1, backoff_start=0.05, backoff_max=0.2, reply_patience=5,
              drain_seconds=3, poll_timeout=1)


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[InProcessTelegram]:
    with InProcessTelegram().serving(monkeypatch) as telegram:
        yield telegram


@pytest.fixture
def team(demo_monitor: Monitor) -> Monitor:
    demo_monitor.settings = replace(demo_monitor.settings, access=AccessSettings(group_chats=(GROUP,)))
    return demo_monitor


@pytest.fixture
def running(api: InProcessTelegram, team: Monitor) -> Iterator[Callable[..., RunningFront]]:
    bots: list[RunningFront] = []

    def start(limits: Limits = FAST, **kwargs: Any) -> RunningFront:
        bot = TelegramBot(team, token=api.token, limits=limits, **kwargs)
        bots.append(RunningFront(bot).start())
        return bots[-1]

    yield start
    for bot in bots:
        if bot.thread.is_alive():
            bot.stop()


def ask(api: InProcessTelegram, chat_id: int, said: str, user_id: int | None = None, timeout: float = 10,
        **kwargs: Any) -> SentMessage:
    since = api.mark()
    api.send_user_message(chat_id, user_id, said, **kwargs)
    return api.wait_for_sent(lambda m: m.chat_id == chat_id, timeout, since=since)


def sent_to(api: InProcessTelegram, chat_id: int) -> list[SentMessage]:
    return [m for m in api.sent if m.chat_id == chat_id]


def test_member_gets_status_and_stranger_gets_only_the_refusal(api: InProcessTelegram, running: Callable) -> None:
    running()
    reply = ask(api, MEMBER_ID, "/status M21")
    assert reply.parse_mode == "HTML"
    assert "M 21" in reply.visible_text or "M21" in reply.visible_text
    assert "Federführung" in reply.visible_text

    for said in ("/status M21", "/start", "Hallo, was ist mit M21?"):
        reply = ask(api, STRANGER_ID, said)
        assert str(STRANGER_ID) in reply.visible_text
        assert "Federführung" not in reply.visible_text and "Wohnraum" not in reply.visible_text
    assert len(sent_to(api, STRANGER_ID)) == 3  # one refusal each, nothing else


def test_admin_commands_refuse_members(api: InProcessTelegram, running: Callable, team: Monitor) -> None:
    running()
    reply = ask(api, MEMBER_ID, "/erinnerungen")
    assert reply.visible_text == text("de", "denied.admin", command="erinnerungen")
    reply = ask(api, ADMIN_ID, "/erinnerungen")
    assert reply.visible_text != text("de", "denied.admin", command="erinnerungen")


def test_notices_of_a_command_reach_the_persons_it_names(api: InProcessTelegram, running: Callable) -> None:
    running()
    since = api.mark()
    ask(api, ADMIN_ID, "/termin M21 02.12.2026 10:00 Nachbesprechung")
    notice = api.wait_for_sent(lambda m: m.chat_id == MEMBER_ID, since=since)
    assert "02.12.2026" in notice.visible_text


def test_english_client_gets_english(api: InProcessTelegram, running: Callable) -> None:
    running()
    assert client_language("en-GB") == "en" and client_language("de") is None and client_language(None) is None
    reply = ask(api, STRANGER_ID, "/status", language_code="en")
    assert reply.visible_text == text("en", "denied.unknown", user_id=STRANGER_ID)
    reply = ask(api, MEMBER_ID, "/help", language_code="en")
    assert "/measures" in reply.visible_text


def test_command_menus_in_german_and_english_admins_see_more(api: InProcessTelegram, running: Callable) -> None:
    running()
    api.wait_for_call("setMyCommands", lambda p: p.get("language_code") == "en" and "scope" in p)
    german = dict(api.commands_for("default"))
    english = dict(api.commands_for("default", "en"))
    admin = dict(api.commands_for(f"chat:{ADMIN_ID}"))
    assert {"status", "hilfe", "massnahmen", "kalender"} <= set(german)
    assert {"status", "help", "measures", "calendar"} <= set(english)
    assert "termin" not in german and "schedule" not in english
    assert {"termin", "erinnerungen", "status"} <= set(admin)
    assert german["hilfe"].startswith("Alle Befehle")


def test_groups_listed_answered_others_refused_foreign_bots_ignored(api: InProcessTelegram, running: Callable) -> None:
    running()
    # Anyone in a listed team group is a member; /cmd@botname works there.
    reply = ask(api, GROUP, "/status@sozialmonitor_bot M21", user_id=STRANGER_ID)
    assert "Federführung" in reply.visible_text
    since = api.mark()
    api.send_user_message(GROUP, STRANGER_ID, "/status@some_other_bot")
    api.send_user_message(GROUP, STRANGER_ID, "Nur ein Gespräch unter Menschen")
    api.send_user_message(GROUP, STRANGER_ID, "/start")
    api.wait_for_sent(lambda m: m.chat_id == GROUP, since=since)
    time.sleep(0.3)  # give a wrong second answer the chance to show up
    assert len([m for m in api.sent[since:] if m.chat_id == GROUP]) == 1
    # A group nobody enabled gets its chat id to hand to the Fachstelle, and no data.
    reply = ask(api, OTHER_GROUP, "/status M21", user_id=MEMBER_ID)
    assert reply.visible_text == text("de", "bot.group_not_enabled", chat_id=OTHER_GROUP)


def test_a_reply_to_a_group_that_became_a_supergroup_goes_to_the_supergroup(api: InProcessTelegram,
                                                                          running: Callable) -> None:
    running()
    supergroup = -1005550001111
    since = api.mark()
    api.fail_next("sendMessage", migrate_to=supergroup)
    api.send_user_message(GROUP, STRANGER_ID, "/status M21")
    moved = api.wait_for_sent(lambda m: m.chat_id == supergroup, since=since)
    assert "Federführung" in moved.visible_text
    assert [m for m in api.sent[since:] if m.chat_id == GROUP] == []  # refused there, carried out once, here


def test_notices_from_another_thread_reach_admins_and_named_persons(api: InProcessTelegram, running: Callable) -> None:
    bot = running().bot
    notice = ReplyBuilder().line("Datei <M21_Sozialwohnungen_2018.xlsx> importiert & archiviert").build()
    thread = threading.Thread(target=lambda: [
        bot.sink(Outgoing((ADMINS, "Beispiel: Erika Muster"), notice)),
        bot.sink(Outgoing(("Beispiel: Paula Probe",), notice)),  # no telegram_id in the catalogue
    ])
    thread.start()
    thread.join()
    wanted = "Datei <M21_Sozialwohnungen_2018.xlsx> importiert & archiviert"
    api.wait_for_sent(lambda m: m.chat_id == ADMIN_ID and m.visible_text == wanted)
    api.wait_for_sent(lambda m: m.chat_id == MEMBER_ID and m.visible_text == wanted)
    api.wait_for_sent(lambda m: m.chat_id == ADMIN_ID and "Paula Probe" in (m.visible_text or ""))


def test_long_notices_are_split_and_files_go_out_as_documents_and_photos(
        api: InProcessTelegram, running: Callable) -> None:
    bot = running().bot
    builder = ReplyBuilder()
    for n in range(300):
        builder.line(Span(f"Zeile {n}: "), Span("<fett> & " * 3, "b"))
    builder.attach(Attachment("trend_M21.png", tiny_png(), "photo", "Trend M21 <Beispiel>", "image/png"))
    builder.attach(Attachment("termine.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "document", "", "text/calendar"))
    bot.sink(Outgoing(("Beispiel: Erika Muster",), builder.build()))
    document = api.wait_for_sent(lambda m: m.chat_id == MEMBER_ID and m.method == "sendDocument")
    assert document.filename == "termine.ics" and document.data.startswith(b"BEGIN:VCALENDAR")
    texts = [m.visible_text for m in sent_to(api, MEMBER_ID) if m.method == "sendMessage"]
    assert len(texts) > 1
    assert "\n".join(texts).count("Zeile") == 300
    photo = next(m for m in sent_to(api, MEMBER_ID) if m.method == "sendPhoto")
    assert photo.visible_text == "Trend M21 <Beispiel>"
    methods = [m.method for m in sent_to(api, MEMBER_ID)]
    assert methods.index("sendPhoto") > methods.index("sendMessage")  # text first, then the files, in order


def test_calendar_command_sends_a_document(api: InProcessTelegram, running: Callable) -> None:
    running()
    reply = ask(api, MEMBER_ID, "/kalender")
    files = [m for m in sent_to(api, MEMBER_ID) if m.method == "sendDocument"]
    if not files:
        files = [api.wait_for_sent(lambda m: m.chat_id == MEMBER_ID and m.method == "sendDocument")]
    assert files[0].filename.endswith(".ics") and b"VCALENDAR" in files[0].data
    assert reply is not None


def test_flood_control_is_retried_and_the_message_arrives_once(api: InProcessTelegram, running: Callable) -> None:
    bot = running(FAST).bot
    api.fail_next("sendMessage", 429, retry_after=1)
    reply = ask(api, MEMBER_ID, "/status M21")
    assert "Federführung" in reply.visible_text
    # More 429s than the rate limiter retries: the outbox keeps the notice and sends it later.
    api.fail_next("sendMessage", 429, retry_after=1, count=2)
    since = api.mark()
    bot.sink(Outgoing((ADMINS,), ReplyBuilder().line("Hinweis nach Flutkontrolle").build()))
    api.wait_for_sent(lambda m: m.visible_text == "Hinweis nach Flutkontrolle", timeout=15, since=since)
    time.sleep(0.2)
    assert [m.visible_text for m in api.sent[since:]].count("Hinweis nach Flutkontrolle") == 1
    assert [m.visible_text for m in sent_to(api, MEMBER_ID)].count(reply.visible_text) == 1


def test_network_errors_are_retried_but_a_timed_out_reminder_is_never_sent_twice(
        api: InProcessTelegram, running: Callable) -> None:
    bot = running(replace(FAST, read_timeout=0.5)).bot
    api.fail_next("sendMessage", 502, count=2)  # Telegram's front end: nothing was carried out
    bot.sink(Outgoing((ADMINS,), ReplyBuilder().line("Hinweis trotz 502").build()))
    api.wait_for_sent(lambda m: m.visible_text == "Hinweis trotz 502")
    # The answer comes too late for the client, but the message did arrive: no second copy.
    api.delay_next("sendMessage", 1.5)
    bot.sink(Outgoing(("Beispiel: Erika Muster",), ReplyBuilder().line("Erinnerung: Protokoll M21").build(),
                      "reminder", key="protocol:M21:1"))
    api.wait_for_sent(lambda m: m.visible_text == "Erinnerung: Protokoll M21")
    bot.sink(Outgoing(("Beispiel: Erika Muster",), ReplyBuilder().line("danach").build()))
    api.wait_for_sent(lambda m: m.visible_text == "danach", timeout=10)
    assert [m.visible_text for m in api.sent].count("Erinnerung: Protokoll M21") == 1
    assert [m.visible_text for m in api.sent].count("Hinweis trotz 502") == 1
    # A connection closed without an answer: a reply is sent again (a lost answer leaves someone waiting) ...
    api.fail_next("sendMessage", close_connection=True)
    assert "Federführung" in ask(api, MEMBER_ID, "/status M21").visible_text
    # ... a reminder is not (it may have arrived, and it is recorded as sent).
    api.fail_next("sendMessage", close_connection=True)
    bot.sink(Outgoing((ADMINS,), ReplyBuilder().line("Erinnerung ohne Antwort").build(), "reminder", key="k2"))
    bot.sink(Outgoing((ADMINS,), ReplyBuilder().line("Hinweis danach").build()))
    api.wait_for_sent(lambda m: m.visible_text == "Hinweis danach")
    assert "Erinnerung ohne Antwort" not in [m.visible_text for m in api.sent]


def test_per_chat_limit_spaces_messages_in_one_chat_only(api: InProcessTelegram, running: Callable) -> None:
    bot = running(replace(FAST, chat_rate=1, chat_period=0.4)).bot
    for n in range(4):
        bot.sink(Outgoing(("Beispiel: Erika Muster",), ReplyBuilder().line(f"Nachricht {n}").build()))
    for n in range(3):
        bot.sink(Outgoing((ADMINS,), ReplyBuilder().line(f"Admin {n}").build()))
    api.wait_for_sent(lambda m: m.visible_text == "Nachricht 3")
    api.wait_for_sent(lambda m: m.visible_text == "Admin 2")
    stamps = [m.received_at for m in sent_to(api, MEMBER_ID)]
    assert stamps[-1] - stamps[0] >= 3 * 0.4 * 0.9
    assert [m.visible_text for m in sent_to(api, MEMBER_ID)] == [f"Nachricht {n}" for n in range(4)]


def test_a_failing_command_tells_user_and_admins_without_details(api: InProcessTelegram, running: Callable) -> None:
    def broken_clock() -> Any:
        raise RuntimeError(f"secret {api.token}")

    running(clock=broken_clock)
    reply = ask(api, MEMBER_ID, "/status")
    assert reply.visible_text == text("de", "internal_error")
    notice = api.wait_for_sent(lambda m: m.chat_id == ADMIN_ID)
    assert notice.visible_text == text("de", "bot.error_notice", what="RuntimeError")
    assert all(api.token not in (m.text or "") and "Traceback" not in (m.text or "") for m in api.sent)


def test_errors_outside_commands_reach_the_error_handler_and_the_admins_briefly(
        api: InProcessTelegram, running: Callable) -> None:
    bot = running().bot
    bot.sink(Outgoing((ADMINS,), None))  # type: ignore[arg-type]  # a broken notice: the handler raises
    notice = api.wait_for_sent(lambda m: m.chat_id == ADMIN_ID)
    assert notice.visible_text == text("de", "bot.error_notice", what="AttributeError")
    # The bot carries on.
    assert "Federführung" in ask(api, MEMBER_ID, "/status M21").visible_text


def test_webhook_mode_registers_the_hook_and_answers_posted_updates(api: InProcessTelegram, team: Monitor) -> None:
    port = free_port()
    team.settings = replace(team.settings, telegram=replace(
        team.settings.telegram, mode="webhook", webhook_url="https://bot.example.org/hook",
        webhook_listen="127.0.0.1", webhook_port=port))
    runner = RunningFront(TelegramBot(team, token=api.token, limits=FAST)).start()
    try:
        hook = api.wait_for_call("setWebhook")
        assert hook.params["url"] == "https://bot.example.org/hook/telegram"
        update = {"update_id": 7, "message": {
            "message_id": 1, "date": int(time.time()), "chat": {"id": MEMBER_ID, "type": "private"},
            "from": {"id": MEMBER_ID, "is_bot": False, "first_name": "Erika"}, "text": "/status M21",
            "entities": [{"type": "bot_command", "offset": 0, "length": 7}]}}
        request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram", data=json.dumps(update).encode(),
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        reply = api.wait_for_sent(lambda m: m.chat_id == MEMBER_ID)
        assert "Federführung" in reply.visible_text
    finally:
        runner.stop()


def test_webhook_mode_without_a_public_url_fails_with_one_sentence(api: InProcessTelegram, team: Monitor) -> None:
    team.settings = replace(team.settings, telegram=replace(team.settings.telegram, mode="webhook", webhook_url=""))
    runner = RunningFront(TelegramBot(team, token=api.token, limits=FAST)).start(wait=False)
    runner.thread.join(20)
    assert isinstance(runner.error, BotStartError)
    assert str(runner.error).startswith("Der Webhook-Modus ist nicht verfügbar")


def test_reminder_job_runs_and_its_messages_are_delivered(api: InProcessTelegram, running: Callable) -> None:
    calls: list[Any] = []

    def deliver(monitor: Monitor, sink: Callable[[Outgoing], None], now: Any) -> None:
        calls.append(now)
        sink(Outgoing(("Beispiel: Erika Muster",), ReplyBuilder().line("Erinnerung aus dem Job").build(),
                      "reminder", key=f"job:{len(calls)}"))

    running(reminders=deliver)
    api.wait_for_sent(lambda m: m.visible_text == "Erinnerung aus dem Job", timeout=10)
    assert calls and calls[0].tzinfo is not None


def test_start_waits_for_an_unreachable_telegram_and_stops_cleanly(api: InProcessTelegram, team: Monitor) -> None:
    api.reachable = False
    bot = TelegramBot(team, token=api.token, limits=FAST)
    bot.sink(Outgoing((ADMINS,), ReplyBuilder().line("vor dem Start").build()))  # before the loop runs
    runner = RunningFront(bot).start(wait=False)
    time.sleep(0.3)  # Telegram is down for a while
    assert not runner.ready.is_set()
    api.reachable = True
    assert runner.ready.wait(10)
    api.wait_for_sent(lambda m: m.visible_text == "vor dem Start" and m.chat_id == ADMIN_ID)
    runner.stop()
    # Stopped while unreachable: no hang, nothing raised.
    api.reachable = False
    runner = RunningFront(TelegramBot(team, token=api.token, limits=FAST)).start(wait=False)
    time.sleep(0.2)
    runner.stop()


def test_notices_left_at_a_stop_are_delivered_once_after_the_restart(api: InProcessTelegram, team: Monitor) -> None:
    # Telegram is unreachable: the notice cannot go out before the stop.
    api.reachable = False
    bot = TelegramBot(team, token=api.token, limits=FAST)
    runner = RunningFront(bot).start(wait=False)
    bot.sink(Outgoing((ADMINS, "Beispiel: Erika Muster"), ReplyBuilder().line("Datei übernommen").build()))
    runner.stop()
    [pending] = bot.outbox.pending()
    assert pending.messages == ("Datei übernommen",) and pending.delivered == ()
    api.reachable = True
    restarted = TelegramBot(team, token=api.token, limits=FAST)
    runner = RunningFront(restarted).start()
    api.wait_for_sent(lambda m: m.chat_id == ADMIN_ID and m.visible_text == "Datei übernommen")
    api.wait_for_sent(lambda m: m.chat_id == MEMBER_ID and m.visible_text == "Datei übernommen")
    deadline = time.monotonic() + 5
    while restarted.outbox.pending() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert restarted.outbox.pending() == []
    runner.stop()
    assert sum(m.visible_text == "Datei übernommen" for m in api.sent) == 2


def test_a_restart_does_not_resend_to_chats_that_have_the_notice(api: InProcessTelegram, team: Monitor) -> None:
    bot = TelegramBot(team, token=api.token, limits=FAST)
    item = bot.outbox.add(kind="notice", key="", recipients=[ADMINS, "Beispiel: Erika Muster"],
                          messages=["Nur an Erika"])
    bot.outbox.delivered(item, ADMIN_ID)  # the admin got it before the crash
    runner = RunningFront(bot).start()
    try:
        api.wait_for_sent(lambda m: m.chat_id == MEMBER_ID and m.visible_text == "Nur an Erika")
    finally:
        runner.stop()
    assert not any(m.chat_id == ADMIN_ID and m.visible_text == "Nur an Erika" for m in api.sent)
    assert bot.outbox.pending() == []


def test_file_url_follows_the_api_url() -> None:
    assert file_url_for("http://127.0.0.1:8081/bot") == "http://127.0.0.1:8081/file/bot"
    assert file_url_for("http://127.0.0.1:8081/custom/") is None


def test_a_started_bot_is_frozen_out_of_the_collector(running: Callable[..., RunningFront]) -> None:
    gc.unfreeze()  # whatever an earlier load froze: only the bot's start may freeze its Application now
    runner = running()
    # Frozen objects belong to none of the three generations that gc.get_objects() lists (and collections walk).
    assert not any(o is runner.bot.application for o in gc.get_objects())
    assert gc.get_freeze_count() > 0
