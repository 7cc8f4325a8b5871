"""The social index as a table for the city's GIS: CSV in the German Excel dialect, or an XLSX workbook.

One row per district, keyed by its name as the catalogue and the deliveries write it. CSV: `;`, decimal comma,
no thousands separator, UTF-8 with BOM, CRLF. Every text cell that a spreadsheet would read as a formula
(starting with = + - @, tab or CR) is written as inert text.
"""

from __future__ import annotations

import csv
import io
import re

from storage.sozialindex import IndexResult, cell_code

from .sozialindex import class_label, delivery_files, indicator_name, unrated_reason
from .state import State

__all__ = ["MIME", "export_csv", "export_rows", "export_xlsx", "safe_text"]

MIME = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_INJECTION = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

Cell = str | float | int | None


def safe_text(text: str) -> tuple[str, bool]:
    """(text without characters a workbook cannot hold, whether it must be kept from being read as a formula)."""
    text = _ILLEGAL.sub("", text)
    return text, text.startswith(_INJECTION)


def _rating(state: State, d) -> str:
    if not d.rated:
        return state.t("si.rated_no")
    return state.t("si.rated_yes") if d.dynamics_class else state.t("si.rated_status_only")


def export_rows(state: State, result: IndexResult) -> tuple[list[tuple[str, str]], list[list[Cell]]]:
    """(columns as (title, kind), rows); kind: text | int | index | value."""
    t = state.t
    year, before = result.year, result.comparison_year
    columns = [(t("si.col.area"), "text"), (t("si.col.year"), "int"), (t("si.col.before"), "int"),
               (t("si.col.status_index"), "index"), (t("si.col.status_class"), "text"),
               (t("si.col.status_group"), "int"), (t("si.col.dynamics_index"), "index"),
               (t("si.col.dynamics_class"), "text"), (t("si.col.dynamics_group"), "int"),
               (t("si.col.cell"), "text"), (t("si.col.rated"), "text"), (t("si.col.reason"), "text")]
    for ind in result.config.indicators:
        columns += [(t("si.col.value", id=ind, year=year), "value"), (t("si.col.value", id=ind, year=before), "value"),
                    (t("si.col.change", id=ind), "value"), (t("si.col.z_status", id=ind), "index"),
                    (t("si.col.z_dynamics", id=ind), "index")]
    rows: list[list[Cell]] = []
    for d in result.districts:
        reasons = []
        if not d.rated:
            reasons.append(unrated_reason(state, result, d))
        elif d.dynamics_class is None:
            reasons.append(unrated_reason(state, result, d, dynamics=True))
        row: list[Cell] = [
            d.area, year, before, d.status_index,
            class_label(state, d.status_class) if d.status_class else "", d.status_group, d.dynamics_index,
            class_label(state, d.dynamics_class) if d.dynamics_class else "", d.dynamics_group,
            cell_code(d.status_class, d.dynamics_class), _rating(state, d), "; ".join(reasons)]
        for s in d.scores:
            row += [s.value, s.previous, s.change, s.status_z, s.dynamics_z]
        rows.append(row)
    return columns, rows


def _csv_number(value: float | int) -> str:
    if isinstance(value, int):
        return str(value)
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text.replace(".", ",")


def export_csv(state: State, result: IndexResult) -> bytes:
    columns, rows = export_rows(state, result)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n")

    def cell(value: Cell) -> str:
        if value is None:
            return ""
        if isinstance(value, int | float):
            return _csv_number(value)
        text, forced = safe_text(value)
        # A leading apostrophe is what Excel itself writes to keep a text from being a formula.
        return "'" + text if forced else text

    writer.writerow([cell(title) for title, _ in columns])
    for row in rows:
        writer.writerow([cell(v) for v in row])
    # The BOM makes Excel read UTF-8 (umlauts in district names) instead of the Windows code page.
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


_FORMATS = {"index": "0.00", "value": "#,##0.0##", "int": "0", "spread": "0.0000"}


def export_xlsx(state: State, result: IndexResult) -> bytes:
    """Sheet "Sozialindex": one row per district; sheet "Grundlagen": method, spreads and the deliveries."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    t = state.t
    columns, rows = export_rows(state, result)
    wb = Workbook()
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook's one sheet
    ws.title = t("si.sheet")[:31]
    wb.properties.title = t("si.export_title", year=result.year)
    wb.properties.creator = "Sozialmonitor"
    bold = Font(bold=True)

    def put(sheet, r: int, c: int, value: Cell, kind: str = "text", *, font: Font | None = None) -> None:
        cell = sheet.cell(row=r, column=c)
        if isinstance(value, str):
            text, forced = safe_text(value)
            cell.value = text
            if forced:
                # openpyxl would store "=…" as a formula; a district name from a file must stay text.
                cell.data_type = "s"
                cell.quotePrefix = True
        else:
            cell.value = value
            if value is not None and kind in _FORMATS:
                cell.number_format = _FORMATS[kind]
        if font is not None:
            cell.font = font

    for c, (title, _) in enumerate(columns, 1):
        put(ws, 1, c, title, font=bold)
        ws.cell(row=1, column=c).alignment = Alignment(wrap_text=True, vertical="top")
        ws.column_dimensions[get_column_letter(c)].width = 24 if c == 1 else 44 if c == 12 else 14
    ws.freeze_panes = "B2"
    for r, row in enumerate(rows, 2):
        for c, (value, (_, kind)) in enumerate(zip(row, columns, strict=True), 1):
            put(ws, r, c, value, kind)

    info = wb.create_sheet(t("si.sheet_basis")[:31])
    info.column_dimensions["A"].width = 34
    info.column_dimensions["B"].width = 50
    for letter in "CDEFGH":
        info.column_dimensions[letter].width = 16
    config = result.config
    lines: list[list[Cell]] = [
        [t("si.basis.method")],
        [t("si.col.year"), result.year], [t("si.col.before"), result.comparison_year],
        [t("si.basis.sd")],
        [t("si.basis.status_limits"), *config.status_limits],
        [t("si.basis.dynamics_limits"), *config.dynamics_limits],
        [],
        [t("si.basis.indicator"), t("si.basis.name"), t("si.basis.reversed"), t("si.basis.status_mean"),
         t("si.basis.status_sd"), t("si.basis.dynamics_mean"), t("si.basis.dynamics_sd"), t("si.basis.n")],
    ]
    status = {s.name: s for s in result.status_spreads}
    dynamics = {s.name: s for s in result.dynamics_spreads}

    def spread(name: str) -> list[Cell]:
        s, d = status.get(name), dynamics.get(name)
        return [s.mean if s else None, s.sd if s else None, d.mean if d else None, d.sd if d else None,
                s.n if s else d.n if d else None]

    for ind in config.indicators:
        lines.append([ind, indicator_name(state, ind), t("si.basis.yes") if ind in config.reversed else "",
                      *spread(ind)])
    lines.append([t("si.basis.sum"), "", "", *spread("")])
    lines += [[], [t("si.basis.deliveries")]]
    by_id = {d.id: d for d in state.store.deliveries()}
    for did, name in zip(result.deliveries, delivery_files(state, result), strict=True):
        d = by_id.get(did)
        lines.append([did, name, d.office if d else "", d.received.strftime("%d.%m.%Y %H:%M") if d else ""])
    lines += [[], [t("si.basis.fingerprint"), result.fingerprint]]
    for r, line in enumerate(lines, 1):
        for c, value in enumerate(line, 1):
            put(info, r, c, value, "spread" if isinstance(value, float) else "text",
                font=bold if c == 1 and len(line) == 1 else None)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
