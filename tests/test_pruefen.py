"""Offices check their own files: pruefen/ under a real watcher (native and polling) and `sozialmonitor pruefen`.
Judged exactly like an import; nothing is stored, moved or archived."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bot.workspace import Monitor
from tests.conftest import run_cli
from tests.test_pipeline import office_csv
from tests.test_watcher import Notices, tune, wait_for
from watchers import build_watcher
from watchers.pipeline import DUPLICATE, IMPORTED, REJECTED

# Against the demo store (M21-bauland 2022–2025: 4,2 / 6,8 / 1,0 / 7,5): 1 unchanged, 3 corrections, 1 new.
GOOD = office_csv([
    ["M21", "M21-bauland", "2022", "", "4,2", "ha", "Amt 61", "Beispielwert"],
    ["M21", "M21-bauland", "2023", "", "7,0", "ha", "Amt 61", "korrigiert"],
    ["M21", "M21-bauland", "2024", "", "1,5", "ha", "Amt 61", "korrigiert"],
    ["M21", "M21-bauland", "2025", "", "8,0", "ha", "Amt 61", "korrigiert"],
    ["M21", "M21-wohnungen", "2021", "", "400", "Anzahl", "Amt 61", ""],
])
BAD = office_csv([
    ["M21", "Neu ausgewiesenes Baulnd", "2023", "", "7", "", "", ""],
    ["M99", "M21-bauland", "2024", "", "1", "", "", ""],
])


@pytest.fixture(params=["native", "polling"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


def snapshot(monitor: Monitor) -> tuple[bytes, list[str], list[Path]]:
    """The store file, its delivery segments and the archive folders: what a check must leave as it was."""
    data = monitor.settings.data
    segments = sorted(p.name for p in data.rglob("*") if "sicherungen" not in p.parts)
    share = monitor.settings
    moved = sorted([*share.processed.rglob("*"), *share.rejected.rglob("*")])
    return monitor.settings.store_file.read_bytes(), segments, moved


def report_of(path: Path) -> str:
    return (path.parent / (path.name + ".pruefung.txt")).read_text(encoding="utf-8-sig")


def test_init_creates_the_check_folder(workspace: Path) -> None:
    assert (workspace / "ablage" / "pruefen").is_dir()


def test_a_file_in_pruefen_gets_a_report_and_stays(demo_monitor: Monitor, mode: str) -> None:
    tune(demo_monitor, polling=mode == "polling")
    folder = demo_monitor.settings.share / "pruefen"
    before = snapshot(demo_monitor)
    notices = Notices()
    with build_watcher(demo_monitor, notices) as watcher:
        path = folder / "M21_Bauland.csv"
        path.write_bytes(GOOD)
        wait_for(lambda: len(watcher.checks) == 1, what="the check")
        report = report_of(path)
        assert "Ergebnis: würde übernommen: 5 Werte, davon 3 Korrekturen." in report
        assert "1 neu, 3 ersetzt, 1 unverändert." in report and "Lieferndes Amt: Amt 61" in report
        assert "nichts gespeichert" in report
        # Saved again, now broken: a fresh report with every problem.
        time.sleep(0.05)  # a distinct modification time on coarse file systems
        path.write_bytes(BAD)
        wait_for(lambda: len(watcher.checks) == 2, what="the second check")
        report = report_of(path)
        assert "würde abgelehnt: 2 Problem(e)" in report
        assert "meinten Sie „Beispiel: Neu ausgewiesenes Bauland“?" in report and "M99" in report
        time.sleep(1.0)  # several stability windows: neither the report nor our own reads start another check
    assert [r.status for r in watcher.checks] == [IMPORTED, REJECTED]
    assert all(r.preview for r in watcher.checks)
    assert sorted(p.name for p in folder.iterdir()) == ["M21_Bauland.csv", "M21_Bauland.csv.pruefung.txt"]
    assert snapshot(demo_monitor) == before  # nothing stored, moved or archived
    assert notices.texts() == []  # a check is the office's own business: no chat notices


def test_a_check_judges_the_office_of_the_sub_folder_like_an_import(demo_monitor: Monitor, mode: str) -> None:
    tune(demo_monitor, polling=mode == "polling")
    folder = demo_monitor.settings.share / "pruefen" / "Amt 40"
    folder.mkdir()
    path = folder / "bauland.csv"
    path.write_bytes(office_csv([["M21", "M21-bauland", "2021", "", "1", "", "", ""]]))
    with build_watcher(demo_monitor, Notices()) as watcher:  # waiting before the start
        wait_for(lambda: watcher.checks, what="the check")
    assert "Amt 40 liefert diesen Indikator nicht; zuständig ist Amt 61" in report_of(path)


def test_a_file_reported_before_a_restart_is_not_checked_again(demo_monitor: Monitor) -> None:
    tune(demo_monitor, polling=False)
    folder = demo_monitor.settings.share / "pruefen"
    old = folder / "alt.csv"
    old.write_bytes(GOOD)
    with build_watcher(demo_monitor, Notices()) as watcher:
        wait_for(lambda: watcher.checks, what="first check")
    made = os.stat(folder / "alt.csv.pruefung.txt").st_mtime_ns
    with build_watcher(demo_monitor, Notices()) as watcher:
        (folder / "neu.csv").write_bytes(GOOD)
        wait_for(lambda: watcher.checks, what="the new file's check")
    assert [r.file for r in watcher.checks] == ["neu.csv"]
    assert os.stat(folder / "alt.csv.pruefung.txt").st_mtime_ns == made


def test_pruefen_on_the_command_line(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run_cli("init", str(ws), "--demo").returncode == 0
    assert (ws / "ablage" / "pruefen").is_dir()
    good, bad = tmp_path / "gut.csv", tmp_path / "schlecht.csv"
    good.write_bytes(GOOD)
    bad.write_bytes(BAD)
    store = ws / "daten" / "sozialmonitor.json"
    before = store.read_bytes()
    result = run_cli("pruefen", "--workspace", str(ws), str(good))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{good}: würde übernommen: 5 Werte, davon 3 Korrekturen\n"
    result = run_cli("pruefen", "--workspace", str(ws), str(good), str(bad), str(tmp_path / "fehlt.csv"))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 3  # one line per file
    assert lines[1].startswith(f"{bad}: würde abgelehnt: 2 Problem(e); zuerst: Zeile 2")
    assert lines[2] == f"{tmp_path / 'fehlt.csv'}: die Datei gibt es nicht"
    assert store.read_bytes() == before and good.exists() and bad.exists()
    assert not list((ws / "ablage" / "abgelehnt").iterdir())
    assert not [p for p in (ws / "ablage" / "verarbeitet").rglob("*") if p.name in ("gut.csv", "schlecht.csv")]
    assert not list(tmp_path.glob("*.pruefung.txt"))  # the command line prints; it writes no report
    # What is there already is recognised as a duplicate: exit 0, it would not be counted twice.
    archived = next((ws / "ablage" / "verarbeitet").rglob("Beispiel_M21_*.csv"))
    result = run_cli("pruefen", "--workspace", str(ws), str(archived))
    assert result.returncode == 0 and "schon vorhanden" in result.stdout


def test_pruefen_in_english(demo_monitor: Monitor, tmp_path: Path) -> None:
    from dataclasses import replace

    from commands.ingest_words import check_summary
    from watchers.pipeline import Pipeline

    demo_monitor.settings = replace(demo_monitor.settings, language="en")
    pipeline = Pipeline(demo_monitor, None)
    path = tmp_path / "good.csv"
    path.write_bytes(GOOD)
    result = pipeline.check(path)
    assert check_summary(result, "en") == "would be imported: 5 values, of which 3 corrections"
    report = pipeline.check_report(path, result)
    assert "Result: would be imported" in report.read_text(encoding="utf-8-sig")
    again = pipeline.check(next(demo_monitor.settings.processed.rglob("Beispiel_M21_*.csv")))
    assert again.status == DUPLICATE and "already there" in check_summary(again, "en")


def test_a_long_name_gets_a_shortened_report_that_is_never_checked_itself(demo_monitor: Monitor) -> None:
    from watchers import files
    from watchers.pipeline import Pipeline, is_ignored

    folder = demo_monitor.settings.share / "pruefen"
    path = folder / ("ä" * 120 + ".csv")  # 244 bytes: NAME.pruefung.txt would not fit
    path.write_bytes(GOOD)
    pipeline = Pipeline(demo_monitor, None)
    report = pipeline.check_report(path, pipeline.check(path))
    assert report.parent == folder and report.name.endswith(".pruefung.txt")
    assert len(report.name.encode()) <= files.NAME_MAX and report.name.startswith("ää")
    assert is_ignored(report.name)
    assert "würde übernommen: 5 Werte" in report.read_text(encoding="utf-8-sig")
