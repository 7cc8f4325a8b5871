"""The reading layer: real office files in, records or a complete list of problems out, never an exception."""

from __future__ import annotations

import io
import re
import struct
import time
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands import texts_ingest
from commands.ingest_words import expected, finding_line, format_report, suggestion
from commands.periods import Period
from watchers.read import (
    ColumnMap,
    Finding,
    NumberError,
    ReadResult,
    Record,
    Table,
    detect_number_style,
    find_columns,
    iter_records,
    normalize_measure_id,
    parse_number,
    read_records,
    read_table,
)

HEADER_DE = "Maßnahme;Indikator;Stadtteil;Zeitraum;Wert;Einheit;Amt;Bemerkung\r\n"


# --- builders: files made the way offices make them -------------------------------------------------


def xlsx(build: Callable[[openpyxl.Workbook], None]) -> bytes:
    wb = openpyxl.Workbook()
    build(wb)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def sheet_of(rows: list[list[object]], title: str = "Daten") -> bytes:
    def build(wb: openpyxl.Workbook) -> None:
        ws = wb.active
        ws.title = title
        for row in rows:
            ws.append(row)

    return xlsx(build)


def ods(sheets: dict[str, pd.DataFrame]) -> bytes:
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="odf") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return out.getvalue()


def rezip(data: bytes, change: Callable[[str, bytes], bytes]) -> bytes:
    """The same zip with every member passed through `change(name, content)`."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, change(info.filename, src.read(info)))
    return out.getvalue()


def codes(problems: list[Finding] | tuple[Finding, ...]) -> list[str]:
    return [p.code for p in problems]


def only(problems: list[Finding] | tuple[Finding, ...]) -> Finding:
    assert len(problems) == 1, [finding_line(p) for p in problems]
    return problems[0]


def good(data: bytes, filename: str) -> list[Record]:
    records, problems = read_records(data, filename)
    assert problems == [], [finding_line(p) for p in problems]
    return records


SIMPLE_XLSX = sheet_of([["Maßnahme", "Indikator", "Zeitraum", "Wert"], ["M21", "Fälle", "2018-Q3", 12.5]])


# --- CSV as offices export it ------------------------------------------------------------------------


def test_windows_1252_semicolon_decimal_comma_thousands_dots_and_umlauts() -> None:
    data = (
        HEADER_DE
        + "M 21;Anzahl Bedarfsgemeinschaften;Lützel;2018-Q3;1.500;Anzahl;Amt 50;\r\n"
        + "m21;Anzahl Bedarfsgemeinschaften;Gesamtstadt;Q3/2018;1.234,5;Anzahl;Amt 50;\r\n"
        + "21;Quote Ü65;;3. Quartal 2018;12,5;%;Amt 50;vorläufig\r\n"
        + "M21;Quote Ü65;Süd;30.09.2018;-;%;Amt 50;nicht erhoben\r\n"
        + ";;;;;;;\r\n"
        + "M21;Quote Ü65;Süd;2018-09-30;;%;Amt 50;noch offen\r\n"
    ).encode("cp1252")
    result = read_table(data, "Jugendamt Lieferung.CSV")
    assert result.ok
    table = only_table(result)
    assert (table.delimiter, table.encoding, table.header_row) == (";", "cp1252", 1)
    assert table.columns[0] == "Maßnahme"
    records, problems = iter_records(result)
    assert problems == []
    assert [r.row for r in records] == [2, 3, 4, 5, 7]
    assert [r.measure for r in records] == ["M21"] * 5
    assert [r.value for r in records] == [1500.0, 1234.5, 12.5, None, None]  # 1.500 is 1500, never 1.5
    assert [r.area for r in records] == ["Lützel", None, None, "Süd", "Süd"]
    assert {r.period.key for r in records[:3]} == {"2018-Q3"}
    assert records[3].period == Period.day(date(2018, 9, 30)) and records[3].period_text == "30.09.2018"
    assert records[3].note == "nicht erhoben" and records[2].note == "vorläufig"
    assert records[2].indicator == "Quote Ü65" and records[0].office == "Amt 50" and records[2].unit == "%"
    assert not any(r.flawed for r in records)


def only_table(result: ReadResult) -> Table:
    assert len(result.tables) == 1, result
    return result.tables[0]


def test_thousands_dot_needs_the_german_reading_not_pandas_default() -> None:
    # pandas read_csv(sep=";", decimal=",") without thousands="." would make 1.500 -> 1.5 silently.
    data = "Maßnahme;Indikator;Zeitraum;Wert\r\nM21;A;2017;1.500\r\nM21;A;2018;1.500,5\r\nM21;A;2019;2.250\r\n"
    records = good(data.encode("cp1252"), "a.csv")
    assert [r.value for r in records] == [1500.0, 1500.5, 2250.0]


def test_utf8_with_bom() -> None:
    data = "\ufeffMaßnahme;Indikator;Zeitraum;Wert\nM31;Schulabgänger ohne Abschluss;2018;7,25\n".encode()
    result = read_table(data, "x.csv")
    table = only_table(result)
    assert table.columns[0] == "Maßnahme" and table.encoding == "utf-8-sig"
    records = good(data, "x.csv")
    assert records[0].value == 7.25 and records[0].indicator == "Schulabgänger ohne Abschluss"


def test_utf8_without_bom_and_latin1_fallback() -> None:
    assert good("Maßnahme;Indikator;Zeitraum;Wert\nM31;Größe;2018;1\n".encode(), "x.txt")[0].indicator == "Größe"
    # 0x81 is undefined in Windows-1252, so only Latin-1 can read this file
    data = b"Massnahme;Indikator;Zeitraum;Wert\nM31;A\x81\xe4;2018;1\n"
    result = read_table(data, "x.csv")
    assert only_table(result).encoding == "latin-1"
    assert iter_records(result)[0][0].indicator == "A\x81ä"


def test_a_long_file_is_told_utf8_or_not_from_its_start_like_from_the_whole() -> None:
    from watchers.read import _not_utf8

    head = "Maßnahme;Indikator;Zeitraum;Wert\n"
    row = "M31;Schulabgänger;2018;1\n"
    text = head + row * (70_000 // len(row))
    assert only_table(read_table(text.encode("cp1252"), "x.csv")).encoding == "cp1252"
    # A two-byte character split by the cut of the start looked at: the start alone must not decide
    for shift in range(len(row.encode())):  # every place of "ä" against the cut
        padded = head + "x" * shift + row * (70_000 // len(row))
        data = padded.encode()
        assert not _not_utf8(data)
        table = only_table(read_table(data, "x.csv"))
        assert table.encoding == "utf-8-sig" and table.rows.iloc[-1].tolist()[1] == "Schulabgänger"
    # Not UTF-8 only far down: decided by the whole file, as always
    late = (head + row * (70_000 // len(row))).encode() + "M31;Größe;2018;1\n".encode("cp1252")
    assert not _not_utf8(late) and only_table(read_table(late, "x.csv")).encoding == "cp1252"
    assert _not_utf8(text.encode("cp1252")) and not _not_utf8(text.encode("cp1252")[:1000])


def test_tab_separated() -> None:
    data = "Maßnahme\tIndikator\tZeitraum\tWert\tBemerkung\nM11\tPlätze, belegt\t2018-09\t1.234,5\tinkl. Kita\n"
    result = read_table(data.encode("cp1252"), "x.txt")
    assert only_table(result).delimiter == "\t"
    record = iter_records(result)[0][0]
    assert (record.indicator, record.period.key, record.value) == ("Plätze, belegt", "2018-09", 1234.5)


def test_comma_separated_english_with_quotes() -> None:
    data = (
        "measure,indicator,area,period,value,unit,office,note\n"
        'M21,"Cases, total",Lützel,2018-Q3,"1,234.5",count,Amt 50,"first, provisional"\n'
        "M21,Rate,,2018-Q3,12.5,%,Amt 50,\n"
        'M21,Rate,,2018-Q4,"1,500",%,Amt 50,"multi\nline note"\n'
    )
    result = read_table(data.encode(), "english.csv")
    assert only_table(result).delimiter == ","
    records, problems = iter_records(result)
    assert problems == []
    assert [(r.indicator, r.value) for r in records] == [("Cases, total", 1234.5), ("Rate", 12.5), ("Rate", 1500.0)]
    assert records[0].note == "first, provisional" and records[2].note == "multi\nline note"


def test_delimiter_found_from_the_header_even_with_many_decimal_commas() -> None:
    # csv.Sniffer / sep=None guess "," here; the header decides for ";".
    rows = "".join(f"M21;Anteil, in %;{2000 + i};{i},5;Quote, bereinigt, vorläufig\n" for i in range(20))
    data = ("Maßnahme;Indikator;Zeitraum;Wert;Bemerkung\n" + rows).encode("cp1252")
    result = read_table(data, "x.csv")
    assert only_table(result).delimiter == ";"
    records = iter_records(result)[0]
    assert [r.value for r in records[:3]] == [0.5, 1.5, 2.5] and records[0].indicator == "Anteil, in %"


def test_title_lines_above_the_header_and_excel_sep_line() -> None:
    data = "Datenlieferung Sozialamt;;;\n;;;\nStand: 01.10.2018;;;\nMaßnahme;Indikator;Zeitraum;Wert\nM21;A;2018;3\n"
    result = read_table(data.encode(), "x.csv")
    assert only_table(result).header_row == 4
    assert iter_records(result)[0][0].row == 5
    data = b"sep=;\nMassnahme;Indikator;Zeitraum;Wert\nM21;A;2018;3,5\n"
    assert good(data, "x.csv")[0].value == 3.5


def test_utf16_excel_unicode_text() -> None:
    data = "Maßnahme\tIndikator\tZeitraum\tWert\r\nM21\tÄltere\t2018\t4,5\r\n".encode("utf-16")
    assert good(data, "unicode.txt")[0].value == 4.5


def test_wide_layout_csv() -> None:
    data = "Maßnahme;Indikator;Gebiet;2017;2018-Q3;Q4/2018;31.12.2018\nM21;A;Lützel;1.234,5;-;;7\nM22;B;;;;;\n"
    records, problems = read_records(data.encode("cp1252"), "wide.csv")
    assert problems == []
    assert [(r.period.key, r.value, r.column) for r in records] == [
        ("2017", 1234.5, "2017"), ("2018-Q3", None, "2018-Q3"), ("2018-12-31", 7.0, "31.12.2018"),
    ]
    assert {r.area for r in records} == {"Lützel"} and {r.row for r in records} == {2}


@pytest.mark.parametrize(
    "header",
    [
        "Maßnahme;Indikator;Zeitraum;Wert",
        "MASSNAHME;INDIKATOR;ZEITRAUM;WERT",
        "Maßnahme ;Indikator ; Periode;Wert ",
        "massnahme;indikator;stichtag;wert",
        "Maßnahme (ID);Indikator-ID;Zeitraum;Wert (Anzahl)",
        "measure;indicator;period;value",
        "Measure;Indicator;Period;Value",
        "Maß_nahme;Indi-kator;Zeit raum;Wert",
    ],
)
def test_header_variants(header: str) -> None:
    data = f"{header}\nM21;A;2018;5\n".encode("cp1252")
    assert good(data, "x.csv")[0].value == 5.0


def test_optional_column_synonyms() -> None:
    data = "Massnahme;Indikator;Stadtteil;Periode;Wert;Einheit;Quelle;Bemerkung\nM21;A;Lützel;2018;5;%;Amt 50;n\n"
    r = good(data.encode("cp1252"), "x.csv")[0]
    assert (r.area, r.unit, r.office, r.note) == ("Lützel", "%", "Amt 50", "n")
    data = "measure;indicator;area;period;value;unit;office;note\nM21;A;North;2018;5;%;Office 1;n\n"
    r = good(data.encode(), "x.csv")[0]
    assert (r.area, r.unit, r.office, r.note) == ("North", "%", "Office 1", "n")


# --- spreadsheets ------------------------------------------------------------------------------------


def office_workbook() -> bytes:
    def build(wb: openpyxl.Workbook) -> None:
        ws = wb.active
        ws.title = "Daten"
        ws.append(["Datenlieferung Amt 50 – Stand Oktober 2018"])  # title row
        ws.append([])  # blank row
        ws.append(["Maßnahme", "Indikator", "Gebiet", "Zeitraum", "Wert", "Einheit", "Bemerkung"])
        ws.append(["M21", "Bedarfsgemeinschaften", "Lützel", 2018.0, 1500, "Anzahl", None])
        ws.append([21.0, "Bedarfsgemeinschaften", None, datetime(2018, 9, 30), 1234.5, "Anzahl", None])
        ws.append(["M 21", "Quote", None, "2018-Q3", "12,5", "%", "als Text erfasst"])
        ws.append(["M21", "Quote", None, "Q4/2018", "-", "%", "nicht erhoben"])
        notes = wb.create_sheet("Stadtteile")
        notes.append(["measure", "indicator", "area", "period", "value"])
        notes.append(["M22", "Plätze", "Süd", "2018", 17])
        hints = wb.create_sheet("Hinweise")
        hints.append(["Bitte Werte nur im Blatt Daten eintragen."])
        hints.append(["Quelle: Amt 50"])

    return xlsx(build)


def test_xlsx_title_row_second_sheet_date_cell_and_float_period() -> None:
    result = read_table(office_workbook(), "amt50.xlsx")
    assert result.ok
    assert [(t.sheet, t.header_row) for t in result.tables] == [("Daten", 3), ("Stadtteile", 1)]
    records, problems = iter_records(result)
    assert problems == []
    assert [(r.sheet, r.row) for r in records] == [("Daten", 4), ("Daten", 5), ("Daten", 6), ("Daten", 7),
                                                   ("Stadtteile", 2)]
    assert [r.measure for r in records] == ["M21", "M21", "M21", "M21", "M22"]
    assert [r.period.key for r in records] == ["2018", "2018-09-30", "2018-Q3", "2018-Q4", "2018"]
    assert records[0].period_text == "2018" and records[1].period_text == "30.09.2018"
    assert [r.value for r in records] == [1500.0, 1234.5, 12.5, None, 17.0]
    assert records[3].note == "nicht erhoben" and records[4].area == "Süd"


def test_xlsm_is_read_like_xlsx() -> None:
    assert good(SIMPLE_XLSX, "makro.xlsm")[0].value == 12.5


def test_xlsx_wide_layout_with_float_and_date_headers() -> None:
    data = sheet_of([
        ["Maßnahme", "Indikator", "Gebiet", 2017, 2018.0, "2018-Q3", datetime(2018, 12, 31), "Bemerkung"],
        ["M21", "A", None, 1.5, 2, None, "-", "Breitformat"],
        ["M22", "B", "Süd", "1.234,5", None, 3, 4, None],
    ])
    records, problems = read_records(data, "breit.xlsx")
    assert problems == []
    assert [(r.measure, r.period.key, r.value) for r in records] == [
        ("M21", "2017", 1.5), ("M21", "2018", 2.0), ("M21", "2018-12-31", None),
        ("M22", "2017", 1234.5), ("M22", "2018-Q3", 3.0), ("M22", "2018-12-31", 4.0),
    ]
    assert records[0].note == "Breitformat" and records[3].area == "Süd"


def test_ods_long_and_wide_layout() -> None:
    data = ods({
        "Lang": pd.DataFrame({
            "Maßnahme": ["M21", "M22"], "Indikator": ["Fälle", "Plätze"], "Zeitraum": ["2018-Q3", "30.09.2018"],
            "Wert": [1500.0, 12.5], "Bemerkung": ["", "vorläufig"],
        }),
        "Breit": pd.DataFrame({"Maßnahme": ["M31"], "Indikator": ["Quote"], "2017": [1.0], "2018-Q3": ["2,5"]}),
    })
    result = read_table(data, "lieferung.ods")
    assert [t.sheet for t in result.tables] == ["Lang", "Breit"]
    records, problems = iter_records(result)
    assert problems == []
    assert [(r.sheet, r.measure, r.period.key, r.value) for r in records] == [
        ("Lang", "M21", "2018-Q3", 1500.0), ("Lang", "M22", "2018-09-30", 12.5),
        ("Breit", "M31", "2017", 1.0), ("Breit", "M31", "2018-Q3", 2.5),
    ]
    assert records[1].note == "vorläufig"


def test_excel_date_in_the_value_column_is_reported() -> None:
    data = sheet_of([["Maßnahme", "Indikator", "Zeitraum", "Wert"], ["M21", "A", "2018", datetime(2018, 5, 1)]])
    problem = only(read_records(data, "x.xlsx")[1])
    assert (problem.code, problem.row, problem.column, problem.found) == ("read.value_is_date", 2, "Wert", "01.05.2018")
    assert "Datum" in suggestion(problem)


# --- the broken corpus -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["leer.csv", "leer.xlsx", "leer.ods"])
def test_empty_file(name: str) -> None:
    result = read_table(b"", name)
    assert codes(result.problems) == ["read.empty_file"] and result.tables == ()


def test_header_only() -> None:
    for data, name in [(b"Massnahme;Indikator;Zeitraum;Wert\r\n", "x.csv"),
                       (sheet_of([["Maßnahme", "Indikator", "Zeitraum", "Wert"]]), "x.xlsx")]:
        result = read_table(data, name)
        assert result.ok and len(result.tables) == 1
        records, problems = iter_records(result)
        assert records == [] and codes(problems) == ["read.no_rows"]


def test_text_in_the_value_column_every_row_reported() -> None:
    data = (
        "Maßnahme;Indikator;Zeitraum;Wert\n"
        "M21;A;2016;viele\n"
        "M21;A;2017;12,5\n"
        "M21;A;Sept. 2018;3\n"
        ";A;2019;ca. 40\n"
    ).encode("cp1252")
    records, problems = read_records(data, "x.csv")
    assert [(p.code, p.row, p.column, p.found) for p in problems] == [
        ("read.bad_number", 2, "Wert", "viele"),
        ("read.bad_period", 4, "Zeitraum", "Sept. 2018"),
        ("read.required_empty", 5, "Maßnahme", ""),
        ("read.bad_number", 5, "Wert", "ca. 40"),
    ]
    assert [r.flawed for r in records] == [True, False, True, True]
    for problem in problems:
        assert expected(problem) and suggestion(problem)
        line = finding_line(problem)
        assert f"Zeile {problem.row}" in line and "Spalte" in line and "erwartet" in line and "Vorschlag" in line


def test_binary_junk_named_xlsx_and_csv() -> None:
    junk = bytes(range(256)) * 20
    assert codes(read_table(junk, "daten.xlsx").problems) == ["read.not_spreadsheet"]
    assert codes(read_table(junk, "daten.ods").problems) == ["read.not_spreadsheet"]
    assert codes(read_table(junk, "daten.csv").problems) == ["read.not_text"]
    # an xlsx dropped with a .csv name, and a zip that is no spreadsheet
    assert codes(read_table(SIMPLE_XLSX, "daten.csv").problems) == ["read.not_text"]
    other = io.BytesIO()
    with zipfile.ZipFile(other, "w") as z:
        z.writestr("word/document.xml", "<w/>")
    assert codes(read_table(other.getvalue(), "brief.xlsx").problems) == ["read.not_spreadsheet"]


@pytest.mark.parametrize("cut", [10, 100, 1000, -200, -22, -1])
def test_truncated_xlsx(cut: int) -> None:
    result = read_table(SIMPLE_XLSX[:cut], "abgebrochen.xlsx")
    assert codes(result.problems) in (["read.damaged"], ["read.not_spreadsheet"])
    assert result.tables == ()


def test_old_excel_and_password_protected_and_unknown_types() -> None:
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)
    assert codes(read_table(ole, "alt.xls").problems) == ["read.old_excel"]
    assert codes(read_table(ole, "geschuetzt.xlsx").problems) == ["read.old_excel"]
    for name in ("bericht.pdf", "ohne_endung", "daten.json"):
        problem = only(read_table(b"x", name).problems)
        assert problem.code == "read.unknown_extension" and ".xlsx" in expected(problem)


def zip_bomb(size: int) -> bytes:
    """A valid-looking xlsx whose worksheet unpacks to `size` bytes of zeros (small on disk)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(SIMPLE_XLSX)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename != "xl/worksheets/sheet1.xml":
                dst.writestr(info.filename, src.read(info))
        with dst.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as member:
            chunk = bytes(8 * 2**20)
            for _ in range(size // len(chunk)):
                member.write(chunk)
    return out.getvalue()


def test_zip_bomb_is_refused_before_unpacking() -> None:
    bomb = zip_bomb(208 * 2**20)  # 208 MiB declared, a few hundred KB on disk
    assert len(bomb) < 1_000_000
    started = time.perf_counter()
    problem = only(read_table(bomb, "bombe.xlsx").problems)
    assert time.perf_counter() - started < 0.5  # nothing was unpacked
    assert problem.code == "read.too_large" and "200 MB" in expected(problem)
    # under the size cap, but with an absurd compression ratio
    problem = only(read_table(zip_bomb(16 * 2**20), "bombe.xlsx").problems)
    assert problem.code == "read.too_large"
    assert only(read_table(SIMPLE_XLSX, "x.xlsx", max_unpacked_bytes=1000).problems).code == "read.too_large"


def test_member_lying_about_its_size_is_caught() -> None:
    data = bytearray(rezip(SIMPLE_XLSX, lambda n, c: c + b" " * 50_000 if n.endswith("sheet1.xml") else c))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        info = z.getinfo("xl/worksheets/sheet1.xml")
    real = info.file_size
    # patch the declared uncompressed size in the local header and in the central directory
    struct.pack_into("<I", data, info.header_offset + 22, 1000)
    central = data.find(b"PK\x01\x02")
    while central != -1:
        name_len = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + name_len] == b"xl/worksheets/sheet1.xml":
            assert struct.unpack_from("<I", data, central + 24)[0] == real
            struct.pack_into("<I", data, central + 24, 1000)
        central = data.find(b"PK\x01\x02", central + 4)
    assert codes(read_table(bytes(data), "gelogen.xlsx").problems) == ["read.damaged"]


def test_sparse_cells_that_would_unfold_into_a_huge_grid() -> None:
    # A1 and XFD1048576: calamine would allocate 17 billion cells and abort the whole process.
    def build(wb: openpyxl.Workbook) -> None:
        wb.active["A1"] = "Maßnahme"
        wb.active["XFD1048576"] = "x"

    problem = only(read_table(xlsx(build), "weit.xlsx").problems)
    assert problem.code == "read.too_many_cells" and "XFD" in suggestion(problem)


def test_cells_without_references_are_measured_too() -> None:
    cells = b"<c t='inlineStr'><is><t>x</t></is></c>" * 20_000

    def strip_refs(name: str, content: bytes) -> bytes:
        if not name.endswith("sheet1.xml"):
            return content
        content = re.sub(rb' r="[A-Z]+\d+"', b"", content)
        return content.replace(b"</sheetData>", b'<row r="900">' + cells + b"</row></sheetData>")

    assert codes(read_table(rezip(SIMPLE_XLSX, strip_refs), "x.xlsx").problems) == ["read.too_many_cells"]
    # the same walk accepts an ordinary sheet without references
    plain = rezip(SIMPLE_XLSX, lambda n, c: re.sub(rb' r="[A-Z]+\d+"', b"", c) if n.endswith("sheet1.xml") else c)
    assert good(plain, "x.xlsx")[0].value == 12.5


ODS_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    '<office:body><office:spreadsheet><table:table table:name="Daten">'
    "<table:table-row>{header}</table:table-row>"
    '<table:table-row table:number-rows-repeated="{rows}"><table:table-cell table:number-columns-repeated="{cols}"'
    ' office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell></table:table-row>'
    '<table:table-row table:number-rows-repeated="1048000"><table:table-cell table:number-columns-repeated="1024"/>'
    "</table:table-row>"
    "</table:table></office:spreadsheet></office:body></office:document-content>"
)


def hand_made_ods(rows: int, cols: int) -> bytes:
    header = "".join(
        f'<table:table-cell office:value-type="string"><text:p>{h}</text:p></table:table-cell>'
        for h in ("Maßnahme", "Indikator", "2017", "2018")
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet", compress_type=zipfile.ZIP_STORED)
        z.writestr("content.xml", ODS_CONTENT.format(header=header, rows=rows, cols=cols))
        z.writestr("META-INF/manifest.xml", '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:'
                   'xmlns:manifest:1.0"><manifest:file-entry manifest:full-path="/" manifest:media-type='
                   '"application/vnd.oasis.opendocument.spreadsheet"/></manifest:manifest>')
    return out.getvalue()


def test_ods_repeated_cells_bomb_and_libreoffice_trailing_repeats() -> None:
    # 9000 x 10000 repeated non-empty cells: 823 bytes that calamine would unfold to gigabytes
    assert codes(read_table(hand_made_ods(9000, 10000), "x.ods").problems) == ["read.too_many_cells"]
    # LibreOffice's usual trailing empty repeats (1048000 rows x 1024 cells) are harmless
    result = read_table(hand_made_ods(2, 4), "x.ods")
    assert result.ok, result.problems
    records, problems = iter_records(result)
    assert problems == [] and len(records) == 4  # 2 rows x periods 2017, 2018 (the 3rd/4th cells)


def test_ods_measure_takes_the_full_walk_for_unusual_files() -> None:
    from watchers.workbook import ods_extent as _ods_extent

    bomb = ODS_CONTENT.format(header="", rows=5000, cols=5000).replace("table:", "t:").replace("xmlns:t:", "xmlns:t")
    assert _ods_extent(bomb.encode()) == (5001, 5000)
    lo = ODS_CONTENT.format(header='<table:table-cell office:value-type="float"><text:p>1</text:p></table:table-cell>',
                            rows=3, cols=2)
    assert _ods_extent(lo.encode()) == (4, 2)
    skipped = '<table:table-row table:number-rows-repeated="7"/><table:table-row>'
    assert _ods_extent(lo.replace("<table:table-row>", skipped).encode()) == (11, 2)


def test_too_many_rows() -> None:
    data = ("Massnahme;Indikator;Zeitraum;Wert\n" + "M21;A;2018;1\n" * 50).encode()
    problem = only(read_table(data, "x.csv", max_rows=20).problems)
    assert problem.code == "read.too_many_rows" and "20" in expected(problem)
    assert read_table(data, "x.csv", max_rows=51).ok
    rows = [["Maßnahme", "Indikator", "Zeitraum", "Wert"]] + [["M21", "A", 2018, 1]] * 50
    problem = only(read_table(sheet_of(rows), "x.xlsx", max_rows=20).problems)
    assert (problem.code, problem.sheet) == ("read.too_many_rows", "Daten")


def test_no_header_found() -> None:
    problem = only(read_table(b"Hallo;Welt\n1;2\n", "x.csv").problems)
    assert problem.code == "read.no_header" and problem.found == "Hallo | Welt"
    assert "Maßnahme, Indikator, Zeitraum" in expected(problem)
    # a header below row 20 is not searched
    late = ("Titel\n" * 25 + "Massnahme;Indikator;Zeitraum;Wert\nM21;A;2018;1\n").encode()
    assert codes(read_table(late, "x.csv").problems) == ["read.no_header"]
    problem = only(read_table(sheet_of([["nur Text"], ["noch mehr"]], "Blatt1"), "x.xlsx").problems)
    assert (problem.code, problem.sheet) == ("read.no_header", "Blatt1")


def test_ambiguous_thousands_column_is_rejected_not_guessed() -> None:
    data = "Maßnahme;Indikator;Zeitraum;Wert\nM21;A;2017;1.500\nM21;A;2018;2.250\nM21;A;2019;800\n"
    records, problems = read_records(data.encode(), "x.csv")
    problem = only(problems)
    assert (problem.code, problem.row, problem.column, problem.found) == ("read.number_ambiguous", 2, "Wert", "1.500")
    assert problem.params["more"] == 1
    assert "1500 oder 1,5" in suggestion(problem)
    assert "1500 or 1.5" in suggestion(problem, "en")
    assert [r.value for r in records] == [None, None, 800.0] and [r.flawed for r in records] == [True, True, False]
    # the same with commas in an English file
    data = 'measure,indicator,period,value\nM21,A,2017,"1,500"\n'
    assert codes(read_records(data.encode(), "x.csv")[1]) == ["read.number_ambiguous"]
    # one decisive value in the same table settles it
    data = 'measure,indicator,period,value\nM21,A,2017,"1,500"\nM21,A,2018,2.5\n'
    assert [r.value for r in good(data.encode(), "x.csv")] == [1500.0, 2.5]


def test_mixed_number_styles_are_reported_per_row() -> None:
    data = "Maßnahme;Indikator;Zeitraum;Wert\nM21;A;2016;1.234,5\nM21;A;2017;12,5\nM21;A;2018;12.75\n"
    problem = only(read_records(data.encode(), "x.csv")[1])
    assert (problem.code, problem.row, problem.found) == ("read.number_style_conflict", 4, "12.75")
    assert "deutschen" in expected(problem)


def test_comma_file_with_unquoted_decimal_comma() -> None:
    data = b"measure,indicator,period,value\nM21,A,2018,12,5\nM21,A,2019,13\n"
    problem = only(read_records(data, "x.csv")[1])
    assert (problem.code, problem.row, problem.found) == ("read.extra_cells", 2, "5")


def test_column_problems() -> None:
    problems = read_records(b"Massnahme;Indikator;Wert\nM21;A;1\n", "x.csv")[1]
    assert [(p.code, p.params["field"]) for p in problems] == [("read.missing_column", "period")]
    assert "Zeitraum" in expected(problems[0]) and "period" in expected(problems[0], "en")
    problems = read_records(b"Massnahme;Indikator;Zeitraum;Wert;Value\nM21;A;2018;1;2\n", "x.csv")[1]
    assert [(p.code, p.column, p.letter) for p in problems] == [("read.duplicate_column", "Value", "E")]
    problems = read_records(b"Massnahme;Indikator;2017;2018-Q5;Summe;2017\nM21;A;1;2;3;4\n", "x.csv")[1]
    assert [(p.code, p.column) for p in problems] == [("read.bad_period_header", "2018-Q5"),
                                                      ("read.duplicate_period", "2017")]
    problems = read_records(b"Massnahme;Indikator;Zeitraum;Wert;2018\nM21;A;2018;1;2\n", "x.csv")[1]
    assert codes(problems) == ["read.mixed_layout"]
    problems = read_records(b"Massnahme;Indikator;Einheit\nM21;A;%\n", "x.csv")[1]
    assert [p.params["field"] for p in problems] == ["period", "value"]


def test_required_cells_and_every_problem_listed() -> None:
    rows = [["Maßnahme", "Indikator", "Zeitraum", "Wert"], [None, "A", "2018", 1], ["M21", None, None, "x"],
            ["M21", "A", "2018-Q5", True]]
    problems = read_records(sheet_of(rows), "x.xlsx")[1]
    assert [(p.code, p.row, p.column, p.sheet) for p in problems] == [
        ("read.required_empty", 2, "Maßnahme", "Daten"),
        ("read.required_empty", 3, "Indikator", "Daten"),
        ("read.required_empty", 3, "Zeitraum", "Daten"),
        ("read.bad_number", 3, "Wert", "Daten"),
        ("read.bad_period", 4, "Zeitraum", "Daten"),
        ("read.bad_number", 4, "Wert", "Daten"),
    ]
    assert 'Tabellenblatt „Daten“, Zeile 3, Spalte „Indikator“ (B)' in finding_line(problems[1])


def test_problem_list_is_capped_with_a_summary() -> None:
    data = ("Massnahme;Indikator;Zeitraum;Wert\n" + "M21;A;2018;falsch\n" * 30).encode()
    records, problems = iter_records(read_table(data, "x.csv"), max_problems=10)
    assert len(records) == 30 and len(problems) == 11
    assert problems[-1].code == "read.too_many_problems" and problems[-1].params["count"] == 20


# --- units ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("M21", "M21"), ("M 21", "M21"), ("m21", "M21"), ("21", "M21"), (" 21 ", "M21"), (21.0, "M21"), (21, "M21"),
     ("M-21", "M21"), ("M21 – Wohnraumversorgung", "M21"), ("m 43: Pflege", "M43"),
     ("M2", None), ("M211", None), ("Wohnen", None), ("", None), (None, None), ("21a", None), ("2018", None)],
)
def test_normalize_measure_id(text: object, expected: str | None) -> None:
    assert normalize_measure_id(text) == expected


@pytest.mark.parametrize(
    ("text", "style", "expected"),
    [
        ("1.234,5", "de", 1234.5), ("12,5", "de", 12.5), ("1.500", "de", 1500.0), ("1,500", "de", 1.5),
        ("1.234.567", "de", 1234567.0), ("0,5", "de", 0.5), (",5", "de", 0.5), ("-3,25", "de", -3.25),
        ("−3,25", "de", -3.25), ("+7", "de", 7.0), ("12,5 %", "de", 12.5), ("1 234,5", "de", 1234.5),
        ("1\u00a0234", "de", 1234.0), ("1.234,5 €", "de", 1234.5),
        ("1,234.5", "en", 1234.5), ("12.5", "en", 12.5), ("1.500", "en", 1.5), ("1,500", "en", 1500.0),
        ("1,234,567", "en", 1234567.0), ("0.5", "en", 0.5), ("-1,500.25", "en", -1500.25),
        ("42", "ambiguous", 42.0), ("12,5", "ambiguous", 12.5), (7, "de", 7.0), (2.5, "en", 2.5),
        ("", "de", None), ("-", "de", None), (".", "en", None), ("k.A.", "de", None), ("K. A.", "de", None),
        ("n/a", "en", None), (None, "de", None), ("  ", "de", None),
    ],
)
def test_parse_number(text: object, style: str, expected: float | None) -> None:
    assert parse_number(text, style) == expected


@pytest.mark.parametrize(
    ("text", "style", "reason"),
    [("1.500", "ambiguous", "ambiguous"), ("1,500", "ambiguous", "ambiguous"), ("12.5", "de", "style"),
     ("1.234,5", "en", "style"), ("abc", "de", "invalid"), ("1.2.3", "de", "invalid"), ("12,5,3", "de", "invalid"),
     ("1e5", "en", "invalid"), (float("nan"), "de", "invalid"), (True, "de", "invalid"), ("1.23,4", "de", "invalid"),
     ("--5", "de", "invalid")],
)
def test_parse_number_refuses(text: object, style: str, reason: str) -> None:
    with pytest.raises(NumberError) as info:
        parse_number(text, style)
    assert info.value.reason == reason and isinstance(info.value, ValueError)


def test_detect_number_style() -> None:
    assert detect_number_style(["1.234,5", "12", "1.500"]) == "de"
    assert detect_number_style(["12,5"]) == "de"
    assert detect_number_style(["1.234.567"]) == "de"
    assert detect_number_style(["1,234.5", "1,500"]) == "en"
    assert detect_number_style(["0.5"]) == "en"
    assert detect_number_style(["1.500", "2.250"]) == "ambiguous"
    assert detect_number_style(["1,500"]) == "ambiguous"
    assert detect_number_style(["12", "7", "-", 1.5]) == "de"  # nothing to decide: both read the same
    mixed = detect_number_style(["1,5", "2,5", "3.5"])
    assert isinstance(mixed, Finding) and mixed.code == "read.number_style_conflict" and mixed.found == "3.5"


def test_find_columns_on_tables() -> None:
    table = Table(None, 1, ("Maßnahme", "Indikator", "Gebiet", "2017", "2018-Q3"), ())
    cmap = find_columns(table)
    assert isinstance(cmap, ColumnMap) and cmap.layout == "wide"
    assert cmap.get("area") == 2 and [(i, p.key) for i, p in cmap.periods] == [(3, "2017"), (4, "2018-Q3")]
    cmap = find_columns(Table("S", 3, ("lfd. Nr.", "Measure", "Indicator", "Period", "Value", "Quelle"), ()))
    assert isinstance(cmap, ColumnMap) and cmap.layout == "long"
    assert dict(cmap.fields) == {"measure": 1, "indicator": 2, "period": 3, "value": 4, "office": 5}
    problems = find_columns(Table("S", 3, ("Indikator", "Wert"), ()))
    assert isinstance(problems, list) and {p.params["field"] for p in problems} == {"measure", "period"}
    assert all(p.sheet == "S" and p.row == 3 for p in problems)


def test_text_catalogue_is_complete_in_both_languages() -> None:
    assert set(texts_ingest.DE) == set(texts_ingest.EN)
    def fields(template: str) -> set[str]:
        return {f.removesuffix("_de").removesuffix("_en") for f in re.findall(r"{(\w+)}", template)}

    for key, template in texts_ingest.DE.items():
        assert fields(template) == fields(texts_ingest.EN[key]), key
    reader = ("read.py", "columns.py", "number_style.py", "workbook.py", "findings.py")
    source = "".join((Path(__file__).parent.parent / "watchers" / name).read_text(encoding="utf-8") for name in reader)
    used = set(re.findall(r'"(read\.[a-z_]+)"', source))
    for code in used - {"read.where.sheet"}:
        assert code in texts_ingest.DE, code


def test_problem_texts_render_in_german_and_english() -> None:
    problem = Finding.make("read.bad_number", row=7, column="Wert", found="viele", sheet="Daten", letter="D")
    assert finding_line(problem) == (
        "Tabellenblatt „Daten“, Zeile 7, Spalte „Wert“ (D): gefunden: „viele“ – erwartet: "
        + expected(problem) + ". Vorschlag: " + suggestion(problem)
    )
    assert finding_line(problem, "en").startswith(
        "sheet “Daten”, row 7, column “Wert” (D): found: “viele” – expected: a number")
    assert expected(problem) == expected(problem, "de") != expected(problem, "en")
    other = Finding.make("read.bad_period", row=3, column="Zeitraum", found="Sept. 2018")
    report = format_report("x.csv", [problem, other], "de")
    assert report.startswith("Die Datei „x.csv“ wurde nicht übernommen") and report.count("\n") == 2
    assert "… und 1 weitere" in format_report("x.csv", [problem, other], "de", limit=1)


# --- speed -------------------------------------------------------------------------------------------


def german(value: float) -> str:
    return f"{value:,.1f}".replace(",", "_").replace(".", ",").replace("_", ".")


def test_100000_row_csv_reads_well_under_a_second() -> None:
    lines = [HEADER_DE]
    lines += [f"M{11 + i % 30};Indikator {i % 50};Stadtteil {i % 30};{2010 + i % 15}-Q{1 + i % 4};"
              f"{german(i * 1.5)};Anzahl;Amt 50;\r\n" for i in range(100_000)]
    data = "".join(lines).encode("cp1252")
    started = time.perf_counter()
    result = read_table(data, "gross.csv")
    elapsed = time.perf_counter() - started
    assert result.ok and len(result.tables[0].rows) == 100_000
    assert elapsed < 1.0, elapsed
    records, problems = iter_records(result)
    assert problems == [] and len(records) == 100_000 and records[-1].value == 149998.5
    assert time.perf_counter() - started < 3.0


def test_20000_row_xlsx_is_quick() -> None:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Daten")
    ws.append(["Maßnahme", "Indikator", "Gebiet", "Zeitraum", "Wert"])
    for i in range(20_000):
        ws.append([f"M{11 + i % 30}", f"Indikator {i % 50}", f"Stadtteil {i % 30}", 2000 + i % 20, i * 1.5])
    out = io.BytesIO()
    wb.save(out)
    started = time.perf_counter()
    records, problems = read_records(out.getvalue(), "gross.xlsx")
    assert problems == [] and len(records) == 20_000
    assert time.perf_counter() - started < 1.5


# --- nothing ever raises -----------------------------------------------------------------------------


def assert_clean(data: bytes, name: str) -> None:
    result = read_table(data, name, max_rows=5_000)
    assert isinstance(result, ReadResult)
    records, problems = iter_records(result)
    assert problems or records or not result.tables
    if not result.tables:
        assert problems
    for problem in problems:
        assert problem.code.startswith("read.")
        own = f"{problem.found} {problem.column} {problem.sheet} {problem.params}"
        for lang in ("de", "en"):
            line = finding_line(problem, lang)
            assert not [p for p in PLACEHOLDERS if p in line and p not in own], line


PLACEHOLDERS = {p for t in texts_ingest.DE.values() for p in re.findall(r"{\w+}", t)}
EXTENSIONS = st.sampled_from([".csv", ".txt", ".xlsx", ".xlsm", ".ods", ".xls", ".pdf", ""])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000), EXTENSIONS)
def test_arbitrary_bytes_never_raise(data: bytes, ext: str) -> None:
    assert_clean(data, "f" + ext)


_cells = st.one_of(
    st.sampled_from(["Maßnahme", "Indikator", "Zeitraum", "Wert", "Gebiet", "measure", "value", "2018", "2018-Q3",
                     "M21", "21", "1.500", "1,5", "12.5", "-", "", "k.A.", "30.09.2018", "Q3/2018", '"', "a;b"]),
    st.text(max_size=12),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_cells, max_size=7), max_size=12), st.sampled_from([";", ",", "\t", "|"]),
       st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]), st.sampled_from(["\n", "\r\n", "\r"]))
def test_arbitrary_text_as_csv_never_raises(rows: list[list[str]], sep: str, encoding: str, newline: str) -> None:
    text = newline.join(sep.join(row) for row in rows)
    assert_clean(text.encode(encoding, errors="replace"), "x.csv")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(SIMPLE_XLSX) - 1), st.integers(0, 255)), min_size=1, max_size=8),
       st.integers(0, len(SIMPLE_XLSX)))
def test_mutated_xlsx_bytes_never_raise(flips: list[tuple[int, int]], cut: int) -> None:
    data = bytearray(SIMPLE_XLSX)
    for position, byte in flips:
        data[position] = byte
    assert_clean(bytes(data), "x.xlsx")
    assert_clean(bytes(data[:cut]), "x.xlsx")


_SHEET_XML = zipfile.ZipFile(io.BytesIO(SIMPLE_XLSX)).read("xl/worksheets/sheet1.xml")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_SHEET_XML)), st.integers(0, 3), st.binary(max_size=6)),
                min_size=1, max_size=6))
def test_mutated_sheet_xml_inside_a_sound_zip_never_raises(edits: list[tuple[int, int, bytes]]) -> None:
    xml = bytearray(_SHEET_XML)
    for position, delete, insert in edits:
        xml[position : position + delete] = insert
    data = rezip(SIMPLE_XLSX, lambda n, c: bytes(xml) if n == "xl/worksheets/sheet1.xml" else c)
    assert_clean(data, "x.xlsx")


_excel_cells = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
    st.datetimes(datetime(1990, 1, 1), datetime(2030, 12, 31)), st.text(max_size=10),
    st.sampled_from(["Maßnahme", "Indikator", "Zeitraum", "Wert", "M21", "2018-Q3", "1.500", "12,5", "-", 2018.0]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_excel_cells, max_size=6), max_size=8), st.booleans())
def test_arbitrary_workbooks_never_raise(rows: list[list[object]], header: bool) -> None:
    rows = ([["Maßnahme", "Indikator", "Zeitraum", "Wert"]] if header else []) + rows
    cleaned = [[re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", c) if isinstance(c, str) else c for c in row]
               for row in rows]
    assert_clean(sheet_of(cleaned), "x.xlsx")


def test_records_are_plain_frozen_values() -> None:
    record = good(SIMPLE_XLSX, "x.xlsx")[0]
    assert record == Record(2, "Daten", "M21", "Fälle", None, "2018-Q3", Period.quarter(2018, 3), 12.5)
    with pytest.raises(AttributeError):
        record.value = 1.0  # type: ignore[misc]
