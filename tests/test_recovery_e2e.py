"""The real `sozialmonitor` processes: one `run` per workspace, a store lost after a kill, a damaged outbox,
and the `sicherungen` / `wiederherstellen` commands."""

from __future__ import annotations

import re
import signal
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import orjson
import pytest

from bot.reminders import OutboxCollector, deliver_reminders
from bot.workspace import Monitor
from storage.outbox import Outbox
from storage.store import Store
from tests.conftest import at, run_cli
from tests.test_run_e2e import Process

STORE = Path("daten") / "sozialmonitor.json"
OUTBOX = Path("daten") / "postausgang.json"


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Process]]:
    """`python -m bot --workspace WS run` processes, killed at the end if still running."""
    processes: list[Process] = []

    def run(workspace: Path, *args: str) -> Process:
        folder = tmp_path / f"proc{len(processes)}"
        folder.mkdir()
        processes.append(Process(workspace, folder, *args))
        return processes[-1]

    yield run
    for process in processes:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait()


def one_sentence(err: str) -> str:
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.slow
def test_a_second_run_refuses_and_names_the_first(workspace: Path, start: Callable[..., Process]) -> None:
    first = start(workspace)
    first.wait_for_output("Konsolen-Chat")
    second = run_cli("--workspace", str(workspace), "run", "--console", timeout=30)
    assert second.returncode == 1
    message = one_sentence(second.stderr)
    assert str(first.proc.pid) in message and "run" in message
    # Reading commands still work beside it; writing ones refuse with one sentence.
    assert run_cli("--workspace", str(workspace), "ask", "/status M21").returncode == 0
    refused = run_cli("--workspace", str(workspace), "wiederherstellen")
    assert refused.returncode == 1 and str(first.proc.pid) in one_sentence(refused.stderr)
    assert first.proc.poll() is None
    assert first.stop(signal.SIGTERM) == 0
    assert "Traceback" not in first.stderr


@pytest.mark.slow
def test_run_waits_for_a_short_command_that_holds_the_workspace(workspace: Path,
                                                                start: Callable[..., Process]) -> None:
    held = Store(workspace / STORE, role="ask")  # like an `ask` that is just finishing
    try:
        proc = start(workspace)
        time.sleep(1.0)
        assert proc.proc.poll() is None  # waiting, not refused
    finally:
        held.close()
    proc.wait_for_output("Konsolen-Chat")
    assert proc.stop(signal.SIGTERM) == 0


@pytest.mark.slow
def test_a_main_file_deleted_after_a_kill_is_rebuilt_and_status_shows_every_value(
        demo_workspace: Path, start: Callable[..., Process]) -> None:
    proc = start(demo_workspace)
    proc.wait_for_output("Konsolen-Chat")
    (demo_workspace / "ablage" / "eingang" / "M21_Bauland_2025.csv").write_text(
        "Maßnahme;Indikator;Zeitraum;Wert;Amt\nM21;M21-bauland;2025;8,25;Amt 61\n", encoding="utf-8")
    proc.wait_for_output("M21_Bauland_2025.csv")
    proc.stop(signal.SIGKILL)  # no clean close: the newest backup is older than the import
    (demo_workspace / STORE).unlink()
    env = {"SOZIALMONITOR_TELEGRAM_TOKEN": "123:unbenutzt"}
    result = run_cli("--workspace", str(demo_workspace), "ask", "/status M21", env=env)
    assert result.returncode == 0, result.stderr
    assert "8,25 ha (2025)" in result.stdout  # the delivery made after the backup is back
    assert "Traceback" not in result.stderr
    notice = one_sentence(result.stderr)
    assert "fehlte" in notice and "wiederhergestellt" in notice and "1 Lieferungen aus den danach" in notice
    # The admins hear of it in the chat: a notice waits in the outbox.
    box = Outbox(demo_workspace / OUTBOX)
    try:
        assert any(item.recipients == ("@admins",) and "fehlte" in item.messages[0] for item in box.pending())
    finally:
        box.close()
    again = run_cli("--workspace", str(demo_workspace), "ask", "/status M21")
    assert again.returncode == 0 and again.stderr == "" and "8,25 ha (2025)" in again.stdout


@pytest.mark.slow
@pytest.mark.parametrize("content", [b'{"nachrichten": {"1": {"kind": "notice", "rec', b"", b'{"nachrichten": 5}'])
def test_a_damaged_outbox_does_not_stop_the_monitor(workspace: Path, start: Callable[..., Process],
                                                    content: bytes) -> None:
    (workspace / OUTBOX).write_bytes(content)
    proc = start(workspace)
    proc.wait_for_output("Konsolen-Chat")
    time.sleep(0.3)
    assert proc.proc.poll() is None
    assert proc.stop(signal.SIGTERM) == 0
    assert "Postausgang" in proc.stderr and "beschaedigt" in proc.stderr and "Traceback" not in proc.stderr
    [kept] = (workspace / "daten" / "beschaedigt").glob("postausgang.*.json")
    assert kept.read_bytes() == content


def test_a_truncated_outbox_comes_back_from_its_backup(tmp_path: Path) -> None:
    path = tmp_path / "postausgang.json"
    box = Outbox(path, backup_seconds=0)
    box.add(kind="notice", key="", recipients=["A"], messages=["eins"])
    box.add(kind="reminder", key="b", recipients=["B"], messages=["zwei"], keys=["termin:M21:1"])
    box.close()
    path.write_bytes(path.read_bytes()[:25])
    again = Outbox(path, backup_seconds=0)
    try:
        assert again.recovered is not None and again.recovered.backup is not None
        assert [i.messages for i in again.pending()] == [("eins",), ("zwei",)]
        assert again.claimed_keys() == {"termin:M21:1": "B"}
    finally:
        again.close()


def test_a_crash_between_the_outbox_entry_and_the_sent_mark_neither_loses_nor_doubles(
        demo_workspace: Path, monkeypatch) -> None:
    import os

    monitor = Monitor.open(demo_workspace, env={})
    store_file = monitor.settings.store_file
    real_replace = os.replace

    def crash_at_the_store_write(src, dst):  # the machine dies as the store's sent marks are written
        if Path(dst) == store_file:
            raise OSError(5, "Input/output error")
        real_replace(src, dst)

    collector = OutboxCollector(monitor)
    monkeypatch.setattr("storage.jsonstore.os.replace", crash_at_the_store_write)
    try:
        first = deliver_reminders(monitor, collector, at("2018-09-19 09:00"))
    finally:
        monkeypatch.undo()
    assert first and len(collector.kept) == len(first)
    assert not (set(first[0].keys) & monitor.store.sent_keys())  # the marks did not reach the store
    monitor.close()
    # The next start: what waits in the outbox counts as sent; nothing is claimed a second time.
    monitor = Monitor.open(demo_workspace, env={})
    try:
        assert set(first[0].keys) <= monitor.store.sent_keys()
        assert deliver_reminders(monitor, OutboxCollector(monitor), at("2018-09-19 09:05")) == []
        waiting = monitor.outbox.pending()
        assert len(waiting) == len(first) and all(item.kind == "reminder" for item in waiting)
    finally:
        monitor.close()


def test_reminders_and_their_outbox_entries_are_written_together(demo_workspace: Path) -> None:
    monitor = Monitor.open(demo_workspace, env={})
    try:
        writes = monitor.store.writes
        collector = OutboxCollector(monitor)
        claimed = deliver_reminders(monitor, collector, at("2018-09-19 09:00"))
        assert claimed and monitor.store.writes == writes + 1  # every sent mark in one write
        keys = {k for item in monitor.outbox.pending() for k in item.keys}
        assert keys == {k for bundle in claimed for k in bundle.keys} <= monitor.store.sent_keys()
    finally:
        monitor.close()


# ---------------------------------------------------------------- sicherungen / wiederherstellen


def test_sicherungen_lists_newest_first_and_wiederherstellen_restores(demo_workspace: Path) -> None:
    monitor = Monitor.open(demo_workspace, env={})
    monitor.store.add_step("M21", "nur im neuesten Stand", created=date(2018, 10, 1))
    monitor.close()
    listing = run_cli("--workspace", str(demo_workspace), "sicherungen")
    assert listing.returncode == 0 and listing.stderr == ""
    lines = listing.stdout.splitlines()
    pattern = re.compile(r"sozialmonitor\.\d{8}T\d{6}Z\d+\.json  \d\d\.\d\d\.\d{4} \d\d:\d\d:\d\d  "
                         r"\d+ Termine, \d+ Protokolle, \d+ Lieferungen, \d+ Werte  nutzbar")
    assert lines and all(pattern.fullmatch(line) for line in lines), listing.stdout
    assert [line.split()[0] for line in lines] == sorted((line.split()[0] for line in lines), reverse=True)
    oldest = lines[-1].split()[0]
    result = run_cli("--workspace", str(demo_workspace), "wiederherstellen", oldest)
    assert result.returncode == 0, result.stderr
    assert oldest in result.stdout and "Stand davor" in result.stdout
    monitor = Monitor.open(demo_workspace, env={})
    try:
        assert "nur im neuesten Stand" not in [s.text for s in monitor.store.steps("M21")]
    finally:
        monitor.close()
    # Undo: the newest good backup is the state from before the restore.
    assert run_cli("--workspace", str(demo_workspace), "wiederherstellen").returncode == 0
    monitor = Monitor.open(demo_workspace, env={})
    try:
        assert "nur im neuesten Stand" in [s.text for s in monitor.store.steps("M21")]
    finally:
        monitor.close()


def test_wiederherstellen_refuses_unknown_and_unusable_backups(demo_workspace: Path) -> None:
    unknown = run_cli("--workspace", str(demo_workspace), "wiederherstellen", "sozialmonitor.gibtsnicht.json")
    assert unknown.returncode == 1 and "sicherungen" in one_sentence(unknown.stderr)
    main = orjson.loads((demo_workspace / STORE).read_bytes())
    segment = next(iter(main["lieferungen"].values()))["segment"]
    (demo_workspace / "daten" / "lieferungen" / segment).unlink()
    listing = run_cli("--workspace", str(demo_workspace), "sicherungen")
    assert listing.returncode == 0 and f"nicht nutzbar: Segment {segment}" in listing.stdout
    broken = next(line.split()[0] for line in listing.stdout.splitlines() if "nicht nutzbar" in line)
    refused = run_cli("--workspace", str(demo_workspace), "wiederherstellen", broken)
    assert refused.returncode == 1 and "nicht nutzbar" in one_sentence(refused.stderr)


@pytest.mark.slow
def test_the_admins_hear_of_a_rebuilt_store_in_the_chat(demo_workspace: Path, tmp_path: Path) -> None:
    from tests.fakebotapi import FakeBotAPI
    from tests.test_run_e2e import ADMIN_ID

    (demo_workspace / STORE).write_bytes(b'{"_default": 5}')
    with FakeBotAPI() as api:
        folder = tmp_path / "bot"
        folder.mkdir()
        proc = Process(demo_workspace, folder, env={"SOZIALMONITOR_TELEGRAM_TOKEN": api.token,
                                                    "SOZIALMONITOR_TELEGRAM_API_URL": api.base_url})
        try:
            proc.wait_for_output("@sozialmonitor_bot")
            notice = api.wait_for_sent(lambda m: m.chat_id == ADMIN_ID and "war beschädigt" in (m.visible_text or ""),
                                       timeout=30)
            assert "wiederhergestellt" in (notice.visible_text or "") and "beschaedigt" in (notice.visible_text or "")
            assert proc.stop(signal.SIGTERM) == 0
        finally:
            if proc.proc.poll() is None:
                proc.proc.kill()
                proc.proc.wait()
    assert "war beschädigt" in proc.stderr and "Traceback" not in proc.stderr
