"""Meetings, protocols and signatures: /termin, /protokoll, /unterschrieben, /protokolle, /kalender."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from icalendar import Calendar, Event

from storage.models import Meeting, Protocol

from . import agenda, fmt
from . import protocols as signing
from .lookup import find_person
from .mail import invitation_subject, meeting_invitation
from .registry import ADMIN, Caller, UsageError, command, no_more, take_measure
from .reminders import ADMINS, WorkCalendar, measure_label, next_protocol_reminder, participants
from .reply import Attachment, Reply, ReplyBuilder, b, i
from .state import State

__all__ = ["CHAT", "PAPER", "calendar_ics", "parse_day", "parse_time"]

CHAT, PAPER = "chat", "papier"  # how a signature came: confirmed in the chat, or a signed sheet returned

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

CANCEL_WORDS = ("absagen", "abgesagt", "absage", "cancel", "cancelled")
FAR_YEARS = 5  # a date further away than this is probably a typo in the year: say so, but take it


def _by(state: State, caller: Caller) -> str:
    return caller.name or state.t("mt.operator")


def _warnings(state: State, day: date, today: date) -> list[str]:
    """A weekend or holiday, or a year far away: worth a second look, not a refusal."""
    out = []
    holiday = WorkCalendar(state.settings.reminders.state).holiday(day)
    if holiday or day.weekday() >= 5:
        out.append(state.t("mt.not_working_day", day=fmt.day(day, state.lang),
                           what=holiday or state.t(f"weekday.{day.weekday()}")))
    try:
        far_back, far_ahead = today.replace(year=today.year - FAR_YEARS), today.replace(year=today.year + FAR_YEARS)
    except ValueError:  # 29 February
        far_back, far_ahead = date(today.year - FAR_YEARS, 3, 1), date(today.year + FAR_YEARS, 2, 28)
    if day < far_back:
        out.append(state.t("mt.far_past", day=fmt.day(day, state.lang), years=FAR_YEARS))
    elif day > far_ahead:
        out.append(state.t("mt.far_future", day=fmt.day(day, state.lang), years=FAR_YEARS))
    return out


@command("termin", en="schedule", access=ADMIN, usage="Mxx TT.MM.JJJJ [HH:MM] [Vorgehensweise] | Mxx absagen",
         usage_en="Mxx DD.MM.YYYY [HH:MM] [approach] | Mxx cancel", writes=True)
def termin(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Besprechung einer Maßnahme ansetzen, verlegen, absagen oder als stattgefunden nachtragen."""
    measure, rest = take_measure(state, args, "termin")
    if not rest:
        raise UsageError("mt.missing_date")
    if rest[0].casefold() in CANCEL_WORDS:
        no_more(rest[1:])
        return _cancel(state, measure.id, caller, now)
    day, rest = parse_day(rest[0]), rest[1:]
    at = None
    if rest and (looks_like_time(rest[0]) or re.match(r"^\d{1,2}:\d", rest[0])):
        at, rest = parse_time(rest[0]), rest[1:]
    approach = " ".join(rest) or None
    local = state.local(now)
    today = local.date()
    if agenda.is_held(Meeting(0, measure.id, day, at), local):
        out = _record_held(state, measure.id, day, at, approach, caller, now)
    else:
        out = _schedule(state, measure.id, day, at, approach, caller, now)
    if out is None:
        target = next(m for m in state.store.meetings(measure.id) if m.day == day)
        key = "mt.held_unchanged" if agenda.is_held(target, local) else "mt.unchanged"
        return ReplyBuilder().line(state.t(key, measure=measure.number, when=_when(state, target))).build()
    for warning in _warnings(state, day, today):
        out.line(i(warning))
    return out.build()


def _schedule(state: State, measure: str, day: date, at: time | None, approach: str | None, caller: Caller,
              now: datetime) -> ReplyBuilder | None:
    """A meeting still to come: move the next planned one (or fill the placeholder), else a new one."""
    meetings = state.store.meetings(measure)
    target = (agenda.next_planned(meetings, state.local(now))
              or next((m for m in meetings if m.day is None), None))
    label = measure_label(state, measure)
    out = ReplyBuilder()
    if target is None:
        meeting = state.store.add_meeting(measure, day, at=at, approach=approach or "")
        out.line(state.t("mt.scheduled", measure=label, when=_when(state, meeting), approach=meeting.approach or "—"))
        notice = state.t("mt.notice_new", measure=label, when=_when(state, meeting),
                         approach=meeting.approach or "—")
    else:
        # Moving a meeting keeps its hour unless a new one is given.
        keep_time = at or target.time
        if target.day == day and keep_time == target.time and (approach is None or approach == target.approach):
            return None
        meeting = state.store.move_meeting(target.id, day, at=keep_time, approach=approach, changed=now,
                                           by=_by(state, caller))
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
    people = participants(state, meeting)
    if people:
        out.line(state.t("mt.participants", names=", ".join(people)))
        invitation = meeting_invitation(state, meeting, "REQUEST", now)
        for person in people:
            out.notify(person, notice, subject=invitation_subject(state, meeting, "REQUEST"), calendar=invitation)
    else:
        out.line(i(state.t("mt.no_participants", measure=label)))
    return out


def _record_held(state: State, measure: str, day: date, at: time | None, approach: str | None, caller: Caller,
                 now: datetime) -> ReplyBuilder | None:
    """A date in the past records a meeting that took place (history): nobody is notified, nothing reminded."""
    meetings = state.store.meetings(measure)
    label = measure_label(state, measure)
    same = next((m for m in meetings if m.day == day), None)
    placeholder = next((m for m in meetings if m.day is None), None)
    out = ReplyBuilder()
    if same is not None:
        keep_time = at or same.time
        if keep_time == same.time and (approach is None or approach == same.approach):
            return None
        meeting = state.store.move_meeting(same.id, day, at=keep_time, approach=approach, changed=now,
                                           by=_by(state, caller))
        out.line(state.t("mt.held_corrected", measure=label, when=_when(state, meeting),
                         approach=meeting.approach or "—"))
    else:
        if placeholder is not None:
            meeting = state.store.move_meeting(placeholder.id, day, at=at, approach=approach, changed=now,
                                               by=_by(state, caller))
        else:
            meeting = state.store.add_meeting(measure, day, at=at, approach=approach or "")
        out.line(state.t("mt.held_recorded", measure=label, when=_when(state, meeting),
                         approach=meeting.approach or "—"))
        out.line(i(state.t("mt.held_quiet")))
    if state.store.protocol(measure, day) is None:
        out.line(state.t("mt.held_protocol_hint", command=measure, day=fmt.day(day, state.lang)))
    return out


def _cancel(state: State, measure: str, caller: Caller, now: datetime) -> Reply:
    """Cancel the next planned meeting: the participants are told; it stays in the history as cancelled."""
    label = measure_label(state, measure)
    coming = agenda.next_planned(state.store.meetings(measure), state.local(now))
    if coming is None:
        raise UsageError("mt.cancel_nothing", measure=label)
    meeting = state.store.cancel_meeting(coming.id, changed=now, by=_by(state, caller))
    out = ReplyBuilder().line(state.t("mt.cancelled", measure=label, when=_when(state, meeting),
                                      approach=meeting.approach or "—"))
    people = participants(state, meeting)
    if people:
        out.line(state.t("mt.cancel_told", names=", ".join(people)))
        notice = state.t("mt.notice_cancelled", measure=label, when=_when(state, meeting))
        invitation = meeting_invitation(state, meeting, "CANCEL", now)
        for person in people:
            out.notify(person, notice, subject=invitation_subject(state, meeting, "CANCEL"), calendar=invitation)
    if measure in agenda.unscheduled([measure], state.store.meetings(measure)):
        out.line(i(state.t("mt.cancel_unscheduled", measure=label, command=measure)))
    return out.build()


# ---------------------------------------------------------------- /protokoll

SENT_WORDS = ("versandt", "versendet", "verschickt", "sent")


def _meeting_on(state: State, measure: str, day: date) -> Meeting:
    meetings = state.store.meetings(measure)
    found = next((m for m in meetings if m.day == day), None)
    if found is None:
        known = ", ".join(fmt.day(m.day, state.lang) for m in meetings if m.day) or state.t("none")
        raise UsageError("mt.no_meeting_on", measure=measure_label(state, measure),
                         day=fmt.day(day, state.lang), known=known, command=measure)
    return found


@command("protokoll", en="protocol", access=ADMIN, usage="Mxx TT.MM.JJJJ versandt [TT.MM.JJJJ]",
         usage_en="Mxx DD.MM.YYYY sent [DD.MM.YYYY]", writes=True)
def protokoll(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Festhalten, dass das Protokoll einer Besprechung zur Unterschrift versandt wurde (an dem Tag; Standard heute)."""
    measure, rest = take_measure(state, args, "protokoll")
    if len(rest) not in (2, 3) or rest[1].casefold() not in SENT_WORDS:
        raise UsageError("mt.protocol_args")
    day = parse_day(rest[0])
    local = state.local(now)
    today = local.date()
    sent = parse_day(rest[2]) if len(rest) == 3 else today
    if day > today:
        raise UsageError("mt.protocol_future", day=fmt.day(day, state.lang))
    meeting = _meeting_on(state, measure.id, day)
    # A meeting without a time of day counts as planned all day; its protocol may still go out that day.
    if agenda.is_planned(meeting, local) and meeting.time is not None:
        raise UsageError("mt.protocol_future", day=fmt.day(day, state.lang))
    if sent > today:
        raise UsageError("mt.protocol_sent_future", sent=fmt.day(sent, state.lang))
    if sent < day:
        raise UsageError("mt.protocol_sent_early", sent=fmt.day(sent, state.lang), day=fmt.day(day, state.lang))
    label = measure.number
    existing = state.store.protocol(measure.id, day)
    if existing is not None:
        missing = signing.missing(state, existing)
        if len(rest) == 3 and existing.sent_on != sent:
            # A correction of the sending date; the monitor has known of the protocol since it was first recorded.
            known = existing.entered_on or existing.sent_on
            state.store.record_protocol(measure.id, day, sent_on=sent, signatories=existing.signatories,
                                        entered_on=known if known > sent else None)
            return ReplyBuilder().line(state.t(
                "mt.protocol_sent_corrected", measure=label, day=fmt.day(day, state.lang),
                before=fmt.day(existing.sent_on, state.lang), sent=fmt.day(sent, state.lang))).build()
        return ReplyBuilder().line(state.t(
            "mt.protocol_known", measure=label, day=fmt.day(day, state.lang),
            sent=fmt.day(existing.sent_on, state.lang), missing=", ".join(missing) or state.t("none"))).build()
    people = participants(state, meeting)
    protocol, _ = state.store.record_protocol(measure.id, day, sent_on=sent, signatories=people,
                                              entered_on=today if sent < today else None)
    out = ReplyBuilder().line(state.t("mt.protocol_recorded", measure=label, day=fmt.day(day, state.lang),
                                      sent=fmt.day(sent, state.lang)))
    if not people:
        return out.line(i(state.t("mt.no_participants", measure=label))).build()
    out.line(state.t("mt.signatories", names=", ".join(people)))
    if sent == today:
        notice = state.t("mt.notice_protocol", measure=label, day=fmt.day(day, state.lang), command=measure.id)
        for person in people:
            out.notify(person, notice)
    else:
        # History: the people got the protocol back then; reminders begin only from now on.
        upcoming = next_protocol_reminder(state, protocol, today)
        out.line(i(state.t("mt.protocol_history", command=measure.id, day=fmt.day(day, state.lang),
                           next=fmt.day(upcoming, state.lang) if upcoming else "—")))
    return out.build()


# ---------------------------------------------------------------- /unterschrieben

FOR_WORDS = ("für", "fuer", "for")
ON_WORDS = ("am", "on")


@command("unterschrieben", en="signed", usage="Mxx [TT.MM.JJJJ] | Mxx [TT.MM.JJJJ] für NAME [am TT.MM.JJJJ]",
         usage_en="Mxx [DD.MM.YYYY] | Mxx [DD.MM.YYYY] for NAME [on DD.MM.YYYY]", writes=True)
def unterschrieben(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Die eigene Unterschrift unter ein Protokoll festhalten; die Fachstelle auch eine auf Papier („für NAME“)."""
    measure, rest = take_measure(state, args, "unterschrieben")
    split = next((k for k, token in enumerate(rest) if token.casefold() in FOR_WORDS), None)
    if split is not None:
        if not caller.is_admin:
            return ReplyBuilder().line(state.t("mt.sign_for_admin", command="unterschrieben")).build("denied")
        return _sign_for(state, measure.id, rest[:split], rest[split + 1:], caller, now)
    if not caller.operator and not (caller.person and caller.person.measures):
        return ReplyBuilder().line(state.t("denied.participant", command="unterschrieben")).build("denied")
    if len(rest) > 1:
        raise UsageError("mt.sign_args")
    if caller.person is None:
        raise UsageError("mt.sign_no_person")
    given = parse_day(rest[0]) if rest else None
    return _sign(state, measure.id, caller.person.name, given, None, caller, now, paper=False)


def _sign_for(state: State, measure: str, before: list[str], after: list[str], caller: Caller,
              now: datetime) -> Reply:
    """/unterschrieben Mxx [TT.MM.JJJJ] für NAME [am TT.MM.JJJJ]: a signed sheet came back on paper."""
    if len(before) > 1:
        raise UsageError("mt.sign_for_args")
    given = parse_day(before[0]) if before else None
    signed_on = None
    if len(after) >= 2 and after[-2].casefold() in ON_WORDS:
        signed_on, after = parse_day(after[-1]), after[:-2]
    if not after:
        raise UsageError("mt.sign_for_args")
    label = measure_label(state, measure)
    protocols = state.store.protocols(measure)
    if not protocols:
        raise UsageError("mt.no_protocol", measure=label)
    names = [n for p in protocols for n in _signatory_names(state, p)] + [p.name for p in state.catalogue.persons]
    match = find_person(names, " ".join(after))
    if match.found is None:
        if match.ambiguous:
            raise UsageError("mt.sign_for_ambiguous", found=" ".join(after), names=", ".join(match.candidates))
        wanted = sorted(dict.fromkeys(n for p in protocols for n in _signatory_names(state, p)))
        raise UsageError("mt.sign_for_unknown", found=" ".join(after), measure=label,
                         names=", ".join(wanted) or state.t("none"))
    return _sign(state, measure, match.found, given, signed_on, caller, now, paper=True)


def _sign(state: State, measure: str, name: str, given: date | None, signed_on: date | None, caller: Caller,
          now: datetime, *, paper: bool) -> Reply:
    """Record `name`'s signature. `given` is the optional first date: a meeting day with a protocol picks that
    protocol; any other date is the day of signing (unless `signed_on` says it)."""
    today = _today(state, now)
    label = measure_label(state, measure)
    protocols = list(reversed(state.store.protocols(measure)))
    chosen = next((p for p in protocols if p.meeting_day == given), None)
    if given is not None and chosen is None:
        if signed_on is not None:
            raise UsageError("mt.sign_no_protocol_on", measure=label, day=fmt.day(given, state.lang),
                             known=", ".join(fmt.day(p.meeting_day, state.lang) for p in reversed(protocols))
                             or state.t("none"))
        signed_on = given
    signed_on = signed_on or today
    if signed_on > today:
        raise UsageError("mt.sign_future", day=fmt.day(signed_on, state.lang))
    if not protocols:
        raise UsageError("mt.no_protocol", measure=label)
    if chosen is not None:
        protocols = [chosen]
    mine = [p for p in protocols if name in _signatory_names(state, p)]
    if not mine:
        p = protocols[0]
        key = "mt.not_signatory_other" if paper else "mt.not_signatory"
        raise UsageError(key, name=name, measure=label, day=fmt.day(p.meeting_day, state.lang),
                         names=", ".join(_signatory_names(state, p)) or state.t("none"))
    open_ = [p for p in mine if name in signing.missing(state, p)]
    if not open_:
        p = mine[0]
        when = next((s.signed_on for s in state.store.signatures(p.id) if s.person == name), p.sent_on)
        key = "mt.already_signed_other" if paper else "mt.already_signed"
        return ReplyBuilder().line(state.t(key, name=name, measure=label, day=fmt.day(p.meeting_day, state.lang),
                                           signed=fmt.day(when, state.lang))).build()
    protocol = open_[0]
    if signed_on < protocol.sent_on:
        raise UsageError("mt.sign_before_sent", day=fmt.day(signed_on, state.lang),
                         sent=fmt.day(protocol.sent_on, state.lang))
    channel = caller.channel or ("telegram" if caller.user_id is not None else "konsole")
    by = _by(state, caller)
    state.store.sign(protocol.id, name, signed_on=signed_on, channel=channel, at=now,
                     method=PAPER if paper else CHAT, recorded_by=by if paper else name)
    missing = signing.missing(state, protocol)
    total = len(_signatory_names(state, protocol))
    key = "mt.signed_paper" if paper else "mt.signed"
    out = ReplyBuilder().line(state.t(key, name=name, measure=label, day=fmt.day(protocol.meeting_day, state.lang),
                                      signed=fmt.day(signed_on, state.lang), by=by))
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
    no_more(args)
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


def _calendar_meetings(state: State, now: datetime) -> list[Meeting]:
    """Held and planned meetings; cancelled ones leave the calendar (they stay in the history)."""
    local, meetings = state.local(now), state.store.meetings()
    return [*agenda.held(meetings, local), *agenda.planned(meetings, local)]


def meeting_uid(meeting: Meeting) -> str:
    """The meeting's UID in every calendar: /kalender, invitations, their updates and cancellations."""
    return f"termin-{meeting.id}-{meeting.measure}@sozialmonitor"


def meeting_event(state: State, meeting: Meeting, stamp: datetime) -> Event:
    """One meeting as a VEVENT: stable UID, SEQUENCE = how often it was moved or cancelled."""
    assert meeting.day is not None  # held and planned meetings have a date
    measure = state.catalogue.measures.get(meeting.measure)
    event = Event()
    event.add("uid", meeting_uid(meeting))
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
    return event


def calendar_ics(state: State, now: datetime) -> bytes:
    """The meetings as iCalendar: stable UIDs, times in the configured zone, SEQUENCE = moves."""
    cal = Calendar()
    cal.add("prodid", "-//Sozialmonitor//Fachstelle Sozialplanung//DE")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", state.t("mt.calendar_name"))
    cal.add("x-wr-timezone", state.settings.timezone)
    stamp = now.astimezone(UTC)
    for meeting in _calendar_meetings(state, now):
        cal.add_component(meeting_event(state, meeting, stamp))
    cal.add_missing_timezones()
    return cal.to_ical()


@command("kalender", en="calendar")
def kalender(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Die Besprechungen als Kalenderdatei (.ics)."""
    no_more(args)
    n = len(_calendar_meetings(state, now))
    data = calendar_ics(state, now)
    return (ReplyBuilder().line(state.t("mt.calendar_reply", n=n))
            .attach(Attachment("sozialmonitor-termine.ics", data, caption=state.t("mt.calendar_name"),
                               mime="text/calendar"))
            .build())
