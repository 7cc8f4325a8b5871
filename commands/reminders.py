"""The reminder engine: what is due at a moment, as a pure function of the state; and /erinnerungen."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

from storage.models import Meeting, Protocol

from . import agenda, fmt
from .deliveries import overdue
from .outgoing import ADMIN_CHAT, ADMINS, channels_of, configured_channels
from .protocols import signatories
from .registry import ADMIN, Caller, UsageError, command
from .reply import Reply, ReplyBuilder, b, i
from .state import State

__all__ = [
    "ADMINS",
    "KINDS",
    "Bundle",
    "Reminder",
    "WorkCalendar",
    "blocked_reason",
    "bundle",
    "bundle_reply",
    "claim",
    "collect",
    "due_reminders",
    "measure_label",
    "next_protocol_reminder",
    "next_slot",
    "participants",
    "recipient_label",
    "reminder_line",
    "signatories",
]


KINDS = ("termin", "protokoll", "lieferung", "schritt", "terminierung", "zusammenfassung", "ohne_telegram")
_KIND_ORDER = {k: n for n, k in enumerate(KINDS)}
_SUMMARY_LIMIT = 25  # items listed by name in the weekly delivery summary; the rest are counted


@dataclass(frozen=True)
class Reminder:
    """One thing to remind one recipient of. `key` is stable: the same occurrence always has the same key."""

    recipient: str  # person name from the catalogue, or ADMINS
    kind: str  # one of KINDS
    measure: str  # "M21"; "" when it concerns several measures
    text: str
    key: str


@dataclass(frozen=True)
class Bundle:
    """Everything one recipient gets in one run: one message, not one per item."""

    recipient: str
    reminders: tuple[Reminder, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(r.key for r in self.reminders)

    @property
    def key(self) -> str:
        digest = hashlib.sha256("\n".join(sorted(self.keys)).encode()).hexdigest()[:16]
        return f"buendel:{self.recipient}:{digest}"


# ---------------------------------------------------------------- working days


@lru_cache(maxsize=64)
def _holidays(subdiv: str, year: int) -> dict[date, str]:
    try:
        table = holidays.country_holidays("DE", subdiv=subdiv, years=year, language="de")
    except NotImplementedError:
        # An unknown state in the settings still gets the nationwide holidays (`check` reports the setting).
        table = holidays.country_holidays("DE", years=year, language="de")
    return dict(table.items())


class WorkCalendar:
    """Working days: Monday to Friday, except the public holidays of one German state (default RP)."""

    def __init__(self, subdiv: str = "RP") -> None:
        self.subdiv = subdiv.upper()

    def holiday(self, day: date) -> str | None:
        return _holidays(self.subdiv, day.year).get(day)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in _holidays(self.subdiv, day.year)

    def count(self, after: date, until: date) -> int:
        """Working days d with after < d <= until."""
        n, day = 0, after + timedelta(days=1)
        while day <= until:
            n += self.is_working_day(day)
            day += timedelta(days=1)
        return n

    def on_or_before(self, day: date) -> date:
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def on_or_after(self, day: date) -> date:
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day


def _calendar(state: State) -> WorkCalendar:
    return WorkCalendar(state.settings.reminders.state)


def blocked_reason(state: State, now: datetime) -> str | None:
    """None if reminders may go out at `now`; else a sentence saying why not (weekend, holiday, hours)."""
    local = state.local(now)
    day = local.date()
    cal = _calendar(state)
    name = cal.holiday(day)
    if name:
        return state.t("rem.blocked_holiday", day=fmt.day(day, state.lang), name=name)
    if day.weekday() >= 5:
        return state.t("rem.blocked_weekend", day=fmt.day(day, state.lang), weekday=_weekday(state, day))
    start, end = state.settings.reminders.window
    if not start <= local.time().replace(tzinfo=None) < end:
        start, end = state.settings.reminders.window
        return state.t("rem.blocked_hours", start=fmt.clock(start), end=fmt.clock(end))
    return None


def next_slot(state: State, now: datetime) -> datetime:
    """The first moment at or after `now` when reminders may go out."""
    local = state.local(now)
    start, end = state.settings.reminders.window
    cal = _calendar(state)
    day = local.date()
    for _ in range(400):
        if cal.is_working_day(day):
            opening = datetime.combine(day, start, tzinfo=state.tz)
            closing = datetime.combine(day, end, tzinfo=state.tz)
            if local < closing:
                return max(local, opening)
        day += timedelta(days=1)
    return local  # unreachable with real calendars; keeps the function total


# ---------------------------------------------------------------- the rules


def measure_label(state: State, measure: str) -> str:
    m = state.catalogue.measures.get(measure)
    return m.number if m else (measure or state.t("rem.all_measures"))


def _weekday(state: State, day: date) -> str:
    return state.t(f"weekday.{day.weekday()}")


def participants(state: State, meeting: Meeting) -> list[str]:
    """The meeting's own list, or by default the persons of that measure."""
    return state.catalogue.meeting_participants(meeting)


def _week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _weekly_due(state: State, cal: WorkCalendar, today: date) -> bool:
    """Weekly items go out from the week's configured weekday (or the next working day of that week) on."""
    weekday = min(max(state.settings.reminders.weekly_weekday, 1), 5)
    monday = today - timedelta(days=today.weekday())
    slot = cal.on_or_after(monday + timedelta(days=weekday - 1))
    return _week(slot) == _week(today) and today >= slot


def _meeting_items(state: State, cal: WorkCalendar, today: date) -> Iterable[Reminder]:
    before = sorted(set(state.settings.reminders.meeting_days_before))
    for meeting in agenda.planned(state.store.meetings(), datetime.combine(today, datetime.min.time())):
        if meeting.day is None or meeting.day <= today:  # the day itself: the reminder came the day before
            continue
        # The closest reminder that has fallen due supersedes earlier unsent ones (e.g. after downtime).
        due = [n for n in before if cal.on_or_before(meeting.day - timedelta(days=n)) <= today]
        if not due:
            continue
        n = min(due)
        days = (meeting.day - today).days
        when = state.t("rem.tomorrow") if days == 1 else state.t("rem.in_days", n=days)
        text = state.t("rem.meeting", measure=measure_label(state, meeting.measure), when=when,
                       weekday=_weekday(state, meeting.day), day=fmt.day(meeting.day, state.lang),
                       time=state.t("rem.at_time", time=fmt.clock(meeting.time)) if meeting.time else "",
                       approach=meeting.approach or "—")
        for person in participants(state, meeting):
            yield Reminder(person, "termin", meeting.measure, text,
                           f"termin:{meeting.id}:{meeting.day.isoformat()}:{n}:{person}")


def _protocol_rules(state: State) -> tuple[int, int]:
    rules = state.settings.reminders
    return max(rules.protocol_first_after, 0), max(rules.protocol_every, 1)


def _known_since(cal: WorkCalendar, protocol: Protocol) -> int:
    """Working days from sending to the day the protocol was entered; -1 when it was entered as it went out.

    A round that fell due by that day belongs to the past: entering history must not set off a flood."""
    if protocol.entered_on is None or protocol.entered_on <= protocol.sent_on:
        return -1
    return cal.count(protocol.sent_on, protocol.entered_on)


def next_protocol_reminder(state: State, protocol: Protocol, today: date) -> date | None:
    """The first day after `today` on which a new round of signature reminders for `protocol` begins."""
    cal = _calendar(state)
    first, every = _protocol_rules(state)
    if protocol.sent_on > today:
        return None
    elapsed, known = cal.count(protocol.sent_on, today), _known_since(cal, protocol)
    due = first
    while due <= max(elapsed, known):
        due += every
    day = today
    for _ in range(due - elapsed):
        day = cal.on_or_after(day + timedelta(days=1))
    return day


def _protocol_items(state: State, cal: WorkCalendar, today: date) -> Iterable[Reminder]:
    rules = state.settings.reminders
    first, every = _protocol_rules(state)
    for protocol in state.store.protocols():
        signed = {s.person for s in state.store.signatures(protocol.id)}
        missing = [name for name in signatories(state, protocol) if name not in signed]
        if not missing or protocol.sent_on > today:
            continue
        elapsed = cal.count(protocol.sent_on, today)
        if elapsed < first:
            continue
        # Only the current round counts: a round missed while the process was down is not sent twice.
        round_ = (elapsed - first) // every
        if first + round_ * every <= _known_since(cal, protocol):
            continue  # due before the protocol was entered (history): the next round is the first to go out
        label = measure_label(state, protocol.measure)
        base = f"protokoll:{protocol.id}:v{protocol.version}:{round_}"
        text = state.t("rem.protocol", measure=label, day=fmt.day(protocol.meeting_day, state.lang),
                       sent=fmt.day(protocol.sent_on, state.lang), command=protocol.measure)
        for person in missing:
            yield Reminder(person, "protokoll", protocol.measure, text, f"{base}:{person}")
        # Escalation counts calendar days, as the settings file says ("nach so vielen Tagen").
        if today >= protocol.sent_on + timedelta(days=rules.protocol_escalate_after):
            yield Reminder(ADMINS, "protokoll", protocol.measure,
                           state.t("rem.protocol_admins", measure=label,
                                   day=fmt.day(protocol.meeting_day, state.lang),
                                   sent=fmt.day(protocol.sent_on, state.lang),
                                   days=(today - protocol.sent_on).days, names=", ".join(missing)),
                           f"{base}:admins")


def _office_recipients(state: State, office: str) -> list[str]:
    names = [p.name for p in state.catalogue.office_persons(office)] if office else []
    return names or [ADMINS]


def _delivery_items(state: State, cal: WorkCalendar, today: date, weekly: bool) -> Iterable[Reminder]:
    ahead = max(state.settings.reminders.delivery_days_before, 0)
    # overdue() counts a delivery due today as due; a reminder calls it late only from the next day on.
    late = [d for d in overdue(state, None, today) if d.due < today]
    late_ids = {(d.indicator, d.period) for d in late}
    # Ask the deliveries module what will be overdue just after the horizon: what is not late yet is "soon".
    soon = [d for d in overdue(state, None, today + timedelta(days=ahead + 1))
            if (d.indicator, d.period) not in late_ids and today <= d.due <= today + timedelta(days=ahead)]

    def name(d) -> str:
        ind = state.catalogue.indicators.get(d.indicator)
        return ind.name if ind else d.indicator

    for d in soon:
        text = state.t("rem.delivery_soon", indicator=name(d), period=d.label or d.period,
                       due=fmt.day(d.due, state.lang), measure=measure_label(state, d.measure))
        for person in _office_recipients(state, d.office):
            yield Reminder(person, "lieferung", d.measure, text, f"lieferung-bald:{d.indicator}:{d.period}:{person}")
    for d in late:
        text = state.t("rem.delivery_late", indicator=name(d), period=d.label or d.period,
                       due=fmt.day(d.due, state.lang), measure=measure_label(state, d.measure))
        for person in _office_recipients(state, d.office):
            yield Reminder(person, "lieferung", d.measure, text,
                           f"lieferung-ueberfaellig:{d.indicator}:{d.period}:{person}")
    if weekly and late:
        items = [state.t("rem.summary_item", measure=measure_label(state, d.measure), indicator=name(d),
                         period=d.label or d.period, due=fmt.day(d.due, state.lang), office=d.office or "—")
                 for d in sorted(late, key=lambda d: (d.due, d.measure, d.indicator, d.period))]
        more = len(items) - _SUMMARY_LIMIT
        listed = "; ".join(items[:_SUMMARY_LIMIT]) + (state.t("rem.summary_more", n=more) if more > 0 else "")
        summary = state.t("rem.summary_one" if len(items) == 1 else "rem.summary", n=len(items), items=listed)
        yield Reminder(ADMINS, "zusammenfassung", "", summary, f"woche:{_week(today)}:lieferungen")


def _weekly_admin_items(state: State, today: date) -> Iterable[Reminder]:
    week = _week(today)
    for step in state.store.steps():
        if step.due and step.due < today:
            yield Reminder(ADMINS, "schritt", step.measure,
                           state.t("rem.step", measure=measure_label(state, step.measure), number=step.number,
                                   text=step.text, due=fmt.day(step.due, state.lang),
                                   who=state.t("detail.step_who", who=step.who) if step.who else ""),
                           f"woche:{week}:schritt:{step.id}")
    for measure in agenda.unscheduled(state.catalogue.measures, state.store.meetings()):
        yield Reminder(ADMINS, "terminierung", measure,
                       state.t("rem.unscheduled", measure=measure_label(state, measure), command=measure),
                       f"woche:{week}:terminierung:{measure}")


def _reroute_unreachable(state: State, items: Iterable[Reminder]) -> Iterable[Reminder]:
    """A person reachable on no channel is listed to the admins instead of being skipped silently."""
    available = configured_channels(state.settings)
    for r in items:
        if r.recipient == ADMINS:
            yield r
            continue
        person = state.catalogue.person(r.recipient)
        if person is None or not channels_of(person, available):
            no_channel = "rem.no_telegram_id" if available == {"telegram"} else "rem.no_channel"
            reason = state.t("rem.no_person" if person is None else no_channel)
            yield Reminder(ADMINS, "ohne_telegram", r.measure,
                           state.t("rem.unreachable", name=r.recipient, reason=reason, text=r.text), r.key)
        else:
            yield r


def collect(state: State, today: date) -> list[Reminder]:
    """Every reminder relevant on `today`, sent or not, ignoring the hours (but not the calendar rules)."""
    cal = _calendar(state)
    weekly = _weekly_due(state, cal, today)
    items: list[Reminder] = [*_meeting_items(state, cal, today), *_protocol_items(state, cal, today),
                             *_delivery_items(state, cal, today, weekly)]
    if weekly:
        items += _weekly_admin_items(state, today)
    unique = {r.key: r for r in _reroute_unreachable(state, items)}
    return sorted(unique.values(), key=lambda r: (r.recipient == ADMINS, r.recipient, _KIND_ORDER.get(r.kind, 99),
                                                  r.measure, r.key))


def due_reminders(state: State, now: datetime) -> list[Reminder]:
    """The reminders to send at `now`: none outside working days and hours; none already sent."""
    if blocked_reason(state, now) is not None:
        return []
    sent = state.store.sent_keys()
    return [r for r in collect(state, state.local(now).date()) if r.key not in sent]


def bundle(reminders: Iterable[Reminder]) -> list[Bundle]:
    """One bundle per recipient, in the order the recipients first appear."""
    by_recipient: dict[str, list[Reminder]] = {}
    for r in reminders:
        by_recipient.setdefault(r.recipient, []).append(r)
    return [Bundle(recipient, tuple(items)) for recipient, items in by_recipient.items()]


def bundle_reply(state: State, item: Bundle) -> Reply:
    """The one message a recipient gets: a greeting line and one bullet per reminder.

    An admin's message carries the items for the whole Fachstelle too, under their own heading."""
    out = ReplyBuilder()
    if item.recipient in (ADMINS, ADMIN_CHAT):
        out.line(b(state.t("rem.title_admins")))
    else:
        out.line(b(state.t("rem.title", name=item.recipient)))
    own = [r for r in item.reminders if r.recipient != ADMINS or item.recipient in (ADMINS, ADMIN_CHAT)]
    shared = [r for r in item.reminders if r not in own]
    for r in own:
        out.line("• ", r.text)
    if shared:
        if own:
            out.blank()
        out.line(b(state.t("rem.title_admins")))
        for r in shared:
            out.line("• ", r.text)
    return out.build()


def per_person(state: State, bundles: Sequence[Bundle]) -> list[Bundle]:
    """One message per person and run: the items for the admins join each reachable admin's own bundle.

    Without that an admin who also takes part in a measure would get two messages. The admin chat, if the
    settings name one, gets the admins' items as well. Admins without a Telegram id keep them addressed to
    the admins as a whole (shown in the console, listed by the bot). Reachable means on any set-up channel."""
    shared = next((x for x in bundles if x.recipient == ADMINS), None)
    available = configured_channels(state.settings)
    reachable = [p.name for p in state.catalogue.admins if channels_of(p, available)]
    if shared is None or not reachable:
        return list(bundles)
    out: list[Bundle] = []
    for x in bundles:
        if x.recipient == ADMINS:
            continue
        out.append(Bundle(x.recipient, x.reminders + shared.reminders) if x.recipient in reachable else x)
    personal = {x.recipient for x in bundles}
    out += [Bundle(name, shared.reminders) for name in reachable if name not in personal]
    if state.settings.access.admin_chat or ("matrix" in available and state.settings.matrix.rooms):
        out.append(Bundle(ADMIN_CHAT, shared.reminders))  # the admin chat, and the first Matrix room
    return out


def claim_all(state: State, due: Iterable[Reminder], now: datetime) -> list[Bundle]:
    """Claim what is due (recorded as sent, once) and address it: one bundle per person."""
    claimed = [c for c in (claim(state, item, now) for item in bundle(due)) if c is not None]
    return per_person(state, claimed)


def claim(state: State, bundle_: Bundle, now: datetime) -> Bundle | None:
    """Record a bundle's keys as sent and return what was not sent before (None if nothing is left).

    Checking and recording under the store's lock makes two runs at once (ticker, JobQueue, /erinnerungen
    senden) hand out each key only once.
    """
    with state.store.locked():
        sent = state.store.sent_keys()
        fresh = tuple(r for r in bundle_.reminders if r.key not in sent)
        if not fresh:
            return None
        state.store.mark_sent([r.key for r in fresh], at=now, recipient=bundle_.recipient)
    return Bundle(bundle_.recipient, fresh)


def recipient_label(state: State, recipient: str) -> str:
    if recipient == ADMIN_CHAT:
        return state.t("rem.admin_chat")
    return state.t("rem.admins") if recipient == ADMINS else recipient


def reminder_line(state: State, r: Reminder) -> str:
    """recipient<TAB>kind<TAB>measure<TAB>text, on one line (the CLI's and the console's format)."""
    text = " ".join(r.text.split())
    return "\t".join((recipient_label(state, r.recipient), r.kind, r.measure or "-", text))


# ---------------------------------------------------------------- /erinnerungen


@command("erinnerungen", en="reminders", access=ADMIN, usage="[senden]", usage_en="[send]", writes=True)
def erinnerungen(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Die jetzt fälligen Erinnerungen; mit „senden“ werden sie sofort verschickt."""
    send = False
    if args:
        if len(args) > 1 or args[0].casefold() not in ("senden", "send"):
            raise UsageError("rem.bad_args", found=" ".join(args))
        send = True
    out = ReplyBuilder()
    reason = blocked_reason(state, now)
    if reason is not None:
        slot = next_slot(state, now)
        out.line(reason)
        out.line(state.t("rem.next_slot", weekday=_weekday(state, slot.date()), day=fmt.day(slot.date(), state.lang),
                         time=fmt.clock(slot.time())))
        return out.build()
    due = due_reminders(state, now)
    if not due:
        return out.line(state.t("rem.none_due")).build()
    if not send:
        out.line(b(state.t("rem.due_title", n=len(due))))
        for item in bundle(due):
            out.blank().line(b(recipient_label(state, item.recipient)))
            for r in item.reminders:
                out.line("• ", i(state.t(f"rem.kind.{r.kind}")), f" {r.measure or '—'}: {r.text}")
        out.blank().line(state.t("rem.send_hint"))
        return out.build()
    # Recording the keys first (claim_all) means a crash never repeats one; the bot layer delivers the notices.
    sent = claim_all(state, due, now)
    from .mail import reminder_calendar, reminder_subject

    for item in sent:
        out.notify(item.recipient, bundle_reply(state, item), kind="reminder", key=item.key,
                   subject=reminder_subject(state, item), calendar=reminder_calendar(state, item, now))
    if not sent:
        return out.line(state.t("rem.none_due")).build()
    n = len({r.key for item in sent for r in item.reminders})
    out.line(b(state.t("rem.sent_title", n=n, recipients=len(sent))))
    for item in sent:
        out.line("• ", recipient_label(state, item.recipient), ": ",
                 ", ".join(dict.fromkeys(f"{r.kind} {r.measure}".strip() for r in item.reminders)))
    return out.build()

