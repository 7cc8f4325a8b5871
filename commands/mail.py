"""What an e-mail needs beyond the chat text: a subject that says what is due, and meeting invitations."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parseaddr
from typing import TYPE_CHECKING

from icalendar import Calendar, Timezone, vCalAddress, vText

from storage.models import Meeting

from . import fmt
from .outgoing import ADMIN_CHAT, ADMINS
from .state import State

if TYPE_CHECKING:
    from .reminders import Bundle

__all__ = ["invitation_subject", "meeting_invitation", "reminder_calendar", "reminder_subject", "subject_of"]

_SUBJECT_LIMIT = 120  # characters; longer subjects are cut at a word


def _cut(text: str, limit: int = _SUBJECT_LIMIT) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > limit // 2 else limit - 1].rstrip(" ,;:") + "…"


def reminder_subject(state: State, bundle: Bundle) -> str:
    """'Erinnerung: Termin M 21, Protokoll M 14' – the kinds and measures that are due, in order."""
    items = dict.fromkeys(
        " ".join(x for x in (state.t(f"rem.kind.{r.kind}"), state.t("mail.measure", measure=r.measure[1:])
                             if r.measure else "") if x)
        for r in bundle.reminders)
    return _cut(state.t("mail.subject_reminder", items=", ".join(items)))


def subject_of(lang: str, kind: str, body: str, subject: str = "") -> str:
    """The subject of a message: its own, else its kind and its first line."""
    from .texts import text

    if subject:
        return _cut(subject)
    first = next((line for line in body.splitlines() if line.strip()), "")
    return _cut(text(lang, "mail.subject_error" if kind == "error" else "mail.subject_notice", text=first.strip()))


def invitation_subject(state: State, meeting: Meeting, method: str) -> str:
    from .reminders import measure_label

    assert meeting.day is not None
    when = fmt.day(meeting.day, state.lang) + (f", {fmt.clock(meeting.time)}" if meeting.time else "")
    key = "mail.subject_cancel" if method == "CANCEL" else (
        "mail.subject_moved" if meeting.history else "mail.subject_invitation")
    return _cut(state.t(key, measure=measure_label(state, meeting.measure), when=when))


def meeting_invitation(state: State, meeting: Meeting, method: str, now: datetime) -> str:
    """An iCalendar invitation for the meeting (METHOD:REQUEST, or CANCEL), as Outlook expects one.

    The UID is the meeting's own (the same as in /kalender), SEQUENCE grows with every move: a calendar client
    updates the event it has instead of adding a second. The organiser is the [email] sender; every participant
    with an e-mail address is an attendee. Times carry the configured zone with its VTIMEZONE."""
    from .meetings import meeting_event
    from .reminders import participants

    if meeting.day is None:
        return ""
    cal = Calendar()
    cal.add("prodid", "-//Sozialmonitor//Fachstelle Sozialplanung//DE")
    cal.add("version", "2.0")
    cal.add("method", method)
    event = meeting_event(state, meeting, now.astimezone(UTC))
    name, address = parseaddr(state.settings.email.sender)
    if address:
        organizer = vCalAddress(f"mailto:{address}")
        organizer.params["cn"] = vText(name or "Sozialmonitor")
        event.add("organizer", organizer)
    for person_name in participants(state, meeting):
        person = state.catalogue.person(person_name)
        if person is None or not person.email:
            continue
        attendee = vCalAddress(f"mailto:{person.email}")
        attendee.params.update({"cn": vText(person.name), "role": vText("REQ-PARTICIPANT"),
                                "partstat": vText("NEEDS-ACTION"), "rsvp": vText("FALSE")})
        event.add("attendee", attendee, encode=False)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    try:
        cal.add_component(Timezone.from_tzid(state.settings.timezone))
    except Exception:  # an unknown zone name is reported by `check`; the times still carry their offset
        pass
    cal.add_component(event)
    return cal.to_ical().decode("utf-8")


def reminder_calendar(state: State, bundle: Bundle, now: datetime) -> str:
    """A meeting reminder by e-mail carries the event again: the invitation of the first meeting it names."""
    if bundle.recipient in (ADMINS, ADMIN_CHAT):
        return ""
    for reminder in bundle.reminders:
        if reminder.kind != "termin":
            continue
        meeting_id = reminder.key.split(":")[1] if reminder.key.count(":") >= 2 else ""
        meeting = next((m for m in state.store.meetings(reminder.measure) if str(m.id) == meeting_id), None)
        if meeting is not None and meeting.cancelled is None:
            return meeting_invitation(state, meeting, "REQUEST", now)
    return ""
