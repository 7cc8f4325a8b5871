"""A file that cannot be moved never loops: long names are shortened, what cannot be archived is rejected with a
clear notice, announced once, and never called an import (real watcher on a real folder)."""

from __future__ import annotations

import time

import pytest

from bot.workspace import Monitor
from tests.test_pipeline import NOW, office_csv
from tests.test_watcher import Notices, row, tune, wait_for
from watchers import build_watcher, files
from watchers.pipeline import IMPORTED, REJECTED, REPORT_SUFFIX, Pipeline

LONG = "x" * 245 + ".csv"  # 249 characters: NAME.fehler.txt would be 260
UMLAUTS = "Übersicht_Größenverhältnisse_" + "ä" * 100 + ".xlsx"  # 234 characters, 363 bytes in UTF-8


@pytest.fixture(params=["native", "polling"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


def test_a_long_name_is_shortened_in_abgelehnt_with_its_report(demo_monitor: Monitor) -> None:
    notices = Notices()
    pipe = Pipeline(demo_monitor, notices, clock=lambda: NOW)
    path = demo_monitor.settings.inbox / LONG
    path.write_bytes(office_csv([row("M21-baulant", "2026", "1")]))
    result = pipe.process(path)
    assert result.status == REJECTED and not path.exists()
    assert result.moved_to.parent == demo_monitor.settings.rejected
    assert result.moved_to.name.endswith(".csv") and result.moved_to.name.startswith("xxxxx")
    assert result.report.name == result.moved_to.name + REPORT_SUFFIX
    assert len(result.report.name.encode()) <= files.NAME_MAX
    assert "Abgelehnt: " + LONG in notices[0].reply.plain()
    assert "verarbeitet" not in notices[0].reply.plain()


def test_long_utf8_names_are_archived_below_name_max_in_bytes(demo_monitor: Monitor) -> None:
    from tests.test_pipeline import xlsx

    pipe = Pipeline(demo_monitor, Notices(), clock=lambda: NOW)
    for k in range(2):  # the second one needs a number: "…_2.xlsx" must fit as well
        path = demo_monitor.settings.inbox / UMLAUTS
        path.write_bytes(xlsx([row("M31-u3-plaetze", f"2026-Q{k + 3}", "12")]))
        result = pipe.process(path)
        assert result.status == IMPORTED and not path.exists(), result.findings
        name = result.moved_to.name
        assert len(name.encode("utf-8")) + len(REPORT_SUFFIX) <= files.NAME_MAX
        assert name.endswith(".xlsx") and name.startswith("Übersicht_Größenverhältnisse_ää")
    assert demo_monitor.store.latest("M31-u3-plaetze")[0].file == UMLAUTS  # the store keeps the real name


def test_the_long_name_leaves_the_inbox_once_under_the_watcher(demo_monitor: Monitor, mode: str) -> None:
    notices = Notices()
    tune(demo_monitor, polling=mode == "polling")
    with build_watcher(demo_monitor, notices) as watcher:
        (demo_monitor.settings.inbox / LONG).write_bytes(office_csv([row("M21-baulant", "2026", "1")]))
        wait_for(lambda: watcher.results, what="the rejection")
        time.sleep(1.5)  # several stability windows: a loop would show as further results
    assert [r.status for r in watcher.results] == [REJECTED]
    assert not list(demo_monitor.settings.inbox.iterdir())
    (notice,) = notices
    assert notice.reply.plain().startswith("Abgelehnt: ")


def test_a_rejection_that_cannot_be_archived_is_said_once_and_not_called_an_import(
        demo_monitor: Monitor, mode: str) -> None:
    notices = Notices()
    tune(demo_monitor, polling=mode == "polling", rescan_minutes=0.01)
    rejected = demo_monitor.settings.rejected
    rejected.rmdir()
    rejected.write_text("kein Ordner", encoding="utf-8")  # abgelehnt/ cannot take anything (a broken share)
    with build_watcher(demo_monitor, notices) as watcher:
        path = demo_monitor.settings.inbox / "kaputt.csv"
        path.write_bytes(office_csv([row("M21-baulant", "2026", "1")]))
        wait_for(lambda: len(watcher.results) >= 3, what="retries at the rescans")
    assert {r.status for r in watcher.results} == {REJECTED}
    assert path.exists()  # stays in the inbox, nothing lost
    texts = notices.texts()
    assert len(texts) == 2, texts  # the rejection and the move failure, each once, not at every rescan
    assert texts[0].startswith("Abgelehnt: kaputt.csv")
    assert "wurde abgelehnt" in texts[1] and "nicht nach abgelehnt/ verschoben" in texts[1]
    assert not any("ist verarbeitet" in t for t in texts)


def test_a_name_that_is_not_utf8_is_handled_and_stored_readably(demo_monitor: Monitor, mode: str) -> None:
    import os

    notices = Notices()
    tune(demo_monitor, polling=mode == "polling")
    inbox = os.fsencode(demo_monitor.settings.inbox)
    # Names written by an old client in Latin-1: "Übersicht.csv" and "Lücke.csv" as single bytes.
    with open(os.path.join(inbox, b"\xdcbersicht.csv"), "wb") as fh:
        fh.write(office_csv([row("M21-bauland", "2021", "3")]))
    with open(os.path.join(inbox, b"L\xfccke.csv"), "wb") as fh:
        fh.write(b"kein Inhalt")
    with build_watcher(demo_monitor, notices) as watcher:
        wait_for(lambda: len(watcher.results) == 2, what="both files")
    assert {r.file: r.status for r in watcher.results} == {"\ufffdbersicht.csv": IMPORTED,
                                                           "L\ufffdcke.csv": REJECTED}
    assert not os.listdir(inbox)
    assert [o.file for o in demo_monitor.store.observations("M21-bauland") if o.period == "2021"] == [
        "\ufffdbersicht.csv"]
    assert os.path.exists(os.path.join(os.fsencode(demo_monitor.settings.rejected), b"L\xfccke.csv.fehler.txt"))
    assert any("Abgelehnt: L\ufffdcke.csv" in t for t in notices.texts())
