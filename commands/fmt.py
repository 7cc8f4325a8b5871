"""Formatting of dates, numbers and titles for the commands: re-exported from `storage.fmt`, where it lives."""

from storage.fmt import clock, day, number, short

__all__ = ["clock", "day", "number", "short"]
