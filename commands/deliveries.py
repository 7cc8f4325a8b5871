"""Which deliveries are due and overdue, per indicator, office and period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from .state import State

__all__ = ["Due", "overdue"]


@dataclass(frozen=True)
class Due:
    indicator: str
    measure: str
    office: str
    period: str
    due: date


def overdue(state: State, measure: str | None, today: date) -> list[Due]:
    """Deliveries past their due date and not yet delivered (all measures when `measure` is None)."""
    return []
