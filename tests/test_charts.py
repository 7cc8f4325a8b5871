"""Charts: real PNGs of the promised size, axes from 0, a real time axis with gaps, full titles, German numbers,
a colour-blind-safe palette with direct labels, and matplotlib imported only when a chart is drawn."""

from __future__ import annotations

import io
import itertools
import multiprocessing
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from PIL import Image

from commands import charts
from commands.charts import (
    DIRECT_LABELS,
    MAX_LINES,
    PALETTE,
    ChartWords,
    DrawingAhead,
    Line,
    Panel,
    axis_range,
    chart_workers,
    drawing_ahead,
    line_chart,
    line_figure,
    number_formatter,
    small_multiples,
    small_multiples_figure,
    small_multiples_many,
)

WORDS = ChartWords("in {unit}", "{unit}", "Spannweite der {n} Gebiete", "Median der Gebiete", "keine Werte",
                   "Unterbrochene Linie: kein Wert geliefert.", "{n}. Qu.", "{n}. Hj.")
YEARS = tuple(str(y) for y in range(2015, 2019))
LONG_TITLE = ("Beispiel: Fertiggestellte Wohnungen in Wohn- und Nichtwohngebäuden einschließlich Baumaßnahmen an "
              "bestehenden Gebäuden")


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG signature and IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def panel(values_by_area: dict[str, tuple[float | None, ...]], unit: str = "Anzahl", periods: tuple[str, ...] = YEARS,
          title: str = "Beispiel: Neu gebaute Sozialwohnungen") -> Panel:
    lines = tuple(Line(area or "Gesamtstadt", vals, emphasis=not area) for area, vals in values_by_area.items())
    return Panel(title, unit, periods, lines)


def drawn(fig):
    FigureCanvasAgg(fig).draw()
    return fig


def data_lines(ax) -> list:
    """The plotted series (not grid or zero lines): lines with markers."""
    return [line for line in ax.get_lines() if line.get_marker() not in (None, "None", "", "|")]


def test_line_chart_is_a_png_at_least_1200_px_wide_with_drawn_lines() -> None:
    data = line_chart(panel({"": (1200.0, 1350.5, None, 1800.0), "Mitte": (300.0, 310.0, 320.0, 330.0)}), WORDS)
    assert png_size(data) == (1200, 675)
    image = Image.open(io.BytesIO(data))
    image.load()
    # Something was drawn: the black whole-city line leaves many near-black pixels on the white canvas.
    histogram = image.convert("L").histogram()
    assert sum(histogram[:60]) > 1000


def test_counts_start_at_zero_so_388_to_501_does_not_look_like_tripling() -> None:
    fig = drawn(line_figure(panel({"": (412.0, 388.0, 455.0, 501.0)}), WORDS))
    low, high = fig.axes[0].get_ylim()
    assert low == 0 and 501 <= high <= 700
    assert axis_range([388.0, 501.0], "Anzahl")[0] == 0
    assert axis_range([3.1, 7.5], "ha")[0] == 0  # stocks too


def test_percentages_run_from_0_to_100_and_negative_values_widen_the_axis() -> None:
    fig = drawn(line_figure(panel({"": (5.0, 6.5, 7.0, 8.0)}, unit="%"), WORDS))
    assert fig.axes[0].get_ylim() == (0.0, 100.0)
    assert fig.axes[0].get_ylabel() == "in %"
    assert axis_range([-3.0, 12.0], "Anzahl")[0] <= -3.0
    assert axis_range([-5.0, 120.0], "%") [0] <= -5.0 and axis_range([-5.0, 120.0], "%")[1] >= 120


def test_periods_sit_on_a_real_time_axis_and_a_gap_breaks_the_line() -> None:
    # 2024 is missing from the whole series: the distance 2023 -> 2025 is twice 2022 -> 2023 and no line crosses it.
    fig = drawn(line_figure(panel({"": (412.0, 388.0, 501.0)}, periods=("2022", "2023", "2025")), WORDS))
    ax = fig.axes[0]
    runs = data_lines(ax)
    xs = sorted(x for line in runs for x in line.get_xdata())
    assert len(xs) == 3
    assert (xs[2] - xs[1]) == pytest.approx(2 * (xs[1] - xs[0]), rel=0.01)
    assert sorted(len(line.get_xdata()) for line in runs) == [1, 2]
    assert fig._supxlabel is not None and fig._supxlabel.get_text() == WORDS.gap
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2022", "2023", "2025"]


def test_a_missing_value_of_one_area_interrupts_only_its_line() -> None:
    values = {"": (10.0, 11.0, 12.0, 13.0), "Mitte": (3.0, None, 4.0, 5.0)}
    fig = drawn(line_figure(panel(values), WORDS))
    lengths = sorted(len(line.get_xdata()) for line in data_lines(fig.axes[0]))
    assert lengths == [1, 2, 4]  # Mitte: 2015 alone, 2017–2018; the whole city unbroken
    complete = drawn(line_figure(panel({"": (10.0, 11.0, 12.0, 13.0)}), WORDS))
    assert complete._supxlabel is None  # no footnote without a gap


def test_quarters_are_spaced_by_time_and_named_in_german() -> None:
    periods = ("2025-Q1", "2025-Q2", "2025-Q4", "2026-Q1")
    fig = drawn(line_figure(panel({"": (20.0, 23.0, 29.0, 32.0)}, periods=periods), WORDS))
    ax = fig.axes[0]
    xs = sorted(x for line in data_lines(ax) for x in line.get_xdata())
    steps = [b - a for a, b in itertools.pairwise(xs)]
    assert steps[1] == pytest.approx(2 * steps[0], rel=0.05) and steps[2] == pytest.approx(steps[0], rel=0.05)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["1. Qu.\n2025", "2. Qu.\n2025", "4. Qu.\n2025",
                                                          "1. Qu.\n2026"]


def test_axis_numbers_are_german_and_the_unit_is_on_the_axis() -> None:
    assert number_formatter("de")(1234.5, 0) == "1.234,5"
    assert number_formatter("en")(1234.5, 0) == "1,234.5"
    fig = drawn(line_figure(panel({"": (1000.0, 2500.0, 4000.0, 5500.0)}), WORDS))
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert "2.000" in labels and "0" in labels, labels
    assert ax.get_ylabel() == "Anzahl"
    ha = drawn(line_figure(panel({"": (0.3, 0.6, 0.9, 1.2)}, unit="ha"), WORDS))
    assert ha.axes[0].get_ylabel() == "in ha"
    assert any("," in t.get_text() for t in ha.axes[0].get_yticklabels())  # 0,5 not 0.5


def test_a_long_title_is_wrapped_whole_and_stays_inside_the_image() -> None:
    for fig in (line_figure(panel({"": (1.0, 2.0, 3.0, 4.0)}, title=LONG_TITLE), WORDS),
                small_multiples_figure([panel({"": (1.0, 2.0, 3.0, 4.0)}, title=LONG_TITLE)] * 3, WORDS,
                                       columns=3, width=7.0, dpi=100, small=True)):
        drawn(fig)
        width = fig.bbox.width
        for ax in fig.axes:
            text = ax.get_title(loc="left")
            assert " ".join(text.split()) == LONG_TITLE  # nothing cut, no ellipsis
            assert "\n" in text
            box = ax._left_title.get_window_extent()
            assert box.x0 >= 0 and box.x1 <= width + 1
        # Titles of neighbouring panels do not run into each other.
        boxes = sorted((ax._left_title.get_window_extent() for ax in fig.axes), key=lambda b: b.x0)
        for left, right in itertools.pairwise(boxes):
            if abs(left.y0 - right.y0) < 5:
                assert left.x1 <= right.x0 + 1


def test_few_lines_are_named_at_their_end_in_colour_blind_safe_colours() -> None:
    values = {"": (10.0, 11.0, 12.0, 13.0), **{f"Gebiet {k}": (1.0 + k, 2.0, 3.0, 4.0 + k) for k in range(3)}}
    fig = drawn(line_figure(panel(values), WORDS))
    ax = fig.axes[0]
    assert ax.get_legend() is None
    names = {t.get_text() for t in ax.texts}
    assert names == {"Gesamtstadt", "Gebiet 0", "Gebiet 1", "Gebiet 2"}
    colours = {to_hex(line.get_color()) for line in data_lines(ax)}
    assert colours <= {c.lower() for c in PALETTE} | {"#000000"}
    assert "#000000" in colours  # the whole city
    # The names do not overlap each other.
    boxes = sorted((t.get_window_extent() for t in ax.texts), key=lambda b: b.y0)
    assert all(a.y1 <= b.y0 + 0.5 for a, b in itertools.pairwise(boxes))


def test_close_lines_get_their_names_pushed_apart() -> None:
    values = {"": (10.0, 10.0, 10.0, 10.0), "A": (10.0, 10.0, 10.0, 10.1), "B": (10.0, 10.0, 10.0, 9.9)}
    fig = drawn(line_figure(panel(values), WORDS))
    boxes = sorted((t.get_window_extent() for t in fig.axes[0].texts), key=lambda b: b.y0)
    assert len(boxes) == 3 and all(a.y1 <= b.y0 + 0.5 for a, b in itertools.pairwise(boxes))


def test_more_lines_get_a_legend_and_beyond_the_limit_a_band() -> None:
    some = {"": (1.0, 2.0, 3.0, 4.0), **{f"Gebiet {k}": (1.0, 2.0, 3.0, float(k)) for k in range(DIRECT_LABELS)}}
    fig = drawn(line_figure(panel(some), WORDS))
    legend = fig.axes[0].get_legend()
    assert legend is not None and len(legend.get_texts()) == DIRECT_LABELS + 1
    many = {"": (1.0, 2.0, 3.0, 4.0), **{f"Gebiet {k}": (1.0, 2.0, 3.0, float(k)) for k in range(MAX_LINES + 5)}}
    fig = drawn(line_figure(panel(many), WORDS))
    names = {t.get_text() for t in fig.axes[0].texts}
    assert names == {f"Spannweite der {MAX_LINES + 5} Gebiete", "Median der Gebiete", "Gesamtstadt"}
    assert fig.axes[0].collections  # the band


def test_empty_panel_says_so_instead_of_an_empty_axis() -> None:
    fig = line_figure(panel({"": (None, None, None, None)}), WORDS)
    assert not fig.axes[0].axison
    assert [t.get_text() for t in fig.axes[0].texts] == ["keine Werte"]


def test_small_multiples_are_1200_px_wide_for_chat_and_sized_for_print() -> None:
    panels = [panel({"": (1.0, 2.0, 3.0, float(k))}) for k in range(4)]
    chat = small_multiples(panels, WORDS, title="M 21 – Indikatoren")
    width, height = png_size(chat)
    assert width == 1200 and height > 2 * 2.6 * 150 * 0.9
    printed = small_multiples(panels, WORDS, title="M 21 – Indikatoren", columns=3, width=7.0, dpi=200, small=True)
    assert png_size(printed)[0] == 1400
    Image.open(io.BytesIO(printed)).verify()


def test_tick_labels_of_a_small_panel_never_overlap() -> None:
    periods = tuple(f"{y}-Q{q}" for y in (2024, 2025, 2026) for q in (1, 2, 3, 4))
    fig = drawn(small_multiples_figure([panel({"": tuple(float(k) for k in range(12))}, periods=periods)] * 3,
                                       WORDS, columns=3, width=7.0, dpi=100, small=True))
    for ax in fig.axes:
        boxes = sorted((t.get_window_extent() for t in ax.get_xticklabels() if t.get_text()), key=lambda b: b.x0)
        assert boxes
        assert all(a.x1 <= b.x0 for a, b in itertools.pairwise(boxes))


def test_charts_from_two_threads_at_once() -> None:
    """The bot renders charts off the event loop: figures without pyplot share no global state."""
    results: list[bytes] = []
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(3):
                results.append(line_chart(panel({"": (1.0, 2.0, 3.0, 4.0)}), WORDS, dpi=40))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(results) == 6 and all(png_size(r) == (320, 180) for r in results)


@pytest.mark.slow
def test_matplotlib_and_weasyprint_load_only_when_drawing_and_never_pyplot() -> None:
    code = (
        "import sys\n"
        "import commands, commands.report, commands.render_report, commands.charts\n"
        "before = [m for m in ('matplotlib', 'weasyprint', 'jinja2') if m in sys.modules]\n"
        "from commands.charts import ChartWords, Line, Panel, line_chart\n"
        "w = ChartWords('in {unit}', '{unit}', 'b {n}', 'm', 'n', 'g')\n"
        "line_chart(Panel('t', 'u', ('2018',), (Line('a', (1.0,)),)), w)\n"
        "import matplotlib\n"
        "print(','.join(before) or '-', matplotlib.get_backend().lower(), 'matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["-", "agg", "False"]


def test_many_figures_drawn_by_worker_processes_are_the_same_pngs_in_the_same_order() -> None:
    jobs = [([panel({"": (1.0, 2.0, 3.0, float(k))}, title=f"Panel {k}"), panel({"A": (2.0, None, 1.0, 4.0)})],
             WORDS, {"title": f"M {k}", "columns": 2, "width": 4.6, "dpi": 60, "small": True}) for k in range(5)]
    alone = [small_multiples(panels, words, **options) for panels, words, options in jobs]
    assert small_multiples_many(jobs, workers=2) == alone
    assert len(set(alone)) == len(alone)  # five different figures: the order is checked, not five copies


def many_jobs(n: int = 5) -> list:
    return [([panel({"": (1.0, 2.0, 3.0, float(k))}, title=f"Panel {k}"), panel({"A": (2.0, None, 1.0, 4.0)})],
             WORDS, {"title": f"M {k}", "columns": 2, "width": 4.6, "dpi": 60, "small": True}) for k in range(n)]


def drawing_process() -> multiprocessing.Process | None:
    return next((p for p in multiprocessing.active_children() if p.name == "sozialmonitor-diagramme"), None)


def refuse_to_draw_here(monkeypatch) -> None:
    """From now on a figure drawn in this process fails the test (the drawing process was forked before)."""
    def here(job):
        raise AssertionError("drawn in the calling process")
    monkeypatch.setattr(charts, "_drawn", here)


def test_figures_drawn_ahead_are_the_pngs_drawn_here_in_order_and_drawn_by_the_other_process(monkeypatch) -> None:
    jobs = many_jobs()
    alone = [small_multiples(panels, words, **options) for panels, words, options in jobs]
    ahead = DrawingAhead(warm=jobs[:1])
    try:
        refuse_to_draw_here(monkeypatch)
        assert small_multiples_many(jobs, ahead=ahead) == alone
    finally:
        ahead.close()
    assert drawing_process() is None


def group_members(group: int) -> list[int]:
    """The processes of a process group (Linux: field 5 of /proc/PID/stat)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        if fields[0] != "Z" and int(fields[2]) == group:
            members.append(int(stat.parent.name))
    return members


def test_a_drawing_process_that_ended_leaves_the_figures_to_the_caller_and_no_helper_behind() -> None:
    jobs = many_jobs()
    alone = [small_multiples(panels, words, **options) for panels, words, options in jobs]
    ahead = DrawingAhead()
    process = drawing_process()
    assert process is not None and process.pid is not None
    deadline = time.monotonic() + 60
    while len(group_members(process.pid)) < 2:  # warmed up, its helper forked
        assert time.monotonic() < deadline, "the drawing process forked no helper"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)  # as the kernel does when memory runs out
    try:
        assert small_multiples_many(jobs, ahead=ahead) == alone
    finally:
        ahead.close()
    deadline = time.monotonic() + 10
    while group_members(process.pid):  # the helper, orphaned and waiting, is gone as well (killed, then reaped)
        assert time.monotonic() < deadline, f"left behind: {group_members(process.pid)}"
        time.sleep(0.05)


def test_a_killed_caller_leaves_no_drawing_process_behind(tmp_path: Path) -> None:
    code = ("import os, signal\n"
            "from commands.charts import DrawingAhead\n"
            "import multiprocessing\n"
            "ahead = DrawingAhead()\n"
            "print(multiprocessing.active_children()[0].pid, flush=True)\n"
            "os.kill(os.getpid(), signal.SIGKILL)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == -signal.SIGKILL
    group = int(out.stdout.split()[0])
    deadline = time.monotonic() + 60
    while group_members(group):  # it warms up, finds the caller gone and ends, with its helper
        assert time.monotonic() < deadline, f"left behind: {group_members(group)}"
        time.sleep(0.1)


def test_ctrl_c_is_left_to_the_caller_and_close_ends_the_drawing_process_at_once(monkeypatch) -> None:
    jobs = many_jobs(4)
    alone = [small_multiples(panels, words, **options) for panels, words, options in jobs]
    ahead = DrawingAhead()
    try:
        process = drawing_process()
        assert process is not None
        os.kill(process.pid, signal.SIGINT)  # what a terminal sends the whole process group on Ctrl-C
        refuse_to_draw_here(monkeypatch)
        assert ahead.draw(jobs) == alone
    finally:
        ahead.close()
    unused = DrawingAhead()  # closed while it still imports and warms up
    unused.close()
    assert drawing_process() is None


def test_figures_are_drawn_here_while_another_thread_runs_or_when_few() -> None:
    # A forked child keeps only the forking thread: a lock another thread held would never be released there.
    assert chart_workers(2) == 1
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert chart_workers(50) == 1
        assert drawing_ahead() is None
    finally:
        stop.set()
        other.join()


def test_print_panels_keep_their_texts_inside_the_image_and_apart_from_the_neighbours() -> None:
    quarters = tuple(f"{y}-Q{q}" for y in (2016, 2017, 2018) for q in (1, 2, 3, 4))
    band = panel({f"Gebiet {k}": tuple(100.0 * k + p for p in range(12)) for k in range(MAX_LINES + 5)},
                 periods=quarters, title="Beispiel: Arbeitslosigkeit, Anteil an den 15- bis unter 65-Jährigen")
    legend = panel({"": (1.0, 2.0, 3.0, 4.0), **{f"Stadtteil {k}": (1.0, 2.0, 3.0, float(k)) for k in range(6)}},
                   unit="%")
    named = panel({"": (1000.0, 2000.0, 1500.0, 2500.0), "Mitte": (10.0, 20.0, 30.0, 40.0)})
    for panels in ([band, named, named], [legend, band], [named]):
        fig = drawn(small_multiples_figure(panels, WORDS, title="M 33 – Indikatoren", columns=len(panels),
                                           width=7.0 * max(2, len(panels)) / 3, panel_height=1.65, dpi=100,
                                           small=True))
        renderer = fig.canvas.get_renderer()
        width, height = fig.bbox.width, fig.bbox.height
        boxes = []
        for k, ax in enumerate(fig.axes):
            texts = [ax._left_title, ax.yaxis.label, *ax.get_yticklabels(), *ax.get_xticklabels(), *ax.texts]
            if ax.get_legend() is not None:
                texts.append(ax.get_legend())
            for text in texts:
                if hasattr(text, "get_text") and not text.get_text():
                    continue
                box = text.get_window_extent(renderer)
                assert box.x0 >= -1 and box.x1 <= width + 1 and box.y0 >= -1 and box.y1 <= height + 1, text
                boxes.append((k, box))
        for (k, a), (j, b) in itertools.combinations(boxes, 2):
            if k != j:
                assert not a.overlaps(b), (k, j)


def test_a_print_figure_drawn_into_again_keeps_nothing_of_the_figure_before() -> None:
    options = {"title": "M 21", "columns": 3, "width": 7.0, "dpi": 60, "small": True}
    few = [panel({"": (1.0, 2.0, 3.0, 4.0)}), panel({"": (5.0, None, 7.0, 8.0)}, unit="%"),
           panel({"": (1.0, 1.0, 2.0, 2.0), "Mitte": (0.5, 0.6, 0.7, 0.8)})]
    other = [panel({f"Gebiet {k}": (1.0 * k, 2.0, 3.0, 4.0) for k in range(MAX_LINES + 2)}, title=LONG_TITLE),
             panel({"": (None, None, None, None)}),
             panel({"": (1.0, 2.0, 3.0, 4.0), **{f"Stadtteil {k}": (1.0, 2.0, 3.0, float(k)) for k in range(6)}})]
    first = small_multiples(few, WORDS, **options)
    between = small_multiples(other, WORDS, **{**options, "title": ""})
    assert small_multiples(few, WORDS, **options) == first != between
    fresh = FigureCanvasAgg(small_multiples_figure(few, WORDS, **options))
    fresh.draw()
    # The same picture as a figure of its own, pixel for pixel.
    assert Image.open(io.BytesIO(first)).tobytes() == Image.frombuffer(
        "RGBA", fresh.get_width_height(), fresh.buffer_rgba(), "raw", "RGBA", 0, 1).convert("RGB").tobytes()
