"""Reading indicator files: bytes -> tables -> long-layout records, or a list of problems.

Pure functions: they take the file's bytes and name, never touch the file system, never log and never
raise for a bad file; everything wrong comes back as `Problem`s (watchers/findings.py), so that the
watcher can reject the file whole with one report.

    result = read_table(data, "jugendamt.xlsx")      # ReadResult(tables, problems)
    records, problems = iter_records(result)         # Records (one Record per value), every problem

CSV goes through pandas' C parser, every cell as text, once the header has shown the delimiter (never
guessed by pandas: decimal commas fool it); workbooks through python-calamine, after a zip-bomb and
grid-size check. A table is then checked column by column: each column's distinct cells are converted
once, and a column of plain numbers in one go.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from pathlib import PurePath
from typing import Any

import pandas as pd
from python_calamine import CalamineWorkbook, SheetTypeEnum

from storage.periods import Period, PeriodError, parse_period
from storage.store import gc_paused

from .findings import FORMATS, Problem, format_report, letter

__all__ = [
    "FIELDS", "FORMATS", "MISSING", "WHOLE_CITY", "ColumnMap", "NumberError", "Problem", "ReadResult", "Record",
    "Records", "Table", "ambiguous_problem", "ambiguous_readings", "detect_number_style", "find_columns",
    "format_report", "gc_paused", "iter_records", "normalize_measure_id", "parse_number", "read_records",
    "read_table",
]

TEXT_EXTENSIONS = (".csv", ".txt")
SPREADSHEET_EXTENSIONS = (".xlsx", ".xlsm", ".ods")
HEADER_SEARCH_ROWS = 20  # non-empty rows searched for the header row
MAX_CELLS = 10_000_000  # dense grid one sheet may unfold to (calamine allocates rows x columns)
MAX_RATIO = 200  # compression ratio allowed for zip members above 1 MiB
MAX_MEMBERS = 10_000
_MIB = 2**20
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls and password-protected .xlsx


# ----------------------------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Table:
    """One recognised table: the header row and the rows below it.

    `rows` is a DataFrame indexed by the row number a person sees in Excel or an editor (1-based), one
    column per cell position 0, 1, …; cells are raw: str for CSV (a row longer than the header makes
    more columns); str, float, int, bool, date, datetime, time or timedelta for spreadsheets ("" is an
    empty cell). Given (number, cells) pairs instead, it makes the DataFrame of them. `columns` are the
    header cells as text (2018.0 -> "2018", a date -> "2018-09-30").
    """

    sheet: str | None
    header_row: int
    columns: tuple[str, ...]
    rows: Any = ()
    delimiter: str | None = None
    encoding: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.rows, pd.DataFrame):
            pairs = list(self.rows)
            frame = pd.DataFrame([list(cells) for _, cells in pairs], index=[n for n, _ in pairs], dtype=object)
            object.__setattr__(self, "rows", frame.fillna(""))


@dataclass(frozen=True)
class ReadResult:
    tables: tuple[Table, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _fail(code: str, **kwargs: object) -> ReadResult:
    return ReadResult((), (Problem.make(code, **kwargs),))


def read_table(data: bytes, filename: str, *, max_rows: int = 200_000,
               max_unpacked_bytes: int = 200 * _MIB) -> ReadResult:
    """Read every table of a delivered file; never raises for bad content (problems instead)."""
    try:
        with gc_paused():
            return _read_table(bytes(data), str(filename), max_rows, max_unpacked_bytes)
    except Exception as exc:  # the last line of defence: a bad file must never stop the watcher
        return _fail("read.damaged", detail=f"{type(exc).__name__}: {exc}"[:200])


def _read_table(data: bytes, filename: str, max_rows: int, max_unpacked: int) -> ReadResult:
    suffix = PurePath(filename).suffix.casefold()
    if suffix == ".xls" or (suffix in SPREADSHEET_EXTENSIONS and data.startswith(_OLE_MAGIC)):
        return _fail("read.old_excel", found=suffix or filename)
    if suffix not in TEXT_EXTENSIONS + SPREADSHEET_EXTENSIONS:
        return _fail("read.unknown_extension", found=suffix or filename)
    if not data:
        return _fail("read.empty_file", found="0 Byte")
    if suffix in TEXT_EXTENSIONS:
        return _read_csv(data, max_rows)
    return _read_workbook(data, suffix, max_rows, max_unpacked)


# --- header recognition -----------------------------------------------------------------------
FIELDS = ("measure", "indicator", "period", "value", "unit", "area", "office", "note")
_SYNONYMS = {
    "measure": ("Maßnahme", "Massnahme", "Maßnahme-ID", "Maßnahmen-Nr.", "Maßnahmennummer", "measure", "measure id"),
    "indicator": ("Indikator", "Indikator-ID", "Kennzahl", "indicator", "indicator id"),
    "period": ("Zeitraum", "Periode", "Stichtag", "Berichtszeitraum", "Jahr", "period", "year", "reference date"),
    "value": ("Wert", "Werte", "value"),
    "unit": ("Einheit", "Maßeinheit", "unit"),
    "area": ("Gebiet", "Stadtteil", "Sozialraum", "area", "district"),
    "office": ("Quelle", "Amt", "Dienststelle", "Datenquelle", "office", "source"),
    "note": ("Bemerkung", "Bemerkungen", "Anmerkung", "Hinweis", "Kommentar", "Erläuterung", "note", "notes",
             "remark", "comment"),
}
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_BRACKETS = re.compile(r"[(\[][^)\]]*[)\]]")


def _header_key(text: str) -> str:
    """Casefold, drop bracketed additions and separators, umlauts as plain vowels:
    'Maßnahme ', 'MASSNAHME', 'Massnahme', 'massnahme_' and 'Erlauterung'/'Erläuterung' match."""
    text = _BRACKETS.sub("", text.casefold()).translate(_UMLAUTS)
    return _NOT_ALNUM.sub("", text).replace("ae", "a").replace("oe", "o").replace("ue", "u")


_HEADER_FIELD = {_header_key(name): fld for fld, names in _SYNONYMS.items() for name in names}
_YEARISH = re.compile(r"(?<!\d)(?:19|20|21)\d{2}(?!\d)")


def _cell_text(value: object) -> str:
    """A cell as text: 2018.0 -> '2018', a date -> '2018-09-30', None -> ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "WAHR" if value else "FALSCH"
    if isinstance(value, float):
        return str(int(value)) if math.isfinite(value) and value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _display(value: object) -> str:
    """A cell as a person would recognise it in a message (German dates)."""
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M" if value.time() != time() else "%d.%m.%Y")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return _cell_text(value).strip()


@dataclass
class _HeaderMatch:
    fields: dict[str, list[int]]
    periods: list[tuple[int, Period]]
    bad_periods: list[int]

    @property
    def score(self) -> int:
        return len(self.fields) + (1 if self.periods else 0)

    @property
    def plausible(self) -> bool:
        return ("measure" in self.fields or "indicator" in self.fields) and self.score >= 2

    @property
    def complete(self) -> bool:
        long = "period" in self.fields and "value" in self.fields
        return "measure" in self.fields and "indicator" in self.fields and (long or bool(self.periods))


def _match_header(cells: Sequence[object]) -> _HeaderMatch:
    found: dict[str, list[int]] = {}
    periods: list[tuple[int, Period]] = []
    bad: list[int] = []
    for index, cell in enumerate(cells):
        text = _cell_text(cell).strip()
        if not text:
            continue
        fld = _HEADER_FIELD.get(_header_key(text))
        if fld:
            found.setdefault(fld, []).append(index)
            continue
        try:
            periods.append((index, parse_period(cell if not isinstance(cell, str) else text)))
        except PeriodError:
            if _YEARISH.search(text):
                bad.append(index)
    return _HeaderMatch(found, periods, bad)


def _find_header(rows: Sequence[Sequence[object]]) -> tuple[int, _HeaderMatch] | None:
    """The header among the first HEADER_SEARCH_ROWS non-empty rows: the first complete one, else the
    best plausible one (so that a missing column can be named)."""
    best: tuple[int, _HeaderMatch] | None = None
    seen = 0
    for index, row in enumerate(rows):
        if not any(_cell_text(c).strip() for c in row):
            continue
        seen += 1
        if seen > HEADER_SEARCH_ROWS:
            break
        match = _match_header(row)
        if match.complete:
            return index, match
        if match.plausible and (best is None or match.score > best[1].score):
            best = (index, match)
    return best


def _first_text(rows: Iterable[Sequence[object]]) -> str | None:
    for row in rows:
        cells = [_cell_text(c).strip() for c in row]
        if any(cells):
            return " | ".join(c for c in cells if c)
    return None


# --- CSV -------------------------------------------------------------------------------------
_DELIMITERS = (";", "\t", ",")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SEP_LINE = re.compile(r"sep=(.)\r?\n?$")
_SAW_FIELDS = re.compile(r"Expected \d+ fields in line \d+, saw (\d+)")
_UNCLOSED = re.compile(r"EOF inside string starting at row (\d+)")


def _decode(data: bytes) -> tuple[str, str] | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            return None
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1"), "latin-1"


def _read_csv(data: bytes, max_rows: int) -> ReadResult:
    if data.startswith((b"PK\x03\x04", _OLE_MAGIC)):
        return _fail("read.not_text", found="Excel/ZIP")
    decoded = _decode(data)
    if decoded is None:
        return _fail("read.not_text", found="UTF-16?")
    text, encoding = decoded
    sample = text[:65536]
    if "\x00" in sample or len(_CONTROL.findall(sample)) > max(8, len(sample) // 100):
        return _fail("read.not_text", found=repr(data[:24]))
    text = text.replace("\x00", "")  # stray NULs far down

    # The delimiter is the one under which the header is recognised best (csv.reader copes with a
    # sample cut inside a quoted cell); Excel's "sep=;" hint line fixes it.
    skip, forced = 0, None
    first_line = sample.partition("\n")[0]
    sep = _SEP_LINE.fullmatch(first_line.strip(" \ufeff")) if first_line.startswith(("sep=", "\ufeffsep=")) else None
    if sep:
        forced, skip = sep.group(1), 1
    head = sample if len(text) <= len(sample) else sample[: sample.rfind("\n") + 1] or sample
    best: tuple[tuple[int, int, int, int], str, int, list[str], int] | None = None
    for rank, delimiter in enumerate(_DELIMITERS):
        if forced and delimiter != forced:
            continue
        rows = list(csv.reader(io.StringIO(head, newline=""), delimiter=delimiter))[skip:]
        found = _find_header(rows)
        if found is None:
            continue
        index, match = found
        following = [r for r in rows[index + 1 :] if any(c.strip() for c in r)]
        consistent = sum(1 for r in following if len(r) == len(rows[index]))
        score = (int(match.complete), match.score, consistent, -rank)
        if best is None or score > best[0]:
            best = (score, delimiter, index + skip, rows[index], max(map(len, rows)))
    if best is None:
        rows = list(csv.reader(io.StringIO(head, newline=""), delimiter=forced or ";"))
        return _fail("read.no_header", found=_first_text(rows[skip:]) or "", search=HEADER_SEARCH_ROWS)
    _, delimiter, header_index, header, widest = best
    try:
        frame = _csv_frame(text, delimiter, widest, max_rows + 1)
    except (pd.errors.ParserError, ValueError) as exc:
        if unclosed := _UNCLOSED.search(str(exc)):  # pandas counts records from 0
            return _fail("read.unclosed_quote", row=int(unclosed.group(1)) + 1, found='"')
        return _fail("read.damaged", detail=str(exc)[:200])
    if isinstance(frame, Problem):
        return ReadResult((), (frame,))
    if len(frame) > max_rows:  # rows are numbered from 1; the file may have rows up to number max_rows
        return _fail("read.too_many_rows", found=f"> {max_rows}", limit=max_rows)
    body = frame.iloc[header_index + 1 :]
    body.index = range(header_index + 2, header_index + 2 + len(body))
    if len(body) and "" in set(body[0].tolist()):  # a line of nothing but delimiters (or an empty one): no row
        body = body[(body != "").any(axis=1)]
    table = Table(None, header_index + 1, tuple(c.strip() for c in header), body, delimiter, encoding)
    return ReadResult((table,), ())


def _csv_frame(text: str, delimiter: str, width: int, nrows: int) -> pd.DataFrame | Problem:
    """Every cell as text ("" for an empty or missing one), one row per CSV record, blank lines included;
    or read.too_many_cells when the rows times the longest row would make too big a grid."""
    lines = 1 + max(text.count("\n"), text.count("\r"))
    for _ in range(8):
        if lines * width > MAX_CELLS:
            return Problem.make("read.too_many_cells", found=f"{lines} × {width}", rows=lines,
                                cols=letter(width - 1), limit=f"{MAX_CELLS:,}".replace(",", "."))
        try:
            return pd.read_csv(io.StringIO(text), sep=delimiter, header=None, names=range(width), dtype=str,
                               na_filter=False, skip_blank_lines=False, index_col=False, nrows=nrows, engine="c")
        except pd.errors.ParserError as exc:  # a row longer than any in the sample: make room for it
            saw = _SAW_FIELDS.search(str(exc))
            if saw is None:
                raise
            longest = 1 + max(line.count(delimiter) for line in text.replace("\r", "\n").split("\n"))
            width = max(width + 1, int(saw.group(1)), longest)
    raise pd.errors.ParserError("rows of ever more cells")


# --- spreadsheets ----------------------------------------------------------------------------
# A cell whose reference reaches column AA+ or row 100000+; a cell tag without a leading r=.
_XLSX_FAR = re.compile(rb"<c\s+r=[\"']([A-Za-z]{2,3}\d+|[A-Za-z]\d{6,})[\"']")
_XLSX_NO_REF = re.compile(rb"<c(?=[\s>/])(?!\s+r=)")
_XLSX_TAG = re.compile(rb"<(?:[\w.-]+:)?(row|c)(?=[\s>/])([^>]*)>")
_XLSX_R = re.compile(rb"(?:^|\s)r\s*=\s*[\"']([A-Za-z]*)(\d*)[\"']")
_ODS_TAG = re.compile(rb"<(/?)(?:[\w.-]+:)?(table-row|table-cell|covered-table-cell|table)(?=[\s>/])([^>]*?)(/?)>")
_ODS_ROWS_REP = re.compile(rb"number-rows-repeated\s*=\s*[\"'](\d+)")
_ODS_COLS_REP = re.compile(rb"number-columns-repeated\s*=\s*[\"'](\d+)")


def _column_index(letters: bytes) -> int:
    index = 0
    for ch in letters.upper():
        index = index * 26 + (ch - 64)
    return index


def _xlsx_extent(xml: bytes) -> tuple[int, int]:
    """(rows, columns) that calamine will allocate for this worksheet, at least approximately.

    When every cell carries its reference first (Excel, LibreOffice, openpyxl) only references beyond
    column Z or row 99999 need a look; otherwise every row/cell tag is walked."""
    if b"<sheetData" in xml and b":c " not in xml and b":c>" not in xml and _XLSX_NO_REF.search(xml) is None:
        max_row, max_col = 99_999, 26
        for ref in _XLSX_FAR.findall(xml):
            letters = ref.rstrip(b"0123456789")
            max_row, max_col = max(max_row, int(ref[len(letters) :])), max(max_col, _column_index(letters))
        return max_row, max_col
    max_row = max_col = row = col = 0
    for match in _XLSX_TAG.finditer(xml):
        ref = _XLSX_R.search(match.group(2))
        if match.group(1) == b"row":
            row, col = (int(ref.group(2)) if ref and ref.group(2) and not ref.group(1) else row + 1), 0
            continue
        if ref and ref.group(1):
            col = _column_index(ref.group(1))
            row = int(ref.group(2)) if ref.group(2) else row
        else:
            col += 1
        max_row, max_col = max(max_row, row, 1), max(max_col, col)
    return max_row, max_col


def _ods_extent(xml: bytes) -> tuple[int, int]:
    """(rows, columns) of the largest table of content.xml up to its last non-empty cell, repeats
    unfolded (any namespace prefix); LibreOffice's empty repeats up to the sheet's edge cost nothing."""
    best = (0, 0)
    rows = last_row = max_col = row_rep = col = 0
    row_has = False
    for match in _ODS_TAG.finditer(xml):
        closing, name, attrs, selfclosing = match.groups()
        if name == b"table":
            if last_row * max_col > best[0] * best[1]:
                best = (last_row, max_col)
            rows = last_row = max_col = 0
        elif name == b"table-row":
            if closing:
                last_row = rows + row_rep if row_has else last_row
                rows += row_rep
                continue
            rep = _ODS_ROWS_REP.search(attrs)
            row_rep, col, row_has = (int(rep.group(1)) if rep else 1), 0, False
            rows += row_rep if selfclosing else 0
        elif not closing:
            rep = _ODS_COLS_REP.search(attrs)
            col += int(rep.group(1)) if rep else 1
            if not selfclosing or b"value-type" in attrs:
                row_has, max_col = True, max(max_col, col)
    return max(best, (last_row, max_col), key=lambda extent: extent[0] * extent[1])


def _check_zip(data: bytes, suffix: str, max_unpacked: int) -> Problem | None:
    """None for a sound workbook container, else the problem.

    Declared sizes and ratios are checked before anything is unpacked; then every member is unpacked
    once by zipfile, which stops at the declared size and checks the CRC, so a member that lies about
    its size is caught too. Worksheets are measured so that calamine's dense grid stays below MAX_CELLS
    (a tiny file with cells in A1 and XFD1048576 would otherwise abort the process out of memory)."""
    if not data.startswith(b"PK"):
        return Problem.make("read.not_spreadsheet", found=suffix)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        return Problem.make("read.damaged", found=suffix, detail=str(exc)[:200])
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if len(infos) > MAX_MEMBERS or total > max_unpacked or any(
            i.file_size > _MIB and i.file_size > MAX_RATIO * max(1, i.compress_size) for i in infos):
        return Problem.make("read.too_large", found=f"{total / _MIB:.0f} MB", limit_mb=max_unpacked // _MIB,
                            size_mb=f"{total / _MIB:.0f}", ratio=f"{total // packed}")
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names and "content.xml" not in names:
        return Problem.make("read.not_spreadsheet", found=suffix)
    ods = "xl/workbook.xml" not in names
    try:
        for info in infos:
            if info.flag_bits & 0x1:
                return Problem.make("read.old_excel", found=suffix)
            if not ods or info.filename == "content.xml":
                # Any member may be a worksheet (the workbook's relations name them): each is measured.
                xml = archive.read(info)
                if ods or b"sheetData" in xml:
                    rows, cols = _ods_extent(xml) if ods else _xlsx_extent(xml)
                    if rows * cols > MAX_CELLS:
                        return Problem.make("read.too_many_cells", found=f"{rows} × {cols}", rows=rows,
                                            cols=letter(max(cols - 1, 0)), limit=f"{MAX_CELLS:,}".replace(",", "."))
                continue
            with archive.open(info) as member:
                while member.read(4 * _MIB):
                    pass
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
        return Problem.make("read.damaged", found=suffix, detail=str(exc)[:200])
    return None


def _read_workbook(data: bytes, suffix: str, max_rows: int, max_unpacked: int) -> ReadResult:
    problem = _check_zip(data, suffix, max_unpacked)
    if problem is not None:
        return ReadResult((), (problem,))
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        grids: list[tuple[str, list[list[object]]]] = []
        for meta in workbook.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue
            grid = workbook.get_sheet_by_name(meta.name).to_python(skip_empty_area=False, nrows=max_rows + 1)
            if len(grid) > max_rows:
                return _fail("read.too_many_rows", sheet=meta.name, found=f"> {max_rows}", limit=max_rows)
            grids.append((meta.name, grid))
    except BaseException as exc:  # calamine errors, and pyo3 panics (which are BaseExceptions)
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        return _fail("read.damaged", found=suffix, detail=f"{type(exc).__name__}: {exc}"[:200])
    tables = []
    for name, grid in grids:
        if (found := _find_header(grid)) is not None:
            index, width = found[0], len(grid[found[0]])
            rows = [(n, row) for n, row in enumerate(grid[index + 1 :], start=index + 2) if row.count("") != width]
            tables.append(Table(name, index + 1, tuple(_cell_text(c).strip() for c in grid[index]), rows))
    if not tables:
        first = next((g for _, g in grids if _first_text(g)), [])
        return _fail("read.no_header", sheet=grids[0][0] if len(grids) == 1 else None,
                     found=_first_text(first) or "", search=HEADER_SEARCH_ROWS)
    return ReadResult(tuple(tables), ())


# ----------------------------------------------------------------------------------------------
# Columns
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnMap:
    """Which column holds what. `fields` maps field name (FIELDS) -> column index; in the wide layout
    `periods` lists (column index, period) for every period column."""

    layout: str  # "long" | "wide"
    fields: Mapping[str, int] = field(hash=False)
    periods: tuple[tuple[int, Period], ...] = ()

    def get(self, name: str) -> int | None:
        return self.fields.get(name)


def find_columns(table: Table) -> ColumnMap | list[Problem]:
    """Recognise the layout (long: Zeitraum + Wert; wide: one column per period) and the columns."""
    match = _match_header(table.columns)
    problems: list[Problem] = []

    def problem(code: str, column: int | None = None, **params: object) -> None:
        if column is not None:
            params.update(column=table.columns[column], letter=letter(column))
        problems.append(Problem.make(code, row=table.header_row, sheet=table.sheet, **params))  # type: ignore[arg-type]

    for fld, indexes in match.fields.items():
        if len(indexes) > 1:
            cols = ", ".join(f"„{table.columns[i]}“ ({letter(i)})" for i in indexes)
            problem("read.duplicate_column", indexes[1], found=table.columns[indexes[1]], field=fld, columns=cols)
    long = "period" in match.fields or "value" in match.fields
    for fld in ["measure", "indicator"] + (["period", "value"] if long or not match.periods else []):
        if fld not in match.fields:
            problem("read.missing_column", field=fld, names=", ".join(_SYNONYMS[fld][:3] + _SYNONYMS[fld][-1:]))
    if long and match.periods:
        first = match.periods[0][0]
        problem("read.mixed_layout", first, found=table.columns[first],
                columns=", ".join(table.columns[i] for i, _ in match.periods))
    if not long:
        for index in match.bad_periods:
            problem("read.bad_period_header", index, found=table.columns[index])
        seen: dict[Period, int] = {}
        for index, period in match.periods:
            if period in seen:
                problem("read.duplicate_period", index, found=table.columns[index], key=period.key,
                        columns=f"„{table.columns[seen[period]]}“, „{table.columns[index]}“")
            seen.setdefault(period, index)
    if problems:
        return problems
    fields_ = {fld: indexes[0] for fld, indexes in match.fields.items()}
    return ColumnMap("long" if long else "wide", fields_, () if long else tuple(match.periods))


# ----------------------------------------------------------------------------------------------
# Numbers
# ----------------------------------------------------------------------------------------------
# Number style rule (decided per table, over all its text values together):
# a value that reads only one way decides – German: 1.234,5 · 12,5 · 0,5 · 1.234.567; English:
# 1,234.5 · 12.5 · 0.5 · 1,234,567. Integers without separators (and space-grouped ones) fit both.
# A value like 1.500 or 1,500 (one group of three digits after a single separator, first digit
# not 0) is ambiguous: it takes the style of the decisive values of its table; with none, those of
# the other sheets of the file; with none there either, every such value is rejected – never guessed
# (or, with defer_ambiguous, handed to watchers/validate.py, where the catalogue's unit may decide:
# a count is a whole number). The CSV delimiter alone is deliberately NOT a hint (semicolon files
# with decimal points are common in database exports). If both styles occur, the majority decides
# and every value not valid in it is reported. Spreadsheet number cells are numbers already.
class NumberError(ValueError):
    """A text that is no number in the given style; `reason`: 'invalid', 'ambiguous' or 'style'."""

    def __init__(self, text: object, reason: str = "invalid") -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"not a number ({reason}): {text!r}")


MISSING = frozenset({"", "-", "--", "–", "—", ".", "..", "...", "/", "k.a.", "k. a.", "k.a", "ka", "n.a.", "n/a",
                     "n.v.", "na", "nan", "#n/a", "#nv"})
_INT, _AMB_DOT, _AMB_COMMA = r"\d+", r"[1-9]\d{0,2}\.\d{3}", r"[1-9]\d{0,2},\d{3}"
_STYLES = {"de": r"\d{1,3}(?:\.\d{3})+,\d+|\d{1,3}(?:\.\d{3}){2,}|\d*,\d+",
           "en": r"\d{1,3}(?:,\d{3})+\.\d+|\d{1,3}(?:,\d{3}){2,}|\d*\.\d+"}
_NUMBER = re.compile(f"(?P<int>{_INT})|(?P<amb_dot>{_AMB_DOT})|(?P<amb_comma>{_AMB_COMMA})"
                     f"|(?P<de>{_STYLES['de']})|(?P<en>{_STYLES['en']})", re.ASCII)


def _plain_line(group: str, mark: str) -> str:
    """A line that is "", "-" or a signed integer, ambiguous or `style` number (grouped by `group`, decimal
    `mark`), and nothing else; atomic groups keep one pass over 100,000 lines fast."""
    g, m = re.escape(group), re.escape(mark)
    grouped = (rf"[1-9]\d{{0,2}}(?:{g}\d{{3}})+(?:{m}\d+)?|0\d{{0,2}}(?:{g}\d{{3}}){{2,}}(?:{m}\d+)?"
               rf"|0\d{{0,2}}{g}\d{{3}}{m}\d+")
    return rf"(?>[-+]?+(?>\d*+{m}\d++|\d++(?!{g})|{grouped})|-)?"


_PLAIN = {style: re.compile(rf"{line}(?:\n{line})*+", re.ASCII)
          for style, line in (("de", _plain_line(".", ",")), ("en", _plain_line(",", ".")))}
_DECIDES = {"de": re.compile(rf"^[-+]?(?!{_AMB_COMMA}$)(?:{_STYLES['de']})$", re.ASCII | re.MULTILINE),
            "en": re.compile(rf"^[-+]?(?!{_AMB_DOT}$)(?:{_STYLES['en']})$", re.ASCII | re.MULTILINE)}
_SPACE_GROUPS = re.compile(r"\d{1,3}(?: \d{3})+(?:[.,]\d+)?", re.ASCII)
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2212": "-", "\u2013": "-"})


def _clean_number(text: str) -> tuple[str, str]:
    """(sign, body) without spaces, a trailing % or € and a leading sign."""
    text = text.translate(_SPACES).strip()
    if text[-1:] in ("%", "€"):
        text = text[:-1].rstrip()
    sign = ""
    if text[:1] in ("+", "-"):
        sign, text = ("-" if text[0] == "-" else ""), text[1:].lstrip()
    if " " in text and _SPACE_GROUPS.fullmatch(text):
        text = text.replace(" ", "")
    return sign, text


def _classify(text: str) -> tuple[str, str, str]:
    """(category, sign, body): category int|amb_dot|amb_comma|de|en|missing|invalid."""
    text = text.strip()
    match = _NUMBER.fullmatch(text)
    if match is not None:
        return match.lastgroup or "invalid", "", text
    if text in MISSING or text.casefold() in MISSING:
        return "missing", "", ""
    sign, body = _clean_number(text)
    match = _NUMBER.fullmatch(body)
    return (match.lastgroup or "invalid", sign, body) if match else ("invalid", sign, body)


def _number(category: str, sign: str, body: str, style: str, text: object) -> float | None:
    if category == "missing":
        return None
    if category == "int":
        value = float(sign + body)
    elif category == "invalid":
        raise NumberError(text)
    elif category.startswith("amb_") and style not in ("de", "en"):
        raise NumberError(text, "ambiguous")
    elif not category.startswith("amb_") and style in ("de", "en") and category != style:
        raise NumberError(text, "style")
    else:
        value = _convert(body, style if category.startswith("amb_") else category)
        value = -value if sign else value
    if not math.isfinite(value):  # 400 digits are no count of anything
        raise NumberError(text)
    return value


def _convert(body: str, style: str) -> float:
    return float(body.replace(".", "").replace(",", ".") if style == "de" else body.replace(",", ""))


def parse_number(text: object, style: str = "de") -> float | None:
    """A value as float; None for no value (empty, -, ., k.A.). Raises NumberError.

    style: "de" (1.234,5), "en" (1,234.5) or "ambiguous" (then 1.500/1,500 are refused).
    Numbers (int/float cells) are taken as they are.
    """
    if text is None:
        return None
    if isinstance(text, bool) or not isinstance(text, int | float | str):
        raise NumberError(text)
    if isinstance(text, str):
        return _number(*_classify(text), style, text)
    if not math.isfinite(text):
        raise NumberError(text)
    return float(text)


def _style_counts(categories: Iterable[str]) -> dict[str, int]:
    counts = {"de": 0, "en": 0, "amb": 0}
    for category in categories:
        if category in ("de", "en"):
            counts[category] += 1
        elif category.startswith("amb_"):
            counts["amb"] += 1
    return counts


def _style_of(counts: Mapping[str, int]) -> str:
    if counts["de"] or counts["en"]:
        return "de" if counts["de"] >= counts["en"] else "en"
    return "ambiguous" if counts["amb"] else "de"


def detect_number_style(values: Iterable[object]) -> str | Problem:
    """'de' or 'en' (also 'de' when every value reads the same either way), 'ambiguous' when only
    values like 1.500 decide nothing, or a Problem (code read.number_style_conflict) when the
    values mix both styles. See the rule above."""
    texts = [v for v in values if isinstance(v, str)]
    categories = [_classify(v)[0] for v in texts]
    counts = _style_counts(categories)
    style = _style_of(counts)
    if counts["de"] and counts["en"]:
        odd = next(t for t, c in zip(texts, categories, strict=True) if c in ("de", "en") and c != style)
        return Problem.make("read.number_style_conflict", found=odd.strip(), style=style)
    return style


def ambiguous_readings(text: str) -> tuple[float, float, str] | None:
    """For a value like 1.500 or -1,500 that reads two ways: (grouped, decimal, style of the grouped reading),
    e.g. '1.301' -> (1301.0, 1.301, 'de'), '1,301' -> (1301.0, 1.301, 'en'); None for any other text."""
    category, sign, body = _classify(text)
    if not category.startswith("amb_"):
        return None
    grouped = "de" if category == "amb_dot" else "en"
    factor = -1.0 if sign else 1.0
    return factor * _convert(body, grouped), factor * _convert(body, "en" if grouped == "de" else "de"), grouped


def ambiguous_problem(row: int, column: str | None, letter: str | None, text: str, count: int,
                      sheet: str | None = None) -> Problem:
    """The read.number_ambiguous problem for the first of `count` values that stay ambiguous."""
    sign, body = _clean_number(text)
    whole, _, digits = body.replace(",", ".").partition(".")
    decimals = digits.rstrip("0") or "0"
    params: dict[str, object] = {"letter": letter} if letter else {}
    return Problem.make(
        "read.number_ambiguous", row=row, column=column, found=text, sheet=sheet, more=count - 1 or None,
        count=count, thousands=f"{sign}{whole}{digits}", decimal_de=f"{sign}{whole},{decimals}",
        decimal_en=f"{sign}{whole}.{decimals}", **params,
    )


def _plain_numbers(texts: list[str]) -> list[float | None] | None:
    """The values of a column of text cells in one go, exactly as the rule gives them, when every cell is
    plain (see _plain_line) and one of them decides the style (or none needs deciding); else None."""
    joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1:
        return None  # a cell with a line break
    for style in ("de", "en"):
        if _PLAIN[style].fullmatch(joined) and (
                ("." not in joined and "," not in joined) or _DECIDES[style].search(joined)):
            body = joined.replace(".", "").replace(",", ".") if style == "de" else joined.replace(",", "")
            parts = body.split("\n")
            try:
                values: list[float | None] = list(map(float, parts))
            except ValueError:  # "" or "-": no value
                values = [None if p in ("", "-") else float(p) for p in parts]
            return None if math.inf in values or -math.inf in values else values
    return None


def _value_check(style: str, classified: Mapping[str, tuple[str, str, str]]) -> Callable[[object], tuple]:
    """cell -> (value, flaw): flaw None, ("ambiguous", text, {}) or (problem code, found, params)."""
    def check(cell: object) -> tuple[float | None, tuple | None]:
        if cell.__class__ is str:
            try:
                return _number(*classified[cell], style, cell), None  # type: ignore[index]
            except NumberError as exc:
                code = {"ambiguous": "ambiguous", "style": "read.number_style_conflict"}.get(exc.reason)
                return None, (code or "read.bad_number", cell.strip(), {"style": style} if code else {})  # type: ignore[union-attr]
        if isinstance(cell, int | float) and not isinstance(cell, bool) and math.isfinite(cell):
            return float(cell), None
        if cell is None:
            return None, None
        code = "read.value_is_date" if isinstance(cell, date | time | timedelta) else "read.bad_number"
        return None, (code, _display(cell), {})
    return check


def _classified(cells: Iterable[object]) -> dict[str, tuple[str, str, str]]:
    return {text: _classify(text) for text in {c for c in cells if c.__class__ is str}}


# ----------------------------------------------------------------------------------------------
# Records
# ----------------------------------------------------------------------------------------------
_MEASURE = re.compile(r"\s*(?:m\s*[-.]?\s*)?(\d{2})(?:\.0)?\s*", re.IGNORECASE | re.ASCII)
_MEASURE_TITLED = re.compile(r"\s*m\s*[-.]?\s*(\d{2})(?:\s*[-–:.,)]\s*|\s+)\D.*", re.IGNORECASE | re.ASCII | re.DOTALL)
# Area texts that mean the default, the whole city (stored as None like an empty cell).
WHOLE_CITY = frozenset({"", "gesamtstadt", "gesamt", "insgesamt", "stadt koblenz", "koblenz", "whole city", "city",
                        "stadt gesamt"})


def normalize_measure_id(text: object) -> str | None:
    """'M21', 'M 21', 'm21', 'M-21', '21', 21.0 and 'M21 – Wohnraum' -> 'M21'; None if no measure id."""
    text = _cell_text(text)
    match = _MEASURE.fullmatch(text) or _MEASURE_TITLED.fullmatch(text)
    return f"M{match.group(1)}" if match else None


@dataclass(frozen=True, slots=True)
class Record:
    """One value in long layout.

    `measure` is the normalised id ("M21") when the cell holds one, else the stripped text; `indicator`
    is stripped text (the catalogue check comes later). `flawed` marks a row with a reading problem
    (already in the problem list): its `period` or `value` may be None for that reason; the file as a
    whole must then be rejected anyway. With defer_ambiguous, a value like 1.500 that nothing in the
    file decides comes as `ambiguous` (text, column, letter), its `value` None: watchers/validate.py
    decides or rejects it."""

    row: int
    sheet: str | None
    measure: str
    indicator: str
    area: str | None
    period_text: str
    period: Period | None
    value: float | None
    unit: str | None = None
    office: str | None = None
    note: str | None = None
    column: str | None = None
    flawed: bool = False
    ambiguous: tuple[str, str, str] | None = None


RECORD_FIELDS = tuple(f.name for f in fields(Record))


class Records(Sequence[Record]):
    """The records of a file as columns, one list per Record field (`columns["value"]`, …): a file makes
    100,000s of them, which watchers/validate.py checks column by column; indexing or iterating gives
    Record objects."""

    def __init__(self, columns: Mapping[str, list] | None = None) -> None:
        self.columns = {name: list((columns or {}).get(name, ())) for name in RECORD_FIELDS}

    def __len__(self) -> int:
        return len(self.columns["row"])

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[k] for k in range(*index.indices(len(self)))]
        return Record(*(self.columns[name][index] for name in RECORD_FIELDS))

    def __iter__(self):  # type: ignore[override]
        return map(Record, *self.columns.values())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Records({list(self)!r})"

    def replaced(self, **columns: list) -> Records:
        """The same records with some columns replaced."""
        return Records({**self.columns, **columns})


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _stripped(cell: object) -> str:
    return cell.strip() if cell.__class__ is str else _cell_text(cell).strip()  # type: ignore[union-attr]


def _mapped(cells: list, convert: Callable[[Any], Any], distinct: list | None = None) -> list:
    """convert(cell) for every cell, computed once per distinct cell (told apart by type too: 1, 1.0, True);
    `distinct` receives the distinct results."""
    unique = set(cells)
    if all(cell.__class__ is str for cell in unique):
        known = {cell: convert(cell) for cell in unique}
        if distinct is not None:
            distinct.extend(known.values())
        if all(cell == result for cell, result in known.items()):
            return cells  # nothing to change (the usual text column, stripped already)
        return [*known.values()] * len(cells) if len(known) == 1 else list(map(known.__getitem__, cells))
    keys = list(zip(map(type, cells), cells, strict=True))
    known = {key: convert(key[1]) for key in set(keys)}
    if distinct is not None:
        distinct.extend(known.values())
    return list(map(known.__getitem__, keys))


def _period_of(cell: object) -> tuple[str, Period | None]:
    text = cell.strip() if cell.__class__ is str else _display(cell)  # type: ignore[union-attr]
    try:
        return text, parse_period(text if cell.__class__ is str else cell) if text else None
    except PeriodError:
        return text, None


def _table_records(table: Table, cmap: ColumnMap, fallback: str, defer: bool, out: Records) -> list[Problem]:
    """Append the records of one table to `out`; return its problems, row by row as a person reads them."""
    frame = table.rows
    n, width = len(frame), len(table.columns)
    numbers = frame.index.tolist()
    columns = [frame[c].tolist() for c in frame.columns]
    found: list[tuple[int, int, Problem]] = []  # (position, order within the row, problem)

    def cells(name: str) -> list:
        index = cmap.get(name)
        return columns[index] if index is not None and index < len(columns) else [""] * n

    def report(pos: int, order: int, code: str, column: int | None, text: object, **params: object) -> None:
        name = table.columns[column] if column is not None and column < width else None
        params.update({"letter": letter(column)} if column is not None else {})
        found.append((pos, order, Problem.make(code, row=numbers[pos], column=name, found=text, sheet=table.sheet,
                                               **params)))

    if table.delimiter is not None and len(columns) > width:
        for pos, extra in enumerate(zip(*columns[width:], strict=True)):
            if text := next((c.strip() for c in extra if c.strip()), ""):
                report(pos, 0, "read.extra_cells", None, text, count=width)
    raw, indicators = _mapped(cells("measure"), _stripped), _mapped(cells("indicator"), _stripped)
    skipped = set()  # rows of nothing but blanks (a spreadsheet row of spaces)
    if "" in set(raw) and "" in set(indicators):
        skipped = {p for p in range(n) if not raw[p] and not indicators[p] and all(_is_empty(c[p]) for c in columns)}
    # Entry k (one value) comes from table position at[k] and column value_column[k].
    if cmap.layout == "long":
        at: Sequence[int] = [p for p in range(n) if p not in skipped] if skipped else range(n)
        value_column = [cmap.fields["value"]] * len(at)
        distinct: list[tuple[str, Period | None]] = []
        periods = _mapped(cells("period"), _period_of, distinct)
        headers: list[str | None] = [None] * len(at)
    else:  # one value per non-empty period cell; a row without any is not delivered (yet)
        entries = [(p, c, period) for p in range(n) if p not in skipped
                   for c, period in cmap.periods if c < len(columns) and not _is_empty(columns[c][p])]
        at, value_column = [p for p, _, _ in entries], [c for _, c, _ in entries]
        periods = [(table.columns[c], period) for _, c, period in entries]
        headers = [table.columns[c] for _, c, _ in entries]

    def take(column: list) -> list:
        return column if isinstance(at, range) else [column[p] for p in at]

    bad_rows = set()
    for name, texts, order in (("measure", raw, 1), ("indicator", indicators, 2)):
        if "" in set(texts):
            for p in (p for p in dict.fromkeys(at) if not texts[p]):
                report(p, order, "read.required_empty", cmap.get(name), "", field=name)
                bad_rows.add(p)
    if cmap.layout == "long":
        if any(period is None for _, period in distinct):
            for p in at:
                text, period = periods[p]
                if period is None:
                    report(p, 3, "read.bad_period" if text else "read.required_empty", cmap.get("period"), text,
                           **({} if text else {"field": "period"}))
                    bad_rows.add(p)
        periods = take(periods)
        value_cells = take(cells("value"))
    else:
        value_cells = [columns[c][p] for p, c in zip(at, value_column, strict=True)]

    values = _plain_numbers(value_cells) if set(map(type, value_cells)) == {str} else None
    flaws: dict[int, tuple] = {}
    if values is None:
        classified = _classified(value_cells)
        style = _style_of(_style_counts(c for c, _, _ in classified.values()))
        style = fallback if style == "ambiguous" and fallback in ("de", "en") else style
        checked = _mapped(value_cells, _value_check(style, classified))
        values = [v for v, _ in checked]
        flaws = {k: flaw for k, (_, flaw) in enumerate(checked) if flaw is not None}
    flawed = [p in bad_rows for p in at] if bad_rows else [False] * len(at)
    ambiguous: list[tuple[str, str, str] | None] = [None] * len(at)
    left: list[tuple[int, int, str]] = []  # (position, column, text) of ambiguous values not handed on
    for k, (code, text, params) in flaws.items():
        p, c = at[k], value_column[k]
        if code != "ambiguous":
            report(p, 4 + c, code, c, text, **params)
        elif defer:
            ambiguous[k] = (text, table.columns[c] if c < width else "", letter(c))
            continue
        else:
            left.append((p, c, text))
        flawed[k] = True

    add = out.columns
    add["row"] += take(numbers)
    add["sheet"] += [table.sheet] * len(at)
    add["measure"] += take(_mapped(raw, lambda t: normalize_measure_id(t) or t))
    add["indicator"] += take(indicators)
    add["area"] += take(_mapped(cells("area"), lambda c: None if (t := _stripped(c)).casefold() in WHOLE_CITY else t))
    for name in ("unit", "office", "note"):
        add[name] += take(_mapped(cells(name), lambda c: _stripped(c) or None))
    if periods:
        period_texts, period_values = zip(*periods, strict=True)
        add["period_text"] += period_texts
        add["period"] += period_values
    add["value"] += values
    add["column"] += headers
    add["flawed"] += flawed
    add["ambiguous"] += ambiguous
    problems = [problem for _, _, problem in sorted(found, key=lambda item: item[:2])]
    if left:
        p, c, text = left[0]
        problems.append(ambiguous_problem(numbers[p], table.columns[c] if c < width else None, letter(c), text,
                                          len(left), table.sheet))
    return problems


def _file_style(tables: Sequence[tuple[Table, ColumnMap | list[Problem]]]) -> str:
    """The number style the decisive values of all tables together show ('de', 'en' or ''): a sheet whose
    own values decide nothing takes it (a workbook is one delivery, written in one style)."""
    if len(tables) < 2:
        return ""  # one table: its own values are all the evidence there is
    counts = {"de": 0, "en": 0}
    for table, cmap in tables:
        if isinstance(cmap, ColumnMap):
            value_columns = [c for c, _ in cmap.periods] if cmap.layout == "wide" else [cmap.fields["value"]]
            cells = [cell for c in value_columns if c < table.rows.shape[1] for cell in table.rows[c].tolist()]
            for category, _, _ in _classified(cells).values():
                counts[category] = counts.get(category, 0) + 1
    return "de" if counts["de"] > counts["en"] else "en" if counts["en"] > counts["de"] else ""


def iter_records(tables: ReadResult | Iterable[Table], *, max_problems: int = 1000,
                 defer_ambiguous: bool = False) -> tuple[Records, list[Problem]]:
    """Long-layout records from every table (both layouts) and every problem found on the way.

    Accepts a ReadResult (its problems come first) or tables. Never stops at the first problem; past
    `max_problems` the rest is summarised in one read.too_many_problems problem. With `defer_ambiguous`,
    values that nothing in the file decides come back in `Record.ambiguous` instead of as a problem (the
    catalogue may still decide them: watchers/validate.py)."""
    with gc_paused():
        problems: list[Problem] = []
        if isinstance(tables, ReadResult):
            problems.extend(tables.problems)
            tables = tables.tables
        mapped = [(table, find_columns(table)) for table in tables]
        fallback = _file_style(mapped)
        records = Records()
        for table, cmap in mapped:
            if isinstance(cmap, list):
                problems.extend(cmap)
            else:
                problems.extend(_table_records(table, cmap, fallback, defer_ambiguous, records))
        if mapped and not records and not problems:
            problems.append(Problem.make("read.no_rows", found=""))
        if len(problems) > max_problems:
            rest = len(problems) - max_problems
            problems = [*problems[:max_problems], Problem.make("read.too_many_problems", count=rest)]
        return records, problems


def read_records(data: bytes, filename: str, *, defer_ambiguous: bool = False,
                 **limits: int) -> tuple[Records, list[Problem]]:
    """read_table + iter_records in one step; the file may be stored only if problems is empty."""
    with gc_paused():
        return iter_records(read_table(data, filename, **limits), defer_ambiguous=defer_ambiguous)
