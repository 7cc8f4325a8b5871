"""Plausibility at import: conflicting rows, periods not ended, negative counts, units, areas, jumps, and
numbers decided from the whole file — on files written the way offices write them, through the real pipeline."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from bot.workspace import Monitor, create_workspace
from commands.ingest_words import column, describe, expected, finding_line, suggestion
from storage.catalogue import parse_catalogue, render_catalogue
from storage.config import CATALOGUE_FILE
from storage.models import Area, Indicator, Office
from tests.conftest import BERLIN, run_cli
from watchers.pipeline import IMPORTED, REJECTED, IngestResult, Pipeline
from watchers.read import read_records
from watchers.validate import check_delivery, unit_kind, units_agree

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)
TODAY = NOW.date()
HEADER = ["Maßnahme", "Indikator", "Zeitraum", "Gebiet", "Wert", "Einheit", "Amt", "Bemerkung"]
OFFICES = [Office("Amt 61", "Amt für Stadtentwicklung"), Office("Amt 50", "Sozialamt"), Office("Amt 12", "Statistik")]
INDICATORS = [
    Indicator("M21-sozialwohnungen", "M21", "Neu gebaute Sozialwohnungen", "Anzahl", "jährlich", 60, "Amt 61"),
    Indicator("M21-bauland", "M21", "Neu ausgewiesenes Bauland", "ha", "jährlich", 60, "Amt 61"),
    Indicator("M24-anteil", "M24", "Anteil geförderter Wohnungen", "%", "jährlich", 60, "Amt 61"),
    Indicator("M22-wfh", "M22", "Vermittlungen Wohnen für Hilfe", "Anzahl", "halbjährlich", 60, "Amt 50"),
    Indicator("M31-u3", "M31", "U3-Plätze", "Plätze", "vierteljährlich", 60, "Amt 50"),
    Indicator("M33-saldo", "M33", "Wanderungssaldo", "Personen", "jährlich", 60, "Amt 12", negative_allowed=True),
    Indicator("M33-sgb2", "M33", "SGB-II-Quote", "%", "jährlich", 60, "Amt 12"),
]


def excel_csv(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    """What German Excel writes for "CSV (Trennzeichen-getrennt)": ;, CRLF, Windows-1252, quotes only when needed."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("cp1252")


def xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def ods(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    out = io.BytesIO()
    pd.DataFrame(rows, columns=header).to_excel(out, engine="odf", index=False)
    return out.getvalue()


def catalogue_text(areas: list[Area] | None = None, indicators: list[Indicator] = INDICATORS) -> str:
    return render_catalogue(offices=OFFICES, indicators=indicators, areas=areas)


@pytest.fixture
def catalogue():
    cat, problems = parse_catalogue(catalogue_text())
    assert problems == []
    return cat


class Sink(list):
    def __call__(self, message) -> None:
        self.append(message)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    create_workspace(path, today=TODAY)
    (path / CATALOGUE_FILE).write_text(catalogue_text(), encoding="utf-8")
    return path


@pytest.fixture
def monitor(ws: Path):
    m = Monitor.open(ws, env={})
    yield m
    m.close()


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def pipe(monitor: Monitor, sink: Sink) -> Pipeline:
    return Pipeline(monitor, sink, clock=lambda: NOW)


def ingest(monitor: Monitor, pipe: Pipeline, name: str, data: bytes) -> IngestResult:
    path = monitor.settings.inbox / name
    path.write_bytes(data)
    return pipe.process(path)


def report_of(result: IngestResult) -> str:
    assert result.status == REJECTED, result
    return result.report.read_text(encoding="utf-8-sig")


def check(data: bytes, name: str, catalogue, **kwargs):
    return check_delivery(data, name, catalogue, today=kwargs.pop("today", TODAY), **kwargs)


# --- 10. numbers from the evidence of the whole file --------------------------------------------------
def test_a_count_written_with_a_thousands_dot_by_german_excel_is_imported(monitor: Monitor, pipe: Pipeline) -> None:
    # The row of the issue: one value, nothing else in the file decides 1.301 - but a count is a whole number.
    data = excel_csv([["M21", "Neu gebaute Sozialwohnungen", "2018", "", "1.301", "", "", ""]],
                     header=["Maßnahme", "Indikator", "Zeitraum", "Gebiet", "Wert", "Einheit", "Amt", "Bemerkung"])
    assert data.startswith("Maßnahme;".encode("cp1252")) and b"\r\n" in data
    result = ingest(monitor, pipe, "M21_Sozialwohnungen_2018.csv", data)
    assert result.status == IMPORTED, result.findings
    assert [o.value for o in monitor.store.latest("M21-sozialwohnungen")] == [1301.0]
    # The file's own unit cell says the same when the catalogue has no unit for the indicator.
    bare = [Indicator("M21-sozialwohnungen", "M21", "Neu gebaute Sozialwohnungen", "", "jährlich", 60, "Amt 61")]
    cat, _ = parse_catalogue(catalogue_text(indicators=bare))
    data = excel_csv([["M21", "M21-sozialwohnungen", "2018", "", "1.301", "Stück", "", ""]])
    assert [r[3] for r in check(data, "s.csv", cat).rows] == [1301.0]


def test_what_stays_ambiguous_is_still_rejected(catalogue) -> None:
    # A share in % says nothing about 1.301: 1301 % or 1,301 %?
    checked = check(excel_csv([["M24", "M24-anteil", "2018", "", "1.301", "%", "", ""]]), "a.csv", catalogue)
    (problem,) = checked.findings
    assert (problem.code, problem.row, problem.column, problem.found) == ("read.number_ambiguous", 2, "Wert", "1.301")
    assert "1301 oder 1,301" in suggestion(problem)
    # A count of 2.000 is a whole number either way (2 or 2000): no evidence, no guess.
    checked = check(excel_csv([["M21", "M21-sozialwohnungen", "2018", "", "2.000", "", "", ""]]), "b.csv", catalogue)
    assert [f.code for f in checked.findings] == ["read.number_ambiguous"]
    # The reader alone (without the catalogue) keeps its rule.
    records, problems = read_records(excel_csv([["M21", "x", "2018", "", "1.301", "", "", ""]]), "c.csv")
    assert [p.code for p in problems] == ["read.number_ambiguous"] and records[0].value is None


def test_a_decided_count_shows_how_the_file_writes_numbers(catalogue) -> None:
    data = excel_csv([["M21", "M21-sozialwohnungen", "2017", "", "1.301", "Anzahl", "", ""],
                      ["M21", "M21-sozialwohnungen", "2018", "", "2.000", "Anzahl", "", ""],
                      ["M24", "M24-anteil", "2018", "", "2.500", "%", "", ""]])
    checked = check(data, "d.csv", catalogue)
    assert checked.ok, checked.findings
    assert [(r[0], r[2], r[3]) for r in checked.rows] == [
        ("M21-sozialwohnungen", "2017", 1301.0), ("M21-sozialwohnungen", "2018", 2000.0),
        ("M24-anteil", "2018", 2500.0)]
    # An English export with a thousands comma: the same count.
    data = b'measure,indicator,period,value\r\nM21,M21-sozialwohnungen,2018,"1,301"\r\n'
    assert [r[3] for r in check(data, "e.csv", catalogue).rows] == [1301.0]


def test_decimal_commas_elsewhere_in_the_workbook_decide(catalogue) -> None:
    # Sheets with numbers typed as text: the first decides nothing alone, the second writes decimal commas.
    head = ["Maßnahme", "Indikator", "Zeitraum", "Wert"]
    data = xlsx({"Anteile": [head, ["M24", "M24-anteil", "2017", "2.500"]],
                 "Quote": [head, ["M33", "M33-sgb2", "2018", "12,5"]]})
    checked = check(data, "w.xlsx", catalogue)
    assert checked.ok, checked.findings
    assert sorted((r[0], r[3]) for r in checked.rows) == [("M24-anteil", 2500.0), ("M33-sgb2", 12.5)]
    alone = xlsx({"Anteile": [head, ["M24", "M24-anteil", "2017", "2.500"]]})
    (problem,) = check(alone, "a.xlsx", catalogue).findings
    assert (problem.code, problem.sheet, problem.row) == ("read.number_ambiguous", "Anteile", 2)


# --- 9. conflicting and repeated rows ---------------------------------------------------------------
def test_two_values_for_one_key_reject_the_file_and_name_both_rows(monitor: Monitor, pipe: Pipeline) -> None:
    data = excel_csv([["M21", "M21-sozialwohnungen", "2018", "Karthause-Nord", "12", "", "", ""],
                      ["M21", "M21-sozialwohnungen", "2018", "Lützel", "3", "", "", ""],
                      ["M21", "Neu gebaute Sozialwohnungen", "2018", "karthause nord", "13", "", "", ""]])
    report = report_of(ingest(monitor, pipe, "doppelt.csv", data))
    assert ("Zeile 4, Spalte „Wert“: Für diesen Indikator, dieses Gebiet und diesen Zeitraum stehen zwei "
            "verschiedene Werte in der Datei (auch in Zeile 2). – gefunden: „13“ – erwartet: ein Wert je Indikator, "
            "Gebiet und Zeitraum – für „Neu gebaute Sozialwohnungen“, Karthause Nord, 2018 steht in Zeile 2 schon 12. "
            "Vorschlag: Bitte eine der beiden Zeilen (diese oder Zeile 2) löschen") in report
    assert monitor.store.observations("M21-sozialwohnungen") == []


def test_identical_repeats_are_imported_once_with_a_note(monitor: Monitor, pipe: Pipeline, sink: Sink) -> None:
    data = excel_csv([["M21", "M21-sozialwohnungen", "2018", "Karthause-Nord", "12", "", "", ""],
                      ["M21", "M21-sozialwohnungen", "2018", "Karthause Nord", "12", "", "", "noch einmal"],
                      ["M21", "M21-sozialwohnungen", "2018", "KARTHAUSE NORD", "12", "", "", ""]])
    result = ingest(monitor, pipe, "wiederholt.csv", data)
    assert result.status == IMPORTED and result.rows == 1
    assert [(o.area, o.value, o.row) for o in monitor.store.observations("M21-sozialwohnungen")] == [
        ("Karthause Nord", 12.0, 2)]
    (warning,) = result.warnings
    assert warning.code == "repeated_rows" and warning.row == 3
    text = sink[-1].reply.plain()
    assert "Bitte prüfen (trotzdem übernommen):" in text
    assert ("Zeile 3: Die Zeile wiederholt Zeile 2 mit demselben Wert, ebenso eine weitere Zeile; jeder Wert wurde "
            "einmal übernommen.") in text


# --- 9. periods that have not ended -------------------------------------------------------------------
def test_periods_not_ended_are_rejected_with_the_last_possible_one(catalogue) -> None:
    data = excel_csv([["M21", "M21-sozialwohnungen", "2026", "", "5", "", "", ""],
                      ["M22", "M22-wfh", "2030-H1", "", "5", "", "", ""],
                      ["M22", "M22-wfh", "2. Halbjahr 2026", "", "5", "", "", ""],
                      ["M31", "M31-u3", "31.12.2026", "", "5", "", "", ""],
                      ["M21", "M21-sozialwohnungen", "2025", "", "5", "", "", ""],
                      ["M22", "M22-wfh", "2026-H1", "", "5", "", "", ""],
                      ["M31", "M31-u3", "Q3/2026", "", "5", "", "", ""]])
    checked = check(data, "p.csv", catalogue)
    assert [(f.code, f.row, f.found) for f in checked.findings] == [
        ("period_not_ended", 2, "2026"), ("period_not_ended", 3, "2030-H1"),
        ("period_not_ended", 4, "2. Halbjahr 2026"), ("period_not_ended", 5, "31.12.2026")]
    first = checked.findings[0]
    assert finding_line(first) == (
        "Zeile 2, Spalte „Zeitraum“: Der Zeitraum „2026“ ist noch nicht zu Ende (er endet am "
        "31.12.2026). – gefunden: „2026“ – erwartet: ein abgeschlossener Zeitraum, spätestens 2025. "
        "Vorschlag: Werte bitte erst nach dem 31.12.2026 liefern; ist ein früherer Zeitraum gemeint "
        "(z. B. 2025), bitte die Angabe korrigieren.")
    assert "spätestens 1. Halbjahr 2026" in expected(checked.findings[1])
    # A row with more than one problem shows every one of them.
    both = check(excel_csv([["M21", "M21-sozialwohnungen", "2026", "Koblenz-Lützel", "-5", "", "", ""]]), "b.csv",
                 catalogue)
    assert [(f.code, column(f)) for f in both.findings] == [
        ("period_not_ended", "Zeitraum"), ("unknown_area", "Gebiet"), ("negative", "Wert")]
    # On the first day of the next year the year is over.
    assert check(data, "p.csv", catalogue, today=date(2031, 1, 1)).ok
    # Without a clock (a what-if check of the catalogue alone) the check is left out.
    assert check_delivery(data, "p.csv", catalogue).ok


# --- 9. negative counts and stocks ----------------------------------------------------------------------
def test_negative_counts_and_stocks_are_rejected_unless_allowed(catalogue) -> None:
    data = excel_csv([["M21", "M21-sozialwohnungen", "2018", "", "-3", "", "", ""],
                      ["M21", "M21-bauland", "2018", "", "-0,5", "", "", ""],
                      ["M31", "M31-u3", "2018-Q1", "", "- 12", "", "", ""],
                      ["M33", "M33-saldo", "2018", "", "-250", "", "", ""],
                      ["M24", "M24-anteil", "2018", "", "-1,5", "", "", ""]])
    checked = check(data, "n.csv", catalogue)
    assert [(f.code, f.row, describe(f).found) for f in checked.findings] == [
        ("negative", 2, "-3"), ("negative", 3, "-0,5"), ("negative", 4, "-12")]
    line = finding_line(checked.findings[1])
    assert line.startswith("Zeile 3, Spalte „Wert“: Der Wert -0,5 ist negativ; „Neu ausgewiesenes Bauland“ (ha) ist "
                           "eine Anzahl oder ein Bestand und kann nicht unter 0 liegen. – gefunden: „-0,5“ – erwartet: "
                           "eine Zahl ab 0. Vorschlag: Bitte das Vorzeichen prüfen.")
    assert "negativ_erlaubt = true" in line
    english = finding_line(check(data, "n.csv", catalogue).findings[0], "en")
    assert english.startswith("row 2, column “value”: The value -3 is negative;")


# --- 9. units ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("catalogue_unit", "file_unit", "agree"), [
    ("Anzahl", "Stück", True), ("Anzahl", "Stk.", True), ("Anzahl", "anzahl", True), ("Anzahl", "", True),
    ("Anzahl", "Personen", True), ("Personen", "Anzahl Personen", True), ("Plätze", "Anzahl", True),
    ("%", "Prozent", True), ("%", "Anteil (%)", True), ("Anteil %", "v. H.", True), ("ha", "Hektar", True),
    ("", "Euro", True),
    ("Anzahl", "%", False), ("%", "Anzahl", False), ("Personen", "Wohnungen", False), ("ha", "m²", False),
    ("Anzahl", "ha", False), ("Euro", "Tsd. €", False), ("Anzahl", "Meter", False),
])
def test_which_unit_cells_fit_the_catalogue(catalogue_unit: str, file_unit: str, agree: bool) -> None:
    assert units_agree(catalogue_unit, file_unit) is agree


def test_unit_kinds() -> None:
    assert unit_kind("Anzahl") == ("count", "") and unit_kind("Wohnungen") == ("count", "wohnungen")
    assert unit_kind("Anteil in %") == ("percent", "") and unit_kind("Quadratmeter") == ("squaremetre", "")
    assert unit_kind("Zufriedenheit") is None and unit_kind("") is None


def test_a_unit_that_contradicts_the_catalogue_rejects_the_file(monitor: Monitor, pipe: Pipeline) -> None:
    data = ods([["M21", "M21-sozialwohnungen", "2018", "", 12, "Stück", "Amt 61", ""],
                ["M21", "M21-sozialwohnungen", "2017", "", 40, "%", "Amt 61", ""]])
    report = report_of(ingest(monitor, pipe, "einheit.ods", data))
    assert ("Tabellenblatt „Sheet1“, Zeile 3, Spalte „Einheit“: Die Einheit „%“ passt nicht zu „Neu gebaute "
            "Sozialwohnungen“; der Katalog führt den Indikator in „Anzahl“. – gefunden: „%“ – erwartet: „Anzahl“ "
            "(oder die Spalte Einheit leer lassen). Vorschlag: Bitte den Wert in „Anzahl“ angeben") in report
    assert "Zeile 2" not in report


# --- 9. areas ---------------------------------------------------------------------------------------
def test_init_lists_the_stadtteile_and_the_whole_city(tmp_path: Path) -> None:
    path = tmp_path / "neu"
    create_workspace(path, today=TODAY)
    cat, problems = parse_catalogue((path / CATALOGUE_FILE).read_text(encoding="utf-8"))
    assert problems == [] and len(cat.areas) == 31
    assert cat.areas["Stadt gesamt"].whole_city
    assert {"Karthause Nord", "Karthäuserhofgelände", "Pfaffendorfer Höhe", "Lützel", "Moselweiß"} <= set(cat.areas)


def test_unknown_areas_are_rejected_with_the_nearest_known_one(monitor: Monitor, pipe: Pipeline) -> None:
    rows = [["M33", "M33-sgb2", "2018", "Koblenz-Lützel", "12,5", "%", "Amt 12", ""],
            ["M33", "M33-sgb2", "2018", "Nordstadt", "3,5", "%", "Amt 12", ""],
            ["M33", "M33-sgb2", "2018", "karthause-nord", "7,0", "%", "Amt 12", ""]]
    report = report_of(ingest(monitor, pipe, "gebiete.xlsx", xlsx({"Daten": [HEADER, *rows]})))
    assert ("Tabellenblatt „Daten“, Zeile 2, Spalte „Gebiet“: Das Gebiet „Koblenz-Lützel“ steht nicht im Katalog. – "
            "gefunden: „Koblenz-Lützel“ – erwartet: eines der 31 Gebiete des Katalogs (z. B. Altstadt, Arenberg, "
            "Arzheim; leer = Stadt gesamt). Vorschlag: meinten Sie „Lützel“? Ist „Koblenz-Lützel“ dasselbe Gebiet, "
            "kann die Fachstelle es im Katalog bei „Lützel“ unter aliases eintragen.") in report
    assert "Zeile 3, Spalte „Gebiet“: Das Gebiet „Nordstadt“ steht nicht im Katalog." in report
    assert "ein neues Gebiet trägt die Fachstelle im Katalog unter [[gebiet]] ein" in report
    assert "Zeile 4" not in report


def test_an_alias_is_accepted_and_every_spelling_is_one_series(ws: Path, sink: Sink) -> None:
    areas = [Area("Stadt gesamt", whole_city=True), Area("Lützel", aliases=("Koblenz-Lützel",)),
             Area("Karthause Nord")]
    (ws / CATALOGUE_FILE).write_text(catalogue_text(areas=areas), encoding="utf-8")
    monitor = Monitor.open(ws, env={})
    try:
        pipe = Pipeline(monitor, sink, clock=lambda: NOW)
        first = ingest(monitor, pipe, "a.csv", excel_csv([
            ["M33", "M33-sgb2", "2017", "Koblenz-Lützel", "12,5", "%", "", ""],
            ["M33", "M33-sgb2", "2017", "Karthause-Nord", "7,5", "%", "", ""],
            ["M33", "M33-sgb2", "2017", "Stadt gesamt", "9,5", "%", "", ""],
            ["M33", "M33-sgb2", "2018", "", "9,0", "%", "", ""]]))
        assert first.status == IMPORTED, first.findings
        second = ingest(monitor, pipe, "b.csv", excel_csv([
            ["M33", "M33-sgb2", "2018", "LÜTZEL", "13,0", "%", "", ""],
            ["M33", "M33-sgb2", "2018", "Karthause Nord", "7,0", "%", "", ""]]))
        assert second.status == IMPORTED, second.findings
        series = monitor.store.series("M33-sgb2")
        assert {area: [(p, v) for p, v, _ in points] for area, points in series.items()} == {
            "": [("2017", 9.5), ("2018", 9.0)], "Karthause Nord": [("2017", 7.5), ("2018", 7.0)],
            "Lützel": [("2017", 12.5), ("2018", 13.0)]}
    finally:
        monitor.close()


def test_without_a_gebiet_list_areas_are_free_text(catalogue) -> None:
    free, _ = parse_catalogue(catalogue_text(areas=[]))
    data = excel_csv([["M33", "M33-sgb2", "2018", "Block 17 (Süd)", "12,5", "%", "", ""]])
    assert [r[1] for r in check(data, "f.csv", free).rows] == ["Block 17 (Süd)"]
    assert [f.code for f in check(data, "f.csv", catalogue).findings] == ["unknown_area"]


# --- 9. jumps ---------------------------------------------------------------------------------------
def test_a_jump_against_the_store_is_imported_with_a_warning(monitor: Monitor, pipe: Pipeline, sink: Sink) -> None:
    assert ingest(monitor, pipe, "2017.csv", excel_csv([
        ["M21", "M21-sozialwohnungen", "2016", "Lützel", "110", "", "", ""],
        ["M21", "M21-sozialwohnungen", "2017", "Lützel", "130", "", "", ""],
        ["M21", "M21-bauland", "2017", "", "4,0", "", "", ""]])).status == IMPORTED
    result = ingest(monitor, pipe, "2018.csv", excel_csv([
        ["M21", "M21-sozialwohnungen", "2018", "Lützel", "1.301", "", "", ""],  # a count: 1301, ten times 130
        ["M21", "M21-bauland", "2018", "", "0,3", "", "", ""],
        ["M21", "M21-bauland", "2019", "", "4,5", "", "", ""]]))
    assert result.status == IMPORTED and [w.code for w in result.warnings] == ["jump"] * 3
    notice = sink[-1].reply.plain()
    assert "Importiert: 2018.csv" in notice
    assert ("Zeile 2, Spalte „Wert“: Der Wert 1.301 für „Neu gebaute Sozialwohnungen“ (Lützel, 2018) ist mehr als "
            "zehnmal so groß wie der vorige Wert 130 (2017). Vorschlag: Bitte prüfen (Tippfehler, Tausenderpunkt, "
            "andere Einheit?); eine korrigierte Datei ersetzt den Wert.") in notice
    assert ("Zeile 3, Spalte „Wert“: Der Wert 0,3 für „Neu ausgewiesenes Bauland“ (Stadt gesamt, 2018) ist kleiner "
            "als ein Zehntel des vorigen Werts 4 (2017).") in notice
    assert "(Stadt gesamt, 2019)" in notice  # 4,5 after 0,3 of the same file: more than ten times
    assert [o.value for o in monitor.store.latest("M21-sozialwohnungen")] == [1301.0]


def test_no_warning_within_a_factor_of_ten_nor_after_a_zero(catalogue) -> None:
    rows = [("M21-bauland", "", "2016", 0.0, "", 2), ("M21-bauland", "", "2017", 5.0, "", 3),
            ("M21-bauland", "", "2018", 49.0, "", 4), ("M21-bauland", "", "2019", 4.9, "", 5),
            ("M21-bauland", "", "2020", None, "", 6), ("M21-bauland", "", "2021", 0.4, "", 7)]
    from watchers.validate import jump_warnings

    warnings = jump_warnings(rows, catalogue, lambda ind: {})
    assert [w.row for w in warnings] == [7]  # 0,4 after 4,9 (the empty 2020 does not count)
    held = {"": [("2015", 100.0, "")]}
    assert [w.row for w in jump_warnings(rows[:2], catalogue, lambda ind: held)] == [2]  # 0 after 100


# --- catalogue problems, as `check` shows them ------------------------------------------------------------
def test_bad_gebiet_entries_and_negativ_erlaubt_are_catalogue_problems(ws: Path) -> None:
    text = catalogue_text(areas=[]) + """
[[gebiet]]
id = "Lützel"
aliases = ["Koblenz-Lützel"]

[[gebiet]]
id = "Koblenz Lützel"

[[gebiet]]
id = "lützel"

[[gebiet]]
id = 7

[[gebiet]]
id = "Neustadt"
name = 3
aliases = "Neu-Stadt"

[[gebiet]]
aliases = ["Irgendwo"]
"""
    text = text.replace("negativ_erlaubt = true", 'negativ_erlaubt = "ja"')
    cat, problems = parse_catalogue(text, "katalog.toml")
    assert [(p.code, p.params.get("id")) for p in problems] == [
        ("cat_bad_negative", "M33-saldo"), ("cat_area_duplicate", "Koblenz Lützel"), ("cat_area_duplicate", "lützel"),
        ("cat_area_bad_id", None), ("cat_area_bad_name", "Neustadt"), ("cat_area_bad_aliases", "Neustadt"),
        ("cat_missing", None)]
    assert set(cat.areas) == {"Lützel", "Neustadt"} and cat.area("koblenz-lützel").id == "Lützel"
    lines = text.splitlines()
    assert lines[problems[1].line - 1] == "[[gebiet]]" and lines[problems[1].line] == 'id = "Koblenz Lützel"'
    (ws / CATALOGUE_FILE).write_text(text, encoding="utf-8")
    out = run_cli("check", "--workspace", str(ws))
    assert out.returncode == 1, out
    assert f"{ws / CATALOGUE_FILE}:{problems[1].line}: Gebiet „Koblenz Lützel“: „Koblenz Lützel“ ist schon beim " \
           "Gebiet „Lützel“ eingetragen" in out.stdout
    assert "negativ_erlaubt muss true oder false sein, nicht ja." in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


def test_negativ_erlaubt_round_trips_through_the_catalogue() -> None:
    cat, problems = parse_catalogue(catalogue_text())
    assert problems == [] and cat.indicators["M33-saldo"].negative_allowed
    assert not cat.indicators["M33-sgb2"].negative_allowed


# --- the demo workspace still imports cleanly ---------------------------------------------------------
def test_the_demo_example_files_are_all_imported(tmp_path: Path) -> None:
    path = tmp_path / "demo"
    create_workspace(path, demo_data=True, today=TODAY)
    assert not list((path / "ablage" / "abgelehnt").iterdir())
    assert not [p for p in (path / "ablage" / "eingang").iterdir() if p.is_file()]
    monitor = Monitor.open(path, env={})
    try:
        areas = {o.area for o in monitor.store.observations("M33-sgb2-quote")}
        assert "Karthause Nord" in areas and "Karthause-Nord" not in areas and len(areas) == 7
    finally:
        monitor.close()


def test_every_plausibility_text_has_its_english_twin(catalogue) -> None:
    data = excel_csv([["M21", "M21-sozialwohnungen", "2026", "Koblenz-Lützel", "-5", "%", "", ""],
                      ["M21", "M21-bauland", "2018", "", "1", "", "", ""],
                      ["M21", "M21-bauland", "2018", "", "2", "", "", ""],
                      ["M24", "M24-anteil", "2018", "", "1.301", "", "", ""]])
    findings = check(data, "x.csv", catalogue).findings
    assert [f.code for f in findings] == [
        "read.number_ambiguous", "period_not_ended", "unknown_area", "unit_mismatch", "negative", "conflicting_values"]
    english = [finding_line(f, "en") for f in findings]
    for f, line in zip(findings, english, strict=True):
        assert line.startswith("row ") and "Zeile" not in line and "gefunden" not in line, line
        assert expected(f, "en") and suggestion(f, "en"), f
    assert "did you mean “Lützel”?" in english[2]
    assert "one value per indicator, area and period – row 3 already holds 1" in english[5]
    rows = [("M21-bauland", "", "2017", 1.0, "", 2), ("M21-bauland", "", "2018", 20.0, "", 3)]
    from watchers.validate import jump_warnings

    (warning,) = jump_warnings(rows, catalogue, lambda ind: {})
    assert finding_line(warning, "en") == (
        "row 3, column “value”: The value 20 for “Neu ausgewiesenes Bauland” (whole city, 2018) is "
        "more than ten times the previous value 1 (2017). suggestion: Please check (typo, "
        "thousands separator, another unit?); a corrected file replaces the value.")


def test_jumps_over_whole_columns_are_those_of_the_row_by_row_loop() -> None:
    import random

    from watchers.validate import _jumps_in_bulk, _jumps_row_by_row

    rnd = random.Random(7)
    values = [None, 0.0, 1.0, 5.0, 11.0, 100.0, 0.05, -3.0, -40.0, 1e308, 1e-308, float("inf")]
    for trial in range(400):
        # Several indicators, repeated keys, the same row number twice (two sheets), values held in the store.
        rows = [(rnd.choice("abc"), rnd.choice(["", "x", "y"]), rnd.choice(["2018", "2019", "2020", "2021"]),
                 rnd.choice(values), "", rnd.randrange(2, 9) if trial % 3 == 0 else k + 2)
                for k in range(rnd.randint(0, 30))]
        held = {ind: {area: [(p, rnd.choice(values), "") for p in sorted(rnd.sample(["2017", "2019", "2022"], 2))]
                      for area in ("", "x", "z")} for ind in "abc"}
        assert _jumps_in_bulk(rows, held.__getitem__) == _jumps_row_by_row(rows, held.__getitem__)
    odd = [("a", "", "2019", 1, "", 2), ("a", "", "2020", 20.0, "", 3)]  # an int: the loop decides
    assert _jumps_in_bulk(odd, lambda ind: {}) is None and len(_jumps_row_by_row(odd, lambda ind: {})) == 1


def test_jumps_against_a_real_store_read_column_by_column_are_those_of_the_loop(tmp_path: Path) -> None:
    import random
    from datetime import datetime

    from storage.store import Rows, Store
    from watchers.validate import _CodedRows, _codes_of, _jumps_in_bulk, _jumps_row_by_row

    rnd = random.Random(11)
    values = [None, 0.0, 1.0, 5.0, 11.0, 100.0, 0.05, -3.0, -40.0, 1e308]
    periods = ["2017", "2018", "2019", "2020", "2021", "2022"]
    with Store(tmp_path / "s.json", fsync=False) as store:
        for k in range(3):  # earlier deliveries: some keys replaced, areas the new file does not name
            held = {(rnd.choice("ab"), rnd.choice(["", "x", "y", "z"]), rnd.choice(periods)) for _ in range(25)}
            store.add_delivery(file=f"{k}.csv", content_hash=str(k), office="", received=datetime(2020, 1, 1 + k),
                               rows=[(i, a, p, rnd.choice(values), "", n + 2) for n, (i, a, p) in enumerate(held)])
        for _ in range(200):
            rows = [(rnd.choice("abc"), rnd.choice(["", "x", "w"]), rnd.choice(periods), rnd.choice(values), "",
                     k + 2) for k in range(rnd.randint(0, 30))]
            # store.series is read column by column in bulk, area by area in the loop
            expected = _jumps_row_by_row(rows, store.series)
            assert _jumps_in_bulk(rows, store.series) == expected
            if rows:  # rows that carry their columns (as the catalogue check makes them) give the same
                assert _jumps_in_bulk(Rows.of(*zip(*rows, strict=True)), store.series) == expected
                # ... and so do rows with the codes the catalogue check counted each key once by
                once: dict[tuple[str, str, str], tuple[str, str, str, float | None, str, int]] = {}
                for row in rows:
                    once.setdefault(row[:3], row)
                kept = list(once.values())
                coded = _CodedRows.of(*zip(*kept, strict=True))
                coded.codes = _codes_of([r[0] for r in kept], [r[1] for r in kept], [r[2] for r in kept])
                assert _jumps_in_bulk(coded, store.series) == _jumps_row_by_row(kept, store.series)
