"""The report's figures kept between reports (bot/figures.py with commands.charts.figure_key): a figure is drawn
again only when what it shows changed, the bytes are the same as drawn, and a cache that fails costs only time."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from bot.figures import FigureCache
from bot.workspace import FIGURES, Monitor
from commands.charts import figure_key, small_multiples, small_multiples_many
from commands.render_report import render_html
from commands.report import build_report

from .conftest import ROOT
from .test_charts import WORDS, panel


def jobs(last: float = 4.0) -> list:
    return [([panel({"": (1.0, 2.0, 3.0, last if k == 2 else float(k))}, title=f"Panel {k}")], WORDS,
             {"title": f"M {k}", "columns": 1, "width": 2.4, "dpi": 60, "small": True}) for k in range(4)]


def test_kept_figures_are_the_drawn_bytes_and_only_a_changed_one_is_drawn_again(tmp_path: Path, monkeypatch) -> None:
    kept = FigureCache(tmp_path / "diagramme")
    drawn_here = [small_multiples(*job[:2], **job[2]) for job in jobs()]
    assert small_multiples_many(jobs(), workers=1, kept=kept) == drawn_here
    assert len(kept.get_many([figure_key(j) for j in jobs()])) == 4

    calls: list[str] = []
    import commands.charts as charts

    real = charts._drawn
    monkeypatch.setattr(charts, "_drawn", lambda job: calls.append(job[2]["title"]) or real(job))
    assert small_multiples_many(jobs(), workers=1, kept=kept) == drawn_here
    assert calls == []  # all four kept
    changed = small_multiples_many(jobs(last=9.0), workers=1, kept=kept)
    assert calls == ["M 2"]  # only the figure whose value changed
    assert changed[:2] == drawn_here[:2] and changed[3] == drawn_here[3] and changed[2] != drawn_here[2]
    assert changed[2] == small_multiples(*jobs(last=9.0)[2][:2], **jobs(last=9.0)[2][2])


def test_the_key_names_content_words_and_layout_and_is_the_same_in_another_process() -> None:
    (base, *_) = jobs()
    panels, words, options = base
    keys = {figure_key(base), figure_key(([panel({"": (1.0, 2.0, 3.0, 0.5)}, title="Panel 0")], words, options)),
            figure_key((panels, WORDS.__class__(**{**WORDS.__dict__, "median": "Median"}), options)),
            figure_key((panels, words, {**options, "dpi": 61})),
            figure_key((panels, words, {**options, "lang": "en"}))}
    assert len(keys) == 5
    other = subprocess.run([sys.executable, "-c", (
        "import json; from tests.test_figures import jobs; from commands.charts import figure_key; "
        "print(json.dumps(figure_key(jobs()[0])))")], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(other.stdout) == figure_key(base)


def test_a_damaged_index_is_moved_aside_and_the_report_is_drawn_without_it(tmp_path: Path) -> None:
    folder = tmp_path / "diagramme"
    kept = FigureCache(folder)
    figures = small_multiples_many(jobs(), workers=1, kept=kept)
    (folder / "cache.db").write_bytes(b"kein SQLite" * 100)
    assert kept.get_many([figure_key(j) for j in jobs()]) == {}
    assert [p.name.startswith("diagramme.beschaedigt-") for p in tmp_path.iterdir()] == [True]
    assert small_multiples_many(jobs(), workers=1, kept=kept) == figures  # drawn again, kept anew
    assert len(kept.get_many([figure_key(j) for j in jobs()])) == 4


def test_a_kept_value_that_is_no_whole_png_is_drawn_again(tmp_path: Path) -> None:
    from diskcache import Cache

    kept = FigureCache(tmp_path / "diagramme")
    figures = small_multiples_many(jobs(), workers=1, kept=kept)
    key = figure_key(jobs()[1])
    with Cache(str(tmp_path / "diagramme")) as cache:
        cache.set(key, figures[1][:-30])
    assert key not in kept.get_many([key])
    assert small_multiples_many(jobs(), workers=1, kept=kept) == figures


def test_a_report_again_is_byte_identical_and_needs_no_matplotlib(demo_workspace: Path) -> None:
    monitor = Monitor.open(demo_workspace, env={})
    try:
        state = monitor.state
        report = build_report(state, date(2026, 11, 26))
        first = render_html(report, kept=state.figures)
        assert render_html(report) == first
    finally:
        monitor.close()
    assert any((demo_workspace / "daten" / FIGURES).iterdir())
    found = subprocess.run([sys.executable, "-c", f"""
import json, sys
from datetime import date
from pathlib import Path
from bot.workspace import Monitor
from commands.render_report import _figures
from commands.report import build_report
monitor = Monitor.open(Path({str(demo_workspace)!r}), env={{}})
state = monitor.state
figures = _figures(build_report(state, date(2026, 11, 26)), state.figures)
print(json.dumps({{"figures": len(figures), "matplotlib": "matplotlib" in sys.modules}}))
monitor.close()
"""], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(found.stdout.splitlines()[-1]) == {"figures": found_figures(demo_workspace), "matplotlib": False}


def found_figures(workspace: Path) -> int:
    monitor = Monitor.open(workspace, env={})
    try:
        from commands.render_report import _figures

        state = monitor.state
        return len(_figures(build_report(state, date(2026, 11, 26)), state.figures))
    finally:
        monitor.close()
