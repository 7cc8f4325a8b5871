"""Meetings, protocols and signatures: /termin, /protokoll, /unterschrieben, /protokolle, /kalender."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from icalendar import Calendar, Event

from storage.models import Meeting, Protocol

from . import fmt
from . import protocols as signing
from .registry import ADMIN, PARTICIPANT, Caller, UsageError, command, take_measure
from .reminders import ADMINS, WorkCalendar, measure_label, participants
from .reply import Attachment, Reply, ReplyBuilder, b, i
from .state import State

__all__ = ["calendar_ics", "parse_day", "parse_time"]

_DAY_DE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_DAY_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?:\s*uhr)?$", re.IGNORECASE)
MEETING_HOURS = 2  # calendar entries of meetings with a time get this length; the store has no end time


def parse_day(token: str) -> date:
    """'20.09.2018' (also '20.9.2018' and '2018-09-20') -> date; anything else is a usage error."""
    match = _DAY_DE.match(token)
    try:
        if match:
            return date(int(match.group(3)), int(match.group(2)), int(match.group(1)))
        match = _DAY_ISO.match(token)
        if match:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        raise UsageError("mt.bad_date", found=token) from None
    raise UsageError("mt.bad_date", found=token)


def looks_like_time(token: str) -> bool:
    return bool(_TIME.match(token))


def parse_time(token: str) -> time:
    match = _TIME.match(token)
    try:
        if match:
            return time(int(match.group(1)), int(match.group(2)))
    except ValueError:
        pass
    raise UsageError("mt.bad_time", found=token)


def _today(state: State, now: datetime) -> date:
    return state.local(now).date()


def _when(state: State, meeting: Meeting) -> str:
    clock = state.t("rem.at_time", time=fmt.clock(meeting.time)) if meeting.time else ""
    return f"{fmt.day(meeting.day, state.lang)}{clock}"


# ---------------------------------------------------------------- /termin


@command("termin", en="schedule", access=ADMIN, usage="Mxx TT.MM.JJJJ [HH:MM] [Vorgehensweise]",
         usage_en="Mxx DD.MM.YYYY [HH:MM] [approach]")
def termin(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Besprechung einer Maßnahme ansetzen oder verlegen."""
    measure, rest = take_measure(state, args, "termin")
    if not rest:
        raise UsageError("mt.missing_date")
    day, rest = parse_day(rest[0]), rest[1:]
    at = None
    if rest and (looks_like_time(rest[0]) or re.match(r"^\d{1,2}:\d", rest[0])):
        at, rest = parse_time(rest[0]), rest[1:]
    approach = " ".join(rest) or None
    today = _today(state, now)
    if day < today:
        raise UsageError("mt.past_meeting", day=fmt.day(day, state.lang), today=fmt.day(today, state.lang))
    meetings = state.store.meetings(measure.id)
    target = (next((m for m in meetings if m.day and m.day >= today), None)
              or next((m for m in meetings if m.day is None), None))
    label = measure.number
    out = ReplyBuilder()
    if target is None:
        meeting = state.store.add_meeting(measure.id, day, at=at, approach=approach or "")
        out.line(state.t("mt.scheduled", measure=label, when=_when(state, meeting), approach=meeting.approach or "—"))
        notice = state.t("mt.notice_new", measure=label, when=_when(state, meeting),
                         approach=meeting.approach or "—")
    else:
        # Moving a meeting keeps its hour unless a new one is given.
        keep_time = at or target.time
        if target.day == day and keep_time == target.time and (approach is None or approach == target.approach):
            return out.line(state.t("mt.unchanged", measure=label, when=_when(state, target))).build()
        meeting = state.store.move_meeting(target.id, day, at=keep_time, approach=approach, changed=now,
                                           by=caller.name or state.t("mt.operator"))
        if target.day is None:
            out.line(state.t("mt.scheduled", measure=label, when=_when(state, meeting),
                             approach=meeting.approach or "—"))
            notice = state.t("mt.notice_new", measure=label, when=_when(state, meeting),
                             approach=meeting.approach or "—")
        else:
            out.line(state.t("mt.moved", measure=label, before=_when(state, target), when=_when(state, meeting),
                             approach=meeting.approach or "—"))
            notice = state.t("mt.notice_moved", measure=label, before=_when(state, target),
                             when=_when(state, meeting), approach=meeting.approach or "—")
    cal = WorkCalendar(state.settings.reminders.state)
    holiday = cal.holiday(day)
    if holiday or day.weekday() >= 5:
        out.line(i(state.t("mt.not_working_day", day=fmt.day(day, state.lang),
                           what=holiday or state.t(f"weekday.{day.weekday()}"))))
    people = participants(state, meeting)
    if people:
        out.line(state.t("mt.participants", names=", ".join(people)))
        for person in people:
            out.notify(person, notice)
    else:
        out.line(i(state.t("mt.no_participants", measure=label)))
    return out.build()


# ---------------------------------------------------------------- /protokoll


def _meeting_on(state: State, measure: str, day: date) -> Meeting:
    meetings = state.store.meetings(measure)
    found = next((m for m in meetings if m.day == day), None)
    if found is None:
        known = ", ".join(fmt.day(m.day, state.lang) for m in meetings if m.day) or state.t("none")
        raise UsageError("mt.no_meeting_on", measure=measure_label(state, measure),
                         day=fmt.day(day, state.lang), known=known)
    return found


@command("protokoll", en="protocol", access=ADMIN, usage="Mxx TT.MM.JJJJ versandt", usage_en="Mxx DD.MM.YYYY sent")
def protokoll(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Festhalten, dass das Protokoll einer Besprechung zur Unterschrift versandt wurde."""
    measure, rest = take_measure(state, args, "protokoll")
    if len(rest) != 2 or rest[1].casefold() not in ("versandt", "versendet", "sent"):
        raise UsageError("mt.protocol_args")
    day = parse_day(rest[0])
    today = _today(state, now)
    if day > today:
        raise UsageError("mt.protocol_future", day=fmt.day(day, state.lang))
    meeting = _meeting_on(state, measure.id, day)
    label = measure.number
    existing = state.store.protocol(measure.id, day)
    if existing is not None:
        missing = signing.missing(state, existing)
        return ReplyBuilder().line(state.t(
            "mt.protocol_known", measure=label, day=fmt.day(day, state.lang),
            sent=fmt.day(existing.sent_on, state.lang), missing=", ".join(missing) or state.t("none"))).build()
    people = participants(state, meeting)
    state.store.record_protocol(measure.id, day, sent_on=today, signatories=people)
    out = ReplyBuilder().line(state.t("mt.protocol_recorded", measure=label, day=fmt.day(day, state.lang),
                                      sent=fmt.day(today, state.lang)))
    if people:
        out.line(state.t("mt.signatories", names=", ".join(people)))
        notice = state.t("mt.notice_protocol", measure=label, day=fmt.day(day, state.lang), command=measure.id)
        for person in people:
            out.notify(person, notice)
    else:
        out.line(i(state.t("mt.no_participants", measure=label)))
    return out.build()


# ---------------------------------------------------------------- /unterschrieben


@command("unterschrieben", en="signed", access=PARTICIPANT, usage="Mxx [TT.MM.JJJJ]", usage_en="Mxx [DD.MM.YYYY]")
def unterschrieben(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Die eigene Unterschrift unter ein Protokoll festhalten (Datum: der Besprechung, oder der Unterschrift)."""
    measure, rest = take_measure(state, args, "unterschrieben")
    today = _today(state, now)
    if len(rest) > 1:
        raise UsageError("mt.sign_args")
    given = parse_day(rest[0]) if rest else None
    label = measure.number
    protocols = list(reversed(state.store.protocols(measure.id)))
    # A date that is a meeting day with a protocol picks that protocol (signed today); any other date is
    # the day of signing, on the newest protocol still waiting for the caller.
    chosen = next((p for p in protocols if p.meeting_day == given), None)
    signed_on = today if given is None or chosen is not None else given
    if signed_on > today:
        raise UsageError("mt.sign_future", day=fmt.day(signed_on, state.lang))
    if caller.person is None:
        raise UsageError("mt.sign_no_person")
    name = caller.person.name
    if not protocols:
        raise UsageError("mt.no_protocol", measure=label)
    if chosen is not None:
        protocols = [chosen]
    mine = [p for p in protocols if name in _signatory_names(state, p)]
    if not mine:
        p = protocols[0]
        raise UsageError("mt.not_signatory", measure=label, day=fmt.day(p.meeting_day, state.lang),
                         names=", ".join(_signatory_names(state, p)) or state.t("none"))
    open_ = [p for p in mine if name in signing.missing(state, p)]
    if not open_:
        p = mine[0]
        when = next((s.signed_on for s in state.store.signatures(p.id) if s.person == name), p.sent_on)
        return ReplyBuilder().line(state.t("mt.already_signed", measure=label,
                                           day=fmt.day(p.meeting_day, state.lang),
                                           signed=fmt.day(when, state.lang))).build()
    protocol = open_[0]
    if signed_on < protocol.sent_on:
        raise UsageError("mt.sign_before_sent", day=fmt.day(signed_on, state.lang),
                         sent=fmt.day(protocol.sent_on, state.lang))
    channel = "telegram" if caller.user_id is not None else "konsole"
    state.store.sign(protocol.id, name, signed_on=signed_on, channel=channel, at=now)
    missing = signing.missing(state, protocol)
    total = len(_signatory_names(state, protocol))
    out = ReplyBuilder().line(state.t("mt.signed", name=name, measure=label,
                                      day=fmt.day(protocol.meeting_day, state.lang),
                                      signed=fmt.day(signed_on, state.lang)))
    if missing:
        out.line(state.t("mt.signed_progress", n=total - len(missing), total=total, names=", ".join(missing)))
    else:
        out.line(state.t("mt.signed_complete"))
        out.notify(ADMINS, state.t("mt.notice_complete", measure=label,
                                   day=fmt.day(protocol.meeting_day, state.lang)))
    return out.build()


def _signatory_names(state: State, protocol: Protocol) -> list[str]:
    return signing.signatories(state, protocol)


# ---------------------------------------------------------------- /protokolle


@command("protokolle", en="protocols")
def protokolle(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Protokolle mit fehlenden Unterschriften, mit Namen."""
    protocols = state.store.protocols()
    out = ReplyBuilder()
    if not protocols:
        return out.line(state.t("mt.protocols_none")).build()
    by_person: dict[str, list[str]] = {}
    rows = []
    for p in protocols:
        missing = signing.missing(state, p)
        if missing:
            rows.append((p, missing))
            for name in missing:
                by_person.setdefault(name, []).append(measure_label(state, p.measure))
    if not rows:
        return out.line(state.t("mt.protocols_complete", n=len(protocols))).build()
    out.line(b(state.t("mt.protocols_title")))
    for p, missing in rows:
        total = len(_signatory_names(state, p))
        out.line("• ", b(measure_label(state, p.measure)), " ",
                 state.t("mt.protocols_row", day=fmt.day(p.meeting_day, state.lang),
                         sent=fmt.day(p.sent_on, state.lang), n=total - len(missing), total=total,
                         names=", ".join(missing)))
    out.blank().line(b(state.t("mt.protocols_by_person")))
    for name in sorted(by_person):
        out.line("• ", name, ": ", ", ".join(by_person[name]))
    return out.build()


# ---------------------------------------------------------------- /kalender


def calendar_ics(state: State, now: datetime) -> bytes:
    """The scheduled meetings as iCalendar: stable UIDs, times in the configured zone, SEQUENCE = moves."""
    cal = Calendar()
    cal.add("prodid", "-//Sozialmonitor//Fachstelle Sozialplanung//DE")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", state.t("mt.calendar_name"))
    cal.add("x-wr-timezone", state.settings.timezone)
    stamp = now.astimezone(UTC)
    for meeting in state.store.meetings():
        if meeting.day is None:
            continue
        measure = state.catalogue.measures.get(meeting.measure)
        event = Event()
        event.add("uid", f"termin-{meeting.id}-{meeting.measure}@sozialmonitor")
        event.add("dtstamp", stamp)
        event.add("sequence", len(meeting.history))
        if meeting.time:
            start = datetime.combine(meeting.day, meeting.time, tzinfo=state.tz)
            event.add("dtstart", start)
            event.add("dtend", start + timedelta(hours=MEETING_HOURS))
        else:
            event.add("dtstart", meeting.day)
            event.add("dtend", meeting.day + timedelta(days=1))
        event.add("summary", state.t("mt.calendar_summary", measure=measure_label(state, meeting.measure),
                                     approach=meeting.approach or "—"))
        title = measure.title if measure and measure.title else state.t("no_title")
        event.add("description", f"{title}\n\n{state.t('mt.calendar_approach', approach=meeting.approach or '—')}")
        if meeting.participants or state.catalogue.participants(meeting.measure):
            event.add("x-sozialmonitor-teilnehmende", ", ".join(participants(state, meeting)))
        cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()


@command("kalender", en="calendar")
def kalender(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Die Besprechungen als Kalenderdatei (.ics)."""
    n = sum(1 for m in state.store.meetings() if m.day)
    data = calendar_ics(state, now)
    return (ReplyBuilder().line(state.t("mt.calendar_reply", n=n))
            .attach(Attachment("sozialmonitor-termine.ics", data, caption=state.t("mt.calendar_name"),
                               mime="text/calendar"))
            .build())
