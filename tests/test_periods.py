"""Reporting periods: parsing every contract form, canonical keys, labels, frequencies and due dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commands import periods
from commands.periods import (
    FREQUENCIES,
    Period,
    PeriodError,
    due_date,
    example,
    fit_to_frequency,
    parse_period,
    period_containing,
    periods_between,
    previous,
)

# --- the contract forms --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("2018", "2018"),
        ("2018-Q3", "2018-Q3"),
        ("Q3/2018", "2018-Q3"),
        ("3. Quartal 2018", "2018-Q3"),
        ("2018-09", "2018-09"),
        ("09/2018", "2018-09"),
        ("30.09.2018", "2018-09-30"),
        ("2018-09-30", "2018-09-30"),
    ],
)
def test_every_contract_form_parses_to_its_canonical_key(value: str, key: str) -> None:
    assert parse_period(value).key == key


@pytest.mark.parametrize(
    ("value", "key"),
    [
        # half-years
        ("2018-H1", "2018-H1"),
        ("2018-h2", "2018-H2"),
        ("H1/2018", "2018-H1"),
        ("H2 2018", "2018-H2"),
        ("1. Halbjahr 2018", "2018-H1"),
        ("2. Halbjahr 2018", "2018-H2"),
        ("1. HJ 2018", "2018-H1"),
        ("HJ1/2018", "2018-H1"),
        # quarters
        ("Q3 2018", "2018-Q3"),
        ("q3/2018", "2018-Q3"),
        ("2018/Q3", "2018-Q3"),
        ("2018 Q3", "2018-Q3"),
        ("2018Q3", "2018-Q3"),
        ("3.Quartal 2018", "2018-Q3"),
        ("3. quartal  2018", "2018-Q3"),
        ("3rd quarter 2018", "2018-Q3"),
        ("Quartal 3/2018", "2018-Q3"),
        ("III/2018", "2018-Q3"),
        ("IV/2018", "2018-Q4"),
        # months
        ("2018-9", "2018-09"),
        ("9/2018", "2018-09"),
        ("09.2018", "2018-09"),
        ("12/2018", "2018-12"),
        # days
        ("30.9.2018", "2018-09-30"),
        ("01.01.2019", "2019-01-01"),
        ("2018-09-30 00:00:00", "2018-09-30"),
        ("2018-09-30T00:00:00", "2018-09-30"),
        # years, also as Excel leaves them
        (" 2018 ", "2018"),
        ("2018.0", "2018"),
        ("Jahr 2018", "2018"),
        ("2018\u00a0", "2018"),
    ],
)
def test_obvious_variants_parse(value: str, key: str) -> None:
    assert parse_period(value).key == key


@pytest.mark.parametrize(
    ("value", "key"),
    [
        (2018, "2018"),
        (2018.0, "2018"),
        (date(2018, 9, 30), "2018-09-30"),
        (datetime(2018, 9, 30), "2018-09-30"),
        (Period.quarter(2018, 3), "2018-Q3"),
    ],
)
def test_excel_cell_types(value: object, key: str) -> None:
    assert parse_period(value).key == key


@pytest.mark.parametrize(
    "value",
    [
        "", "   ", "2018-Q5", "Q0/2018", "2018-13", "13/2018", "31.09.2018", "2018-02-29", "2018/19", "18",
        "Sept. 2018", "irgendwann", "2018-H3", "1899", "2018.5", 2018.5, float("nan"), float("inf"), True,
        17, 43373, None, [2018], datetime(2018, 9, 30, 14, 5), "09/30/2018", "x" * 100,
    ],
)
def test_non_periods_raise_period_error_carrying_the_value(value: object) -> None:
    with pytest.raises(PeriodError) as info:
        parse_period(value)
    assert info.value.value is value or info.value.value == value
    assert isinstance(info.value, ValueError)


# --- keys and labels -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "key", "de", "en"),
    [
        (Period.year_of(2018), "2018", "2018", "2018"),
        (Period.half(2018, 1), "2018-H1", "1. Halbjahr 2018", "H1 2018"),
        (Period.quarter(2018, 3), "2018-Q3", "3. Quartal 2018", "Q3 2018"),
        (Period.month(2018, 9), "2018-09", "09/2018", "2018-09"),
        (Period.day(date(2018, 9, 30)), "2018-09-30", "30.09.2018", "2018-09-30"),
    ],
)
def test_key_and_labels(period: Period, key: str, de: str, en: str) -> None:
    assert period.key == key == str(period)
    assert period.label() == period.label("de") == de
    assert period.label("en") == en
    assert Period.from_key(key) == period
    assert parse_period(de) == parse_period(en) == period


def test_bounds_of_each_kind() -> None:
    assert Period.half(2018, 2) == Period(date(2018, 7, 1), date(2018, 12, 31), "halbjahr")
    assert Period.quarter(2016, 1).end == date(2016, 3, 31)
    assert Period.month(2016, 2).end == date(2016, 2, 29)
    assert Period.month(2018, 2).end == date(2018, 2, 28)
    assert Period.quarter(2018, 3).number == 3 and Period.quarter(2018, 3).year == 2018


@pytest.mark.parametrize("key", ["2018-9", "Q3/2018", "2018-q3", "2018-Q5", "2018-13", "2018-02-30", "", "18", 2018])
def test_from_key_takes_only_canonical_keys(key: object) -> None:
    with pytest.raises(PeriodError):
        Period.from_key(key)  # type: ignore[arg-type]


def test_invalid_construction() -> None:
    with pytest.raises(ValueError):
        Period(date(2018, 1, 1), date(2018, 12, 31), "dekade")
    with pytest.raises(ValueError):
        Period(date(2018, 12, 31), date(2018, 1, 1), "jahr")
    with pytest.raises(PeriodError):
        Period.quarter(2018, 5)


def test_periods_sort_in_time_order() -> None:
    keys = ["2019", "2018-Q3", "2018-01", "2017-12-31", "2018-H1"]
    assert [p.key for p in sorted(Period.from_key(k) for k in keys)] == [
        "2017-12-31", "2018-01", "2018-H1", "2018-Q3", "2019",
    ]


_kinds = st.sampled_from(["jahr", "halbjahr", "quartal", "monat", "tag"])


@st.composite
def any_period(draw: st.DrawFn) -> Period:
    kind = draw(_kinds)
    year = draw(st.integers(1900, 2199))
    if kind == "tag":
        return Period.day(draw(st.dates(date(1900, 1, 1), date(2199, 12, 31))))
    count = {"jahr": 1, "halbjahr": 2, "quartal": 4, "monat": 12}[kind]
    return Period.of(kind, year, draw(st.integers(1, count)))


@settings(max_examples=300, deadline=None)
@given(any_period())
def test_round_trips(period: Period) -> None:
    assert Period.from_key(period.key) == period
    assert parse_period(period.key) == period
    assert parse_period(period.label("de")) == period
    assert parse_period(period.label("en")) == period


@settings(max_examples=200, deadline=None)
@given(any_period())
def test_previous_and_next_are_adjacent(period: Period) -> None:
    if period.start.year > 1900:
        before = previous(period)
        assert before.kind == period.kind and before.end + timedelta(days=1) == period.start
        assert periods.next(before) == period
    if period.end.year < 2199:
        after = periods.next(period)
        assert after.kind == period.kind and period.end + timedelta(days=1) == after.start


@settings(max_examples=200, deadline=None)
@given(st.dates(date(1901, 1, 1), date(2198, 12, 31)), st.sampled_from(FREQUENCIES))
def test_period_containing_contains(day: date, frequency: str) -> None:
    period = period_containing(frequency, day)
    assert period.start <= day <= period.end
    assert period.kind == periods.FREQUENCY_KIND[frequency]
    # a Stichtag fits exactly when it is the last day of its period
    assert (fit_to_frequency(Period.day(day), frequency) is not None) == (period.end == day)


# --- frequencies and due dates ---------------------------------------------------------------------


def test_frequencies_are_the_catalogues() -> None:
    from storage.catalogue import FREQUENCIES as CATALOGUE_FREQUENCIES

    assert FREQUENCIES == CATALOGUE_FREQUENCIES == ("monatlich", "vierteljährlich", "halbjährlich", "jährlich")


@pytest.mark.parametrize(
    ("value", "frequency", "expected"),
    [
        ("2018-Q3", "vierteljährlich", "2018-Q3"),
        ("30.09.2018", "vierteljährlich", "2018-Q3"),
        ("31.12.2018", "jährlich", "2018"),
        ("31.12.2018", "vierteljährlich", "2018-Q4"),
        ("31.12.2018", "halbjährlich", "2018-H2"),
        ("30.06.2018", "halbjährlich", "2018-H1"),
        ("30.09.2018", "monatlich", "2018-09"),
        ("28.02.2018", "monatlich", "2018-02"),
        ("2018", "jährlich", "2018"),
        ("29.09.2018", "monatlich", None),  # not a period end
        ("30.09.2018", "jährlich", None),
        ("30.09.2018", "halbjährlich", None),
        ("2018", "vierteljährlich", None),  # a period of another length
        ("2018-Q3", "jährlich", None),
        ("2018-09", "vierteljährlich", None),
        ("2018-H1", "vierteljährlich", None),
    ],
)
def test_fit_to_frequency(value: str, frequency: str, expected: str | None) -> None:
    fitted = fit_to_frequency(parse_period(value), frequency)
    assert (fitted.key if fitted else None) == expected


def test_unknown_frequency() -> None:
    with pytest.raises(ValueError, match="frequency"):
        fit_to_frequency(Period.year_of(2018), "wöchentlich")


def test_period_containing_and_neighbours() -> None:
    assert period_containing("vierteljährlich", date(2018, 8, 15)).key == "2018-Q3"
    assert period_containing("monatlich", datetime(2018, 8, 15, 12)).key == "2018-08"
    assert period_containing("halbjährlich", date(2018, 7, 1)).key == "2018-H2"
    assert period_containing("jährlich", date(2018, 12, 31)).key == "2018"
    assert periods.next(Period.from_key("2018-Q4")).key == "2019-Q1"
    assert previous(Period.from_key("2018-Q1")).key == "2017-Q4"
    assert previous(Period.from_key("2018-01")).key == "2017-12"
    assert periods.next(Period.from_key("2018-H2")).key == "2019-H1"
    assert periods.next(Period.from_key("2018-12-31")).key == "2019-01-01"
    assert previous(Period.from_key("2018")).key == "2017"


def test_periods_between_is_inclusive_on_both_ends() -> None:
    keys = [p.key for p in periods_between("vierteljährlich", date(2018, 3, 31), date(2019, 3, 31))]
    assert keys == ["2018-Q1", "2018-Q2", "2018-Q3", "2018-Q4", "2019-Q1"]
    keys = [p.key for p in periods_between("vierteljährlich", date(2018, 4, 1), date(2019, 3, 30))]
    assert keys == ["2018-Q2", "2018-Q3", "2018-Q4"]
    assert [p.key for p in periods_between("jährlich", date(2017, 1, 1), date(2019, 12, 31))] == [
        "2017", "2018", "2019",
    ]
    assert len(periods_between("monatlich", date(2018, 1, 1), date(2018, 12, 31))) == 12
    assert periods_between("jährlich", date(2019, 1, 1), date(2018, 1, 1)) == []
    assert periods_between("jährlich", date(2018, 1, 1), date(2018, 12, 30)) == []


def test_due_date_and_which_deliveries_are_due() -> None:
    q3 = Period.quarter(2018, 3)
    assert due_date(q3, 60) == date(2018, 11, 29)
    assert due_date(Period.year_of(2018), 0) == date(2018, 12, 31)
    # what is due by 2019-03-01 with a 60-day deadline: periods ending up to 60 days before
    today, frist = date(2019, 3, 1), 60
    due = periods_between("vierteljährlich", date(2018, 1, 1), today - timedelta(days=frist))
    assert [p.key for p in due] == ["2018-Q1", "2018-Q2", "2018-Q3", "2018-Q4"]
    assert all(due_date(p, frist) <= today for p in due)
    assert due_date(periods.next(due[-1]), frist) > today


def test_example() -> None:
    assert example("vierteljährlich") == "2018-Q3"
    assert example("jährlich") == "2018"
    assert example("halbjährlich") == "2018-H1"
    assert example("monatlich") == "2018-09"
    for frequency in FREQUENCIES:
        assert fit_to_frequency(parse_period(example(frequency)), frequency) is not None
