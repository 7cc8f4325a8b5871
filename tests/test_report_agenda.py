"""One rule for held / upcoming / not scheduled, to the minute, and /termine and the report agreeing on it."""

from __future__ import annotations

from datetime import date, datetime, time

from commands import Caller, dispatch
from commands.agenda import HELD, MISSING, PLANNED, UNSCHEDULED, UPCOMING, measure_meetings, meeting_state
from commands.report import build_report
from commands.state import State
from storage.models import Meeting, Step

from .conftest import at

TODAY = date(2018, 10, 8)


def meeting(day: date | None, clock: time | None = None, measure: str = "M12") -> Meeting:
    return Meeting(id=1, measure=measure, day=day, time=clock)


def test_a_meeting_with_a_time_is_held_from_that_minute() -> None:
    m = meeting(TODAY, time(8, 0))
    assert meeting_state(m, datetime(2018, 10, 8, 7, 59)) == UPCOMING
    assert meeting_state(m, datetime(2018, 10, 8, 8, 0)) == HELD
    assert meeting_state(m, datetime(2018, 10, 7, 23, 0)) == UPCOMING
    # A zone-aware moment counts by its wall clock.
    assert meeting_state(m, at("2018-10-08 08:30")) == HELD


def test_a_meeting_without_a_time_is_upcoming_all_its_day() -> None:
    m = meeting(TODAY)
    assert meeting_state(m, datetime(2018, 10, 8, 23, 59)) == UPCOMING
    assert meeting_state(m, datetime(2018, 10, 9, 0, 0)) == HELD
    assert meeting_state(meeting(None), datetime(2018, 10, 9)) == UNSCHEDULED


def test_a_measure_is_held_planned_or_missing() -> None:
    meetings = [meeting(date(2018, 9, 20), measure="M11"), meeting(date(2018, 11, 5), time(9, 0), "M11"),
                meeting(date(2018, 11, 5), measure="M12"), meeting(None, measure="M13")]
    agenda = measure_meetings(meetings, ["M11", "M12", "M13", "M14"], datetime(2018, 10, 8, 12, 0))
    assert [agenda[m].status for m in ("M11", "M12", "M13", "M14")] == [HELD, PLANNED, MISSING, MISSING]
    assert agenda["M11"].last_held.day == date(2018, 9, 20) and agenda["M11"].next.day == date(2018, 11, 5)


def _termine_sections(state: State, now: datetime) -> dict[str, str]:
    """The /termine reply split at its bold headings: heading -> the lines under it."""
    text = dispatch(state, "/termine", Caller(operator=True), now).plain()
    sections: dict[str, str] = {}
    current = ""
    for line in text.splitlines():
        if line.endswith(":"):
            current = line
            sections[current] = ""
        elif current:
            sections[current] += line + "\n"
    return sections


def test_termine_and_the_report_agree_on_a_meeting_at_eight_today(state: State) -> None:
    reply = dispatch(state, "/termin M12 08.10.2018 08:00 Befragung", Caller(operator=True), at("2018-10-01 10:00"))
    assert reply.ok, reply.plain()

    before, after = at("2018-10-08 07:59"), at("2018-10-08 08:00")
    # 07:59: upcoming in both.
    termine = _termine_sections(state, before)
    assert "M 12" in termine["Anstehende Besprechungen:"]
    report = build_report(state, before)
    assert [r.measure for r in report.upcoming] == ["M12"]
    assert "M12" not in {r.measure for r in report.meetings}
    summary = {r.measure: r for g in report.summary.groups for r in g.rows}
    assert summary["M 12"].meeting.kind == "plan" and "08:00" in summary["M 12"].meeting.text

    # 08:00: held in both.
    termine = _termine_sections(state, after)
    assert "M 12" not in termine.get("Anstehende Besprechungen:", "")
    assert "M 12" in termine["Zuletzt stattgefunden:"]
    report = build_report(state, after)
    assert report.upcoming == ()
    assert "M12" in {r.measure for r in report.meetings}
    summary = {r.measure: r for g in report.summary.groups for r in g.rows}
    assert summary["M 12"].meeting.kind == "ok"


def test_termine_and_the_report_name_the_same_measures_without_a_meeting(state: State) -> None:
    now = at("2018-09-21 10:00")
    termine = _termine_sections(state, now)["Noch nicht terminiert:"]
    report = build_report(state, now)
    assert [line.split()[1] + " " + line.split()[2] for line in termine.splitlines() if line] == \
        ["M 12", "M 13"]
    assert report.unscheduled == ("M12", "M13")


def test_the_scheduling_step_is_settled_by_a_meeting_of_its_own_measure() -> None:
    from commands.agenda import settling_meeting

    step = Step(id=1, measure="M12", number=1, text="Gespräch zu M 12 terminieren")
    planned = measure_meetings([meeting(date(2018, 11, 5))], ["M12"], datetime(2018, 10, 1))["M12"]
    missing = measure_meetings([meeting(None)], ["M12"], datetime(2018, 10, 1))["M12"]
    assert settling_meeting(step, planned) is not None
    assert settling_meeting(step, missing) is None
    other = Step(id=2, measure="M13", number=1, text="Gespräch zu M 12 terminieren")
    assert settling_meeting(other, planned) is None  # a step of another measure is not M 12's
    assert settling_meeting(Step(id=3, measure="M12", number=2, text="Protokoll zu M 12 versenden"), planned) is None
