"""The delivery commands: /indikatoren (indicators of a measure) and /lieferungen (completeness per office)."""

from __future__ import annotations

from datetime import datetime

from . import fmt
from .deliveries import completeness, next_due
from .lookup import resolve_indicator
from .periods import period_label
from .registry import Caller, command, take_measure
from .reply import Reply, ReplyBuilder, b, i
from .state import State

__all__ = ["MAX_COMPLETE"]

MAX_COMPLETE = 12  # complete periods listed by /lieferungen; older ones are only counted


@command("indikatoren", en="indicators", usage="Mxx [INDIKATOR]", usage_en="Mxx [INDICATOR]")
def indikatoren(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Indikatoren einer Maßnahme: Einheit, Turnus, lieferndes Amt, letzter Wert, nächste Fälligkeit."""
    measure, rest = take_measure(state, args, "indikatoren")
    lang = state.lang
    today = state.local(now).date()
    # "/indikatoren M21 wohnungen": just that one (id, name or an unambiguous part of it).
    indicators = ([resolve_indicator(state, measure, " ".join(rest))] if rest
                  else state.catalogue.indicators_of(measure.id))
    if not indicators:
        return ReplyBuilder().line(state.t("ingest.indicators.none", measure=measure.number)).build()
    out = ReplyBuilder().line(b(state.t("ingest.indicators.title", measure=measure.number)))
    for ind in indicators:
        out.blank().line("• ", b(ind.name), f" ({ind.id})")
        out.line("  ", state.t("ingest.indicators.meta", unit=ind.unit or "—",
                               frequency=state.t(f"frequency.{ind.frequency}"), office=ind.office or "—"))
        # From the store's coverage: the latest period's whole-city value (else its first area), its number of
        # areas and its range; no delivery's rows are read.
        obs, areas = state.store.latest_summary(ind.id)
        if obs is not None:
            if not obs.area or areas == 1:
                value = fmt.number(obs.value, lang)
                area = f", {obs.area}" if obs.area else ""
            else:
                # Only area values: show their range rather than one district's figure as if it were the city's.
                low, high = state.store.latest_range(ind.id)
                value = (f"{fmt.number(low, lang)} – {fmt.number(high, lang)}" if low is not None and high is not None
                         else fmt.number(None, lang))
                area = state.t("ingest.indicators.areas", n=areas)
            out.line("  ", state.t("ingest.indicators.latest", value=f"{value} {ind.unit}".strip(),
                                   period=period_label(obs.period, lang),
                                   area=area))
        else:
            out.line("  ", state.t("ingest.indicators.no_value"))
        due = next_due(state, ind, today)
        if due is not None:
            key = "ingest.indicators.overdue" if due.due <= today else "ingest.indicators.next_due"
            line = state.t(key, period=due.label or due.period, due=fmt.day(due.due, lang))
            out.line("  ", b(line) if due.due <= today else line)
    return out.build()


@command("lieferungen", en="deliveries", usage="[Mxx]")
def lieferungen(state: State, args: list[str], caller: Caller, now: datetime) -> Reply:
    """Vollständigkeit der Lieferungen je Amt und Zeitraum; überfällige zuerst."""
    lang = state.lang
    today = state.local(now).date()
    measure = take_measure(state, args, "lieferungen")[0].id if args else None
    groups = completeness(state, today, measure)
    out = ReplyBuilder().line(b(state.t("ingest.deliveries.title", day=fmt.day(today, lang))))
    if not groups:
        return out.line(state.t("ingest.deliveries.none_expected")).build()
    incomplete = [g for g in groups if not g.complete]
    complete = [g for g in groups if g.complete]
    if incomplete:
        out.line(b(state.t("ingest.deliveries.overdue")))
        for g in incomplete:
            office = g.office or state.t("ingest.deliveries.no_office")
            out.line("• ", b(state.t("ingest.deliveries.group", office=office, period=g.period.label(lang),
                                     delivered=g.delivered, expected=g.expected)))
            for d in g.missing:
                ind = state.catalogue.indicators.get(d.indicator)
                out.line("  ", state.t("ingest.deliveries.missing", indicator=ind.name if ind else d.indicator,
                                       measure=d.measure, due=fmt.day(d.due, lang)))
    else:
        out.line(state.t("ingest.deliveries.none_overdue"))
    if complete:
        out.blank().line(b(state.t("ingest.deliveries.complete")))
        for g in complete[:MAX_COMPLETE]:
            out.line("• ", state.t("ingest.deliveries.group", office=g.office or state.t("ingest.deliveries.no_office"),
                                   period=g.period.label(lang), delivered=g.delivered, expected=g.expected))
        if len(complete) > MAX_COMPLETE:
            out.line(i(state.t("ingest.deliveries.more", n=len(complete) - MAX_COMPLETE)))
    return out.build()
