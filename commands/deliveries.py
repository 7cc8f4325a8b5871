"""Which deliveries are due and overdue, per indicator, office and period."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from storage.models import Indicator

from . import periods
from .periods import Period, PeriodError, due_date, period_containing, periods_between
from .state import State

__all__ = [
    "Completeness",
    "Due",
    "Expected",
    "as_due",
    "completeness",
    "expected_deliveries",
    "last_due_period",
    "next_due",
    "overdue",
]


@dataclass(frozen=True)
class Due:
    indicator: str
    measure: str
    office: str
    period: str  # canonical key, e.g. "2018-Q3"
    due: date
    label: str = ""  # the period as people read it, e.g. "3. Quartal 2018"


@dataclass(frozen=True)
class Expected:
    """One delivery that was expected by `today`: an indicator for one period, delivered or not."""

    indicator: str
    measure: str
    office: str
    period: Period
    due: date
    delivered: bool


@dataclass(frozen=True)
class Completeness:
    """One office's deliveries for one period: how many expected, which are missing."""

    office: str
    period: Period
    expected: int
    delivered: int
    missing: tuple[Due, ...]

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def oldest_due(self) -> date:
        return min((d.due for d in self.missing), default=date.max)


def last_due_period(indicator: Indicator, today: date) -> Period:
    """The latest period of the indicator's frequency whose delivery is due on or before `today`."""
    candidate = period_containing(indicator.frequency, today - timedelta(days=indicator.due_days))
    # The containing period ends on or after that day: it is due by today only when it ends exactly then.
    return candidate if due_date(candidate, indicator.due_days) <= today else periods.previous(candidate)


def _delivered(state: State, indicator: Indicator) -> dict[str, Period]:
    out = {}
    for key in state.store.periods(indicator.id):
        try:
            out[key] = Period.from_key(key)
        except PeriodError:
            continue
    return out


def _expected_for(state: State, indicator: Indicator, today: date) -> list[Expected]:
    last = last_due_period(indicator, today)
    delivered = _delivered(state, indicator)
    # Only periods of the indicator's own kind count; a Stichtag key of a re-typed indicator is ignored.
    own = [p for p in delivered.values() if p.kind == last.kind]
    if own:
        first = min(own)
        span = periods_between(indicator.frequency, first.end, last.end) if first <= last else []
    else:
        span = [last]
    return [Expected(indicator.id, indicator.measure, indicator.office, p, due_date(p, indicator.due_days),
                     p.key in delivered) for p in span]


def _indicators(state: State, measure: str | None) -> Iterable[Indicator]:
    if measure is None:
        return state.catalogue.indicators.values()
    return state.catalogue.indicators_of(measure)


def expected_deliveries(state: State, measure: str | None, today: date) -> list[Expected]:
    """Every delivery expected by `today`: from the first delivered period (or just the latest due one when
    nothing came yet) up to the latest period whose due date is on or before `today`."""
    out: list[Expected] = []
    for indicator in _indicators(state, measure):
        out += _expected_for(state, indicator, today)
    return out


def as_due(e: Expected, lang: str) -> Due:
    """An expected delivery as a Due (with the period as people read it)."""
    return Due(e.indicator, e.measure, e.office, e.period.key, e.due, e.period.label(lang))


def overdue(state: State, measure: str | None, today: date) -> list[Due]:
    """Deliveries past their due date and not yet delivered (all measures when `measure` is None), oldest first."""
    late = [as_due(e, state.lang) for e in expected_deliveries(state, measure, today) if not e.delivered]
    return sorted(late, key=lambda d: (d.due, d.measure, d.indicator))


def next_due(state: State, indicator: Indicator, today: date) -> Due | None:
    """The indicator's next outstanding delivery: the oldest overdue one, else the next one to come."""
    expected = _expected_for(state, indicator, today)
    for e in expected:
        if not e.delivered:
            return as_due(e, state.lang)
    delivered = set(state.store.periods(indicator.id))
    period = periods.next(last_due_period(indicator, today))
    for _ in range(1000):  # offices may deliver ahead of time: skip what is already there
        if period.key not in delivered:
            e = Expected(indicator.id, indicator.measure, indicator.office, period,
                         due_date(period, indicator.due_days), False)
            return as_due(e, state.lang)
        period = periods.next(period)
    return None


def completeness(state: State, today: date, measure: str | None = None) -> list[Completeness]:
    """Delivery completeness per office and period; incomplete groups first (oldest due first), then the
    complete ones, newest first."""
    groups: dict[tuple[str, Period], list[Expected]] = {}
    for e in expected_deliveries(state, measure, today):
        groups.setdefault((e.office, e.period), []).append(e)
    out = []
    for (office, period), items in groups.items():
        missing = tuple(sorted((as_due(e, state.lang) for e in items if not e.delivered),
                               key=lambda d: (d.due, d.measure, d.indicator)))
        out.append(Completeness(office, period, len(items), sum(e.delivered for e in items), missing))
    incomplete = sorted((c for c in out if c.missing), key=lambda c: (c.oldest_due, c.office, c.period))
    complete = sorted((c for c in out if not c.missing), key=lambda c: (c.period.end, c.office), reverse=True)
    return incomplete + complete
