"""`sozialmonitor reminders` through the real process: listing, sending, restarts, bad input, Telegram."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import free_port, run_cli
from .fakebotapi import FakeBotAPI

pytestmark = pytest.mark.slow


def lines(out: str) -> list[list[str]]:
    return [line.split("\t") for line in out.splitlines() if line.strip()]


def test_fresh_workspace_lists_the_admin_items(workspace: Path) -> None:
    result = run_cli("--workspace", str(workspace), "reminders", "--at", "2018-09-19T09:00")
    assert result.returncode == 0, result.stderr
    rows = lines(result.stdout)
    assert [(r[1], r[2]) for r in rows] == [("terminierung", "M12"), ("terminierung", "M13")]
    assert all(len(r) == 4 and r[0] == "Fachstelle (Admins)" for r in rows)
    assert "keine Person mit rolle" in result.stderr  # nobody to receive them yet, said once
    assert "Traceback" not in result.stderr


def test_send_then_restart_never_repeats_and_catches_up_once(demo_workspace: Path) -> None:
    ws = ("--workspace", str(demo_workspace), "reminders")
    first = run_cli(*ws, "--at", "2018-09-19T09:00", "--send")
    assert first.returncode == 0, first.stderr
    rows = lines(first.stdout)
    kinds = {r[1] for r in rows}
    assert {"termin", "terminierung", "zusammenfassung", "ohne_telegram"} <= kinds
    assert "Versandt:" in first.stderr
    again = run_cli(*ws, "--at", "2018-09-19T09:30", "--send")
    assert again.returncode == 0 and again.stdout == ""
    assert "Keine Erinnerung fällig" in again.stderr
    # Down until the next Monday: that week's items come once.
    monday = run_cli(*ws, "--at", "2018-09-24T10:00", "--send")
    assert {r[1] for r in lines(monday.stdout)} >= {"terminierung", "zusammenfassung"}
    assert run_cli(*ws, "--at", "2018-09-24T11:00").stdout == ""


def test_outside_working_days_nothing_and_why(demo_workspace: Path) -> None:
    result = run_cli("--workspace", str(demo_workspace), "reminders", "--at", "2018-10-03T10:00")
    assert result.returncode == 0 and result.stdout == ""
    assert "Feiertag (Tag der Deutschen Einheit)" in result.stderr and "Donnerstag, 04.10.2018" in result.stderr


def test_bad_moment_is_one_german_sentence(workspace: Path) -> None:
    result = run_cli("--workspace", str(workspace), "reminders", "--at", "19.09.2018")
    assert result.returncode != 0
    assert result.stderr.strip() == "„19.09.2018“ ist kein gültiger Zeitpunkt. Erwartet wird z. B. 2018-09-19T09:00."


def test_send_through_telegram_reports_who_could_not_be_reached(demo_workspace: Path) -> None:
    with FakeBotAPI(strict_chats=True) as api:
        for chat in (100000001, 100000002):  # the admin and Erika have opened a chat with the bot
            api.add_chat(chat)
        env = {"SOZIALMONITOR_TELEGRAM_TOKEN": api.token, "SOZIALMONITOR_TELEGRAM_API_URL": api.base_url}
        result = run_cli("--workspace", str(demo_workspace), "reminders", "--at", "2018-09-19T09:00", "--send",
                         env=env)
        assert result.returncode == 0, result.stderr
        sent = api.sent
        assert {m.chat_id for m in sent} == {100000001, 100000002}
        erika = [m.visible_text for m in sent if m.chat_id == 100000002]
        assert len(erika) == 1 and "Besprechung zu M 21 morgen" in erika[0]  # one bundled message
        assert "Nicht zugestellt an Beispiel: Max Mustermann" in result.stderr
        assert api.token not in result.stderr + result.stdout


def test_reminders_that_telegram_does_not_take_wait_in_the_outbox_for_the_next_run(demo_workspace: Path) -> None:

    from bot.telegram_bot import TelegramBot
    from bot.workspace import Monitor
    from storage.outbox import Outbox
    from tests.conftest import RunningFront
    from tests.test_telegram_bot import FAST

    port = free_port()
    fake = FakeBotAPI(port=port)  # not started yet: Telegram is unreachable
    env = {"SOZIALMONITOR_TELEGRAM_TOKEN": fake.token, "SOZIALMONITOR_TELEGRAM_API_URL": fake.base_url}
    result = run_cli("--workspace", str(demo_workspace), "reminders", "--at", "2018-09-19T09:00", "--send", env=env)
    assert result.returncode == 0, result.stderr
    assert "Postausgang" in result.stderr and "Traceback" not in result.stderr
    box = Outbox(demo_workspace / "daten" / "postausgang.json")
    waiting = box.pending()
    box.close()
    assert waiting and all(item.kind == "reminder" and item.key for item in waiting)
    # Recorded as sent: a second --send has nothing new, and nothing was lost.
    again = run_cli("--workspace", str(demo_workspace), "reminders", "--at", "2018-09-19T09:05", "--send", env=env)
    assert again.returncode == 0 and again.stdout == ""
    with fake:
        monitor = Monitor.open(demo_workspace, env={})
        try:
            bot = TelegramBot(monitor, token=fake.token, api_url=fake.base_url, limits=FAST)
            runner = RunningFront(bot).start()
            try:
                fake.wait_for_sent(lambda m: m.chat_id == 100000002 and "Besprechung zu M 21" in m.visible_text)
            finally:
                runner.stop()
        finally:
            monitor.close()
