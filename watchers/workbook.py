"""Workbooks (.xlsx/.xlsm/.ods) as grids of cells, read by python-calamine once their zip container has
passed its checks: sizes, compression ratios, and the grid each sheet would unfold to (neither engine
limits what it unpacks or allocates)."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from python_calamine import CalamineWorkbook, SheetTypeEnum

from .findings import Finding, letter

__all__ = ["MAX_CELLS", "MAX_MEMBERS", "MAX_RATIO", "check_container", "ods_extent", "read_sheets", "xlsx_extent"]

MAX_CELLS = 10_000_000  # dense grid one sheet may unfold to (calamine allocates rows x columns)
MAX_RATIO = 200  # compression ratio allowed for zip members above 1 MiB
MAX_MEMBERS = 10_000
_MIB = 2**20

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


def xlsx_extent(xml: bytes) -> tuple[int, int]:
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


def _ods_walk(xml: bytes) -> tuple[int, int]:
    """(rows, columns) of the largest table up to its last non-empty cell, repeats unfolded: every
    table/row/cell tag is visited (any namespace prefix). Used for unusual files and single rows."""
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


_ODS_ROW_OPEN = (b"<table:table-row ", b"<table:table-row>")
_ODS_EMPTY_CELL = re.compile(rb'<table:table-cell(?: table:style-name="[^"]*")?'
                             rb' table:number-columns-repeated="\d+"(?: table:style-name="[^"]*")?/>')


def ods_extent(xml: bytes) -> tuple[int, int]:
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


def check_container(data: bytes, suffix: str, max_unpacked: int) -> Finding | None:
    """None for a sound workbook container, else the problem.

    Declared sizes and ratios are checked before anything is unpacked; then every member is unpacked
    once by zipfile, which stops at the declared size and checks the CRC, so a member that lies about
    its size is caught too. Worksheets are measured so that calamine's dense grid stays below MAX_CELLS
    (a tiny file with cells in A1 and XFD1048576 would otherwise abort the process out of memory)."""
    if not data.startswith(b"PK"):
        return Finding.make("read.not_spreadsheet", found=suffix)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError) as exc:
        return Finding.make("read.damaged", found=suffix, detail=str(exc)[:200])
    total = sum(i.file_size for i in infos)
    packed = max(1, sum(i.compress_size for i in infos))
    if len(infos) > MAX_MEMBERS or total > max_unpacked or any(
            i.file_size > _MIB and i.file_size > MAX_RATIO * max(1, i.compress_size) for i in infos):
        return Finding.make("read.too_large", found=f"{total / _MIB:.0f} MB", limit_mb=max_unpacked // _MIB,
                            size_mb=f"{total / _MIB:.0f}", ratio=f"{total // packed}")
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names and "content.xml" not in names:
        return Finding.make("read.not_spreadsheet", found=suffix)
    ods = "xl/workbook.xml" not in names
    try:
        for info in infos:
            if info.flag_bits & 0x1:
                return Finding.make("read.old_excel", found=suffix)
            if not ods or info.filename == "content.xml":
                # Any member may be a worksheet (the workbook's relations name them): each is measured.
                xml = archive.read(info)
                if ods or b"sheetData" in xml:
                    rows, cols = ods_extent(xml) if ods else xlsx_extent(xml)
                    if rows * cols > MAX_CELLS:
                        return Finding.make("read.too_many_cells", found=f"{rows} × {cols}", rows=rows,
                                            cols=letter(max(cols - 1, 0)), limit=MAX_CELLS)
                continue
            with archive.open(info) as member:
                while member.read(4 * _MIB):
                    pass
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, NotImplementedError, RuntimeError) as exc:
        return Finding.make("read.damaged", found=suffix, detail=str(exc)[:200])
    return None


def read_sheets(data: bytes, suffix: str, max_rows: int,
                max_unpacked: int) -> list[tuple[str, list[list[Any]]]] | Finding:
    """(name, rows of cells) of every worksheet ("" for an empty cell), or the problem with the file."""
    problem = check_container(data, suffix, max_unpacked)
    if problem is not None:
        return problem
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = []
        for meta in workbook.sheets_metadata:
            if meta.typ == SheetTypeEnum.WorkSheet:
                grid = workbook.get_sheet_by_name(meta.name).to_python(skip_empty_area=False, nrows=max_rows + 1)
                if len(grid) > max_rows:
                    return Finding.make("read.too_many_rows", sheet=meta.name, found=f"> {max_rows}", limit=max_rows)
                sheets.append((meta.name, grid))
        return sheets
    except BaseException as exc:  # calamine errors, and pyo3 panics (which are BaseExceptions)
        if isinstance(exc, KeyboardInterrupt | SystemExit | GeneratorExit):
            raise
        return Finding.make("read.damaged", found=suffix, detail=f"{type(exc).__name__}: {exc}"[:200])
