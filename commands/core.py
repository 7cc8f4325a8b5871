"""The core commands: greeting, help, status overview and detail, measures, meetings."""

from __future__ import annotations

from datetime import date, datetime

from storage.models import Measure, Meeting

from . import agenda, fmt
from . import protocols as signing
from .deliveries import overdue
from .periods import period_label
from .registry import ANYONE, Caller, UsageError, all_commands, command, find, no_more, take_measure
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


@command("hilfe", en="help", usage="[BEFEHL]", usage_en="[COMMAND]")
def hilfe(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Alle Befehle mit je einer Zeile Erklärung (/hilfe termin: ein Befehl mit seinen Angaben)."""
    if args:
        no_more(args[1:])
        cmd = find(args[0].lstrip("/").split("@", 1)[0])
        if cmd is None:
            raise UsageError("help.unknown", found=args[0])
        name = cmd.en if state.lang == "en" and cmd.en else cmd.name
        usage = cmd.usage if state.lang == "de" else cmd.usage_en
        mark = state.t("help.admin_mark") if cmd.access == "admin" else ""
        return (ReplyBuilder().line(b(f"/{name}"), f" {usage}" if usage else "")
                .line(f"{cmd.help_text(state.lang)}{mark}").build())
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
    local = state.local(now)
    today = local.date()
    if args:
        measure, rest = take_measure(state, args, "status")
        no_more(rest)
        return _detail(state, measure, local)
    out = ReplyBuilder().line(b(state.t("status.title", day=fmt.day(today, state.lang))))
    out.line(i(state.t("status.legend")))
    late = overdue(state, None, today)
    for m in state.catalogue.measures.values():
        meeting = _meeting_cell(state, state.store.meetings(m.id), local)
        counts = _protocol_counts(state, m.id)
        protocol = (state.t("status.line_protocol", signed=counts[0], required=counts[1]) if counts
                    else state.t("status.line_no_protocol"))
        n_late = sum(1 for d in late if d.measure == m.id)
        n_steps = len(state.store.steps(m.id))
        out.line(b(m.number), f" {fmt.short(measure_title(state, m), 40)} · ", state.t("phase", phase="I" * m.phase),
                 f" · {meeting} · {protocol} · ", state.t("status.line_overdue", n=n_late), " · ",
                 state.t("status.line_steps", n=n_steps))
    return out.build()


def _meeting_cell(state: State, meetings: list[Meeting], local: datetime) -> str:
    """The overview's meeting: the latest held one and the next planned one."""
    last, coming = agenda.latest_held(meetings, local), agenda.next_planned(meetings, local)
    if last and coming:
        return state.t("status.line_meeting_both", day=fmt.day(last.day, state.lang),
                       next=fmt.day(coming.day, state.lang))
    if last:
        return state.t("status.line_meeting", day=fmt.day(last.day, state.lang))
    if coming:
        return state.t("status.line_meeting_planned", day=fmt.day(coming.day, state.lang))
    return state.t("not_scheduled")


def _meeting_line(state: State, x: Meeting, local: datetime) -> str:
    """One meeting of /status Mxx with what became of it: held, planned or cancelled; moved from."""
    lang = state.lang
    if x.cancelled is not None:
        what = state.t("detail.meeting_cancelled", day=fmt.day(x.cancelled.date(), lang))
    elif agenda.is_held(x, local):
        what = state.t("detail.meeting_held")
    else:
        what = state.t("detail.meeting_planned")
    moved = [h["day"] for h in x.history if h.get("day") and not h.get("cancelled") and h["day"] != str(x.day)]
    if moved:
        what += state.t("detail.meeting_moved", days=", ".join(fmt.day(date.fromisoformat(d), lang)
                                                               for d in dict.fromkeys(moved)))
    return state.t("detail.meeting_state", meeting=state.t(
        "detail.meeting", day=fmt.day(x.day, lang), time=f" {fmt.clock(x.time)}" if x.time else "",
        approach=x.approach or "—"), state=what)


def _detail(state: State, m: Measure, local: datetime) -> Reply:
    today = local.date()
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

    meetings = state.store.meetings(m.id, include_cancelled=True)
    dated = [x for x in meetings if x.day]
    out.blank()
    if dated:
        out.line(b(state.t("detail.meetings")))
        live = [x for x in meetings if x.cancelled is None]
        last, coming = agenda.latest_held(live, local), agenda.next_planned(live, local)
        out.line(state.t("detail.meeting_last", day=fmt.day(last.day, lang) if last else state.t("none")), " · ",
                 state.t("detail.meeting_next", day=(fmt.day(coming.day, lang) + (
                     f" {fmt.clock(coming.time)}" if coming.time else "")) if coming else state.t("not_scheduled")))
        for x in dated:
            out.line("• ", _meeting_line(state, x, local))
    else:
        out.line(state.t("detail.meeting_none"))

    protocols = state.store.protocols(m.id)
    if protocols:
        for p in protocols:
            required, outstanding = signing.signatories(state, p), signing.missing(state, p)
            out.line(state.t("detail.protocol", day=fmt.day(p.meeting_day, lang), sent=fmt.day(p.sent_on, lang),
                             signed=len(required) - len(outstanding), required=len(required)))
            signed = state.store.signatures(p.id)
            if signed:
                out.line("  ", state.t("detail.protocol_signed", names=", ".join(
                    state.t("detail.signed_paper" if s.method == "papier" else "detail.signed_chat", name=s.person,
                            day=fmt.day(s.signed_on, lang)) for s in signed)))
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
            known = state.catalogue.indicators.get(d.indicator)
            out.line("• ", state.t("detail.overdue_item", indicator=known.name if known else d.indicator,
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
    no_more(args)
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
    no_more(args)
    lang = state.lang
    local = state.local(now)
    meetings = state.store.meetings()
    upcoming = agenda.planned(meetings, local)

    def line(x: Meeting, with_time: bool = True) -> tuple[str, ...]:
        m = state.catalogue.measures.get(x.measure)
        return (m.number if m else x.measure, " " + state.t(
            "detail.meeting", day=fmt.day(x.day, lang), time=f" {fmt.clock(x.time)}" if x.time and with_time else "",
            approach=x.approach or "—"))

    out = ReplyBuilder()
    if upcoming:
        out.line(b(state.t("meetings.upcoming")))
        for x in upcoming:
            number, rest = line(x)
            out.line("• ", b(number), rest)
    else:
        out.line(state.t("meetings.upcoming_none"))
    unscheduled = agenda.unscheduled(state.catalogue.measures, meetings)
    if unscheduled:
        out.blank().line(b(state.t("meetings.unscheduled")))
        for mid in unscheduled:
            m = state.catalogue.measures[mid]
            out.line("• ", b(m.number), " ", fmt.short(measure_title(state, m), 60))
    past = agenda.held(meetings, local)[-5:]
    if past:
        out.blank().line(b(state.t("meetings.past")))
        for x in reversed(past):
            number, rest = line(x, with_time=False)
            out.line("• ", b(number), rest)
    return out.build()
