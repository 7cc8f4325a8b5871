"""The social index in the committee report: the districts by class (table), the status × dynamics matrix
(table and chart) and per-district small multiples of the index indicators (chart, HTML only).

Attached to the report through two marked hooks: `build_report` adds `sozialindex_sections(...)` to its
sections, and the HTML renderer appends `figures_html(section)` after a section's paragraphs. The sections are
ordinary `Section`s (Markdown and XLSX lay them out like any other); the charts ride along as PNG bytes in
`FigureSection.figures`, drawn only when the report asks for charts.
"""

from __future__ import annotations

import base64
import html
from dataclasses import dataclass
from datetime import date

from storage.sozialindex import DYNAMICS_CLASSES, STATUS_CLASSES, IndexResult, cell_code, compute

from .report import Column, Section, Table
from .sozialindex import class_label, delivery_files, index_observations, indicator_name, unrated_reason
from .sozialindex_charts import (
    DistrictPanel,
    MatrixWords,
    MultiplesWords,
    district_multiples,
    matrix_chart,
    severity,
)
from .state import State

__all__ = ["Figure", "FigureSection", "figures_html", "sozialindex_sections"]

MULTIPLE_YEARS = 6  # years drawn per district panel


@dataclass(frozen=True)
class Figure:
    png: bytes
    alt: str
    caption: str = ""


@dataclass(frozen=True)
class FigureSection(Section):
    """A report section that carries its own charts (drawn in the HTML report before its table)."""

    figures: tuple[Figure, ...] = ()


def figures_html(section: Section) -> list[str]:
    """The HTML of a section's charts; nothing for a section without any (the HTML renderer's hook)."""
    out = []
    for fig in getattr(section, "figures", ()):
        uri = "data:image/png;base64," + base64.b64encode(fig.png).decode("ascii")
        out.append(f'<figure><img src="{uri}" alt="{html.escape(fig.alt, quote=True)}" style="width: 100%">')
        if fig.caption:
            out.append(f"<figcaption>{html.escape(fig.caption)}</figcaption>")
        out.append("</figure>")
    return out


def _col(state: State, key: str, kind: str = "text", width: int = 14) -> Column:
    return Column(state.t(f"si.rep.col.{key}"), kind, width)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2) + 0.0


def sozialindex_sections(state: State, today: date, *, charts: bool = True) -> tuple[Section, ...]:
    """The report's social-index sections; none when the catalogue has no [sozialindex]."""
    config = state.catalogue.sozialindex
    if config is None:
        return ()
    t = state.t
    observations = index_observations(state, config)
    result = compute(config, observations)
    if result.year is None:
        names = ", ".join(indicator_name(state, i) for i in config.indicators)
        return (Section("sozialindex", t("si.rep.heading"), t("si.rep.sheet"), None,
                        before=(t("si.rep.intro", span=config.span),), empty=t("si.no_data", names=names)),)
    files = delivery_files(state, result)
    basis = t("si.rep.basis", year=result.year, before=result.comparison_year, rated=len(result.rated),
              total=len(result.districts), files=", ".join(files))
    rows = []
    for d in result.districts:
        note = ""
        if not d.rated:
            note = unrated_reason(state, result, d)
        elif d.dynamics_class is None:
            note = t("si.rep.dynamics_unrated", reason=unrated_reason(state, result, d, dynamics=True))
        rows.append((d.area, class_label(state, d.status_class) if d.status_class else t("si.rated_no"),
                     _round(d.status_index), class_label(state, d.dynamics_class) if d.dynamics_class else "",
                     _round(d.dynamics_index), cell_code(d.status_class, d.dynamics_class), note))
    cols = (_col(state, "area", width=22), _col(state, "status", width=14), _col(state, "status_index", "number", 12),
            _col(state, "dynamics", width=12), _col(state, "dynamics_index", "number", 12),
            _col(state, "cell", width=10), _col(state, "note", width=50))
    figures = _figures(state, result, observations) if charts and result.rated else ()
    table = FigureSection("sozialindex", t("si.rep.heading"), t("si.rep.sheet"), Table(cols, tuple(rows)),
                          before=(t("si.rep.intro", span=config.span), basis), empty=t("si.rep.none"), figures=figures)
    return table, _matrix_section(state, result)


def _cells(result: IndexResult) -> dict[tuple[int, int], list[str]]:
    cells: dict[tuple[int, int], list[str]] = {}
    for d in result.rated:
        if d.status_group is not None and d.dynamics_group is not None:
            cells.setdefault((d.status_group, d.dynamics_group), []).append(d.area)
    return cells


def _matrix_section(state: State, result: IndexResult) -> Section:
    """The 12 combinations as a table: status classes as rows, dynamics classes as columns, districts in cells."""
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
                   after=tuple(after))


def _figures(state: State, result: IndexResult, observations: list) -> tuple[Figure, ...]:
    t, lang = state.t, state.lang
    config = result.config
    words = MatrixWords(
        title=t("si.rep.matrix_title", year=result.year, before=result.comparison_year),
        status_axis=t("si.rep.status_axis"), dynamics_axis=t("si.rep.dynamics_axis"),
        status_labels=tuple(t("si.rep.status_label", group=k + 1, name=class_label(state, c))  # type: ignore[arg-type]
                            for k, c in enumerate(STATUS_CLASSES)),
        dynamics_labels=tuple(class_label(state, c) for c in DYNAMICS_CLASSES),  # type: ignore[arg-type]
        count=t("si.rep.count"), more=t("si.rep.more"), unrated=t("si.rep.unrated"),
        status_only=t("si.rep.status_only"))
    matrix = matrix_chart(_cells(result), words, unrated=[d.area for d in result.unrated],
                          status_only=[d.area for d in result.rated if d.dynamics_class is None])
    # Each year's z-values, from that year's own computation: the panels show how a district's position moved.
    years = [y for y in result.years if y <= (result.year or 0)][-MULTIPLE_YEARS:]
    per_year = {y: compute(config, observations, y) for y in years}
    panels = []
    for d in result.districts:
        series = []
        for indicator in config.indicators:
            values = []
            for y in years:
                other = per_year[y].district(d.area)
                score = other.score(indicator) if other else None
                values.append(score.status_z if score else None)
            series.append(tuple(values))
        code = cell_code(d.status_class, d.dynamics_class)
        title = f"{d.area} · {code}" if code else f"{d.area} · {class_label(state, d.status_class)}"
        panels.append(DistrictPanel(title, tuple(series), severity(d.status_group, d.dynamics_group)))
    labels = [indicator_name(state, i) for i in config.indicators]
    multiples = district_multiples(
        panels, [str(y) for y in years], labels,
        MultiplesWords(t("si.rep.multiples_title", first=years[0], last=years[-1]), t("si.rep.multiples_y"),
                       t("si.rep.multiples_band")), lang=lang)
    return (Figure(matrix, words.title, t("si.rep.matrix_caption")),
            Figure(multiples, t("si.rep.multiples_title", first=years[0], last=years[-1]),
                   t("si.rep.multiples_caption")))
