"""Held, planned, cancelled, still to be scheduled: the one rule (commands.agenda) and the views that use it."""

from __future__ import annotations

from datetime import date, datetime, time

from icalendar import Calendar

from bot.workspace import Monitor
from commands import Caller, agenda, dispatch
from commands.reminders import collect
from storage.models import Meeting

from .conftest import at


def meeting(day: date | None, at_time: time | None = None, *, cancelled: bool = False, mid: int = 1) -> Meeting:
    return Meeting(mid, "M21", day, at_time, cancelled=datetime(2026, 1, 1) if cancelled else None)


def test_a_meeting_at_eight_is_planned_before_eight_and_held_from_eight() -> None:
    m = meeting(date(2026, 12, 1), time(8, 0))
    assert agenda.is_planned(m, datetime(2026, 12, 1, 7, 59))
    assert not agenda.is_held(m, datetime(2026, 12, 1, 7, 59))
    assert agenda.is_held(m, datetime(2026, 12, 1, 8, 0))
    assert not agenda.is_planned(m, datetime(2026, 12, 1, 8, 0))


def test_a_meeting_without_time_is_planned_all_its_day_and_held_from_the_next() -> None:
    m = meeting(date(2026, 12, 1))
    assert agenda.is_planned(m, datetime(2026, 12, 1, 23, 59))
    assert agenda.is_held(m, datetime(2026, 12, 2, 0, 0))


def test_cancelled_and_unscheduled_meetings_are_neither_held_nor_planned() -> None:
    now = datetime(2026, 12, 1, 12, 0)
    for m in (meeting(date(2026, 11, 1), cancelled=True), meeting(date(2026, 12, 24), cancelled=True),
              meeting(None)):
        assert not agenda.is_held(m, now) and not agenda.is_planned(m, now)


def test_latest_held_and_next_planned_over_the_years() -> None:
    now = datetime(2026, 12, 1, 12, 0)
    phase1, phase2 = meeting(date(2018, 9, 20), mid=1), meeting(date(2026, 3, 5), time(10, 0), mid=2)
    cancelled = meeting(date(2026, 12, 3), cancelled=True, mid=3)
    later, today_later = meeting(date(2027, 1, 14), mid=4), meeting(date(2026, 12, 1), time(14, 0), mid=5)
    meetings = [later, cancelled, phase2, today_later, phase1]
    assert agenda.held(meetings, now) == [phase1, phase2]
    assert agenda.latest_held(meetings, now) == phase2
    assert agenda.planned(meetings, now) == [today_later, later]
    assert agenda.next_planned(meetings, now) == today_later
    assert agenda.next_planned([phase1, cancelled], now) is None


def test_a_measure_whose_only_meeting_was_cancelled_is_unscheduled_again() -> None:
    meetings = [meeting(date(2026, 12, 3), cancelled=True), Meeting(2, "M22", date(2018, 9, 20)),
                Meeting(3, "M12", None)]
    assert agenda.unscheduled(["M12", "M21", "M22", "M43"], meetings) == ["M12", "M21", "M43"]


def test_termine_respects_the_time_of_day(state) -> None:
    operator = Caller(operator=True)
    dispatch(state, "/termin M12 15.10.2018 08:00 Bestandsanalyse", operator, at("2018-10-01 09:00"))
    before = dispatch(state, "/termine", operator, at("2018-10-15 07:59")).plain()
    after = dispatch(state, "/termine", operator, at("2018-10-15 08:00")).plain()
    assert "M 12 15.10.2018 08:00: Bestandsanalyse" in before.split("Noch nicht terminiert:")[0]
    assert "Keine Besprechung ist angesetzt." in after
    assert "M 12 15.10.2018: Bestandsanalyse" in after.split("Zuletzt stattgefunden:")[1]
    overview = dispatch(state, "/status", operator, at("2018-10-15 07:59")).plain()
    assert "M 12 (Titel in der Dokumentation noch nicht… · Phase I · Termin 15.10.2018 (geplant)" in overview
    overview = dispatch(state, "/status", operator, at("2018-10-15 08:00")).plain()
    assert "Phase I · Termin 15.10.2018 · kein Protokoll" in overview


def test_cancelling_removes_a_meeting_from_termine_calendar_and_reminders(team_monitor: Monitor) -> None:
    state = team_monitor.state
    operator = Caller(operator=True)
    now = at("2018-10-01 09:00")
    scheduled = dispatch(state, "/termin M21 11.10.2018 10:00 Phase II", operator, now)
    assert scheduled.ok, scheduled.plain()
    assert of_kind_termin(state, date(2018, 10, 10))  # the day-before reminder exists ...

    cancelled = dispatch(state, "/termin M21 absagen", operator, now)
    assert cancelled.ok, cancelled.plain()
    assert "am 11.10.2018 um 10:00 Uhr abgesagt" in cancelled.plain()
    assert {n.person for n in cancelled.notices} == {"Beispiel: Fachstelle Sozialplanung", "Beispiel: Erika Muster"}
    assert all("abgesagt" in n.text for n in cancelled.notices)
    assert not of_kind_termin(state, date(2018, 10, 10))  # ... and is gone with the meeting
    assert "M 21" not in dispatch(state, "/termine", operator, now).plain().split("Noch nicht terminiert:")[0]
    events = Calendar.from_ical(dispatch(state, "/kalender", operator, now).attachments[0].data).walk("VEVENT")
    starts = [e.decoded("dtstart") for e in events]
    assert len(starts) == 12 and not [s for s in starts if isinstance(s, datetime)]  # only the 2018 all-day ones
    detail = dispatch(state, "/status M21", operator, now).plain()
    assert "11.10.2018 10:00: Phase II (abgesagt am 01.10.2018)" in detail
    assert "20.09.2018: Übersicht zum Sozialwohnungsbau und neu ausgewiesenen Bauflächen (stattgefunden)" in detail
    # Nothing left to cancel: a clear sentence, nothing changed.
    again = dispatch(state, "/schedule M21 cancel", operator, now)
    assert again.status == "usage" and "keine Besprechung angesetzt" in again.plain()
    assert len(state.store.meetings("M21", include_cancelled=True)) == 2


def test_cancelling_the_only_meeting_makes_the_measure_unscheduled(state) -> None:
    operator = Caller(operator=True)
    now = at("2018-10-01 09:00")
    dispatch(state, "/termin M12 15.10.2018", operator, now)
    reply = dispatch(state, "/termin M12 absagen", operator, now)
    assert "noch nicht terminiert" in reply.plain()
    assert "M 12" in dispatch(state, "/termine", operator, now).plain().split("Noch nicht terminiert:")[1]
    # Scheduling it again makes a new meeting; the cancelled one stays in the history.
    dispatch(state, "/termin M12 22.10.2018", operator, now)
    days = [(m.day, m.cancelled is not None) for m in state.store.meetings("M12", include_cancelled=True)]
    assert days == [(date(2018, 10, 15), True), (date(2018, 10, 22), False)]


def test_a_moved_meeting_keeps_its_old_date_in_the_history(state) -> None:
    operator = Caller(operator=True)
    now = at("2018-10-01 09:00")
    dispatch(state, "/termin M21 11.10.2018 Phase II", operator, now)
    dispatch(state, "/termin M21 18.10.2018", operator, now)
    detail = dispatch(state, "/status M21", operator, now).plain()
    assert "18.10.2018: Phase II (geplant; verlegt vom 11.10.2018)" in detail
    assert "Zuletzt getagt: 20.09.2018 · nächste Besprechung: 18.10.2018" in detail
    line = next(x for x in dispatch(state, "/status", operator, now).plain().splitlines() if x.startswith("M 21"))
    assert "Termin 20.09.2018, nächster 18.10.2018" in line


def of_kind_termin(state, day: date) -> list:
    return [r for r in collect(state, day) if r.kind == "termin" and r.measure == "M21"]
