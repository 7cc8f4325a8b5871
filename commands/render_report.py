"""Lay out a ReportData as Markdown (tabulate), one self-contained HTML page, or an XLSX workbook."""

from __future__ import annotations

import base64
import html
import io
import re
from datetime import date

from tabulate import tabulate

from . import fmt
from .charts import small_multiples
from .report import Column, ReportData, Section
from .report_sozialindex import figures_html

__all__ = ["MIME", "render", "render_html", "render_markdown", "render_xlsx", "xlsx_safe"]

MIME = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def render(report: ReportData, form: str) -> tuple[bytes, str]:
    """(file content, MIME type) of the report in `form` (md | html | xlsx)."""
    if form == "md":
        return render_markdown(report).encode("utf-8"), MIME["md"]
    if form == "html":
        return render_html(report).encode("utf-8"), MIME["html"]
    if form == "xlsx":
        return render_xlsx(report), MIME["xlsx"]
    raise ValueError(form)


def _text(value: object, kind: str, lang: str) -> str:
    """A cell as reading text: German numbers and dates, signed changes, '' for nothing."""
    if value is None:
        return ""
    if kind == "date" and isinstance(value, date):
        return fmt.day(value, lang)
    if kind in ("number", "change") and isinstance(value, int | float):
        text = fmt.number(value, lang)
        return f"+{text}" if kind == "change" and value > 0 else text.replace("-", "−", 1)
    return " ".join(str(value).split())


# ---------------------------------------------------------------- Markdown
_MD_SPECIAL = re.compile(r"([\\`*_|<>\[\]])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_table(section: Section, lang: str) -> str:
    table = section.table
    assert table is not None
    kinds = [c.kind for c in table.columns]
    rows = []
    for row in table.rows:
        cells = []
        for value, kind in zip(row, kinds, strict=True):
            text = _md(_text(value, kind, lang))
            cells.append(f"*{text}*" if kind == "italic" and text else text)
        rows.append(cells)
    align = ["right" if k in ("number", "change") else "left" for k in kinds]
    return tabulate(rows, headers=[_md(c.title) for c in table.columns], tablefmt="pipe", disable_numparse=True,
                    colalign=align)


def render_markdown(report: ReportData) -> str:
    out = [f"# {_md(report.title)}", "", _md(report.stand), ""]
    out += [p for para in report.intro for p in (_md(para), "")]
    out += [f"*{_md(report.legend)}*", ""]
    for section in report.sections:
        if section.html_only:
            continue
        out += [f"## {_md(section.heading)}", ""]
        for para in section.before:
            out += [_md(para), ""]
        if section.table is not None and section.table.rows:
            out += [_md_table(section, report.lang), ""]
        elif section.empty:
            out += [_md(section.empty), ""]
        for para in section.after:
            out += [_md(para), ""]
    out.append(f"---\n\n{_md(report.footer)}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- HTML
_CSS = """
@page { size: A4; margin: 18mm 15mm 18mm 15mm; }
* { box-sizing: border-box; }
body { font-family: "Segoe UI", Arial, Helvetica, sans-serif; font-size: 10pt; line-height: 1.4; color: #111;
       max-width: 190mm; margin: 0 auto; padding: 8mm 0; }
h1 { font-size: 15pt; margin: 0 0 4pt; }
h2 { font-size: 12.5pt; margin: 16pt 0 5pt; border-bottom: 1px solid #999; padding-bottom: 2pt; }
p { margin: 4pt 0; }
.stand { font-weight: bold; }
.note { font-weight: bold; }
table { border-collapse: collapse; width: 100%; margin: 5pt 0 8pt; font-size: 8.5pt; }
th, td { border: 1px solid #888; padding: 2.5pt 4pt; vertical-align: top; text-align: left; }
th { background: #e8e8e8; }
table.wide { font-size: 7pt; }
table.wide th, table.wide td { padding: 2pt 2.5pt; }
td.num { text-align: right; white-space: nowrap; }
td.date { white-space: nowrap; }
td.italic { font-style: italic; }
figure { margin: 8pt 0 12pt; }
figure img { max-width: 100%; height: auto; }
figcaption { font-size: 8.5pt; color: #333; }
footer { margin-top: 16pt; font-size: 8pt; color: #555; }
@media print {
  body { padding: 0; max-width: none; }
  h2 { break-after: avoid; page-break-after: avoid; }
  thead { display: table-header-group; }
  tr, figure, img { break-inside: avoid; page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""

_CLASS = {"number": "num", "change": "num", "date": "date", "italic": "italic"}


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _html_table(section: Section, lang: str) -> list[str]:
    table = section.table
    assert table is not None
    cols: tuple[Column, ...] = table.columns
    # Many columns (the indicator table) must still fit the A4 text width: a smaller type then.
    opening = '<table class="wide">' if len(cols) > 8 else "<table>"
    out = [opening, "<thead><tr>" + "".join(f"<th>{_e(c.title)}</th>" for c in cols) + "</tr></thead>", "<tbody>"]
    classes = [f' class="{_CLASS[c.kind]}"' if c.kind in _CLASS else "" for c in cols]
    kinds = [c.kind for c in cols]
    for row in table.rows:
        cells = []
        for value, kind, cls in zip(row, kinds, classes, strict=True):
            text = _e(_text(value, kind, lang))
            cells.append(f"<td{cls}><em>{text}</em></td>" if kind == "italic" and text else f"<td{cls}>{text}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return out


_FULL_CHART_PX = 891  # small_multiples: three panels of 3.3 in at 90 dpi


def _png_width(png: bytes) -> int:
    """Pixel width from the PNG header (IHDR), without decoding the image."""
    return int.from_bytes(png[16:20], "big")


def _charts_html(report: ReportData) -> list[str]:
    out = []
    words = report.chart_words
    assert words is not None
    for group in report.charts:
        png = small_multiples(group.panels, words, title=group.title, lang=report.lang)
        uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        # Every chart at the same scale: a one-panel chart is not blown up to the width of a three-panel one.
        share = min(100, round(100 * _png_width(png) / _FULL_CHART_PX))
        out.append(f'<figure><img src="{uri}" alt="{_e(group.title)}" style="width: {share}%">')
        if group.more:
            out.append(f"<figcaption>{_e(group.more)}</figcaption>")
        out.append("</figure>")
    return out


def render_html(report: ReportData) -> str:
    """One self-contained page: inline CSS, charts as PNG data URIs, printable on A4."""
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{_e(report.lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(report.title)}</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        f"<h1>{_e(report.title)}</h1>",
        f'<p class="stand">{_e(report.stand)}</p>',
        *(f"<p>{_e(p)}</p>" for p in report.intro),
        f'<p class="legend"><em>{_e(report.legend)}</em></p>',
    ]
    for section in report.sections:
        out.append(f'<section id="{_e(section.key)}">')
        out.append(f"<h2>{_e(section.heading)}</h2>")
        for para in section.before:
            out.append(f"<p>{_e(para)}</p>")
        if section.key == "charts":
            out += _charts_html(report)
        out += figures_html(section)  # social index hook: charts a section carries (report_sozialindex.py)
        if section.table is not None and section.table.rows:
            out += _html_table(section, report.lang)
        elif section.empty:
            out.append(f"<p>{_e(section.empty)}</p>")
        for para in section.after:
            out.append(f'<p class="note">{_e(para)}</p>')
        out.append("</section>")
    out += [f"<footer>{_e(report.footer)}</footer>", "</body>", "</html>"]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- XLSX
_INJECTION = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xlsx_safe(text: str) -> tuple[str, bool]:
    """(text without characters XML cannot hold, whether it must be forced to text against formula injection)."""
    text = _ILLEGAL.sub("", text)
    return text, text.startswith(_INJECTION)


def _number_format(kind: str, value: object) -> str:
    # Whole numbers without a decimal separator: Excel prints "38." for 38 under "#,##0.##".
    if kind == "date":
        return "DD.MM.YYYY"
    if kind not in ("number", "change") or not isinstance(value, int | float):
        return ""
    whole = float(value).is_integer()
    if kind == "number":
        return "#,##0" if whole else "#,##0.0###"
    return "+#,##0;-#,##0;0" if whole else "+#,##0.0###;-#,##0.0###;0"


def render_xlsx(report: ReportData) -> bytes:
    """One sheet per section; header row frozen, column widths set, every text cell written as text."""
    from copy import copy

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    wb.properties.title = report.title
    wb.properties.creator = "Sozialmonitor"
    fonts = {"bold": Font(bold=True), "italic": Font(italic=True)}
    aligns = {"wrap": Alignment(wrap_text=True, vertical="top"), "top": Alignment(vertical="top")}
    # Setting font/alignment on a cell hashes the style objects every time (most of the time for 10^5 cells):
    # style one prototype per combination and copy its style array instead.
    prototypes: dict[tuple[str, str, str, bool], WriteOnlyCell] = {}

    def style_of(ws, font: str, align: str, number_format: str, quote: bool) -> object:
        key = (font, align, number_format, quote)
        proto = prototypes.get(key)
        if proto is None:
            proto = prototypes[key] = WriteOnlyCell(ws)
            if font:
                proto.font = fonts[font]
            if align:
                proto.alignment = aligns[align]
            if number_format:
                proto.number_format = number_format
            if quote:
                proto.quotePrefix = True
        return proto._style

    def cell(ws, value: object, kind: str = "text", font: str = "", align: str = "top") -> WriteOnlyCell:
        forced = False
        if isinstance(value, str):
            value, forced = xlsx_safe(value)
        c = WriteOnlyCell(ws, value=value)
        if forced:
            # openpyxl would store '=…' as a formula; a delivered note or title must stay inert text.
            c.data_type = "s"
        c._style = copy(style_of(ws, font, align, _number_format(kind, value), forced))
        return c

    for section in report.sections:
        if section.html_only or section.table is None:
            continue
        ws = wb.create_sheet(section.sheet[:31])
        cols = section.table.columns
        for k, col in enumerate(cols, 1):
            ws.column_dimensions[get_column_letter(k)].width = col.width
        ws.freeze_panes = "A2"
        ws.append([cell(ws, c.title, font="bold", align="wrap") for c in cols])
        specs = [(c.kind, "italic" if c.kind == "italic" else "", "wrap" if c.width >= 40 else "top") for c in cols]
        for row in section.table.rows:
            ws.append([cell(ws, v, kind, font, align) for v, (kind, font, align) in zip(row, specs, strict=True)])
        notes = [*section.after, *(() if section.table.rows else (section.empty,))]
        if notes:
            ws.append([])
            for note in notes:
                if note:
                    ws.append([cell(ws, note, font="bold", align="")])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
