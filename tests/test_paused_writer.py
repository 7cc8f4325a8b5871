"""A writer that pauses mid-file never leaves a partial import: real writer processes against a real watcher
(native inotify and polling) on a real folder; the store and the archive end up holding the file's final content."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.workspace import Monitor
from tests.test_watcher import Notices, tune, wait_for
from watchers.pipeline import IMPORTED, REJECTED, Pipeline
from watchers.watcher import FolderWatcher

HEADER = "Maßnahme;Indikator;Zeitraum;Gebiet;Wert;Einheit;Amt;Bemerkung\r\n"
YEARS = range(1990, 2016)  # 26 rows: 13 before the pause, 13 after
PAUSE = 2.0  # longer than every window below, as 6 s (polling) or 40 s (native) are longer than the defaults
WINDOWS = {"stable_seconds": 0.3, "poll_interval": 0.1}
GRACE, SETTLE = 0.6, 0.6

# Copies `source` to `target` in two parts with a pause between, holding the file open throughout.
WRITER = """
import sys, time
source, target, cut, pause = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
data = open(source, 'rb').read()
with open(target, 'wb') as fh:
    fh.write(data[:cut]); fh.flush()
    time.sleep(pause)
    fh.write(data[cut:]); fh.flush()
"""


def rows(years: range, extra: str = "") -> bytes:
    lines = [f"M33;M33-sgb2-quote;{y};;{y - 1980},5;%;Amt 12;\r\n" for y in years]
    return (HEADER + "".join(lines) + extra).encode("cp1252")


def expected_values(years: range) -> dict[str, float]:
    return {str(y): float(y - 1980) + 0.5 for y in years}


def city_values(monitor: Monitor) -> dict[str, float]:
    """The whole-city values of the indicator (the demo data holds only district values for it)."""
    return {o.period: o.value for o in monitor.store.observations("M33-sgb2-quote") if not o.area}


@pytest.fixture(params=["native", "polling"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def notices() -> Notices:
    return Notices()


@pytest.fixture
def watcher(demo_monitor: Monitor, notices: Notices, mode: str) -> Iterator[FolderWatcher]:
    tune(demo_monitor, polling=mode == "polling", **WINDOWS)
    pipeline = Pipeline(demo_monitor, notices)
    # Short windows so the test stays quick; the pause still exceeds every one of them.
    with FolderWatcher(demo_monitor, pipeline, sink=notices, open_grace_seconds=GRACE,
                       settle_seconds=SETTLE) as running:
        yield running


def write_with_pause(tmp_path: Path, target: Path, data: bytes, cut: int) -> None:
    source = tmp_path / "quelle.csv"
    source.write_bytes(data)
    subprocess.run([sys.executable, "-c", WRITER, str(source), str(target), str(cut), str(PAUSE)], check=True,
                   timeout=60)


def archived(monitor: Monitor, stem: str) -> list[Path]:
    return sorted(p for p in monitor.settings.processed.rglob(f"{stem}*") if p.is_file())


def test_a_pause_after_complete_rows_ends_with_the_final_content(
        watcher: FolderWatcher, demo_monitor: Monitor, notices: Notices, tmp_path: Path) -> None:
    final = rows(YEARS)
    cut = len(rows(YEARS[:13]))  # 13 complete rows: a valid file on its own, which is read during the pause
    write_with_pause(tmp_path, demo_monitor.settings.inbox / "langsam.csv", final, cut)
    wait_for(lambda: city_values(demo_monitor) == expected_values(YEARS), what="the final content stored")
    wait_for(lambda: any(r.earlier for r in watcher.results), what="the correction recorded")
    (copy,) = archived(demo_monitor, "langsam")
    assert copy.read_bytes() == final
    latest = max(demo_monitor.store.deliveries(), key=lambda d: d.id)
    assert latest.content_hash == hashlib.sha256(final).hexdigest() and latest.file == "langsam.csv"
    first, again = [r for r in watcher.results if r.file == "langsam.csv"]
    assert (first.status, first.rows) == (IMPORTED, 13)  # the partial import this test provokes …
    assert (again.status, again.rows, again.new, again.unchanged) == (IMPORTED, 26, 13, 13)  # … corrected
    text = notices.texts()[-1]
    assert "noch weitergeschrieben" in text and "26 Werte" in text
    assert not list(demo_monitor.settings.rejected.iterdir())


def test_a_pause_inside_a_row_is_not_left_rejected(
        watcher: FolderWatcher, demo_monitor: Monitor, notices: Notices, tmp_path: Path) -> None:
    final = rows(YEARS)
    cut = final.index(b";2003;") + 4  # the last row before the pause ends in "20": a broken period
    write_with_pause(tmp_path, demo_monitor.settings.inbox / "mitten.csv", final, cut)
    wait_for(lambda: city_values(demo_monitor) == expected_values(YEARS), what="the final content stored")
    wait_for(lambda: archived(demo_monitor, "mitten"), what="archived")
    (copy,) = archived(demo_monitor, "mitten")
    assert copy.read_bytes() == final
    wait_for(lambda: not list(demo_monitor.settings.rejected.iterdir()), what="nothing left in abgelehnt/")
    # The result is recorded after the store write and the move: wait for it too.
    wait_for(lambda: any(r.earlier == REJECTED for r in watcher.results), what="the second look recorded")
    statuses = [r.status for r in watcher.results if r.file == "mitten.csv"]
    assert statuses == [REJECTED, IMPORTED]  # rejected while incomplete, then imported whole
    assert any("nach der Ablehnung noch weitergeschrieben" in t for t in notices.texts())


def test_a_final_content_with_errors_is_rejected_and_withdraws_the_partial_values(
        watcher: FolderWatcher, demo_monitor: Monitor, notices: Notices, tmp_path: Path) -> None:
    final = rows(YEARS[:13], extra="M33;M33-sgb2-quote;kaputt;;1;%;Amt 12;\r\n")
    cut = len(rows(YEARS[:13]))
    write_with_pause(tmp_path, demo_monitor.settings.inbox / "halbgut.csv", final, cut)
    rejected = demo_monitor.settings.rejected
    wait_for(lambda: any(r.earlier == IMPORTED and r.status == REJECTED for r in watcher.results),
             what="the final content judged")
    assert (rejected / "halbgut.csv").read_bytes() == final
    assert not archived(demo_monitor, "halbgut")
    assert "„kaputt“" in (rejected / "halbgut.csv.fehler.txt").read_text(encoding="utf-8-sig")
    # The store holds nothing the rejected file brought: the incomplete state's values are withdrawn …
    assert city_values(demo_monitor) == {}
    assert all(d.file != "halbgut.csv" for d in demo_monitor.store.deliveries())
    # … and the notice says so.
    text = next(t for t in notices.texts() if "Abgelehnt: halbgut.csv" in t)
    assert "noch weitergeschrieben" in text
    assert "Die 13 Werte aus dem unvollständigen Stand wurden zurückgenommen" in text


def test_an_unchanged_archive_is_verified_without_a_second_import(demo_monitor: Monitor, notices: Notices,
                                                                   mode: str) -> None:
    tune(demo_monitor, polling=mode == "polling", **WINDOWS)
    pipeline = Pipeline(demo_monitor, notices)
    with FolderWatcher(demo_monitor, pipeline, sink=notices, settle_seconds=0.2) as watcher:
        (demo_monitor.settings.inbox / "fertig.csv").write_bytes(rows(YEARS))
        wait_for(lambda: watcher.results, what="the import")
        wait_for(lambda: all(s.verified for s in watcher._settling.values()), what="the archive verified")
    assert [r.status for r in watcher.results] == [IMPORTED]
    assert len(notices) == 1
