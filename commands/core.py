"""The core commands: greeting, help, status overview and detail, measures, meetings."""

from __future__ import annotations

from datetime import datetime

from storage.models import Measure

from . import fmt
from . import protocols as signing
from .agenda import HELD, MISSING, UPCOMING, measure_meetings, meeting_state
from .deliveries import overdue
from .periods import period_label
from .registry import ANYONE, Caller, all_commands, command, take_measure
from .reply import Reply, ReplyBuilder, b, i
from .state import State

__all__ = ["measure_title"]


def measure_title(state: State, measure: Measure) -> str:
    return measure.title or state.t("no_title")


def _protocol_counts(state: State, measure: str) -> tuple[int, int] | None:
    """(signed, required) for the measure's most recent protocol, or None without one."""
    protocols = state.store.protocols(measure)
    if not protocols:
        return None
    last = protocols[-1]
    required = signing.signatories(state, last)
    return len(required) - len(signing.missing(state, last)), len(required)


@command("start", access=ANYONE)
def start(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Begrüßung; für noch nicht freigeschaltete Personen: wie man Zugang bekommt."""
    if caller.is_member:
        if caller.name or caller.operator:
            return ReplyBuilder().line(state.t("start.known", name=caller.name or "Fachstelle")).build()
        return ReplyBuilder().line(state.t("start.group")).build()
    if caller.user_id is None:
        return ReplyBuilder().line(state.t("start.unknown_no_id")).build()
    return ReplyBuilder().line(state.t("start.unknown", user_id=caller.user_id)).build()


@command("hilfe", en="help")
def hilfe(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Alle Befehle mit je einer Zeile Erklärung."""
    out = ReplyBuilder().line(b(state.t("help.title")))
    for cmd in all_commands():
        if cmd.access == "admin" and not caller.is_admin:
            continue
        name = cmd.en if state.lang == "en" and cmd.en else cmd.name
        usage = cmd.usage if state.lang == "de" else cmd.usage_en
        mark = state.t("help.admin_mark") if cmd.access == "admin" else ""
        out.line(b(f"/{name}"), f" {usage}" if usage else "", f" – {cmd.help_text(state.lang)}{mark}")
    out.blank().line(i(state.t("help.measure_ids")))
    return out.build()


@command("status", usage="[Mxx]")
def status(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Stand aller Maßnahmen in je einer Zeile, oder einer Maßnahme ausführlich (/status M21)."""
    today = state.local(now).date()
    if args:
        measure, _ = take_measure(state, args, "status")
        return _detail(state, measure, today)
    out = ReplyBuilder().line(b(state.t("status.title", day=fmt.day(today, state.lang))))
    out.line(i(state.t("status.legend")))
    late = overdue(state, None, today)
    for m in state.catalogue.measures.values():
        meetings = [x for x in state.store.meetings(m.id) if x.day]
        meeting = (state.t("status.line_meeting", day=fmt.day(meetings[-1].day, state.lang)) if meetings
                   else state.t("not_scheduled"))
        counts = _protocol_counts(state, m.id)
        protocol = (state.t("status.line_protocol", signed=counts[0], required=counts[1]) if counts
                    else state.t("status.line_no_protocol"))
        n_late = sum(1 for d in late if d.measure == m.id)
        n_steps = len(state.store.steps(m.id))
        out.line(b(m.number), f" {fmt.short(measure_title(state, m), 40)} · ", state.t("phase", phase="I" * m.phase),
                 f" · {meeting} · {protocol} · ", state.t("status.line_overdue", n=n_late), " · ",
                 state.t("status.line_steps", n=n_steps))
    return out.build()


def _detail(state: State, m: Measure, today) -> Reply:
    lang = state.lang
    out = ReplyBuilder().line(b(f"{m.number} · {state.t('field.' + m.field)} · {state.t(f'phase.{m.phase}')}"))
    out.line(measure_title(state, m))
    offices = [f"{o} ({state.catalogue.offices[o].name})" if o in state.catalogue.offices and
               state.catalogue.offices[o].name else o for o in m.lead_offices]
    out.line(state.t("detail.lead", offices=", ".join(offices)) if offices else state.t("detail.lead_none"))
    if m.external:
        out.line(state.t("detail.external", names=", ".join(m.external)))
    if m.hint:
        out.line(i(state.t("detail.hint", hint=m.hint)))

    meetings = state.store.meetings(m.id)
    scheduled = [x for x in meetings if x.day]
    out.blank()
    if scheduled:
        out.line(b(state.t("detail.meetings")))
        for x in scheduled:
            out.line("• ", state.t("detail.meeting", day=fmt.day(x.day, lang),
                                   time=f" {fmt.clock(x.time)}" if x.time else "", approach=x.approach or "—"))
    else:
        out.line(state.t("detail.meeting_none"))

    protocols = state.store.protocols(m.id)
    if protocols:
        for p in protocols:
            required, outstanding = signing.signatories(state, p), signing.missing(state, p)
            out.line(state.t("detail.protocol", day=fmt.day(p.meeting_day, lang), sent=fmt.day(p.sent_on, lang),
                             signed=len(required) - len(outstanding), required=len(required)))
            out.line("  ", state.t("detail.protocol_missing", names=", ".join(outstanding)) if outstanding
                     else state.t("detail.protocol_complete"))
    else:
        out.line(state.t("detail.protocol_none"))

    indicators = state.catalogue.indicators_of(m.id)
    out.blank()
    if indicators:
        out.line(b(state.t("detail.indicators")))
        for ind in indicators:
            obs, n_areas = state.store.latest_summary(ind.id)
            if obs is None:
                out.line("• ", state.t("detail.indicator_no_value", name=ind.name))
                continue
            area = f", {obs.area}" if obs.area else ""
            if n_areas > 1:
                area += state.t("detail.more_areas", n=n_areas - 1)
            out.line("• ", state.t("detail.indicator_value", name=ind.name, value=fmt.number(obs.value, lang),
                                   unit=ind.unit, period=period_label(obs.period, lang), area=area))
    else:
        out.line(state.t("detail.indicators_none"))

    late = overdue(state, m.id, today)
    if late:
        out.line(b(state.t("detail.overdue")))
        for d in late:
            ind = state.catalogue.indicators.get(d.indicator)
            out.line("• ", state.t("detail.overdue_item", indicator=ind.name if ind else d.indicator,
                                   period=d.label or period_label(d.period, lang),
                                   due=fmt.day(d.due, lang), office=d.office or "—"))

    steps = state.store.steps(m.id)
    out.blank()
    if steps:
        out.line(b(state.t("detail.steps")))
        for s in steps:
            out.line(i(state.t("detail.step", number=s.number, text=s.text,
                               due=state.t("detail.step_due", day=fmt.day(s.due, lang)) if s.due else "",
                               who=state.t("detail.step_who", who=s.who) if s.who else "")))
    else:
        out.line(state.t("detail.steps_none"))
    out.blank().line(i(state.t("detail.financing")))
    return out.build()


@command("massnahmen", en="measures")
def massnahmen(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Die 14 Maßnahmen nach Handlungsfeld (Pflege, Wohnen, Soziale Lage, Bildung)."""
    out = ReplyBuilder().line(b(state.t("measures.title")))
    for field_name, measures in state.catalogue.measures_by_field().items():
        if not measures:
            continue
        out.blank().line(b(state.t("field." + field_name)))
        for m in measures:
            out.line(b(m.number), " ", fmt.short(measure_title(state, m), 90))
    return out.build()


@command("termine", en="meetings")
def termine(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Anstehende Besprechungen und Maßnahmen, deren Besprechung noch nicht terminiert ist."""
    lang = state.lang
    moment = state.local(now)
    meetings = state.store.meetings()
    # The report's rule, to the minute: a meeting at 08:00 today is upcoming until 08:00, held from then on.
    upcoming = [x for x in meetings if meeting_state(x, moment) == UPCOMING]
    out = ReplyBuilder()
    if upcoming:
        out.line(b(state.t("meetings.upcoming")))
        for x in upcoming:
            m = state.catalogue.measures.get(x.measure)
            out.line("• ", b(m.number if m else x.measure), " ",
                     state.t("detail.meeting", day=fmt.day(x.day, lang),
                             time=f" {fmt.clock(x.time)}" if x.time else "", approach=x.approach or "—"))
    else:
        out.line(state.t("meetings.upcoming_none"))
    agenda = measure_meetings(meetings, state.catalogue.measures, moment)
    unscheduled = [m for m in state.catalogue.measures.values() if agenda[m.id].status == MISSING]
    if unscheduled:
        out.blank().line(b(state.t("meetings.unscheduled")))
        for m in unscheduled:
            out.line("• ", b(m.number), " ", fmt.short(measure_title(state, m), 60))
    past = [x for x in meetings if meeting_state(x, moment) == HELD][-5:]
    if past:
        out.blank().line(b(state.t("meetings.past")))
        for x in reversed(past):
            m = state.catalogue.measures.get(x.measure)
            out.line("• ", b(m.number if m else x.measure), " ",
                     state.t("detail.meeting", day=fmt.day(x.day, lang), time="", approach=x.approach or "—"))
    return out.build()
