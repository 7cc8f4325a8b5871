"""The social index in the committee report: a committee paper shows the answer, the workbook holds the detail.

- HTML and PDF (section `sozialindex_brief`): the status × dynamics matrix as a chart, one plain paragraph, a
  table of only the districts that need attention (status "niedrig"/"sehr niedrig" or dynamics "negativ") and of
  those that cannot be rated, with the reason, and a sentence on the other districts and where the full table is.
  On screen the HTML adds small multiples of the attention districts' indicators; print and the PDF leave them out.
- Markdown and XLSX (sections `sozialindex` and `sozialindex_matrix`): every district with both indices and its
  cell, and the matrix as a table.
- The first page: one item for "Für den Ausschuss" naming the districts in "sehr niedrig" or with "negativ"
  dynamics (`SozialindexReport.attention`).

Attached to the report through two marked hooks: `build_report` adds `sozialindex_report(...)` to its sections
and summary, and the HTML renderer draws `figures_html(section)` where a section's template asks for it.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

from storage.sozialindex import DYNAMICS_CLASSES, STATUS_CLASSES, DistrictScore, IndexResult, cell_code, compute

from .charts import kept_figure
from .report import READING, Column, Section, Table
from .sozialindex import class_label, delivery_files, index_observations, indicator_name, signed, unrated_reason
from .sozialindex_charts import (
    DistrictPanel,
    MatrixWords,
    MultiplesWords,
    district_multiples,
    matrix_chart,
    severity,
)
from .state import State

__all__ = ["ATTENTION_NAMES", "Figure", "FigureSection", "SozialindexReport", "figures_html", "needs_attention",
           "sozialindex_report"]

ATTENTION_NAMES = 6  # the first page names at most this many districts per list (8 in all), else their number
CHART_DPI = 200  # the matrix is drawn at its printed size; 200 dpi keeps it sharp in print and zoom
MULTIPLE_YEARS, MULTIPLE_COLUMNS, MULTIPLE_DPI = 6, 4, 110  # the screen's small multiples: years, panels a row
WORKBOOK = frozenset({"md", "xlsx"})
PAPER = READING - {"md"}  # html, pdf


@dataclass(frozen=True)
class Figure:
    """A chart of a section, drawn when its PNG is first asked for (the PDF never asks for a screen-only one)."""

    draw: Callable[[], bytes] = field(repr=False, compare=False)
    alt: str = ""
    caption: str = ""
    dpi: int = CHART_DPI
    screen_only: bool = False  # shown by the HTML on screen, left out of print and of the PDF

    @cached_property
    def png(self) -> bytes:
        return self.draw()

    @property
    def width_mm(self) -> float:
        """The printed width: pixels (from the PNG header) / dpi."""
        return round(int.from_bytes(self.png[16:20], "big") / self.dpi * 25.4, 1)


@dataclass(frozen=True)
class FigureSection(Section):
    """A report section that carries its own charts, and a sentence that leads into its table."""

    figures: tuple[Figure, ...] = ()
    table_intro: str = ""


@dataclass(frozen=True)
class SozialindexReport:
    sections: tuple[Section, ...] = ()
    attention: str = ""  # the first page's item; "" when no district is "sehr niedrig" or "negativ"


def needs_attention(d: DistrictScore) -> bool:
    """Status "niedrig" or "sehr niedrig", or dynamics "negativ"."""
    return d.status_class in STATUS_CLASSES[2:] or d.dynamics_class == DYNAMICS_CLASSES[2]


def figures_html(section: Section, *, screen_only: bool = False) -> list[str]:
    """The HTML of a section's charts at their printed size (with `screen_only`, those for the screen alone)."""
    out = []
    for fig in getattr(section, "figures", ()):
        if fig.screen_only != screen_only:
            continue
        uri = "data:image/png;base64," + base64.b64encode(fig.png).decode("ascii")
        width = f"width: {fig.width_mm}mm"
        kind = " screen-only" if fig.screen_only else ""
        out.append(f'<figure class="chart si{kind}" style="{width}"><img src="{uri}" '
                   f'alt="{html.escape(fig.alt, quote=True)}" style="{width}">')
        if fig.caption:
            out.append(f"<figcaption>{html.escape(fig.caption)}</figcaption>")
        out.append("</figure>")
    return out


def _col(state: State, key: str, kind: str = "text", width: int = 14, *, optional: bool = False) -> Column:
    return Column(state.t(f"si.rep.col.{key}"), kind, width, optional)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2) + 0.0


def _class_index(state: State, cls: str | None, index: float | None) -> str:
    """'niedrig (+1,43)'; 'nicht bewertet' without a class."""
    if cls is None or index is None:
        return state.t("si.rated_no")
    return state.t("si.rep.class_index", cls=class_label(state, cls), index=signed(index, state.lang))


def _and_join(state: State, items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {state.t('report.and')} {items[-1]}"


def sozialindex_report(state: State, *, charts: bool = True) -> SozialindexReport:
    """The report's social-index sections and first-page item; nothing when the catalogue has no [sozialindex]."""
    config = state.catalogue.sozialindex
    if config is None:
        return SozialindexReport()
    t = state.t
    result = compute(config, index_observations(state, config))
    if result.year is None:
        names = ", ".join(indicator_name(state, i) for i in config.indicators)
        return SozialindexReport((Section("sozialindex", t("si.rep.heading"), t("si.rep.sheet"), None,
                                          before=(t("si.rep.intro", span=config.span),),
                                          empty=t("si.no_data", names=names)),))
    sections = (_brief_section(state, result, charts=charts), _table_section(state, result),
                _matrix_section(state, result))
    return SozialindexReport(sections, _attention(state, result))


def _note(state: State, result: IndexResult, d: DistrictScore) -> str:
    if not d.rated:
        return unrated_reason(state, result, d)
    if d.dynamics_class is None:
        return state.t("si.rep.dynamics_unrated", reason=unrated_reason(state, result, d, dynamics=True))
    return ""


def _status(state: State, d: DistrictScore) -> str:
    return class_label(state, d.status_class) if d.status_class else state.t("si.rated_no")


def _table_section(state: State, result: IndexResult) -> Section:
    """Every district (Markdown and the workbook): classes, both indices, the MSS cell code, why it is unrated."""
    t = state.t
    files = delivery_files(state, result)
    basis = t("si.rep.basis", year=result.year, before=result.comparison_year, rated=len(result.rated),
              total=len(result.districts), files=", ".join(files))
    rows = tuple((d.area, _status(state, d), _round(d.status_index),
                  class_label(state, d.dynamics_class) if d.dynamics_class else "", _round(d.dynamics_index),
                  cell_code(d.status_class, d.dynamics_class), _note(state, result, d)) for d in result.districts)
    cols = (_col(state, "area", width=22), _col(state, "status", width=14), _col(state, "status_index", "number", 12),
            _col(state, "dynamics", width=12), _col(state, "dynamics_index", "number", 12),
            _col(state, "cell", width=10), _col(state, "note", width=50))
    return Section("sozialindex", t("si.rep.heading"), t("si.rep.sheet"), Table(cols, rows),
                   before=(t("si.rep.intro", span=result.config.span), basis), empty=t("si.rep.none"),
                   formats=WORKBOOK)


def _brief_section(state: State, result: IndexResult, *, charts: bool) -> Section:
    """What the committee reads: the matrix, one paragraph, the districts that need attention or a reason."""
    t = state.t
    labels = {c: class_label(state, c) for c in (*STATUS_CLASSES, *DYNAMICS_CLASSES)}
    shown = [d for d in result.districts if needs_attention(d) or not d.rated or d.dynamics_class is None]
    attention = [d for d in shown if needs_attention(d)]
    unrated = len(shown) - len(attention)
    others = [d for d in result.rated if d not in shown]
    paragraph = t("si.rep.brief", k=len(result.config.indicators), high=labels["hoch"],
                  very_low=labels["sehr niedrig"], negative=labels["negativ"], positive=labels["positiv"],
                  year=result.year, before=result.comparison_year, rated=len(result.rated),
                  total=len(result.districts))
    classes = {"low": labels["niedrig"], "very_low": labels["sehr niedrig"], "negative": labels["negativ"]}
    intro = t("si.rep.brief_table" if attention else "si.rep.brief_none", n=len(attention), **classes)
    if unrated:
        intro += " " + t("si.rep.brief_table_unrated", n=unrated)
    # Class and index in one cell, the index as the chat writes it (+1,52 / −0,29): the table is read, not reused.
    rows = tuple((d.area, _class_index(state, d.status_class, d.status_index),
                  _class_index(state, d.dynamics_class, d.dynamics_index), _note(state, result, d)) for d in shown)
    cols = (_col(state, "area", width=22), _col(state, "status_brief", width=20),
            _col(state, "dynamics_brief", width=20), _col(state, "note", width=50, optional=True))
    after = []
    if others:
        high = sum(1 for d in others if d.status_class == "hoch")
        after.append(t("si.rep.brief_others", n=len(others), high=high, middle=len(others) - high,
                       cls=_status(state, others[0]), high_label=labels["hoch"], middle_label=labels["mittel"],
                       negative=labels["negativ"]))
    after.append(t("si.rep.brief_where", total=len(result.districts), sheet=t("si.rep.sheet"),
                   files=", ".join(delivery_files(state, result))))
    attention_rated = [d for d in attention if d.rated]
    figures = ((_matrix_figure(state, result), *_multiples_figure(state, result, attention_rated))
               if charts and result.rated else ())
    return FigureSection("sozialindex_brief", t("si.rep.heading"), "", Table(cols, rows), before=(paragraph,),
                         after=(" ".join(after),), empty=t("si.rep.brief_none", **classes), formats=PAPER,
                         figures=figures, table_intro=intro if shown else "")


def _cells(result: IndexResult) -> dict[tuple[int, int], list[str]]:
    cells: dict[tuple[int, int], list[str]] = {}
    for d in result.rated:
        if d.status_group is not None and d.dynamics_group is not None:
            cells.setdefault((d.status_group, d.dynamics_group), []).append(d.area)
    return cells


def _matrix_section(state: State, result: IndexResult) -> Section:
    """The 12 combinations as a table (Markdown and the workbook; the chart shows them in HTML and PDF)."""
    t = state.t
    cells = _cells(result)
    cols = (Column(t("si.rep.col.matrix_corner"), "text", 18),
            *(Column(class_label(state, c), "text", 40) for c in DYNAMICS_CLASSES))
    rows = tuple((class_label(state, s), *(", ".join(cells.get((si + 1, di + 1), [])) for di in range(3)))
                 for si, s in enumerate(STATUS_CLASSES))
    after = []
    status_only = [d.area for d in result.rated if d.dynamics_class is None]
    if status_only:
        after.append(t("si.rep.status_only", names=", ".join(status_only)))
    if result.unrated:
        after.append(t("si.rep.unrated", names=", ".join(d.area for d in result.unrated)))
    return Section("sozialindex_matrix", t("si.rep.matrix_heading"), t("si.rep.matrix_sheet"), Table(cols, rows),
                   before=(t("si.rep.matrix_intro", year=result.year, before=result.comparison_year),),
                   after=tuple(after), formats=WORKBOOK)


def _matrix_figure(state: State, result: IndexResult) -> Figure:
    t = state.t
    words = MatrixWords(
        title=t("si.rep.matrix_title", year=result.year, before=result.comparison_year),
        status_axis=t("si.rep.status_axis"), dynamics_axis=t("si.rep.dynamics_axis"),
        status_labels=tuple(t("si.rep.status_label", group=k + 1, name=class_label(state, c))  # type: ignore[arg-type]
                            for k, c in enumerate(STATUS_CLASSES)),
        dynamics_labels=tuple(class_label(state, c) for c in DYNAMICS_CLASSES),  # type: ignore[arg-type]
        count=t("si.rep.count"), more=t("si.rep.more"), unrated=t("si.rep.unrated"),
        status_only=t("si.rep.status_only"))
    # The section's heading and paragraph stand right above the chart: its title goes into the alternative text.
    cells, shown = _cells(result), replace(words, title="")
    unrated = [d.area for d in result.unrated]
    status_only = [d.area for d in result.rated if d.dynamics_class is None]
    png = kept_figure(state.figures, ("matrix", sorted(cells.items()), shown, unrated, status_only, CHART_DPI),
                      lambda: matrix_chart(cells, shown, unrated=unrated, status_only=status_only, dpi=CHART_DPI))
    return Figure(lambda: png, words.title, dpi=CHART_DPI)


def _multiples_figure(state: State, result: IndexResult, districts: list[DistrictScore]) -> tuple[Figure, ...]:
    """The attention districts' index indicators as z-values year by year (for the screen: on paper the matrix
    and the table say what the committee needs, the values are in the workbook and the export)."""
    t, lang = state.t, state.lang
    config = result.config
    years = [y for y in result.years if y <= (result.year or 0)][-MULTIPLE_YEARS:]
    if not districts or not years:
        return ()
    title = t("si.rep.multiples_title", first=years[0], last=years[-1])

    def draw() -> bytes:
        # Each year's z-values from that year's own computation: the panels show how a district's position moved.
        observations = index_observations(state, config)
        per_year = {y: compute(config, observations, y) for y in years}
        panels = []
        for d in districts:
            series = []
            for indicator in config.indicators:
                values = []
                for y in years:
                    other = per_year[y].district(d.area)
                    score = other.score(indicator) if other else None
                    values.append(score.status_z if score else None)
                series.append(tuple(values))
            code = cell_code(d.status_class, d.dynamics_class)
            name = f"{d.area} · {code}" if code else f"{d.area} · {class_label(state, d.status_class)}"
            panels.append(DistrictPanel(name, tuple(series), severity(d.status_group, d.dynamics_group)))
        labels = [indicator_name(state, i) for i in config.indicators]
        words = MultiplesWords(title, t("si.rep.multiples_y"), t("si.rep.multiples_band"))
        what = ("district_multiples", panels, years, labels, words, lang, MULTIPLE_COLUMNS, MULTIPLE_DPI)
        return kept_figure(state.figures, what, lambda: district_multiples(
            panels, [str(y) for y in years], labels, words, lang=lang, columns=MULTIPLE_COLUMNS, dpi=MULTIPLE_DPI))

    return (Figure(draw, title, t("si.rep.multiples_caption"), dpi=MULTIPLE_DPI, screen_only=True),)


def _attention(state: State, result: IndexResult) -> str:
    """The first page's item: the districts in "sehr niedrig" and those with "negativ" dynamics, by name while
    the item stays within two lines (ATTENTION_NAMES names in all), else the longer list by its number."""
    t = state.t
    very_low = [d.area for d in result.rated if d.status_class == STATUS_CLASSES[3]]
    negative = [d.area for d in result.rated if d.dynamics_class == DYNAMICS_CLASSES[2]]
    named = {"very_low": len(very_low) <= ATTENTION_NAMES, "negative": len(negative) <= ATTENTION_NAMES}
    if named["very_low"] and named["negative"] and len(very_low) + len(negative) > ATTENTION_NAMES + 2:
        named["negative" if len(negative) >= len(very_low) else "very_low"] = False
    parts = []
    for key, names, cls in (("very_low", very_low, "sehr niedrig"), ("negative", negative, "negativ")):
        if names:
            text = "si.att." + key + ("" if named[key] else "_many")
            parts.append(t(text, names=_and_join(state, names), n=len(names), cls=class_label(state, cls)))
    if not parts:
        return ""
    return t("si.att.item", year=result.year, parts="; ".join(parts))
