"""The ingest's words (commands/ingest_words.py): what watchers/ hands over as data is worded only when shown."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest

from bot.workspace import Monitor, create_workspace
from commands import ingest_words
from commands.ingest_words import INGEST_WORDS, finding_line
from storage.catalogue import parse_catalogue, render_catalogue
from storage.config import CATALOGUE_FILE
from storage.messages import Outgoing
from storage.models import Area, Indicator, Office
from watchers import validate
from watchers.pipeline import IMPORTED, Pipeline
from watchers.results import Finding, Notice
from watchers.validate import check_delivery, too_big

from .conftest import BERLIN

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)
AREAS = [f"Bezirk {k}" for k in range(20)]
CATALOGUE = render_catalogue(offices=[Office("Amt 61", "Amt für Stadtentwicklung")], indicators=[
    Indicator("M21-sozialwohnungen", "M21", "Neu gebaute Sozialwohnungen", "Anzahl", "jährlich", 60, "Amt 61")],
    areas=[Area(name) for name in AREAS])


def office_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(["Maßnahme", "Indikator", "Zeitraum", "Gebiet", "Wert"])
    writer.writerows(rows)
    return out.getvalue().encode("cp1252")


@pytest.fixture
def monitor(tmp_path: Path) -> Iterator[Monitor]:
    path = tmp_path / "ws"
    create_workspace(path, today=NOW.date())
    (path / CATALOGUE_FILE).write_text(CATALOGUE, encoding="utf-8")
    opened = Monitor.open(path, env={})
    yield opened
    opened.close()


class Counted:
    """describe() as it is, counting its calls: every finding worded passes through it."""

    def __init__(self) -> None:
        self.calls = 0
        self.describe = ingest_words.describe

    def __call__(self, finding: Finding, lang: str = "de") -> ingest_words.Words:
        self.calls += 1
        return self.describe(finding, lang)


def test_warnings_are_worded_only_when_the_notice_shows_them(monitor: Monitor,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[Outgoing] = []
    pipe = Pipeline(monitor, sent.append, clock=lambda: NOW)
    first = monitor.settings.inbox / "M21_2017.csv"
    first.write_bytes(office_csv([["M21", "M21-sozialwohnungen", "2017", area, "10"] for area in AREAS]))
    done = pipe.process(first)
    assert done.status == IMPORTED, [finding_line(f) for f in done.findings]
    counted = Counted()
    monkeypatch.setattr(ingest_words, "describe", counted)
    jumps = office_csv([["M21", "M21-sozialwohnungen", "2018", area, "1000"] for area in AREAS])
    assert len(check_delivery(jumps, "M21_2018.csv", monitor.catalogue, series=monitor.store.series).warnings) == 20
    assert counted.calls == 0  # judging a file words nothing
    second = monitor.settings.inbox / "M21_2018.csv"
    second.write_bytes(jumps)
    result = pipe.process(second)
    assert result.status == IMPORTED and [w.code for w in result.warnings] == ["jump"] * 20
    assert counted.calls == ingest_words.NOTICE_WARNINGS == 5  # the notice words the five it shows
    lines = sent[-1].reply.plain().splitlines()
    assert lines[3].startswith("Zeile 2, Spalte „Wert“: Der Wert 1.000 für „Neu gebaute Sozialwohnungen“ (Bezirk 0, "
                               "2018) ist mehr als zehnmal so groß wie der vorige Wert 10 (2017).")
    assert lines[-1] == "… und 15 weitere Hinweise."


def test_a_finding_is_the_same_data_in_every_language_and_worded_in_each(monitor: Monitor) -> None:
    data = office_csv([["M21", "M21-sozialwohnungen", "2018", "", "-3"]])
    (finding,) = check_delivery(data, "n.csv", monitor.catalogue).findings
    assert (finding.code, finding.row, finding.role, finding.found) == ("negative", 2, "value", None)
    assert finding.params["value"] == -3.0  # the number itself: its notation is the reader's
    assert finding_line(finding).startswith("Zeile 2, Spalte „Wert“: Der Wert -3 ist negativ;")
    assert finding_line(finding, "en").startswith("row 2, column “value”: The value -3 is negative;")


def test_file_level_findings_name_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    big = too_big(21 * 1024 * 1024, 20 * 1024 * 1024)
    assert finding_line(big).startswith("Datei: Die Datei ist 21 MB groß; erlaubt sind höchstens 20 MB.")
    assert finding_line(big, "en").startswith("file: The file is 21 MB; at most 20 MB are allowed.")
    cat, _ = parse_catalogue(CATALOGUE)

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a parser's surprise")

    monkeypatch.setattr(validate, "parse_records", broken)
    (unreadable,) = check_delivery(b"x", "x.csv", cat).findings
    assert unreadable == Finding("unreadable", {"detail": "RuntimeError"})
    assert finding_line(unreadable) == "Die Datei ließ sich nicht lesen (RuntimeError)."
    assert finding_line(unreadable, "en") == "The file could not be read (RuntimeError)."


def test_notice_parameters_are_worded_in_the_readers_notation() -> None:
    notice = Notice("protocol_no_meeting", {"file": "M21_2018-01-05.pdf", "measure": "M 21", "day": date(2018, 1, 5),
                                            "known": (date(2018, 6, 28), date(2018, 9, 20)), "command": "M21"})
    german = INGEST_WORDS.message(notice, "de").plain()
    assert "am 05.01.2018 (eingetragen: 28.06.2018, 20.09.2018)" in german
    assert "on 2018-01-05 (recorded: 2018-06-28, 2018-09-20)" in INGEST_WORDS.message(notice, "en").plain()
    none = INGEST_WORDS.message(replace(notice, params={**notice.params, "known": ()}), "de").plain()
    assert "(eingetragen: keine)" in none
    waiting = Notice("share_unavailable", {"path": "/ablage/eingang", "detail": "No such file", "minutes": 2.5})
    assert "alle 2,5 Minuten" in INGEST_WORDS.message(waiting, "de").plain()
    refused = INGEST_WORDS.message(Notice("protocol_refused", {"file": "x.pdf", "kind": "fifo"}), "en").plain()
    assert "protokolle/x.pdf is a named pipe (FIFO)" in refused


def test_a_reader_limit_is_a_number_worded_in_the_readers_notation() -> None:
    from watchers.read import read_table

    ragged = "Maßnahme;Indikator;Zeitraum;Wert\n" + "M21;A;2018;1\n" * 3 + ";" * 20_000 + "\n"
    (problem,) = read_table((ragged * 200).encode(), "r.csv").problems
    assert problem.code == "read.too_many_cells" and problem.params["limit"] == 10_000_000
    assert "höchstens 10.000.000 Zellen" in finding_line(problem)
    assert "at most 10,000,000 cells" in finding_line(problem, "en")
