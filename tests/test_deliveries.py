"""Due and overdue deliveries: expected periods, next due date, completeness per office and period."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from commands import periods
from commands.deliveries import (
    Completeness,
    Due,
    Expected,
    as_due,
    completeness,
    expected_deliveries,
    last_due_period,
    next_due,
    overdue,
)
from commands.periods import Period, due_date
from commands.state import State
from storage.catalogue import parse_catalogue
from storage.models import Indicator
from storage.store import Store

CATALOGUE = """
[[amt]]
id = "Amt 61"
[[amt]]
id = "Amt 51"
[[massnahme]]
id = "M21"
feld = "Wohnen"
titel = "Wohnraum"
[[massnahme]]
id = "M31"
feld = "Soziale Lage"
titel = "U3"
[[indikator]]
id = "M21-sozialwohnungen"
massnahme = "M21"
name = "Neu gebaute Sozialwohnungen"
turnus = "jährlich"
frist_tage = 60
amt = "Amt 61"
[[indikator]]
id = "M21-bauland"
massnahme = "M21"
name = "Bauland"
turnus = "jährlich"
frist_tage = 90
amt = "Amt 61"
[[indikator]]
id = "M31-u3"
massnahme = "M31"
name = "U3-Plätze"
turnus = "vierteljährlich"
frist_tage = 30
amt = "Amt 51"
"""


@pytest.fixture
def st(state: State) -> State:
    catalogue, problems = parse_catalogue(CATALOGUE)
    assert catalogue is not None and not problems
    return state.with_catalogue(catalogue)


def deliver(st: State, indicator: str, *periods: str, area: str = "") -> None:
    rows = [(indicator, area, p, 1.0, "", n) for n, p in enumerate(periods, 2)]
    st.store.add_delivery(file=f"{indicator}-{'-'.join(periods)}.csv", content_hash=f"{indicator}{periods}{area}",
                          office="", received=datetime(2026, 1, 1), rows=rows)


def test_last_due_period_is_exact_on_the_due_day(st: State) -> None:
    ind = st.catalogue.indicators["M21-sozialwohnungen"]
    # 2018 ends 31.12.2018; 60 days later is 01.03.2019.
    assert last_due_period(ind, date(2019, 3, 1)) == Period.year_of(2018)
    assert last_due_period(ind, date(2019, 2, 28)) == Period.year_of(2017)
    q = st.catalogue.indicators["M31-u3"]
    assert last_due_period(q, date(2018, 10, 30)) == Period.quarter(2018, 3)
    assert last_due_period(q, date(2018, 10, 29)) == Period.quarter(2018, 2)


def test_nothing_delivered_means_only_the_latest_due_period_is_overdue(st: State) -> None:
    late = overdue(st, "M21", date(2019, 3, 1))
    assert [(d.indicator, d.period, d.due) for d in late] == [
        ("M21-bauland", "2017", date(2018, 3, 31)), ("M21-sozialwohnungen", "2018", date(2019, 3, 1))]
    late = overdue(st, None, date(2019, 4, 1))
    assert {(d.indicator, d.period) for d in late} == {
        ("M21-sozialwohnungen", "2018"), ("M21-bauland", "2018"), ("M31-u3", "2018-Q4")}
    assert late == sorted(late, key=lambda d: d.due)


def test_gaps_since_the_first_delivered_period_are_overdue(st: State) -> None:
    deliver(st, "M31-u3", "2017-Q3", "2018-Q1")
    late = overdue(st, "M31", date(2018, 11, 15))
    assert [d.period for d in late] == ["2017-Q4", "2018-Q2", "2018-Q3"]
    assert late[0].office == "Amt 51" and late[0].measure == "M31"
    assert late[0].label == "4. Quartal 2017"
    deliver(st, "M31-u3", "2017-Q4", "2018-Q2", "2018-Q3")
    assert overdue(st, "M31", date(2018, 11, 15)) == []


def test_an_area_value_counts_as_delivered(st: State) -> None:
    deliver(st, "M21-sozialwohnungen", "2018", area="Mitte")
    assert overdue(st, "M21", date(2019, 3, 2))[0].indicator == "M21-bauland"


def test_next_due_is_the_oldest_overdue_else_the_coming_one(st: State) -> None:
    ind = st.catalogue.indicators["M31-u3"]
    deliver(st, "M31-u3", "2018-Q1")
    due = next_due(st, ind, date(2018, 8, 15))
    assert (due.period, due.due) == ("2018-Q2", date(2018, 7, 30))
    deliver(st, "M31-u3", "2018-Q2", "2018-Q3")  # Q3 delivered ahead of its due date
    due = next_due(st, ind, date(2018, 8, 15))
    assert (due.period, due.due) == ("2018-Q4", date(2019, 1, 30))


def test_completeness_per_office_and_period_overdue_first(st: State) -> None:
    deliver(st, "M21-sozialwohnungen", "2017", "2018")
    deliver(st, "M21-bauland", "2018")
    deliver(st, "M31-u3", "2018-Q3")
    groups = completeness(st, date(2019, 4, 15))
    first = groups[0]
    assert (first.office, first.period.key, first.expected, first.delivered) == ("Amt 51", "2018-Q4", 1, 0)
    assert not first.complete and first.missing[0].indicator == "M31-u3"
    keyed = {(g.office, g.period.key): g for g in groups}
    assert keyed[("Amt 61", "2018")].complete and keyed[("Amt 61", "2018")].expected == 2
    assert keyed[("Amt 61", "2017")].expected == 1  # bauland started in 2018
    assert [g.complete for g in groups] == sorted(g.complete for g in groups)
    assert completeness(st, date(2019, 4, 15), "M21") == [g for g in groups if g.office == "Amt 61"]


# ---------------------------------------------------------------- the coverage path against the full computation
def reference_overdue(state: State, measure: str | None, today: date) -> list[Due]:
    """Overdue as computed before the coverage: every expected period built, the delivered ones dropped."""
    late = [as_due(e, state.lang) for e in expected_deliveries(state, measure, today) if not e.delivered]
    return sorted(late, key=lambda d: (d.due, d.measure, d.indicator))


def reference_next_due(state: State, indicator: Indicator, today: date) -> Due | None:
    for e in expected_deliveries(state, None, today):
        if e.indicator == indicator.id and not e.delivered:
            return as_due(e, state.lang)
    delivered = state.store.periods(indicator.id)
    period = periods.next(last_due_period(indicator, today))
    while period.key in delivered:
        period = periods.next(period)
    return as_due(Expected(indicator.id, indicator.measure, indicator.office, period,
                           due_date(period, indicator.due_days), False), state.lang)


def reference_completeness(state: State, today: date, measure: str | None = None) -> list[Completeness]:
    groups: dict = {}
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


FREQUENCIES = ("monatlich", "vierteljährlich", "halbjährlich", "jährlich")


def random_catalogue(rng: random.Random) -> str:
    """Six indicators of three offices with random frequencies and due days."""
    parts = [CATALOGUE.split("[[indikator]]")[0]]
    for n in range(6):
        parts.append(f'[[indikator]]\nid = "i{n}"\nmassnahme = "{"M21" if n % 2 else "M31"}"\nname = "Indikator {n}"\n'
                     f'turnus = "{rng.choice(FREQUENCIES)}"\nfrist_tage = {rng.choice([0, 30, 60, 91, 400])}\n'
                     f'amt = "{rng.choice(["Amt 61", "Amt 51", ""])}"\n')
    return "\n".join(parts)


def random_key(rng: random.Random) -> str:
    year = rng.randint(2012, 2020)
    return rng.choice([f"{year}", f"{year}-H{rng.randint(1, 2)}", f"{year}-Q{rng.randint(1, 4)}",
                       f"{year}-{rng.randint(1, 12):02d}", f"{year}-{rng.randint(1, 12):02d}-28", "1850"])


@pytest.mark.parametrize("seed", range(25))
def test_overdue_next_due_and_completeness_match_the_full_computation(state: State, seed: int) -> None:
    """Random histories with gaps, other kinds, deliveries ahead of time and re-typed indicators (the catalogue
    changes its frequency after the fact), on a real store reopened from its saved coverage."""
    rng = random.Random(seed)
    catalogue, problems = parse_catalogue(random_catalogue(rng))
    assert catalogue is not None and not problems
    st = state.with_catalogue(catalogue)
    for n in range(rng.randint(0, 12)):
        rows = [(f"i{rng.randint(0, 5)}", rng.choice(["", "Süd"]), random_key(rng), 1.0, "", k)
                for k in range(rng.randint(1, 8))]
        rows = list({r[:3]: r for r in rows}.values())
        st.store.add_delivery(file=f"f{n}.csv", content_hash=f"{seed}-{n}", office="", received=datetime(2021, 1, 1),
                              rows=rows)
    reopened = Store(st.store.path)  # read-only beside the fixture's store, from the saved coverage
    try:
        for store in (st.store, reopened):
            here = replace(st, store=store)
            for _ in range(6):
                today = date(2012, 1, 1) + timedelta(days=rng.randint(0, 365 * 10))
                for measure in (None, "M21", "M31"):
                    assert overdue(here, measure, today) == reference_overdue(here, measure, today)
                    assert completeness(here, today, measure) == reference_completeness(here, today, measure)
                for ind in catalogue.indicators.values():
                    assert next_due(here, ind, today) == reference_next_due(here, ind, today)
        assert "_current" not in vars(reopened), "overdue, next_due and completeness read rows"
    finally:
        reopened.close()
