"""Charts of the social index: the status × dynamics matrix and per-district small multiples; PNG bytes.

Colour-blind safe: the matrix cells use one sequential palette (ColorBrewer YlOrBr: only lightness changes, which
every kind of colour vision sees), the lines the Okabe–Ito palette with a distinct marker per indicator.
matplotlib (Agg, no pyplot) is imported only when a chart is drawn: chat answers without a chart never pay for it.
"""

from __future__ import annotations

import io
import math
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
# The matrix is drawn at the size it is printed (the 178 mm text width of A4), so these are the printed sizes.
MATRIX_WIDTH = 7.0  # inches
NAME_PT, COUNT_PT, LABEL_PT, AXIS_PT, TITLE_PT, NOTE_PT = 8.0, 8.5, 8.5, 8.5, 9.5, 8.0
LINE_SPACING = 1.22  # a line of names is this many times its type size
DARK_FROM = 5  # shades from here on carry white type: on the lighter ones black has the better contrast


def ink(shade: int | None) -> str:
    """The type colour on a cell of that shade (WCAG contrast above 4.5:1 on every one of them)."""
    return "white" if shade is not None and shade >= DARK_FROM else "#111111"


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


MAX_CELL_LINES = 10  # beyond this many lines of names a cell says how many more there are (the table has all)
SHARES = tuple(k / 40 for k in range(8, 21))  # a column's share of the matrix width: 20 % … 50 %


def _text_width(text: str, size: float, bold: bool = False) -> float:
    """The printed width of `text` in points (matplotlib's own font metrics, without drawing)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop = FontProperties(size=size, weight="bold" if bold else "normal")
    return TextToPath().get_text_width_height_descent(text, prop, ismath=False)[0]


def _fill(pieces: Sequence[str], widths: Sequence[float], space: float, first: float,
          rest: float) -> list[tuple[str, int]]:
    """Pieces (of the given widths in points) joined by spaces into lines no wider than `first` (the first line)
    and `rest` (the others), a piece never split; each line with the number of pieces it holds."""
    lines: list[tuple[str, int]] = []
    current, count, used = "", 0, 0.0
    for piece, w in zip(pieces, widths, strict=True):
        if current and used + space + w > (rest if lines else first):
            lines.append((current, count))
            current, count, used = "", 0, 0.0
        current, used = (f"{current} {piece}", used + space + w) if current else (piece, w)
        count += 1
    if current:
        lines.append((current, count))
    return lines


class _Names:
    """The names of the cells with their printed widths, measured once: the matrix tries many column widths."""

    def __init__(self, cells: Mapping[tuple[int, int], Sequence[str]], words: MatrixWords) -> None:
        self.words = words
        self.pieces = {key: [n + ("," if k < len(names) - 1 else "") for k, n in enumerate(names)]
                       for key, names in cells.items() if names}
        # Kerning across a piece boundary is ignored: 2 % room makes up for it.
        self.widths = {key: [_text_width(p, NAME_PT) * 1.02 for p in pieces] for key, pieces in self.pieces.items()}
        self.space = _text_width("a a", NAME_PT) - _text_width("aa", NAME_PT)

    def lines(self, key: tuple[int, int], first: float, rest: float) -> list[str]:
        """The cell's names wrapped; at most MAX_CELL_LINES lines, the last then saying how many are left out."""
        if key not in self.pieces:
            return []
        lines = _fill(self.pieces[key], self.widths[key], self.space, first, rest)
        if len(lines) <= MAX_CELL_LINES:
            return [text for text, _ in lines]
        kept = lines[: MAX_CELL_LINES - 1]
        shown = sum(n for _, n in kept)
        return [*(text for text, _ in kept), self.words.more.format(n=len(self.pieces[key]) - shown)]


def _columns(names: _Names, total: float, pad: float, count_w: float) -> tuple[float, float, float]:
    """The widths (inches) of the three dynamics columns that make the matrix lowest: most districts are
    "stabil", so that column usually gets more room; among equally low layouts the most even one."""
    best: tuple[tuple[int, float], tuple[float, float, float]] | None = None
    for a in SHARES:
        for c in SHARES:
            b = 1 - a - c
            if b < SHARES[0] - 1e-9:
                continue
            widths = (a * total, b * total, c * total)
            lines = 0
            for s in range(1, 5):
                most = 1
                for d in range(3):
                    room = (widths[d] - 2 * pad) * 72
                    most = max(most, len(names.lines((s, d + 1), room - count_w, room)))
                lines += most
            score = (lines, max(abs(x - 1 / 3) for x in (a, b, c)))
            if best is None or score < best[0]:
                best = (score, widths)
    assert best is not None
    return best[1]


def matrix_chart(cells: Mapping[tuple[int, int], Sequence[str]], words: MatrixWords, *,
                 unrated: Sequence[str] = (), status_only: Sequence[str] = (), width: float = MATRIX_WIDTH,
                 dpi: int = 200) -> bytes:
    """The districts in the 4 × 3 overlay of status (rows, group 1 "hoch" at the top, as the MSS draws it) and
    dynamics (columns: positiv, stabil, negativ). `cells` maps (status group, dynamics group) to area names.

    Drawn `width` inches wide at its printed size: every name in full at NAME_PT, each row as high as its
    fullest cell needs, each column as wide as keeps the matrix lowest, the number of districts in the corner.
    """
    figure_class, canvas = _agg()
    from matplotlib.patches import Rectangle

    pt = 1 / 72  # inches per point
    pad = 4 * pt
    line = NAME_PT * LINE_SPACING * pt
    title_h = (TITLE_PT * 1.6 * pt) if words.title else 0.0
    head = title_h + (AXIS_PT + LABEL_PT) * 1.45 * pt + 0.05
    axis_w = AXIS_PT * 1.6 * pt
    label_w = max(_text_width(label, LABEL_PT) for label in words.status_labels) * pt + 2 * pad
    left = axis_w + label_w
    count_w = _text_width("000", COUNT_PT, bold=True) + 4
    names = _Names(cells, words)
    col_w = _columns(names, width - left - 0.02, pad, count_w)
    col_x = [left + sum(col_w[:d]) for d in range(3)]

    text: dict[tuple[int, int], list[str]] = {}
    heights = []
    for s in range(4):
        most = 1
        for d in range(3):
            room = (col_w[d] - 2 * pad) / pt
            text[s, d] = names.lines((s + 1, d + 1), room - count_w, room)
            most = max(most, len(text[s, d]))
        heights.append(2 * pad + most * line + 2 * pt)
    notes = [words.unrated.format(names=", ".join(unrated))] if unrated else []
    if status_only:
        notes.append(words.status_only.format(names=", ".join(status_only)))
    note_lines = []
    for note in notes:
        pieces = note.split()
        note_lines += [t for t, _ in _fill(pieces, [_text_width(p, NOTE_PT) * 1.02 for p in pieces],
                                           _text_width("a a", NOTE_PT) - _text_width("aa", NOTE_PT),
                                           width / pt - 8, width / pt - 8)]
    foot = (len(note_lines) * NOTE_PT * LINE_SPACING * pt + 0.08) if note_lines else 0.02
    height = head + sum(heights) + foot

    fig = figure_class(figsize=(width, height), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(height, 0)  # inches from the top left corner, as one reads
    ax.set_axis_off()
    if words.title:
        ax.text(0.01, TITLE_PT * 0.2 * pt, words.title, ha="left", va="top", fontsize=TITLE_PT, fontweight="bold")
    ax.text(left + (width - left) / 2, title_h + 0.02, words.dynamics_axis, ha="center", va="top", fontsize=AXIS_PT)
    tops = [head + sum(heights[:s]) for s in range(4)]
    ax.text(axis_w * 0.35, head + sum(heights) / 2, words.status_axis, rotation=90, ha="center", va="center",
            fontsize=AXIS_PT)
    for d, label in enumerate(words.dynamics_labels):
        ax.text(col_x[d] + col_w[d] / 2, head - 0.03, label, ha="center", va="bottom", fontsize=LABEL_PT)
    for s in range(4):
        y0 = tops[s]
        ax.text(left - pad, y0 + heights[s] / 2, words.status_labels[s], ha="right", va="center", fontsize=LABEL_PT)
        for d in range(3):
            shade = s + d
            x0, cell_w = col_x[d], col_w[d]
            ax.add_patch(Rectangle((x0, y0), cell_w, heights[s], facecolor=CELL_COLOURS[shade], edgecolor="white",
                                   linewidth=2))
            colour = ink(shade)
            n = len(cells.get((s + 1, d + 1), ()))
            ax.text(x0 + cell_w - pad, y0 + pad, words.count.format(n=n), ha="right", va="top", fontsize=COUNT_PT,
                    fontweight="bold", color=colour)
            for k, row in enumerate(text[s, d]):
                ax.text(x0 + pad, y0 + pad + k * line, row, ha="left", va="top", fontsize=NAME_PT, color=colour)
    for k, row in enumerate(note_lines):
        ax.text(0.01, head + sum(heights) + 0.06 + k * NOTE_PT * LINE_SPACING * pt, row, ha="left", va="top",
                fontsize=NOTE_PT, color="#333333")
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
    from matplotlib.artist import Artist
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch, Rectangle

    n = max(1, len(panels))
    cols = min(columns, n)
    rows = math.ceil(n / cols)
    # Two legend columns need the width of five panels: the indicator names are long.
    legend_columns = 2 if cols >= 5 else 1
    legend_rows = math.ceil((len(labels) + 1) / legend_columns)
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
        ax.text(x0, y_high + 0.06, fmt.short(panel.title, 30), fontsize=7, ha="left", va="bottom",
                color=ink(panel.shade),
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
    for j, (xs, ys) in enumerate(series_xy):
        ax.plot(xs, ys, color=LINE_COLOURS[j % len(LINE_COLOURS)], marker=MARKERS[j % len(MARKERS)],
                markersize=2.6, linewidth=1.1)
    ax.set_xlim(-0.6, cols * step_x)
    ax.set_ylim(-(rows - 1) * step_y - 0.25, 1.25)
    handles: list[Artist] = [
        Line2D([], [], color=LINE_COLOURS[j % len(LINE_COLOURS)], marker=MARKERS[j % len(MARKERS)], markersize=3.5,
               linewidth=1.2) for j in range(len(labels))]
    handles.append(Patch(facecolor="#eeeeee", edgecolor="none"))
    fig.legend(handles, [*labels, words.band], loc="upper left", ncol=legend_columns, fontsize=7, frameon=False,
               bbox_to_anchor=(0.01, 1 - 0.32 / height))
    fig.suptitle(words.title, x=0.01, y=1 - 0.08 / height, ha="left", va="top", fontsize=10.5)
    fig.text(0.005, 0.5 - head / height / 2, words.y_label, rotation=90, ha="left", va="center", fontsize=7.5)
    return _png(fig, canvas)
