"""Reporting periods for the commands: the model and its parsing live in storage/periods.py."""

from storage.periods import (
    FREQUENCIES,
    FREQUENCY_KIND,
    KINDS,
    Period,
    PeriodError,
    due_date,
    example,
    fit_to_frequency,
    next,
    parse_period,
    period_containing,
    period_label,
    periods_between,
    previous,
)

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
