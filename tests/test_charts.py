"""Charts: real PNGs of the promised size, German axis numbers, bands for many areas, no pyplot."""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import threading

import pytest
from PIL import Image

from commands.charts import (
    MAX_LINES,
    ChartWords,
    Line,
    Panel,
    line_chart,
    line_figure,
    number_formatter,
    small_multiples,
)

WORDS = ChartWords("Zeitraum", "Wert ({unit})", "Spannweite der {n} Gebiete", "Median der Gebiete", "keine Werte")
YEARS = tuple(str(y) for y in range(2015, 2019))


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the PNG signature and IHDR chunk."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def panel(values_by_area: dict[str, tuple[float | None, ...]], unit: str = "Anzahl") -> Panel:
    lines = tuple(Line(area or "Gesamtstadt", vals, emphasis=not area) for area, vals in values_by_area.items())
    return Panel("Beispiel: Neu gebaute Sozialwohnungen", unit, YEARS, lines)


def test_line_chart_is_a_png_of_the_promised_size_with_drawn_lines() -> None:
    data = line_chart(panel({"": (1200.0, 1350.5, None, 1800.0), "Mitte": (300.0, 310.0, 320.0, 330.0)}), WORDS)
    assert png_size(data) == (800, 450)
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.size == (800, 450)
    # Something was drawn: the dark whole-city line leaves many near-black pixels on the white canvas.
    histogram = image.convert("L").histogram()
    assert sum(histogram[:60]) > 500


def test_axis_numbers_are_german() -> None:
    assert number_formatter("de")(1234.5, 0) == "1.234,5"
    assert number_formatter("en")(1234.5, 0) == "1,234.5"
    fig = line_figure(panel({"": (1000.0, 2500.0, 4000.0, 5500.0)}), WORDS)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig).draw()
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert any("." in label for label in labels), labels  # thousands dot: 2.000, 4.000 …
    assert all("," not in label or label.split(",")[1].isdigit() for label in labels)
    assert ax.get_ylabel() == "Wert (Anzahl)"
    assert ax.get_xlabel() == "Zeitraum"
    assert [t.get_text() for t in ax.get_xticklabels()] == list(YEARS)


def test_one_line_per_area_and_a_band_beyond_the_limit() -> None:
    few = {"": (1.0, 2.0, 3.0, 4.0), **{f"Gebiet {k}": (1.0, 2.0, 3.0, float(k)) for k in range(3)}}
    fig = line_figure(panel(few), WORDS)
    assert len(fig.axes[0].get_lines()) == 4
    many = {"": (1.0, 2.0, 3.0, 4.0), **{f"Gebiet {k}": (1.0, 2.0, 3.0, float(k)) for k in range(MAX_LINES + 5)}}
    fig = line_figure(panel(many), WORDS)
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels == [f"Spannweite der {MAX_LINES + 5} Gebiete", "Median der Gebiete", "Gesamtstadt"]


def test_empty_panel_says_so_instead_of_an_empty_axis() -> None:
    fig = line_figure(panel({"": (None, None, None, None)}), WORDS)
    assert not fig.axes[0].axison
    assert [t.get_text() for t in fig.axes[0].texts] == ["keine Werte"]


def test_small_multiples_size_follows_the_grid() -> None:
    panels = [panel({"": (1.0, 2.0, 3.0, float(k))}) for k in range(4)]
    data = small_multiples(panels, WORDS, title="M 21 – Indikatoren", columns=3, panel_width=3.0, dpi=50)
    width, height = png_size(data)
    assert width == 3 * 3.0 * 50
    assert height > 2 * 2.4 * 50  # two rows of panels plus the title
    Image.open(io.BytesIO(data)).verify()


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
def test_charts_never_import_pyplot_and_use_agg() -> None:
    code = (
        "import sys\n"
        "from commands.charts import ChartWords, Line, Panel, line_chart\n"
        "import matplotlib\n"
        "w = ChartWords('x', 'y ({unit})', 'b {n}', 'm', 'n')\n"
        "line_chart(Panel('t', 'u', ('2018',), (Line('a', (1.0,)),)), w)\n"
        "print(matplotlib.get_backend().lower(), 'matplotlib.pyplot' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.split() == ["agg", "False"]
