"""The committee report as data (`build_report`), and the /bericht and /trend chat commands.

Decisions worth knowing:
- Held, upcoming and "no meeting yet" come from `agenda.meeting_state` alone (the time of day counts), the
  same rule /termine uses; so the summary, the meetings tables, the note under them and the steps agree.
- The first page answers "where do we stand?": one line per measure, grouped by field, with a mark for the
  meeting, the protocol signatures, the indicators and the steps, and at most five things for the committee.
  Full titles stand once, in the detail tables (the first table a measure appears in).
- A step "Gespräch zu Mxx terminieren" whose meeting is now scheduled is left out of the steps and named as
  settled instead: the report never lists as open what another section calls done.
- The meetings table lists the meetings held up to the report moment in the store's document order (date,
  then as entered); later ones form their own table. The Vorgehensweise cell is the approach plus the measure's
  catalogue hint ("Hinweis: …"), unless the approach already contains it (M 24's approach carries its hint).
- Indicators: for reading, one row per indicator (the whole city, or the range over the areas); the workbook
  has one row per indicator and area. Sparklines and charts start at 0 and keep gaps.
- Charts (HTML and PDF): one small-multiples figure per measure with at most MAX_PANELS indicators, because
  a matplotlib panel costs tens of milliseconds: at the benchmark size (14 × 20 indicators) one panel per
  indicator would take many seconds. Panels with more than charts.MAX_LINES areas draw a band and the median.
  Measures share a row of three panels where they fit (render_report.chart_layout).
- The demo workspace's report fits five A4 pages: the paper shows the answer, Markdown and the workbook hold
  the detail. Sections with `formats` say where they stand: the protocols on paper are the table of those still
  missing a signature (who is missing) and one sentence naming the complete ones, every protocol in the workbook;
  the overdue deliveries are one paragraph per office on paper and a full list in the workbook; the social
  index is the matrix chart and the districts that need attention on paper, every district in the workbook
  (commands/report_sozialindex.py). The social index and the charts follow the tables, so that the tables fill
  the pages before them; no forced page break stands before them (their headings keep to what follows).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from typing import TYPE_CHECKING

from storage.models import Indicator, Measure, Meeting, Step

from . import fmt
from . import protocols as signing
from .agenda import HELD, MISSING, PLANNED, UPCOMING, MeasureMeetings, measure_meetings, meeting_state, settling_meeting
from .charts import MAX_LINES, ChartWords, Line, Panel, line_chart, small_multiples
from .deliveries import Due, Expected, as_due, expected_deliveries, next_due
from .lookup import find_indicator, some_names
from .periods import Period, PeriodError, period_label
from .periods import next as next_period
from .registry import Caller, UsageError, command, take_measure
from .reply import Attachment, Reply, ReplyBuilder
from .state import State

if TYPE_CHECKING:
    from .report_sozialindex import SozialindexReport

__all__ = [
    "FORMATS",
    "MAX_PANELS",
    "Column",
    "FieldGroup",
    "IndicatorRow",
    "Mark",
    "MeetingRow",
    "ProtocolRow",
    "ReportData",
    "Section",
    "Summary",
    "SummaryRow",
    "Table",
    "build_report",
    "chart_words",
    "indicator_panel",
    "long_day",
    "meeting_cell",
    "period_label",
    "sparkline",
]

FORMATS = ("html", "pdf", "xlsx", "md")
MAX_PANELS = 6  # indicators per measure drawn in the report
MAX_ATTENTION = 5  # things the first page puts in front of the committee
ATTENTION_OFFICES = 4  # offices named in the overdue-deliveries item
ATTENTION_IDS = 6  # beyond this many measures an item gives their number instead of the list
SPARK = "▁▂▃▄▅▆▇█"
SPARK_PERIODS = 8
SHORT_TITLE = 64  # characters of a title on the first page

Cell = str | float | int | date | datetime | None


@dataclass(frozen=True)
class Column:
    """kind: text | number | change | date | datetime | italic | trend (a sparkline: text in its own type);
    width in characters (XLSX column width).

    An `optional` column is left out of the reading formats when it is empty in every row. On paper (HTML) a
    cell of a column that `widens` "left" or "right" also takes the empty cells on that side of it in its row:
    "überfällig seit …" of an indicator without a value runs over the empty value columns, a range of values over
    the empty change and trend, instead of wrapping into three or four lines."""

    title: str
    kind: str = "text"
    width: int = 14
    optional: bool = False
    widens: str = ""  # "left" | "right": on paper, over the empty cells on that side


@dataclass(frozen=True)
class Table:
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]


READING = frozenset({"md", "html", "pdf"})
EVERY = READING | {"xlsx"}


@dataclass(frozen=True)
class Section:
    """One part of the report: a heading, paragraphs, one table (one XLSX sheet) and notes after it.

    `sheet_table` is the workbook's (more detailed) table where it differs from the one people read.
    """

    key: str
    heading: str
    sheet: str
    table: Table | None
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    empty: str = ""  # said instead of the table when it has no rows
    formats: frozenset[str] = EVERY
    sheet_table: Table | None = None

    @property
    def workbook_table(self) -> Table | None:
        return self.sheet_table or self.table


@dataclass(frozen=True)
class Mark:
    """A status mark on the first page. kind: ok (done, current) | plan (scheduled, open, not due) |
    warn (needs attention) | none (nothing to report)."""

    kind: str
    text: str

    @property
    def symbol(self) -> str:
        return {"ok": "✓", "plan": "○", "warn": "!", "none": "–"}[self.kind]

    def plain(self) -> str:
        return f"{self.symbol} {self.text}"


@dataclass(frozen=True)
class SummaryRow:
    measure: str  # "M 21"
    title: str  # shortened; the full title stands in the detail tables
    lead: str
    phase: int
    meeting: Mark
    protocol: Mark
    indicators: Mark
    steps: Mark


@dataclass(frozen=True)
class FieldGroup:
    field: str
    rows: tuple[SummaryRow, ...]


@dataclass(frozen=True)
class Summary:
    heading: str
    groups: tuple[FieldGroup, ...]
    columns: tuple[str, ...]  # measure, title, lead, meeting, protocol, indicators, steps
    attention_heading: str
    attention: tuple[str, ...]
    legend: str
    nothing: str  # said instead of the list when nothing needs attention
    general_steps: str = ""  # "Dazu 2 Schritte, die alle Maßnahmen betreffen."


@dataclass(frozen=True)
class MeetingRow:
    measure: str
    cell: str  # 'M 14, „Es werden …“' (the bare number where the title already stood)
    day: date
    approach: str  # approach plus the measure's hint where the document has it
    at: time | None = None


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
    """The panels of one measure for the report; `more` names the indicators left out; `continued` is the title
    of its panels that the layout moves on to the next row."""

    measure: str
    title: str
    panels: tuple[Panel, ...]
    more: str = ""
    continued: str = ""


@dataclass(frozen=True)
class ReportData:
    today: date
    lang: str
    title: str
    stand: str
    intro: tuple[str, ...]
    legend: str  # "Kursiv: die noch ausstehenden Schritte …", printed in italics before the steps
    meetings: tuple[MeetingRow, ...]
    upcoming: tuple[MeetingRow, ...]
    unscheduled: tuple[str, ...]  # measure ids
    unscheduled_note: str
    protocols: tuple[ProtocolRow, ...]
    indicators: tuple[IndicatorRow, ...]
    sections: tuple[Section, ...]
    summary: Summary | None = None
    charts: tuple[ChartGroup, ...] = ()
    chart_words: ChartWords | None = None
    footer: str = ""
    moment: datetime | None = None  # the report's "as of", to the minute
    labels: dict[str, str] = field(default_factory=dict)  # words the layouts need (page, of, …)

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


def meeting_cell(measure: Measure | None, measure_id: str, *, with_title: bool = True) -> str:
    """'M 14, „Es werden …“' as the document's first column writes it; the bare number without a title."""
    number = measure.number if measure else _number(measure_id)
    return f"{number}, „{measure.title}“" if with_title and measure and measure.title else number


def _approach_cell(state: State, meeting: Meeting, measure: Measure | None) -> str:
    approach = meeting.approach
    hint = measure.hint if measure else ""
    # M 24's approach already carries its hint word for word; do not say it twice.
    if not hint or hint in approach:
        return approach
    note = state.t("report.hint", hint=hint)
    return f"{approach}; {note}" if approach else note


def sparkline(values: Sequence[float | None]) -> str:
    """The last SPARK_PERIODS periods as bars from 0 (like the charts); a period without a value is a space."""
    vals = list(values)[-SPARK_PERIODS:]
    present = [v for v in vals if v is not None]
    if len(present) < 2:
        return ""
    low, high = min(0.0, *present), max(0.0, *present)
    if high == low:
        return "".join(SPARK[0] if v is not None else " " for v in vals)
    scale = (len(SPARK) - 1) / (high - low)
    return "".join(SPARK[round((v - low) * scale)] if v is not None else " " for v in vals)


def chart_words(state: State) -> ChartWords:
    return ChartWords(y_label=state.t("chart.y"), y_word=state.t("chart.y_word"), band=state.t("chart.band"),
                      median=state.t("chart.median"), no_data=state.t("chart.no_data"), gap=state.t("chart.gap"),
                      quarter=state.t("chart.quarter"), half=state.t("chart.half"))


def _moment(state: State, now: datetime | date) -> datetime:
    """The report's "as of" in local wall-clock time; a bare date means the end of that day."""
    if isinstance(now, datetime):
        return state.local(now).replace(tzinfo=None)
    return datetime.combine(now, time(23, 59, 59))


# ---------------------------------------------------------------- indicator data
@lru_cache(maxsize=4096)
def _period_order(key: str) -> tuple:
    # A report sorts 10^5 values by a few dozen distinct period keys: parse each key once.
    try:
        p = Period.from_key(key)
        return (0, p.start, p.end, key)
    except PeriodError:
        return (1, date.max, date.max, key)


def _series(state: State, ind: Indicator) -> tuple[list[str], dict[str, list[tuple[str, float | None, str]]]]:
    """(periods in time order, area -> [(period, value, note)] in time order), whole city first."""
    by_area = state.store.series(ind.id)
    held = {p for points in by_area.values() for p, _, _ in points}
    periods = sorted(held, key=_period_order)
    areas = sorted(by_area.items(), key=lambda kv: (kv[0] != "", kv[0].casefold()))
    if periods == sorted(held):
        # The store lists each area's values in the order of the keys' text: that is already time order.
        return periods, dict(areas)
    rank = {p: k for k, p in enumerate(periods)}
    return periods, {area: sorted(points, key=lambda x: rank[x[0]]) for area, points in areas}


def _calendar(periods: list[str]) -> list[str]:
    """The periods with every missing one in between filled in (2022, 2023, 2025 -> 2022 … 2025)."""
    return list(_calendar_of(tuple(periods)))


@lru_cache(maxsize=256)
def _calendar_of(periods: tuple[str, ...]) -> tuple[str, ...]:
    # Most indicators of a report share their periods: fill each distinct run in once.
    try:
        parsed = [Period.from_key(k) for k in periods]
    except PeriodError:
        return periods
    if not parsed or len({p.kind for p in parsed}) != 1 or parsed[0].kind == "tag":
        return periods
    out: list[str] = []
    current = parsed[0]
    while current <= parsed[-1] and len(out) < 400:
        out.append(current.key)
        current = next_period(current)
    return tuple(out)


def _panel(state: State, ind: Indicator, periods: list[str], by_area: dict, *, short_title: bool,
           areas: Sequence[str] | None = None) -> Panel:
    index = {p: k for k, p in enumerate(periods)}
    lines = []
    for area, points in by_area.items():
        if areas is not None and area not in areas:
            continue
        values: list[float | None] = [None] * len(periods)
        for period, value, _ in points:
            values[index[period]] = value
        label = area or state.t("whole_city")
        lines.append(Line(label, tuple(values), emphasis=not area))
    if areas is not None:
        order = {a: k for k, a in enumerate(areas)}
        lines.sort(key=lambda line: order.get("" if line.emphasis else line.label, len(order)))
    title = ind.name if short_title else f"{_number(ind.measure)} · {ind.name}"
    return Panel(title, ind.unit, tuple(periods), tuple(lines))


def indicator_panel(state: State, ind: Indicator, areas: Sequence[str] | None = None) -> Panel:
    periods, by_area = _series(state, ind)
    return _panel(state, ind, periods, by_area, short_title=False, areas=areas)


def _indicator_rows(state: State, ind: Indicator, periods: list[str], by_area: dict) -> list[IndicatorRow]:
    if not by_area:
        return [IndicatorRow(ind.measure, ind.id, ind.name, ind.unit, "",
                             note=state.t("indicators.not_delivered"))]
    calendar = _calendar(periods)
    rows = []
    for area, points in by_area.items():
        period, value, note = points[-1]
        prev_period, prev_value = (points[-2][0], points[-2][1]) if len(points) > 1 else ("", None)
        values = {p: v for p, v, _ in points}
        spark = sparkline([values.get(p) for p in calendar])
        rows.append(IndicatorRow(ind.measure, ind.id, ind.name, ind.unit, area, period, value, prev_period,
                                 prev_value, spark, note))
    return rows


# ---------------------------------------------------------------- the report
@dataclass
class _Facts:
    """What the summary and the sections share, computed once."""

    moment: datetime
    today: date
    agenda: dict[str, MeasureMeetings]
    protocols: list[ProtocolRow]
    expected: list[Expected]
    steps: list[Step]  # open steps, without the settled ones
    settled: list[tuple[Step, Meeting]]


def build_report(state: State, now: datetime | date, *, charts: bool = True) -> ReportData:
    """Everything the committee report says as of `now` (a moment, or a day meaning its end), as data."""
    t, lang = state.t, state.lang
    catalogue, store = state.catalogue, state.store
    measures = catalogue.measures
    moment = _moment(state, now)
    today = moment.date()

    agenda = measure_meetings(store.meetings(), measures, moment)
    protocols = [ProtocolRow(p.measure, p.meeting_day, p.sent_on, p.version, tuple(signing.signatories(state, p)),
                             tuple(signing.missing(state, p))) for p in store.protocols()]
    open_steps, settled = [], []
    for s in store.steps():
        meeting = settling_meeting(s, agenda.get(s.measure))
        if meeting is None:
            open_steps.append(s)
        else:
            settled.append((s, meeting))
    facts = _Facts(moment, today, agenda, protocols, expected_deliveries(state, None, today), open_steps, settled)

    # Meetings: held up to the report moment in the document's order, then the upcoming ones; a measure's full
    # title stands in the first table it appears in.
    titled: set[str] = set()

    def row(x: Meeting) -> MeetingRow:
        m = measures.get(x.measure)
        cell = meeting_cell(m, x.measure, with_title=x.measure not in titled)
        titled.add(x.measure)
        return MeetingRow(x.measure, cell, x.day, _approach_cell(state, x, m), x.time)  # type: ignore[arg-type]

    dated = store.meetings()
    held = [row(x) for x in dated if meeting_state(x, moment) == HELD]
    later = [row(x) for x in dated if meeting_state(x, moment) == UPCOMING]
    unscheduled = tuple(mid for mid, a in agenda.items() if a.status == MISSING)
    numbers = [_number(mid) for mid in unscheduled]
    note = (t("unscheduled.one" if len(numbers) == 1 else "unscheduled.many", ids=_and_join(state, numbers))
            if numbers else "")

    # Indicators: rows and one chart group per measure.
    ind_rows: list[IndicatorRow] = []
    groups: list[ChartGroup] = []
    for mid, m in measures.items():
        panels: list[Panel] = []
        left_out: list[str] = []
        for ind in catalogue.indicators_of(mid):
            periods, by_area = _series(state, ind)
            ind_rows += _indicator_rows(state, ind, periods, by_area)
            if not charts or not by_area:
                continue
            if len(panels) < MAX_PANELS:
                panels.append(_panel(state, ind, periods, by_area, short_title=True))
            else:
                left_out.append(ind.name)
        if panels:
            more = t("charts.more", measure=m.number, names=", ".join(left_out), id=mid) if left_out else ""
            groups.append(ChartGroup(mid, t("charts.title", measure=m.number), tuple(panels), more,
                                     t("charts.title_continued", measure=m.number)))

    late = [as_due(e, lang) for e in facts.expected if not e.delivered]
    stand = long_day(state, today)
    p1 = sum(1 for m in measures.values() if m.phase == 1)
    intro = (t("report.intro", n=len(measures)), t("report.phases", p1=p1, p2=len(measures) - p1))

    index = _sozialindex(state, charts=charts)  # social index hook (commands/report_sozialindex.py)
    summary = _summary(state, facts, index.attention)
    sections = (
        _summary_section(state, summary),
        _meetings_section(state, held, note, stand),
        *([_upcoming_section(state, later)] if later else []),
        _unscheduled_section(state, [measures[mid] for mid in unscheduled], titled),
        *_protocol_sections(state, protocols),
        _indicators_section(state, ind_rows, facts),
        _deliveries_section(state, facts.expected),
        _overdue_section(state, late, today),
        _overdue_brief_section(state, late, today),
        _steps_section(state, facts),
        # After the state of the measures: the social index (what the indicators say about the districts),
        # then the charts; each keeps its heading with its first figure.
        *index.sections,
        *([_charts_section(state, bool(groups))] if charts else []),
    )
    clock = fmt.clock(moment.time()) if isinstance(now, datetime) else ""
    footer = (t("report.generated_at", day=fmt.day(today, lang), time=clock) if clock
              else t("report.generated", day=fmt.day(today, lang)))
    return ReportData(
        today=today, lang=lang, title=t("report.title"), stand=t("report.stand", day=stand),
        intro=intro, legend=t("report.italic_legend"), meetings=tuple(held), upcoming=tuple(later),
        unscheduled=unscheduled, unscheduled_note=note, protocols=tuple(protocols), indicators=tuple(ind_rows),
        sections=sections, summary=summary, charts=tuple(groups), chart_words=chart_words(state),
        footer=footer, moment=moment,
        labels={"page": t("report.page"), "of": t("report.page_of"), "short_title": t("report.short_title"),
                "contents": t("report.contents")},
    )


# ---------------------------------------------------------------- sections
def _sozialindex(state: State, *, charts: bool) -> SozialindexReport:
    # Social index hook: its sections live in their own module (imported here, it imports Section from us).
    from .report_sozialindex import sozialindex_report

    return sozialindex_report(state, charts=charts)


# ---------------------------------------------------------------- the first page
def _when(state: State, meeting: Meeting) -> str:
    day = fmt.day(meeting.day, state.lang)
    return state.t("report.day_time", day=day, time=fmt.clock(meeting.time)) if meeting.time else day


def _meeting_mark(state: State, a: MeasureMeetings) -> Mark:
    t = state.t
    if a.status == HELD:
        text = fmt.day(a.last_held.day, state.lang)  # type: ignore[union-attr]
        if a.next is not None:
            text = t("sum.meeting_next", day=text, next=_when(state, a.next))
        return Mark("ok", text)
    if a.status == PLANNED:
        return Mark("plan", t("sum.meeting_planned", when=_when(state, a.next)))  # type: ignore[arg-type]
    return Mark("warn", t("sum.meeting_missing"))


def _protocol_mark(state: State, a: MeasureMeetings, protocols: list[ProtocolRow]) -> Mark:
    t = state.t
    if not protocols:
        return Mark("plan", t("sum.protocol_not_sent")) if a.status == HELD else Mark("none", t("sum.none"))
    last = protocols[-1]
    if not last.signatories:
        return Mark("warn", t("sum.protocol_no_signatories"))
    signed = len(last.signatories) - len(last.missing)
    text = t("sum.protocol_signed", signed=signed, required=len(last.signatories))
    older = sum(1 for p in protocols[:-1] if not p.complete)
    if older:
        text = t("sum.protocol_older", text=text, n=older)
    return Mark("ok" if last.complete and not older else "warn", text)


def _indicator_mark(state: State, indicators: list[Indicator], late: dict[str, int], delivered: set[str]) -> Mark:
    t = state.t
    if not indicators:
        return Mark("none", t("sum.indicators_none"))
    n_late = sum(1 for i in indicators if late.get(i.id))
    current = sum(1 for i in indicators if i.id in delivered and not late.get(i.id))
    if n_late:
        return Mark("warn", t("sum.indicators_late", late=n_late, n=len(indicators)))
    if current == len(indicators):
        return Mark("ok", t("sum.indicators_current", n=current))
    return Mark("plan", t("sum.indicators_waiting", current=current, n=len(indicators)))


def _steps_mark(state: State, steps: list[Step], today: date) -> Mark:
    t = state.t
    if not steps:
        return Mark("ok", t("sum.steps_none"))
    late = sum(1 for s in steps if s.due and s.due < today)
    if late:
        return Mark("warn", t("sum.steps_late", n=len(steps), late=late))
    return Mark("plan", t("sum.steps_open", n=len(steps)))


def _summary(state: State, f: _Facts, sozialindex: str = "") -> Summary:
    t = state.t
    catalogue = state.catalogue
    late_by_indicator: dict[str, int] = {}
    for e in f.expected:
        if not e.delivered:
            late_by_indicator[e.indicator] = late_by_indicator.get(e.indicator, 0) + 1
    delivered = {i for i in catalogue.indicators if state.store.periods(i)}
    groups = []
    for field_name, measures in catalogue.measures_by_field().items():
        rows = []
        for m in measures:
            a = f.agenda[m.id]
            rows.append(SummaryRow(
                m.number, fmt.short(m.title, SHORT_TITLE) if m.title else t("no_title"), ", ".join(m.lead_offices),
                m.phase, _meeting_mark(state, a), _protocol_mark(state, a, [p for p in f.protocols
                                                                             if p.measure == m.id]),
                _indicator_mark(state, catalogue.indicators_of(m.id), late_by_indicator, delivered),
                _steps_mark(state, [s for s in f.steps if s.measure == m.id], f.today)))
        if rows:
            groups.append(FieldGroup(t("field." + field_name) if field_name else "", tuple(rows)))
    general = [s for s in f.steps if not s.measure]
    columns = tuple(t(f"sum.col.{k}") for k in ("measure", "title", "lead", "meeting", "protocol", "indicators",
                                                 "steps"))
    attention = _attention(state, f, delivered, sozialindex)
    return Summary(t("sec.summary"), tuple(groups), columns, t("sum.attention"), attention, t("sum.legend"),
                   t("att.none"), t("sum.general_steps", n=len(general)) if general else "")


def _attention(state: State, f: _Facts, delivered: set[str], sozialindex: str = "") -> tuple[str, ...]:
    """The things the committee should hear about, most pressing first, at most MAX_ATTENTION.

    `sozialindex` is the social index's item (districts in "sehr niedrig" or "negativ"): the one finding about
    the city rather than the work, it comes after what someone must do now and before the gaps in the set-up."""
    t, lang = state.t, state.lang
    catalogue = state.catalogue
    items: list[str] = []
    missing = [_number(mid) for mid, a in f.agenda.items() if a.status == MISSING]
    if missing:
        items.append(t("att.unscheduled", n=len(missing), ids=_and_join(state, missing)))
    late = [e for e in f.expected if not e.delivered]
    if late:
        per_office: dict[str, int] = {}
        for e in late:
            per_office[e.office or t("report.no_office")] = per_office.get(e.office or t("report.no_office"), 0) + 1
        ranked = sorted(per_office.items(), key=lambda kv: (-kv[1], kv[0]))
        offices = ", ".join(f"{o}: {n}" for o, n in ranked[:ATTENTION_OFFICES])
        if len(ranked) > ATTENTION_OFFICES:
            offices = t("att.more_offices", offices=offices, n=len(ranked) - ATTENTION_OFFICES)
        items.append(t("att.deliveries", n=len(late), day=fmt.day(min(e.due for e in late), lang), offices=offices))
    unsigned = [p for p in f.protocols if p.signatories and p.missing]
    if unsigned:
        parts = [t("att.protocol_item", measure=_number(p.measure), signed=len(p.signatories) - len(p.missing),
                   required=len(p.signatories)) for p in unsigned]
        items.append(t("att.signatures", n=len(unsigned), items=", ".join(parts)))
    late_steps = [s for s in f.steps if s.due and s.due < f.today]
    if late_steps:
        parts = [t("att.step_item", measure=_number(s.measure) if s.measure else t("report.all_measures"),
                   day=fmt.day(s.due, lang)) for s in late_steps]
        items.append(t("att.steps", n=len(late_steps), items=", ".join(parts)))
    if sozialindex:
        items.append(sozialindex)
    with_protocol = {p.measure for p in f.protocols}
    no_protocol = [_number(mid) for mid, a in f.agenda.items() if a.status == HELD and mid not in with_protocol]
    if no_protocol:
        key = "att.no_protocol" if len(no_protocol) <= ATTENTION_IDS else "att.no_protocol_many"
        items.append(t(key, n=len(no_protocol), ids=_and_join(state, no_protocol)))
    no_indicators = [_number(mid) for mid in catalogue.measures if not catalogue.indicators_of(mid)]
    if no_indicators:
        key = "att.no_indicators" if len(no_indicators) <= ATTENTION_IDS else "att.no_indicators_many"
        items.append(t(key, n=len(no_indicators), ids=_and_join(state, no_indicators)))
    upcoming = sorted((a.next for a in f.agenda.values() if a.next is not None),
                      key=lambda m: (m.day, m.time or time(0), m.seq))
    if upcoming:
        x = upcoming[0]
        items.append(t("att.next_meeting", measure=_number(x.measure), when=_when(state, x),
                       approach=x.approach or "—"))
    return tuple(items[:MAX_ATTENTION])


def _summary_section(state: State, s: Summary) -> Section:
    """The first page as a table for Markdown and the workbook's first sheet (the HTML has its own layout)."""
    t = state.t
    rows = []
    for g in s.groups:
        for r in g.rows:
            rows.append((g.field, r.measure, r.title, r.lead, "I" * r.phase, r.meeting.plain(), r.protocol.plain(),
                         r.indicators.plain(), r.steps.plain()))
    cols = (_col(state, "field", width=14), Column(s.columns[0], "text", 11), Column(s.columns[1], "text", 46),
            Column(s.columns[2], "text", 16), _col(state, "phase", width=7), Column(s.columns[3], "text", 24),
            Column(s.columns[4], "text", 20), Column(s.columns[5], "text", 22), Column(s.columns[6], "text", 20))
    after = (t("sum.attention_plain"), *(f"– {a}" for a in s.attention)) if s.attention else (t("att.none"),)
    return Section("summary", s.heading, t("sheet.summary"), Table(cols, tuple(rows)),
                   after=(*after, *((s.general_steps,) if s.general_steps else ()), s.legend))


# ---------------------------------------------------------------- sections
def _col(state: State, key: str, kind: str = "text", width: int = 14, *, optional: bool = False,
         widens: str = "") -> Column:
    return Column(state.t(f"col.{key}"), kind, width, optional, widens)


def _meeting_table(state: State, rows: list[MeetingRow], *, with_time: bool = False) -> Table:
    cols = (_col(state, "meeting_measure", width=80), _col(state, "day", "datetime" if with_time else "date", 16),
            _col(state, "approach", width=50))
    return Table(cols, tuple((r.cell, datetime.combine(r.day, r.at) if with_time and r.at else r.day, r.approach)
                             for r in rows))


def _meetings_section(state: State, held: list[MeetingRow], note: str, stand: str) -> Section:
    t = state.t
    return Section("meetings", t("sec.meetings"), t("sheet.meetings"), _meeting_table(state, held),
                   before=(t("meetings.intro", day=stand),), after=(note,) if note else (),
                   empty=t("meetings.none", day=stand))


def _upcoming_section(state: State, later: list[MeetingRow]) -> Section:
    t = state.t
    return Section("upcoming", t("sec.upcoming"), t("sheet.upcoming"), _meeting_table(state, later, with_time=True),
                   before=(t("upcoming.intro"),))


def _unscheduled_section(state: State, measures: list[Measure], titled: set[str]) -> Section:
    t = state.t
    cols = (_col(state, "measure", width=10), _col(state, "title", width=70),
            _col(state, "hint", width=50, optional=True))
    rows = []
    for m in measures:
        rows.append((m.number, (m.title or t("no_title")) if m.id not in titled else "", m.hint))
        titled.add(m.id)
    return Section("unscheduled", t("sec.unscheduled"), t("sheet.unscheduled"), Table(cols, tuple(rows)),
                   empty=t("unscheduled.none"))


def _protocol_sections(state: State, protocols: list[ProtocolRow]) -> tuple[Section, Section]:
    """The full table for the workbook and Markdown; for the committee (HTML, PDF) the rows of the protocols still
    waiting for a signature (who is missing), and the complete ones named in one sentence."""
    t, lang = state.t, state.lang
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
    heading, intro = t("sec.protocols"), t("protocols.intro")
    full = Section("protocols", heading, t("sheet.protocols"), Table(cols, tuple(rows)), before=(intro,),
                   empty=t("protocols.none"), formats=frozenset({"md", "xlsx"}))
    # On paper every row is open: the last column says only who is missing.
    open_rows = tuple((*row[:5], ", ".join(p.missing) if p.signatories else row[5])
                      for row, p in zip(rows, protocols, strict=True) if not p.complete)
    open_cols = (*cols[:5], _col(state, "missing", width=60))
    done = [t("protocols.brief_item", measure=_number(p.measure), day=fmt.day(p.meeting_day, lang))
            for p in protocols if p.complete]
    # One paragraph before the table: the document's sentence, what is done, what the table lists and where
    # the rest stands; the table ends the section, so that no note after it can be left alone on a page.
    before = [intro]
    if done:
        before.append(t("protocols.brief_complete", n=len(done), items=", ".join(done)))
    if open_rows:
        before.append(t("protocols.brief_open", n=len(open_rows), total=len(protocols), sheet=t("sheet.protocols")))
    brief = Section("protocols_brief", heading, "", Table(open_cols, open_rows), before=(" ".join(before),),
                    empty=t("protocols.brief_none", n=len(protocols)) if protocols else t("protocols.none"),
                    formats=frozenset({"html", "pdf"}))
    return full, brief


def _delivery_state(state: State, ind: Indicator, late: dict[str, list[Expected]], today: date,
                    delivered: bool) -> str:
    """'überfällig seit …' (the oldest missing period), else 'aktuell; nächste fällig am …' (or, before the
    first delivery, 'noch keine Lieferung; fällig am …')."""
    t, lang = state.t, state.lang
    missing = late.get(ind.id)
    if missing:
        first = min(missing, key=lambda e: e.due)
        more = t("ind.late_more", n=len(missing) - 1) if len(missing) > 1 else ""
        return t("ind.late", day=fmt.day(first.due, lang), period=first.period.label(lang), more=more)
    due = next_due(state, ind, today)
    if not delivered:
        return t("ind.not_yet", day=fmt.day(due.due, lang)) if due else t("indicators.not_delivered")
    return t("ind.current", day=fmt.day(due.due, lang)) if due else t("ind.current_plain")


def _indicators_section(state: State, rows: list[IndicatorRow], f: _Facts) -> Section:
    t, lang = state.t, state.lang
    whole = t("whole_city")
    labels: dict[str, str] = {}

    def label(key: str) -> str:
        # Thousands of rows share a few dozen period keys: label each once.
        if key not in labels:
            labels[key] = period_label(key, lang) if key else ""
        return labels[key]

    # The workbook: every area.
    sheet_rows = tuple(
        (_number(r.measure), r.name, r.unit, r.area or whole, label(r.period), r.value, label(r.previous_period),
         r.previous_value, r.change, r.trend, r.note) for r in rows)
    sheet_cols = (_col(state, "measure", width=10), _col(state, "indicator", width=40), _col(state, "unit", width=9),
                  _col(state, "area", width=16), _col(state, "period", width=16), _col(state, "value", "number", 12),
                  _col(state, "previous_period", width=16), _col(state, "previous_value", "number", 12),
                  _col(state, "change", "change", 12), _col(state, "trend", width=12), _col(state, "note", width=30))

    # For reading: one row per indicator; the whole city where delivered, else the range over the areas.
    late: dict[str, list[Expected]] = {}
    for e in f.expected:
        if not e.delivered:
            late.setdefault(e.indicator, []).append(e)
    catalogue = state.catalogue
    by_indicator: dict[str, list[IndicatorRow]] = {}
    for r in rows:
        by_indicator.setdefault(r.indicator, []).append(r)
    # measure, indicator, unit, period, value (or the range over the areas), change, trend, delivery, note
    reading: list[tuple[str, str, str, str, float | str | None, float | None, str, str, str]] = []
    for ind_id, group in by_indicator.items():
        ind = catalogue.indicators.get(ind_id)
        first = group[0]
        undelivered = first.value is None and not first.period
        delivery = _delivery_state(state, ind, late, f.today, not undelivered) if ind else ""
        if undelivered:
            reading.append((_number(first.measure), first.name, first.unit, "—", None, None, "", delivery, ""))
            continue
        if first.area == "":
            extra = t("ind.and_areas", n=len(group) - 1) if len(group) > 1 else ""
            reading.append((_number(first.measure), first.name + extra, first.unit, label(first.period), first.value,
                            first.change, first.trend, delivery, first.note))
            continue
        # Only areas: the lowest and the highest value of the latest period, with their areas.
        period = max((r.period for r in group), key=_period_order)
        latest = [r for r in group if r.period == period and r.value is not None]
        if latest:
            low = min(latest, key=lambda r: (r.value, r.area))
            high = max(latest, key=lambda r: (r.value, r.area))
            span = t("ind.range", low=fmt.number(low.value, lang), low_area=low.area,
                     high=fmt.number(high.value, lang), high_area=high.area)
        else:
            span = "—"
        count = (t("ind.areas", n=len(group)) if len(latest) == len(group)
                 else t("ind.areas_some", n=len(latest), total=len(group)))
        notes = list(dict.fromkeys(r.note for r in latest if r.note))
        note = "; ".join(notes[:2]) + ("; …" if len(notes) > 2 else "")
        reading.append((_number(first.measure), first.name + count, first.unit, label(period), span, None, "",
                        delivery, note))
    cols = (_col(state, "measure", width=10), _col(state, "indicator", width=40), _col(state, "unit", width=9),
            _col(state, "period", width=16), _col(state, "value", "number", 12, widens="right"),
            _col(state, "change_short", "change", 12), _col(state, "trend", "trend", 10),
            _col(state, "delivery", width=30, widens="left"), _col(state, "note", width=24, optional=True))
    return Section("indicators", t("sec.indicators"), t("sheet.indicators"), Table(cols, tuple(reading)),
                   before=(t("indicators.intro"),), empty=t("indicators.none"),
                   sheet_table=Table(sheet_cols, sheet_rows))


def _charts_section(state: State, any_chart: bool) -> Section:
    t = state.t
    return Section("charts", t("sec.charts"), "", None, before=(t("charts.intro", n=MAX_LINES),),
                   empty="" if any_chart else t("charts.none"), formats=frozenset({"html", "pdf"}))


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
    cols = (_col(state, "office", width=16), _col(state, "measure", width=10), _col(state, "indicator", width=44),
            _col(state, "period", width=16), _col(state, "due", "date", 12))
    return Section("overdue", t("sec.overdue"), t("sheet.overdue"), Table(cols, rows),
                   empty=t("overdue.none", day=fmt.day(today, state.lang)), formats=frozenset({"md", "xlsx"}))


def _overdue_brief_section(state: State, late: list[Due], today: date) -> Section:
    """For the committee (HTML, PDF): per office the measures and periods overdue, in one paragraph; the
    indicators stand in the indicators table, the list in full in the workbook and in Markdown."""
    t = state.t
    per_office: dict[str, dict[tuple[str, str], int]] = {}
    for d in sorted(late, key=lambda d: (d.office.casefold(), d.measure, d.due, d.period)):
        key = (_number(d.measure), d.label or period_label(d.period, state.lang))
        counts = per_office.setdefault(d.office or t("report.no_office"), {})
        counts[key] = counts.get(key, 0) + 1
    items = [t("overdue.brief_office", office=office,
               measures=", ".join(t("overdue.brief_measure", measure=m, period=p, n=n) for (m, p), n in counts.items()))
             for office, counts in per_office.items()]
    before = (t("overdue.brief", n=len(late), items="; ".join(items), sheet=t("sheet.overdue")),) if late else ()
    return Section("overdue_brief", t("sec.overdue"), "", None, before=before,
                   empty="" if late else t("overdue.none", day=fmt.day(today, state.lang)),
                   formats=frozenset({"html", "pdf"}))


def _steps_section(state: State, f: _Facts) -> Section:
    """For reading, steps with the same text, due date and person are one row naming all their measures (the
    document's "Indikatoren konkretisieren" for all 14); the workbook keeps one numbered row per step."""
    t, lang = state.t, state.lang

    def who(s: Step) -> str:
        return _number(s.measure) if s.measure else t("report.all_measures")

    groups: dict[tuple, list[Step]] = {}
    for s in f.steps:
        groups.setdefault((" ".join(s.text.split()), s.due, s.who, s.measure == ""), []).append(s)
    reading = []
    for (text, due, person, _), steps in groups.items():
        ids = [who(s) for s in steps]
        label = t("steps.all_measures_listed") if len(ids) == len(state.catalogue.measures) > 1 else ", ".join(ids)
        reading.append((label, text, due, person))
    cols = (_col(state, "measures", width=18), _col(state, "step", "italic", 80),
            _col(state, "until", "date", 12, optional=True), _col(state, "who", width=20, optional=True))
    sheet = Table((_col(state, "measure", width=14), _col(state, "number", "number", 6),
                   _col(state, "step", "italic", 80), _col(state, "until", "date", 12), _col(state, "who", width=20)),
                  tuple((who(s), s.number, s.text, s.due, s.who) for s in f.steps))
    after = tuple(t("steps.settled", text=s.text, measure=_number(s.measure), when=_when(state, m))
                  for s, m in f.settled)
    late = sum(1 for s in f.steps if s.due and s.due < f.today)
    before = (t("report.italic_legend"),) + ((t("steps.late", n=late, day=fmt.day(f.today, lang)),) if late else ())
    return Section("steps", t("sec.steps"), t("sheet.steps"), Table(cols, tuple(reading)), before=before,
                   after=after, empty=t("steps.none"), sheet_table=sheet)


# ---------------------------------------------------------------- chat commands
@command("bericht", en="report", usage="[html|pdf|xlsx|md]")
def bericht(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Der Bericht für den Sozialausschuss als Datei (html, pdf, xlsx oder md)."""
    from .render_report import PdfUnavailable, render

    if len(args) > 1:
        raise UsageError("bericht.bad_format", found=" ".join(args))
    choice = args[0].casefold().lstrip(".") if args else "html"
    choice = {"markdown": "md", "text": "md", "excel": "xlsx", "htm": "html"}.get(choice, choice)
    if choice not in FORMATS:
        raise UsageError("bericht.bad_format", found=args[0])
    today = state.local(now).date()
    report = build_report(state, now, charts=choice in ("html", "pdf"))
    try:
        data, mime = render(report, choice, kept=state.figures)
    except PdfUnavailable as exc:
        return ReplyBuilder().line(state.t("bericht.pdf_unavailable", reason=exc.reason)).build("error")
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


def _area_key(text: str) -> str:
    """'Koblenz-Karthause-Nord', 'karthause nord' and 'Karthause Nord' are one area."""
    key = " ".join(text.replace("-", " ").replace("_", " ").split()).casefold()
    return key.removeprefix("koblenz ").removeprefix("stadtteil ")


def _resolve_areas(state: State, wanted: str, present: Sequence[str]) -> tuple[list[str], list[str]]:
    """(areas of the series named in `wanted`, names that match none); '' stands for the whole city."""
    whole = {_area_key(w) for w in (state.t("whole_city"), "gesamtstadt", "stadt gesamt", "whole city", "stadt")}
    keys = {_area_key(a): a for a in present if a}
    found, unknown = [], []
    for name in (p.strip() for p in wanted.split(",")):
        if not name:
            continue
        key = _area_key(name)
        if key in whole and "" in present:
            area = ""
        elif key in keys:
            area = keys[key]
        else:
            unknown.append(name)
            continue
        if area not in found:
            found.append(area)
    return found, unknown


@command("trend", en="chart", usage="Mxx [INDIKATOR] [GEBIET,GEBIET]", usage_en="Mxx [INDICATOR] [AREA,AREA]")
def trend(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Liniendiagramm (PNG) eines Indikators über die Zeit, je Gebiet; mit GEBIET,GEBIET nur diese Gebiete."""
    measure, rest = take_measure(state, args, "trend")
    t, lang = state.t, state.lang
    indicators = state.catalogue.indicators_of(measure.id)
    if not indicators:
        return ReplyBuilder().line(t("trend.no_indicators", measure=measure.number)).build()
    words = chart_words(state)
    stamp = state.local(now).date().isoformat()
    if rest:
        # The longest leading words that name an indicator; what follows names the areas.
        ind, area_text = None, ""
        for k in range(len(rest), 0, -1):
            ind = _find_indicator(state, measure, " ".join(rest[:k]))
            if ind is not None:
                area_text = " ".join(rest[k:])
                break
        if ind is None:
            wanted = " ".join(rest)
            closest = _closest(wanted, indicators)
            key = "trend.unknown" if closest else "trend.unknown_none"
            return ReplyBuilder().line(t(key, found=wanted, measure=measure.number, closest=closest,
                                         known=", ".join(i.name for i in indicators))).build("usage")
        areas: list[str] | None = None
        if area_text:
            present = list(state.store.series(ind.id))
            areas, unknown = _resolve_areas(state, area_text, present)
            if unknown or not areas:
                known = some_names(state, [a or t("whole_city") for a in sorted(present, key=lambda a: (a != "", a))],
                                   area_text)
                return ReplyBuilder().line(t("trend.unknown_area", found=", ".join(unknown) or area_text,
                                             name=ind.name, known=known or t("none"))).build("usage")
        panel = indicator_panel(state, ind, areas)
        if not panel.has_data:
            return ReplyBuilder().line(t("trend.no_data", name=ind.name, measure=measure.number)).build()
        labels = panel.labels(lang)
        caption = t("trend.caption", measure=measure.number, name=ind.name, unit=ind.unit or "–",
                    first=labels[0], last=labels[-1])
        if areas is not None:
            caption += t("trend.caption_areas", areas=", ".join(a or t("whole_city") for a in areas))
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
    if len(panels) > MAX_PANELS:
        out.line(t("trend.more", shown=MAX_PANELS, total=len(panels), id=measure.id))
        panels = panels[:MAX_PANELS]
    png = small_multiples(panels, words, title=caption, lang=lang)
    return out.attach(Attachment(f"trend_{measure.id}_{stamp}.png", png, "photo", caption, "image/png")).build()


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)[:60]
