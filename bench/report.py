"""Report benchmark: build and render the committee report at 14 measures × 20 indicators × 30 areas × 12 periods
(10^5 observations), in-process and as `sozialmonitor report` whole processes.

The store is built synthetically through Store.add_delivery (one delivery per indicator) in a temp workspace.
Baselines measured in the same run: reading every current value once as Observation records
(Store.observations for all indicators) and the report of a freshly initialised workspace (the document's size);
for the whole processes, a floor process that opens the workspace and reads every current value (Store.series),
run interleaved with them. Every figure is the median (range) of --reps runs. The report keeps its drawn figures
in the workspace: `html` (and `pdf`) are timed with them removed before every run, `html after a delivery` after a
new value of one indicator (one figure to draw), `html again` with nothing new (every figure kept).
With --pdf the whole processes include `report --format pdf` (WeasyPrint; about ten seconds a run at the default size).
Usage: python bench/report.py [--measures 14] [--indicators 20] [--areas 30] [--periods 12] [--reps 5] [--pdf]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/ (the script's folder): `bot` is the package, not bench/bot.py

from common import fmt_s, median, process_env, sozialmonitor, timed_processes, verdict  # noqa: E402
from tabulate import tabulate  # noqa: E402

from bot.workspace import FIGURES, Monitor, create_workspace  # noqa: E402
from commands import Caller, dispatch  # noqa: E402
from commands.render_report import render_html, render_markdown, render_xlsx  # noqa: E402
from commands.report import build_report  # noqa: E402
from storage.catalogue import render_catalogue  # noqa: E402
from storage.models import Indicator, Office  # noqa: E402
from storage.seed import MEASURES  # noqa: E402
from storage.store import Store  # noqa: E402

# What any report must do at least: start, open the workspace, read every current value once.
FLOOR = """
import sys
from pathlib import Path
from bot.workspace import Monitor
monitor = Monitor.open(Path(sys.argv[1]))
values = sum(len(points) for i in monitor.catalogue.indicators for points in monitor.store.series(i).values())
monitor.close()
print(values)
"""

TODAY = date(2019, 3, 15)
OFFICES = [Office(f"Amt {n}", f"Bench: Amt {n}") for n in (10, 12, 40, 50, 61)]
FIRST_INDICATOR = f"{next(iter(MEASURES))}-i00"  # its chart is in the report: a new value of it redraws one figure


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


def runs(fn, reps: int) -> list[float]:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def cell(values: list[float]) -> str:
    return f"{median(values):.3f} ({min(values):.3f}–{max(values):.3f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measures", type=int, default=14)
    parser.add_argument("--indicators", type=int, default=20)
    parser.add_argument("--areas", type=int, default=30)
    parser.add_argument("--periods", type=int, default=12)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--pdf", action="store_true", help="time the PDF too (WeasyPrint, slow)")
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
        reps = args.reps
        with _opened(fresh_ws) as fresh:
            base_fresh = runs(lambda: render_html(build_report(fresh.state, date(2018, 9, 21))), reps)
        with _opened(big_ws) as big:
            state = big.state
            ids = list(state.catalogue.indicators)
            access = runs(lambda: [state.store.observations(i) for i in ids], reps)
            lean = runs(lambda: [state.store.series(i) for i in ids], reps)
            model = runs(lambda: build_report(state, TODAY, charts=False), reps)
            model_charts = runs(lambda: build_report(state, TODAY), reps)
            report = build_report(state, TODAY, charts=False)
            with_charts = build_report(state, TODAY)
            renders = {
                "md": (model, runs(lambda: render_markdown(report), reps)),
                "html (with charts)": (model_charts, runs(lambda: render_html(with_charts), reps)),
                "xlsx": (model, runs(lambda: render_xlsx(report), reps)),
            }
            sizes = {"md": len(render_markdown(report).encode()), "html (with charts)":
                     len(render_html(with_charts).encode()), "xlsx": len(render_xlsx(report))}
            trend_one = runs(lambda: dispatch(state, f"/trend M11 {ids[0]}", Caller(operator=True),
                                              datetime(2019, 3, 15, 9)), reps)
            trend_all = runs(lambda: dispatch(state, "/trend M11", Caller(operator=True),
                                              datetime(2019, 3, 15, 9)), reps)
            base = median(access)
            rows.append(["data access (observations of all indicators)", cell(access), "1.0", ""])
            rows.append(["lean read (Store.series of all indicators)", cell(lean), f"{median(lean) / base:.2f}", ""])
            rows.append(["report model (no charts)", cell(model), f"{median(model) / base:.1f}", ""])
            for name, (built_model, render) in renders.items():
                total = [a + b for a, b in zip(built_model, render, strict=True)]
                rows.append([f"report {name} (model + render)", cell(total), f"{median(total) / base:.1f}",
                             f"{sizes[name] / 1e6:.1f} MB"])
            rows.append([f"/trend one indicator ({args.areas} areas × {args.periods} periods)", cell(trend_one),
                         f"{median(trend_one) / base:.1f}", ""])
            rows.append(["/trend measure (small multiples)", cell(trend_all), f"{median(trend_all) / base:.1f}", ""])
            rows.append(["fresh workspace, html report (document size)", cell(base_fresh),
                         f"{median(base_fresh) / base:.3f}", ""])
            rows.append([f"rows in the indicator table: {len(report.indicators):,}", "", "", ""])
        print(tabulate(rows, headers=["in-process", "seconds (range)", "× data access", "size"], tablefmt="github",
                       disable_numparse=True))

        # Whole processes, as a person waits for them, interleaved with the floor process.
        out = Path(tmp) / "ausgabe"
        out.mkdir()
        formats = ("md", "html", "xlsx", *(("pdf",) if args.pdf else ()))

        def report_cmd(fmt: str) -> list[str]:
            return [*sozialmonitor(), "--workspace", str(big_ws), "report", "--format", fmt, "-o",
                    str(out / f"bericht.{fmt}")]

        # "html" draws every figure (the kept figures are removed before each run: the first report, or one after
        # an upgrade); "html after a delivery" follows a new value of one indicator (its figure is drawn again, the
        # others are kept); "html again" follows the run before with nothing delivered in between.
        kept = big_ws / "daten" / FIGURES
        commands = {"html": report_cmd("html"), "html after a delivery": report_cmd("html"),
                    "html again": report_cmd("html")}
        commands.update({fmt: report_cmd(fmt) for fmt in formats if fmt != "html"})
        commands["floor"] = [sys.executable, "-c", FLOOR, str(big_ws)]
        deliveries = iter(range(1, 1000))

        def deliver() -> None:
            k = next(deliveries)
            with Store(big_ws / "daten" / "sozialmonitor.json", fsync=False, backups=0) as store:
                store.add_delivery(file=f"korrektur-{k}.csv", content_hash=f"korrektur-{k}", office=OFFICES[0].id,
                                   received=datetime(2019, 3, 1, 9), rows=[(FIRST_INDICATOR, "Gebiet 00",
                                                                            quarters(1)[0], 1000.0 + k, "", 2)])

        def forget() -> None:
            shutil.rmtree(kept, ignore_errors=True)

        before = {"html": forget, "html after a delivery": deliver, "pdf": forget}
        whole = timed_processes(commands, reps, env=process_env(), before=before)
        labels = {name: f"sozialmonitor report --format {name}" for name in formats}
        labels["html"] += " (every figure drawn)"
        if "pdf" in labels:
            labels["pdf"] += " (every figure drawn)"
        labels["html after a delivery"] = "same, html after one indicator's new value (one figure drawn)"
        labels["html again"] = "same, html again, nothing delivered (the figures kept)"
        names = ("md", "html", "html after a delivery", "html again", "xlsx", *(("pdf",) if args.pdf else ()))
        table = [[labels[name], fmt_s(whole[name]), f"{median(whole[name]) / median(whole['floor']):.1f}x"]
                 for name in names]
        table.append(["floor: start, open, read every current value", fmt_s(whole["floor"]), "1.0x"])
        print()
        print(tabulate(table, headers=[f"whole process, {n:,} observations", "seconds", "× floor"],
                       tablefmt="github", disable_numparse=True))
        floor = f"floor {median(whole['floor']):.2f} s"
        for name, limit, what in (("md", 1.0, "md"), ("xlsx", 1.5, "xlsx"),
                                  ("html", 1.5, "html, every figure drawn (first report)"),
                                  ("html after a delivery", 1.5, "html after one new value (one figure drawn)"),
                                  ("html again", 1.5, "html again, nothing new (figures kept)")):
            verdict("report", f"report {what} at {n:,}, whole process", f"< {limit} s",
                    f"{median(whole[name]):.2f} s ({floor})", median(whole[name]) < limit)
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
