"""Reading indicator files: bytes -> tables -> long-layout records, or a list of problems.

Pure functions: they take the file's bytes and name, never touch the file system, never log and never
raise for a bad file; everything wrong comes back as `Finding`s (findings as data, watchers/results.py),
so that the watcher can reject the file whole with one report, worded by commands/ingest_words.py.

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
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from operator import itemgetter
from pathlib import PurePath
from typing import Any, overload

import pandas as pd

from storage.periods import Period, PeriodError, parse_period
from storage.store import gc_paused

from .columns import FIELDS, HEADER_SEARCH_ROWS, ColumnMap, find_columns, find_header, first_text
from .findings import FORMATS, Finding, cell_text, display, letter
from .number_style import (
    MISSING,
    NumberError,
    ambiguous_problem,
    ambiguous_readings,
    classify,
    column_values,
    detect_number_style,
    parse_number,
    style_counts,
)
from .workbook import MAX_CELLS, read_sheets

__all__ = [
    "FIELDS",
    "FORMATS",
    "MISSING",
    "WHOLE_CITY",
    "ColumnMap",
    "Finding",
    "NumberError",
    "ReadResult",
    "Record",
    "Records",
    "Table",
    "ambiguous_problem",
    "ambiguous_readings",
    "detect_number_style",
    "find_columns",
    "gc_paused",
    "iter_records",
    "normalize_measure_id",
    "parse_number",
    "read_records",
    "read_table",
]

TEXT_EXTENSIONS = (".csv", ".txt")
SPREADSHEET_EXTENSIONS = (".xlsx", ".xlsm", ".ods")
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
            width = max((len(cells) for _, cells in pairs), default=0)
            grid = [[*cells, *[""] * (width - len(cells))] for _, cells in pairs]
            object.__setattr__(self, "rows", pd.DataFrame(grid, index=[n for n, _ in pairs], dtype=object))


@dataclass(frozen=True)
class ReadResult:
    tables: tuple[Table, ...]
    problems: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _fail(code: str, *, row: int | None = None, column: str | None = None, sheet: str | None = None,
          found: object = None, **params: object) -> ReadResult:
    return ReadResult((), (Finding.make(code, row=row, column=column, sheet=sheet, found=found, **params),))


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


# --- CSV -------------------------------------------------------------------------------------
_DELIMITERS = (";", "\t", ",")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SEP_LINE = re.compile(r"sep=(.)\r?\n?$")
_SAW_FIELDS = re.compile(r"Expected \d+ fields in line \d+, saw (\d+)")
_UNCLOSED = re.compile(r"EOF inside string starting at row (\d+)")


def _not_utf8(data: bytes, head: int = 65536) -> bool:
    """Whether the start of `data` already shows it is not UTF-8: a failed decode of the whole file copies all
    of it into the error (milliseconds for an Excel CSV in Windows-1252). An error at least four bytes before
    the cut cannot come from a character the cut split, so the whole file fails there too."""
    if len(data) <= head:
        return False  # the whole file is decoded in one go anyway
    try:
        data[:head].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start < head - 4
    return False


def _decode(data: bytes) -> tuple[str, str] | None:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            return None
    if _not_utf8(data):
        encodings: tuple[str, ...] = ("cp1252",)
    else:
        encodings = ("utf-8-sig", "cp1252")
    for encoding in encodings:
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
    if "\x00" in text:
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
        found = find_header(rows)
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
        return _fail("read.no_header", found=first_text(rows[skip:]) or "", search=HEADER_SEARCH_ROWS)
    _, delimiter, header_index, header, widest = best
    try:
        frame = _csv_frame(text, delimiter, widest, max_rows + 1)
    except (pd.errors.ParserError, ValueError) as exc:
        if unclosed := _UNCLOSED.search(str(exc)):  # pandas counts records from 0
            return _fail("read.unclosed_quote", row=int(unclosed.group(1)) + 1, found='"')
        return _fail("read.damaged", detail=str(exc)[:200])
    if isinstance(frame, Finding):
        return ReadResult((), (frame,))
    if len(frame) > max_rows:  # rows are numbered from 1; the file may have rows up to number max_rows
        return _fail("read.too_many_rows", found=f"> {max_rows}", limit=max_rows)
    body = frame.iloc[header_index + 1 :]
    body.index = pd.RangeIndex(header_index + 2, header_index + 2 + len(body))
    if len(body) and "" in set(body[0].tolist()):  # a line of nothing but delimiters (or an empty one): no row
        body = body[(body != "").any(axis=1)]
    table = Table(None, header_index + 1, tuple(c.strip() for c in header), body, delimiter, encoding)
    return ReadResult((table,), ())


def _csv_frame(text: str, delimiter: str, width: int, nrows: int) -> pd.DataFrame | Finding:
    """Every cell as text ("" for an empty or missing one), one row per CSV record, blank lines included;
    or read.too_many_cells when a few very long rows would make the grid far bigger than the file."""
    lines = 1 + max(text.count("\n"), text.count("\r"))
    encoded = text.encode("utf-8")
    for _ in range(8):
        if lines * width > MAX_CELLS and lines * width > 2 * (text.count(delimiter) + lines):
            return Finding.make("read.too_many_cells", found=f"{lines} × {width}", rows=lines,
                                cols=letter(width - 1), limit=MAX_CELLS)
        try:
            # As UTF-8 bytes, cells as plain str objects: pandas' C parser reads bytes without a text layer.
            return pd.read_csv(io.BytesIO(encoded), encoding="utf-8", sep=delimiter, header=None,
                               names=range(width), dtype=object, na_filter=False, skip_blank_lines=False,
                               index_col=False, nrows=nrows, engine="c")
        except pd.errors.ParserError as exc:  # a row longer than any in the sample: make room for it
            saw = _SAW_FIELDS.search(str(exc))
            if saw is None:
                raise
            longest = 1 + max(line.count(delimiter) for line in text.replace("\r", "\n").split("\n"))
            width = max(width + 1, int(saw.group(1)), longest)
    raise pd.errors.ParserError("rows of ever more cells")


# --- spreadsheets ----------------------------------------------------------------------------
def _read_workbook(data: bytes, suffix: str, max_rows: int, max_unpacked: int) -> ReadResult:
    sheets = read_sheets(data, suffix, max_rows, max_unpacked)
    if isinstance(sheets, Finding):
        return ReadResult((), (sheets,))
    tables = []
    for name, grid in sheets:
        if (found := find_header(grid)) is not None:
            index, width = found[0], len(grid[found[0]])
            rows = [(n, row) for n, row in enumerate(grid[index + 1 :], start=index + 2) if row.count("") != width]
            tables.append(Table(name, index + 1, tuple(cell_text(c).strip() for c in grid[index]), rows))
    if not tables:
        first = next((g for _, g in sheets if first_text(g)), [])
        return _fail("read.no_header", sheet=sheets[0][0] if len(sheets) == 1 else None,
                     found=first_text(first) or "", search=HEADER_SEARCH_ROWS)
    return ReadResult(tuple(tables), ())


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
    text = cell_text(text)
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

    def __init__(self, columns: Mapping[str, list[Any]] | None = None) -> None:
        self.columns = {name: list((columns or {}).get(name, ())) for name in RECORD_FIELDS}

    def __len__(self) -> int:
        return len(self.columns["row"])

    @overload
    def __getitem__(self, index: int) -> Record: ...

    @overload
    def __getitem__(self, index: slice) -> list[Record]: ...

    def __getitem__(self, index: int | slice) -> Record | list[Record]:
        if isinstance(index, slice):
            return [self[k] for k in range(*index.indices(len(self)))]
        return Record(*(self.columns[name][index] for name in RECORD_FIELDS))

    def __iter__(self) -> Iterator[Record]:
        return map(Record, *self.columns.values())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sequence) and list(self) == list(other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Records({list(self)!r})"

    def replaced(self, **columns: list[Any]) -> Records:
        """The same records with some columns replaced."""
        return Records({**self.columns, **columns})


def _is_empty(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _stripped(cell: object) -> str:
    return cell.strip() if cell.__class__ is str else cell_text(cell).strip()


def _mapped(cells: list[Any], convert: Callable[[Any], Any], distinct: list[Any] | None = None,
            unique: set[Any] | None = None) -> list[Any]:
    """convert(cell) for every cell, computed once per distinct cell (told apart by type too: 1, 1.0, True);
    `distinct` receives the distinct results; `unique` is set(cells) when the caller has it already."""
    if unique is None:
        # A column of one text throughout (unit, office, an empty note) is found by count(), which meets the
        # same object first: cheaper than a set of 100,000 cells. Only texts equal a text, so it is one cell.
        first = cells[0] if cells else None
        unique = {first} if first.__class__ is str and cells.count(first) == len(cells) else set(cells)
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
    text = cell.strip() if cell.__class__ is str else display(cell)
    try:
        return text, parse_period(text if cell.__class__ is str else cell) if text else None
    except PeriodError:
        return text, None


def _table_records(table: Table, cmap: ColumnMap, fallback: str, defer: bool, out: Records) -> list[Finding]:
    """Append the records of one table to `out`; return its problems, row by row as a person reads them."""
    frame = table.rows
    n, width = len(frame), len(table.columns)
    numbers = frame.index.tolist()
    columns = [frame[c].tolist() for c in frame.columns]
    found: list[tuple[int, int, Finding]] = []  # (position, order within the row, problem)

    def cells(name: str) -> list[Any]:
        index = cmap.get(name)
        return columns[index] if index is not None and index < len(columns) else [""] * n

    def report(pos: int, order: int, code: str, column: int | None, text: object, **params: object) -> None:
        name = table.columns[column] if column is not None and column < width else None
        params.update({"letter": letter(column)} if column is not None else {})
        found.append((pos, order, Finding.make(code, row=numbers[pos], column=name, found=text, sheet=table.sheet,
                                               **params)))

    if table.delimiter is not None and len(columns) > width:
        for pos, extra in enumerate(zip(*columns[width:], strict=True)):
            if text := next((c.strip() for c in extra if c.strip()), ""):
                report(pos, 0, "read.extra_cells", None, text, count=width)
    # Each column's distinct cells are taken once: the checks below ask them several times.
    measure_texts: list[Any] = []
    indicator_texts: list[Any] = []
    raw = _mapped(cells("measure"), _stripped, measure_texts)
    indicators = _mapped(cells("indicator"), _stripped, indicator_texts)
    distinct_texts = {"measure": set(measure_texts), "indicator": set(indicator_texts)}
    skipped = set()  # rows of nothing but blanks (a spreadsheet row of spaces)
    if "" in distinct_texts["measure"] and "" in distinct_texts["indicator"]:
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

    def take(column: list[Any]) -> list[Any]:
        return column if isinstance(at, range) else [column[p] for p in at]

    bad_rows = set()
    for name, texts, order in (("measure", raw, 1), ("indicator", indicators, 2)):
        if "" in distinct_texts[name]:
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

    values, flaws = column_values(value_cells, fallback)
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
    add["measure"] += take(_mapped(raw, lambda t: normalize_measure_id(t) or t, unique=distinct_texts["measure"]))
    add["indicator"] += take(indicators)
    add["area"] += take(_mapped(cells("area"), lambda c: None if (t := _stripped(c)).casefold() in WHOLE_CITY else t))
    for name in ("unit", "office", "note"):
        add[name] += take(_mapped(cells(name), lambda c: _stripped(c) or None))
    if periods:  # two maps in C: unzipping by zip(*periods) passes 100,000 arguments
        add["period_text"] += map(itemgetter(0), periods)
        add["period"] += map(itemgetter(1), periods)
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


def _file_style(tables: Sequence[tuple[Table, ColumnMap | list[Finding]]]) -> str:
    """The number style the decisive values of all tables together show ('de', 'en' or ''): a sheet whose
    own values decide nothing takes it (a workbook is one delivery, written in one style)."""
    if len(tables) < 2:
        return ""  # one table: its own values are all the evidence there is
    texts: list[str] = []
    for table, cmap in tables:
        if isinstance(cmap, ColumnMap):
            value_columns = [c for c, _ in cmap.periods] if cmap.layout == "wide" else [cmap.fields["value"]]
            cells = {cell for c in value_columns if c < table.rows.shape[1] for cell in table.rows[c].tolist()}
            texts += [cell for cell in cells if cell.__class__ is str]  # distinct within each table
    counts = style_counts(classify(text)[0] for text in texts)
    return "de" if counts["de"] > counts["en"] else "en" if counts["en"] > counts["de"] else ""


def iter_records(tables: ReadResult | Iterable[Table], *, max_problems: int = 1000,
                 defer_ambiguous: bool = False) -> tuple[Records, list[Finding]]:
    """Long-layout records from every table (both layouts) and every problem found on the way.

    Accepts a ReadResult (its problems come first) or tables. Never stops at the first problem; past
    `max_problems` the rest is summarised in one read.too_many_problems problem. With `defer_ambiguous`,
    values that nothing in the file decides come back in `Record.ambiguous` instead of as a problem (the
    catalogue may still decide them: watchers/validate.py)."""
    with gc_paused():
        problems: list[Finding] = []
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
            problems.append(Finding.make("read.no_rows", found=""))
        if len(problems) > max_problems:
            rest = len(problems) - max_problems
            problems = [*problems[:max_problems], Finding.make("read.too_many_problems", count=rest)]
        return records, problems


def read_records(data: bytes, filename: str, *, defer_ambiguous: bool = False,
                 **limits: int) -> tuple[Records, list[Finding]]:
    """read_table + iter_records in one step; the file may be stored only if problems is empty."""
    with gc_paused():
        return iter_records(read_table(data, filename, **limits), defer_ambiguous=defer_ambiguous)
