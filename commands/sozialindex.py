"""/sozialindex: the social burden index by district (after Berlin's MSS), its export for the city's GIS, and
the admins' notice when a delivery moves a district into "sehr niedrig" or "negativ".

The computation is `storage.sozialindex.compute`; this module only gathers the values, keeps the last two
computations in the store's meta (to tell how districts moved) and words the answers.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import datetime

from storage.models import Observation
from storage.sozialindex import (
    MIN_AREAS,
    DistrictScore,
    Gap,
    IndexConfig,
    IndexResult,
    Move,
    cell_code,
    compute,
    critical_moves,
    moves,
    snapshot,
)

from . import fmt
from .registry import Caller, UsageError, command
from .reply import Attachment, Reply, ReplyBuilder, b, i
from .state import State

__all__ = [
    "META_KEY",
    "after_delivery",
    "area_key",
    "baseline",
    "class_label",
    "delivery_files",
    "gap_text",
    "index_observations",
    "index_result",
    "indicator_name",
    "record",
    "signed",
    "unrated_reason",
]

META_KEY = "sozialindex"  # store meta: {"current": snapshot, "previous": snapshot | None}
_EXPORT_WORDS = ("export", "exportieren")
_FORMATS = ("xlsx", "csv")
_YEAR = re.compile(r"\d{4}")
MAX_GAPS = 3  # gaps named per district in the overview; the district's own answer names all


# ---------------------------------------------------------------- shared with the report and the export
def index_observations(state: State, config: IndexConfig) -> list[Observation]:
    return [obs for indicator in config.indicators for obs in state.store.observations(indicator)]


def index_result(state: State, year: int | None = None) -> IndexResult | None:
    """The index as the store holds it now (None when the catalogue has no usable [sozialindex])."""
    config = state.catalogue.sozialindex
    if config is None:
        return None
    return compute(config, index_observations(state, config), year)


def class_label(state: State, cls: str | None) -> str:
    return state.t("si.class." + (cls or "none").replace(" ", "_"))


def signed(value: float | None, lang: str, digits: int = 2) -> str:
    """+1,09 / −0,60 / ±0,00 (de) or +1.09 / −0.60 (en): index and z-values always with their sign."""
    if value is None:
        return "—"
    text = f"{abs(value):.{digits}f}"
    if lang == "de":
        text = text.replace(".", ",")
    if round(value, digits) == 0:
        return f"±{text}"
    return f"+{text}" if value > 0 else f"−{text}"


def indicator_name(state: State, indicator: str) -> str:
    ind = state.catalogue.indicators.get(indicator)
    return ind.name if ind else indicator


def _unit(state: State, indicator: str) -> str:
    ind = state.catalogue.indicators.get(indicator)
    return ind.unit if ind else ""


def _value(state: State, indicator: str, value: float | None) -> str:
    unit = _unit(state, indicator)
    return f"{fmt.number(value, state.lang)} {unit}".strip() if value is not None else "—"


def _change(state: State, indicator: str, change: float | None) -> str:
    if change is None:
        return "—"
    unit = _unit(state, indicator)
    # A change of a share is in percentage points, not percent.
    unit = state.t("si.points") if unit.strip() in ("%", "Prozent", "Anteil %", "Anteil (%)") else unit
    number = fmt.number(abs(change), state.lang)
    sign = "±" if change == 0 else "+" if change > 0 else "−"
    return f"{sign}{number} {unit}".strip()


def gap_text(state: State, gap: Gap) -> str:
    name = indicator_name(state, gap.indicator)
    if gap.kind == "empty":
        note = state.t("si.gap_note", note=gap.note) if gap.note else ""
        return state.t("si.gap_empty", indicator=name, year=gap.year, note=note)
    return state.t("si.gap_missing", indicator=name, year=gap.year)


def unrated_reason(state: State, result: IndexResult, d: DistrictScore, *, dynamics: bool = False,
                   limit: int | None = None) -> str:
    """Why a district has no status class (or, with `dynamics`, no dynamics class), in one line."""
    gaps = d.dynamics_gaps if dynamics else d.status_gaps
    if dynamics:
        # The status gaps are said already where the status is not rated either.
        gaps = tuple(g for g in gaps if g not in d.status_gaps) or gaps
    if gaps:
        shown = [gap_text(state, g) for g in gaps[:limit]] if limit else [gap_text(state, g) for g in gaps]
        if limit and len(gaps) > limit:
            shown.append(state.t("si.more_gaps", n=len(gaps) - limit))
        return "; ".join(shown)
    n = result.dynamics_n if dynamics else result.status_n
    return state.t("si.too_few", n=n, min=MIN_AREAS)


def delivery_files(state: State, result: IndexResult) -> list[str]:
    """The files the result was computed from, in delivery order."""
    by_id = {d.id: d for d in state.store.deliveries()}
    return [by_id[did].file if did in by_id else f"#{did}" for did in result.deliveries]


def area_key(text: str) -> str:
    """'Koblenz-Karthause-Nord', 'karthause nord', 'Karthause Nord' -> one key: districts as people type them."""
    key = " ".join(text.replace("-", " ").replace("_", " ").split()).casefold()
    key = key.removeprefix("koblenz ").removeprefix("stadtteil ")
    for a, b_ in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        key = key.replace(a, b_)
    return key


# ---------------------------------------------------------------- the last computations (store meta)
def _history(state: State) -> dict:
    value = state.store.meta(META_KEY)
    return value if isinstance(value, dict) else {}


def baseline(state: State, result: IndexResult) -> dict | None:
    """The stored computation to compare `result` with: the current one, or the one before when `result` is
    the current one (same inputs)."""
    history = _history(state)
    current = history.get("current")
    if isinstance(current, dict) and current.get("fingerprint") == result.fingerprint:
        previous = history.get("previous")
        return previous if isinstance(previous, dict) else None
    return current if isinstance(current, dict) else None


def record(state: State, result: IndexResult, now: datetime) -> tuple[bool, dict | None]:
    """Keep `result` as the current computation (the former current becomes the previous one).

    Returns (whether it was new, the computation it replaced). The same inputs again change nothing.
    """
    history = _history(state)
    current = history.get("current") if isinstance(history.get("current"), dict) else None
    if current is not None and current.get("fingerprint") == result.fingerprint:
        previous = history.get("previous")
        return False, previous if isinstance(previous, dict) else None
    state.store.set_meta(META_KEY, {"current": snapshot(result, now), "previous": current})
    return True, current


def after_delivery(state: State, indicators: Iterable[str], now: datetime) -> Reply | None:
    """Recompute after a delivery that holds an index indicator; the notice for the admins when a district
    came into "sehr niedrig" or "negativ" (None when nothing of that kind happened)."""
    config = state.catalogue.sozialindex
    if config is None or not set(indicators) & set(config.indicators):
        return None
    result = compute(config, index_observations(state, config))
    if result.year is None:
        return None
    new, before = record(state, result, now)
    if not new:
        return None
    alerts = critical_moves(before, result)
    if not alerts:
        return None
    return _notice(state, result, before, alerts)


def _notice(state: State, result: IndexResult, before: dict | None, alerts: list[Move]) -> Reply:
    key = "si.notice.first" if before is None else "si.notice.title"
    out = ReplyBuilder().line(b(state.t(key, year=result.year, before=result.comparison_year)))
    for m in alerts:
        d = result.district(m.area)
        assert d is not None
        if m.into_very_low:
            out.line("• ", state.t("si.notice.very_low", area=m.area, before=class_label(state, m.status_before),
                                   si=signed(d.status_index, state.lang)))
        if m.into_negative:
            out.line("• ", state.t("si.notice.negative", area=m.area,
                                   before=class_label(state, m.dynamics_before),
                                   di=signed(d.dynamics_index, state.lang)))
    out.line(i(state.t("si.notice.hint")))
    return out.build()


# ---------------------------------------------------------------- the chat command
@command("sozialindex", en="socialindex", usage="[JAHR | GEBIET [JAHR] | export [csv|xlsx] [JAHR]]",
         usage_en="[YEAR | AREA [YEAR] | export [csv|xlsx] [YEAR]]")
def sozialindex(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Stadtteile nach Status- und Dynamikklasse des Sozialindex, die belastetsten zuerst (/sozialindex GEBIET)."""
    config = state.catalogue.sozialindex
    if config is None:
        return ReplyBuilder().line(state.t("si.not_configured")).build()
    rest = list(args)
    export = bool(rest) and rest[0].casefold() in _EXPORT_WORDS
    form = ""
    if export:
        rest = rest[1:]
        formats = [a for a in rest if a.casefold().lstrip(".") in _FORMATS]
        form = formats[0].casefold().lstrip(".") if formats else "xlsx"
        rest = [a for a in rest if a not in formats]
    year = None
    if rest and _YEAR.fullmatch(rest[-1]):
        year = int(rest.pop())
    if export and rest:
        raise UsageError("si.bad_export", found=" ".join(rest))
    result = compute(config, index_observations(state, config), year)
    if year is not None and year not in result.years:
        years = ", ".join(str(y) for y in result.years) or "—"
        raise UsageError("si.no_year", year=year, years=years)
    if result.year is None:
        names = ", ".join(indicator_name(state, ind) for ind in config.indicators)
        return ReplyBuilder().line(state.t("si.no_data", names=names)).build()
    if export:
        return _export(state, result, form, now)
    if rest:
        return _district(state, result, " ".join(rest), explicit_year=year is not None)
    return _overview(state, result)


def _overview(state: State, result: IndexResult) -> Reply:
    lang = state.lang
    out = ReplyBuilder().line(b(state.t("si.title", year=result.year, before=result.comparison_year)))
    files = delivery_files(state, result)
    out.line(state.t("si.summary", rated=len(result.rated), total=len(result.districts),
                     deliveries=", ".join(files) or "—"))
    out.line(i(state.t("si.legend")))
    groups: dict[tuple[str, str | None], list[DistrictScore]] = {}
    for d in result.rated:  # already worst first
        groups.setdefault((d.status_class, d.dynamics_class), []).append(d)  # type: ignore[arg-type]
    for (status, dynamics), members in groups.items():
        if dynamics is None:
            heading = state.t("si.group_no_dynamics", status=class_label(state, status), n=len(members))
        else:
            heading = state.t("si.group", status=class_label(state, status),
                              dynamics=class_label(state, dynamics), code=cell_code(status, dynamics),
                              n=len(members))
        out.blank().line(b(heading))
        for d in members:
            if d.dynamics_index is None:
                out.line("• ", state.t("si.line_no_dynamics", area=d.area, si=signed(d.status_index, lang),
                                       reason=unrated_reason(state, result, d, dynamics=True, limit=MAX_GAPS)))
            else:
                out.line("• ", state.t("si.line", area=d.area, si=signed(d.status_index, lang),
                                       di=signed(d.dynamics_index, lang)))
    unrated = result.unrated
    if unrated:
        out.blank().line(b(state.t("si.unrated", n=len(unrated))))
        for d in unrated:
            out.line("• ", state.t("si.unrated_line", area=d.area,
                                   reason=unrated_reason(state, result, d, limit=MAX_GAPS)))
    out.blank().line(i(state.t("si.hint")))
    return out.build()


def _find_area(state: State, result: IndexResult, text: str) -> DistrictScore:
    wanted = area_key(text)
    for d in result.districts:
        if area_key(d.area) == wanted:
            return d
    known = [d.area for d in result.districts]
    keys = {area_key(a): a for a in known}
    near = [keys[k] for k in difflib.get_close_matches(wanted, list(keys), n=3, cutoff=0.6)]
    if near:
        raise UsageError("si.unknown_area_near", found=text, closest=", ".join(near))
    raise UsageError("si.unknown_area", found=text, known=", ".join(known) or "—")


def _district(state: State, result: IndexResult, text: str, *, explicit_year: bool) -> Reply:
    lang = state.lang
    d = _find_area(state, result, text)
    out = ReplyBuilder().line(b(state.t("si.area_title", area=d.area, year=result.year)))
    if d.rated:
        out.line(state.t("si.area_status", status=class_label(state, d.status_class),
                         si=signed(d.status_index, lang)))
        if d.dynamics_class is not None:
            out.line(state.t("si.area_dynamics", dynamics=class_label(state, d.dynamics_class),
                             di=signed(d.dynamics_index, lang), before=result.comparison_year))
            out.line(state.t("si.area_cell", code=cell_code(d.status_class, d.dynamics_class),
                             status=class_label(state, d.status_class),
                             dynamics=class_label(state, d.dynamics_class)))
        else:
            out.line(state.t("si.area_dynamics_unrated", reason=unrated_reason(state, result, d, dynamics=True)))
    else:
        out.line(b(state.t("si.area_unrated", reason=unrated_reason(state, result, d))))
    if not explicit_year:
        out.line(_movement(state, result, d))
    out.blank().line(b(state.t("si.area_indicators", year=result.year, before=result.comparison_year)))
    config = result.config
    for s in d.scores:
        mark = state.t("si.reversed_mark") if s.indicator in config.reversed else ""
        out.line("• ", b(indicator_name(state, s.indicator)), mark)
        out.line("  ", state.t("si.area_values", year=result.year, value=_value(state, s.indicator, s.value),
                               before=result.comparison_year, previous=_value(state, s.indicator, s.previous),
                               change=_change(state, s.indicator, s.change)))
        out.line("  ", state.t("si.area_z", zs=signed(s.status_z, lang), zd=signed(s.dynamics_z, lang)))
    out.blank().line(i(state.t("si.area_z_legend")))
    return out.build()


def _movement(state: State, result: IndexResult, d: DistrictScore) -> str:
    before = baseline(state, result)
    if before is None:
        return state.t("si.move_first")
    when = datetime.fromisoformat(before["computed"]).date() if before.get("computed") else None
    head = {"year": before.get("year"), "day": fmt.day(when, state.lang)}
    move = next((m for m in moves(before, result) if m.area == d.area), None)
    if move is None:
        return state.t("si.move_none", **head)
    parts = []
    if move.status_before != move.status_after:
        parts.append(state.t("si.move_status", before=class_label(state, move.status_before),
                             after=class_label(state, move.status_after)))
    if move.dynamics_before != move.dynamics_after:
        parts.append(state.t("si.move_dynamics", before=class_label(state, move.dynamics_before),
                             after=class_label(state, move.dynamics_after)))
    return state.t("si.move", changes="; ".join(parts), **head)


def _export(state: State, result: IndexResult, form: str, now: datetime) -> Reply:
    from .sozialindex_export import MIME, export_csv, export_xlsx

    data = export_csv(state, result) if form == "csv" else export_xlsx(state, result)
    name = f"sozialindex_{result.year}_{state.local(now).date().isoformat()}.{form}"
    caption = state.t("si.export_caption", year=result.year, form=form.upper(), n=len(result.districts))
    return ReplyBuilder().line(caption).attach(Attachment(name, data, "document", caption, MIME[form])).build()
