"""The social burden index after Berlin's "Monitoring Soziale Stadtentwicklung" (MSS): pure computation.

The method of MSS 2013 ff. (Senatsverwaltung für Stadtentwicklung Berlin): index indicators are shares per area
(S1 unemployment, S2 long-term unemployment, S3 transfer benefits SGB II/XII, S4 child poverty); their changes
over two years in percentage points are the dynamics indicators D1–D4. Every indicator is z-standardised across
the areas; the status index is the equally weighted sum of the status z-values, standardised again; the dynamics
index likewise. Classes by standard deviations of the index: status hoch < −1 ≤ mittel ≤ +1 < niedrig ≤ +1.5 <
sehr niedrig; dynamics positiv < −1 ≤ stabil ≤ +1 < negativ. Overlaid: 12 combinations ("Gesamtindex Soziale
Ungleichheit"). Positive z always means more burden (indicators listed as `reversed` are turned round).

Decisions where the MSS leaves room or this data differs:
- The standard deviation is the sample one (n − 1), as SPSS DESCRIPTIVES /SAVE and Excel's STANDARDISIERUNG with
  STABW.S compute it, so a planner can redo the numbers in a spreadsheet.
- An area is rated on status only with a value of every index indicator in the reference year, on dynamics only
  with a value in the comparison year as well; anything missing makes it "nicht bewertbar" with the gaps named.
  Nothing is imputed; the means and deviations are taken over the rated areas only.
- A year's value is the value at the year's end: the yearly value, else the 31.12. reference day, the second
  half-year, the fourth quarter or December.
- An indicator without spread (all areas equal) contributes z = 0: it says nothing about differences.
- Indices are rounded to nine decimals before they are classified, so that a value on a class limit by hand
  (exactly +1.0) is classified the same on every machine.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# The catalogue's `[sozialindex]` lives with the other catalogue records: reading the catalogue needs no computation.
from .models import DEFAULT_DYNAMICS_LIMITS, DEFAULT_SPAN, DEFAULT_STATUS_LIMITS, IndexConfig, Observation

__all__ = [
    "DEFAULT_DYNAMICS_LIMITS",
    "DEFAULT_SPAN",
    "DEFAULT_STATUS_LIMITS",
    "DYNAMICS_CLASSES",
    "DYNAMICS_SYMBOLS",
    "MIN_AREAS",
    "STATUS_CLASSES",
    "DistrictScore",
    "Gap",
    "IndexConfig",
    "IndexResult",
    "IndicatorScore",
    "Move",
    "Spread",
    "available_years",
    "cell_code",
    "classify_dynamics",
    "classify_status",
    "compute",
    "critical_moves",
    "moves",
    "snapshot",
    "year_end_value",
]

# Index order is the MSS group number minus one: status group 1 (hoch) … 4 (sehr niedrig).
STATUS_CLASSES = ("hoch", "mittel", "niedrig", "sehr niedrig")
# Dynamics group 1 (positiv, "+"), 2 (stabil, "+/-"), 3 (negativ, "-").
DYNAMICS_CLASSES = ("positiv", "stabil", "negativ")
DYNAMICS_SYMBOLS = ("+", "+/-", "-")
# Fewer areas than this cannot be standardised in any meaningful way (two areas are always ±0.71).
MIN_AREAS = 3
_DIGITS = 9

_KEY = re.compile(r"(\d{4})(?:-(H2|Q4|12|12-31))?", re.ASCII)
# The period keys that end on 31 December of a year, in order of preference.
_YEAR_END = ("", "-12-31", "-H2", "-Q4", "-12")


@dataclass(frozen=True)
class Gap:
    """Why an area cannot be rated: no value of `indicator` for `year` ("missing"), or one delivered empty."""

    indicator: str
    year: int
    kind: str = "missing"  # missing | empty
    note: str = ""


@dataclass(frozen=True)
class IndicatorScore:
    indicator: str
    value: float | None  # reference year
    previous: float | None  # comparison year
    change: float | None  # value − previous (percentage points for shares)
    status_z: float | None  # burden-oriented: positive = more burden than the average area
    dynamics_z: float | None


@dataclass(frozen=True)
class DistrictScore:
    area: str
    scores: tuple[IndicatorScore, ...]  # in the configured order
    status_index: float | None = None
    dynamics_index: float | None = None
    status_class: str | None = None
    dynamics_class: str | None = None
    status_gaps: tuple[Gap, ...] = ()
    dynamics_gaps: tuple[Gap, ...] = ()

    @property
    def rated(self) -> bool:
        return self.status_class is not None

    @property
    def cell(self) -> tuple[str, str] | None:
        """The overlay cell (status class, dynamics class), or None when either is not rated."""
        if self.status_class is None or self.dynamics_class is None:
            return None
        return self.status_class, self.dynamics_class

    @property
    def status_group(self) -> int | None:
        return STATUS_CLASSES.index(self.status_class) + 1 if self.status_class else None

    @property
    def dynamics_group(self) -> int | None:
        return DYNAMICS_CLASSES.index(self.dynamics_class) + 1 if self.dynamics_class else None

    def score(self, indicator: str) -> IndicatorScore | None:
        return next((s for s in self.scores if s.indicator == indicator), None)


@dataclass(frozen=True)
class Spread:
    """Mean and (sample) standard deviation of one standardised quantity across `n` areas."""

    name: str  # an indicator id, or "" for the sum of z-values
    mean: float
    sd: float
    n: int


@dataclass(frozen=True)
class IndexResult:
    """One computation: every area with any value of an index indicator, worst first, then the unrated."""

    config: IndexConfig
    year: int | None  # reference year; None when no year has values of every index indicator
    comparison_year: int | None
    districts: tuple[DistrictScore, ...] = ()
    status_spreads: tuple[Spread, ...] = ()  # per indicator, then the sum ("")
    dynamics_spreads: tuple[Spread, ...] = ()
    deliveries: tuple[int, ...] = ()  # the deliveries whose values were used
    fingerprint: str = ""  # identical inputs give the identical fingerprint
    years: tuple[int, ...] = ()  # years with values of every index indicator
    too_few_status: bool = False  # fewer than MIN_AREAS areas complete: nobody rated
    too_few_dynamics: bool = False
    status_n: int = 0
    dynamics_n: int = 0

    @property
    def rated(self) -> tuple[DistrictScore, ...]:
        return tuple(d for d in self.districts if d.rated)

    @property
    def unrated(self) -> tuple[DistrictScore, ...]:
        return tuple(d for d in self.districts if not d.rated)

    def district(self, area: str) -> DistrictScore | None:
        return next((d for d in self.districts if d.area == area), None)


@dataclass(frozen=True)
class Move:
    """How an area's classes changed from one stored computation to the next (None = not rated then)."""

    area: str
    status_before: str | None
    status_after: str | None
    dynamics_before: str | None
    dynamics_after: str | None

    @property
    def into_very_low(self) -> bool:
        return self.status_after == "sehr niedrig" and self.status_before != "sehr niedrig"

    @property
    def into_negative(self) -> bool:
        return self.dynamics_after == "negativ" and self.dynamics_before != "negativ"


# ---------------------------------------------------------------- classes
def classify_status(index: float, limits: tuple[float, float, float] = DEFAULT_STATUS_LIMITS) -> str:
    """hoch < lo ≤ mittel ≤ mid < niedrig ≤ hi < sehr niedrig (limits in standard deviations)."""
    lo, mid, hi = limits
    if index < lo:
        return "hoch"
    if index <= mid:
        return "mittel"
    if index <= hi:
        return "niedrig"
    return "sehr niedrig"


def classify_dynamics(index: float, limits: tuple[float, float] = DEFAULT_DYNAMICS_LIMITS) -> str:
    """positiv < lo ≤ stabil ≤ hi < negativ."""
    lo, hi = limits
    if index < lo:
        return "positiv"
    if index <= hi:
        return "stabil"
    return "negativ"


def cell_code(status_class: str | None, dynamics_class: str | None) -> str:
    """The MSS notation of an overlay cell: '4 -' (sehr niedrig, negativ), '1 +/-', '3 +'; '' when unrated."""
    if status_class is None or dynamics_class is None:
        return ""
    return f"{STATUS_CLASSES.index(status_class) + 1} {DYNAMICS_SYMBOLS[DYNAMICS_CLASSES.index(dynamics_class)]}"


# ---------------------------------------------------------------- values per year
def year_end_value(by_period: Mapping[str, Observation], year: int) -> Observation | None:
    """The observation that stands for `year`: the yearly value, else the one of the period ending on 31.12."""
    for suffix in _YEAR_END:
        obs = by_period.get(f"{year}{suffix}")
        if obs is not None:
            return obs
    return None


def _by_key(config: IndexConfig, observations: Iterable[Observation]) -> dict[str, dict[str, dict[str, Observation]]]:
    """indicator -> area -> period -> observation, for the index indicators and named areas only."""
    wanted = set(config.indicators)
    out: dict[str, dict[str, dict[str, Observation]]] = {i: {} for i in config.indicators}
    for obs in observations:
        # The whole city (area "") is no district: it is the reference the districts are compared with.
        if obs.indicator not in wanted or not obs.area:
            continue
        out[obs.indicator].setdefault(obs.area, {})[obs.period] = obs
    return out


def _years_of(by_area: Mapping[str, Mapping[str, Observation]]) -> set[int]:
    years = set()
    for periods in by_area.values():
        for key, obs in periods.items():
            match = _KEY.fullmatch(key)
            if match and obs.value is not None:
                years.add(int(match.group(1)))
    return years


def available_years(config: IndexConfig, observations: Iterable[Observation]) -> tuple[int, ...]:
    """Years in which every index indicator has a value for at least one area, ascending."""
    data = _by_key(config, observations)
    years: set[int] | None = None
    for indicator in config.indicators:
        found = _years_of(data[indicator])
        years = found if years is None else years & found
    return tuple(sorted(years or ()))


# ---------------------------------------------------------------- standardisation
def _spread(name: str, values: list[float]) -> Spread:
    n = len(values)
    mean = math.fsum(values) / n
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return Spread(name, mean, sd, n)


def _z(value: float, spread: Spread) -> float:
    # No spread, no information about differences: every area sits at the mean.
    return 0.0 if spread.sd == 0 else (value - spread.mean) / spread.sd


def _standardise(config: IndexConfig, raw: dict[str, dict[str, float]]) -> tuple[
        dict[str, dict[str, float]], dict[str, float], tuple[Spread, ...]]:
    """raw: area -> indicator -> value (complete areas only). Returns (area -> indicator -> burden z,
    area -> index, spreads per indicator and of the sum)."""
    areas = sorted(raw)
    spreads = []
    zs: dict[str, dict[str, float]] = {a: {} for a in areas}
    for indicator in config.indicators:
        spread = _spread(indicator, [raw[a][indicator] for a in areas])
        spreads.append(spread)
        sign = config.sign(indicator)
        for a in areas:
            zs[a][indicator] = round(sign * _z(raw[a][indicator], spread), _DIGITS) + 0.0
    # Equal weights: the plain sum of the z-values (a mean would give the same index after standardising).
    sums = {a: math.fsum(zs[a][i] for i in config.indicators) for a in areas}
    total = _spread("", [sums[a] for a in areas])
    spreads.append(total)
    index = {a: round(_z(sums[a], total), _DIGITS) + 0.0 for a in areas}  # + 0.0: no "-0.0"
    return zs, index, tuple(spreads)


# ---------------------------------------------------------------- the computation
def _fingerprint(config: IndexConfig, year: int | None, used: list[tuple[str, str, int, float | None, int]]) -> str:
    payload = {
        "indicators": list(config.indicators), "reversed": sorted(config.reversed), "year": year,
        "span": config.span, "status_limits": list(config.status_limits),
        "dynamics_limits": list(config.dynamics_limits),
        "values": [[i, a, y, None if v is None else repr(float(v))] for i, a, y, v, _ in sorted(
            used, key=lambda u: (u[0], u[1], u[2]))],
    }
    import hashlib  # with OpenSSL: only when an index is computed

    return hashlib.sha256(json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()


def compute(config: IndexConfig, observations: Iterable[Observation], year: int | None = None) -> IndexResult:
    """The status and dynamics index of every area for `year` (default: the configured reference year, else
    the latest year with values of every index indicator). Pure: the same observations give the same result,
    whatever their order."""
    observations = list(observations)
    data = _by_key(config, observations)
    years = available_years(config, observations)
    if year is None:
        year = config.reference_year if config.reference_year is not None else (years[-1] if years else None)
    areas = sorted({a for by_area in data.values() for a in by_area}, key=_area_key)
    if year is None:
        return IndexResult(config, None, None, districts=tuple(DistrictScore(a, ()) for a in areas),
                           fingerprint=_fingerprint(config, None, []), years=years)
    before = year - config.span

    used: list[tuple[str, str, int, float | None, int]] = []
    values: dict[str, dict[str, Observation | None]] = {}
    previous: dict[str, dict[str, Observation | None]] = {}
    for area in areas:
        values[area], previous[area] = {}, {}
        for indicator in config.indicators:
            periods = data[indicator].get(area, {})
            for target, y in ((values[area], year), (previous[area], before)):
                obs = year_end_value(periods, y)
                target[indicator] = obs
                if obs is not None:
                    used.append((indicator, area, y, obs.value, obs.delivery))

    def gaps(obs_by_indicator: dict[str, Observation | None], y: int) -> tuple[Gap, ...]:
        out = []
        for indicator in config.indicators:
            obs = obs_by_indicator[indicator]
            if obs is None:
                out.append(Gap(indicator, y))
            elif obs.value is None:
                out.append(Gap(indicator, y, "empty", obs.note))
        return tuple(out)

    status_gaps = {a: gaps(values[a], year) for a in areas}
    dynamics_gaps = {a: status_gaps[a] + gaps(previous[a], before) for a in areas}
    status_raw = {a: {i: float(values[a][i].value) for i in config.indicators}  # type: ignore[union-attr,arg-type]
                  for a in areas if not status_gaps[a]}
    dynamics_raw = {a: {i: float(values[a][i].value) - float(previous[a][i].value)  # type: ignore[union-attr,arg-type]
                        for i in config.indicators} for a in areas if not dynamics_gaps[a]}
    too_few_status = 0 < len(status_raw) < MIN_AREAS
    too_few_dynamics = 0 < len(dynamics_raw) < MIN_AREAS
    s_z, s_index, s_spreads = _standardise(config, status_raw) if len(status_raw) >= MIN_AREAS else ({}, {}, ())
    d_z, d_index, d_spreads = (_standardise(config, dynamics_raw) if len(dynamics_raw) >= MIN_AREAS
                               else ({}, {}, ()))

    districts = []
    for area in areas:
        scores = []
        for indicator in config.indicators:
            now, then = values[area][indicator], previous[area][indicator]
            value = now.value if now is not None else None
            prev = then.value if then is not None else None
            change = round(value - prev, _DIGITS) + 0.0 if value is not None and prev is not None else None
            scores.append(IndicatorScore(indicator, value, prev, change, s_z.get(area, {}).get(indicator),
                                         d_z.get(area, {}).get(indicator)))
        si, di = s_index.get(area), d_index.get(area)
        districts.append(DistrictScore(
            area, tuple(scores), si, di,
            classify_status(si, config.status_limits) if si is not None else None,
            classify_dynamics(di, config.dynamics_limits) if di is not None else None,
            status_gaps[area], dynamics_gaps[area]))

    deliveries = tuple(sorted({d for _, _, _, v, d in used if v is not None}))
    return IndexResult(
        config, year, before, tuple(sorted(districts, key=_worst_first)), s_spreads, d_spreads, deliveries,
        _fingerprint(config, year, used), years, too_few_status, too_few_dynamics, len(status_raw),
        len(dynamics_raw))


def _area_key(area: str) -> tuple[str, str]:
    folded = area.casefold()
    for a, b in (("ä", "a"), ("ö", "o"), ("ü", "u"), ("ß", "ss")):
        folded = folded.replace(a, b)
    return folded, area


def _worst_first(d: DistrictScore) -> tuple[int, int, int, float, float, tuple[str, str]]:
    """Status class first (sehr niedrig first), then dynamics (negativ first, unrated dynamics last), then the
    index values, highest burden first; unrated areas at the end by name."""
    if d.status_class is None:
        return (1, 0, 0, 0.0, 0.0, _area_key(d.area))
    status = STATUS_CLASSES.index(d.status_class)
    dynamics = DYNAMICS_CLASSES.index(d.dynamics_class) if d.dynamics_class else -1
    return (0, -status, -dynamics, -(d.status_index or 0.0), -(d.dynamics_index or 0.0), _area_key(d.area))


# ---------------------------------------------------------------- stored computations and moves
def snapshot(result: IndexResult, computed: datetime) -> dict[str, Any]:
    """What is kept of a computation (in the store's meta) to tell later how areas moved."""
    return {
        "year": result.year, "comparison_year": result.comparison_year,
        "computed": computed.isoformat(timespec="seconds"), "fingerprint": result.fingerprint,
        "deliveries": list(result.deliveries),
        "districts": {d.area: {"status": d.status_class, "dynamics": d.dynamics_class,
                               "status_index": d.status_index, "dynamics_index": d.dynamics_index}
                      for d in result.districts},
    }


def moves(before: Mapping[str, Any] | None, result: IndexResult) -> list[Move]:
    """Every area whose status or dynamics class differs from the stored computation `before`."""
    old = (before or {}).get("districts", {})
    out = []
    for d in result.districts:
        was = old.get(d.area, {})
        move = Move(d.area, was.get("status"), d.status_class, was.get("dynamics"), d.dynamics_class)
        if (move.status_before, move.dynamics_before) != (move.status_after, move.dynamics_after):
            out.append(move)
    return out


def critical_moves(before: Mapping[str, Any] | None, result: IndexResult) -> list[Move]:
    """Areas that came into "sehr niedrig" or "negativ" since `before` (every such area when there is none)."""
    return [m for m in moves(before, result) if m.into_very_low or m.into_negative]

