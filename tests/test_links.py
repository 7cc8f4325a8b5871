"""Links, FIFOs, devices and sockets are never followed or read: in eingang/, pruefen/, protokolle/ and on the
command line, with a real watchdog observer (native and polling) on a real folder."""

from __future__ import annotations

import os
import socket
from datetime import date
from pathlib import Path

import pytest

from bot.workspace import Monitor
from tests.conftest import run_cli
from tests.test_pipeline import NOW, office_csv
from tests.test_watcher import Notices, row, tune, wait_for
from watchers import build_watcher
from watchers.pipeline import IMPORTED, REFUSED, Pipeline
from watchers.protocols import ProtocolFolderWatcher, handle_protocol_file

SECRET = "root:x:0:0:GEHEIM-NICHT-ZITIEREN"


@pytest.fixture
def notices() -> Notices:
    return Notices()


@pytest.fixture(params=["native", "polling"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside the workspace with a secret file and a well-formed delivery nobody dropped."""
    folder = tmp_path / "draussen"
    folder.mkdir()
    (folder / "passwd").write_text(SECRET + "\n", encoding="utf-8")
    (folder / "fremd.csv").write_bytes(office_csv([row("M21-bauland", "2019", "99")]))
    (folder / "M21_2018-09-20.pdf").write_bytes(b"%PDF not dropped here")
    return folder


def every_text(monitor: Monitor, notices: Notices) -> str:
    """Every notice and every report the watcher wrote, in one string."""
    reports = [p.read_text(encoding="utf-8-sig") for p in monitor.settings.share.rglob("*.txt") if p.is_file()
               and not p.is_symlink()]
    return "\n".join([n.reply.plain() for n in notices] + reports)


def test_the_pipeline_moves_a_link_aside_unread(demo_monitor: Monitor, outside: Path) -> None:
    notices = Notices()
    pipe = Pipeline(demo_monitor, notices, clock=lambda: NOW)
    link = demo_monitor.settings.inbox / "passwd.csv"
    link.symlink_to(outside / "passwd")
    deliveries = len(demo_monitor.store.deliveries())
    result = pipe.process(link)
    assert (result.status, result.refused) == (REFUSED, "link")
    assert not os.path.lexists(link)
    moved = demo_monitor.settings.rejected / "passwd.csv"
    assert result.moved_to == moved and moved.is_symlink()  # the link itself, not a copy of its target
    assert (outside / "passwd").read_text(encoding="utf-8") == SECRET + "\n"
    report = (demo_monitor.settings.rejected / "passwd.csv.fehler.txt").read_text(encoding="utf-8-sig")
    (notice,) = notices
    assert "Verknüpfung" in notice.reply.plain() and "nach abgelehnt/ verschoben" in notice.reply.plain()
    assert "Verknüpfung" in report
    assert SECRET not in every_text(demo_monitor, notices) and "draussen" not in every_text(demo_monitor, notices)
    assert len(demo_monitor.store.deliveries()) == deliveries


def test_the_pipeline_refuses_a_fifo_without_blocking_and_a_socket(demo_monitor: Monitor) -> None:
    pipe = Pipeline(demo_monitor, Notices(), clock=lambda: NOW)
    fifo = demo_monitor.settings.inbox / "M21.csv"
    os.mkfifo(fifo)
    result = pipe.process(fifo)  # reading a FIFO without a writer would block for ever
    assert (result.status, result.refused) == (REFUSED, "fifo")
    assert (demo_monitor.settings.rejected / "M21.csv").is_fifo()
    with socket.socket(socket.AF_UNIX) as sock:
        path = demo_monitor.settings.inbox / "s.csv"
        sock.bind(str(path))
        assert pipe.process(path).refused == "socket"


def test_the_watcher_refuses_links_fifos_and_linked_folders_and_keeps_importing(
        demo_monitor: Monitor, notices: Notices, mode: str, outside: Path) -> None:
    tune(demo_monitor, polling=mode == "polling")
    inbox = demo_monitor.settings.inbox
    (inbox / "passwd.csv").symlink_to(outside / "passwd")  # waiting at start
    with build_watcher(demo_monitor, notices) as watcher:
        (inbox / "Amt 61").symlink_to(outside, target_is_directory=True)  # a linked sub-folder
        (inbox / "schleife").symlink_to(inbox, target_is_directory=True)  # a loop
        (inbox / "weg.csv").symlink_to(outside / "gibt-es-nicht.csv")  # dangling
        os.mkfifo(inbox / "pipe.csv")
        (inbox / "gut.csv").write_bytes(office_csv([row("M21-bauland", "2020", "2,5")]))
        names = {"passwd.csv", "Amt 61", "schleife", "weg.csv", "pipe.csv", "gut.csv"}
        wait_for(lambda: {r.file for r in watcher.results} >= names, what="every entry handled")
        rescans_before = len(watcher.results)
        watcher.rescan()
        (inbox / "danach.csv").write_bytes(office_csv([row("M21-bauland", "2021", "3")]))
        wait_for(lambda: any(r.file == "danach.csv" for r in watcher.results), what="a later file")
    statuses = {r.file: r.status for r in watcher.results}
    assert statuses["gut.csv"] == statuses["danach.csv"] == IMPORTED
    assert all(statuses[n] == REFUSED for n in names - {"gut.csv"})
    assert len(watcher.results) == rescans_before + 1  # each entry handled once: nothing loops
    assert not [p for p in inbox.iterdir()]
    rejected = demo_monitor.settings.rejected
    assert (rejected / "Amt 61").is_symlink() and (rejected / "schleife").is_symlink()
    assert (rejected / "pipe.csv").is_fifo()
    assert sorted(outside.iterdir()) == sorted([outside / "passwd", outside / "fremd.csv",
                                                outside / "M21_2018-09-20.pdf"])  # nothing moved from outside
    assert "2019" not in demo_monitor.store.periods("M21-bauland")  # the linked folder's file was not imported
    text = every_text(demo_monitor, notices)
    assert SECRET not in text and "draussen" not in text
    refusals = [n.reply.plain() for n in notices if "Nicht gelesen" in n.reply.plain()]
    assert len(refusals) == 5 and all("Verknüpfung" in t or "FIFO" in t for t in refusals)


def test_links_in_pruefen_are_refused_there_too(demo_monitor: Monitor, notices: Notices, mode: str,
                                                outside: Path) -> None:
    tune(demo_monitor, polling=mode == "polling")
    folder = demo_monitor.settings.share / "pruefen"
    with build_watcher(demo_monitor, notices) as watcher:
        (folder / "passwd.csv").symlink_to(outside / "passwd")
        os.mkfifo(folder / "pipe.csv")
        wait_for(lambda: len(watcher.checks) >= 2, what="two checks")
    report = (folder / "passwd.csv.pruefung.txt").read_text(encoding="utf-8-sig")
    assert "Verknüpfung" in report and SECRET not in report
    assert "FIFO" in (folder / "pipe.csv.pruefung.txt").read_text(encoding="utf-8-sig")
    assert (folder / "passwd.csv").is_symlink() and (folder / "pipe.csv").is_fifo()  # nothing moves in pruefen/
    assert {r.status for r in watcher.checks} == {REFUSED}


def test_a_linked_protocol_is_reported_once_and_left_unread(demo_monitor: Monitor, outside: Path) -> None:
    from tests.test_protocol_folder import Sink

    sink = Sink()
    before = demo_monitor.store.protocol("M21", date(2018, 9, 20))  # the demo's, sent without a file
    link = demo_monitor.settings.protocols / "M21_2018-09-20.pdf"
    link.symlink_to(outside / "M21_2018-09-20.pdf")
    os.mkfifo(demo_monitor.settings.protocols / "M24_2018-09-20.pdf")
    watcher = ProtocolFolderWatcher(demo_monitor, sink, polling=True, stable_seconds=0.1, rescan_seconds=0.2)
    watcher.start()
    try:
        wait_for(lambda: len(watcher.handled) >= 2, what="both handled")
        wait_for(lambda: len(sink.to("@admins")) >= 2, what="two notices")
    finally:
        watcher.stop()
    # Rescans see both again; the admins are told once, the store records no protocol.
    assert handle_protocol_file(demo_monitor, link, sink).status == "rejected"
    texts = sink.to("@admins")
    assert len(texts) == 2 and all("Nicht gelesen" in t for t in texts)
    assert demo_monitor.store.protocol("M21", date(2018, 9, 20)) == before
    assert link.is_symlink()


def test_ingest_and_pruefen_refuse_links_and_fifos_on_the_command_line(tmp_path: Path, outside: Path) -> None:
    ws = tmp_path / "ws"
    assert run_cli("init", str(ws)).returncode == 0
    link = tmp_path / "lieferung.csv"
    link.symlink_to(outside / "passwd")
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    for command in ("ingest", "pruefen"):
        result = run_cli(command, "--workspace", str(ws), str(link), str(fifo), timeout=30)
        assert result.returncode == 1, result.stderr
        lines = result.stdout.splitlines()
        assert len(lines) == 2
        assert lines[0].startswith(f"{link}: nicht gelesen") and "Verknüpfung" in lines[0]
        assert lines[1].startswith(f"{fifo}: nicht gelesen") and "FIFO" in lines[1]
        assert SECRET not in result.stdout + result.stderr and "Traceback" not in result.stderr
    assert not list((ws / "ablage" / "abgelehnt").iterdir())  # nothing copied from a link's target
