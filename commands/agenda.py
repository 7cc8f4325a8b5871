"""When a meeting counts as held, planned or still to be scheduled: the one answer for every view.

/status, /termine, /kalender, the reminders and the report ask here. `now` is the local time of the
workspace (State.local): a meeting at 08:00 today is planned before 08:00 and held from 08:00 on; a meeting
without a time of day is planned through its whole day and held from the next day on. Cancelled meetings are
neither held nor planned.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from storage.models import Meeting

__all__ = [
    "held",
    "is_held",
    "is_planned",
    "latest_held",
    "moment",
    "next_planned",
    "planned",
    "unscheduled",
]


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
