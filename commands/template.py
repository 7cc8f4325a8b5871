"""Fill-in templates for the offices: `/vorlage [AMT]` and `sozialmonitor vorlage` (XLSX, or a German-Excel CSV).

One row per indicator × area × outstanding period with an empty `Wert` column, in exactly the long layout the
reader takes: a filled template imports as it is. Only periods that have ended are offered (a value for a
period still running would be rejected); an indicator with nothing outstanding is named on the explanation
sheet with its next period instead. The XLSX has drop-down lists for areas and periods (data validation) and a
second sheet that explains in plain words how to fill it and where to put it.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from storage.models import Indicator
from storage.seed import STADTTEILE

from . import fmt
from . import periods as pd
from .deliveries import expected_deliveries, last_due_period
from .lookup import words
from .periods import Period, due_date, period_containing
from .registry import Caller, UsageError, command
from .reply import Attachment, Reply, ReplyBuilder
from .state import State

__all__ = ["FORMATS", "Template", "TemplateRow", "build_template", "render_csv", "render_xlsx", "resolve_office"]

FORMATS = ("xlsx", "csv")
MAX_PERIODS = 12  # outstanding periods per indicator offered at most (the newest)
LIST_YEARS = 5  # the period drop-downs reach this far back
SPARE_ROWS = 200  # rows below the filled ones keep the drop-downs, for rows an office adds
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Koblenz' 30 districts (Stadtteile), offered when the catalogue lists no [[gebiet]] of its own.
# Column keys in sheet order; the headers (texts "tpl.col.*") are ones the reader knows, or ones it ignores.
COLUMNS = ("measure", "indicator", "name", "unit", "frequency", "area", "period", "value", "note", "office", "due")


@dataclass(frozen=True)
class TemplateRow:
    indicator: Indicator
    area: str  # "" = whole city
    period: Period
    due: date


@dataclass(frozen=True)
class Template:
    office: str | None  # None = every office
    today: date
    rows: tuple[TemplateRow, ...]
    indicators: tuple[Indicator, ...]
    nothing_due: tuple[tuple[Indicator, Period, date], ...]  # (indicator, next period, its due date)
    areas: tuple[str, ...]  # the drop-down list (without the whole city)
    strict_areas: bool  # the catalogue lists its areas: other ones would be rejected

    @property
    def filename_stem(self) -> str:
        name = "alle_Aemter" if self.office is None else "".join(
            c if c.isalnum() or c in "-_" else "_" for c in self.office)
        return f"vorlage_{name}_{self.today.isoformat()}"


def _offices(state: State) -> list[str]:
    """Every office the catalogue names: under [[amt]] or as an indicator's delivering office."""
    named = list(state.catalogue.offices) + [i.office for i in state.catalogue.indicators.values() if i.office]
    return list(dict.fromkeys(named))


def resolve_office(state: State, text: str) -> str:
    """The office id for what was typed: its id or name ('amt61', 'Amt 61'), or an unambiguous start of either."""
    key = "".join(words(text))
    offices = _offices(state)

    def keys(office: str) -> list[str]:
        entry = state.catalogue.offices.get(office)
        return ["".join(words(office))] + (["".join(words(entry.name))] if entry and entry.name else [])

    exact = [o for o in offices if key in keys(o)]
    hits = exact or [o for o in offices if any(k.startswith(key) for k in keys(o))]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise UsageError("tpl.ambiguous_office", found=text, names=", ".join(hits))
    raise UsageError("tpl.unknown_office", found=text, names=", ".join(offices) or state.t("none"))


def _ended(indicator: Indicator, today: date) -> Period:
    """The latest period of the indicator's frequency that is over by `today`."""
    return pd.previous(period_containing(indicator.frequency, today))


def outstanding(state: State, indicator: Indicator, today: date) -> list[Period]:
    """Periods that are over and not delivered: the overdue ones and those not yet due, oldest first."""
    delivered = state.store.periods(indicator.id)
    late = [e.period for e in expected_deliveries(state, indicator.measure, today)
            if e.indicator == indicator.id and not e.delivered]
    period, last = pd.next(last_due_period(indicator, today)), _ended(indicator, today)
    soon = []
    while period <= last:
        if period.key not in delivered:
            soon.append(period)
        period = pd.next(period)
    return sorted(set(late + soon))[-MAX_PERIODS:]


def _next_period(state: State, indicator: Indicator, today: date) -> Period:
    delivered = state.store.periods(indicator.id)
    period = pd.next(_ended(indicator, today))
    for _ in range(1000):  # offices may deliver ahead of time: skip what is there
        if period.key not in delivered:
            break
        period = pd.next(period)
    return period


def _catalogue_areas(state: State) -> tuple[str, ...]:
    # The catalogue's [[gebiet]] list, where the catalogue has one.
    return tuple(a.id for a in state.catalogue.areas.values() if not a.whole_city)


def build_template(state: State, office: str | None, today: date) -> Template:
    """The template's content for one office (None: all), as of `today`."""
    indicators = sorted((i for i in state.catalogue.indicators.values() if office is None or i.office == office),
                        key=lambda i: (i.office.casefold(), i.measure, i.id))
    rows: list[TemplateRow] = []
    nothing: list[tuple[Indicator, Period, date]] = []
    for ind in indicators:
        periods = outstanding(state, ind, today)
        if not periods:
            upcoming = _next_period(state, ind, today)
            nothing.append((ind, upcoming, due_date(upcoming, ind.due_days)))
            continue
        # Whole-city first, then the districts the indicator has been delivered for.
        delivered = sorted(state.store.areas(ind.id), key=lambda a: (a != "", a)) or [""]
        rows += [TemplateRow(ind, area, p, due_date(p, ind.due_days)) for area in delivered for p in periods]
    listed = _catalogue_areas(state)
    seen = {a for r in rows for a in [r.area] if a}
    areas = tuple(dict.fromkeys([*(listed or STADTTEILE), *sorted(seen)]))
    return Template(office, today, tuple(rows), tuple(indicators), tuple(nothing), areas, bool(listed))


def _headers(state: State) -> list[str]:
    return [state.t(f"tpl.col.{c}") for c in COLUMNS]


def _cells(state: State, row: TemplateRow) -> list[object]:
    ind = row.indicator
    return [ind.measure, ind.id, ind.name, ind.unit, state.t(f"frequency.{ind.frequency}"),
            row.area or state.t("tpl.whole_city"), row.period.key, None, "", ind.office, row.due]


# ---------------------------------------------------------------- CSV


_INJECTION = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: object, lang: str) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return fmt.day(value, lang)
    text = str(value)
    # OWASP CSV injection: a cell that a spreadsheet would run as a formula gets a leading apostrophe.
    return "'" + text if text.startswith(_INJECTION) else text


def render_csv(state: State, template: Template) -> bytes:
    """German Excel's CSV: semicolons, decimal comma, UTF-8 with BOM (Excel then reads the umlauts right)."""
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(_headers(state))
    for row in template.rows:
        writer.writerow([_csv_text(v, "de") for v in _cells(state, row)])
    return buf.getvalue().encode("utf-8-sig")


# ---------------------------------------------------------------- XLSX


def _period_choices(kind_of: Indicator, today: date) -> list[Period]:
    """The drop-down for one frequency: its periods that are over, of the last LIST_YEARS years."""
    out, period = [], _ended(kind_of, today)
    while period.end.year > today.year - LIST_YEARS - 1:
        out.append(period)
        period = pd.previous(period)
    return out


def render_xlsx(state: State, template: Template) -> bytes:
    """Sheet 'Werte' to fill (drop-downs for Gebiet and Zeitraum), sheet 'Anleitung', a hidden sheet of lists."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.worksheet import Worksheet

    from .render_report import xlsx_safe

    t = state.t
    wb = Workbook()
    wb.properties.title = t("tpl.title", office=template.office or t("tpl.all_offices"))
    wb.properties.creator = "Sozialmonitor"
    ws = wb.active
    assert isinstance(ws, Worksheet)  # a new workbook's one sheet
    ws.title = t("tpl.sheet_values")
    lists = wb.create_sheet(t("tpl.sheet_lists"))
    guide = wb.create_sheet(t("tpl.sheet_guide"))
    wb.move_sheet(guide, offset=-1)  # Werte, Anleitung, then the hidden lists
    lists.sheet_state = "hidden"

    def put(sheet, row: int, column: int, value: object, **style: object) -> None:
        cell = sheet.cell(row=row, column=column)
        if isinstance(value, str):
            value, forced = xlsx_safe(value)
            cell.value = value
            if forced:
                cell.data_type = "s"  # a catalogue text must stay inert text, never a formula
                cell.quotePrefix = True
        else:
            cell.value = value
        for name, setting in style.items():
            setattr(cell, name, setting)

    col = {key: n for n, key in enumerate(COLUMNS, 1)}
    widths = {"measure": 10, "indicator": 26, "name": 44, "unit": 10, "frequency": 15, "area": 20, "period": 12,
              "value": 12, "note": 30, "office": 14, "due": 12}
    bold, fill = Font(bold=True), PatternFill("solid", start_color="FFF2CC")
    for key, n in col.items():
        put(ws, 1, n, _headers(state)[n - 1], font=bold, alignment=Alignment(wrap_text=True, vertical="top"))
        ws.column_dimensions[get_column_letter(n)].width = widths[key]
    ws.freeze_panes = "A2"
    for r, row in enumerate(template.rows, 2):
        for n, value in enumerate(_cells(state, row), 1):
            put(ws, r, n, value)
        ws.cell(row=r, column=col["period"]).number_format = "@"  # typed periods stay text, never a date
        ws.cell(row=r, column=col["due"]).number_format = "DD.MM.YYYY"
        ws.cell(row=r, column=col["value"]).fill = fill
        ws.cell(row=r, column=col["note"]).fill = fill
    last_row = len(template.rows) + 1
    spare = last_row + SPARE_ROWS

    # The lists: areas in column A, then one column of periods per frequency in use.
    area_list = [t("tpl.whole_city"), *template.areas]
    put(lists, 1, 1, t("tpl.list_areas"), font=bold)
    for r, area in enumerate(area_list, 2):
        put(lists, r, 1, area)
    area_letter = get_column_letter(col["area"])
    areas_dv = DataValidation(type="list", formula1=f"{quote_sheetname(lists.title)}!$A$2:$A${len(area_list) + 1}",
                              allow_blank=True, showErrorMessage=True, showInputMessage=True,
                              errorStyle="stop" if template.strict_areas else "warning",
                              errorTitle=t("tpl.dv_area_title"), error=t("tpl.dv_area_error"),
                              promptTitle=t("tpl.dv_area_title"), prompt=t("tpl.dv_area_prompt"))
    areas_dv.add(f"{area_letter}2:{area_letter}{spare}")
    ws.add_data_validation(areas_dv)

    period_letter = get_column_letter(col["period"])
    by_frequency: dict[str, list[int]] = {}
    for r, row in enumerate(template.rows, 2):
        by_frequency.setdefault(row.indicator.frequency, []).append(r)
    for k, (frequency, numbers) in enumerate(by_frequency.items(), 2):
        sample = template.rows[numbers[0] - 2].indicator
        offered = {template.rows[n - 2].period for n in numbers}
        choices = sorted(set(_period_choices(sample, template.today)) | offered, reverse=True)
        letter = get_column_letter(k)
        put(lists, 1, k, t("tpl.list_periods", frequency=t(f"frequency.{frequency}")), font=bold)
        for r, period in enumerate(choices, 2):
            put(lists, r, k, period.key)
        dv = DataValidation(type="list", formula1=f"{quote_sheetname(lists.title)}!${letter}$2:${letter}$"
                            f"{len(choices) + 1}", allow_blank=True, showErrorMessage=True, showInputMessage=True,
                            errorStyle="warning",
                            errorTitle=t("tpl.dv_period_title"), error=t("tpl.dv_period_error"),
                            promptTitle=t("tpl.dv_period_title"),
                            prompt=t("tpl.dv_period_prompt", frequency=t(f"frequency.{frequency}")))
        for a, b in _runs(numbers):
            dv.add(f"{period_letter}{a}:{period_letter}{b}")
        ws.add_data_validation(dv)

    _guide(state, template, guide, put, bold)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _runs(numbers: list[int]) -> list[tuple[int, int]]:
    """[2, 3, 4, 7, 8] -> [(2, 4), (7, 8)]: contiguous row ranges for one data validation."""
    out: list[tuple[int, int]] = []
    for n in numbers:
        if out and out[-1][1] == n - 1:
            out[-1] = (out[-1][0], n)
        else:
            out.append((n, n))
    return out


def _guide(state: State, template: Template, sheet, put, bold) -> None:
    """The explanation sheet: plain sentences, one per row in column A (no row looks like a table header)."""
    from openpyxl.styles import Alignment

    t, lang = state.t, state.lang
    office = template.office or t("tpl.all_offices")
    folder = f"eingang/{template.office}" if template.office else "eingang"
    sheet.column_dimensions["A"].width = 110
    wrap = Alignment(wrap_text=True, vertical="top")
    lines: list[tuple[str, bool]] = [
        (t("tpl.title", office=office), True),
        (t("tpl.as_of", day=fmt.day(template.today, lang), n=len(template.rows)), False),
        ("", False),
        *[(t(f"tpl.step{k}", office=template.office or "AMT", folder=folder), False) for k in range(1, 8)],
        ("", False),
        (t("tpl.indicators_title"), True),
    ]
    open_periods: dict[str, list[TemplateRow]] = {}
    for row in template.rows:
        open_periods.setdefault(row.indicator.id, []).append(row)
    waiting = {ind.id: (p, due) for ind, p, due in template.nothing_due}
    for ind in template.indicators:
        meta = t("tpl.indicator", id=ind.id, name=ind.name, unit=ind.unit or "—",
                 frequency=t(f"frequency.{ind.frequency}"), days=ind.due_days, office=ind.office or "—")
        if ind.id in open_periods:
            rows = open_periods[ind.id]
            periods = ", ".join(dict.fromkeys(r.period.label(lang) for r in rows))
            state_text = t("tpl.indicator_open", periods=periods, due=fmt.day(min(r.due for r in rows), lang))
        else:
            p, due = waiting[ind.id]
            state_text = t("tpl.indicator_waiting", period=p.label(lang),
                           start=fmt.day(p.end + timedelta(days=1), lang), due=fmt.day(due, lang))
        lines.append((f"• {meta}: {state_text}", False))
    if not template.indicators:
        lines.append((t("tpl.no_indicators", office=office), False))
    for r, (text, strong) in enumerate(lines, 1):
        put(sheet, r, 1, text, alignment=wrap, **({"font": bold} if strong else {}))


# ---------------------------------------------------------------- /vorlage


def template_file(state: State, office: str | None, today: date, form: str = "xlsx") -> tuple[Template, Attachment]:
    template = build_template(state, office, today)
    if form == "csv":
        data, mime = render_csv(state, template), "text/csv"
    else:
        data, mime = render_xlsx(state, template), XLSX_MIME
    caption = state.t("tpl.caption", office=office or state.t("tpl.all_offices"), n=len(template.rows))
    return template, Attachment(f"{template.filename_stem}.{form}", data, "document", caption[:1000], mime)


@command("vorlage", en="template", usage="[AMT]", usage_en="[OFFICE]")
def vorlage(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Die Ausfüllvorlage (XLSX) eines Amts: seine Indikatoren mit den offenen Zeiträumen, zum Ausfüllen und Ablegen."""
    if args:
        office: str | None = resolve_office(state, " ".join(args))
    elif caller.person is not None and caller.person.office and not caller.is_admin:
        office = caller.person.office  # an office's member gets their own office's template
    else:
        office = None
    today = state.local(now).date()
    template, attachment = template_file(state, office, today)
    out = ReplyBuilder().line(attachment.caption)
    if not template.indicators:
        out.line(state.t("tpl.no_indicators", office=office or state.t("tpl.all_offices")))
    elif not template.rows:
        out.line(state.t("tpl.nothing_open"))
    return out.attach(attachment).build()
