"""Frozen domain records: what the catalogue and the store hand out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

__all__ = [
    "ADMIN",
    "DEFAULT_DYNAMICS_LIMITS",
    "DEFAULT_SPAN",
    "DEFAULT_STATUS_LIMITS",
    "MEMBER",
    "Area",
    "Delivery",
    "IndexConfig",
    "Indicator",
    "Measure",
    "Meeting",
    "Observation",
    "Office",
    "Person",
    "Protocol",
    "Signature",
    "Step",
]

ADMIN = "admin"
MEMBER = "mitglied"


@dataclass(frozen=True)
class Office:
    id: str
    name: str = ""


@dataclass(frozen=True)
class Measure:
    id: str
    field: str
    title: str
    lead_offices: tuple[str, ...] = ()
    phase: int = 1
    external: tuple[str, ...] = ()
    hint: str = ""

    @property
    def number(self) -> str:
        """'M21' -> 'M 21', the way the status document writes it."""
        return f"M {self.id[1:]}"


@dataclass(frozen=True)
class Indicator:
    id: str
    measure: str
    name: str
    unit: str = ""
    frequency: str = "jährlich"
    due_days: int = 60
    office: str = ""
    negative_allowed: bool = False  # catalogue `negativ_erlaubt`: counts and stocks may then be below 0


@dataclass(frozen=True)
class Person:
    name: str
    office: str = ""
    telegram_id: int | None = None
    role: str = MEMBER
    measures: tuple[str, ...] = ()
    email: str = ""
    matrix_id: str = ""
    channel: str = ""  # preferred channel: telegram | matrix | email ("" = not set)

    @property
    def is_admin(self) -> bool:
        return self.role == ADMIN


@dataclass(frozen=True)
class Meeting:
    """A meeting of a measure; `day is None` means it is still to be scheduled.

    A cancelled meeting keeps its date and stays in the store (and the history); `cancelled` says when.
    """

    id: int
    measure: str
    day: date | None
    time: time | None = None
    approach: str = ""
    participants: tuple[str, ...] = ()
    seq: int = 0
    history: tuple[dict[str, Any], ...] = ()
    cancelled: datetime | None = None
    cancelled_by: str = ""


@dataclass(frozen=True)
class Protocol:
    id: int
    measure: str
    meeting_day: date
    sent_on: date
    signatories: tuple[str, ...] = ()
    file: str = ""
    file_hash: str = ""
    version: int = 1
    entered_on: date | None = None  # the day the monitor learned of it, when later than sent_on (history)


@dataclass(frozen=True)
class Signature:
    protocol_id: int
    version: int
    person: str
    signed_on: date
    channel: str = ""
    recorded_at: datetime | None = None
    method: str = "chat"  # chat: the person confirmed it themselves | papier: a signed sheet came back
    recorded_by: str = ""  # who entered it (the person themselves, or the admin who recorded the paper)


@dataclass(frozen=True)
class Step:
    id: int
    measure: str  # "" = concerns all measures
    number: int
    text: str
    due: date | None = None
    who: str = ""
    created: date | None = None
    done_on: date | None = None
    done_by: str = ""


@dataclass(frozen=True)
class Delivery:
    """One imported file: where it came from, not its rows."""

    id: int
    file: str
    content_hash: str
    office: str
    received: datetime
    rows: int
    measures: tuple[str, ...] = ()
    indicators: tuple[str, ...] = ()


@dataclass(frozen=True)
class Observation:
    indicator: str
    area: str  # "" = whole city
    period: str  # canonical period key, e.g. "2018-Q3"
    value: float | None
    note: str = ""
    delivery: int = 0
    row: int = 0
    file: str = ""
    office: str = ""
    received: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Area:
    """An area (Stadtteil) of the catalogue's `[[gebiet]]` list: values are stored under its `id`."""

    id: str
    name: str = ""
    aliases: tuple[str, ...] = ()
    whole_city: bool = False  # the entry for the whole city: stored like an empty area cell ("")


# `[sozialindex]` of the catalogue (the computation is storage/sozialindex.py)
DEFAULT_STATUS_LIMITS = (-1.0, 1.0, 1.5)
DEFAULT_DYNAMICS_LIMITS = (-1.0, 1.0)
DEFAULT_SPAN = 2


@dataclass(frozen=True)
class IndexConfig:
    """`[sozialindex]` of the catalogue: which indicators, which way round, which years, which class limits."""

    indicators: tuple[str, ...]
    reversed: tuple[str, ...] = ()
    reference_year: int | None = None
    span: int = DEFAULT_SPAN
    status_limits: tuple[float, float, float] = DEFAULT_STATUS_LIMITS
    dynamics_limits: tuple[float, float] = DEFAULT_DYNAMICS_LIMITS

    def sign(self, indicator: str) -> float:
        return -1.0 if indicator in self.reversed else 1.0
