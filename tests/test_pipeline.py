"""The ingest pipeline on real files written the way offices write them, and on a corpus of broken ones."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from bot.runtime import ADMINS, Outgoing
from bot.workspace import Monitor
from commands.ingest_words import finding_line
from tests.conftest import BERLIN
from watchers.pipeline import DUPLICATE, GONE, HELD, IMPORTED, REJECTED, Pipeline, is_ignored

HEADER = ["Maßnahme", "Indikator", "Zeitraum", "Gebiet", "Wert", "Einheit", "Amt", "Bemerkung"]
NOW = datetime(2027, 1, 25, 10, 0, tzinfo=BERLIN)  # the 2026 deliveries are over


def office_csv(rows: list[list[str]], header: list[str] = HEADER, errors: str = "strict") -> bytes:
    """Excel's "CSV (Trennzeichen-getrennt)": semicolons, decimal comma, Windows-1252, CRLF."""
    return ("\r\n".join(";".join(r) for r in [header, *rows]) + "\r\n").encode("cp1252", errors)


def xlsx(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "Lieferung"
    ws.append(["Beispiel: Lieferung des Amtes 61"])  # a title row above the header, as offices do
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def ods(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    out = io.BytesIO()
    pd.DataFrame(rows, columns=header).to_excel(out, engine="odf", index=False)
    return out.getvalue()


class Notices(list):
    def __call__(self, message: Outgoing) -> None:
        self.append(message)


@pytest.fixture
def notices() -> Notices:
    return Notices()


@pytest.fixture
def pipe(demo_monitor: Monitor, notices: Notices) -> Pipeline:
    return Pipeline(demo_monitor, notices, clock=lambda: NOW)


def drop(monitor: Monitor, name: str, data: bytes, office: str | None = None) -> Path:
    folder = monitor.settings.inbox / office if office else monitor.settings.inbox
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def test_excel_csv_in_windows_1252_is_imported_and_archived(pipe: Pipeline, demo_monitor: Monitor,
                                                             notices: Notices) -> None:
    data = office_csv([["M 21", "Beispiel: Neu gebaute Sozialwohnungen", "2026", "", "1.234,5", "Anzahl",
                        "Amt 61", "vorläufig, Stand Oktober"],
                       ["m21", "M21-bauland", "2026", "Süd", "2,5", "ha", "Amt 61", ""]])
    path = drop(demo_monitor, "M21_Sozialwohnungen_2026.csv", data, office="Amt 61")
    result = pipe.process(path, "Amt 61")
    assert result.status == IMPORTED, result.findings
    assert (result.rows, result.measures, result.office) == (2, ("M21",), "Amt 61")
    assert not path.exists()
    assert result.moved_to == demo_monitor.settings.processed / "2027" / "01" / path.name
    assert result.moved_to.read_bytes() == data
    latest = demo_monitor.store.latest("M21-sozialwohnungen")
    assert [(o.period, o.value, o.note, o.row, o.office) for o in latest] == [
        ("2026", 1234.5, "vorläufig, Stand Oktober", 2, "Amt 61")]
    assert latest[0].file == "Amt 61/M21_Sozialwohnungen_2026.csv"
    assert demo_monitor.store.latest("M21-bauland")[0].area == "Süd"
    (notice,) = notices
    assert notice.recipients == (ADMINS, "Beispiel: Erika Muster") and notice.kind == "notice"
    assert "Importiert: M21_Sozialwohnungen_2026.csv (Amt 61) – 2 Werte, Maßnahmen M21." in notice.reply.plain()


def test_xlsx_with_title_row_and_ods_and_wide_layout(pipe: Pipeline, demo_monitor: Monitor) -> None:
    path = drop(demo_monitor, "M31_U3.xlsx", xlsx([["M31", "M31-u3-plaetze", "2026-Q3", None, 71, "Anzahl",
                                                   "Amt 51", None]]))
    assert pipe.process(path).status == IMPORTED
    assert demo_monitor.store.latest("M31-u3-plaetze")[0].value == 71
    path = drop(demo_monitor, "M42.ods", ods([["M42", "M42-barrierefrei", "2025", "", 12.5, "%", "Amt 40", ""]]))
    assert pipe.process(path).status == IMPORTED
    assert demo_monitor.store.latest("M42-barrierefrei")[0].value == 12.5
    wide = office_csv([["M33", "M33-migrationshintergrund", "Mitte", "31,2", "32,0"],
                       ["M33", "M33-migrationshintergrund", "Süd", "18,4", "-"]],
                      header=["Maßnahme", "Indikator", "Gebiet", "2024", "2025"])
    path = drop(demo_monitor, "M33_breit.csv", wide, office="Amt 12")
    result = pipe.process(path, "Amt 12")
    assert result.status == IMPORTED, result.findings
    values = {(o.area, o.period): o.value for o in demo_monitor.store.observations("M33-migrationshintergrund")}
    assert values == {("Mitte", "2024"): 31.2, ("Mitte", "2025"): 32.0, ("Süd", "2024"): 18.4,
                      ("Süd", "2025"): None}


def test_percent_cells_read_as_fractions_are_imported_with_a_hint(pipe: Pipeline, demo_monitor: Monitor,
                                                                   notices: Notices) -> None:
    # Excel stores a cell shown as "12,5 %" as 0.125; the readers see no number formats.
    path = drop(demo_monitor, "M42_Prozent.xlsx", xlsx([["M42", "M42-barrierefrei", "2025", "Mitte", 0.125, "%",
                                                         "Amt 40", None],
                                                        ["M42", "M42-barrierefrei", "2025", "Süd", 0.2, "%",
                                                         "Amt 40", None]]))
    result = pipe.process(path)
    assert result.status == IMPORTED and result.hints == ("M42-barrierefrei",)
    assert "zwischen 0 und 1" in notices[-1].reply.plain()
    # Whole percentages, or a CSV (where the text shows what was meant), give no hint.
    path = drop(demo_monitor, "M42_ganz.xlsx", xlsx([["M42", "M42-barrierefrei", "2024", "Mitte", 12.5, "%",
                                                      "Amt 40", None]]))
    assert pipe.process(path).hints == ()
    path = drop(demo_monitor, "M42.csv", office_csv([["M42", "M42-barrierefrei", "2023", "Mitte", "0,5", "%",
                                                      "Amt 40", ""]]))
    assert pipe.process(path).hints == ()


def test_stichtag_fits_the_quarter(pipe: Pipeline, demo_monitor: Monitor) -> None:
    path = drop(demo_monitor, "u3.csv", office_csv([["M31", "M31-u3-plaetze", "30.09.2026", "", "80", "", "", ""]]))
    assert pipe.process(path).status == IMPORTED
    assert "2026-Q3" in demo_monitor.store.periods("M31-u3-plaetze")


def rejected(pipe: Pipeline, monitor: Monitor, name: str, data: bytes, office: str | None = None):
    path = drop(monitor, name, data, office)
    result = pipe.process(path, office)
    assert result.status == REJECTED
    assert not path.exists()
    assert result.moved_to == monitor.settings.rejected / name
    assert result.moved_to.read_bytes() == data
    report = monitor.settings.rejected / f"{name}.fehler.txt"
    assert result.report == report
    return result, report.read_text(encoding="utf-8-sig")


def test_typo_in_indicator_is_rejected_with_suggestion(pipe: Pipeline, demo_monitor: Monitor,
                                                       notices: Notices) -> None:
    before = demo_monitor.store.observation_count
    data = office_csv([["M21", "Beispiel: Neu gebaute Sozialwohnugen", "2026", "", "12", "", "", ""],
                       ["M21", "M21-bauland", "2026", "", "3", "", "", ""]])
    _, report = rejected(pipe, demo_monitor, "M21_2026.csv", data)
    assert demo_monitor.store.observation_count == before  # the good row is not taken either: whole or nothing
    assert "Die Datei „M21_2026.csv“ wurde nicht importiert" in report
    assert "Zeile 2, Spalte „Indikator“" in report
    assert "gefunden: „Beispiel: Neu gebaute Sozialwohnugen“" in report
    assert "meinten Sie „Beispiel: Neu gebaute Sozialwohnungen“? (M21-sozialwohnungen)" in report
    assert "ganz oder gar nicht" in report
    (notice,) = notices
    assert "Abgelehnt: M21_2026.csv" in notice.reply.plain() and "Sozialwohnugen" in notice.reply.plain()
    assert "abgelehnt/M21_2026.csv.fehler.txt" in notice.reply.plain()


@pytest.mark.parametrize(("name", "data", "expect"), [
    ("leer.csv", b"", "leer (0 Byte)"),
    ("nur_kopf.csv", office_csv([]), "nur die Kopfzeile"),
    ("falsche_massnahme.csv", office_csv([["M99", "x", "2026", "", "1", "", "", ""]]), "Die Maßnahme „M99“ gibt es"),
    ("text_im_wert.csv", office_csv([["M21", "M21-bauland", "2026", "", "zwölf", "", "", ""]]), "„zwölf“"),
    ("quartal_statt_jahr.csv", office_csv([["M21", "M21-bauland", "2026-Q1", "", "1", "", "", ""]]),
     "passt nicht zum Turnus „jährlich“"),
    ("fremder_indikator.csv", office_csv([["M21", "M33-sgb2-quote", "2026", "", "1", "", "", ""]]),
     "gehört zu Maßnahme M33"),
    ("falsches_amt.csv", office_csv([["M21", "M21-bauland", "2026", "", "1", "", "Amt 40", ""]]),
     "Amt 40 liefert diesen Indikator nicht; zuständig ist Amt 61"),
    ("zwei_werte.csv", office_csv([["M21", "M21-bauland", "2026", "", "1", "", "", ""],
                                   ["M21", "M21-bauland", "2026", "", "2", "", "", ""]]), "auch in Zeile 2"),
    ("muell.xlsx", bytes(range(256)) * 40, "Tabellendatei"),
    ("abgeschnitten.xlsx", xlsx([["M21", "M21-bauland", "2026", None, 1, None, None, None]])[:1500],
     "beschädigt oder unvollständig"),
    ("bild.png", b"\x89PNG\r\n\x1a\n", "eine Datei vom Typ"),
])
def test_broken_files_are_rejected_with_a_german_reason(pipe: Pipeline, demo_monitor: Monitor, name: str,
                                                         data: bytes, expect: str) -> None:
    _, report = rejected(pipe, demo_monitor, name, data)
    assert expect in report, report
    assert "Traceback" not in report


def test_sub_folder_names_the_office(pipe: Pipeline, demo_monitor: Monitor) -> None:
    data = office_csv([["M21", "M21-bauland", "2026", "", "1", "", "", ""]])
    _, report = rejected(pipe, demo_monitor, "bauland.csv", data, office="Amt 40")
    assert "Amt 40 liefert diesen Indikator nicht" in report
    path = drop(demo_monitor, "bauland.csv", data, office="amt61")  # spelled loosely: still Amt 61
    ok = pipe.process(path, "amt61")
    assert ok.status == IMPORTED and ok.office == "Amt 61"


def test_zip_bomb_is_rejected_before_unpacking(pipe: Pipeline, demo_monitor: Monitor) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (300 * 2**20))
    _, report = rejected(pipe, demo_monitor, "bombe.xlsx", out.getvalue())
    assert "höchstens 200 MB entpackte Daten" in report


def test_limits_from_settings(pipe: Pipeline, demo_monitor: Monitor) -> None:
    w = demo_monitor.settings.watcher
    demo_monitor.settings = replace(demo_monitor.settings, watcher=replace(w, max_file_mb=0.001, max_rows=2))
    _, report = rejected(pipe, demo_monitor, "gross.csv", office_csv([["M21", "M21-bauland", "2026", "", "1",
                                                                           "", "", "x" * 2000]]))
    assert "erlaubt sind höchstens 0,001 MB" in report
    rows = [["M21", "M21-bauland", str(y), "", "1", "", "", ""] for y in range(2020, 2024)]
    demo_monitor.settings = replace(demo_monitor.settings, watcher=replace(w, max_rows=2))
    _, report = rejected(pipe, demo_monitor, "lang.csv", office_csv(rows))
    assert "höchstens 2 Zeilen" in report


def test_duplicate_is_archived_not_counted_and_a_correction_replaces(pipe: Pipeline, demo_monitor: Monitor,
                                                                     notices: Notices) -> None:
    data = office_csv([["M21", "M21-bauland", "2026", "", "4,0", "", "", ""]])
    first = pipe.process(drop(demo_monitor, "bauland.csv", data))
    deliveries = len(demo_monitor.store.deliveries())
    again = pipe.process(drop(demo_monitor, "bauland.csv", data))
    assert again.status == DUPLICATE and again.duplicate_of == first.delivery
    assert len(demo_monitor.store.deliveries()) == deliveries
    assert again.moved_to.name == "bauland_2.csv"  # never overwritten
    assert first.moved_to.exists() and again.moved_to.exists()
    assert "denselben Inhalt wie „bauland.csv“" in notices[-1].reply.plain()
    fixed = pipe.process(drop(demo_monitor, "bauland_korrektur.csv",
                              office_csv([["M21", "M21-bauland", "2026", "", "4,5", "", "", "korrigiert"]])))
    assert (fixed.status, fixed.replaced, fixed.new) == (IMPORTED, 1, 0)
    assert demo_monitor.store.latest("M21-bauland")[0].value == 4.5
    history = demo_monitor.store.history("M21-bauland", "", "2026")
    assert [(o.value, o.file) for o in history] == [(4.0, "bauland.csv"), (4.5, "bauland_korrektur.csv")]


def test_keep_original_copies_and_hold_does_not_move(pipe: Pipeline, demo_monitor: Monitor, tmp_path: Path) -> None:
    outside = tmp_path / "lieferung.csv"
    outside.write_bytes(office_csv([["M21", "M21-bauland", "2026", "", "1", "", "", ""]]))
    result = pipe.process(outside, keep_original=True)
    assert result.status == IMPORTED and outside.exists() and result.moved_to.read_bytes() == outside.read_bytes()
    bad = drop(demo_monitor, "halb.csv", office_csv([["M21", "M21-bauland", "20", "", "1", "", "", ""]]))
    held = pipe.process(bad, may_reject=False)
    assert held.status == HELD and bad.exists() and held.findings
    assert pipe.process(tmp_path / "fehlt.csv").status == GONE


def test_english_report_when_language_is_en(pipe: Pipeline, demo_monitor: Monitor) -> None:
    demo_monitor.settings = replace(demo_monitor.settings, language="en")
    data = office_csv([["M21", "Beispiel: Neu gebaute Sozialwohnugen", "2026", "", "1", "", "", ""]])
    _, report = rejected(pipe, demo_monitor, "typo.csv", data)
    assert "was not imported" in report and "row 2, column “indicator”" in report
    assert "did you mean “Beispiel: Neu gebaute Sozialwohnungen”?" in report


def test_office_temp_and_lock_files_are_ignored() -> None:
    for name in ("~$M21.xlsx", ".~lock.M21.ods#", "M21.xlsx.tmp", "M21.csv.part", ".hidden.csv",
                 "x.csv.fehler.txt"):
        assert is_ignored(name), name
    for name in ("M21.xlsx", "M21~1.csv", "lock.ods"):
        assert not is_ignored(name), name


NAMES = st.sampled_from(["a.csv", "a.txt", "a.xlsx", "a.xlsm", "a.ods", "a.xls", "a", "a.CSV"])
CELLS = st.one_of(st.sampled_from(["M21", "M 21", "M21-bauland", "2026", "2026-Q1", "1.234,5", "-", "", "x", ";",
                                   "\"", "Amt 61", "0,5", "1e9", "nan", "\x00"]), st.text(max_size=8))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES, data=st.one_of(
    st.binary(max_size=600),
    st.lists(st.lists(CELLS, min_size=0, max_size=9), max_size=6).map(
        lambda rows: office_csv([list(r) for r in rows], errors="replace") if rows else b""),
))
def test_no_input_makes_the_pipeline_raise(pipe: Pipeline, demo_monitor: Monitor, name: str, data: bytes) -> None:
    path = drop(demo_monitor, name, data)
    result = pipe.process(path)
    assert result.status in (IMPORTED, DUPLICATE, REJECTED)
    assert not path.exists()
    if result.status == REJECTED:
        assert result.findings and all(finding_line(f) for f in result.findings)


def test_recovery_after_a_crash_between_store_write_and_move(pipe: Pipeline, demo_monitor: Monitor) -> None:
    """The store write comes first; a file found still waiting after a crash is a duplicate and gets archived."""
    data = office_csv([["M21", "M21-bauland", "2030", "", "1", "", "", ""]])
    path = drop(demo_monitor, "nach_absturz.csv", data)
    checked_rows = [("M21-bauland", "", "2030", 1.0, "", 2)]
    stored = demo_monitor.store.add_delivery(file="nach_absturz.csv", content_hash=hashlib.sha256(data).hexdigest(),
                                             office="Amt 61", received=NOW, rows=checked_rows)
    result = pipe.process(path)
    assert (result.status, result.duplicate_of) == (DUPLICATE, stored.delivery.id)
    assert not path.exists() and result.moved_to.read_bytes() == data
    assert len(demo_monitor.store.history("M21-bauland", "", "2030")) == 1


def test_orphaned_report_is_replaced_not_duplicated(pipe: Pipeline, demo_monitor: Monitor) -> None:
    orphan = demo_monitor.settings.rejected / "x.csv.fehler.txt"
    orphan.parent.mkdir(parents=True, exist_ok=True)
    orphan.write_text("alt", encoding="utf-8")  # a crash after the report, before the move
    _, report = rejected(pipe, demo_monitor, "x.csv", office_csv([["M99", "x", "2026", "", "1", "", "", ""]]))
    assert "M99" in report


def test_a_file_saved_again_while_it_is_imported_stays_for_its_new_content(pipe: Pipeline, demo_monitor: Monitor,
                                                                           monkeypatch) -> None:
    import watchers.pipeline as pipeline_module

    path = drop(demo_monitor, "M21.csv", office_csv([["M21", "M21-bauland", "2026", "", "1,5", "ha", "Amt 61", ""]]))
    original = pipeline_module.check_delivery

    def office_saves_a_correction_meanwhile(*args, **kwargs):
        checked = original(*args, **kwargs)
        path.write_bytes(office_csv([["M21", "M21-bauland", "2026", "", "2,5", "ha", "Amt 61", ""]]))
        return checked

    monkeypatch.setattr(pipeline_module, "check_delivery", office_saves_a_correction_meanwhile)
    first = pipe.process(path)
    monkeypatch.undo()
    assert first.status == IMPORTED and first.moved_to is None
    assert path.exists() and not list(demo_monitor.settings.processed.rglob("M21.csv"))
    second = pipe.process(path)  # the next pass reads the correction
    assert second.status == IMPORTED and second.moved_to is not None
    assert demo_monitor.store.latest("M21-bauland")[0].value == 2.5
