"""The reader against a reference: generated files read by watchers/read.py and by a plain row-by-row
reading of the contract's rules written here (csv module, openpyxl, one cell at a time) must give the
same records and the same problems in the same order.

The reference shares nothing with the reader but `normalize_measure_id` and `parse_period` (the measure
and period forms have their own tests); numbers, blank and ragged rows, row numbers and the problem
list are worked out here anew. Records are compared by repr, so that -0.0 and 0.0 would differ.
"""

from __future__ import annotations

import csv
import io
import math
import re
from datetime import date, datetime

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from commands.ingest_words import finding_line
from storage.periods import PeriodError, parse_period
from watchers.read import normalize_measure_id, read_records, read_table

# --- the reference ---------------------------------------------------------------------------------
NO_VALUE = {"", "-", "--", "–", "—", ".", "..", "...", "/", "k.a.", "k. a.", "k.a", "ka", "n.a.", "n/a", "n.v.",
            "na", "nan", "#n/a", "#nv"}
WHOLE = {"", "gesamtstadt", "gesamt", "insgesamt", "stadt koblenz", "koblenz", "whole city", "city", "stadt gesamt"}
FORMS = {  # (kind, pattern) in the order they are tried
    "int": r"\d+",
    "ambiguous": r"[1-9]\d{0,2}[.,]\d{3}",
    "de": r"\d{1,3}(\.\d{3})+,\d+|\d{1,3}(\.\d{3}){2,}|\d*,\d+",
    "en": r"\d{1,3}(,\d{3})+\.\d+|\d{1,3}(,\d{3}){2,}|\d*\.\d+",
}


def ref_kind(text: str) -> tuple[str, float, str]:
    """(kind, sign, digits) of a value text: kind missing, int, ambiguous, de, en or invalid."""
    text = text.strip()
    if text.casefold() in NO_VALUE:
        return "missing", 1.0, ""
    for space in "\u00a0\u202f\u2009":
        text = text.replace(space, " ")
    text = text.replace("\u2212", "-").replace("\u2013", "-").strip()
    if text.endswith(("%", "€")):
        text = text[:-1].rstrip()
    sign = 1.0
    if text.startswith(("+", "-")):
        sign, text = (-1.0 if text[0] == "-" else 1.0), text[1:].lstrip()
    if re.fullmatch(r"\d{1,3}( \d{3})+([.,]\d+)?", text, re.ASCII):
        text = text.replace(" ", "")
    for kind, pattern in FORMS.items():
        if re.fullmatch(pattern, text, re.ASCII):
            return kind, sign, text
    return "invalid", sign, text


def ref_style(texts: list[str]) -> str:
    kinds = [ref_kind(t)[0] for t in set(texts)]
    de, en = kinds.count("de"), kinds.count("en")
    if de or en:
        return "de" if de >= en else "en"
    return "ambiguous" if "ambiguous" in kinds else "de"


def ref_value(cell: object, style: str) -> tuple[float | None, str | None]:
    """(value, problem code or None); the code 'ambiguous' for a value the file does not decide."""
    if cell is None:
        return None, None
    if isinstance(cell, bool):
        return None, "read.bad_number"
    if isinstance(cell, int | float):
        return (float(cell), None) if math.isfinite(cell) else (None, "read.bad_number")
    if isinstance(cell, date):
        return None, "read.value_is_date"
    kind, sign, digits = ref_kind(cell)
    if kind == "missing":
        return None, None
    if kind == "invalid":
        return None, "read.bad_number"
    if kind == "ambiguous" and style == "ambiguous":
        return None, "ambiguous"
    if kind in ("de", "en") and kind != style:
        return None, "read.number_style_conflict"
    if kind in ("ambiguous", "de", "en"):
        thousands, decimal = (".", ",") if (style if kind == "ambiguous" else kind) == "de" else (",", ".")
        digits = digits.replace(thousands, "").replace(decimal, ".")
    value = sign * float(digits)
    return (value, None) if math.isfinite(value) else (None, "read.bad_number")


def ref_text(cell: object) -> str:
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "WAHR" if cell else "FALSCH"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.strftime("%d.%m.%Y") if cell.time() == datetime.min.time() else cell.strftime("%d.%m.%Y %H:%M")
    return str(cell).strip()


def clip(text: str) -> str:
    """A cell as a message quotes it: printable, at most 80 characters."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text if len(text) <= 80 else text[:79] + "…"


def ref_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def reference(rows: list[list[object]], header_row: int, sheet: str | None, csv_file: bool, defer: bool = False
              ) -> tuple[list[tuple], list[tuple]]:
    """Records (as tuples of every Record field) and problems (code, row, column, found, sheet) of one
    table whose header is rows[header_row - 1] (row numbers count from 1, as a person counts)."""
    header = [ref_text(c) if not isinstance(c, str) else c.strip() for c in rows[header_row - 1]]
    width = len(header)
    where = {name: header.index(name) for name in header if name}
    wide = "Wert" not in where
    periods = [(k, name) for k, name in enumerate(header) if wide and k >= 3 and name]
    records: list[tuple] = []
    problems: list[tuple] = []
    unsure: list[tuple[int, str, str]] = []  # (row, text, column) of values nothing decides

    def cell(cells: list, name: str) -> object:
        k = where.get(name)
        return cells[k] if k is not None and k < len(cells) else None

    body = [(number, cells) for number, cells in enumerate(rows, start=1) if number > header_row]
    value_cells = [c[k] for _, c in body for k in ([where["Wert"]] if not wide else [k for k, _ in periods])
                   if k < len(c) and isinstance(c[k], str)]
    style = ref_style(value_cells)
    for number, cells in body:
        extra = [c.strip() for c in cells[width:] if csv_file and c.strip()]
        if extra:
            problems.append(("read.extra_cells", number, None, clip(extra[0]), sheet))
        if all(ref_blank(c) for c in cells):
            continue
        present = [(k, name) for k, name in periods if k < len(cells) and not ref_blank(cells[k])]
        if wide and not present:
            continue
        flawed = False
        raw = ref_text(cell(cells, "Maßnahme"))
        indicator = ref_text(cell(cells, "Indikator"))
        for name, text in (("Maßnahme", raw), ("Indikator", indicator)):
            if not text:
                problems.append(("read.required_empty", number, name, "", sheet))
                flawed = True
        area = ref_text(cell(cells, "Stadtteil") if "Stadtteil" in where else cell(cells, "Gebiet"))
        area = None if area.casefold() in WHOLE else area
        common = (number, sheet, normalize_measure_id(raw) or raw, indicator, area)
        rest = tuple(ref_text(cell(cells, name)) or None for name in ("Einheit", "Amt", "Bemerkung"))
        entries = []
        if wide:
            entries = [(name, parse_period(name), cells[k], k, name) for k, name in present]
        else:
            period_cell = cell(cells, "Zeitraum")
            period_text = ref_text(period_cell)
            try:
                period = parse_period(period_cell if not isinstance(period_cell, str) else period_text)
            except PeriodError:
                period = None
            if not period_text:
                problems.append(("read.required_empty", number, "Zeitraum", "", sheet))
            elif period is None:
                problems.append(("read.bad_period", number, "Zeitraum", clip(period_text), sheet))
            flawed = flawed or period is None
            entries = [(period_text, period, cell(cells, "Wert"), where["Wert"], None)]
        for period_text, period, value_cell, column, heading in entries:
            value, code = ref_value(value_cell, style)
            handed = None
            if code == "ambiguous" and defer:
                handed = (value_cell.strip(), header[column], "ABCDEFGHIJ"[column])
            elif code == "ambiguous":
                unsure.append((number, value_cell.strip(), header[column]))
            elif code:
                problems.append((code, number, header[column], clip(ref_text(value_cell)), sheet))
            records.append((*common, period_text, period, value, *rest, heading,
                            flawed or (code is not None and handed is None), handed))
    if unsure:
        number, text, column = unsure[0]
        problems.append(("read.number_ambiguous", number, column, clip(text), sheet))
    if not records and not problems:
        problems.append(("read.no_rows", None, None, "", None))
    return records, problems


def as_read(data: bytes, filename: str, defer: bool = False) -> tuple[list[tuple], list[tuple]]:
    """What watchers/read.py gives, in the reference's terms."""
    records, problems = read_records(data, filename, defer_ambiguous=defer)
    return ([tuple(getattr(r, f) for f in r.__slots__) for r in records],
            [(p.code, p.row, p.column, p.found, p.sheet) for p in problems])


def agree(data: bytes, filename: str, expected: tuple[list[tuple], list[tuple]], defer: bool = False) -> None:
    got = as_read(data, filename, defer)
    assert got[1] == expected[1]
    assert repr(got[0]) == repr(expected[0])


# --- generated CSV files ---------------------------------------------------------------------------
MEASURES = ["M21", "m 21", " 21 ", "M-21", "M21 – Wohnraum", "M99", "Wohnen", ""]
INDICATORS = ["Fälle", " Quote Ü65 ", "M21-faelle", "", "   "]
AREAS = ["", "Gesamtstadt", " gesamt ", "Lützel", "Süd", "KOBLENZ"]
PERIODS = ["2018", "2018-Q3", "Q3/2018", "3. Quartal 2018", "2018-09", "09/2018", "30.09.2018", "2018-09-30",
           " 2019 ", "", "Sommer", "2018-13", "2018-Q5", "2. Halbjahr 2018", "H1/2019"]
NUMBERS_DE = ["12", "0", "-0", "12,5", ",5", "0,25", "1.234,5", "1.234.567", "-3,5", "+4", "1 234,5", "12 %", "7 €",
              "−2,5", "0.123.456", "0.500,5"]
NUMBERS_EN = ["12.5", ".5", "1,234.5", "1,234,567", "-3.5", "0.25", "0.500", "0,123,456"]
AMBIGUOUS = ["1.500", "2,250", "999.000", "-1.500"]
MISSING_VALUES = ["", "-", ".", "k.A.", "K.A.", " - ", "n/a", "#NV", "–"]
BAD_VALUES = ["viele", "1,2,3", "12a", "1..5", "--5", "٣", "+", "1" * 400, "0,500"]
UNITS = ["", "Anzahl", "%", " Euro "]
NOTES = ["", "vorläufig", "Zahl; mit Trennzeichen", 'mit "Anführung"', "  ", "zwei\nZeilen", "a,b"]

integers = st.integers(0, 10**6).map(str)
decimals_de = st.integers(0, 10**6).map(lambda k: f"{k / 100:.2f}".replace(".", ","))
VALUE_POOLS = {  # one per file, so that a file's number style is sometimes clear and sometimes not
    "all": st.one_of(st.sampled_from(NUMBERS_DE + NUMBERS_EN + AMBIGUOUS + MISSING_VALUES + BAD_VALUES), integers,
                     decimals_de),
    "ambiguous": st.one_of(st.sampled_from(AMBIGUOUS + MISSING_VALUES), integers),
    "de": st.one_of(st.sampled_from(NUMBERS_DE + AMBIGUOUS), integers, decimals_de),
    "en": st.one_of(st.sampled_from(NUMBERS_EN + AMBIGUOUS), integers,
                    st.integers(0, 10**6).map(lambda k: f"{k / 100}")),
}
LONG = ["Maßnahme", "Indikator", "Stadtteil", "Zeitraum", "Wert", "Einheit", "Amt", "Bemerkung"]
WIDE = ["Maßnahme", "Indikator", "Gebiet", "2017", "2018-Q3", "31.12.2018"]
BLANK_LINES = ["", ";;", "  ;  ", "\t\t", ",,", " "]


def row_of(values: st.SearchStrategy[str], wide: bool) -> st.SearchStrategy[list[str]]:
    if wide:
        cells = st.tuples(st.sampled_from(MEASURES), st.sampled_from(INDICATORS), st.sampled_from(AREAS),
                          values, values, values)
    else:
        cells = st.tuples(st.sampled_from(MEASURES), st.sampled_from(INDICATORS), st.sampled_from(AREAS),
                          st.sampled_from(PERIODS), values, st.sampled_from(UNITS),
                          st.sampled_from(["", "Amt 50", "amt50"]), st.sampled_from(NOTES))
    return st.tuples(cells, st.sampled_from([0, 0, 0, 0, 0, 0, -1, -3, 1, 2])).map(
        lambda t: [*t[0][: len(t[0]) + t[1]]] if t[1] < 0 else [*t[0], *["extra"] * t[1]])


def _quote(cell: str, sep: str) -> str:
    return f'"{cell.replace(chr(34), chr(34) * 2)}"' if sep in cell or '"' in cell or "\n" in cell else cell


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, list[list[str]], int]:
    """(file, its rows as the csv module reads them, header row number)."""
    wide = draw(st.booleans())
    values = VALUE_POOLS[draw(st.sampled_from(sorted(VALUE_POOLS)))]
    body = draw(st.lists(st.one_of(row_of(values, wide), st.sampled_from(BLANK_LINES)), min_size=0, max_size=30))
    sep = draw(st.sampled_from([";", "\t", ","]))
    newline = draw(st.sampled_from(["\r\n", "\n", "\r"]))
    extra = draw(st.sampled_from(["extra", " ", ""]))
    head = draw(st.sampled_from([[], ["Lieferung Amt 50", ""], [f"sep={sep}"]]))
    lines = [*head, sep.join(WIDE if wide else LONG)]
    for row in body:
        if isinstance(row, str):
            lines.append(row.replace(";", sep) if row.strip(" ") else row)
        else:
            lines.append(sep.join(_quote(c if c != "extra" else extra, sep) for c in row))
    text = newline.join(lines) + draw(st.sampled_from([newline, ""]))
    encoding = draw(st.sampled_from(["cp1252", "utf-8", "utf-8-sig"]))
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:  # "٣" has no Windows-1252 form
        data = text.encode("utf-8")
    return data, list(csv.reader(io.StringIO(text, newline=""), delimiter=sep)), len(head) + 1


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_files(), st.booleans())
def test_generated_csv_files_read_as_the_reference_reads_them(file: tuple, defer: bool) -> None:
    data, rows, header_row = file
    agree(data, "g.csv", reference(rows, header_row, None, csv_file=True, defer=defer), defer)


VALID = [
    "Maßnahme;Indikator;Stadtteil;Zeitraum;Wert;Einheit;Amt;Bemerkung\r\nM 21;Fälle;Lützel;2018-Q3;1.500;Anzahl;"
    "Amt 50;\r\nm21;Fälle;Gesamtstadt;Q3/2018;1.234,5;;Amt 50;x\r\n21;Quote;;3. Quartal 2018;12,5;%;Amt 50;vorläufig"
    "\r\nM21;Quote; Süd ;30.09.2018;-;%;Amt 50;nicht erhoben\r\n;;;;;;;\r\nM21;Quote;Süd;2018-09-30;;%;Amt 50;\r\n",
    "Maßnahme,Indikator,Zeitraum,Wert\nM21,A,2017,1.5\nM21,A,2018,\"1,500.25\"\nM21,A,2019,-2.5\n",
    "Maßnahme\tIndikator\tZeitraum\tWert\tGebiet\nM21\tA\t2017\t12\nM21\tA\t2018\t0,5\tGESAMT\t\t\n",
    "sep=;\r\nMaßnahme;Indikator;Zeitraum;Wert\r\nM21 – Wohnraum;A;2017;1 234,5\r\nM21;A;2018;k.A.\r\n",
]


@pytest.mark.parametrize("text", VALID)
def test_hand_written_files_read_as_the_reference_reads_them(text: str) -> None:
    header_row = 2 if text.startswith("sep=") else 1
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";" if ";" in text else "\t" if "\t" in text
                           else ","))
    agree(text.encode("cp1252"), "h.csv", reference(rows, header_row, None, csv_file=True))
    assert as_read(text.encode("cp1252"), "h.csv")[1] == []


def bench_file(rows: int) -> str:
    """Written as bench/ingest.py writes its office file: decimal commas, CRLF, Windows-1252."""
    lines = [f"M33;M33-bench;2000-{k // 50 % 12 + 1:02d};Block {k % 50:03d} Süd;{k * 7 % 1000 / 10:.1f};Anzahl;"
             "Amt 12;".replace(".", ",") for k in range(rows)]
    return "Maßnahme;Indikator;Zeitraum;Gebiet;Wert;Einheit;Amt;Bemerkung\r\n" + "\r\n".join(lines) + "\r\n"


def test_the_bench_file_reads_as_the_reference_reads_it() -> None:
    text = bench_file(5000).replace("Gebiet", "Stadtteil")
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    agree(text.encode("cp1252"), "b.csv", reference(rows, 1, None, csv_file=True))


# --- generated workbooks ---------------------------------------------------------------------------
excel_cells = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.floats(-1e9, 1e9, allow_nan=False).map(lambda x: x + 0.0),  # openpyxl reads a stored -0 back as 0
    st.datetimes(datetime(1990, 1, 1), datetime(2030, 12, 31)).map(lambda d: d.replace(microsecond=0, second=0)),
    st.sampled_from(NUMBERS_DE + NUMBERS_EN + AMBIGUOUS + MISSING_VALUES + BAD_VALUES[:5]),
)
period_cells = st.one_of(st.sampled_from(PERIODS), st.sampled_from([2018, 2019.0, datetime(2018, 9, 30), None, True]))


@st.composite
def workbooks(draw: st.DrawFn) -> tuple[bytes, list[list[object]], int]:
    title = draw(st.booleans())
    rows: list[list[object]] = [["Datenlieferung"], []] if title else []
    rows.append(["Maßnahme", "Indikator", "Stadtteil", "Zeitraum", "Wert", "Bemerkung"])
    for _ in range(draw(st.integers(0, 15))):
        rows.append([draw(st.sampled_from([*MEASURES, 21, 21.0])), draw(st.sampled_from(INDICATORS)),
                     draw(st.sampled_from([*AREAS, None])), draw(period_cells), draw(excel_cells),
                     draw(st.sampled_from(["", None, "vorläufig", 7]))])
    wb = openpyxl.Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    data = out.getvalue()
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active  # the reference reads with openpyxl, not calamine
    grid = [list(r) for r in sheet.iter_rows(min_row=1, max_row=max(sheet.max_row, 1), values_only=True)]
    return data, grid, 3 if title else 1


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(workbooks())
def test_generated_workbooks_read_as_the_reference_reads_them(book: tuple) -> None:
    data, grid, header_row = book
    header = [c for c in grid[header_row - 1] if c is not None]
    grid = [row[: len(header)] for row in grid]  # openpyxl's grid also covers the title row's width
    agree(data, "w.xlsx", reference(grid, header_row, "Sheet", csv_file=False))


def test_sheets_of_one_workbook_decide_each_others_ambiguous_values() -> None:
    wb = openpyxl.Workbook()
    first = wb.active
    first.title = "Eins"
    for row in (["Maßnahme", "Indikator", "Zeitraum", "Wert"], ["M21", "A", "2017", "1.500"]):
        first.append(row)
    second = wb.create_sheet("Zwei")
    for row in (["Maßnahme", "Indikator", "Zeitraum", "Wert"], ["M21", "B", "2017", "2,5"], ["M21", "B", "2018", 3]):
        second.append(row)
    out = io.BytesIO()
    wb.save(out)
    records, problems = read_records(out.getvalue(), "w.xlsx")
    assert problems == [] and [r.value for r in records] == [1500.0, 2.5, 3.0]
    wb.remove(second)  # alone, the first sheet decides nothing
    out = io.BytesIO()
    wb.save(out)
    assert [p.code for p in read_records(out.getvalue(), "w.xlsx")[1]] == ["read.number_ambiguous"]


# --- the CSV rows: row numbers, blank lines, line breaks and the row limit ----------------------------
@settings(max_examples=300, deadline=None)
@given(
    title=st.booleans(),
    lines=st.lists(st.sampled_from(["M21;A;2017;1", "", ";;;", " ; ;;", "M21;A;2018", 'M21;"A\r\nB";2019;2',
                                    "M21;A;2020;1;;", "M21;A;2021;\x0b1", "M21;A;2022;3\u2028"]), max_size=12),
    breaks=st.lists(st.sampled_from(["\r\n", "\n", "\r", "\r\r\n", "\n\r"]), min_size=1, max_size=4),
    max_rows=st.integers(0, 16),
)
def test_csv_rows_line_breaks_and_the_row_limit(title: bool, lines: list[str], breaks: list[str],
                                               max_rows: int) -> None:
    rows = [*(["Lieferung Amt 50"] if title else []), "Maßnahme;Indikator;Zeitraum;Wert", *lines]
    text = "".join(row + breaks[k % len(breaks)] for k, row in enumerate(rows))
    result = read_table(text.encode("utf-8"), "r.csv", max_rows=max_rows)
    parsed = list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))
    if len(parsed) > max_rows:
        assert [p.code for p in result.problems] == ["read.too_many_rows"]
        return
    assert result.ok
    header_row = 1 + next(k for k, row in enumerate(parsed) if row[:1] == ["Maßnahme"])  # "\r\r\n" makes 2 rows
    agree(text.encode("utf-8"), "r.csv", reference(parsed, header_row, None, csv_file=True))


def test_a_quotation_mark_without_partner_is_named_not_swallowing_the_rest() -> None:
    data = 'Maßnahme;Indikator;Zeitraum;Wert\r\nM21;A;2017;1\r\nM21;"A;2018;2\r\nM21;A;2019;3\r\n'.encode("cp1252")
    records, problems = read_records(data, "q.csv")
    assert [(p.code, p.row) for p in problems] == [("read.unclosed_quote", 3)] and not records
    assert "Anführungszeichen" in finding_line(problems[0]) and "quotation mark" in finding_line(problems[0], "en")


def test_a_value_too_long_to_be_a_number_is_refused() -> None:
    data = ("Maßnahme;Indikator;Zeitraum;Wert\r\nM21;A;2017;" + "1" * 200_000 + "\r\n").encode("utf-8")
    assert [p.code for p in read_records(data, "h.csv")[1]] == ["read.bad_number"]


def test_a_row_far_longer_than_the_header_is_read() -> None:
    data = ("Maßnahme;Indikator;Zeitraum;Wert\r\n" + "M21;A;2017;1\r\n" * 3000 + "M21;A;2018;2" + ";" * 50 + "x\r\n"
            ).encode("utf-8")
    records, problems = read_records(data, "l.csv")
    assert [(p.code, p.row, p.found) for p in problems] == [("read.extra_cells", 3002, "x")] and len(records) == 3001


def test_a_few_very_long_rows_do_not_unfold_into_a_huge_grid(monkeypatch: pytest.MonkeyPatch) -> None:
    from watchers import read

    monkeypatch.setattr(read, "MAX_CELLS", 2_000)  # the same rule as at 10^7 cells, on a small file
    ragged = "Maßnahme;Indikator;Zeitraum;Wert\r\n" + "M21;A;2018;1\r\n" * 20 + "M21;A;2019;1" + ";" * 5_000 + "\r\n"
    assert [p.code for p in read_table(ragged.encode(), "r.csv").problems] == ["read.too_many_cells"]
    # As many cells in rows as long as the header (a wide file of many periods) are read.
    head = "Maßnahme;Indikator;Gebiet;" + ";".join(f"{2000 + k // 12}-{k % 12 + 1:02d}" for k in range(60))
    wide = head + "\r\n" + "".join(f"M21;A;B{r};" + ";".join(["1"] * 60) + "\r\n" for r in range(50))
    records, problems = read_records(wide.encode(), "w.csv")
    assert problems == [] and len(records) == 50 * 60


# --- the catalogue check: the bulk path agrees with the row-by-row loop -------------------------------
CATALOGUE_INDICATORS = ["M21-wohnungen", "Beispiel: Fertiggestellte Wohnungen", "M21-bauland", "M33-sgb2-quote",
                        "M21-wohnungn", "M22-mehrgenerationen"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.tuples(
        st.sampled_from(["M21", "M 21", "M33", "M22", "M99"]), st.sampled_from(CATALOGUE_INDICATORS),
        st.sampled_from(["", "Lützel", "Gesamtstadt", "Karthause-Nord", "karthause nord", "Koblenz-Lützel",
                         "Stadt gesamt"]),
        st.sampled_from(["2017", "2018", "30.06.2018", "2018-Q2", "2026"]),
        st.sampled_from(["1", "2,5", "", "3", "-3", "1.301", "2.000"]),
        st.sampled_from(["", "Amt 61", "Amt 12", "amt61"]),
        st.sampled_from(["", "Anzahl", "Stück", "%", "ha"]),
    ), min_size=1, max_size=25),
    office_hint=st.sampled_from([None, "Amt 61", "Amt 50"]),
    lang=st.sampled_from(["de", "en"]),
    today=st.sampled_from([None, date(2026, 12, 1), date(2027, 1, 1)]),
)
def test_catalogue_check_agrees_with_the_row_loop(rows: list[tuple], office_hint: str | None, lang: str,
                                                  today: date | None, demo_monitor) -> None:
    from watchers import validate

    text = "Maßnahme;Indikator;Gebiet;Zeitraum;Wert;Amt;Einheit\r\n" + "".join(";".join(r) + "\r\n" for r in rows)
    data = text.encode("cp1252")
    catalogue = demo_monitor.catalogue
    fast = validate.check_delivery(data, "v.csv", catalogue, office_hint=office_hint, today=today)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(validate, "_all_good", lambda records, judge: None)
        exact = validate.check_delivery(data, "v.csv", catalogue, office_hint=office_hint, today=today)
    assert fast == exact
    # Both are worded alike in either language (the words are made when shown, from the same data).
    assert [finding_line(f, lang) for f in fast.findings] == [finding_line(f, lang) for f in exact.findings]


def test_catalogue_check_of_a_clean_file_takes_the_bulk_path(demo_monitor, monkeypatch: pytest.MonkeyPatch) -> None:
    from storage.seed import STADTTEILE
    from watchers import validate

    # The catalogue lists the Stadtteile: spelt as offices do (with hyphens, in capitals), one series each.
    spellings = [name.replace(" ", "-") if k % 2 else name.upper() for k, name in enumerate(STADTTEILE)]
    text = "Maßnahme;Indikator;Gebiet;Zeitraum;Wert;Amt\r\n" + "".join(
        f"M21;M21-wohnungen;{spellings[k // 20]};{2000 + k % 20};{k},5;Amt 61\r\n" for k in range(200))
    data = text.encode("cp1252")
    taken = []
    real = validate._all_good
    monkeypatch.setattr(validate, "_all_good", lambda records, judge: taken.append(real(records, judge)) or taken[-1])
    fast = validate.check_delivery(data, "v.csv", demo_monitor.catalogue)
    assert fast.ok and len(fast.rows) == 200 and taken and taken[0] is not None
    assert {area for _, area, *_ in fast.rows} == set(STADTTEILE[:10])
    monkeypatch.setattr(validate, "_all_good", lambda records, judge: None)
    assert validate.check_delivery(data, "v.csv", demo_monitor.catalogue) == fast


@pytest.mark.parametrize("style", ["de", "en"])
def test_a_column_read_in_one_go_gives_float_of_every_text(style: str) -> None:
    import random

    from watchers.number_style import column_values, parse_number

    rnd = random.Random(3)
    mark = "," if style == "de" else "."
    odd = ["-0", "-0" + mark + "0", "0", "007", "+5", "-", "", mark + "5", "-" + mark + "25", "9" * 30, "9" * 400,
           "1" + mark + "0" * 30 + "1", "0" + mark + "0" * 340 + "1", "18446744073709551617", "-9007199254740993"]
    for trial in range(60):
        texts = []
        for _ in range(rnd.randint(1, 300)):
            whole = str(rnd.randrange(10 ** rnd.randint(1, 20)))
            texts.append(rnd.choice(["", "-"]) + whole + (mark + str(rnd.randrange(10 ** rnd.randint(1, 18)))
                                                          if rnd.random() < 0.8 else ""))
        texts += rnd.sample(odd, rnd.randint(0, 3)) if trial % 2 else []
        texts.append("1" + mark + "5")  # decides the style
        values, flaws = column_values(texts)
        if flaws:
            continue  # a text of another style or too big: reported, not read in one go
        assert [repr(v) for v in values] == [repr(parse_number(t, style)) for t in texts]


def test_jumps_of_the_catalogue_checks_rows_are_those_of_the_loop(demo_monitor) -> None:
    import random

    from storage.seed import STADTTEILE
    from watchers import validate

    rnd = random.Random(5)
    indicators = ["M21-bauland", "M21-wohnungen", "M21-sozialwohnungen"]
    areas = list(STADTTEILE[:4])
    values = [0.0, 1.0, 2.0, 5.0, 11.0, 30.0, 100.0, 250.0]
    store = demo_monitor.store
    held = {(rnd.choice(indicators), rnd.choice(areas), str(rnd.randrange(2000, 2021))) for _ in range(60)}
    store.add_delivery(file="vorher.csv", content_hash="vorher", office="Amt 61", received=datetime(2024, 1, 1),
                       rows=[(i, a, p, rnd.choice(values), "", n + 2) for n, (i, a, p) in enumerate(sorted(held))])
    found = 0
    for _ in range(40):
        keys = sorted({(rnd.choice(indicators), rnd.choice(areas), rnd.randrange(2000, 2021)) for _ in range(30)},
                      key=lambda _: rnd.random())
        text = "Maßnahme;Indikator;Gebiet;Zeitraum;Wert\r\n" + "".join(
            f"M21;{i};{a};{p};{str(rnd.choice(values)).replace('.', ',')}\r\n" for i, a, p in keys)
        checked = validate.check_delivery(text.encode("cp1252"), "j.csv", demo_monitor.catalogue)
        assert checked.ok and isinstance(checked.rows, validate._CodedRows)  # the bulk path, with its codes
        expected = validate._jumps_row_by_row(checked.rows, store.series)
        assert validate._jumps_in_bulk(checked.rows, store.series) == expected
        assert validate._jumps_in_bulk(list(checked.rows), store.series) == expected  # without the codes
        found += len(expected)
    assert found > 40  # the comparison meets jumps, not only files without any
