"""Charts of the social index: the status × dynamics matrix and per-district small multiples; PNG bytes.

Colour-blind safe: the matrix cells use one sequential palette (ColorBrewer YlOrBr: only lightness changes, which
every kind of colour vision sees), the lines the Okabe–Ito palette with a distinct marker per indicator.
matplotlib (Agg, no pyplot) is imported only when a chart is drawn: chat answers without a chart never pay for it.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from . import fmt

__all__ = ["CELL_COLOURS", "LINE_COLOURS", "DistrictPanel", "MatrixWords", "MultiplesWords", "district_multiples",
           "matrix_chart", "severity"]

# ColorBrewer YlOrBr, 6 classes: light = little attention needed, dark = most.
CELL_COLOURS = ("#ffffd4", "#fee391", "#fec44f", "#fe9929", "#d95f0e", "#993404")
UNRATED_COLOUR = "#d9d9d9"
# Okabe & Ito (2008), "Color Universal Design": distinguishable with every colour vision deficiency.
LINE_COLOURS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
MARKERS = ("o", "s", "^", "D", "v", "P", "X")
MAX_CELL_LINES = 7


def severity(status_group: int | None, dynamics_group: int | None) -> int | None:
    """0 (hoch, positiv) … 5 (sehr niedrig, negativ): the shade of an overlay cell; None when unrated."""
    if status_group is None or dynamics_group is None:
        return None
    return (status_group - 1) + (dynamics_group - 1)


@dataclass(frozen=True)
class MatrixWords:
    title: str
    status_axis: str
    dynamics_axis: str
    status_labels: tuple[str, str, str, str]  # hoch … sehr niedrig
    dynamics_labels: tuple[str, str, str]  # positiv, stabil, negativ
    count: str  # template with {n}
    more: str  # template with {n}
    unrated: str  # template with {names}
    status_only: str  # template with {names}


def _agg():
    import matplotlib

    # Agg before anything could pull in pyplot: the monitor is a server without a display.
    matplotlib.use("Agg")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    return Figure, FigureCanvasAgg


def _png(fig, canvas_class) -> bytes:
    buf = io.BytesIO()
    canvas_class(fig).print_png(buf)
    return buf.getvalue()


def _cell_text(names: Sequence[str], words: MatrixWords, width: int) -> str:
    """Names wrapped at `width` characters, at most MAX_CELL_LINES lines; the last says how many are left out."""
    lines: list[str] = []
    current = ""
    for k, name in enumerate(names):
        piece = name + ("," if k < len(names) - 1 else "")
        if current and len(current) + 1 + len(piece) > width:
            lines.append(current)
            current = ""
            if len(lines) == MAX_CELL_LINES - 1:
                lines.append(words.more.format(n=len(names) - k))
                return "\n".join(lines)
        current = f"{current} {piece}" if current else piece
    if current:
        lines.append(current)
    return "\n".join(lines)


def matrix_chart(cells: Mapping[tuple[int, int], Sequence[str]], words: MatrixWords, *,
                 unrated: Sequence[str] = (), status_only: Sequence[str] = (), dpi: int = 100) -> bytes:
    """The districts in the 4 × 3 overlay of status (rows, group 1 "hoch" at the top, as the MSS draws it) and
    dynamics (columns: positiv, stabil, negativ). `cells` maps (status group, dynamics group) to area names."""
    figure_class, canvas = _agg()
    notes = [words.unrated.format(names=", ".join(unrated))] if unrated else []
    if status_only:
        notes.append(words.status_only.format(names=", ".join(status_only)))
    note_lines = sum(len(textwrap.wrap(n, 120)) for n in notes)
    height = 6.2 + 0.18 * note_lines
    fig = figure_class(figsize=(9.0, height), dpi=dpi)
    left, right, top = 0.15, 0.99, 1 - 0.75 / height
    bottom = (0.35 + 0.18 * note_lines) / height
    ax = fig.add_axes((left, bottom, right - left, top - bottom))
    ax.set_xlim(0, 3)
    ax.set_ylim(4, 0)  # row 0 (hoch) at the top
    ax.set_xticks([0.5, 1.5, 2.5], labels=list(words.dynamics_labels), fontsize=9.5)
    ax.set_yticks([0.5, 1.5, 2.5, 3.5], labels=list(words.status_labels), fontsize=9.5)
    ax.xaxis.tick_top()
    ax.xaxis.set_label_position("top")
    ax.set_xlabel(words.dynamics_axis, fontsize=10, labelpad=6)
    ax.set_ylabel(words.status_axis, fontsize=10, labelpad=6)
    ax.tick_params(length=0)
    for side in ("top", "right", "bottom", "left"):
        ax.spines[side].set_visible(False)
    from matplotlib.patches import Rectangle

    for s in range(4):
        for d in range(3):
            names = list(cells.get((s + 1, d + 1), ()))
            shade = s + d
            colour = CELL_COLOURS[shade]
            ax.add_patch(Rectangle((d, s), 1, 1, facecolor=colour, edgecolor="white", linewidth=3))
            ink = "white" if shade >= 4 else "#111111"
            ax.text(d + 0.05, s + 0.08, words.count.format(n=len(names)), ha="left", va="top", fontsize=8.5,
                    fontweight="bold", color=ink)
            if names:
                ax.text(d + 0.05, s + 0.27, _cell_text(names, words, 32), ha="left", va="top", fontsize=7.8,
                        color=ink, linespacing=1.25)
    fig.suptitle(words.title, x=0.01, y=1 - 0.12 / height, ha="left", va="top", fontsize=11.5)
    if notes:
        fig.text(0.01, 0.12 / height, "\n".join(line for n in notes for line in textwrap.wrap(n, 120)),
                 ha="left", va="bottom", fontsize=8, color="#333333")
    return _png(fig, canvas)


@dataclass(frozen=True)
class DistrictPanel:
    title: str
    values: tuple[tuple[float | None, ...], ...]  # per indicator, one value per year
    shade: int | None  # severity() of the district, None = not rated


@dataclass(frozen=True)
class MultiplesWords:
    title: str
    y_label: str
    band: str  # the ±1 band ("mittel")


def district_multiples(panels: Sequence[DistrictPanel], years: Sequence[str], labels: Sequence[str],
                       words: MultiplesWords, *, lang: str = "de", columns: int = 5, dpi: int = 90) -> bytes:
    """One small panel per district: its index indicators as z-values per year, on one common scale, with the
    band of ±1 standard deviation; the panel title is shaded like its matrix cell.

    All panels are drawn into one Axes, each at its own offset: a matplotlib Axes costs ~40 ms to create and
    clear, 30 districts would cost more than a second; the scale is written once per row, the years once per
    column.
    """
    figure_class, canvas = _agg()
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    n = max(1, len(panels))
    cols = min(columns, n)
    rows = math.ceil(n / cols)
    legend_rows = math.ceil((len(labels) + 1) / 2)
    head = 0.6 + 0.2 * legend_rows
    width, height = cols * 1.85 + 0.6, rows * 1.45 + head + 0.2
    fig = figure_class(figsize=(width, height), dpi=dpi)
    ax = fig.add_axes((0.55 / width, 0.1 / height, 1 - 0.6 / width, 1 - (head + 0.1) / height))
    ax.set_axis_off()
    found = [v for p in panels for series in p.values for v in series if v is not None]
    low = math.floor(min([-2.0, *found]) - 0.2)
    high = math.ceil(max([2.0, *found]) + 0.2)
    ticks = [v for v in range(low, high + 1) if v % 2 == 0]
    span_x = max(len(years) - 1, 1) + 0.6  # a panel's width in year steps, with room at both ends
    step_x, step_y = span_x * 1.2, 1.4  # panel pitch; a panel is 1 unit high
    short_years = [y[-2:] if len(years) > 4 else y for y in years]

    def at(r: int, c: int, x: float, v: float) -> tuple[float, float]:
        return c * step_x + 0.3 + x, -r * step_y + (v - low) / (high - low)

    # One line object per indicator (and one for all frames), the panels separated by NaN gaps: a plot call
    # costs more than its points.
    nan = float("nan")
    frames: tuple[list[float], list[float]] = ([], [])
    zeros: tuple[list[float], list[float]] = ([], [])
    series_xy: list[tuple[list[float], list[float]]] = [([], []) for _ in labels]
    for k, panel in enumerate(panels):
        r, c = divmod(k, cols)
        x0, y_low = at(r, c, -0.3, low)
        _, y_high = at(r, c, 0, high)
        _, band_low = at(r, c, 0, -1)
        _, band_high = at(r, c, 0, 1)
        _, zero = at(r, c, 0, 0)
        ax.add_patch(Rectangle((x0, band_low), span_x, band_high - band_low, facecolor="#eeeeee", linewidth=0))
        frames[0].extend([x0, x0, x0 + span_x, nan])
        frames[1].extend([y_high, y_low, y_low, nan])
        zeros[0].extend([x0, x0 + span_x, nan])
        zeros[1].extend([zero, zero, nan])
        for j, series in enumerate(panel.values[: len(labels)]):
            for x, v in enumerate(series):
                px, py = at(r, c, x, v) if v is not None else (nan, nan)
                series_xy[j][0].append(px)
                series_xy[j][1].append(py)
            series_xy[j][0].append(nan)
            series_xy[j][1].append(nan)
        shade = UNRATED_COLOUR if panel.shade is None else CELL_COLOURS[panel.shade]
        ink = "white" if panel.shade is not None and panel.shade >= 4 else "#111111"
        ax.text(x0, y_high + 0.06, fmt.short(panel.title, 30), fontsize=7, ha="left", va="bottom", color=ink,
                bbox={"facecolor": shade, "edgecolor": "none", "pad": 1.5})
        if c == 0:
            for v in ticks:
                ax.text(x0 - 0.12, at(r, c, 0, v)[1], fmt.number(v, lang, 1), fontsize=6, ha="right",
                        va="center", color="#333333")
        if k + cols >= len(panels):  # the lowest panel of its column
            for x, label in enumerate(short_years):
                ax.text(at(r, c, x, low)[0], y_low - 0.05, label, fontsize=6, ha="center", va="top",
                        color="#333333")
    ax.plot(*zeros, color="#999999", linewidth=0.6)
    ax.plot(*frames, color="#777777", linewidth=0.6)
    for j, (px, py) in enumerate(series_xy):
        ax.plot(px, py, color=LINE_COLOURS[j % len(LINE_COLOURS)], marker=MARKERS[j % len(MARKERS)],
                markersize=2.6, linewidth=1.1)
    ax.set_xlim(-0.6, cols * step_x)
    ax.set_ylim(-(rows - 1) * step_y - 0.25, 1.25)
    handles = [Line2D([], [], color=LINE_COLOURS[j % len(LINE_COLOURS)], marker=MARKERS[j % len(MARKERS)],
                      markersize=3.5, linewidth=1.2) for j in range(len(labels))]
    handles.append(Patch(facecolor="#eeeeee", edgecolor="none"))
    fig.legend(handles, [*labels, words.band], loc="upper left", ncol=2, fontsize=7, frameon=False,
               bbox_to_anchor=(0.01, 1 - 0.32 / height))
    fig.suptitle(words.title, x=0.01, y=1 - 0.08 / height, ha="left", va="top", fontsize=10.5)
    fig.text(0.005, 0.5 - head / height / 2, words.y_label, rotation=90, ha="left", va="center", fontsize=7.5)
    return _png(fig, canvas)
