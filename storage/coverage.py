"""Per-indicator coverage, kept on write: which periods are held, which are missing, the latest value.

What `/status`, `/lieferungen` and the reminders ask of the store (is a period there, which ones are missing
between the first and the last delivered, which is the latest, its whole-city value) is answered from here,
without reading the rows of any delivery and without building an object per period.

The coverage is derived data: it is saved beside the main file (`<stem>.abdeckung.json`) together with a
fingerprint of the deliveries it was computed from (id and segment checksum of each). A file that is missing,
unreadable, of another format or of other deliveries (a crash between the two writes, a restored backup, an older
version) is ignored, and the store recomputes it from the rows. Nothing is ever lost by deleting it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any, Final

import orjson

from .periods import MAX_YEAR, MIN_YEAR

__all__ = [
    "FORMAT",
    "KINDS",
    "Coverage",
    "IndicatorCoverage",
    "Run",
    "coverage_path",
    "fingerprint",
    "key_of",
    "ordinal",
]

# The store's index of current values: indicator -> period -> area -> the compact row (a JSON list of mixed
# scalars), and beside it, keyed alike, the id of the delivery that holds each value.
CurrentRows = Mapping[str, Mapping[str, Mapping[str, Sequence[Any]]]]
Owners = Mapping[str, Mapping[str, Mapping[str, int]]]

# Bump when the meaning of the saved file changes: an older file is then recomputed, never misread.
# 2: the latest period's lowest and highest value.
FORMAT = 2

ROW_VALUE: Final = 3  # where a store row (storage/store.py) keeps its value

# The period kinds of the delivery frequencies (see storage/periods.py: yearly, half-yearly, quarterly, monthly).
# Reference days (Stichtage, "2018-09-30") are held like any period but have no runs: no frequency expects them.
KINDS = ("jahr", "halbjahr", "quartal", "monat")

# The canonical keys of storage/periods.py: 2018, 2018-H1, 2018-Q3, 2018-09, 2018-09-30.
_KEY = re.compile(r"(\d{4})(?:-H([12])|-Q([1-4])|-(0[1-9]|1[0-2])(-\d{2})?)?", re.ASCII)


def ordinal(key: str) -> tuple[str, int] | None:
    """('quartal', n) for '2018-Q3' and so on: consecutive periods of a kind have consecutive numbers.

    None for anything that is no canonical period of a frequency (a reference day, a key out of range).
    """
    match = _KEY.fullmatch(key) if isinstance(key, str) else None
    if match is None or match[5]:
        return None
    year = int(match[1])
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    if match[2]:
        return "halbjahr", year * 2 + int(match[2]) - 1
    if match[3]:
        return "quartal", year * 4 + int(match[3]) - 1
    if match[4]:
        return "monat", year * 12 + int(match[4]) - 1
    return "jahr", year


def key_of(kind: str, number: int) -> str:
    """The inverse of `ordinal`."""
    if kind == "jahr":
        return f"{number}"
    if kind == "halbjahr":
        return f"{number // 2}-H{number % 2 + 1}"
    if kind == "quartal":
        return f"{number // 4}-Q{number % 4 + 1}"
    if kind == "monat":
        return f"{number // 12}-{number % 12 + 1:02d}"
    raise ValueError(f"unknown period kind {kind!r}")


class Run:
    """The periods of one kind an indicator holds: the first, the last, and every one missing in between."""

    __slots__ = ("first", "last", "missing")

    def __init__(self, first: str, last: str, missing: tuple[str, ...]) -> None:
        self.first = first
        self.last = last
        self.missing = missing  # keys, oldest first

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and (self.first, self.last, self.missing) == (other.first, other.last,
                                                                                   other.missing)

    def __repr__(self) -> str:
        return f"Run({self.first!r}, {self.last!r}, missing={self.missing!r})"


class IndicatorCoverage:
    """What the store holds of one indicator, short of the rows themselves.

    `periods`: every period key held (current values of any area); `latest`: the greatest key (the store's notion
    of the latest period); `areas`: how many areas that period has; `headline`: (delivery id, row) of its
    whole-city value, else of its first area; `low`, `high`: that period's lowest and highest value over all its
    areas (None without any value); `runs`: per period kind, first, last and missing periods.
    """

    __slots__ = ("areas", "headline", "high", "latest", "low", "periods", "runs")

    def __init__(self, periods: Iterable[str], latest: str, areas: int, headline: tuple[int, tuple[Any, ...]],
                 runs: Mapping[str, Run], low: float | None = None, high: float | None = None) -> None:
        self.periods = frozenset(periods)
        self.latest = latest
        self.areas = areas
        self.headline = headline
        self.runs = dict(runs)
        self.low, self.high = low, high

    @classmethod
    def from_index(cls, by_period: Mapping[str, Mapping[str, Sequence[Any]]],
                   owners: Mapping[str, Mapping[str, int]]) -> IndicatorCoverage:
        """From the store's index of one indicator: period -> area -> row, and period -> area -> delivery id."""
        keys = sorted(by_period)
        latest = keys[-1]
        by_area = by_period[latest]
        area = "" if "" in by_area else min(by_area)
        values = [v for row in by_area.values() if (v := row[ROW_VALUE]) is not None]
        return cls(keys, latest, len(by_area), (owners[latest][area], tuple(by_area[area])), _runs(keys),
                   min(values, default=None), max(values, default=None))

    def to_json(self) -> list[Any]:
        did, row = self.headline
        return [sorted(self.periods), self.latest, self.areas, [did, list(row)],
                {kind: [r.first, r.last, list(r.missing)] for kind, r in self.runs.items()}, [self.low, self.high]]

    @classmethod
    def from_json(cls, item: list[Any]) -> IndicatorCoverage:
        periods, latest, areas, (did, row), runs, (low, high) = item
        return cls(periods, latest, int(areas), (int(did), tuple(row)),
                   {kind: Run(first, last, tuple(missing)) for kind, (first, last, missing) in runs.items()},
                   None if low is None else float(low), None if high is None else float(high))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IndicatorCoverage) and self.to_json() == other.to_json()

    def __repr__(self) -> str:
        return f"IndicatorCoverage(latest={self.latest!r}, periods={len(self.periods)}, runs={self.runs!r})"


def _runs(keys: Iterable[str]) -> dict[str, Run]:
    numbers: dict[str, list[int]] = {}
    for key in keys:
        found = ordinal(key)
        if found is not None:
            numbers.setdefault(found[0], []).append(found[1])
    out = {}
    for kind, held in numbers.items():
        held.sort()
        missing: list[str] = []
        for before, after in pairwise(held):
            missing.extend(key_of(kind, n) for n in range(before + 1, after))
        out[kind] = Run(key_of(kind, held[0]), key_of(kind, held[-1]), tuple(missing))
    return out


def coverage_path(store_path: Path) -> Path:
    return store_path.with_name(f"{store_path.stem}.abdeckung.json")


def fingerprint(deliveries: Mapping[str, Mapping[str, Any]]) -> str | None:
    """What the coverage was computed from: every delivery's id and segment checksum, in id order.

    None when a delivery keeps its rows inside the main file (schema 1): such a store is always read whole.
    """
    items = []
    for doc_id in sorted(deliveries, key=int):
        digest = deliveries[doc_id].get("segment_sha256")
        if not isinstance(digest, str):
            return None
        items.append(f"{int(doc_id)}:{digest}")
    return hashlib.sha256(";".join(items).encode()).hexdigest()


class Coverage:
    """The coverage of every indicator the store holds."""

    def __init__(self, fingerprint: str | None, entries: dict[str, IndicatorCoverage] | None = None) -> None:
        self.fingerprint = fingerprint
        self._entries: dict[str, IndicatorCoverage] = entries or {}

    @classmethod
    def from_index(cls, current: CurrentRows, owners: Owners, fingerprint: str | None) -> Coverage:
        return cls(fingerprint, {ind: IndicatorCoverage.from_index(by_period, owners[ind])
                                 for ind, by_period in current.items() if by_period})

    def update(self, current: CurrentRows, owners: Owners, indicators: Iterable[str], fingerprint: str | None) -> None:
        """Recompute the entries of `indicators` from the index (after a write that touched them)."""
        for ind in indicators:
            by_period = current.get(ind)
            if by_period:
                self._entries[ind] = IndicatorCoverage.from_index(by_period, owners[ind])
            else:
                self._entries.pop(ind, None)
        self.fingerprint = fingerprint

    def get(self, indicator: str) -> IndicatorCoverage | None:
        return self._entries.get(indicator)

    def indicators(self) -> set[str]:
        return set(self._entries)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Coverage) and self._entries == other._entries

    # ------------------------------------------------------------------ the file beside the main file
    # A header line (format, fingerprint, checksum of what follows), then the entries: a damaged file is
    # recognised as such, never read as other numbers.
    @classmethod
    def load(cls, path: Path, expected: str | None) -> Coverage | None:
        """The saved coverage if it was computed from exactly these deliveries and is intact, else None."""
        if expected is None:
            return None
        try:
            head, _, body = path.read_bytes().partition(b"\n")
            header = orjson.loads(head)
            if (not isinstance(header, dict) or header.get("format") != FORMAT
                    or header.get("fingerprint") != expected
                    or header.get("sha256") != hashlib.sha256(body).hexdigest()):
                return None
            entries = {ind: IndicatorCoverage.from_json(item) for ind, item in orjson.loads(body).items()}
        except (OSError, ValueError, TypeError, AttributeError, KeyError):  # orjson.JSONDecodeError is a ValueError
            return None
        return cls(expected, entries)

    def save(self, path: Path) -> None:
        """Replace the file atomically; no fsync: a file lost in a crash is only recomputed."""
        body = orjson.dumps({ind: entry.to_json() for ind, entry in self._entries.items()})
        head = orjson.dumps({"format": FORMAT, "fingerprint": self.fingerprint,
                             "sha256": hashlib.sha256(body).hexdigest()})
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(head + b"\n" + body)
            os.replace(tmp, path)
        except OSError:
            # A cache that cannot be written costs the next open a full read, nothing else.
            with contextlib.suppress(OSError):
                tmp.unlink()
