"""Due and overdue deliveries: expected periods, next due date, completeness per office and period."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from commands.deliveries import completeness, last_due_period, next_due, overdue
from commands.periods import Period
from commands.state import State
from storage.catalogue import parse_catalogue

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
