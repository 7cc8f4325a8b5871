"""What the reader needs to report a cell: the finding type (watchers/results.py) and cells as text."""

from __future__ import annotations

import math
from datetime import date, datetime, time

from .results import FORMATS, Finding, clip

__all__ = ["FORMATS", "Finding", "cell_text", "clip", "display", "letter"]


def letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (the column letter a person sees in Excel)."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


def cell_text(value: object) -> str:
    """A cell as text: 2018.0 -> '2018', a date -> '2018-09-30', None -> ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "WAHR" if value else "FALSCH"
    if isinstance(value, float):
        return str(int(value)) if math.isfinite(value) and value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def display(value: object) -> str:
    """A cell as a person would recognise it in a message (German dates)."""
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M" if value.time() != time() else "%d.%m.%Y")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return cell_text(value).strip()
