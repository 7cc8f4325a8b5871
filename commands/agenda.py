"""Whether a meeting counts as held or upcoming, and which measures still lack one: the one rule all commands use.

`meeting_state` is the only place that decides "held / upcoming / not scheduled"; everything else here (the
per-measure summary, the steps that a scheduled meeting has settled) is derived from it, so that /termine,
/status and the committee report can never disagree about the same meeting.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from storage.models import Meeting, Step

__all__ = [
    "HELD",
    "MISSING",
    "PLANNED",
    "UNSCHEDULED",
    "UPCOMING",
    "MeasureMeetings",
    "measure_meetings",
    "meeting_state",
    "settling_meeting",
]

HELD, UPCOMING, UNSCHEDULED = "held", "upcoming", "unscheduled"  # a meeting
PLANNED, MISSING = "planned", "missing"  # a measure: HELD, PLANNED (only upcoming ones) or MISSING (none dated)


def meeting_state(meeting: Meeting, now: datetime) -> str:
    """HELD, UPCOMING or UNSCHEDULED as of `now` (local wall-clock time; a time zone, if any, is dropped).

    A meeting with a time counts as held from that minute on (08:00 today: upcoming at 07:59, held at 08:00);
    one without a time is upcoming all of its day and held from the next, because nobody can say before the
    day is over whether it took place.
    """
    if meeting.day is None:
        return UNSCHEDULED
    clock = now.replace(tzinfo=None)
    if meeting.time is None:
        return HELD if meeting.day < clock.date() else UPCOMING
    return HELD if datetime.combine(meeting.day, meeting.time) <= clock else UPCOMING


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
    held: dict[str, list[Meeting]] = {}
    upcoming: dict[str, list[Meeting]] = {}
    for meeting in meetings:
        state = meeting_state(meeting, now)
        if state == HELD:
            held.setdefault(meeting.measure, []).append(meeting)
        elif state == UPCOMING:
            upcoming.setdefault(meeting.measure, []).append(meeting)

    def when(m: Meeting) -> tuple:
        return (m.day, m.time is not None, m.time, m.seq, m.id)

    return {mid: MeasureMeetings(mid, tuple(sorted(held.get(mid, ()), key=when)),
                                 tuple(sorted(upcoming.get(mid, ()), key=when))) for mid in measures}


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
