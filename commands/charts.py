"""PNG line charts of indicator series: data in, bytes out (matplotlib Agg, no pyplot, imported only when drawing).

What every chart keeps to, so that it reads true:
- the y-axis starts at 0 (counts and stocks); percentages run from 0 to 100 (a share outside 0–100 widens it);
- periods sit on a real time axis at their middle, so a missing year leaves a visible gap, and no line is drawn
  across a period without a value (a footnote says so when it happens);
- the full title, wrapped; the unit on the y-axis; German numbers (1.234,5) and period names;
- the Okabe–Ito palette (safe for colour-blind readers) with a distinct marker per line, the whole city in black;
  up to DIRECT_LABELS lines are named at their right end instead of in a legend.

Print figures (the report's, `small=True`) are laid out from measured texts (`_fixed_layout`) and drawn into the
same emptied figure per shape; several are drawn by forked processes (`small_multiples_many`). Chat figures keep
matplotlib's constrained layout.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import math
import os
import statistics
import textwrap
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from . import fmt
from .periods import Period, PeriodError
from .periods import next as next_period

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "CHAT_DPI",
    "CHAT_WIDTH",
    "DIRECT_LABELS",
    "MAX_LINES",
    "PALETTE",
    "ChartWords",
    "DrawingAhead",
    "FigureStore",
    "Line",
    "Panel",
    "axis_range",
    "content_key",
    "drawing_ahead",
    "figure_key",
    "kept_figure",
    "line_chart",
    "line_figure",
    "needs_legend",
    "number_formatter",
    "small_multiples",
    "small_multiples_figure",
    "small_multiples_many",
    "tick_label",
]

# More areas than this in one panel become a min–max band and a median: 30 coloured lines read as noise.
MAX_LINES = 10
# Up to this many lines are named at their end; more get a legend.
DIRECT_LABELS = 5
# Chat images: 8 × 4.5 in at 150 dpi = 1,200 × 675 px, wide enough to stay sharp on a phone held sideways.
CHAT_WIDTH, CHAT_HEIGHT, CHAT_DPI = 8.0, 4.5, 150
# Okabe & Ito (2008), without yellow (too pale on white) and black (kept for the whole city).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9")
WHOLE_CITY = "#000000"
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "h")
_DASHES = ("-", "--", "-.", ":")
_BAND, _BAND_TEXT, _MEDIAN, _GRID, _NOTE = "#9ecae1", "#3b7fb6", "#08519c", "#e3e3e3", "#555555"


@dataclass(frozen=True)
class Line:
    label: str
    values: tuple[float | None, ...]  # one per period of the panel
    emphasis: bool = False  # the whole city: black and thicker


@dataclass(frozen=True)
class Panel:
    """One indicator: canonical period keys ("2018", "2018-Q3", …) in time order and the lines over them."""

    title: str
    unit: str
    periods: tuple[str, ...]
    lines: tuple[Line, ...]

    @property
    def has_data(self) -> bool:
        return any(v is not None for line in self.lines for v in line.values)

    def labels(self, lang: str = "de") -> tuple[str, ...]:
        """The periods as people read them ('3. Quartal 2018')."""
        out = []
        for key in self.periods:
            try:
                out.append(Period.from_key(key).label(lang))
            except PeriodError:
                out.append(key)
        return tuple(out)


@dataclass(frozen=True)
class ChartWords:
    """The user-facing words of a chart, in the report's language (charts hold no texts of their own)."""

    y_label: str  # template with {unit}, for a symbol: "in {unit}"
    y_word: str  # template with {unit}, for a unit that is a word ("Anzahl")
    band: str  # template with {n}, the number of areas
    median: str
    no_data: str
    gap: str  # footnote when a line is interrupted by a period without a value
    quarter: str = "{n}. Qu."
    half: str = "{n}. Hj."


# ---------------------------------------------------------------- pure helpers (no matplotlib)
def number_formatter(lang: str) -> Any:
    """Axis numbers as people here read them: 1.234,5 (de) or 1,234.5 (en)."""
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: fmt.number(0.0 if abs(v) < 1e-12 else v, lang, 2))


def _is_percent(unit: str) -> bool:
    return unit.strip() in ("%", "Prozent", "Anteil %", "Anteil in %", "percent")


def axis_range(values: Sequence[float], unit: str) -> tuple[float, float]:
    """The y-axis limits: from 0 (or the lowest negative value) to a round number above the highest; a
    percentage between 0 and 100 gets the whole 0–100."""
    low, high = min(values), max(values)
    if _is_percent(unit) and low >= 0 and high <= 100:
        return 0.0, 100.0
    low, high = min(0.0, low), max(0.0, high)
    if high == low:
        high = low + 1.0
    integer = all(float(v).is_integer() for v in values)
    ticks = _locator(integer).tick_values(low, high)
    return float(min(ticks[0], low)), float(max(ticks[-1], high))


def _locator(integer: bool) -> Any:
    """Round steps (1, 2, 2.5, 5, 10 × 10^n): the same ticks for the axis limits and the axis itself."""
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10], integer=integer, min_n_ticks=3)


def tick_label(period: Period, words: ChartWords, lang: str) -> str:
    """Short axis names: 2018 · 3. Qu. / 2018 · 1. Hj. / 2018 · 09/2018 · 30.09.2018."""
    if period.kind == "jahr":
        return str(period.year)
    if period.kind == "quartal":
        return f"{words.quarter.format(n=period.number)}\n{period.year}"
    if period.kind == "halbjahr":
        return f"{words.half.format(n=period.number)}\n{period.year}"
    return period.label(lang)


def _y_label(unit: str, words: ChartWords) -> str:
    unit = unit.strip() or "–"
    return words.y_word.format(unit=unit) if unit.isalpha() and len(unit) > 3 else words.y_label.format(unit=unit)


@dataclass(frozen=True)
class _Axis:
    """Where the periods sit: x positions, which neighbours are adjacent in time, ticks and limits."""

    xs: tuple[float, ...]
    adjacent: tuple[bool, ...]  # adjacent[k]: period k+1 directly follows period k
    ticks: tuple[float, ...]
    tick_labels: tuple[str, ...]
    minor: tuple[float, ...]
    limits: tuple[float, float]


def _label_width(label: str, fontsize: float) -> float:
    """Points a tick label needs, with some air between neighbours."""
    return max(len(part) for part in label.split("\n")) * fontsize * 0.62 + fontsize * 1.2


def _time_axis(keys: Sequence[str], words: ChartWords, lang: str, room: float, fontsize: float) -> _Axis:
    """`room` is the width of the plot in points: as many tick labels as fit into it, never overlapping."""
    try:
        periods = [Period.from_key(k) for k in keys]
    except PeriodError:
        periods = []
    if not periods:
        # Keys that are no periods (never stored by the import, but be safe): evenly spaced, in the given order.
        n = len(keys)
        most = max(1, int(room / max((_label_width(k, fontsize) for k in keys), default=1)))
        step = max(1, math.ceil(n / most))
        ticks = tuple(float(k) for k in range(0, n, step))
        return _Axis(tuple(float(k) for k in range(n)), (True,) * max(0, n - 1), ticks,
                     tuple(keys[int(k)] for k in ticks), (), (-0.5, n - 0.5))
    xs = tuple((p.start.toordinal() + p.end.toordinal() + 1) / 2 for p in periods)
    adjacent = tuple(a.kind == b.kind and next_period(a) == b for a, b in itertools.pairwise(periods))
    first, last = periods[0].start.toordinal(), periods[-1].end.toordinal() + 1
    pad = max(20.0, (last - first) * 0.04)
    days = (last - first) + 2 * pad
    labels = [tick_label(p, words, lang) for p in periods]
    # Each label needs its width around its tick; neighbouring ticks are as far apart as their periods.
    needed = max(_label_width(label, fontsize) for label in labels)
    closest = min((b - a for a, b in itertools.pairwise(xs)), default=days)
    if closest / days * room >= needed:
        return _Axis(xs, adjacent, xs, tuple(labels), (), (first - pad, last + pad))
    # Too many periods to name each: one label per year (every few years if need be), a small tick per period.
    years = list(range(periods[0].start.year, periods[-1].end.year + 1))
    most = max(1, int(room / _label_width("2000", fontsize)))
    step = max(1, math.ceil(len(years) / most))
    shown = [y for y in years if (y - years[0]) % step == 0]
    ticks = tuple((Period.year_of(y).start.toordinal() + Period.year_of(y).end.toordinal() + 1) / 2 for y in shown)
    minor = () if all(p.kind == "jahr" for p in periods) and step == 1 else xs
    return _Axis(xs, adjacent, ticks, tuple(str(y) for y in shown), minor, (first - pad, last + pad))


def _segments(line: Line, axis: _Axis) -> tuple[list[tuple[list[float], list[float]]], bool]:
    """Runs of values in adjacent periods, and whether the line is interrupted by a period without a value."""
    runs: list[tuple[list[float], list[float]]] = []
    gap = False
    previous: int | None = None
    for k, value in enumerate(line.values):
        if value is None:
            continue
        if previous is not None and previous == k - 1 and axis.adjacent[previous]:
            runs[-1][0].append(axis.xs[k])
            runs[-1][1].append(value)
        else:
            if previous is not None:
                gap = True
            runs.append(([axis.xs[k]], [value]))
        previous = k
    return runs, gap


def _wrap(text: str, width_in: float, fontsize: float) -> str:
    # An average glyph of DejaVu Sans is a little over half the font size wide.
    chars = max(12, int(width_in * 72 / (fontsize * 0.56)))
    # Words stay whole ("Langzeitarbeitslosigkeit"); compounds may break at their hyphens.
    return "\n".join(textwrap.wrap(" ".join(text.split()), chars, break_long_words=False)) or text


def _style(k: int) -> dict[str, Any]:
    return {"color": PALETTE[k % len(PALETTE)], "marker": _MARKERS[k % len(_MARKERS)],
            "linestyle": _DASHES[(k // len(PALETTE)) % len(_DASHES)]}


def _styles(panels: Sequence[Panel]) -> dict[str, dict[str, Any]]:
    """One style per area across all panels, so the same area looks the same in every panel of a figure."""
    labels = dict.fromkeys(line.label for p in panels for line in p.lines if not line.emphasis)
    return {label: _style(k) for k, label in enumerate(labels)}


@dataclass(frozen=True)
class _Size:
    """Type sizes in points for one kind of figure."""

    title: float
    tick: float
    label: float
    note: float
    line: float
    marker: float


_CHAT = _Size(title=12.5, tick=10, label=10, note=8.5, line=2.0, marker=5.5)
_SMALL = _Size(title=7.5, tick=6.5, label=6.5, note=6, line=1.3, marker=3.2)


# ---------------------------------------------------------------- drawing
def _draw(ax: Any, panel: Panel, words: ChartWords, lang: str, styles: dict[str, dict[str, Any]], size: _Size,
          width_in: float, height_in: float) -> bool:
    """Draw one panel into `ax`; True if a line is interrupted (the figure then carries the footnote)."""
    others_n = sum(1 for line in panel.lines if not line.emphasis)
    plot_width = max(0.5, width_in * (1 - _tick_room(others_n)) - 0.45 - size.tick / 14)
    axis = _time_axis(panel.periods, words, lang, plot_width * 72, size.tick)
    emphasised = [line for line in panel.lines if line.emphasis]
    others = [line for line in panel.lines if not line.emphasis]
    many = len(others) > MAX_LINES
    ends: list[tuple[str, float, str]] = []  # (label, last value, colour) for direct labels
    handles: list[tuple[Any, str]] = []
    gap = False
    markersize = size.marker if len(axis.xs) <= 24 else size.marker * 0.6
    if many:
        # Per period: range and median of the areas that have a value; periods without any stay empty.
        columns = [[v for line in others if (v := line.values[k]) is not None] for k in range(len(axis.xs))]
        median_line = Line(words.median, tuple(statistics.median(c) if c else None for c in columns))
        lows = Line("", tuple(min(c) if c else None for c in columns))
        highs = Line("", tuple(max(c) if c else None for c in columns))
        fill = None
        for (xs, lo), (_, hi) in zip(_segments(lows, axis)[0], _segments(highs, axis)[0], strict=True):
            if len(xs) > 1:
                fill = ax.fill_between(xs, lo, hi, color=_BAND, alpha=0.7, linewidth=0)
            else:
                fill = ax.vlines(xs, lo, hi, color=_BAND, linewidth=4)
        if fill is not None:
            handles.append((fill, words.band.format(n=len(others))))
            top = _last(highs)
            ends.append((words.band.format(n=len(others)), top, _BAND_TEXT))
        runs, gap = _segments(median_line, axis)
        drawn = None
        for xs, ys in runs:
            (drawn,) = ax.plot(xs, ys, color=_MEDIAN, linewidth=size.line, marker="o", markersize=markersize * 0.8)
        if drawn is not None:
            handles.append((drawn, words.median))
            ends.append((words.median, _last(median_line), _MEDIAN))
    else:
        for line in others:
            style = styles.get(line.label) or _style(0)
            runs, broken = _segments(line, axis)
            gap = gap or broken
            drawn = None
            for xs, ys in runs:
                (drawn,) = ax.plot(xs, ys, color=style["color"], linestyle=style["linestyle"],
                                   marker=style["marker"], markersize=markersize, linewidth=size.line * 0.8)
            if drawn is not None:
                handles.append((drawn, line.label))
                ends.append((line.label, _last(line), style["color"]))
    for line in emphasised:
        runs, broken = _segments(line, axis)
        gap = gap or broken
        drawn = None
        for xs, ys in runs:
            (drawn,) = ax.plot(xs, ys, color=WHOLE_CITY, linewidth=size.line * 1.35, marker="o",
                               markersize=markersize * 1.1, zorder=5)
        if drawn is not None:
            handles.append((drawn, line.label))
            ends.append((line.label, _last(line), WHOLE_CITY))

    values = [v for line in panel.lines for v in line.values if v is not None]
    low, high = axis_range(values, panel.unit)
    ax.set_ylim(low, high)
    if low < 0 < high:
        ax.axhline(0, color="#888888", linewidth=0.8, zorder=1)
    ax.set_xlim(*axis.limits)
    ax.set_xticks(list(axis.ticks))
    ax.set_xticklabels(list(axis.tick_labels), fontsize=size.tick)
    if axis.minor:
        # One small mark per period on the time axis; drawn as one line of markers, because 40 minor Tick
        # objects per panel would cost more than the rest of the panel.
        ax.plot(list(axis.minor), [0.0] * len(axis.minor), linestyle="none", marker="|", color="#444444",
                markersize=size.tick * 0.45, markeredgewidth=0.6, clip_on=False,
                transform=ax.get_xaxis_transform(), zorder=6)
    integer = all(float(v).is_integer() for v in values) and not _is_percent(panel.unit)
    ax.yaxis.set_major_locator(_locator(integer))
    ax.yaxis.set_major_formatter(number_formatter(lang))
    ax.set_ylabel(_y_label(panel.unit, words), fontsize=size.label)
    ax.grid(True, axis="y", color=_GRID, linewidth=0.7)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)

    if len(ends) == 1 and not many:
        pass  # one line: the title says what it is
    elif len(ends) <= DIRECT_LABELS:
        _direct_labels(ax, ends, low, high, size, height_in)
    else:
        # Top to bottom as the lines end, so the legend reads in the order the eye meets the lines.
        last = {label: value for label, value, _ in ends}
        handles.sort(key=lambda hl: -last.get(hl[1], -math.inf))
        ax.legend([h for h, _ in handles], [label for _, label in handles], fontsize=size.label * 0.9,
                  frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
                  handlelength=2.4)
    return gap


def _last(line: Line) -> float:
    return next(v for v in reversed(line.values) if v is not None)


def _tick_room(areas: int) -> float:
    """Share of a panel's width that the names beside the plot take once laid out: a legend, or the band's two
    labels, end up taking about half of a narrow panel; counting less put year labels on top of each other."""
    if areas == 0:
        return 0.0
    return 0.16 if areas + 1 <= DIRECT_LABELS else 0.5


def _right_room(areas: int) -> float:
    """Share of a panel's width kept on the right for the names of its lines or its legend."""
    if areas == 0:
        return 0.0
    return 0.16 if areas + 1 <= DIRECT_LABELS else 0.24


def _direct_labels(ax: Any, ends: list[tuple[str, float, str]], low: float, high: float, size: _Size,
                   height_in: float) -> None:
    """Name each line at the right edge, at the height of its last value, nudged apart so no two overlap."""
    span = (high - low) or 1.0
    spacing = size.label * 1.25 / 72 / max(height_in, 0.5)  # one text line, as a share of the plot height
    order = sorted(range(len(ends)), key=lambda k: (ends[k][1] - low) / span)
    ys = [(ends[k][1] - low) / span for k in order]
    for k in range(1, len(ys)):
        ys[k] = max(ys[k], ys[k - 1] + spacing)
    overflow = ys[-1] - 1.02 if ys else 0
    if overflow > 0:
        ys = [y - overflow for y in ys]
        for k in range(len(ys) - 2, -1, -1):
            ys[k] = min(ys[k], ys[k + 1] - spacing)
    for k, y in zip(order, ys, strict=True):
        label, _, colour = ends[k]
        ax.annotate(label, xy=(1.0, y), xycoords="axes fraction", xytext=(4, 0), textcoords="offset points",
                    ha="left", va="center", fontsize=size.label, color=colour, annotation_clip=False,
                    fontweight="bold" if colour == WHOLE_CITY else "normal")


def _png(fig: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image, PngImagePlugin

    # No fig.clear() after it: clearing builds every axis anew (a tenth of a report's chart time), and the
    # figure is garbage once this returns.
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)  # a reused figure's
    canvas.draw()
    # The figure is opaque: RGB, not matplotlib's RGBA, and zlib level 1 instead of 6. A fifth less time for the
    # PNG (most of it goes to filtering the rows), the file a tenth larger; lossless either way.
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "Sozialmonitor")
    buf = io.BytesIO()
    image.convert("RGB").save(buf, format="png", compress_level=1, pnginfo=info, dpi=(fig.dpi, fig.dpi))
    return buf.getvalue()


W_PAD = H_PAD = 0.06  # inches of air around each panel's axes, its labels included
# Titles stand on the top of the axes (plus matplotlib's title pad), where matplotlib would put them anyway:
# nothing is drawn above our axes. Given, the position is not searched for on every draw (a sixth of the time).
TITLE_Y = 1.0


def _figure(width: float, height: float, dpi: int, *, fixed: bool = False) -> Figure:
    """A figure laid out by matplotlib's constrained layout, or (`fixed`) by `_fixed_layout` after drawing."""
    import matplotlib

    # Agg before anything could pull in pyplot: the monitor is a server without a display.
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    if fixed:
        return Figure(figsize=(width, height), dpi=dpi)
    return Figure(figsize=(width, height), dpi=dpi,
                  layout=ConstrainedLayoutEngine(w_pad=W_PAD, h_pad=H_PAD, wspace=0.06, hspace=0.08))


@lru_cache(maxsize=4096)
def _text_points(text: str, size: float, bold: bool = False) -> tuple[float, float]:
    """(width, height) in points of a text of one or more lines, as matplotlib sets it in DejaVu Sans."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    prop = FontProperties(size=size, weight="bold" if bold else "normal")
    lines = text.split("\n")
    width = max(text_to_path.get_text_width_height_descent(line, prop, ismath=False)[0] if line else 0.0
                for line in lines)
    # Agg's hinted glyphs at print resolution come out up to a few per cent wider than the outlines measured here.
    # matplotlib's line spacing: 1.2 × the font size between baselines, the last line its ascent and descent.
    return width * 1.04, size * (1.2 * (len(lines) - 1) + 1.17)


def _decorations(ax: Any, size: _Size) -> tuple[float, float, float, float, float, float]:
    """Points a drawn panel needs beside its axes: (left, right, top, bottom, title width, ticks); the right side
    without the title's overhang, which depends on the width the axes get; ticks: the y ticks with their labels,
    the part of `left` before the y label."""
    from matplotlib import rcParams

    title_w, title_h = _text_points(ax.get_title(loc="left"), size.title)
    top = rcParams["axes.titlepad"] + title_h
    if not ax.axison:
        return 0.0, 0.0, top, 0.0, title_w, 0.0
    tick = rcParams["ytick.major.size"] + rcParams["ytick.major.pad"]
    low, high = ax.get_ylim()
    locs = [v for v in ax.yaxis.get_majorticklocs() if low - 1e-9 <= v <= high + 1e-9]
    labels = ax.yaxis.get_major_formatter().format_ticks(locs)
    y_width = max((_text_points(t, size.tick)[0] for t in labels), default=0.0)
    y_label = _text_points(ax.get_ylabel(), size.label)[1] if ax.get_ylabel() else 0.0
    left = tick + y_width + rcParams["axes.labelpad"] + y_label
    x_labels = [t.get_text() for t in ax.get_xticklabels()]
    x_height = max((_text_points(t, size.tick)[1] for t in x_labels if t), default=0.0)
    bottom = rcParams["xtick.major.size"] + rcParams["xtick.major.pad"] + x_height
    right = 0.0
    names = [t for t in ax.texts if t.get_text()]
    if names:  # direct labels: 4 points to the right of the axes
        right = 4.0 + max(_text_points(t.get_text(), t.get_fontsize(), t.get_fontweight() == "bold")[0]
                          for t in names)
    legend = ax.get_legend()
    if legend is not None:
        font = size.label * 0.9
        texts = [t.get_text() for t in legend.get_texts()]
        # bbox_to_anchor 1.01, handle 2.4 and its gap 0.8 font sizes, the border padding 0.4 on both sides
        right = max(right, font * (2.4 + 0.8 + 0.8) + max(_text_points(t, font)[0] for t in texts))
    return left, right, top, bottom, title_w, tick + y_width


def _on_pixels(points: float, dpi: float) -> float:
    return round(points * dpi / 72) * 72 / dpi


def _fixed_layout(fig: Figure, rows: int, cols: int, size: _Size, *, title: bool, gap: bool) -> None:
    """Place the axes as the constrained layout does, from the texts' measured sizes instead of drawing them:
    per column the widest left and right decorations, per row the highest top and bottom ones, equal axes
    widths and heights. The constrained layout measures by laying out every tick and text; for the report's
    dozens of panels that took longer than drawing them."""
    width_pt, height_pt = fig.get_figwidth() * 72, fig.get_figheight() * 72
    dpi = fig.get_dpi()
    axes = fig.axes
    parts = [_decorations(ax, size) for ax in axes]
    top_fig = (0.02 * height_pt + _text_points("M", size.title * 1.15, True)[1]) if title else 0.0
    bottom_fig = (0.01 * height_pt + _text_points("M", size.note)[1]) if gap else 0.0
    w_pad, h_pad = W_PAD * 72, H_PAD * 72
    inner_w = math.inf
    for _ in range(3):  # later passes count the titles reaching beyond the axes width of the pass before
        lefts = [max(parts[k][0] for k in range(c, len(axes), cols)) + w_pad for c in range(cols)]
        rights = [max(max(parts[k][1], parts[k][4] - inner_w) for k in range(c, len(axes), cols)) + w_pad
                  for c in range(cols)]
        inner_w = max(1.0, (width_pt - sum(lefts) - sum(rights)) / cols)
    tops = [max(parts[k][2] for k in range(r * cols, min(len(axes), (r + 1) * cols))) + h_pad for r in range(rows)]
    bottoms = [max(parts[k][3] for k in range(r * cols, min(len(axes), (r + 1) * cols))) + h_pad
               for r in range(rows)]
    inner_h = max(1.0, (height_pt - top_fig - bottom_fig - sum(tops) - sum(bottoms)) / rows)
    for k, ax in enumerate(axes):
        r, c = divmod(k, cols)
        x = sum(lefts[: c + 1]) + sum(rights[:c]) + c * inner_w
        y_top = top_fig + sum(tops[: r + 1]) + sum(bottoms[:r]) + r * inner_h
        # On whole pixels: spines, grid and band edges then fall on pixel rows and columns (sharper, smaller PNGs).
        left, bottom = _on_pixels(x, dpi), _on_pixels(height_pt - y_top - inner_h, dpi)
        right, top = _on_pixels(x + inner_w, dpi), _on_pixels(height_pt - y_top, dpi)
        ax.set_position((left / width_pt, bottom / height_pt, (right - left) / width_pt, (top - bottom) / height_pt))
        _place_axis_labels(ax, left, parts[k][5], dpi)


def _place_axis_labels(ax: Any, left: float, ticks: float, dpi: float) -> None:
    """Put the y label where matplotlib would, `ticks` points (ticks and their labels) and the label pad left of
    the axes at `left` points, from the measured texts: matplotlib otherwise measures every tick label of both
    axes again on each draw to place the labels (a tenth of the drawing). The x label stays empty."""
    from matplotlib.transforms import IdentityTransform, blended_transform_factory

    x = (left - ticks - ax.yaxis.labelpad) * dpi / 72
    ax.yaxis.set_label_coords(x, 0.5, transform=blended_transform_factory(IdentityTransform(), ax.transAxes))
    ax.xaxis.set_label_coords(0.5, 0.0)


def _no_data(ax: Any, words: ChartWords, size: _Size) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, words.no_data, ha="center", va="center", fontsize=size.label, transform=ax.transAxes)


def line_chart(panel: Panel, words: ChartWords, *, lang: str = "de", width: float = CHAT_WIDTH,
               height: float = CHAT_HEIGHT, dpi: int = CHAT_DPI) -> bytes:
    """One indicator over time, one line per area (the whole city in black); PNG bytes, 1,200 × 675 px by default.

    The image is exactly width×dpi by height×dpi pixels (no tight bounding box), so callers can rely on it.
    """
    return _png(line_figure(panel, words, lang=lang, width=width, height=height, dpi=dpi))


def line_figure(panel: Panel, words: ChartWords, *, lang: str = "de", width: float = CHAT_WIDTH,
                height: float = CHAT_HEIGHT, dpi: int = CHAT_DPI) -> Figure:
    """The figure behind `line_chart` (a Figure of its own, no pyplot state)."""
    fig = _figure(width, height, dpi)
    ax = _axes(fig, 1, 1, 0, _CHAT)
    ax.set_title(_wrap(panel.title, width - 1.0, _CHAT.title), fontsize=_CHAT.title, loc="left", y=TITLE_Y)
    if not panel.has_data:
        _no_data(ax, words, _CHAT)
        return fig
    if _draw(ax, panel, words, lang, _styles([panel]), _CHAT, width, height * 0.7):
        fig.supxlabel(words.gap, fontsize=_CHAT.note, color=_NOTE, x=0.01, ha="left")
    return fig


def needs_legend(panel: Panel) -> bool:
    """True if the panel names its lines in a legend (more than DIRECT_LABELS, up to MAX_LINES areas)."""
    areas = sum(1 for line in panel.lines if not line.emphasis)
    emphasised = len(panel.lines) - areas
    return areas + emphasised > DIRECT_LABELS and areas <= MAX_LINES


def small_multiples(panels: Sequence[Panel], words: ChartWords, *, title: str = "", lang: str = "de",
                    columns: int = 2, width: float = CHAT_WIDTH, panel_height: float = 2.6,
                    dpi: int = CHAT_DPI, small: bool | None = None) -> bytes:
    """Several indicators of one measure, one panel each, on a grid `columns` wide; PNG bytes.

    The image is `width`×dpi pixels wide (1,200 px by default) and as high as its rows need. `small` picks the
    type sizes of print (True) or of a chat image (False); by default it follows the width of a panel.
    """
    return _png(_small_multiples(panels, words, title=title, lang=lang, columns=columns, width=width,
                                 panel_height=panel_height, dpi=dpi, small=small, reuse=True))


def small_multiples_figure(panels: Sequence[Panel], words: ChartWords, *, title: str = "", lang: str = "de",
                           columns: int = 2, width: float = CHAT_WIDTH, panel_height: float = 2.6,
                           dpi: int = CHAT_DPI, small: bool | None = None) -> Figure:
    """The figure behind `small_multiples` (a Figure of its own, no pyplot state)."""
    return _small_multiples(panels, words, title=title, lang=lang, columns=columns, width=width,
                            panel_height=panel_height, dpi=dpi, small=small, reuse=False)


def _axes(fig: Figure, rows: int, cols: int, k: int, size: _Size) -> Any:
    """A new axes in cell `k` of the grid, its y tick labels in the size of `size`: set once, as ticks made later
    take it too (setting it on every panel drawn into a print figure again cost a twentieth of the drawing)."""
    ax = fig.add_subplot(rows, cols, k + 1)
    ax.tick_params(axis="y", labelsize=size.tick)
    return ax


_PRINT_FIGURES = threading.local()  # per thread: the print figures of each shape, drawn into again
PRINT_SHAPES = 8  # shapes kept per thread (the report has three: one, two and three panels in a row)


def _print_figure(width: float, height: float, dpi: int, rows: int, cols: int, n: int) -> tuple[Figure, list[Any]]:
    """A fixed-layout figure with `n` empty axes on a rows × cols grid, the same one again for the same shape.

    Making a matplotlib axes costs ten milliseconds, more than drawing into it: the report's dozens of figures
    have a few shapes, so each shape's figure is emptied (the lines, bands, texts and legend drawn into it
    removed) and drawn into again. Everything else `_draw` sets anew on every panel."""
    figures: dict[tuple[float, float, int, int, int, int], tuple[Figure, list[Any]]] = \
        _PRINT_FIGURES.__dict__.setdefault("figures", {})
    key = (width, height, dpi, rows, cols, n)
    found = figures.get(key)
    if found is None:
        if len(figures) >= PRINT_SHAPES:
            figures.clear()
        fig = _figure(width, height, dpi, fixed=True)
        found = figures[key] = (fig, [_axes(fig, rows, cols, k, _SMALL) for k in range(n)])
        return found
    for ax in found[1]:
        for artist in (*ax.lines, *ax.collections, *ax.texts):
            artist.remove()
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
        ax.set_axis_on()
    return found


def _small_multiples(panels: Sequence[Panel], words: ChartWords, *, title: str, lang: str, columns: int,
                     width: float, panel_height: float, dpi: int, small: bool | None, reuse: bool) -> Figure:
    n = max(1, len(panels))
    cols = max(1, min(columns, n))
    rows = math.ceil(n / cols)
    if small is None:
        small = width / cols < 3.9
    size = _SMALL if small else _CHAT
    title_h = 0.35 if title else 0.0
    height = rows * panel_height + title_h
    # Print figures (the report draws dozens) are laid out from measured texts, chat figures by matplotlib.
    reused = small and reuse  # its title and footnote are always set (empty if none): not the last figure's
    if reused:
        fig, axes = _print_figure(width, height, dpi, rows, cols, len(panels))
    else:
        fig = _figure(width, height, dpi, fixed=small)
        axes = [_axes(fig, rows, cols, k, size) for k in range(len(panels))]
    if title or reused:
        fig.suptitle(title, fontsize=size.title * 1.15, x=0.01, ha="left", fontweight="bold")
    styles = _styles(panels)
    gap = False
    cell = width / cols
    for ax, panel in zip(axes, panels, strict=True):
        room = _right_room(sum(1 for line in panel.lines if not line.emphasis))
        ax.set_title(_wrap(panel.title, cell * (1 - room) - 0.5, size.title), fontsize=size.title, loc="left",
                     y=TITLE_Y)
        if not panel.has_data:
            _no_data(ax, words, size)
            continue
        gap = _draw(ax, panel, words, lang, styles, size, cell, panel_height * 0.6) or gap
    if gap or reused:
        fig.supxlabel(words.gap if gap else "", fontsize=size.note, color=_NOTE, x=0.01, ha="left")
    if small:
        _fixed_layout(fig, rows, cols, size, title=bool(title), gap=gap)
    return fig


# ---------------------------------------------------------------- many figures at once (the report)
MAX_WORKERS = 4  # processes drawing the report's figures; never more than the cores this process may use
MIN_PARALLEL = 4  # fewer figures are drawn here: starting the workers would cost more than it saves


def _drawn(job: Job) -> bytes:
    panels, words, options = job
    return small_multiples(panels, words, **options)


def chart_workers(figures: int) -> int:
    """How many processes should draw `figures` figures: one (this process) unless there are enough figures, more
    than one core and no other thread in this process. A forked child has only the thread that forked it: a lock
    another thread held (logging, the store, an event loop) would stay locked in the child forever."""
    import multiprocessing
    import os

    if figures < MIN_PARALLEL or threading.active_count() > 1 or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS, figures))


class FigureStore(Protocol):
    """Figures drawn before, by `figure_key`: a report draws only the figures whose content changed since.

    bot/ keeps them in the workspace; a store that fails answers with nothing and drops what it is given."""

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]: ...

    def put_many(self, figures: Mapping[str, bytes]) -> None: ...


Job = tuple[Sequence[Panel], ChartWords, dict[str, Any]]


# The modules whose code decides how a figure looks (found by name: none of them is imported for it).
DRAWING_MODULES = ("commands.charts", "commands.sozialindex_charts", "commands.fmt", "storage.fmt", "storage.periods")


@lru_cache(maxsize=1)
def _drawing_code() -> bytes:
    """What draws a figure besides its content: matplotlib's version and the source of the modules drawing it.
    A changed line of that code draws every figure anew."""
    import hashlib
    import importlib.metadata
    import importlib.util
    from pathlib import Path

    digest = hashlib.sha256(importlib.metadata.version("matplotlib").encode())
    for name in DRAWING_MODULES:
        spec = importlib.util.find_spec(name)
        digest.update(Path(spec.origin).read_bytes() if spec and spec.origin else name.encode())
    return digest.digest()


def content_key(what: object) -> str:
    """The key of a figure showing `what`: a description (its repr) of everything drawn, plus the drawing code."""
    import hashlib

    return hashlib.sha256(_drawing_code() + repr(what).encode("utf-8")).hexdigest()


def figure_key(job: Job) -> str:
    """The key of the figure `small_multiples(*job)` draws: its panels, words and options, and the drawing code."""
    panels, words, options = job
    return content_key(("small_multiples", tuple(panels), words, sorted(options.items())))


def kept_figure(kept: FigureStore | None, what: object, draw: Callable[[], bytes]) -> bytes:
    """The figure kept for `what` (see content_key), else `draw()`, which is then kept."""
    if kept is None:
        return draw()
    key = content_key(what)
    found = kept.get_many([key]).get(key)
    if found is None:
        found = draw()
        kept.put_many({key: found})
    return found


def small_multiples_many(jobs: Sequence[Job], *, workers: int | None = None, kept: FigureStore | None = None,
                         ahead: DrawingAhead | None = None) -> list[bytes]:
    """The PNGs of several `small_multiples(panels, words, **options)` figures, in the order given.

    A panel takes matplotlib tens of milliseconds, the report's charts at 280 indicators many seconds: with
    several cores they are drawn by forked worker processes (`chart_workers`), which find matplotlib already
    imported. The bytes are the same as drawn here. With `kept`, figures drawn for an earlier report with the
    same content are taken from there (matplotlib is not even imported when all are), the others drawn and kept.
    With `ahead`, they are drawn by that process (`drawing_ahead`), which imported matplotlib meanwhile."""
    draw = ahead.draw if ahead is not None else lambda todo: _draw_many(todo, workers)
    if kept is None:
        return draw(jobs)
    keys = [figure_key(job) for job in jobs]
    found = kept.get_many(keys)
    todo = [k for k, key in enumerate(keys) if key not in found]
    drawn = dict(zip((keys[k] for k in todo), draw([jobs[k] for k in todo]), strict=True))
    if drawn:
        kept.put_many(drawn)
    return [found[key] if key in found else drawn[key] for key in keys]


def _draw_many(jobs: Sequence[Job], workers: int | None) -> list[bytes]:
    """Draw here, and with several workers in `workers - 1` forked processes as well (`_shared`)."""
    if not jobs:
        return []
    count = chart_workers(len(jobs)) if workers is None else workers
    if count <= 1:
        return [_drawn(job) for job in jobs]
    from concurrent.futures.process import BrokenProcessPool

    _figure(1.0, 1.0, 10)  # matplotlib imported and set to Agg before the fork, not once in every child
    try:
        with _helpers(count - 1) as pool:
            return _shared(jobs, pool, count)
    except (OSError, BrokenProcessPool):  # no process to be had (limits, memory): drawn here, only slower
        return [_drawn(job) for job in jobs]


def _helpers(count: int) -> Any:
    """A pool of `count` processes forked from this one (started when the first job is submitted)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("fork"))


def _shared(jobs: Sequence[Job], pool: Any, count: int) -> list[bytes]:
    """`jobs` drawn by this process and the `count - 1` of `pool`, each taking every `count`-th (the report's
    figures cost about the same); submitted first, so the helpers draw while this process does its share."""
    theirs = {k: pool.submit(_drawn, job) for k, job in enumerate(jobs) if k % count}
    mine = {k: _drawn(jobs[k]) for k in range(0, len(jobs), count)}
    return [mine[k] if k in mine else theirs[k].result() for k in range(len(jobs))]


# ---------------------------------------------------------------- drawing ahead (the report on the command line)
def _warm_up(warm: Sequence[Job] = ()) -> None:
    """Import matplotlib and draw `warm` (figures of the shapes to come), or one small print figure: lazy
    imports, font lookups, text caches and the figures kept per shape are then made once, before the figures
    that count (and inherited by the processes forked to draw them)."""
    if warm:
        for job in warm:
            _drawn(job)
        return
    words = ChartWords("in {unit}", "{unit}", "{n}", "m", "-", "-")
    few = Panel("Aufwärmen", "Anzahl", ("2017-Q4", "2018-Q1"), (Line("A", (1.0, 2.0)), Line("B", (2.0, None), True)))
    many = Panel("Aufwärmen", "%", ("2018",), tuple(Line(f"G {k}", (float(k),)) for k in range(MAX_LINES - 2)))
    small_multiples([few, many], words, title="Aufwärmen", width=4.0, panel_height=1.0, dpi=40, small=True)


def _serve(conn: Any, callers: Any, warm: Sequence[Job]) -> None:
    """The drawing process: warm up, then draw the one batch of jobs it is sent and send back the PNGs.
    `callers`: the caller's end of the pipe, inherited by the fork; closed, so that the caller's end (its exit,
    even a killed one) brings the end of file here."""
    import signal

    # Ctrl-C is the caller's to handle: it ends this process by closing the pipe (or killing it). Blocked by the
    # caller around the fork, so one arriving before this line waits and is then ignored.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    callers.close()
    with contextlib.suppress(OSError):  # its own process group with the helpers it forks, ended all at once
        os.setpgid(0, 0)
    try:
        _warm_up(warm)
        helpers = max(1, chart_workers(MIN_PARALLEL) - 1)
        with _helpers(helpers) as pool:
            # Forked now, warm, while the caller still reads the store: ready when the jobs come.
            pool.submit(_warm_up)
            jobs = conn.recv()
            conn.send(_shared(jobs, pool, helpers + 1))
    except BaseException:  # the caller draws itself when no answer comes: never a traceback from here
        pass
    finally:
        conn.close()


class DrawingAhead:
    """A forked process that imports matplotlib and warms up while the caller builds what to draw, then draws
    it with the helpers it forks (`_shared`). Whatever goes wrong with it, the caller draws the figures itself."""

    def __init__(self, warm: Sequence[Job] = ()) -> None:
        import multiprocessing
        import signal

        context = multiprocessing.get_context("fork")
        self._conn, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(theirs, self._conn, list(warm)),
                                        name="sozialmonitor-diagramme")
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            self._process.start()
            pid = self._process.pid
            if pid is not None:
                with contextlib.suppress(OSError):  # set on both sides of the fork, so no race decides it
                    os.setpgid(pid, pid)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)  # a Ctrl-C meanwhile arrives here now
            theirs.close()
        self._used = False

    def draw(self, jobs: Sequence[Job]) -> list[bytes]:
        """The PNGs of `jobs`, in their order; drawn here when the process is gone or was asked before."""
        if not jobs:
            return []
        if not self._used:
            self._used = True
            pngs = None
            try:
                self._conn.send(list(jobs))
                # Its helpers hold a copy of its end of the pipe: its death alone brings no end of file.
                while not self._conn.poll(1.0):
                    if not self._process.is_alive():
                        raise EOFError
                pngs = self._conn.recv()
            except (OSError, EOFError):  # the process ended (killed, out of memory): drawn here instead
                pass
            if isinstance(pngs, list) and len(pngs) == len(jobs):
                return pngs
        return _draw_many(jobs, None)

    def close(self) -> None:
        """End the process and the helpers it forked, whatever they are doing (importing, waiting, done)."""
        import signal

        self._conn.close()
        pid = self._process.pid
        if pid is None:  # never started (and killpg(0) would end the caller's own group)
            return
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:  # all of them have ended already, or it has no group of its own: the process alone
            if self._process.is_alive():
                self._process.kill()
        self._process.join(10)  # its helpers, if left, hold what join waits for: not for ever


def drawing_ahead(warm: Sequence[Job] = ()) -> DrawingAhead | None:
    """A `DrawingAhead` when drawing in other processes pays (`chart_workers`: several cores, one thread,
    fork), else None; `warm`: figures like those to come, drawn while waiting. Start it first, before reading
    what to draw; close it when done."""
    if chart_workers(MIN_PARALLEL) <= 1:
        return None
    try:
        return DrawingAhead(warm)
    except OSError:  # no process to be had
        return None
