"""The committee report as data (`build_report`), and the /bericht and /trend chat commands.

Decisions worth knowing:
- The meetings table lists the meetings held up to the report date in the store's document order (date, then
  as entered); later ones form their own table. A measure without any dated meeting is "still to be scheduled",
  and the note under the table is generated from those measures.
- The Vorgehensweise cell is the approach plus the measure's catalogue hint ("Hinweis: …"), unless the approach
  already contains the hint (M 24's approach carries its hint word for word).
- Indicators: one row per indicator and area (the whole city first) with the latest value, the previous
  period's value, the change and a sparkline of the last periods.
- Charts (HTML report only): one small-multiples figure per measure with at most MAX_PANELS indicators, because
  a matplotlib panel costs ~50 ms: at the benchmark size (14 × 20 indicators) one panel per indicator would be
  14 s. Panels with more than charts.MAX_LINES areas draw a min–max band and the median instead of lines.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from storage.models import Indicator, Measure, Meeting

from . import fmt
from . import protocols as signing
from .charts import MAX_LINES, ChartWords, Line, Panel, line_chart, small_multiples
from .deliveries import Due, Expected, as_due, expected_deliveries
from .lookup import find_indicator
from .periods import period_label
from .registry import Caller, UsageError, command, take_measure
from .reply import Attachment, Reply, ReplyBuilder
from .state import State

__all__ = [
    "FORMATS",
    "MAX_PANELS",
    "Column",
    "IndicatorRow",
    "MeetingRow",
    "ProtocolRow",
    "ReportData",
    "Section",
    "Table",
    "build_report",
    "chart_words",
    "indicator_panel",
    "long_day",
    "meeting_cell",
    "period_label",
]

FORMATS = ("html", "xlsx", "md")
MAX_PANELS = 6  # indicators per measure drawn in the HTML report
SPARK = "▁▂▃▄▅▆▇█"
SPARK_PERIODS = 8

Cell = str | float | int | date | None


@dataclass(frozen=True)
class Column:
    """kind: text | number | change | date | italic; width in characters (XLSX column width)."""

    title: str
    kind: str = "text"
    width: int = 14


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]


@dataclass(frozen=True)
class Section:
    """One part of the report: a heading, paragraphs, one table (one XLSX sheet) and notes after it."""

    key: str
    heading: str
    sheet: str
    table: Table | None
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    empty: str = ""  # said instead of the table when it has no rows
    html_only: bool = False  # the charts: Markdown and XLSX leave them out


@dataclass(frozen=True)
class MeetingRow:
    measure: str
    cell: str  # 'M 14, „Es werden …“'
    day: date
    approach: str  # approach plus the measure's hint where the document has it


@dataclass(frozen=True)
class ProtocolRow:
    measure: str
    meeting_day: date
    sent_on: date
    version: int
    signatories: tuple[str, ...]
    missing: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return bool(self.signatories) and not self.missing


@dataclass(frozen=True)
class IndicatorRow:
    measure: str
    indicator: str
    name: str
    unit: str
    area: str  # "" = whole city
    period: str = ""
    value: float | None = None
    previous_period: str = ""
    previous_value: float | None = None
    trend: str = ""
    note: str = ""

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous_value is None:
            return None
        return round(self.value - self.previous_value, 10)


@dataclass(frozen=True)
class ChartGroup:
    """The panels of one measure for the HTML report; `more` names the indicators left out."""

    measure: str
    title: str
    panels: tuple[Panel, ...]
    more: str = ""


@dataclass(frozen=True)
class ReportData:
    today: date
    lang: str
    title: str
    stand: str
    intro: tuple[str, ...]
    legend: str  # "Kursiv: die noch ausstehenden Schritte …", printed in italics under the intro
    meetings: tuple[MeetingRow, ...]
    upcoming: tuple[MeetingRow, ...]
    unscheduled: tuple[str, ...]  # measure ids
    unscheduled_note: str
    protocols: tuple[ProtocolRow, ...]
    indicators: tuple[IndicatorRow, ...]
    sections: tuple[Section, ...]
    charts: tuple[ChartGroup, ...] = ()
    chart_words: ChartWords | None = None
    footer: str = ""

    def section(self, key: str) -> Section:
        return next(s for s in self.sections if s.key == key)


# ---------------------------------------------------------------- small helpers
def long_day(state: State, day: date) -> str:
    """21.09.2018 -> '21. September 2018' (the document's 'Stand:' style)."""
    month = state.t("report.months").split(",")[day.month - 1]
    return state.t("report.long_day", d=day.day, month=month, y=day.year)


def _and_join(state: State, items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {state.t('report.and')} {items[-1]}"


def _number(measure_id: str) -> str:
    return f"M {measure_id[1:]}" if measure_id[:1] == "M" else measure_id


def meeting_cell(measure: Measure | None, measure_id: str) -> str:
    """'M 14, „Es werden …“' as the document's first column writes it; the bare number without a title."""
    number = measure.number if measure else _number(measure_id)
    return f"{number}, „{measure.title}“" if measure and measure.title else number


def _approach_cell(state: State, meeting: Meeting, measure: Measure | None) -> str:
    approach = meeting.approach
    hint = measure.hint if measure else ""
    # M 24's approach already carries its hint word for word; do not say it twice.
    if not hint or hint in approach:
        return approach
    note = state.t("report.hint", hint=hint)
    return f"{approach}; {note}" if approach else note


def sparkline(values: Sequence[float | None]) -> str:
    vals = [v for v in values if v is not None][-SPARK_PERIODS:]
    if len(vals) < 2:
        return ""
    low, high = min(vals), max(vals)
    if high == low:
        return SPARK[3] * len(vals)
    scale = (len(SPARK) - 1) / (high - low)
    return "".join(SPARK[round((v - low) * scale)] for v in vals)


def chart_words(state: State) -> ChartWords:
    return ChartWords(x_label=state.t("chart.x"), y_label=state.t("chart.y"), band=state.t("chart.band"),
                      median=state.t("chart.median"), no_data=state.t("chart.no_data"))


# ---------------------------------------------------------------- indicator data
def _series(state: State, ind: Indicator) -> tuple[list[str], dict[str, list[tuple[str, float | None, str]]]]:
    """(sorted periods, area -> [(period, value, note)] in period order), whole city first."""
    by_area = state.store.series(ind.id)
    periods = sorted({p for points in by_area.values() for p, _, _ in points})
    ordered = dict(sorted(by_area.items(), key=lambda kv: (kv[0] != "", kv[0].casefold())))
    return periods, ordered


def _panel(state: State, ind: Indicator, periods: list[str], by_area: dict, *, short_title: bool) -> Panel:
    lang = state.lang
    index = {p: k for k, p in enumerate(periods)}
    lines = []
    for area, points in by_area.items():
        values: list[float | None] = [None] * len(periods)
        for period, value, _ in points:
            values[index[period]] = value
        label = area or state.t("whole_city")
        lines.append(Line(label, tuple(values), emphasis=not area))
    title = ind.name if short_title else f"{_number(ind.measure)} · {ind.name}"
    return Panel(title, ind.unit, tuple(period_label(p, lang) for p in periods), tuple(lines))


def indicator_panel(state: State, ind: Indicator) -> Panel:
    periods, by_area = _series(state, ind)
    return _panel(state, ind, periods, by_area, short_title=False)


def _indicator_rows(state: State, ind: Indicator, by_area: dict) -> list[IndicatorRow]:
    if not by_area:
        return [IndicatorRow(ind.measure, ind.id, ind.name, ind.unit, "",
                             note=state.t("indicators.not_delivered"))]
    rows = []
    for area, points in by_area.items():
        period, value, note = points[-1]
        prev_period, prev_value = (points[-2][0], points[-2][1]) if len(points) > 1 else ("", None)
        rows.append(IndicatorRow(ind.measure, ind.id, ind.name, ind.unit, area, period, value, prev_period,
                                 prev_value, sparkline([p[1] for p in points]), note))
    return rows


# ---------------------------------------------------------------- the report
def build_report(state: State, today: date, *, charts: bool = True) -> ReportData:
    """Everything the committee report says as of `today`, as data; the renderers only lay it out."""
    t, lang = state.t, state.lang
    catalogue, store = state.catalogue, state.store
    measures = catalogue.measures

    def title_of(m: Measure) -> str:
        return m.title or t("no_title")

    # Meetings: held up to the report date, in the document's order; scheduled later; measures without one.
    meetings = store.meetings()
    held, later = [], []
    for x in meetings:
        if x.day is None:
            continue
        m = measures.get(x.measure)
        row = MeetingRow(x.measure, meeting_cell(m, x.measure), x.day, _approach_cell(state, x, m))
        (held if x.day <= today else later).append(row)
    dated = {x.measure for x in meetings if x.day is not None}
    unscheduled = tuple(mid for mid in measures if mid not in dated)
    numbers = [_number(mid) for mid in unscheduled]
    note = (t("unscheduled.one" if len(numbers) == 1 else "unscheduled.many", ids=_and_join(state, numbers))
            if numbers else "")

    # Protocols: each with who has signed its current version and who is outstanding.
    protocols = []
    for p in store.protocols():
        protocols.append(ProtocolRow(p.measure, p.meeting_day, p.sent_on, p.version,
                                     tuple(signing.signatories(state, p)), tuple(signing.missing(state, p))))

    # Indicators: rows and (for the HTML) one chart group per measure.
    ind_rows: list[IndicatorRow] = []
    groups: list[ChartGroup] = []
    for mid, m in measures.items():
        panels: list[Panel] = []
        left_out: list[str] = []
        for ind in catalogue.indicators_of(mid):
            periods, by_area = _series(state, ind)
            ind_rows += _indicator_rows(state, ind, by_area)
            if not charts or not by_area:
                continue
            if len(panels) < MAX_PANELS:
                panels.append(_panel(state, ind, periods, by_area, short_title=True))
            else:
                left_out.append(ind.name)
        if panels:
            more = t("charts.more", measure=m.number, names=", ".join(left_out), id=mid) if left_out else ""
            groups.append(ChartGroup(mid, t("charts.title", measure=m.number), tuple(panels), more))

    expected = expected_deliveries(state, None, today)
    # The same rule as /lieferungen: an expected delivery not delivered by its due date is overdue.
    late = [as_due(e, lang) for e in expected if not e.delivered]
    stand = long_day(state, today)
    p1 = sum(1 for m in measures.values() if m.phase == 1)
    intro = (t("report.intro", n=len(measures)), t("report.phases", p1=p1, p2=len(measures) - p1))

    sections = (
        _measures_section(state, list(measures.values()), title_of),
        _meetings_section(state, held, note, stand),
        *([_upcoming_section(state, later)] if later else []),
        _unscheduled_section(state, [measures[mid] for mid in unscheduled], title_of),
        _protocols_section(state, protocols),
        _indicators_section(state, ind_rows),
        *([_charts_section(state, bool(groups))] if charts else []),
        _deliveries_section(state, expected),
        _overdue_section(state, late, today),
        _steps_section(state),
    )
    return ReportData(
        today=today, lang=lang, title=t("report.title"), stand=t("report.stand", day=stand),
        intro=intro, legend=t("report.italic_legend"), meetings=tuple(held), upcoming=tuple(later),
        unscheduled=unscheduled, unscheduled_note=note,
        protocols=tuple(protocols), indicators=tuple(ind_rows), sections=sections, charts=tuple(groups),
        chart_words=chart_words(state), footer=t("report.generated", day=fmt.day(today, lang)),
    )


# ---------------------------------------------------------------- sections
def _col(state: State, key: str, kind: str = "text", width: int = 14) -> Column:
    return Column(state.t(f"col.{key}"), kind, width)


def _measures_section(state: State, measures: list[Measure], title_of: Callable[[Measure], str]) -> Section:
    t = state.t
    rows = tuple((m.number, t("field." + m.field) if m.field else "", title_of(m), ", ".join(m.lead_offices),
                  "I" * m.phase, m.hint) for m in measures)
    cols = (_col(state, "measure", width=10), _col(state, "field", width=14), _col(state, "title", width=70),
            _col(state, "lead", width=18), _col(state, "phase", width=7), _col(state, "hint", width=40))
    return Section("measures", t("sec.measures"), t("sheet.measures"), Table(cols, rows))


def _meeting_table(state: State, rows: list[MeetingRow]) -> Table:
    cols = (_col(state, "meeting_measure", width=80), _col(state, "day", "date", 12),
            _col(state, "approach", width=50))
    return Table(cols, tuple((r.cell, r.day, r.approach) for r in rows))


def _meetings_section(state: State, held: list[MeetingRow], note: str, stand: str) -> Section:
    t = state.t
    return Section("meetings", t("sec.meetings"), t("sheet.meetings"), _meeting_table(state, held),
                   before=(t("meetings.intro", day=stand),), after=(note,) if note else (),
                   empty=t("meetings.none", day=stand))


def _upcoming_section(state: State, later: list[MeetingRow]) -> Section:
    t = state.t
    return Section("upcoming", t("sec.upcoming"), t("sheet.upcoming"), _meeting_table(state, later),
                   before=(t("upcoming.intro"),))


def _unscheduled_section(state: State, measures: list[Measure], title_of: Callable[[Measure], str]) -> Section:
    t = state.t
    cols = (_col(state, "measure", width=10), _col(state, "title", width=70), _col(state, "hint", width=50))
    rows = tuple((m.number, title_of(m), m.hint) for m in measures)
    return Section("unscheduled", t("sec.unscheduled"), t("sheet.unscheduled"), Table(cols, rows),
                   empty=t("unscheduled.none"))


def _protocols_section(state: State, protocols: list[ProtocolRow]) -> Section:
    t = state.t
    rows = []
    for p in protocols:
        if not p.signatories:
            status = t("protocols.no_signatories")
        elif p.missing:
            status = t("protocols.missing", names=", ".join(p.missing))
        else:
            status = t("protocols.complete")
        signed = len(p.signatories) - len(p.missing)
        rows.append((_number(p.measure), p.meeting_day, p.sent_on, p.version,
                     t("protocols.signed", signed=signed, required=len(p.signatories)), status))
    cols = (_col(state, "measure", width=10), _col(state, "meeting_day", "date", 12), _col(state, "sent", "date", 12),
            _col(state, "version", "number", 8), _col(state, "signed", width=14), _col(state, "state", width=60))
    return Section("protocols", t("sec.protocols"), t("sheet.protocols"), Table(cols, tuple(rows)),
                   before=(t("protocols.intro"),), empty=t("protocols.none"))


def _indicators_section(state: State, rows: list[IndicatorRow]) -> Section:
    t, lang = state.t, state.lang
    whole = t("whole_city")
    labels: dict[str, str] = {}

    def label(key: str) -> str:
        # Thousands of rows share a few dozen period keys: label each once.
        if key not in labels:
            labels[key] = period_label(key, lang) if key else ""
        return labels[key]

    table_rows = tuple(
        (_number(r.measure), r.name, r.unit, r.area or whole, label(r.period), r.value, label(r.previous_period),
         r.previous_value, r.change, r.trend, r.note) for r in rows)
    cols = (_col(state, "measure", width=10), _col(state, "indicator", width=40), _col(state, "unit", width=9),
            _col(state, "area", width=16), _col(state, "period", width=16), _col(state, "value", "number", 12),
            _col(state, "previous_period", width=16), _col(state, "previous_value", "number", 12),
            _col(state, "change", "change", 12), _col(state, "trend", width=12), _col(state, "note", width=30))
    return Section("indicators", t("sec.indicators"), t("sheet.indicators"), Table(cols, table_rows),
                   before=(t("indicators.intro"),), empty=t("indicators.none"))


def _charts_section(state: State, any_chart: bool) -> Section:
    t = state.t
    return Section("charts", t("sec.charts"), "", None, before=(t("charts.intro", n=MAX_LINES),),
                   empty="" if any_chart else t("charts.none"), html_only=True)


def _deliveries_section(state: State, expected: list[Expected]) -> Section:
    """Per office: deliveries expected by the report date (due-date rules of commands.deliveries), how many
    came, how many are overdue, the share complete and the last receipt."""
    t = state.t
    catalogue, store = state.catalogue, state.store
    offices: dict[str, list[Indicator]] = {}
    for ind in catalogue.indicators.values():
        offices.setdefault(ind.office, []).append(ind)
    last: dict[str, datetime] = {}
    for d in store.deliveries():
        if d.office not in last or d.received > last[d.office]:
            last[d.office] = d.received
    counts: dict[str, list[int]] = {}
    for e in expected:
        c = counts.setdefault(e.office, [0, 0])
        c[0] += 1
        c[1] += e.delivered
    rows = []
    for office in sorted(offices, key=lambda o: (o == "", o.casefold())):
        inds = offices[office]
        n_expected, n_delivered = counts.get(office, [0, 0])
        share = round(100 * n_delivered / n_expected) if n_expected else None
        name = catalogue.offices[office].name if office in catalogue.offices else ""
        received = last.get(office)
        rows.append((office or t("report.no_office"), name, len(inds), n_expected, n_delivered,
                     n_expected - n_delivered, share, received.date() if received else None))
    cols = (_col(state, "office", width=16), _col(state, "office_name", width=44),
            _col(state, "indicators", "number", 11), _col(state, "expected", "number", 11),
            _col(state, "delivered", "number", 11), _col(state, "overdue", "number", 12),
            _col(state, "complete", "number", 12), _col(state, "last_received", "date", 14))
    return Section("deliveries", t("sec.deliveries"), t("sheet.deliveries"), Table(cols, tuple(rows)),
                   before=(t("deliveries.intro"),), empty=t("deliveries.none"))


def _overdue_section(state: State, late: list[Due], today: date) -> Section:
    t = state.t
    names = state.catalogue.indicators
    rows = tuple((d.office or t("report.no_office"), _number(d.measure),
                  names[d.indicator].name if d.indicator in names else d.indicator,
                  d.label or period_label(d.period, state.lang), d.due)
                 for d in sorted(late, key=lambda d: (d.office.casefold(), d.due, d.measure, d.indicator)))
    cols = (_col(state, "office", width=16), _col(state, "measure", width=10), _col(state, "indicator", width=40),
            _col(state, "period", width=16), _col(state, "due", "date", 12))
    return Section("overdue", t("sec.overdue"), t("sheet.overdue"), Table(cols, rows),
                   empty=t("overdue.none", day=fmt.day(today, state.lang)))


def _steps_section(state: State) -> Section:
    t = state.t
    rows = tuple((_number(s.measure) if s.measure else t("report.all_measures"), s.number, s.text, s.due, s.who)
                 for s in state.store.steps())
    cols = (_col(state, "measure", width=14), _col(state, "number", "number", 6), _col(state, "step", "italic", 80),
            _col(state, "until", "date", 12), _col(state, "who", width=20))
    return Section("steps", t("sec.steps"), t("sheet.steps"), Table(cols, rows), empty=t("steps.none"))


# ---------------------------------------------------------------- chat commands
@command("bericht", en="report", usage="[html|xlsx|md]")
def bericht(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Der Bericht für den Sozialausschuss als Datei (html, xlsx oder md)."""
    from .render_report import render

    choice = args[0].casefold().lstrip(".") if args else "html"
    choice = "md" if choice in ("markdown", "text") else choice
    if choice not in FORMATS:
        raise UsageError("bericht.bad_format", found=args[0])
    today = state.local(now).date()
    report = build_report(state, today, charts=choice == "html")
    data, mime = render(report, choice)
    caption = state.t("bericht.caption", day=fmt.day(today, state.lang))
    return (ReplyBuilder().line(caption)
            .attach(Attachment(f"bericht_{today.isoformat()}.{choice}", data, "document", caption, mime)).build())


def _closest(text: str, indicators: list[Indicator]) -> str:
    names = {i.name.casefold(): i.name for i in indicators} | {i.id.casefold(): i.name for i in indicators}
    match = difflib.get_close_matches(text.casefold(), list(names), n=1, cutoff=0.0)
    return names[match[0]] if match else ""


def _find_indicator(state: State, measure: Measure, text: str) -> Indicator | None:
    # "/trend M21 wohnungen": id, name or an unambiguous part of it (the lookup /indikatoren and /verlauf use).
    match = find_indicator(state.catalogue, measure.id, text)
    if match.ambiguous:
        raise UsageError("ind.ambiguous", found=text, measure=measure.number,
                         names=", ".join(f"{i.name} ({i.id})" for i in match.candidates))
    return match.found


@command("trend", en="chart", usage="Mxx [INDIKATOR]", usage_en="Mxx [INDICATOR]")
def trend(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Liniendiagramm (PNG) eines Indikators über die Zeit, je Gebiet."""
    measure, rest = take_measure(state, args, "trend")
    t, lang = state.t, state.lang
    indicators = state.catalogue.indicators_of(measure.id)
    if not indicators:
        return ReplyBuilder().line(t("trend.no_indicators", measure=measure.number)).build()
    words = chart_words(state)
    stamp = state.local(now).date().isoformat()
    if rest:
        wanted = " ".join(rest)
        ind = _find_indicator(state, measure, wanted)
        if ind is None:
            closest = _closest(wanted, indicators)
            key = "trend.unknown" if closest else "trend.unknown_none"
            return ReplyBuilder().line(t(key, found=wanted, measure=measure.number, closest=closest,
                                         known=", ".join(i.name for i in indicators))).build("usage")
        panel = indicator_panel(state, ind)
        if not panel.has_data:
            return ReplyBuilder().line(t("trend.no_data", name=ind.name, measure=measure.number)).build()
        caption = t("trend.caption", measure=measure.number, name=ind.name, unit=ind.unit or "–",
                    first=panel.x_labels[0], last=panel.x_labels[-1])
        png = line_chart(panel, words, lang=lang)
        name = f"trend_{measure.id}_{_safe(ind.id)}_{stamp}.png"
        return ReplyBuilder().line(caption).attach(Attachment(name, png, "photo", caption[:1000], "image/png")).build()

    panels = []
    for ind in indicators:
        periods, by_area = _series(state, ind)
        if by_area:
            panels.append(_panel(state, ind, periods, by_area, short_title=True))
    if not panels:
        return ReplyBuilder().line(t("trend.no_data_measure", measure=measure.number)).build()
    caption = t("trend.caption_all", measure=measure.number)
    out = ReplyBuilder().line(caption)
    if len(panels) > MAX_PANELS * 2:
        out.line(t("trend.more", shown=MAX_PANELS * 2, total=len(panels), id=measure.id))
        panels = panels[: MAX_PANELS * 2]
    png = small_multiples(panels, words, title=caption, lang=lang)
    return out.attach(Attachment(f"trend_{measure.id}_{stamp}.png", png, "photo", caption, "image/png")).build()


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:60]
