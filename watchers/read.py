"""Reading indicator files: bytes -> tables -> long-layout records, or a list of problems.

Pure functions: they take the file's bytes and name and never touch the file system, never log and
never raise for a bad file; everything wrong with a file comes back as `Problem`s (German text by
default, English on request), so that the watcher can reject the file whole with one report.

    result = read_table(data, "jugendamt.xlsx")      # ReadResult(tables, problems)
    records, problems = iter_records(result)         # Record per value, every problem collected

Formats: .csv/.txt (";", "," or tab; UTF-8 with/without BOM, UTF-16 with BOM, Windows-1252,
Latin-1), .xlsx/.xlsm and .ods (python-calamine, after a zip-bomb and grid-size check).
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from itertools import islice, repeat
from pathlib import PurePath
from typing import NamedTuple

from python_calamine import CalamineWorkbook, SheetTypeEnum

from commands import texts_ingest
from commands.periods import Period, PeriodError, parse_period
from storage.store import gc_paused

__all__ = [
    "FIELDS",
    "FORMATS",
    "MISSING",
    "WHOLE_CITY",
    "ColumnMap",
    "NumberError",
    "Problem",
    "ReadResult",
    "Record",
    "Table",
    "ambiguous_problem",
    "ambiguous_readings",
    "detect_number_style",
    "find_columns",
    "format_report",
    "gc_paused",
    "iter_records",
    "normalize_measure_id",
    "parse_number",
    "read_records",
    "read_table",
]

TEXT_EXTENSIONS = (".csv", ".txt")
SPREADSHEET_EXTENSIONS = (".xlsx", ".xlsm", ".ods")
FORMATS = ".csv, .txt, .xlsx, .xlsm, .ods"
HEADER_SEARCH_ROWS = 20  # non-empty rows searched for the header row
MAX_CELLS = 10_000_000  # dense grid one sheet may unfold to (calamine allocates rows x columns)
MAX_RATIO = 200  # compression ratio allowed for zip members above 1 MiB
MAX_MEMBERS = 10_000
_MIB = 2**20
_FOUND_LIMIT = 80
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls and password-protected .xlsx

# ----------------------------------------------------------------------------------------------
# Problems
# ----------------------------------------------------------------------------------------------
_TEXTS = {"de": texts_ingest.DE, "en": texts_ingest.EN}


class _Params(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _clip(text: object) -> str:
    text = "".join(ch if ch.isprintable() else " " for ch in str(text))
    return text if len(text) <= _FOUND_LIMIT else text[: _FOUND_LIMIT - 1] + "…"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (sheet, row, column), what was found, what was expected.

    `code` names the message in commands/texts_ingest.py and `params` fill it, so the text exists in
    German (`expected`/`suggestion`, filled at creation) and English (`expected_text("en")`, …).
    Problems made by hand without a code keep their `expected`/`suggestion` as given.
    """

    row: int | None
    column: str | None
    found: str | None
    expected: str
    suggestion: str = ""
    sheet: str | None = None
    code: str = ""
    params: Mapping[str, object] = field(default_factory=dict, hash=False)

    @classmethod
    def make(
        cls,
        code: str,
        *,
        row: int | None = None,
        column: str | None = None,
        found: object = None,
        sheet: str | None = None,
        **params: object,
    ) -> Problem:
        problem = cls(row, column, None if found is None else _clip(found), "", "", sheet, code, dict(params))
        return replace(problem, expected=problem.expected_text("de"), suggestion=problem.suggestion_text("de"))

    def _fill(self, key: str, lang: str) -> str:
        texts = _TEXTS.get(lang, texts_ingest.DE)
        template = texts.get(key, texts_ingest.DE.get(key, ""))
        values = _Params(self.params)
        values.update(found=self.found or "", row=self.row, column=self.column, sheet=self.sheet, formats=FORMATS)
        if "field" in self.params:
            values["field_name"] = texts.get(f"read.field.{self.params['field']}", self.params["field"])
        if "style" in self.params:
            values["style_name"] = texts.get(f"read.style.{self.params['style']}", self.params["style"])
        return template.format_map(values)

    def expected_text(self, lang: str = "de") -> str:
        return self._fill(self.code, lang) if self.code else self.expected

    def suggestion_text(self, lang: str = "de") -> str:
        return self._fill(self.code + ".hint", lang) if self.code else self.suggestion

    def text(self, lang: str = "de") -> str:
        """One line: where – found – expected – suggestion."""
        texts = _TEXTS.get(lang, texts_ingest.DE)
        where = []
        if self.sheet:
            where.append(texts["read.where.sheet"].format(sheet=self.sheet))
        if self.row is not None:
            more = self.params.get("more")
            key = "read.where.more_rows" if more else "read.where.row"
            where.append(texts[key].format(row=self.row, more=more))
        if self.column:
            letter = self.params.get("letter")
            key = "read.where.column_letter" if letter else "read.where.column"
            where.append(texts[key].format(column=self.column, letter=letter))
        head = ", ".join(where) if where else texts["read.where.file"]
        parts = []
        if self.found is not None:
            parts.append(
                texts["read.found"].format(found=self.found) if self.found else texts["read.found_nothing"]
            )
        parts.append(texts["read.expected"].format(expected=self.expected_text(lang)))
        line = f"{head}: " + " – ".join(parts) + "."
        suggestion = self.suggestion_text(lang)
        if suggestion:
            line += " " + texts["read.suggestion"].format(suggestion=suggestion)
        return line


def format_report(filename: str, problems: Sequence[Problem], lang: str = "de", limit: int = 200) -> str:
    """The error report for a rejected file: a title line and one numbered line per problem."""
    texts = _TEXTS.get(lang, texts_ingest.DE)
    lines = [texts["read.report.title"].format(filename=filename, count=len(problems))]
    lines += [f"{n}. {p.text(lang)}" for n, p in enumerate(problems[:limit], start=1)]
    if len(problems) > limit:
        lines.append(texts["read.report.more"].format(count=len(problems) - limit))
    return "\n".join(lines)


def _letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (the column letter a person sees in Excel)."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


# ----------------------------------------------------------------------------------------------
# Tables
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Table:
    """One recognised table: the header row and the non-empty rows below it.

    `header_row` and the row numbers in `rows` are 1-based as a person sees them in Excel or an
    editor; the values are raw: str for CSV; str, float, int, bool, date, datetime, time or
    timedelta for spreadsheets ("" is an empty cell). `columns` are the header cells as text
    (2018.0 -> "2018", a date -> "2018-09-30").
    """

    sheet: str | None
    header_row: int
    columns: tuple[str, ...]
    rows: tuple[tuple[int, tuple[object, ...]], ...]
    delimiter: str | None = None
    encoding: str | None = None


@dataclass(frozen=True)
class ReadResult:
    tables: tuple[Table, ...]
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _fail(code: str, **kwargs: object) -> ReadResult:
    return ReadResult((), (Problem.make(code, **kwargs),))


def read_table(
    data: bytes, filename: str, *, max_rows: int = 200_000, max_unpacked_bytes: int = 200 * _MIB
) -> ReadResult:
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
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
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
    """The header among the first HEADER_SEARCH_ROWS non-empty rows: the first complete one, else
    the best plausible one (so that a missing column can be named)."""
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
        return _fail("read.not_text", found=_clip(repr(data[:24])))
    if "\x00" in text:
        text = text.replace("\x00", "")  # stray NULs far down; the csv module cannot take them

    skip = 0
    forced: str | None = None
    first_line, _, _ = sample.partition("\n")
    sep = _SEP_LINE.fullmatch(first_line.strip(" \ufeff")) if first_line.startswith(("sep=", "\ufeffsep=")) else None
    if sep:  # Excel's "sep=;" hint line
        forced, skip = sep.group(1), 1

    head = sample if len(text) <= len(sample) else sample[: sample.rfind("\n") + 1] or sample
    best: tuple[tuple[int, int, int, int], str, int] | None = None
    for rank, delimiter in enumerate(_DELIMITERS):
        if forced and delimiter != forced:
            continue
        rows = list(csv.reader(io.StringIO(head, newline=""), delimiter=delimiter))[skip:]
        found = _find_header(rows)
        if found is None:
            continue
        index, match = found
        width = len(rows[index])
        following = [r for r in rows[index + 1 :] if any(c.strip() for c in r)]
        consistent = sum(1 for r in following if len(r) == width)
        score = (int(match.complete), match.score, consistent, -rank)
        if best is None or score > best[0]:
            best = (score, delimiter, index + skip)
    if best is None:
        rows = list(csv.reader(io.StringIO(head, newline=""), delimiter=forced or ";"))
        return _fail("read.no_header", found=_first_text(rows[skip:]) or "", search=HEADER_SEARCH_ROWS)
    _, delimiter, header_index = best

    if FAST_PATH and '"' not in text:  # no quoting at all (the usual export): a line is a row, split at the delimiter
        table = _split_csv(text, delimiter, header_index, max_rows, encoding)
        if table is not None:
            return table
    columns: tuple[str, ...] = ()
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for _ in range(header_index):  # the lines above the header (e.g. a "sep=;" line, a title)
            if next(reader, None) is None:
                break
        header = next(reader, None)
        if header is not None:
            columns = tuple(c.strip() for c in header)
        # Rows are numbered from 1; the file may have data rows up to row number max_rows.
        body = list(islice(reader, max(0, max_rows - header_index - 1)))
        if next(reader, None) is not None:
            return _fail("read.too_many_rows", found=f"> {max_rows}", limit=max_rows)
    except csv.Error as exc:
        return _fail("read.damaged", detail=str(exc)[:200])
    # any(row): not a line of nothing but delimiters (nor an empty line, which csv reads as []).
    out = [(number, tuple(row)) for number, row in enumerate(body, start=header_index + 2) if any(row)]
    table = Table(None, header_index + 1, columns, tuple(out), delimiter, encoding)
    return ReadResult((table,), ())


def _split_csv(text: str, delimiter: str, header_index: int, max_rows: int, encoding: str) -> ReadResult | None:
    """_read_csv's rows for a text without a quote character, by str.split: exactly what the csv
    module reads then (it ends a row at \r\n, \r or \n; an empty line is a row of nothing, dropped
    like a row of empty cells). None for a line too long for the csv module's field limit: then
    the csv module reads it and reports it as before."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()  # the last line's own line break
    if max(map(len, lines), default=0) >= csv.field_size_limit():
        return None
    columns = tuple(c.strip() for c in lines[header_index].split(delimiter)) if header_index < len(lines) else ()
    body = lines[header_index + 1 :]
    if len(body) > max(0, max_rows - header_index - 1):
        return _fail("read.too_many_rows", found=f"> {max_rows}", limit=max_rows)
    rows = map(tuple, map(str.split, body, repeat(delimiter)))  # no Python call per row (100,000s of them)
    numbers = range(header_index + 2, header_index + 2 + len(body))
    if "" in set(map(str.strip, body, repeat(delimiter))):  # some line holds nothing but delimiters
        out = [(number, row) for number, row, line in zip(numbers, rows, body, strict=True) if line.strip(delimiter)]
    else:
        out = list(zip(numbers, rows, strict=True))
    return ReadResult((Table(None, header_index + 1, columns, tuple(out), delimiter, encoding),), ())


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

    Fast path when every cell carries its reference first (Excel, LibreOffice, openpyxl): only
    references beyond column Z or row 99999 need a look. Otherwise every row/cell tag is walked.
    """
    plain = b"<sheetData" in xml and b":c " not in xml and b":c>" not in xml
    if plain and _XLSX_NO_REF.search(xml) is None:
        max_row, max_col = 99_999, 26
        for ref in _XLSX_FAR.findall(xml):
            letters = ref.rstrip(b"0123456789")
            max_row = max(max_row, int(ref[len(letters) :]))
            max_col = max(max_col, _column_index(letters))
        return max_row, max_col
    max_row = max_col = row = col = 0
    for match in _XLSX_TAG.finditer(xml):
        ref = _XLSX_R.search(match.group(2))
        if match.group(1) == b"row":
            row = int(ref.group(2)) if ref and ref.group(2) and not ref.group(1) else row + 1
            col = 0
            continue
        if ref and ref.group(1):
            col = _column_index(ref.group(1))
            if ref.group(2):
                row = int(ref.group(2))
        else:
            col += 1
        max_row, max_col = max(max_row, row, 1), max(max_col, col)
    return max_row, max_col


def _ods_walk(xml: bytes) -> tuple[int, int]:
    """(rows, columns) of the largest table up to its last non-empty cell, repeats unfolded: every
    table/row/cell tag is visited (any namespace prefix). Used for unusual files and single rows."""
    best = (0, 0)
    rows = last_row = max_col = 0
    row_rep = col = 0
    row_has = False
    for match in _ODS_TAG.finditer(xml):
        closing, name, attrs, selfclosing = match.groups()
        if name == b"table":
            if last_row * max_col > best[0] * best[1]:
                best = (last_row, max_col)
            rows = last_row = max_col = 0
        elif name == b"table-row":
            if closing:
                if row_has:
                    last_row = rows + row_rep
                rows += row_rep
                continue
            rep = _ODS_ROWS_REP.search(attrs)
            row_rep, col, row_has = (int(rep.group(1)) if rep else 1), 0, False
            if selfclosing:
                rows += row_rep
        elif not closing:
            rep = _ODS_COLS_REP.search(attrs)
            col += int(rep.group(1)) if rep else 1
            if not selfclosing or b"value-type" in attrs:
                row_has = True
                max_col = max(max_col, col)
    if last_row * max_col > best[0] * best[1]:
        best = (last_row, max_col)
    return best


_ODS_ROW_OPEN = (b"<table:table-row ", b"<table:table-row>")
_ODS_EMPTY_CELL = re.compile(rb'<table:table-cell(?: table:style-name="[^"]*")?'
                             rb' table:number-columns-repeated="\d+"(?: table:style-name="[^"]*")?/>')


def _ods_extent(xml: bytes) -> tuple[int, int]:
    """(rows, columns) that calamine will allocate for the largest table of content.xml.

    Rows are cut apart with bytes operations (LibreOffice writes the "table:" prefix and no
    self-closing rows); only rows with repeated cells are walked tag by tag. Anything unusual
    takes the full walk.
    """
    opens = sum(xml.count(tag) for tag in _ODS_ROW_OPEN)
    if opens != xml.count(b"</table:table-row>") or (opens == 0 and b"table-row" in xml):
        return _ods_walk(xml)
    best = (0, 0)
    for table in xml.split(b"</table:table>"):
        rows = last_row = max_col = 0
        for chunk in table.split(b"</table:table-row>")[:-1]:
            start = max(chunk.rfind(tag) for tag in _ODS_ROW_OPEN)
            head_end = chunk.find(b">", start)
            head, body = chunk[start:head_end], chunk[head_end + 1 :]
            repeat = 1
            if b"repeated" in head:
                found = _ODS_ROWS_REP.search(head)
                repeat = int(found.group(1)) if found else 1
            if body.endswith(b"/>"):  # LibreOffice's empty cells up to the sheet's edge: not allocated
                last = body.rfind(b"<table:table-cell")
                if last >= 0 and _ODS_EMPTY_CELL.fullmatch(body, last):
                    body = body[:last]
            if b"repeated" in body or b"covered" in body:
                width, _ = _ods_walk(b"<table:table-row>" + body + b"</table:table-row>")[::-1]
                has = width > 0
            else:
                width = body.count(b"<table:table-cell")
                has = b"value-type" in body or b"<text:" in body
            rows += repeat
            if has:
                last_row, max_col = rows, max(max_col, width)
        if last_row * max_col > best[0] * best[1]:
            best = (last_row, max_col)
    return best


def _check_zip(data: bytes, suffix: str, max_unpacked: int) -> tuple[str, Problem | None]:
    """('xlsx'|'ods', None) for a sound workbook container, else ('', problem).

    Declared sizes and ratios are checked before anything is unpacked; then every member is
    unpacked once by zipfile, which stops at the declared size and checks the CRC, so a member
    that lies about its size is caught too. Worksheets are measured so that calamine's dense grid
    stays below MAX_CELLS (a tiny file with cells in A1 and XFD1048576 would otherwise abort the
    process with an out-of-memory error that no except clause can catch).
    """
    if not data.startswith(b"PK"):
        return "", Problem.make("read.not_spreadsheet", found=suffix)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        return "", Problem.make("read.damaged", found=suffix, detail=str(exc)[:200])
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    ratio_members = [i for i in infos if i.file_size > _MIB and i.file_size > MAX_RATIO * max(1, i.compress_size)]
    if len(infos) > MAX_MEMBERS or total > max_unpacked or ratio_members:
        return "", Problem.make(
            "read.too_large",
            found=f"{total / _MIB:.0f} MB",
            limit_mb=max_unpacked // _MIB,
            size_mb=f"{total / _MIB:.0f}",
            ratio=f"{total // packed}",
        )
    names = {i.filename for i in infos}
    if "xl/workbook.xml" in names:
        kind = "xlsx"
    elif "content.xml" in names:
        kind = "ods"
    else:
        return "", Problem.make("read.not_spreadsheet", found=suffix)
    try:
        for info in infos:
            if info.flag_bits & 0x1:
                return "", Problem.make("read.old_excel", found=suffix)
            if kind == "xlsx" or info.filename == "content.xml":
                # Any member may be a worksheet (the workbook's relations name them), so every
                # one with sheet data is measured; members are at most max_unpacked bytes.
                xml = archive.read(info)
                if kind == "ods":
                    rows, cols = _ods_extent(xml)
                elif b"sheetData" in xml:
                    rows, cols = _xlsx_extent(xml)
                else:
                    continue
                if rows * cols > MAX_CELLS:
                    return "", Problem.make(
                        "read.too_many_cells", found=f"{rows} × {cols}", rows=rows, cols=_letter(max(cols - 1, 0)),
                        limit=f"{MAX_CELLS:,}".replace(",", "."),
                    )
                continue
            with archive.open(info) as member:
                while member.read(4 * _MIB):
                    pass
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
        return "", Problem.make("read.damaged", found=suffix, detail=str(exc)[:200])
    return kind, None


def _read_workbook(data: bytes, suffix: str, max_rows: int, max_unpacked: int) -> ReadResult:
    _kind, problem = _check_zip(data, suffix, max_unpacked)
    if problem is not None:
        return ReadResult((), (problem,))
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [m.name for m in workbook.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
        grids: list[tuple[str, list[list[object]]]] = []
        for name in sheets:
            grid = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False, nrows=max_rows + 1)
            if len(grid) > max_rows:
                return _fail("read.too_many_rows", sheet=name, found=f"> {max_rows}", limit=max_rows)
            grids.append((name, grid))
    except BaseException as exc:  # calamine errors, and pyo3 panics (which are BaseExceptions)
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        return _fail("read.damaged", found=suffix, detail=f"{type(exc).__name__}: {exc}"[:200])

    tables: list[Table] = []
    for name, grid in grids:
        found = _find_header(grid)
        if found is None:
            continue
        index, _ = found
        columns = tuple(_cell_text(c).strip() for c in grid[index])
        width = len(grid[index])
        rows = tuple(
            (number, tuple(row))
            for number, row in enumerate(grid[index + 1 :], start=index + 2)
            if row.count("") != width
        )
        tables.append(Table(name, index + 1, columns, rows))
    if not tables:
        first = next((g for _, g in grids if _first_text(g)), [])
        return _fail(
            "read.no_header", sheet=grids[0][0] if len(grids) == 1 else None,
            found=_first_text(first) or "", search=HEADER_SEARCH_ROWS,
        )
    return ReadResult(tuple(tables), ())


# ----------------------------------------------------------------------------------------------
# Columns
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ColumnMap:
    """Which column holds what. `fields` maps field name (FIELDS) -> column index; in the wide
    layout `periods` lists (column index, period) for every period column."""

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
        problems.append(
            Problem.make(
                code, row=table.header_row, sheet=table.sheet,
                column=table.columns[column] if column is not None else None,
                **({"letter": _letter(column)} if column is not None else {}), **params,
            )
        )

    def names(fld: str) -> str:
        return ", ".join(_SYNONYMS[fld][:3] + _SYNONYMS[fld][-1:])

    for fld, indexes in match.fields.items():
        if len(indexes) > 1:
            cols = ", ".join(f"„{table.columns[i]}“ ({_letter(i)})" for i in indexes)
            problem("read.duplicate_column", indexes[1], found=table.columns[indexes[1]], field=fld, columns=cols)
    long = "period" in match.fields or "value" in match.fields
    required = ["measure", "indicator"] + (["period", "value"] if long or not match.periods else [])
    for fld in required:
        if fld not in match.fields:
            problem("read.missing_column", field=fld, names=names(fld))
    if long and match.periods:
        cols = ", ".join(table.columns[i] for i, _ in match.periods)
        problem("read.mixed_layout", match.periods[0][0], found=table.columns[match.periods[0][0]], columns=cols)
    if not long:
        for index in match.bad_periods:
            problem("read.bad_period_header", index, found=table.columns[index])
        seen: dict[Period, int] = {}
        for index, period in match.periods:
            if period in seen:
                cols = f"„{table.columns[seen[period]]}“, „{table.columns[index]}“"
                problem("read.duplicate_period", index, found=table.columns[index], columns=cols, key=period.key)
            else:
                seen[period] = index
    if problems:
        return problems
    fields = {fld: indexes[0] for fld, indexes in match.fields.items()}
    return ColumnMap("long" if long else "wide", fields, () if long else tuple(match.periods))


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
_NUMBER = re.compile(
    r"(?P<int>\d+)"
    r"|(?P<amb_dot>[1-9]\d{0,2}\.\d{3})"
    r"|(?P<amb_comma>[1-9]\d{0,2},\d{3})"
    r"|(?P<de>\d{1,3}(?:\.\d{3})+,\d+|\d{1,3}(?:\.\d{3}){2,}|\d*,\d+)"
    r"|(?P<en>\d{1,3}(?:,\d{3})+\.\d+|\d{1,3}(?:,\d{3}){2,}|\d*\.\d+)",
    re.ASCII,
)
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
        return float(sign + body)
    if category == "invalid":
        raise NumberError(text)
    if category.startswith("amb_"):
        if style not in ("de", "en"):
            raise NumberError(text, "ambiguous")
        value = _convert(body, style)
    elif style in ("de", "en") and category != style:
        raise NumberError(text, "style")
    else:
        value = _convert(body, category)
    return -value if sign else value


def _convert(body: str, style: str) -> float:
    if style == "de":
        return float(body.replace(".", "").replace(",", "."))
    return float(body.replace(",", ""))


def parse_number(text: object, style: str = "de") -> float | None:
    """A value as float; None for no value (empty, -, ., k.A.). Raises NumberError.

    style: "de" (1.234,5), "en" (1,234.5) or "ambiguous" (then 1.500/1,500 are refused).
    Numbers (int/float cells) are taken as they are.
    """
    if text is None:
        return None
    if isinstance(text, bool):
        raise NumberError(text)
    if isinstance(text, int | float):
        if isinstance(text, float) and not math.isfinite(text):
            raise NumberError(text)
        return float(text)
    if not isinstance(text, str):
        raise NumberError(text)
    return _number(*_classify(text), style, text)


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


# ----------------------------------------------------------------------------------------------
# Records
# ----------------------------------------------------------------------------------------------
_MEASURE = re.compile(r"\s*(?:m\s*[-.]?\s*)?(\d{2})(?:\.0)?\s*", re.IGNORECASE | re.ASCII)
_MEASURE_TITLED = re.compile(r"\s*m\s*[-.]?\s*(\d{2})(?:\s*[-–:.,)]\s*|\s+)\D.*", re.IGNORECASE | re.ASCII | re.DOTALL)


def normalize_measure_id(text: object) -> str | None:
    """'M21', 'M 21', 'm21', 'M-21', '21', 21.0 and 'M21 – Wohnraum' -> 'M21'; None if no measure id."""
    text = _cell_text(text)
    match = _MEASURE.fullmatch(text) or _MEASURE_TITLED.fullmatch(text)
    return f"M{match.group(1)}" if match else None


class Record(NamedTuple):
    """One value in long layout; an immutable named tuple (a big file makes 100,000 of them).

    `measure` is the normalised id ("M21") when the cell holds one, else the stripped text;
    `indicator` is stripped text (the catalogue check comes later).
    `flawed` marks a row with a reading problem (already in the problem list): its `period` or
    `value` may be None for that reason; the file as a whole must then be rejected anyway."""

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
    # With defer_ambiguous: a value like 1.500 that nothing in the file decides, as (text, column, letter);
    # `value` is None then and the catalogue check (watchers/validate.py) decides or rejects it.
    ambiguous: tuple[str, str, str] | None = None


# Area texts that mean the default, the whole city (stored as None like an empty cell).
WHOLE_CITY = frozenset({"", "gesamtstadt", "gesamt", "insgesamt", "stadt koblenz", "koblenz", "whole city", "city",
                        "stadt gesamt"})


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _Collector:
    def __init__(self, table: Table) -> None:
        self.table = table
        self.problems: list[Problem] = []

    def add(self, code: str, row: int | None, column: int | None, found: object = None, **params: object) -> None:
        name = self.table.columns[column] if column is not None and column < len(self.table.columns) else None
        if column is not None:
            params["letter"] = _letter(column)
        self.problems.append(Problem.make(code, row=row, column=name, found=found, sheet=self.table.sheet, **params))


def _value_texts(table: Table, columns: Sequence[int]) -> dict[str, tuple[str, str, str]]:
    """Every distinct text in the value columns, classified."""
    classified: dict[str, tuple[str, str, str]] = {}
    for _, cells in table.rows:
        for c in columns:
            if c < len(cells):
                cell = cells[c]
                if cell.__class__ is str and cell not in classified:
                    classified[cell] = _classify(cell)
    return classified


def _value_columns(cmap: ColumnMap) -> list[int]:
    return [c for c, _ in cmap.periods] if cmap.layout == "wide" else [cmap.fields["value"]]


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


def _value_checker(table: Table, columns: Sequence[int], out: _Collector, fallback: str = "", defer: bool = False):
    """A function (row, column, cell) -> (value, ok, ambiguous) using the table's number style (or, when its
    own values decide nothing, the `fallback` style of the whole file); reports problems. With `defer`, a
    value that stays ambiguous is handed on as (text, column, letter) instead of being reported."""
    classified = _value_texts(table, columns)
    style = _style_of(_style_counts(c for c, _, _ in classified.values()))
    if style == "ambiguous" and fallback in ("de", "en"):
        style = fallback
    ambiguous: list[tuple[int, int, str]] = []

    def check(row: int, column: int, cell: object) -> tuple[float | None, bool, tuple[str, str, str] | None]:
        if cell.__class__ is str:
            try:
                return _number(*classified[cell], style, cell), True, None
            except NumberError as exc:
                if exc.reason == "ambiguous":
                    if defer:
                        name = table.columns[column] if column < len(table.columns) else ""
                        return None, True, (cell.strip(), name, _letter(column))
                    ambiguous.append((row, column, cell.strip()))
                elif exc.reason == "style":
                    out.add("read.number_style_conflict", row, column, cell.strip(), style=style)
                else:
                    out.add("read.bad_number", row, column, cell.strip())
                return None, False, None
        if isinstance(cell, bool):
            out.add("read.bad_number", row, column, _display(cell))
            return None, False, None
        if isinstance(cell, int | float):
            if math.isfinite(cell):
                return float(cell), True, None
            out.add("read.bad_number", row, column, _display(cell))
            return None, False, None
        if isinstance(cell, date | time | timedelta):
            out.add("read.value_is_date", row, column, _display(cell))
            return None, False, None
        if cell is None:
            return None, True, None
        out.add("read.bad_number", row, column, _display(cell))
        return None, False, None

    def finish() -> None:
        if ambiguous:
            row, column, text = ambiguous[0]
            name = table.columns[column] if column < len(table.columns) else None
            out.problems.append(ambiguous_problem(row, name, _letter(column), text, len(ambiguous), table.sheet))

    return check, finish


def _text(cells: tuple[object, ...], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    value = cells[index]
    return value.strip() if value.__class__ is str else _cell_text(value).strip()


def _records_of(table: Table, cmap: ColumnMap, records: list[Record], out: _Collector, fallback: str = "",
                defer: bool = False) -> None:
    f = cmap.fields
    mi, ii, pi, vi = f.get("measure"), f.get("indicator"), f.get("period"), f.get("value")
    ui, ai, oi, ni = f.get("unit"), f.get("area"), f.get("office"), f.get("note")
    width = len(table.columns)
    check, finish = _value_checker(table, _value_columns(cmap), out, fallback, defer)
    period_cache: dict[object, Period | None] = {}
    measure_cache: dict[str, str] = {}

    for number, cells in table.rows:
        if table.delimiter is not None and len(cells) > width and any(c.strip() for c in cells[width:]):
            extra = next(c for c in cells[width:] if c.strip())
            out.add("read.extra_cells", number, None, extra.strip(), count=width)
        raw_measure, indicator = _text(cells, mi), _text(cells, ii)
        if not raw_measure and not indicator and all(_is_empty(c) for c in cells):
            continue  # only blanks (a spreadsheet row of spaces)
        area, unit = _text(cells, ai), _text(cells, ui) or None
        area = None if area.casefold() in WHOLE_CITY else area
        office, note = _text(cells, oi), _text(cells, ni)
        flawed = False
        present: list[tuple[int, Period]] = []
        if cmap.layout == "wide":
            present = [(c, p) for c, p in cmap.periods if c < len(cells) and not _is_empty(cells[c])]
            if not present:
                continue  # nothing delivered in this row (yet)
        if not raw_measure:
            out.add("read.required_empty", number, mi, "", field="measure")
            flawed = True
        if not indicator:
            out.add("read.required_empty", number, ii, "", field="indicator")
            flawed = True
        measure = measure_cache.get(raw_measure)
        if measure is None:
            measure = measure_cache[raw_measure] = normalize_measure_id(raw_measure) or raw_measure

        if cmap.layout == "long":
            cell = cells[pi] if pi is not None and pi < len(cells) else ""
            period_text = cell.strip() if cell.__class__ is str else _display(cell)
            period: Period | None = None
            if not period_text:
                out.add("read.required_empty", number, pi, "", field="period")
                flawed = True
            else:
                key = cell if not isinstance(cell, str) else period_text
                if key not in period_cache:
                    try:
                        period_cache[key] = parse_period(key)
                    except PeriodError:
                        period_cache[key] = None
                period = period_cache[key]
                if period is None:
                    out.add("read.bad_period", number, pi, period_text)
                    flawed = True
            value, ok, unsure = check(number, vi, cells[vi] if vi is not None and vi < len(cells) else None)
            records.append(Record(number, table.sheet, measure, indicator, area, period_text, period, value,
                                  unit, office or None, note or None, None, flawed or not ok, unsure))
            continue

        for column, period in present:
            value, ok, unsure = check(number, column, cells[column])
            header = table.columns[column]
            records.append(Record(number, table.sheet, measure, indicator, area, header, period, value,
                                  unit, office or None, note or None, header, flawed or not ok, unsure))
    finish()


# --- fast path -----------------------------------------------------------------------------------
# The common case – a long-layout table without a single problem – is read column by column: each
# column's distinct values are converted once and mapped back, numbers in bulk once the style is
# known. It yields exactly the records of _records_of; the moment anything would be reported (or
# anything unusual turns up) it gives up and the exact row-by-row path reads the table instead, so
# every problem report comes from one place. tests/test_read_fast.py checks the two agree.
FAST_PATH = True  # tests switch it off to compare with the exact path
_SIMPLE_NUMBERS = {
    # style: (every line an int or a plain decimal of that style, a line decisive for that style)
    "de": (re.compile(r"\d*,?\d+(?:\n\d*,?\d+)*", re.ASCII),
           re.compile(r"^(?![1-9]\d{0,2},\d{3}$)\d*,\d+$", re.ASCII | re.MULTILINE)),
    "en": (re.compile(r"\d*\.?\d+(?:\n\d*\.?\d+)*", re.ASCII),
           re.compile(r"^(?![1-9]\d{0,2}\.\d{3}$)\d*\.\d+$", re.ASCII | re.MULTILINE)),
}


class _Irregular(Exception):
    """Something the exact path would report or treat specially: read the table row by row."""


def _mapped(column: Sequence[object], convert) -> list:
    """convert(cell) for every cell, computed once per distinct cell (by type and value unless all text)."""
    distinct = set(column)  # a text never equals a non-text, so the types show here already
    if all(cell.__class__ is str for cell in distinct):
        if len(distinct) == 1:
            return [convert(next(iter(distinct)))] * len(column)
        known = {cell: convert(cell) for cell in distinct}
        return list(map(known.__getitem__, column))
    keys = list(zip(map(type, column), column, strict=True))
    known = {key: convert(key[1]) for key in dict.fromkeys(keys)}
    return list(map(known.__getitem__, keys))


def _stripped(cell: object) -> str:
    return cell.strip() if cell.__class__ is str else _cell_text(cell).strip()


def _required(cell: object) -> str:
    text = _stripped(cell)
    if not text:
        raise _Irregular
    return text


def _simple_floats(texts: Sequence[str]) -> list[float] | None:
    """The floats of number texts when every one is a plain integer or decimal (no sign, no
    grouping, no blanks) and at least one decides the style; else None (then _classify decides)."""
    joined = "\n".join(texts)
    for style, (whole, decisive) in _SIMPLE_NUMBERS.items():
        if whole.fullmatch(joined) and decisive.search(joined):
            body = joined.replace(",", ".") if style == "de" else joined
            return list(map(float, body.split("\n")))
    return None


def _fast_numbers(column: Sequence[object]) -> list[float | None]:
    """The value column as floats, exactly as _value_checker would give them, or _Irregular."""
    text_only = set(map(type, column)) == {str}
    if text_only:
        head = column[:1000]
        if len(set(head)) * 2 > len(head):
            # Mostly distinct values (the usual measurement column): convert the column in one go.
            # (A line of the simple form is never one of MISSING, so those need no look here.)
            floats = _simple_floats(column)
            if floats is not None:
                return floats
        texts = list(set(column))
    else:
        texts = list(dict.fromkeys(c for c in column if c.__class__ is str))
    known: dict[str, float | None] = dict.fromkeys(MISSING.intersection(texts))
    rest = [t for t in texts if t not in known] if known else texts
    floats = _simple_floats(rest) if rest else None
    if floats is not None:
        known.update(zip(rest, floats, strict=True))
    elif rest:
        classified = {t: _classify(t) for t in rest}
        style = _style_of(_style_counts(c for c, _, _ in classified.values()))
        for t, parts in classified.items():
            try:
                known[t] = _number(*parts, style, t)
            except NumberError:
                raise _Irregular from None
    if text_only:
        return list(map(known.__getitem__, column))
    out: list[float | None] = []
    for cell in column:
        if cell.__class__ is str:
            out.append(known[cell])
        elif cell is None:
            out.append(None)
        elif isinstance(cell, int | float) and not isinstance(cell, bool) and math.isfinite(cell):
            out.append(float(cell))
        else:
            raise _Irregular
    return out


def _fast_records(table: Table, cmap: ColumnMap) -> list[Record] | None:
    """The records of a long-layout table with no problem at all, or None (then read it row by row)."""
    if cmap.layout != "long" or not table.rows:
        return None
    try:
        return _fast_long(table, cmap)
    except _Irregular:
        return None


def _fast_long(table: Table, cmap: ColumnMap) -> list[Record]:
    f = cmap.fields
    width = len(table.columns)
    numbers, rows = zip(*table.rows, strict=True)
    lengths = set(map(len, rows))
    if lengths == {width}:
        columns = list(zip(*rows, strict=True))
    else:
        if table.delimiter is not None and max(lengths) > width:
            for cells in rows:
                if len(cells) > width and any(c.strip() for c in cells[width:]):
                    raise _Irregular  # read.extra_cells
        # A short row reads "" where the exact path finds no cell: the same record either way.
        columns = [tuple(cells[c] if c < len(cells) else "" for cells in rows) for c in range(width)]
    n = len(rows)

    def column(name: str) -> Sequence[object] | None:
        index = f.get(name)
        return None if index is None or index >= width else columns[index]

    def texts(name: str, convert) -> list:
        cells = column(name)
        return [convert("")] * n if cells is None else _mapped(cells, convert)

    measures = texts("measure", lambda c: (lambda t: normalize_measure_id(t) or t)(_required(c)))
    indicators = texts("indicator", _required)
    areas = texts("area", lambda c: (lambda t: None if t.casefold() in WHOLE_CITY else t)(_stripped(c)))
    units = texts("unit", lambda c: _stripped(c) or None)
    offices = texts("office", lambda c: _stripped(c) or None)
    notes = texts("note", lambda c: _stripped(c) or None)

    cells = column("period")
    if cells is None:
        raise _Irregular  # read.required_empty
    period_texts = _mapped(cells, lambda c: c.strip() if c.__class__ is str else _display(c))
    if "" in period_texts:
        raise _Irregular
    # The exact path caches parse_period by the stripped text, or by the cell itself (first one wins).
    if all(c.__class__ is str for c in set(cells)):  # no 1/True/1.0 mix-ups then
        keys = period_texts
    else:
        keys = [t if c.__class__ is str else c for t, c in zip(period_texts, cells, strict=True)]
    parsed: dict[object, Period] = {}
    for key in dict.fromkeys(keys):
        try:
            parsed[key] = parse_period(key)
        except PeriodError:
            raise _Irregular from None
    periods = list(map(parsed.__getitem__, keys))

    values_cells = column("value")
    values = [None] * n if values_cells is None else _fast_numbers(values_cells)
    sheet = table.sheet
    fields = zip(numbers, repeat(sheet), measures, indicators, areas, period_texts, periods, values, units, offices,
                 notes, repeat(None), repeat(False), repeat(None))
    return list(map(tuple.__new__, repeat(Record), fields))  # Record(*fields) without a Python call each


def iter_records(
    tables: ReadResult | Iterable[Table], *, max_problems: int = 1000, defer_ambiguous: bool = False
) -> tuple[list[Record], list[Problem]]:
    """Long-layout records from every table (both layouts) and every problem found on the way.

    Accepts a ReadResult (its problems come first) or tables. Never stops at the first problem;
    past `max_problems` the rest is summarised in one read.too_many_problems problem. With
    `defer_ambiguous`, values that nothing in the file decides come back in `Record.ambiguous`
    instead of as a problem (the catalogue may still decide them: watchers/validate.py).
    """
    with gc_paused():
        return _iter_records(tables, max_problems, defer_ambiguous)


def _file_style(tables: Sequence[tuple[Table, ColumnMap | list[Problem]]]) -> str:
    """The number style the decisive values of all tables together show ('de', 'en' or ''): a sheet whose
    own values decide nothing takes it (a workbook is one delivery, written in one style)."""
    if len(tables) < 2:
        return ""  # one table: its own values are all the evidence there is
    counts = {"de": 0, "en": 0, "amb": 0}
    for table, cmap in tables:
        if isinstance(cmap, ColumnMap):
            for category, _, _ in _value_texts(table, _value_columns(cmap)).values():
                if category in ("de", "en"):
                    counts[category] += 1
    return "de" if counts["de"] > counts["en"] else "en" if counts["en"] > counts["de"] else ""


def _iter_records(tables: ReadResult | Iterable[Table], max_problems: int,
                  defer: bool = False) -> tuple[list[Record], list[Problem]]:
    problems: list[Problem] = []
    if isinstance(tables, ReadResult):
        problems.extend(tables.problems)
        tables = tables.tables
    mapped = [(table, find_columns(table)) for table in tables]
    fallback = _file_style(mapped)
    records: list[Record] = []
    saw_table = False
    for table, cmap in mapped:
        saw_table = True
        if isinstance(cmap, list):
            problems.extend(cmap)
            continue
        fast = _fast_records(table, cmap) if FAST_PATH else None
        if fast is not None:
            records.extend(fast)
            continue
        collector = _Collector(table)
        _records_of(table, cmap, records, collector, fallback, defer)
        problems.extend(collector.problems)
    if saw_table and not records and not problems:
        problems.append(Problem.make("read.no_rows", found=""))
    if len(problems) > max_problems:
        rest = len(problems) - max_problems
        problems = [*problems[:max_problems], Problem.make("read.too_many_problems", count=rest)]
    return records, problems


def read_records(data: bytes, filename: str, *, defer_ambiguous: bool = False,
                 **limits: int) -> tuple[list[Record], list[Problem]]:
    """read_table + iter_records in one step; the file may be stored only if problems is empty."""
    with gc_paused():
        return iter_records(read_table(data, filename, **limits), defer_ambiguous=defer_ambiguous)
