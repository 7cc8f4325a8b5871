"""PNG line charts of indicator series: data in, bytes out (matplotlib Agg, no pyplot)."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

import matplotlib

# Agg before anything could pull in pyplot: the monitor is a server without a display.
matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from . import fmt

__all__ = ["MAX_LINES", "ChartWords", "Line", "Panel", "line_chart", "line_figure", "number_formatter",
           "small_multiples"]

# More areas than this in one panel become a min–max band and a median: 30 coloured lines read as noise.
MAX_LINES = 10
# Tick labels beyond this many periods are thinned out so that they do not overlap.
MAX_TICKS = 8


@dataclass(frozen=True)
class Line:
    label: str
    values: tuple[float | None, ...]
    emphasis: bool = False  # the whole-city line is drawn darker and thicker


@dataclass(frozen=True)
class Panel:
    title: str
    unit: str
    x_labels: tuple[str, ...]
    lines: tuple[Line, ...]

    @property
    def has_data(self) -> bool:
        return any(v is not None for line in self.lines for v in line.values)


@dataclass(frozen=True)
class ChartWords:
    """The user-facing words of a chart, in the report's language (charts hold no texts of their own)."""

    x_label: str
    y_label: str  # a template with {unit}
    band: str  # a template with {n}, the number of areas
    median: str
    no_data: str


def number_formatter(lang: str) -> FuncFormatter:
    """Axis numbers as people here read them: 1.234,5 (de) or 1,234.5 (en)."""
    return FuncFormatter(lambda v, _pos: fmt.number(v, lang, 2))


def _number_axis(ax, lang: str, bins: int) -> None:
    ax.yaxis.set_major_locator(MaxNLocator(nbins=bins))
    ax.yaxis.set_major_formatter(number_formatter(lang))


def _x_ticks(ax, labels: Sequence[str], fontsize: float, most: int) -> None:
    n = len(labels)
    step = max(1, math.ceil(n / most))
    ticks = list(range(0, n, step))
    ax.set_xticks(ticks)
    ax.set_xticklabels([labels[k] for k in ticks], rotation=30 if n > 4 else 0, ha="right" if n > 4 else "center",
                       fontsize=fontsize)
    ax.set_xlim(-0.3, max(n - 1, 0) + 0.3)


_PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
            "#bcbd22", "#17becf")


def _colours(panels: Sequence[Panel]) -> dict[str, str]:
    """One colour per area label across all panels, so a legend shared by small multiples stays true."""
    labels = dict.fromkeys(line.label for p in panels for line in p.lines if not line.emphasis)
    return {label: _PALETTE[k % len(_PALETTE)] for k, label in enumerate(labels)}


def _points(line: Line) -> tuple[list[int], list[float]]:
    xs = [x for x, v in enumerate(line.values) if v is not None]
    return xs, [line.values[x] for x in xs]  # type: ignore[misc]


def _draw(ax, panel: Panel, words: ChartWords, lang: str, colours: dict[str, str], *, fontsize: float,
          small: bool = False) -> None:
    n = len(panel.x_labels)
    emphasised = [line for line in panel.lines if line.emphasis]
    others = [line for line in panel.lines if not line.emphasis]
    marker = "o" if n < 20 else None
    if len(others) > MAX_LINES:
        columns = [[v for line in others if (v := line.values[k]) is not None] for k in range(n)]
        idx = [k for k in range(n) if columns[k]]
        lows = [min(columns[k]) for k in idx]
        highs = [max(columns[k]) for k in idx]
        medians = [sorted(columns[k])[len(columns[k]) // 2] for k in idx]
        ax.fill_between(idx, lows, highs, color="#9ecae1", alpha=0.6, linewidth=0,
                        label=words.band.format(n=len(others)))
        ax.plot(idx, medians, color="#3182bd", linewidth=1.2, label=words.median)
    else:
        for line in others:
            xs, ys = _points(line)
            if xs:
                ax.plot(xs, ys, color=colours.get(line.label), marker=marker, markersize=3, linewidth=1.2,
                        label=line.label)
    for line in emphasised:
        xs, ys = _points(line)
        if xs:
            ax.plot(xs, ys, color="#222222", linewidth=2.2, marker=marker, markersize=3.5, label=line.label)
    # Small panels get fewer ticks: every tick label is a text to lay out, the bulk of a panel's cost.
    _x_ticks(ax, panel.x_labels, fontsize, MAX_TICKS // 2 if small else MAX_TICKS)
    _number_axis(ax, lang, 4 if small else 5)
    ax.tick_params(axis="y", labelsize=fontsize)
    ax.grid(True, color="#dddddd", linewidth=0.6)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf)
    fig.clear()
    return buf.getvalue()


def line_chart(panel: Panel, words: ChartWords, *, lang: str = "de", width: float = 8.0, height: float = 4.5,
               dpi: int = 100) -> bytes:
    """One indicator over its periods, one line per area (the whole city emphasised); PNG bytes.

    The image is exactly width×dpi by height×dpi pixels (no tight bounding box), so callers can rely on it.
    """
    return _png(line_figure(panel, words, lang=lang, width=width, height=height, dpi=dpi))


def line_figure(panel: Panel, words: ChartWords, *, lang: str = "de", width: float = 8.0, height: float = 4.5,
                dpi: int = 100) -> Figure:
    """The figure behind `line_chart` (a Figure of its own, no pyplot state)."""
    fig = Figure(figsize=(width, height), dpi=dpi)
    many = sum(1 for line in panel.lines if not line.emphasis) > MAX_LINES
    legend = len(panel.lines) > 1 or many
    right = 0.74 if legend else 0.96
    fig.subplots_adjust(left=0.12, right=right, top=0.88, bottom=0.2)
    ax = fig.add_subplot(1, 1, 1)
    ax.set_title(panel.title, fontsize=11, loc="left")
    if not panel.has_data:
        ax.set_axis_off()
        ax.text(0.5, 0.5, words.no_data, ha="center", va="center", transform=ax.transAxes)
        return fig
    _draw(ax, panel, words, lang, _colours([panel]), fontsize=8.5)
    if legend:
        ax.legend(fontsize=7.5, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    ax.set_xlabel(words.x_label, fontsize=9)
    ax.set_ylabel(words.y_label.format(unit=panel.unit or "–"), fontsize=9)
    return fig


def small_multiples(panels: Sequence[Panel], words: ChartWords, *, title: str = "", lang: str = "de",
                    columns: int = 3, panel_width: float = 3.3, panel_height: float = 2.4,
                    dpi: int = 90) -> bytes:
    """Several indicators of one measure side by side, one small panel each, one shared legend; PNG bytes."""
    n = max(1, len(panels))
    cols = min(columns, n)
    rows = math.ceil(n / cols)
    fig = Figure(dpi=dpi)
    colours = _colours(panels)
    legend: dict[str, object] = {}
    for k, panel in enumerate(panels):
        ax = fig.add_subplot(rows, cols, k + 1)
        # The unit goes into the title: a rotated y label per panel costs time and room.
        ax.set_title(f"{fmt.short(panel.title, 38 - len(panel.unit))} ({panel.unit or '–'})", fontsize=8,
                     loc="left")
        if not panel.has_data:
            ax.set_axis_off()
            ax.text(0.5, 0.5, words.no_data, ha="center", va="center", fontsize=7, transform=ax.transAxes)
            continue
        _draw(ax, panel, words, lang, colours, fontsize=6.5, small=True)
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    width = max(cols * panel_width, 6.6)  # a lone panel still gets room for its legend
    ncol = max(1, min(len(legend), int(width / 1.6)))
    # Room above the panels for the title and the legend rows, in inches.
    title_h = 0.35 if title else 0.0
    legend_h = 0.2 * math.ceil(len(legend) / ncol) + 0.1 if len(legend) > 1 else 0.0
    head = 0.15 + title_h + legend_h
    height = rows * panel_height + head
    fig.set_size_inches(width, height)
    fig.subplots_adjust(left=0.09, right=0.98, bottom=0.5 / height, top=1 - (head + 0.25) / height,
                        wspace=0.32, hspace=0.75)
    if title:
        fig.suptitle(title, fontsize=11, x=0.01, ha="left", y=1 - 0.1 / height, va="top")
    if len(legend) > 1:
        # One legend for all panels: per-panel legends would cover the lines.
        fig.legend(list(legend.values()), list(legend), loc="upper left", ncol=ncol, fontsize=7, frameon=False,
                   bbox_to_anchor=(0.01, 1 - (0.1 + title_h) / height))
    return _png(fig)
