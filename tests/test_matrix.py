"""Matrix against a real Synapse on 127.0.0.1: a second account chats with the bot, as a person would."""

from __future__ import annotations

import gc
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from bot.matrix_channel import MatrixBot, command_text
from bot.outbox_service import Limits
from bot.reminders import deliver_reminders
from bot.workspace import Monitor
from commands.outgoing import Outgoing
from commands.reply import ReplyBuilder
from storage.config import MatrixSettings
from tests.conftest import RunningFront, at
from tests.matrixserver import HomeServer, MatrixUser
from tests.test_email import add_person_fields

ERIKA = "Beispiel: Erika Muster"
FAST = Limits(chat_rate=20, chat_period=1, backoff_start=0.05, backoff_max=0.5, reply_patience=10, drain_seconds=5)


@pytest.fixture(scope="session")
def homeserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HomeServer]:
    """One Synapse for the whole session: it starts in seconds, but not in no time."""
    with HomeServer(tmp_path_factory.mktemp("synapse")) as server:
        yield server


@dataclass
class Accounts:
    bot: MatrixUser
    erika: MatrixUser
    stranger: MatrixUser


@pytest.fixture
def accounts(homeserver: HomeServer) -> Accounts:
    """Fresh accounts per test: no test sees another's rooms."""
    tag = uuid.uuid4().hex[:8]
    return Accounts(homeserver.register(f"sozialmonitor-{tag}"), homeserver.register(f"erika-{tag}"),
                    homeserver.register(f"fremd-{tag}"))


def set_up_matrix(workspace: Path, homeserver: HomeServer, bot: MatrixUser, rooms: list[str]) -> None:
    settings = workspace / "sozialmonitor.toml"
    listed = ", ".join(f'"{r}"' for r in rooms)
    settings.write_text(settings.read_text(encoding="utf-8") + (
        f'\n[matrix]\nhomeserver = "{homeserver.url}"\nuser_id = "{bot.user_id}"\nrooms = [{listed}]\n'),
        encoding="utf-8")


@pytest.fixture
def team_room(accounts: Accounts) -> str:
    """The Fachstelle's room (first in the list: the admin room); Erika made it and invited the bot."""
    room = accounts.erika.create_room(invite=[accounts.bot.user_id, accounts.stranger.user_id], name="Fachstelle")
    accounts.stranger.join(room)
    return room


@pytest.fixture
def matrix_monitor(demo_workspace: Path, homeserver: HomeServer, accounts: Accounts,
                   team_room: str) -> Iterator[Monitor]:
    set_up_matrix(demo_workspace, homeserver, accounts.bot, [team_room])
    add_person_fields(demo_workspace, ERIKA, matrix_id=accounts.erika.user_id, kanal="matrix")
    monitor = Monitor.open(demo_workspace, env={"SOZIALMONITOR_MATRIX_TOKEN": accounts.bot.token})
    yield monitor
    monitor.close()


@pytest.fixture
def running(matrix_monitor: Monitor) -> Iterator[Callable[..., RunningFront]]:
    bots: list[RunningFront] = []

    def start(**kwargs: Any) -> RunningFront:
        bot = MatrixBot(matrix_monitor, limits=FAST, sync_timeout=2, **kwargs)
        bots.append(RunningFront(bot, "Matrix bot").start())
        return bots[-1]

    yield start
    for bot in bots:
        if bot.thread.is_alive():
            bot.stop()


def direct_room(person: MatrixUser, bot: MatrixUser) -> str:
    """The person opens a direct chat with the bot (as Element's „Direktnachricht“ does)."""
    return person.create_room(invite=[bot.user_id], direct=True)


def bot_bodies(accounts: Accounts, person: MatrixUser, room: str) -> list[str]:
    return [e["content"].get("body", "") for e in person.messages(room) if e["sender"] == accounts.bot.user_id]


def from_bot(accounts: Accounts) -> Callable[..., Any]:
    def wait(person: MatrixUser, room: str, needle: str, timeout: float = 20) -> dict[str, Any]:
        return person.wait_for(room, lambda e: needle in e["content"].get("body", ""), sender=accounts.bot.user_id,
                               timeout=timeout)
    return wait


def test_a_member_is_answered_with_bang_and_slash_commands_in_html(running: Callable, accounts: Accounts) -> None:
    running()
    wait = from_bot(accounts)
    room = direct_room(accounts.erika, accounts.bot)
    accounts.erika.say(room, "!status M21")
    reply = wait(accounts.erika, room, "Federführung")
    content = reply["content"]
    assert content["format"] == "org.matrix.custom.html" and "<b>" in content["formatted_body"]
    assert "<b>" not in content["body"]  # the plain body is text
    accounts.erika.say(room, "/massnahmen")
    wait(accounts.erika, room, "Die 14 Maßnahmen")


def test_a_signature_given_in_matrix_is_recorded_as_given_in_matrix(running: Callable, accounts: Accounts,
                                                                    matrix_monitor: Monitor) -> None:
    running()
    room = direct_room(accounts.erika, accounts.bot)
    accounts.erika.say(room, "!unterschrieben M24")
    from_bot(accounts)(accounts.erika, room, "ist erfasst")
    (protocol,) = [p for p in matrix_monitor.store.protocols("M24")]
    (signature,) = [s for s in matrix_monitor.store.signatures(protocol.id) if s.person == ERIKA]
    assert (signature.channel, signature.method) == ("matrix", "chat")


def test_a_stranger_is_told_the_matrix_id_and_gets_no_data(running: Callable, accounts: Accounts) -> None:
    running()
    wait = from_bot(accounts)
    room = direct_room(accounts.stranger, accounts.bot)
    accounts.stranger.say(room, "!status M21")
    refusal = wait(accounts.stranger, room, accounts.stranger.user_id)
    assert "nicht freigeschaltet" in refusal["content"]["body"]
    time.sleep(0.5)
    bodies = [e["content"].get("body", "") for e in accounts.stranger.messages(room)
              if e["sender"] == accounts.bot.user_id]
    assert bodies and not any("Federführung" in b or "M 21 ·" in b for b in bodies)


def test_in_an_allowed_room_everyone_is_a_member_and_other_rooms_are_refused(
        running: Callable, accounts: Accounts, team_room: str) -> None:
    running()
    wait = from_bot(accounts)
    accounts.stranger.say(team_room, "Guten Morgen zusammen")  # talk among people: not answered
    accounts.stranger.say(team_room, "!massnahmen")
    wait(accounts.stranger, team_room, "Die 14 Maßnahmen")
    assert not [e for e in accounts.stranger.messages(team_room)
                if e["sender"] == accounts.bot.user_id and "Guten Morgen" in e["content"].get("body", "")]
    other = accounts.stranger.create_room(invite=[accounts.bot.user_id, accounts.erika.user_id], name="Andere")
    accounts.erika.join(other)
    accounts.stranger.say(other, "!status")
    refusal = wait(accounts.stranger, other, other)
    assert "nicht freigeschaltet" in refusal["content"]["body"]


def test_files_go_up_as_uploads(running: Callable, accounts: Accounts) -> None:
    running()
    room = direct_room(accounts.erika, accounts.bot)
    accounts.erika.say(room, "!kalender")
    event = accounts.erika.wait_for(room, lambda e: e["content"].get("msgtype") == "m.file",
                                    sender=accounts.bot.user_id)
    assert event["content"]["url"].startswith("mxc://") and event["content"]["filename"].endswith(".ics")
    assert event["content"]["info"]["mimetype"] == "text/calendar"


def test_reminders_reach_the_persons_direct_room_and_the_admin_room(
        running: Callable, accounts: Accounts, matrix_monitor: Monitor, team_room: str) -> None:
    bot = running().bot
    assert deliver_reminders(matrix_monitor, bot.sink, at("2018-09-19 09:00"))
    room = accounts.erika.wait_for_invite()  # the bot opens the direct room on first need
    accounts.erika.join(room)
    reminder = from_bot(accounts)(accounts.erika, room, "Besprechung zu M 21 morgen")
    assert reminder["content"]["formatted_body"].startswith("<b>Erinnerung für Beispiel: Erika Muster:</b>")
    from_bot(accounts)(accounts.erika, team_room, "Erinnerungen für die Fachstelle")  # ADMINS: the admin room
    deadline = time.monotonic() + 10
    while matrix_monitor.outbox.pending() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert matrix_monitor.outbox.pending() == []  # every target has it: nothing is sent again at a restart


def test_a_restart_repeats_nothing_and_answers_what_was_said_meanwhile(
        running: Callable, accounts: Accounts, matrix_monitor: Monitor) -> None:
    first = running()
    wait = from_bot(accounts)
    room = direct_room(accounts.erika, accounts.bot)
    accounts.erika.say(room, "!status M21")
    wait(accounts.erika, room, "Federführung")
    first.bot.sink(Outgoing((ERIKA,), ReplyBuilder().line("Hinweis vor dem Neustart").build()))
    wait(accounts.erika, room, "Hinweis vor dem Neustart")
    first.stop()
    accounts.erika.say(room, "!massnahmen")  # while the bot is down
    running()
    wait(accounts.erika, room, "Die 14 Maßnahmen", timeout=30)
    time.sleep(2.5)  # a full sync round: anything repeated would be here by now
    bodies = bot_bodies(accounts, accounts.erika, room)
    assert sum("Federführung" in b for b in bodies) == 1
    assert sum(b == "Hinweis vor dem Neustart" for b in bodies) == 1
    assert sum("Die 14 Maßnahmen" in b for b in bodies) == 1


def test_the_servers_rate_limit_is_waited_out_and_every_message_arrives_once(
        running: Callable, accounts: Accounts, homeserver: HomeServer, caplog: pytest.LogCaptureFixture) -> None:
    bot = running().bot
    room = direct_room(accounts.erika, accounts.bot)
    accounts.erika.say(room, "!start")
    from_bot(accounts)(accounts.erika, room, "Beispiel: Erika Muster")
    homeserver.limit_messages(accounts.bot.user_id, per_second=2, burst=1)
    try:
        for n in range(5):
            bot.sink(Outgoing((ERIKA,), ReplyBuilder().line(f"Hinweis {n}").build()))
        from_bot(accounts)(accounts.erika, room, "Hinweis 4", timeout=30)
    finally:
        homeserver.unlimit_messages(accounts.bot.user_id)
    bodies = bot_bodies(accounts, accounts.erika, room)
    assert [b for b in bodies if b.startswith("Hinweis ")] == [f"Hinweis {n}" for n in range(5)]
    assert any("M_LIMIT_EXCEEDED" in r.getMessage() for r in caplog.records)  # the server did say "slow down"


def test_a_refused_token_stops_the_start_with_one_sentence(matrix_monitor: Monitor) -> None:
    from bot.telegram_bot import BotStartError

    matrix_monitor.settings = replace(matrix_monitor.settings,
                                      matrix=replace(matrix_monitor.settings.matrix, token="falsches-token"))
    runner = RunningFront(MatrixBot(matrix_monitor, limits=FAST), "Matrix bot")
    runner.thread.start()
    runner.thread.join(30)
    assert isinstance(runner.error, BotStartError)
    assert "SOZIALMONITOR_MATRIX_TOKEN" in str(runner.error)


def test_a_started_matrix_bot_is_frozen_out_of_the_collector(running: Callable[..., RunningFront]) -> None:
    gc.unfreeze()  # whatever an earlier load froze: only the bot's start may freeze its client now
    runner = running()
    # Frozen objects belong to none of the three generations that gc.get_objects() lists (and collections walk).
    assert not any(o is runner.bot.transport.client for o in gc.get_objects())


def test_commands_are_written_with_a_bang_or_a_slash() -> None:
    assert command_text("!status M21") == "/status M21"
    assert command_text("  /status M21 ") == "/status M21"
    assert command_text("Hallo") == "Hallo"
    assert MatrixSettings().rooms == ()


@pytest.mark.slow
def test_one_run_serves_telegram_matrix_and_email_at_once(demo_workspace: Path, homeserver: HomeServer,
                                                          accounts: Accounts, team_room: str, tmp_path: Path) -> None:
    """Max asks on Telegram, Erika on Matrix; a delivery reaches the admin by e-mail and the admin room."""
    from tests.fakebotapi import FakeBotAPI
    from tests.mailserver import MailServer
    from tests.test_email import set_up_email
    from tests.test_run_e2e import Process

    max_id, admin_mail = 100000003, "fachstelle@stadt.example"
    set_up_matrix(demo_workspace, homeserver, accounts.bot, [team_room])
    add_person_fields(demo_workspace, ERIKA, matrix_id=accounts.erika.user_id, kanal="matrix")
    add_person_fields(demo_workspace, "Beispiel: Fachstelle Sozialplanung", email=admin_mail, kanal="email")
    with FakeBotAPI() as api, MailServer() as smtp:
        set_up_email(demo_workspace, smtp.port)
        env = {"SOZIALMONITOR_TELEGRAM_TOKEN": api.token, "SOZIALMONITOR_TELEGRAM_API_URL": api.base_url,
               "SOZIALMONITOR_MATRIX_TOKEN": accounts.bot.token}
        proc = Process(demo_workspace, tmp_path, env=env)
        try:
            proc.wait_for_output("Telegram-Bot")
            proc.wait_for_output(accounts.bot.user_id)
            since = api.mark()
            api.send_user_message(max_id, max_id, "/status M22")
            reply = api.wait_for_sent(lambda m: m.chat_id == max_id, 20, since=since)
            assert "M 22" in reply.visible_text
            room = direct_room(accounts.erika, accounts.bot)
            accounts.erika.say(room, "!status M21")
            from_bot(accounts)(accounts.erika, room, "Federführung", timeout=30)
            inbox = demo_workspace / "ablage" / "eingang"
            (inbox / "M21_Bauland_2026.csv").write_text(
                "Maßnahme;Indikator;Zeitraum;Wert\nM21;M21-bauland;2025;3,5\n", encoding="utf-8")
            mail = smtp.wait_for(lambda m: admin_mail in m.recipients and "M21_Bauland_2026.csv" in m.subject, 30)
            assert mail.subject.startswith("Sozialmonitor: ")
            from_bot(accounts)(accounts.erika, team_room, "M21_Bauland_2026.csv", timeout=30)  # the admin room
            assert proc.stop() == 0
        finally:
            if proc.proc.poll() is None:
                proc.proc.kill()
                proc.proc.wait()
    out, err = proc.stdout, proc.stderr
    assert "Traceback" not in err, err
    for secret in (api.token, accounts.bot.token):
        assert secret not in out + err
    # The admin's notice went by e-mail (her preferred channel), not by Telegram as well: one way, once.
    assert not [m for m in api.sent if m.chat_id == 100000001 and "M21_Bauland_2026.csv" in (m.visible_text or "")]
