"""Fill-in templates: what they hold, and that a filled one goes through the real reader and pipeline unchanged."""

from __future__ import annotations

import csv
import io
from dataclasses import replace
from datetime import date
from pathlib import Path

import openpyxl

from bot.workspace import Monitor
from commands import Caller, dispatch
from commands.ingest_words import finding_line
from commands.template import build_template, outstanding, template_file
from watchers.pipeline import IMPORTED, REJECTED, Pipeline

from .conftest import run_cli

ERIKA = "Beispiel: Erika Muster"


def today(monitor: Monitor) -> date:
    # The reader refuses periods not yet over by the real clock: templates in these tests use the real day too.
    return monitor.now().date()


def ingest(monitor: Monitor, path: Path):
    return Pipeline(monitor, sink=None).process(path, keep_original=True)


def area_data(monitor: Monitor, tmp_path: Path) -> None:
    """M 33 delivered per district for a year three years back: the template then asks for the years since."""
    year = today(monitor).year - 3
    rows = "".join(f"M33;M33-sgb2-quote;{year};{area};{k},5;Amt 12\r\n"
                   for k, area in enumerate(("Lützel", "Mitte", "Süd"), 5))
    path = tmp_path / "M33_start.csv"
    path.write_bytes(("Maßnahme;Indikator;Zeitraum;Gebiet;Wert;Amt\r\n" + rows).encode("cp1252"))
    assert ingest(monitor, path).status == IMPORTED


def test_the_xlsx_template_of_an_office(team_monitor: Monitor, tmp_path: Path) -> None:
    area_data(team_monitor, tmp_path)
    state, day = team_monitor.state, today(team_monitor)
    template, attachment = template_file(state, "Amt 12", day)
    assert attachment.filename == f"vorlage_Amt_12_{day.isoformat()}.xlsx"
    wb = openpyxl.load_workbook(io.BytesIO(attachment.data))
    assert wb.sheetnames == ["Werte", "Anleitung", "Listen"] and wb["Listen"].sheet_state == "hidden"
    ws = wb["Werte"]
    header = [c.value for c in ws[1]]
    assert header == ["Maßnahme", "Indikator", "Bezeichnung", "Einheit", "Turnus", "Gebiet", "Zeitraum", "Wert",
                      "Bemerkung", "Amt", "Fällig am"]
    rows = [r for r in ws.iter_rows(min_row=2, values_only=True) if r[0]]
    # Amt 12 delivers two indicators; the SGB II rate per district for the years since, the other one city-wide.
    years = [str(y) for y in range(day.year - 2, day.year)]
    sgb = [(r[5], r[6]) for r in rows if r[1] == "M33-sgb2-quote"]
    assert sgb == [(a, y) for a in ("Lützel", "Mitte", "Süd") for y in years]
    other = [(r[5], r[6]) for r in rows if r[1] == "M33-migrationshintergrund"]
    assert other == [("Gesamtstadt", str(day.year - 1))]
    assert all(r[7] is None and r[3] == "%" and r[4] == "jährlich" and r[9] == "Amt 12" for r in rows)
    assert len(rows) == len(template.rows)
    # Drop-downs: the area column from the list of districts, the period column from the year list.
    validations = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    area_dv = next(dv for ref, dv in validations.items() if ref.startswith("F2:"))
    assert area_dv.type == "list" and area_dv.formula1.startswith("'Listen'!$A$2")
    period_dv = next(dv for ref, dv in validations.items() if ref.startswith("G"))
    assert period_dv.type == "list" and "'Listen'!$B$2" in period_dv.formula1
    districts = [c.value for c in wb["Listen"]["A"][1:] if c.value]
    assert districts[0] == "Gesamtstadt" and {"Lützel", "Karthause Nord", "Rübenach"} <= set(districts)
    assert len(districts) == 31
    assert {str(day.year - 1), str(day.year - 2)} <= {c.value for c in wb["Listen"]["B"][1:]}
    # The guide: plain sentences, where to put the file, and each indicator.
    guide = "\n".join(str(c.value) for c in wb["Anleitung"]["A"] if c.value)
    assert "Vorlage für Amt 12" in guide and "„eingang/Amt 12“" in guide and "/vorlage Amt 12" in guide
    assert "„-“" in guide and "M33-migrationshintergrund" in guide


def test_a_filled_xlsx_template_imports_unchanged(team_monitor: Monitor, tmp_path: Path) -> None:
    area_data(team_monitor, tmp_path)
    state, day = team_monitor.state, today(team_monitor)
    _, attachment = template_file(state, None, day)  # every office in one file
    wb = openpyxl.load_workbook(io.BytesIO(attachment.data))
    ws = wb["Werte"]
    filled = 0
    for row in ws.iter_rows(min_row=2):
        if not row[0].value:
            continue
        if filled == 0:
            row[7].value, row[8].value = "-", "Noch nicht erhoben"  # no value, with the reason
        else:
            row[7].value = 10 + filled * 1.5
        filled += 1
    assert filled > 10
    path = team_monitor.settings.inbox / "Vorlage_ausgefuellt.xlsx"
    wb.save(path)
    result = ingest(team_monitor, path)
    assert result.status == IMPORTED, [finding_line(f) for f in result.findings]
    assert result.rows == filled
    # Nothing is open any more: a fresh template has no rows, the guide names the next periods.
    fresh = build_template(state, None, day)
    assert not fresh.rows and len(fresh.nothing_due) == len(fresh.indicators)
    first = next(i for i in state.catalogue.indicators.values() if outstanding(state, i, day) == [])
    assert state.store.latest(first.id)


def test_a_filled_csv_template_imports_unchanged(demo_monitor: Monitor) -> None:
    state, day = demo_monitor.state, today(demo_monitor)
    _, attachment = template_file(state, "Amt 61", day, "csv")
    assert attachment.filename.endswith(".csv") and attachment.data.startswith(b"\xef\xbb\xbf")
    text = attachment.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:8] == ["Maßnahme", "Indikator", "Bezeichnung", "Einheit", "Turnus", "Gebiet", "Zeitraum", "Wert"]
    body = [r for r in rows[1:] if r]
    assert body and all(r[7] == "" and r[10].count(".") == 2 for r in body)  # empty value, German due date
    for k, r in enumerate(body):
        r[7] = f"{k + 1},5"  # German Excel writes a decimal comma
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows([rows[0], *body])
    path = demo_monitor.settings.inbox / "Amt 61" / "vorlage.csv"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(out.getvalue().encode("cp1252"))  # saved again by Excel: Windows-1252
    result = Pipeline(demo_monitor, sink=None).process(path, "Amt 61", keep_original=True)
    assert result.status == IMPORTED, [finding_line(f) for f in result.findings]
    some = next(r for r in body)
    assert state.store.latest(some[1])[0].value == 1.5


def test_catalogue_text_is_never_a_formula(team_monitor: Monitor) -> None:
    state = team_monitor.state
    evil = replace(state.catalogue.indicators["M43-leichte-sprache"], name='=HYPERLINK("http://x","klick")')
    catalogue = replace(state.catalogue, indicators={**state.catalogue.indicators, evil.id: evil})
    _, attachment = template_file(state.with_catalogue(catalogue), "Amt 10", today(team_monitor))
    ws = openpyxl.load_workbook(io.BytesIO(attachment.data))["Werte"]
    cell = ws.cell(row=2, column=3)
    assert cell.value.startswith("=HYPERLINK") and cell.data_type == "s"
    _, as_csv = template_file(state.with_catalogue(catalogue), "Amt 10", today(team_monitor), "csv")
    assert "'=HYPERLINK" in as_csv.data.decode("utf-8-sig")


def test_vorlage_in_the_chat(demo_monitor: Monitor) -> None:
    state = demo_monitor.state
    now = demo_monitor.now()
    erika = demo_monitor.catalogue.person(ERIKA)
    own = dispatch(state, "/vorlage", Caller(user_id=erika.telegram_id, person=erika), now)
    assert own.ok and own.attachments[0].filename.startswith("vorlage_Amt_61_")
    everyone = dispatch(state, "/template", Caller(operator=True), now)
    assert everyone.attachments[0].filename.startswith("vorlage_alle_Aemter_")
    by_name = dispatch(state, "/vorlage studierendenwerk", Caller(operator=True), now)
    assert by_name.attachments[0].filename.startswith("vorlage_Studierendenwerk_")
    unknown = dispatch(state, "/vorlage Amt 99", Caller(operator=True), now)
    assert unknown.status == "usage" and "Amt 61" in unknown.plain() and not unknown.attachments
    assert dispatch(state, "/vorlage amt", Caller(operator=True), now).status == "usage"  # several offices


def test_the_rejection_without_header_names_the_template_command(team_monitor: Monitor) -> None:
    path = team_monitor.settings.inbox / "ohne_kopf.csv"
    path.write_text("a;b;c\n1;2;3\n", encoding="utf-8")
    result = ingest(team_monitor, path)
    assert result.status == REJECTED
    assert "/vorlage AMT" in result.report.read_text(encoding="utf-8")


def test_vorlage_on_the_command_line(team_workspace: Path, tmp_path: Path) -> None:
    target = tmp_path / "amt61.xlsx"
    result = run_cli("--workspace", str(team_workspace), "vorlage", "Amt", "61", "-o", str(target))
    assert result.returncode == 0, result.stderr
    assert str(target) in result.stdout and openpyxl.load_workbook(target).sheetnames[0] == "Werte"
    result = run_cli("--workspace", str(team_workspace), "vorlage", "--format", "csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = list(tmp_path.glob("vorlage_alle_Aemter_*.csv"))
    assert len(written) == 1 and written[0].read_bytes().startswith(b"\xef\xbb\xbfMa")
    result = run_cli("--workspace", str(team_workspace), "vorlage", "Amt 99")
    assert result.returncode == 2 and "steht nicht im Katalog" in result.stderr and "Traceback" not in result.stderr
