"""Lay out a ReportData as Markdown (tabulate), one self-contained HTML page (Jinja2), PDF (WeasyPrint from that
HTML) or an XLSX workbook (XlsxWriter). Each format imports only what it needs, matplotlib only for charts."""

from __future__ import annotations

import base64
import io
import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from importlib import resources
from typing import Any

from . import fmt
from .charts import DrawingAhead, FigureStore, Panel, needs_legend, small_multiples_many
from .report import ChartGroup, Column, ReportData, Table
from .report_sozialindex import figures_html

__all__ = ["MIME", "PdfUnavailable", "chart_layout", "pipe_table", "render", "render_html", "render_markdown",
           "render_pdf", "render_xlsx", "xlsx_safe"]

MIME = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

# Charts in the report: panels 2.33 in wide (three across the 178 mm text width of A4), drawn at 200 dpi so that
# print and zoom stay sharp.
CHART_COLUMNS, CHART_WIDTH, CHART_PANEL_HEIGHT, CHART_DPI = 3, 7.0, 1.65, 200
PDF_VARIANT = "pdf/a-2a"  # archivable (PDF/A-2) and tagged for screen readers ("a"), as council systems ask


class PdfUnavailable(RuntimeError):
    """WeasyPrint or its system libraries are missing; `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def render(report: ReportData, form: str, *, kept: FigureStore | None = None,
           ahead: DrawingAhead | None = None) -> tuple[bytes, str]:
    """(file content, MIME type) of the report in `form` (md | html | pdf | xlsx); `kept`: the figures drawn for
    earlier reports (see charts.FigureStore); `ahead`: the process to draw the others (charts.drawing_ahead)."""
    if form == "md":
        return render_markdown(report).encode("utf-8"), MIME["md"]
    if form == "html":
        return render_html(report, kept=kept, ahead=ahead).encode("utf-8"), MIME["html"]
    if form == "pdf":
        return render_pdf(report, kept=kept, ahead=ahead), MIME["pdf"]
    if form == "xlsx":
        return render_xlsx(report), MIME["xlsx"]
    raise ValueError(form)


def _text(value: object, kind: str, lang: str) -> str:
    """A cell as reading text: German numbers and dates, signed changes, '' for nothing."""
    if value is None:
        return ""
    if kind in ("date", "datetime") and isinstance(value, datetime):
        return f"{fmt.day(value.date(), lang)}, {fmt.clock(value.time())}" + (" Uhr" if lang == "de" else "")
    if kind in ("date", "datetime") and isinstance(value, date):
        return fmt.day(value, lang)
    if kind in ("number", "change") and isinstance(value, int | float):
        text = fmt.number(value, lang)
        return f"+{text}" if kind == "change" and value > 0 else text.replace("-", "−", 1)
    return " ".join(str(value).split())


def _visible(table: Table, lang: str) -> Table:
    """The table without its optional columns that are empty in every row (no 'bis' column of blanks)."""
    keep = [k for k, c in enumerate(table.columns)
            if not c.optional or any(_text(row[k], c.kind, lang) for row in table.rows)]
    if len(keep) == len(table.columns):
        return table
    return Table(tuple(table.columns[k] for k in keep), tuple(tuple(row[k] for k in keep) for row in table.rows))


# ---------------------------------------------------------------- Markdown
_MD_SPECIAL = re.compile(r"([\\`*_|<>\[\]])")


def _md(text: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_table(table: Table, lang: str) -> str:
    kinds = [c.kind for c in table.columns]
    # Thousands of rows repeat a few offices, measures, names, periods and dates: each cell text is made once.
    # The value's type is part of the key: 1 and 1.0 and True are equal keys but may read differently.
    done: dict[tuple[object, type, str], str] = {}
    rows = []
    for row in table.rows:
        cells = []
        for value, kind in zip(row, kinds, strict=True):
            key = (value, type(value), kind)
            text = done.get(key)
            if text is None:
                text = _md(_text(value, kind, lang))
                text = done[key] = f"*{text}*" if kind == "italic" and text else text
            cells.append(text)
        rows.append(cells)
    align = ["right" if k in ("number", "change") else "left" for k in kinds]
    return pipe_table([_md(c.title) for c in table.columns], rows, align)


def pipe_table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: Sequence[str]) -> str:
    """tabulate's pipe table of text cells (no number parsing), with its body padded here.

    tabulate lays out the header, the alignment rule and the column widths from the header and the widest cell
    of each column; the rows are padded to those widths, as tabulate pads them. tabulate's per-cell type
    detection took most of the Markdown report's time at 8,000 rows."""
    from tabulate import tabulate  # only Markdown needs it (its import reads package metadata: 50 ms)

    widest = [max((row[k] for row in rows), key=len, default="") for k in range(len(headers))]
    head, rule, _widest = tabulate([widest], headers=list(headers), tablefmt="pipe", disable_numparse=True,
                                  colalign=list(align)).split("\n")
    widths = [len(segment) - 2 for segment in rule[1:-1].split("|")]
    pads = [str.rjust if a == "right" else str.ljust for a in align]
    body = ["| " + " | ".join(pad(cell, width) for cell, pad, width in zip(row, pads, widths, strict=True)) + " |"
            for row in rows]
    return "\n".join([head, rule, *body])


def render_markdown(report: ReportData) -> str:
    out = [f"# {_md(report.title)}", "", f"**{_md(report.stand)}**", ""]
    out += [p for para in report.intro for p in (_md(para), "")]
    for section in report.sections:
        if "md" not in section.formats:
            continue
        out += [f"## {_md(section.heading)}", ""]
        for para in section.before:
            out += [f"*{_md(para)}*" if para == report.legend else _md(para), ""]
        if section.table is not None and section.table.rows:
            table = section.table
            if section.key == "summary":
                # The field is the group heading of the first page; in Markdown it stays a column.
                table = Table(tuple(c for k, c in enumerate(table.columns) if k != 4),
                              tuple(tuple(v for k, v in enumerate(r) if k != 4) for r in table.rows))
            out += [_md_table(_visible(table, report.lang), report.lang), ""]
        elif section.empty:
            out += [_md(section.empty), ""]
        for para in section.after:
            out += [_md(para), ""]
    out.append(f"---\n\n{_md(report.footer)}")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------- HTML (Jinja2)
_CLASS = {"number": "num", "change": "num", "date": "date", "datetime": "date", "italic": "italic", "trend": "trend"}


@dataclass(frozen=True)
class _Cell:
    text: str
    cls: str
    italic: bool
    span: int = 1


@dataclass(frozen=True)
class _HtmlTable:
    columns: tuple[Column, ...]
    rows: tuple[tuple[_Cell, ...], ...]
    cls: str


@dataclass(frozen=True)
class _Figure:
    uri: str
    alt: str
    width_mm: float
    caption: str


def _html_table(table: Table, lang: str, key: str) -> _HtmlTable:
    kinds = [c.kind for c in table.columns]
    classes = [_CLASS.get(k, "") for k in kinds]
    # A number column may hold a text (the range over the areas): that one wraps like text.
    rows = tuple(_widened(tuple(_Cell(_text(v, kind, lang), "range" if cls == "num" and isinstance(v, str) else cls,
                                      kind == "italic")
                                for v, kind, cls in zip(row, kinds, classes, strict=True)), table.columns)
                 for row in table.rows)
    # Many columns must still fit the A4 text width: a smaller type then.
    cls = f"t-{key}" + (" wide" if len(table.columns) > 7 else "")
    return _HtmlTable(table.columns, rows, cls)


def _widened(cells: tuple[_Cell, ...], columns: Sequence[Column]) -> tuple[_Cell, ...]:
    """The row with each non-empty cell of a widening column spanning the empty cells on its side: first those
    that widen to the right, then those that widen to the left over what is still empty."""
    spans = [1] * len(cells)
    taken = [False] * len(cells)
    for side in ("right", "left"):
        for k, column in enumerate(columns):
            if column.widens != side or not cells[k].text:
                continue
            step = 1 if side == "right" else -1
            j = k + step
            while 0 < j < len(cells) and not cells[j].text and not taken[j]:
                taken[j] = True
                spans[k] += 1
                j += step
    return tuple(cell if spans[k] == 1 else _Cell(cell.text, "", cell.italic, spans[k])
                 for k, cell in enumerate(cells) if not taken[k])


def _png_width(png: bytes) -> int:
    """Pixel width from the PNG header (IHDR), without decoding the image."""
    return int.from_bytes(png[16:20], "big")


def chart_layout(groups: Sequence[ChartGroup]) -> list[tuple[ChartGroup, tuple[Panel, ...], int, bool, bool]]:
    """The groups' panels laid into rows of CHART_COLUMNS slots: (group, panels, slots, first, last) per figure.

    A group that fits the slots left in a row stands beside the one before; a group longer than a row fills the
    row's rest when at least two slots are left, and goes on in the next row (titled as continued) - M 31's one
    panel and M 33's five then take two rows, not three. A panel with a legend needs two slots.
    """
    out: list[tuple[ChartGroup, tuple[Panel, ...], int, bool, bool]] = []
    free = CHART_COLUMNS

    def slots(panels: Sequence[Panel]) -> int:
        return max(len(panels), 2) if any(needs_legend(p) for p in panels) else len(panels)

    for group in groups:
        rest = list(group.panels)
        first = True
        while rest:
            if slots(rest) <= free:
                take = len(rest)
            elif len(rest) > CHART_COLUMNS and free >= 2 and slots(rest[:free]) <= free:
                take = free
            elif free < CHART_COLUMNS:
                free = CHART_COLUMNS  # a new row
                continue
            else:
                take = min(len(rest), CHART_COLUMNS)
                while take > 1 and slots(rest[:take]) > CHART_COLUMNS:
                    take -= 1
            chunk, rest = tuple(rest[:take]), rest[take:]
            used = min(slots(chunk), CHART_COLUMNS)
            out.append((group, chunk, used, first, not rest))
            first = False
            free -= used
            if free <= 0:
                free = CHART_COLUMNS
    return out


def _figures(report: ReportData, kept: FigureStore | None = None, ahead: DrawingAhead | None = None) -> list[_Figure]:
    words = report.chart_words
    if words is None:
        return []
    laid = [(group, panels, used, group.title if first or not group.continued else group.continued, last)
            for group, panels, used, first, last in chart_layout(report.charts)]
    pngs = small_multiples_many([(panels, words, _chart_options(title, report.lang, len(panels), used))
                                 for _, panels, used, title, _ in laid], kept=kept, ahead=ahead)
    out: list[_Figure] = []
    for (group, panels, _, title, last), png in zip(laid, pngs, strict=True):
        uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        # Every chart at the same scale: pixels / dpi = inches on paper.
        width_mm = round(_png_width(png) / CHART_DPI * 25.4, 1)
        alt = f"{title}: " + "; ".join(_describe(p, report.lang) for p in panels)
        out.append(_Figure(uri, alt, width_mm, group.more if last else ""))
    return out


def _chart_options(title: str, lang: str, panels: int, slots: int) -> dict[str, Any]:
    """The options of a figure of `panels` panels in `slots` of a row (charts.small_multiples)."""
    return {"title": title, "lang": lang, "columns": panels, "width": CHART_WIDTH * slots / CHART_COLUMNS,
            "panel_height": CHART_PANEL_HEIGHT, "dpi": CHART_DPI, "small": True}


def drawing_ahead() -> DrawingAhead | None:
    """`charts.drawing_ahead` for a report's charts, warmed up with a figure of the shape most of them have
    (a full row of panels, a line each and a band of many areas)."""
    from .charts import ChartWords, Line
    from .charts import drawing_ahead as start

    words = ChartWords("in {unit}", "{unit}", "{n}", "-", "-", "-")
    periods = tuple(f"{year}-Q{q}" for year in (2017, 2018) for q in (1, 2, 3, 4))
    lines = tuple(Line(f"{k}", tuple(float(k + p) for p in range(len(periods)))) for k in range(12))
    panels = [Panel(f"{k}", "Anzahl", periods, lines if k else lines[:1]) for k in range(CHART_COLUMNS)]
    return start([(panels, words, _chart_options("-", "de", CHART_COLUMNS, CHART_COLUMNS))])


def _describe(panel: Panel, lang: str) -> str:
    """The alternative text of a panel: title, unit and the time span it covers."""
    labels = panel.labels(lang)
    span = labels[0] if len(labels) == 1 else f"{labels[0]} – {labels[-1]}"
    return f"{panel.title} ({panel.unit or '–'}, {span})"


def _css_string(text: str) -> Any:
    """A CSS string literal for generated page-margin content, safe inside <style> (no '<', no quote breaks)."""
    from markupsafe import Markup

    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ").replace("<", "\\3C ")
    return Markup('"' + body + '"')


@cache
def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined

    env = Environment(loader=PackageLoader("commands", "templates"), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["css_string"] = _css_string
    env.globals["section_figures"] = _section_figures
    return env


def _section_figures(section: Any, screen_only: bool = False) -> Any:
    """The charts a section carries (the social index), as markup built with escaped alt texts and captions."""
    from markupsafe import Markup

    return Markup("\n".join(figures_html(section, screen_only=screen_only)))


@cache
def _stylesheet() -> str:
    return resources.files("commands").joinpath("templates/report.css").read_text(encoding="utf-8")


def render_html(report: ReportData, *, screen: bool = True, kept: FigureStore | None = None,
                ahead: DrawingAhead | None = None) -> str:
    """One self-contained page: inline CSS, charts as PNG data URIs, printable on A4 (page numbers in the margin).

    The charts for the screen alone are left out of print by the stylesheet, and out of the page with
    `screen=False` (the PDF's)."""
    from markupsafe import Markup

    sections = []
    for section in report.sections:
        if "html" not in section.formats:
            continue
        table = (_html_table(_visible(section.table, report.lang), report.lang, section.key)
                 if section.table is not None else None)
        sections.append((section, table))
    # The stylesheet is our own file, not user data: it goes in verbatim.
    return _environment().get_template("report.html.j2").render(
        report=report, sections=sections, summary=report.summary,
        figures=_figures(report, kept, ahead) if any(s.key == "charts" for s, _ in sections) else [],
        css=Markup(_stylesheet()), day_iso=report.today.isoformat(), screen=screen)


# ---------------------------------------------------------------- PDF (WeasyPrint)
_PDF_LOCK = threading.Lock()  # Pango and fontconfig are not made for layouts in two threads at once


def render_pdf(report: ReportData, *, kept: FigureStore | None = None, ahead: DrawingAhead | None = None) -> bytes:
    """The HTML laid out on A4 by WeasyPrint: page numbers, date and "Stand" in the footer, table heads repeated
    on every page, no table row split across pages, as PDF/A-2a (archivable, tagged)."""
    page = render_html(report, screen=False, kept=kept, ahead=ahead)
    try:
        from weasyprint import HTML
    except (ImportError, OSError) as exc:  # OSError: the Pango library is missing
        raise PdfUnavailable(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    with _PDF_LOCK:
        return HTML(string=page).write_pdf(custom_metadata=True, **_pdf_variant())


def _pdf_variant() -> dict[str, Any]:
    """PDF/A options, with the sRGB output intent read by us: WeasyPrint's own loading of it leaves the profile
    file open (a ResourceWarning on every PDF)."""
    try:
        from weasyprint.css import ColorProfile
    except ImportError:  # a WeasyPrint without that class loads the profile itself
        return {"pdf_variant": PDF_VARIANT}
    with resources.files("weasyprint.pdf").joinpath("sRGB2014.icc").open("rb") as fh:
        profile = ColorProfile(fh, "sRGB2014.icc", "relative-colorimetric", (["r"], ["g"], ["b"]))
    return {"pdf_variant": PDF_VARIANT, "output_intent": "srgb-iec61966", "color_profiles": {"srgb-iec61966": profile}}


# ---------------------------------------------------------------- XLSX
_INJECTION = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def xlsx_safe(text: str) -> tuple[str, bool]:
    """(text without characters XML cannot hold, whether it must be forced to text against formula injection)."""
    text = _ILLEGAL.sub("", text)
    return text, text.startswith(_INJECTION)


def _number_format(kind: str, value: object) -> str:
    # Whole numbers without a decimal separator: Excel prints "38." for 38 under "#,##0.##".
    if kind == "datetime" and isinstance(value, datetime):
        return "DD.MM.YYYY HH:MM"
    if kind in ("date", "datetime"):
        return "DD.MM.YYYY"
    if kind not in ("number", "change") or not isinstance(value, int | float):
        return ""
    whole = float(value).is_integer()
    if kind == "number":
        return "#,##0" if whole else "#,##0.0###"
    return "+#,##0;-#,##0;0" if whole else "+#,##0.0###;-#,##0.0###;0"


WRAP_FROM = 20  # columns at least this wide wrap their text; narrower ones are dates, numbers, codes
LINE_POINTS = 15  # the height of one line of 11 pt text in a spreadsheet row


def _row_height(values: Sequence[object], widths: Sequence[int], wraps: Sequence[bool]) -> float | None:
    """The height of a row with wrapped text, from its longest cell (None: one line): spreadsheets do not grow
    rows written by a program, and the wrapped lines would be cut off in print."""
    lines = 1
    for value, width, wrap in zip(values, widths, wraps, strict=True):
        if wrap and isinstance(value, str) and value:
            per_line = max(1.0, width * 1.1)
            lines = max(lines, sum(max(1, math.ceil(len(part) / per_line)) for part in value.split("\n")))
    return lines * LINE_POINTS if lines > 1 else None


DIGIT_PIXELS = 7  # the width of a digit of Calibri 11, the workbook's font: column widths are counted in it
_HEAD_FILL, _GRID_COLOUR = "#E8E8E8", "#999999"


def render_xlsx(report: ReportData) -> bytes:
    """The overview first, then one sheet per section; each prints landscape on A4, one page wide, with the header
    row repeated and the report date in the footer. Header row frozen, every text cell written as text.

    XlsxWriter, each cell's format object shared (openpyxl took seconds for the 10^5 cells of a large store);
    strings are written with write_string, never as formulas."""
    import xlsxwriter

    buf = io.BytesIO()
    # in_memory: no temporary files; at 10^5 cells a fifth faster than constant_memory, which writes each row
    # to a temporary file (the cell table of 10^5 cells is a few MB).
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False,
                                   "strings_to_numbers": False, "strings_to_urls": False,
                                   "nan_inf_to_errors": True, "remove_timezone": True})
    wb.set_properties({"title": report.title, "author": "Sozialmonitor"})
    formats: dict[tuple[str, str, str, bool, bool, bool], Any] = {}

    def style(font: str, align: str, number_format: str, quote: bool, head: bool, boxed: bool) -> Any:
        # One format object per combination, shared by every cell that has it.
        key = (font, align, number_format, quote, head, boxed)
        found = formats.get(key)
        if found is None:
            props: dict[str, Any] = {}
            if font:
                props[font] = True
            if align == "wrap":
                props.update(text_wrap=True, valign="top")
            elif align == "top":
                props["valign"] = "top"
            if number_format:
                props["num_format"] = number_format
            if quote:
                props["quote_prefix"] = True
            if head:
                props.update(pattern=1, bg_color=_HEAD_FILL)
            if boxed:
                props.update(border=1, border_color=_GRID_COLOUR)
            found = formats[key] = wb.add_format(props)
        return found

    texts: dict[str, tuple[str, bool]] = {}  # xlsx_safe of each distinct text (names and periods repeat)

    def writer(kind: str = "text", font: str = "", align: str = "top", head: bool = False,
               boxed: bool = True) -> Callable[[Any, int, int, object], None]:
        """A function writing one cell of a column of this kind and look, its formats looked up once."""
        by_format: dict[tuple[str, bool], Any] = {}

        def look(number_format: str, quote: bool = False) -> Any:
            found = by_format.get((number_format, quote))
            if found is None:
                found = by_format[number_format, quote] = style(font, align, number_format, quote, head, boxed)
            return found

        blank, plain, quoted = look(_number_format(kind, None)), look(""), look("", True)

        def put(ws: Any, row: int, col: int, value: object) -> None:
            if value is None or value == "":
                ws.write_blank(row, col, None, blank)
            elif isinstance(value, str):
                safe = texts.get(value)
                if safe is None:
                    safe = texts[value] = xlsx_safe(value)
                # write_string stores text as text whatever it starts with; the quote prefix keeps a spreadsheet
                # from reading '=…' typed back into the cell as a formula (OWASP CSV injection).
                ws.write_string(row, col, safe[0], quoted if safe[1] else plain)
            elif isinstance(value, date):  # datetime is a date too
                ws.write_datetime(row, col, value, look(_number_format(kind, value)))
            else:
                ws.write_number(row, col, value, look(_number_format(kind, value)))

        return put

    head_cell, note_cell = writer(font="bold", align="wrap", head=True), writer(font="bold", align="", boxed=False)

    stand = report.stand
    for section in report.sections:
        table = section.workbook_table
        if "xlsx" not in section.formats or table is None:
            continue
        ws = wb.add_worksheet(section.sheet[:31])
        cols = table.columns
        for k, col in enumerate(cols):
            # In pixels: the stored width is then exactly `col.width` characters, as the sheets always had.
            ws.set_column_pixels(k, k, col.width * DIGIT_PIXELS)
        ws.freeze_panes(1, 0)
        # Print: landscape A4, all columns on one page width, as many pages down as needed, header row repeated.
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
        ws.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.7)
        title = report.title[:80].replace("&", "&&") + ("…" if len(report.title) > 80 else "")
        ws.set_header(f"&L&B{section.heading.replace('&', '&&')}&R{title}")
        page = "Seite &P von &N" if report.lang == "de" else "Page &P of &N"
        ws.set_footer(f"&L{stand.replace('&', '&&')}&R{page}")
        widths = [c.width for c in cols]
        height = _row_height([c.title for c in cols], widths, [True] * len(cols))
        if height is not None:
            ws.set_row(0, height)
        for k, c in enumerate(cols):
            head_cell(ws, 0, k, c.title)
        puts = [writer(c.kind, "italic" if c.kind == "italic" else "", "wrap" if c.width >= WRAP_FROM else "top")
                for c in cols]
        wraps = [c.width >= WRAP_FROM for c in cols]
        last = 0  # the row written last
        for last, row in enumerate(table.rows, 1):
            height = _row_height(row, widths, wraps)
            if height is not None:
                ws.set_row(last, height)
            for k, (value, put) in enumerate(zip(row, puts, strict=True)):
                put(ws, last, k, value)
        notes = [*section.after, *(() if table.rows else (section.empty,))]
        if notes:
            last += 1  # an empty row before the notes
            for note in notes:
                if note:
                    last += 1
                    note_cell(ws, last, 0, note)
        if section.key == "summary":
            last += 2
            note_cell(ws, last, 0, stand)
    wb.close()
    return buf.getvalue()
