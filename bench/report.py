"""Report benchmark: build and render the committee report at 14 measures × 20 indicators × 30 areas × 40 periods.

The store is built synthetically through Store.add_delivery (one delivery per indicator) in a temp workspace.
Baselines measured in the same run: reading every current value once as Observation records
(Store.observations for all indicators) and the report of a freshly initialised workspace (the document's size).
The report itself reads through Store.series (plain tuples), shown beside it.
Usage: python bench/report.py [--measures 14] [--indicators 20] [--areas 30] [--periods 40] [--reps 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tabulate import tabulate  # noqa: E402

from bot.workspace import Monitor, create_workspace  # noqa: E402
from commands import Caller, dispatch  # noqa: E402
from commands.render_report import render_html, render_markdown, render_xlsx  # noqa: E402
from commands.report import build_report  # noqa: E402
from storage.catalogue import render_catalogue  # noqa: E402
from storage.models import Indicator, Office  # noqa: E402
from storage.seed import MEASURES  # noqa: E402
from storage.store import Store  # noqa: E402

TODAY = date(2019, 3, 15)
OFFICES = [Office(f"Amt {n}", f"Bench: Amt {n}") for n in (10, 12, 40, 50, 61)]


def quarters(n: int, last_year: int = 2018) -> list[str]:
    keys = [f"{y}-Q{q}" for y in range(last_year - n // 4 - 1, last_year + 1) for q in (1, 2, 3, 4)]
    return keys[-n:]


def build(workspace: Path, measures: int, per_measure: int, areas: int, periods: int) -> int:
    create_workspace(workspace, today=TODAY)
    indicators = [
        Indicator(f"{mid}-i{k:02d}", mid, f"Bench: Indikator {k} von {mid}", "%" if k % 3 == 0 else "Anzahl",
                  "vierteljährlich", 45, OFFICES[(j + k) % len(OFFICES)].id)
        for j, mid in enumerate(list(MEASURES)[:measures]) for k in range(per_measure)
    ]
    (workspace / "katalog.toml").write_text(render_catalogue(offices=OFFICES, indicators=indicators), "utf-8")
    names = [f"Gebiet {a:02d}" for a in range(areas)]
    keys = quarters(periods)
    n = 0
    with Store(workspace / "daten" / "sozialmonitor.json", fsync=False, backups=0) as store:
        for i, ind in enumerate(indicators):
            rows = [(ind.id, area, period, float((i * 7 + a * 13 + p * 3) % 500) + 0.5 * a, "", len(keys) * a + p + 2)
                    for a, area in enumerate(names) for p, period in enumerate(keys)]
            store.add_delivery(file=f"{ind.id}.csv", content_hash=ind.id, office=ind.office,
                               received=datetime(2019, 2, 1, 9), rows=rows, measures=[ind.measure])
            n += len(rows)
    return n


def best(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) if len(times) < 3 else statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measures", type=int, default=14)
    parser.add_argument("--indicators", type=int, default=20)
    parser.add_argument("--areas", type=int, default=30)
    parser.add_argument("--periods", type=int, default=40)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        fresh_ws, big_ws = Path(tmp) / "frisch", Path(tmp) / "gross"
        create_workspace(fresh_ws, today=date(2018, 9, 21))
        start = time.perf_counter()
        n = build(big_ws, args.measures, args.indicators, args.areas, args.periods)
        built = time.perf_counter() - start
        print(f"store built: {n:,} observations in {built:.1f} s "
              f"({args.measures}×{args.indicators}×{args.areas}×{args.periods})")

        rows = []
        with _opened(fresh_ws) as fresh:
            base_fresh = best(lambda: render_html(build_report(fresh.state, date(2018, 9, 21))), args.reps)
        with _opened(big_ws) as big:
            state = big.state
            ids = list(state.catalogue.indicators)
            access = best(lambda: [state.store.observations(i) for i in ids], args.reps)
            lean = best(lambda: [state.store.series(i) for i in ids], args.reps)
            model = best(lambda: build_report(state, TODAY, charts=False), args.reps)
            model_charts = best(lambda: build_report(state, TODAY), args.reps)
            report = build_report(state, TODAY, charts=False)
            with_charts = build_report(state, TODAY)
            timings = {
                "md": model + best(lambda: render_markdown(report), args.reps),
                "html (with charts)": model_charts + best(lambda: render_html(with_charts), 1),
                "xlsx": model + best(lambda: render_xlsx(report), 1),
            }
            sizes = {"md": len(render_markdown(report).encode()), "html (with charts)":
                     len(render_html(with_charts).encode()), "xlsx": len(render_xlsx(report))}
            trend_one = best(lambda: dispatch(state, f"/trend M11 {ids[0]}", Caller(operator=True),
                                              datetime(2019, 3, 15, 9)), args.reps)
            trend_all = best(lambda: dispatch(state, "/trend M11", Caller(operator=True),
                                              datetime(2019, 3, 15, 9)), 1)
            rows.append(["data access (observations of all indicators)", f"{access:.2f}", "1.0", ""])
            rows.append(["lean read (Store.series of all indicators)", f"{lean:.2f}", f"{lean / access:.2f}", ""])
            rows.append(["report model (no charts)", f"{model:.2f}", f"{model / access:.1f}", ""])
            for name, seconds in timings.items():
                rows.append([f"report {name}", f"{seconds:.2f}", f"{seconds / access:.1f}",
                             f"{sizes[name] / 1e6:.1f} MB"])
            rows.append(["/trend one indicator (30 areas × 40 periods)", f"{trend_one:.2f}",
                         f"{trend_one / access:.1f}", ""])
            rows.append(["/trend measure (small multiples)", f"{trend_all:.2f}", f"{trend_all / access:.1f}", ""])
            rows.append(["fresh workspace, html report (document size)", f"{base_fresh:.3f}",
                         f"{base_fresh / access:.3f}", ""])
            rows.append([f"rows in the indicator table: {len(report.indicators):,}", "", "", ""])
        print(tabulate(rows, headers=["what", "seconds", "× data access", "size"], tablefmt="github",
                       disable_numparse=True))
    return 0


class _opened:
    """Monitor.open as a context manager that always closes the store."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> Monitor:
        self.monitor = Monitor.open(self.path, env={})
        return self.monitor

    def __exit__(self, *exc: object) -> None:
        self.monitor.close()


if __name__ == "__main__":
    raise SystemExit(main())
