"""Which deliveries are due and overdue, per indicator, office and period."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

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
    return _last_due(indicator.frequency, indicator.due_days, today)


@lru_cache(maxsize=1024)
def _last_due(frequency: str, due_days: int, today: date) -> Period:
    # Cached: /status asks this for every indicator, and the answer changes once a day at most.
    candidate = period_containing(frequency, today - timedelta(days=due_days))
    # The containing period ends on or after that day: it is due by today only when it ends exactly then.
    return candidate if due_date(candidate, due_days) <= today else periods.previous(candidate)


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


def _missing_for(state: State, indicator: Indicator, today: date) -> list[Period]:
    """The periods `_expected_for` would list as not delivered, oldest first, from the store's coverage.

    Only the missing periods are built: the coverage keeps the first and last period of each kind and the gaps
    between, so the cost follows what is missing, not the length of the history.
    """
    last = last_due_period(indicator, today)
    held = state.store.coverage(indicator.id)
    run = held.runs.get(last.kind) if held is not None else None
    if run is None:
        return [last]  # nothing of its own kind delivered yet: the latest due period is expected
    if _period(run.first) > last:
        return []  # delivered only ahead of time: nothing expected yet
    out = []
    for key in run.missing:
        period = _period(key)
        if period > last:
            break
        out.append(period)
    newest = _period(run.last)
    if newest < last:
        out += _after(newest, last)
    return out


@lru_cache(maxsize=1024)
def _after(newest: Period, last: Period) -> tuple[Period, ...]:
    """The periods after `newest` up to `last` (same kind): not delivered since the newest one."""
    return tuple(periods_between(last.kind, periods.next(newest).end, last.end))


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
    late = [_due(ind, p, state.lang) for ind in _indicators(state, measure) for p in _missing_for(state, ind, today)]
    return sorted(late, key=lambda d: (d.due, d.measure, d.indicator))


def next_due(state: State, indicator: Indicator, today: date) -> Due | None:
    """The indicator's next outstanding delivery: the oldest overdue one, else the next one to come."""
    missing = _missing_for(state, indicator, today)
    if missing:
        p = missing[0]
        return _due(indicator, p, state.lang)
    held = state.store.coverage(indicator.id)
    delivered = held.periods if held is not None else frozenset()
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
    # Counted on period numbers from the coverage: a Period is built once per group, not once per indicator.
    groups: dict[tuple[str, str, int], list] = {}  # (office, kind, number) -> [expected, missing Dues]
    for ind in _indicators(state, measure):
        last = last_due_period(ind, today)
        held = state.store.coverage(ind.id)
        run = held.runs.get(last.kind) if held is not None else None
        first = _number(_period(run.first)) if run is not None else _number(last)
        for n in range(first, _number(last) + 1):
            group = groups.get((ind.office, last.kind, n))
            if group is None:
                group = groups[(ind.office, last.kind, n)] = [0, []]
            group[0] += 1
        for p in _missing_for(state, ind, today):
            groups[(ind.office, p.kind, _number(p))][1].append(_due(ind, p, state.lang))
    out = []
    for (office, kind, n), (expected, missing) in groups.items():
        missing.sort(key=lambda d: (d.due, d.measure, d.indicator))
        out.append(_completeness(office, _of_number(kind, n), expected, tuple(missing)))
    incomplete = sorted((c for c in out if c.missing), key=lambda c: (c.oldest_due, c.office, c.period))
    complete = sorted((c for c in out if not c.missing), key=lambda c: (c.period.end, c.office), reverse=True)
    return incomplete + complete


_PER_YEAR = {"jahr": 1, "halbjahr": 2, "quartal": 4, "monat": 12}


def _number(period: Period) -> int:
    """Consecutive periods of one kind (not days) have consecutive numbers."""
    return period.year * _PER_YEAR[period.kind] + period.number - 1


@lru_cache(maxsize=4096)
def _of_number(kind: str, n: int) -> Period:
    year, number = divmod(n, _PER_YEAR[kind])
    return Period.of(kind, year, number + 1)


@lru_cache(maxsize=16384)
def _due(indicator: Indicator, period: Period, lang: str) -> Due:
    # Due records are immutable values: the same ones are asked for on every /status until they are delivered.
    return Due(indicator.id, indicator.measure, indicator.office, period.key, due_date(period, indicator.due_days),
               period.label(lang))


@lru_cache(maxsize=16384)
def _completeness(office: str, period: Period, expected: int, missing: tuple[Due, ...]) -> Completeness:
    return Completeness(office, period, expected, expected - len(missing), missing)


@lru_cache(maxsize=4096)
def _period(key: str) -> Period:
    # Periods are immutable values: the same few hundred keys are asked for again on every /lieferungen.
    return Period.from_key(key)
