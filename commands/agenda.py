"""When a meeting counts as held, planned or still to be scheduled: the one answer for every view.

/status, /termine, /kalender, the reminders and the committee report ask here, so they can never disagree
about the same meeting. `now` is the local time of the workspace (State.local): a meeting at 08:00 today is
planned before 08:00 and held from 08:00 on; a meeting without a time of day is planned through its whole day
and held from the next day on, because nobody can say before the day is over whether it took place.
Cancelled meetings are neither held nor planned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from storage.models import Meeting, Step

__all__ = [
    "CANCELLED",
    "HELD",
    "MISSING",
    "PLANNED",
    "UNSCHEDULED",
    "UPCOMING",
    "MeasureMeetings",
    "held",
    "is_held",
    "is_planned",
    "latest_held",
    "measure_meetings",
    "meeting_state",
    "moment",
    "next_planned",
    "planned",
    "settling_meeting",
    "unscheduled",
]

HELD, UPCOMING, UNSCHEDULED, CANCELLED = "held", "upcoming", "unscheduled", "cancelled"  # a meeting
PLANNED, MISSING = "planned", "missing"  # a measure: HELD, PLANNED (only upcoming ones) or MISSING (none dated)


def _naive(now: datetime) -> datetime:
    # Meetings are stored in local wall time; `now` arrives already converted to the workspace's zone.
    return now.replace(tzinfo=None)


def moment(meeting: Meeting) -> datetime | None:
    """The meeting's start as local wall time; without a time of day, the start of its day."""
    if meeting.day is None:
        return None
    return datetime.combine(meeting.day, meeting.time or datetime.min.time())


def is_held(meeting: Meeting, now: datetime) -> bool:
    if meeting.day is None or meeting.cancelled is not None:
        return False
    if meeting.time is None:
        return meeting.day < _naive(now).date()
    return datetime.combine(meeting.day, meeting.time) <= _naive(now)


def is_planned(meeting: Meeting, now: datetime) -> bool:
    return meeting.day is not None and meeting.cancelled is None and not is_held(meeting, now)


def meeting_state(meeting: Meeting, now: datetime) -> str:
    """HELD, UPCOMING, UNSCHEDULED or CANCELLED as of `now`."""
    if meeting.cancelled is not None:
        return CANCELLED
    if meeting.day is None:
        return UNSCHEDULED
    return HELD if is_held(meeting, now) else UPCOMING


def held(meetings: Iterable[Meeting], now: datetime) -> list[Meeting]:
    """The meetings that have taken place by `now`, oldest first."""
    return sorted((m for m in meetings if is_held(m, now)), key=_order)


def planned(meetings: Iterable[Meeting], now: datetime) -> list[Meeting]:
    """The meetings still to come (today's included until they begin), soonest first."""
    return sorted((m for m in meetings if is_planned(m, now)), key=_order)


def latest_held(meetings: Iterable[Meeting], now: datetime) -> Meeting | None:
    done = held(meetings, now)
    return done[-1] if done else None


def next_planned(meetings: Iterable[Meeting], now: datetime) -> Meeting | None:
    coming = planned(meetings, now)
    return coming[0] if coming else None


def unscheduled(measures: Iterable[str], meetings: Iterable[Meeting]) -> list[str]:
    """The measures (in the order given) with neither a held nor a planned meeting: still to be scheduled.

    A dated meeting that is not cancelled is always one or the other, so this needs no clock."""
    dated = {m.measure for m in meetings if m.day is not None and m.cancelled is None}
    return [measure for measure in measures if measure not in dated]


def _order(meeting: Meeting) -> tuple[date, datetime, int, int]:
    start = moment(meeting) or datetime.max
    return (meeting.day or date.max, start, meeting.seq, meeting.id)


@dataclass(frozen=True)
class MeasureMeetings:
    """One measure's meetings as of a moment: held ones (oldest first) and upcoming ones (next first)."""

    measure: str
    held: tuple[Meeting, ...] = ()
    upcoming: tuple[Meeting, ...] = ()

    @property
    def status(self) -> str:
        """HELD if any meeting took place, else PLANNED if one is upcoming, else MISSING."""
        if self.held:
            return HELD
        return PLANNED if self.upcoming else MISSING

    @property
    def last_held(self) -> Meeting | None:
        return self.held[-1] if self.held else None

    @property
    def next(self) -> Meeting | None:
        return self.upcoming[0] if self.upcoming else None


def measure_meetings(meetings: Iterable[Meeting], measures: Iterable[str], now: datetime) -> dict[str, MeasureMeetings]:
    """Every measure in `measures` (in that order) with its held and upcoming meetings as of `now`."""
    meetings = list(meetings)
    by_measure: dict[str, list[Meeting]] = {}
    for meeting in meetings:
        by_measure.setdefault(meeting.measure, []).append(meeting)
    return {mid: MeasureMeetings(mid, tuple(held(by_measure.get(mid, ()), now)),
                                 tuple(planned(by_measure.get(mid, ()), now))) for mid in measures}


# "Gespräch zu M 12 terminieren", as the status document words the step of a measure still without a meeting.
_SCHEDULING_STEP = re.compile(
    r"(?:gespräch|besprechung|termin)\w*\s+(?:zu|für|der|von)\s+(?:maßnahme\s+)?m\s?(?P<n>\d{2})\s+"
    r"(?:terminieren|ansetzen|vereinbaren|planen)\.?", re.IGNORECASE)


def settling_meeting(step: Step, meetings: MeasureMeetings | None) -> Meeting | None:
    """The meeting that has done what `step` asks, if the step is "schedule the meeting of Mxx" and Mxx now has a
    held or upcoming meeting; else None. The report leaves such a step out instead of contradicting itself."""
    match = _SCHEDULING_STEP.fullmatch(" ".join(step.text.split()))
    if match is None or meetings is None or step.measure != f"M{match['n']}":
        return None
    return meetings.next or meetings.last_held
