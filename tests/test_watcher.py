"""The folder watcher with a real watchdog observer (native and polling) on a real folder."""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from watchdog.observers import Observer

from bot.runtime import ADMINS, Outgoing
from bot.workspace import Monitor
from tests.test_pipeline import office_csv, xlsx
from watchers import build_watcher
from watchers.pipeline import DUPLICATE, IMPORTED, Pipeline
from watchers.watcher import FolderWatcher


def wait_for(condition: Callable[[], object], timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Notices(list):
    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()

    def __call__(self, message: Outgoing) -> None:
        with self._lock:
            self.append(message)

    def texts(self) -> list[str]:
        with self._lock:
            return [m.reply.plain() for m in self]


def tune(monitor: Monitor, **watcher: object) -> Monitor:
    defaults = {"stable_seconds": 0.3, "poll_interval": 0.1, "rescan_minutes": 60.0}
    monitor.settings = replace(monitor.settings, watcher=replace(monitor.settings.watcher, **{**defaults, **watcher}))
    return monitor


@pytest.fixture
def notices() -> Notices:
    return Notices()


@pytest.fixture(params=["native", "polling"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def running(demo_monitor: Monitor, notices: Notices, mode: str) -> Iterator[FolderWatcher]:
    tune(demo_monitor, polling=mode == "polling")
    watcher = build_watcher(demo_monitor, notices)
    watcher.start()
    try:
        yield watcher
    finally:
        watcher.stop()


def row(indicator: str, period: str, value: str, measure: str | None = None) -> list[str]:
    return [measure or indicator[:3], indicator, period, "", value, "", "", ""]


def processed(monitor: Monitor) -> list[Path]:
    return sorted(p for p in monitor.settings.processed.rglob("*") if p.is_file())


def imported(monitor: Monitor, indicator: str, period: str) -> Callable[[], bool]:
    return lambda: period in monitor.store.periods(indicator)


def test_files_waiting_at_start_are_imported(demo_monitor: Monitor, notices: Notices, mode: str) -> None:
    tune(demo_monitor, polling=mode == "polling")
    inbox = demo_monitor.settings.inbox
    (inbox / "Amt 61").mkdir()
    (inbox / "Amt 61" / "bauland.csv").write_bytes(office_csv([row("M21-bauland", "2016", "3,5")]))
    (inbox / "u3.xlsx").write_bytes(xlsx([row("M31-u3-plaetze", "2016-Q3", "80")]))
    with build_watcher(demo_monitor, notices) as watcher:
        wait_for(lambda: len(watcher.results) == 2, what="both files")
    assert not any(p.is_file() for p in inbox.rglob("*"))
    assert {r.status for r in watcher.results} == {IMPORTED}
    assert demo_monitor.store.latest("M21-bauland")[0].office == "Amt 61"
    texts = notices.texts()
    assert any("Importiert: bauland.csv (Amt 61)" in t for t in texts)
    assert all(ADMINS in n.recipients for n in notices)


def test_dropped_file_and_duplicate_and_rejection(running: FolderWatcher, demo_monitor: Monitor,
                                                  notices: Notices) -> None:
    inbox = demo_monitor.settings.inbox
    data = office_csv([row("M21-bauland", "2017", "1,5")])
    (inbox / "a.csv").write_bytes(data)
    wait_for(imported(demo_monitor, "M21-bauland", "2017"), what="import")
    (inbox / "b.csv").write_bytes(data)
    (inbox / "kaputt.csv").write_bytes(office_csv([row("M21-baulant", "2017", "1")]))
    wait_for(lambda: len(running.results) == 3, what="three results")
    assert [r.status for r in running.results if r.file == "b.csv"] == [DUPLICATE]
    wait_for(lambda: (demo_monitor.settings.rejected / "kaputt.csv.fehler.txt").exists(), what="report")
    report = (demo_monitor.settings.rejected / "kaputt.csv.fehler.txt").read_text(encoding="utf-8-sig")
    assert "meinten Sie „Beispiel: Neu ausgewiesenes Bauland“? (M21-bauland)" in report
    assert any("Schon vorhanden: b.csv" in t for t in notices.texts())


def test_slow_writer_is_not_read_half(running: FolderWatcher, demo_monitor: Monitor, mode: str) -> None:
    rows = [row("M33-sgb2-quote", str(year), f"{year - 1980},5", "M33") for year in range(1980, 2020)]
    data = office_csv(rows)
    path = demo_monitor.settings.inbox / "langsam.csv"

    half = data.index(b"\r\n", len(data) // 2) + 2

    def writer() -> None:
        with open(path, "wb") as fh:
            for start in range(0, len(data), 200):  # chunk boundaries fall inside lines and between them
                if mode == "native" and start < half <= start + 200:
                    # Half a file that is a valid CSV by itself, held open well past stable_seconds: only
                    # the close event tells it is not finished (polling cannot know; it relies on stability).
                    fh.write(data[start:half])
                    fh.flush()
                    time.sleep(1.0)
                    fh.write(data[half:])
                    return
                fh.write(data[start:start + 200])
                fh.flush()
                time.sleep(0.08)

    thread = threading.Thread(target=writer)
    thread.start()
    thread.join()
    wait_for(lambda: running.results, what="result")
    (result,) = running.results
    assert result.status == IMPORTED and result.rows == 40, result.findings[:2]


def test_office_save_temp_then_rename_and_lock_files(running: FolderWatcher, demo_monitor: Monitor) -> None:
    inbox = demo_monitor.settings.inbox
    lock = inbox / "~$M31_U3.xlsx"
    lock.write_bytes(b"\x0bBeispiel  " * 10)
    ods_lock = inbox / ".~lock.M42.ods#"
    ods_lock.write_text("Beispiel,host,1234;", encoding="utf-8")
    temp = inbox / "6F2A1B3C.tmp"
    temp.write_bytes(xlsx([row("M31-u3-plaetze", "2016-Q4", "91")]))
    os.replace(temp, inbox / "M31_U3.xlsx")
    wait_for(imported(demo_monitor, "M31-u3-plaetze", "2016-Q4"), what="renamed file")
    # The result is recorded after the store write (and the move): wait for it too, not just for the value.
    wait_for(lambda: running.results, what="result")
    assert lock.exists() and ods_lock.exists()
    assert [r.file for r in running.results] == ["M31_U3.xlsx"]


def test_hundred_files_at_once(running: FolderWatcher, demo_monitor: Monitor) -> None:
    inbox = demo_monitor.settings.inbox
    # Block-level areas: a catalogue without a [[gebiet]] list takes any area.
    demo_monitor.catalogue = replace(demo_monitor.catalogue, areas={})
    for k in range(100):
        (inbox / f"drop_{k:03d}.csv").write_bytes(
            office_csv([["M33", "M33-sgb2-quote", "2016", f"Block {k}", f"{k},5", "%", "Amt 12", ""]]))
    wait_for(lambda: len(running.results) == 100, timeout=60, what="100 imports")
    assert {r.status for r in running.results} == {IMPORTED}
    assert len([o for o in demo_monitor.store.observations("M33-sgb2-quote") if o.period == "2016"]) == 100
    assert not list(inbox.iterdir())


def test_half_written_xlsx_under_polling_is_retried_not_rejected(demo_monitor: Monitor, notices: Notices) -> None:
    tune(demo_monitor, polling=True, stable_seconds=0.3)
    data = xlsx([row("M31-u3-plaetze", "2017-Q1", "12")])
    path = demo_monitor.settings.inbox / "halb.xlsx"
    with build_watcher(demo_monitor, notices) as watcher, open(path, "wb") as fh:
        fh.write(data[: len(data) // 2])
        fh.flush()
        # Longer than stable_seconds: the watcher reads the half file, fails, and must look again.
        wait_for(lambda: watcher._pending.get(path) is not None and watcher._pending[path].held, what="held")
        fh.write(data[len(data) // 2:])
        fh.flush()
        fh.close()
        wait_for(lambda: watcher.results, what="result")
    assert watcher.results[0].status == IMPORTED
    assert not list(demo_monitor.settings.rejected.iterdir())


def test_catalogue_reload_and_broken_catalogue(running: FolderWatcher, demo_monitor: Monitor,
                                               notices: Notices) -> None:
    path = demo_monitor.settings.catalogue_file
    good = path.read_text(encoding="utf-8")
    path.write_text(good + '\n[[indikator]]\nid = "M43-neu"\nmassnahme = "M43"\nname = "Neu"\n', encoding="utf-8")
    wait_for(lambda: "M43-neu" in demo_monitor.catalogue.indicators, what="reload")
    wait_for(lambda: any("übernommen" in t for t in notices.texts()), what="reload notice")
    path.write_text(good + "\n[[indikator]\nkaputt", encoding="utf-8")
    wait_for(lambda: any("zuletzt gültige" in t for t in notices.texts()), what="broken notice")
    assert "M43-neu" in demo_monitor.catalogue.indicators  # the last good catalogue stays
    broken = next(n for n in notices if "zuletzt gültige" in n.reply.plain())
    assert broken.kind == "error" and broken.recipients == (ADMINS,)
    assert "katalog.toml:" in broken.reply.plain()


class _LimitObserver(Observer):
    def start(self) -> None:
        raise OSError(errno.ENOSPC, "inotify watch limit reached")


class _DeafObserver(Observer):
    def schedule(self, *args: object, **kwargs: object) -> None:
        return None


def test_watch_limit_falls_back_to_polling_with_german_notice(demo_monitor: Monitor, notices: Notices) -> None:
    tune(demo_monitor, polling=False)
    pipeline = Pipeline(demo_monitor, notices)
    with FolderWatcher(demo_monitor, pipeline, observer_factory=_LimitObserver, sink=notices) as watcher:
        assert watcher.polling
        (demo_monitor.settings.inbox / "x.csv").write_bytes(office_csv([row("M21-bauland", "2018", "2")]))
        wait_for(imported(demo_monitor, "M21-bauland", "2018"), what="import by polling")
    (message,) = [n for n in notices if n.kind == "error"]
    assert "Limit des Systems" in message.reply.plain()
    assert "schaut stattdessen alle 0,1 Sekunden nach" in message.reply.plain()


def test_rescan_catches_lost_events(demo_monitor: Monitor, notices: Notices) -> None:
    tune(demo_monitor, polling=False, rescan_minutes=0.005)
    pipeline = Pipeline(demo_monitor, notices)
    with FolderWatcher(demo_monitor, pipeline, observer_factory=_DeafObserver, sink=notices):
        (demo_monitor.settings.inbox / "verloren.csv").write_bytes(office_csv([row("M21-bauland", "2019", "2")]))
        wait_for(imported(demo_monitor, "M21-bauland", "2019"), what="import by rescan")


def test_reading_the_catalogue_does_not_trigger_reloads(demo_monitor: Monitor, notices: Notices) -> None:
    tune(demo_monitor, polling=False)
    pipeline = Pipeline(demo_monitor, notices)
    reloads: list[int] = []
    with FolderWatcher(demo_monitor, pipeline, sink=notices) as watcher:
        original = watcher.catalogue_changed

        def counted() -> None:
            reloads.append(1)
            original()

        watcher.catalogue_changed = counted  # type: ignore[method-assign]
        catalogue = demo_monitor.settings.catalogue_file
        for _ in range(5):
            catalogue.read_bytes()  # readers (check, ask, an editor) open and close it
        time.sleep(0.5)  # events arrive asynchronously; nothing may come of mere reads
        assert reloads == []
        catalogue.write_text(catalogue.read_text(encoding="utf-8") + "\n", encoding="utf-8")
        wait_for(lambda: reloads, what="reload after a real change")


def test_a_file_that_cannot_be_archived_is_announced_once_not_at_every_rescan(
        demo_monitor: Monitor, notices: Notices, monkeypatch) -> None:
    import watchers.pipeline as pipeline_module

    def no_permission(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(pipeline_module, "_place", no_permission)  # the share refuses the move
    tune(demo_monitor, polling=False, rescan_minutes=0.003)
    pipeline = Pipeline(demo_monitor, notices)
    with FolderWatcher(demo_monitor, pipeline, sink=notices) as watcher:
        (demo_monitor.settings.inbox / "fest.csv").write_bytes(office_csv([row("M21-bauland", "2011", "2")]))
        wait_for(lambda: len(watcher.results) >= 4, what="several rescans")  # each rescan retries it
    assert [r.status for r in watcher.results][:2] == [IMPORTED, DUPLICATE]
    assert len([n for n in notices if n.kind == "notice"]) == 1  # the import, announced once
    assert len([n for n in notices if n.kind == "error"]) == 1  # the move failure, reported once


def test_a_share_that_is_not_mounted_yet_is_watched_once_it_appears(demo_monitor: Monitor, notices: Notices,
                                                                    tmp_path: Path) -> None:
    share = tmp_path / "netzlaufwerk"  # not there at start, like an unmounted network share
    demo_monitor.settings = replace(demo_monitor.settings, ablage=share)
    tune(demo_monitor, polling=False, rescan_minutes=0.003)
    pipeline = Pipeline(demo_monitor, notices)
    with FolderWatcher(demo_monitor, pipeline, sink=notices):
        wait_for(lambda: [n for n in notices if n.kind == "error"], what="German notice")
        assert "nicht erreichbar" in notices[0].reply.plain()
        assert not share.exists()  # no local stand-in folder was created
        share.mkdir()
        wait_for(lambda: (share / "eingang").is_dir(), what="inbox once the share is there")
        (share / "eingang" / "spaet.csv").write_bytes(office_csv([row("M21-bauland", "2012", "3")]))
        wait_for(imported(demo_monitor, "M21-bauland", "2012"), what="import after the share appeared")
