"""/verlauf: where a number came from — every period's value with its file, office and day received, and what it
replaced."""

from __future__ import annotations

from datetime import datetime

from storage.models import Indicator, Measure, Observation

from . import fmt
from .lookup import find_indicator, resolve_indicator, some_names, words
from .periods import period_label
from .registry import Caller, UsageError, command, take_measure
from .reply import Reply, ReplyBuilder, b, i
from .state import State

__all__ = ["split_indicator_area"]

_WHOLE_CITY = {"", "gesamtstadt", "gesamt", "insgesamt", "stadt", "stadtgesamt", "koblenz", "stadtkoblenz",
               "wholecity", "city"}
AREA_HINT_LIMIT = 8  # areas named in the hint under a whole-city history


def _area_key(text: str) -> str:
    parts = words(text)
    if len(parts) > 1 and parts[0] == "koblenz":  # offices write "Koblenz-Lützel" as well as "Lützel"
        parts = parts[1:]
    return "".join(parts)


def split_indicator_area(state: State, measure: Measure, rest: list[str]) -> tuple[Indicator, str | None]:
    """'/verlauf M33 sgb karthause nord': the longest start of the words that names an indicator; the rest is
    the area (None when not given, '' for the whole city)."""
    for k in range(len(rest), 0, -1):
        match = find_indicator(state.catalogue, measure.id, " ".join(rest[:k]))
        if match.found is not None:
            return match.found, _area(state, match.found, rest[k:])
        if match.ambiguous and k == len(rest):
            break
    return resolve_indicator(state, measure, " ".join(rest)), None  # raises the usage error that fits


def _area(state: State, indicator: Indicator, tokens: list[str]) -> str | None:
    if not tokens:
        return None
    text = " ".join(tokens)
    key = _area_key(text)
    if key in _WHOLE_CITY:
        return ""
    areas = [a for a in state.store.areas(indicator.id) if a]
    as_written = [a for a in areas if " ".join(a.split()).casefold() == " ".join(text.split()).casefold()]
    hits = (as_written or [a for a in areas if _area_key(a) == key]
            or [a for a in areas if _area_key(a).startswith(key)])
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise UsageError("hist.ambiguous_area", found=text, names=some_names(state, hits, text))
    raise UsageError("hist.unknown_area", found=text, name=indicator.name,
                     areas=some_names(state, areas, text) or state.t("whole_city"))


def _source(state: State, obs: Observation) -> str:
    received = fmt.day(obs.received.date(), state.lang) if obs.received else "—"
    return state.t("hist.source", file=obs.file or "—", office=obs.office or "—", received=received, row=obs.row)


def _value(state: State, obs: Observation, unit: str) -> str:
    text = state.t("hist.no_value") if obs.value is None else f"{fmt.number(obs.value, state.lang)} {unit}".strip()
    return text + (state.t("hist.note", note=obs.note) if obs.note else "")


def _block(state: State, out: ReplyBuilder, indicator: Indicator, values: list[Observation]) -> None:
    """One area: per period (oldest first) the current value, then the values it replaced, newest first."""
    by_period: dict[str, list[Observation]] = {}
    for obs in values:
        by_period.setdefault(obs.period, []).append(obs)
    for period in sorted(by_period):
        *earlier, current = by_period[period]
        out.line("• ", b(period_label(period, state.lang)), ": ", _value(state, current, indicator.unit), " – ",
                 _source(state, current))
        for old in reversed(earlier):
            out.line("   ", i(state.t("hist.replaced", value=_value(state, old, indicator.unit),
                                      source=_source(state, old))))


@command("verlauf", en="history", usage="Mxx INDIKATOR [GEBIET]", usage_en="Mxx INDICATOR [AREA]")
def verlauf(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Woher ein Wert kommt: je Zeitraum der Wert mit Quelldatei, Amt und Eingang, und welche Werte er ersetzt hat."""
    measure, rest = take_measure(state, args, "verlauf")
    if not rest:
        if not state.catalogue.indicators_of(measure.id):
            raise UsageError("ind.none", measure=measure.number)
        raise UsageError("hist.missing_indicator", measure=measure.number, known=", ".join(
            f"{x.name} ({x.id})" for x in state.catalogue.indicators_of(measure.id)))
    indicator, area = split_indicator_area(state, measure, rest)
    whole = state.t("whole_city")
    out = ReplyBuilder().line(b(state.t("hist.title", name=indicator.name, id=indicator.id, measure=measure.number,
                                        unit=indicator.unit or "—")))
    values = state.store.value_history(indicator.id, area)
    if not values:
        key = "hist.nothing" if area is None else "hist.nothing_area"
        return out.line(state.t(key, name=indicator.name, area=area or whole)).build()
    areas = sorted({obs.area for obs in values})
    if area is None and "" in areas and len(areas) > 1:
        # The whole city first; the districts on request, so that one answer stays readable.
        others = [a for a in areas if a]
        out.line(state.t("hist.area", area=whole))
        _block(state, out, indicator, [o for o in values if not o.area])
        named = ", ".join(others[:AREA_HINT_LIMIT]) + (" …" if len(others) > AREA_HINT_LIMIT else "")
        out.blank().line(i(state.t("hist.more_areas", n=len(others), areas=named, command=measure.id,
                                   example=others[0])))
        return out.build()
    for name in areas:
        if len(areas) > 1 or area is not None or name:
            out.blank().line(state.t("hist.area", area=name or whole))
        _block(state, out, indicator, [o for o in values if o.area == name])
    replaced = len(values) - len({(o.area, o.period) for o in values})
    out.blank().line(i(state.t("hist.summary", periods=len({o.period for o in values}), replaced=replaced)))
    return out.build()
