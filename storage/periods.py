"""Reporting periods: years, half-years, quarters, months and reference days (Stichtage).

Pure domain code, standard library only; commands/periods.py re-exports it. A `Period` is a closed date
range of one kind; its `key` is the canonical text stored everywhere ("2018", "2018-H1", "2018-Q3", "2018-09",
"2018-09-30"), `label()` the text shown to people. `parse_period` reads every form offices write.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

__all__ = [
    "FREQUENCIES",
    "FREQUENCY_KIND",
    "KINDS",
    "Period",
    "PeriodError",
    "due_date",
    "example",
    "fit_to_frequency",
    "next",
    "parse_period",
    "period_containing",
    "period_label",
    "periods_between",
    "previous",
]

FREQUENCIES = ("monatlich", "vierteljährlich", "halbjährlich", "jährlich")
KINDS = ("jahr", "halbjahr", "quartal", "monat", "tag")
# The period kind an indicator of a given frequency is delivered in.
FREQUENCY_KIND = {"monatlich": "monat", "vierteljährlich": "quartal", "halbjährlich": "halbjahr", "jährlich": "jahr"}
_MONTHS_PER_KIND = {"jahr": 12, "halbjahr": 6, "quartal": 3, "monat": 1}
_EXAMPLES = {"jahr": "2018", "halbjahr": "2018-H1", "quartal": "2018-Q3", "monat": "2018-09", "tag": "2018-09-30"}
MIN_YEAR, MAX_YEAR = 1900, 2199


class PeriodError(ValueError):
    """A value that is no period; `value` is what was given."""

    def __init__(self, value: object, reason: str = "") -> None:
        self.value = value
        self.reason = reason
        super().__init__(f"not a period: {value!r}" + (f" ({reason})" if reason else ""))


def _last_day(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True, order=True)
class Period:
    """A closed range of days [start, end] of one kind: jahr, halbjahr, quartal, monat or tag."""

    start: date
    end: date
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown period kind {self.kind!r}")
        if self.start > self.end:
            raise ValueError("period start after end")

    # --- constructors -------------------------------------------------------------------------
    @classmethod
    def of(cls, kind: str, year: int, number: int = 1) -> Period:
        """The `number`-th period of `kind` in `year` (number: half 1-2, quarter 1-4, month 1-12)."""
        if kind not in _MONTHS_PER_KIND:
            raise ValueError(f"unknown period kind {kind!r}")
        months = _MONTHS_PER_KIND[kind]
        count = 12 // months
        if not (MIN_YEAR <= year <= MAX_YEAR) or not (1 <= number <= count):
            raise PeriodError(f"{year}/{number}", "out of range")
        first_month = (number - 1) * months + 1
        return cls(date(year, first_month, 1), _last_day(year, first_month + months - 1), kind)

    @classmethod
    def year_of(cls, year: int) -> Period:
        return cls.of("jahr", year)

    @classmethod
    def half(cls, year: int, half: int) -> Period:
        return cls.of("halbjahr", year, half)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        return cls.of("quartal", year, quarter)

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        return cls.of("monat", year, month)

    @classmethod
    def day(cls, day: date) -> Period:
        if isinstance(day, datetime):
            day = day.date()
        if not (MIN_YEAR <= day.year <= MAX_YEAR):
            raise PeriodError(day, "year out of range")
        return cls(day, day, "tag")

    # --- views --------------------------------------------------------------------------------
    @property
    def year(self) -> int:
        return self.start.year

    @property
    def number(self) -> int:
        """Half-year 1-2, quarter 1-4, month 1-12, day of month; 1 for a year."""
        if self.kind == "tag":
            return self.start.day
        return (self.start.month - 1) // _MONTHS_PER_KIND[self.kind] + 1

    @property
    def key(self) -> str:
        """Canonical text: 2018, 2018-H1, 2018-Q3, 2018-09, 2018-09-30."""
        if self.kind == "jahr":
            return f"{self.year}"
        if self.kind == "halbjahr":
            return f"{self.year}-H{self.number}"
        if self.kind == "quartal":
            return f"{self.year}-Q{self.number}"
        if self.kind == "monat":
            return f"{self.year}-{self.start.month:02d}"
        return self.start.isoformat()

    def label(self, lang: str = "de") -> str:
        """Human text: '3. Quartal 2018', '09/2018', '30.09.2018' (de) or 'Q3 2018', '2018-09' (en)."""
        en = lang == "en"
        if self.kind == "jahr":
            return f"{self.year}"
        if self.kind == "halbjahr":
            return f"H{self.number} {self.year}" if en else f"{self.number}. Halbjahr {self.year}"
        if self.kind == "quartal":
            return f"Q{self.number} {self.year}" if en else f"{self.number}. Quartal {self.year}"
        if self.kind == "monat":
            return f"{self.year}-{self.start.month:02d}" if en else f"{self.start.month:02d}/{self.year}"
        return self.start.isoformat() if en else self.start.strftime("%d.%m.%Y")

    def __str__(self) -> str:
        return self.key

    @classmethod
    def from_key(cls, key: str) -> Period:
        """Inverse of `key`; only canonical keys are accepted (use parse_period for anything else)."""
        match = _KEY_RE.fullmatch(key) if isinstance(key, str) else None
        if not match:
            raise PeriodError(key, "not a canonical period key")
        year = int(match["y"])
        try:
            if match["h"]:
                return cls.half(year, int(match["h"]))
            if match["q"]:
                return cls.quarter(year, int(match["q"]))
            if match["d"]:
                return cls.day(date(year, int(match["m"]), int(match["d"])))
            if match["m"]:
                return cls.month(year, int(match["m"]))
            return cls.year_of(year)
        except ValueError as exc:  # also PeriodError
            raise PeriodError(key, "out of range") from exc


_KEY_RE = re.compile(
    r"(?P<y>\d{4})(?:-H(?P<h>[12])|-Q(?P<q>[1-4])|-(?P<m>0[1-9]|1[0-2])(?:-(?P<d>\d{2}))?)?", re.ASCII
)

# --- parsing ----------------------------------------------------------------------------------
_Y = r"(?P<y>\d{4})"
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
# Forms after normalisation (casefolded, whitespace collapsed, "." kept).
_FORMS: tuple[tuple[str, str], ...] = (
        ("jahr", _Y + r"(?:\.0+)?"),  # 2018, 2018.0 (a float cell turned into text)
        ("jahr", r"(?:jahr|year|kalenderjahr|jg\.?)\s?" + _Y),
        # quarters: 2018-Q3, 2018 Q3, 2018/Q3, 2018Q3, Q3/2018, Q3 2018, Q3-2018, 3. Quartal 2018, 3Q2018,
        # 3/2018 is a month (09/2018 form), so the quarter needs a Q or the word.
        ("quartal", _Y + r"\s?[-/ ]?\s?q(?P<n>[1-4])"),
        ("quartal", r"q(?P<n>[1-4])\s?[-/ .]?\s?" + _Y),
        ("quartal", r"(?P<n>[1-4])\s?(?:\.|st|nd|rd|th)?\s?(?:quartal|quarter|qu\.?|q|vj\.?|vierteljahr)\s?" + _Y),
        ("quartal", r"(?:quartal|quarter)\s?(?P<n>[1-4])\s?[/ .-]?\s?" + _Y),
        ("quartal", r"(?P<r>iv|iii|ii|i)\s?[-/. ]\s?(?:quartal\s?|q\s?)?" + _Y),
        ("quartal", _Y + r"\s?[-/ ]\s?(?P<r>iv|iii|ii|i)"),
        # half-years: 2018-H1, 2018 H1, 2018/H1, H1/2018, H1 2018, 1. Halbjahr 2018, 1. HJ 2018, HJ1/2018
        ("halbjahr", _Y + r"\s?[-/ ]?\s?(?:h|hj)(?P<n>[12])"),
        ("halbjahr", r"(?:h|hj)\s?(?P<n>[12])\s?[-/ .]?\s?" + _Y),
        ("halbjahr", r"(?P<n>[12])\s?(?:\.|st|nd)?\s?(?:halbjahr|hj\.?|hbj\.?|half(?:[- ]?year)?|h)\s?" + _Y),
        ("halbjahr", r"(?:halbjahr|half[- ]?year)\s?(?P<n>[12])\s?[/ .-]?\s?" + _Y),
        # months: 2018-09, 2018-9, 09/2018, 9/2018, 09.2018, 09-2018
        ("monat", _Y + r"-(?P<m>\d{1,2})"),
        ("monat", r"(?P<m>\d{1,2})\s?[/.-]\s?" + _Y),
        # days: 2018-09-30 (also with a midnight time), 30.09.2018, 30.9.2018
        ("tag", _Y + r"-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?:[t ]00:00(?::00(?:\.0+)?)?)?"),
        ("tag", r"(?P<d>\d{1,2})\.\s?(?P<m>\d{1,2})\.\s?" + _Y + r"(?: 00:00(?::00)?)?"),
)


@cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """The forms compiled on the first period read from text (16 patterns: about 1.5 ms that `/status` needs not)."""
    return tuple((kind, re.compile(pattern, re.ASCII)) for kind, pattern in _FORMS)


def _normalise(text: str) -> str:
    text = text.replace("\u00a0", " ").replace("\u2013", "-").replace("\u2011", "-").replace("\u2212", "-")
    return " ".join(text.split()).casefold()


def parse_period(value: object) -> Period:
    """Read a period from a cell: text in every contract form, an int/float year, a date or datetime.

    Accepted: 2018 · 2018-H1, H1/2018, 1. Halbjahr 2018 · 2018-Q3, Q3/2018, Q3 2018, 2018/Q3,
    3. Quartal 2018, III/2018 · 2018-09, 09/2018, 09.2018 · 30.09.2018, 2018-09-30 (a datetime
    with a time of day other than midnight is rejected). Raises PeriodError.
    """
    if isinstance(value, Period):
        return value
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            raise PeriodError(value, "a date with a time of day")
        return Period.day(value.date())
    if isinstance(value, date):
        return Period.day(value)
    if isinstance(value, bool):
        raise PeriodError(value, "a truth value")
    if isinstance(value, int):
        if MIN_YEAR <= value <= MAX_YEAR:
            return Period.year_of(value)
        raise PeriodError(value, "not a year")
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and MIN_YEAR <= value <= MAX_YEAR:
            return Period.year_of(int(value))
        raise PeriodError(value, "not a year")
    if not isinstance(value, str):
        raise PeriodError(value, "unsupported type")
    text = _normalise(value)
    if not text or len(text) > 40:
        raise PeriodError(value, "empty" if not text else "too long")
    for kind, pattern in _patterns():
        match = pattern.fullmatch(text)
        if match is None:
            continue
        groups = match.groupdict()
        year = int(groups["y"])
        try:
            if kind == "jahr":
                return Period.year_of(year)
            if kind in ("quartal", "halbjahr"):
                number = _ROMAN[groups["r"]] if groups.get("r") else int(groups["n"])
                return Period.of(kind, year, number)
            if kind == "monat":
                return Period.month(year, int(groups["m"]))
            return Period.day(date(year, int(groups["m"]), int(groups["d"])))
        except ValueError as exc:
            raise PeriodError(value, "out of range") from exc
    raise PeriodError(value, "unknown form")


# --- frequencies and due dates -------------------------------------------------------------------
def _kind(frequency: str) -> str:
    """The period kind of a catalogue frequency; kind names themselves are accepted too."""
    if frequency in FREQUENCY_KIND:
        return FREQUENCY_KIND[frequency]
    if frequency in KINDS:
        return frequency
    raise ValueError(f"unknown frequency {frequency!r}; expected one of {', '.join(FREQUENCIES)}")


def period_containing(frequency: str, day: date) -> Period:
    """The period of the frequency (or kind) that contains `day`."""
    if isinstance(day, datetime):
        day = day.date()
    kind = _kind(frequency)
    if kind == "tag":
        return Period.day(day)
    return Period.of(kind, day.year, (day.month - 1) // _MONTHS_PER_KIND[kind] + 1)


def fit_to_frequency(period: Period, frequency: str) -> Period | None:
    """The period expressed in the indicator's frequency, or None if it does not fit.

    A period of exactly that kind passes; a Stichtag that is the last day of a period of that
    frequency stands for that period (30.09.2018 + vierteljährlich -> 2018-Q3); anything else
    (a day within a period, a period of another length) gives None.
    """
    kind = _kind(frequency)
    if period.kind == kind:
        return period
    if period.kind == "tag":
        candidate = period_containing(kind, period.end)
        if candidate.end == period.end:
            return candidate
    return None


def previous(period: Period) -> Period:
    """The period of the same kind right before."""
    if period.kind == "tag":
        return Period.day(period.start - timedelta(days=1))
    return period_containing(period.kind, period.start - timedelta(days=1))


def next(period: Period) -> Period:  # shadows the builtin inside this module on purpose (API name)
    """The period of the same kind right after."""
    if period.kind == "tag":
        return Period.day(period.end + timedelta(days=1))
    return period_containing(period.kind, period.end + timedelta(days=1))


def periods_between(frequency: str, first_end_after: date, last_end_before: date) -> list[Period]:
    """All periods of the frequency whose end lies in [first_end_after, last_end_before] (both inclusive).

    Example: periods_between("jährlich", date(2017, 1, 1), date(2019, 12, 31)) -> 2017, 2018, 2019.
    """
    if isinstance(first_end_after, datetime):
        first_end_after = first_end_after.date()
    if isinstance(last_end_before, datetime):
        last_end_before = last_end_before.date()
    out: list[Period] = []
    if first_end_after > last_end_before:
        return out
    period = period_containing(frequency, first_end_after)
    if period.end < first_end_after:  # cannot happen for containing periods; kept for clarity
        period = next(period)
    while period.end <= last_end_before:
        out.append(period)
        if period.end.year >= MAX_YEAR:
            break
        period = next(period)
    return out


def due_date(period: Period, frist_tage: int) -> date:
    """The day a delivery for `period` is due: `frist_tage` days after the period ends."""
    return period.end + timedelta(days=int(frist_tage))


def example(frequency: str) -> str:
    """An example key for messages: '2018-Q3' for vierteljährlich, '2018' for jährlich, …"""
    return _EXAMPLES[_kind(frequency)]


def period_label(key: str, lang: str = "de") -> str:
    """'2018-Q3' -> '3. Quartal 2018'; a key that is no canonical period is shown as it is."""
    try:
        return Period.from_key(key).label(lang)
    except PeriodError:
        return key
