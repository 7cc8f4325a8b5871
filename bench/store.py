"""Store benchmark: `sozialmonitor ask "/status M21"` as a person waits for it, beside a plain TinyDB script doing
the same lookup on the same data, at 10^4, 10^5 and 10^6 observations; then the in-process figures of both.

Whole process: wall time from start to exit of each, interleaved (ours, plain, ours, plain, ...) after one
discarded warm-up each, median and range. In-process: each side in its own worker process (its own peak memory).
Usage: python bench/store.py [--sizes 10000,100000,1000000] [--runs 7] [--calls 1000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

# The project before bench/ (the script's folder): `bot` is the package, not bench/bot.py.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import (
    ROOT,
    fmt_ms,
    fmt_s,
    median,
    pct,
    process_env,
    sozialmonitor,
    timed_processes,
    verdict,
)
from stores import build_plain, demo_indicators, workspace_with

from storage.coverage import coverage_path

PLAIN_SCRIPT = ROOT / "bench" / "plain_tinydb.py"
MEASURE = "M21"


def peak_mb() -> float:
    """Peak resident memory of this process since exec (VmHWM; ru_maxrss would count the parent's pages)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def m21_ids() -> list[str]:
    ids, _ = demo_indicators()
    return [i for i in ids if i.startswith(MEASURE)]


# ---------------------------------------------------------------------- in-process workers
def worker_ours(ws: Path, calls: int) -> dict:
    t0 = time.perf_counter()
    from bot import cli  # noqa: F401  (what the command imports before it opens anything)
    from bot.workspace import Monitor
    from commands import Caller, dispatch

    result: dict = {"imports": time.perf_counter() - t0}
    t0 = time.perf_counter()
    monitor = Monitor.open(ws)
    result["open"] = time.perf_counter() - t0
    state, caller, now = monitor.state, Caller(operator=True), datetime.now()

    pauses: list[float] = []
    started: list[float] = []

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            pauses.append(time.perf_counter() - started.pop())

    def status_calls(key: str) -> None:
        wall, cpu = [], []
        pauses.clear()
        gc.callbacks.append(on_gc)
        for _ in range(calls):
            t, c = time.perf_counter(), time.thread_time()
            reply = dispatch(state, f"/status {MEASURE}", caller, now)
            cpu.append(time.thread_time() - c)
            wall.append(time.perf_counter() - t)
        gc.callbacks.remove(on_gc)
        assert reply.ok and "Beispiel" in reply.plain()
        result[key], result[key + "_cpu"], result[key + "_gc"] = wall, cpu, max(pauses, default=0.0)

    status_calls("status_lazy")
    assert "_current" not in vars(monitor.store), "/status read rows"
    t0 = time.perf_counter()
    result["observations"] = monitor.store.observation_count  # loads every row (a report, a delivery would)
    result["load_rows"] = time.perf_counter() - t0
    result["frozen"] = gc.get_freeze_count()
    status_calls("status_loaded")
    writes = []
    for k in range(5):
        rows = [(f"{MEASURE}-wohnungen", f"Neu {k}-{r}", "2026", float(r), "", r + 2) for r in range(1000)]
        t0 = time.perf_counter()
        monitor.store.add_delivery(file=f"neu{k}.csv", content_hash=f"neu{k}", office="Amt 61", received=now,
                                   rows=rows)
        writes.append(time.perf_counter() - t0)
    result["write"] = writes
    monitor.close()
    result["peak_mb"] = peak_mb()
    return result


def worker_plain(path: Path, reps: int) -> dict:
    t0 = time.perf_counter()
    from tinydb import Query, TinyDB

    result: dict = {"imports": time.perf_counter() - t0}
    ids = m21_ids()
    t0 = time.perf_counter()
    db = TinyDB(path)
    table = db.table("observations")
    q = Query()
    table.search(q.measure == MEASURE)  # TinyDB opens lazily: the first query pays the parse
    result["open"] = time.perf_counter() - t0
    times = []
    for k in range(reps):
        table.clear_cache()
        t0 = time.perf_counter()
        found = table.search(q.indicator.one_of(ids) & (q.value != k - 1))
        max((d["period"] for d in found), default=None)
        times.append(time.perf_counter() - t0)
    result["status"] = times
    docs = [{"measure": MEASURE, "indicator": f"{MEASURE}-wohnungen", "area": f"Neu {r}", "period": "2026",
             "value": float(r), "note": "", "file": "neu.csv", "hash": "neu", "row": r + 2, "office": "Amt 61",
             "received": "2026-11-25T09:00:00"} for r in range(1000)]
    if len(table) <= 100_000:  # beyond, one insert rewrites a file of hundreds of MB: tens of seconds
        t0 = time.perf_counter()
        table.insert_multiple(docs)
        result["write"] = [time.perf_counter() - t0]
    db.close()
    result["peak_mb"] = peak_mb()
    return result


def run_worker(*argv: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", *argv], capture_output=True, text=True,
                         env=process_env(), check=False)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def store_mb(ws: Path) -> float:
    daten = ws / "daten"
    return sum(f.stat().st_size for f in daten.rglob("*.json") if "sicherungen" not in f.parts) / 2**20


# ---------------------------------------------------------------------- the comparison
def measure_size(n: int, runs: int, calls: int, table: list[list[str]]) -> None:
    ids, freqs = demo_indicators()
    with tempfile.TemporaryDirectory(prefix="bench-store-") as tmp:
        base = Path(tmp)
        ws = workspace_with(base, n)
        plain_path = base / "plain.json"
        build_plain(plain_path, n, ids, freqs)
        ask = [*sozialmonitor(), "--workspace", str(ws), "ask", f"/status {MEASURE}"]
        plain = [sys.executable, str(PLAIN_SCRIPT), str(plain_path), ",".join(m21_ids())]

        whole = timed_processes({"ours": ask, "plain": plain}, runs)
        # The first open after an upgrade (no coverage file yet) reads every row once and saves the coverage.
        coverage_path(ws / "daten" / "sozialmonitor.json").unlink()
        start = time.perf_counter()
        subprocess.run(ask, env=process_env(), check=True, capture_output=True)
        first = time.perf_counter() - start
        ours_s, plain_s = median(whole["ours"]), median(whole["plain"])
        label = f"{n:,}"
        table.append([label, "ask /status M21, whole process", fmt_s(whole["ours"]), fmt_s(whole["plain"]),
                      f"{plain_s / ours_s:.2f}x"])
        table.append([label, "  first open after an upgrade (computes the coverage once)", f"{first:.3f} s", "", ""])
        if n == 10_000:
            cold = timed_processes({"ours": ask, "plain": plain}, 3, env=process_env(bytecode=False))
            table.append([label, "  same, no bytecode cache (every import compiles)", fmt_s(cold["ours"]),
                          fmt_s(cold["plain"]), f"{median(cold['plain']) / median(cold['ours']):.2f}x"])

        ours = run_worker("ours", str(ws), str(calls))
        theirs = run_worker("plain", str(plain_path), str(50 if n <= 10_000 else 20 if n <= 100_000 else 5))
        table.append([label, "  in-process: imports", f"{ours['imports'] * 1000:.0f} ms",
                      f"{theirs['imports'] * 1000:.0f} ms", ""])
        table.append([label, "  in-process: open store", f"{ours['open'] * 1000:.1f} ms",
                      f"{theirs['open'] * 1000:.1f} ms (first search)", f"{theirs['open'] / ours['open']:.1f}x"])
        table.append([label, f"  in-process: /status M21 over {calls} calls", fmt_ms(ours["status_lazy"]),
                      fmt_ms(theirs["status"]), f"{median(theirs['status']) / median(ours['status_lazy']):.0f}x"])
        for key, what in (("status_lazy", "no rows read"), ("status_loaded", "every row loaded")):
            table.append([label, f"    {what}: p99 / max wall; p99 CPU; longest GC pause",
                          f"{pct(ours[key], .99) * 1000:.2f} / {max(ours[key]) * 1000:.2f} ms; "
                          f"{pct(ours[key + '_cpu'], .99) * 1000:.2f} ms; {ours[key + '_gc'] * 1000:.2f} ms", "", ""])
        table.append([label, "  loading every row (first report, first delivery)", f"{ours['load_rows']:.2f} s", "",
                      ""])
        plain_write = theirs.get("write")
        table.append([label, "  write 1,000 observations", fmt_ms(ours["write"]),
                      fmt_ms(plain_write) if plain_write else "not run (see 10^5)",
                      f"{median(plain_write) / median(ours['write']):.0f}x" if plain_write else ""])
        table.append([label, "  peak memory (rows loaded)", f"{ours['peak_mb']:.0f} MB", f"{theirs['peak_mb']:.0f} MB",
                      ""])
        table.append([label, "  files on disk", f"{store_mb(ws):.1f} MB", f"{plain_path.stat().st_size / 2**20:.1f} MB",
                      ""])

    measured = f"{ours_s:.3f} s vs plain {plain_s:.3f} s"
    if n == 10_000:
        verdict("store", "ask /status M21 at 10^4, whole process", "<= 1.5x plain TinyDB",
                f"{measured} = {ours_s / plain_s:.2f}x", ours_s <= 1.5 * plain_s)
    elif n == 100_000:
        verdict("store", "ask /status M21 at 10^5, whole process", ">= 3x faster than plain",
                f"{measured} = {plain_s / ours_s:.1f}x faster", plain_s >= 3 * ours_s)
    elif n == 1_000_000:
        verdict("store", "ask /status M21 at 10^6, whole process", ">= 10x faster than plain and <= 0.3 s",
                f"{measured} = {plain_s / ours_s:.1f}x faster", plain_s >= 10 * ours_s and ours_s <= 0.3)
        p99 = pct(ours["status_loaded"], .99)
        verdict("store", f"p99 of {calls} in-process /status M21 at 10^6 (rows loaded)", "< 5 ms",
                f"{p99 * 1000:.2f} ms wall (CPU p99 {pct(ours['status_loaded_cpu'], .99) * 1000:.2f} ms, "
                f"longest GC pause {ours['status_loaded_gc'] * 1000:.2f} ms, load {os.getloadavg()[0]:.1f})",
                p99 < 0.005)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--worker", nargs="+")
    args = parser.parse_args()
    if args.worker:
        side, path, count = args.worker
        result = worker_ours(Path(path), int(count)) if side == "ours" else worker_plain(Path(path), int(count))
        print(json.dumps(result))
        return

    from tabulate import tabulate

    table: list[list[str]] = []
    for n in (int(s) for s in args.sizes.split(",")):
        measure_size(n, args.runs, args.calls, table)
    print(tabulate(table, headers=["observations", "what", "Sozialmonitor", "plain TinyDB", "plain / ours"],
                   tablefmt="github", disable_numparse=True))
    print(f"\n(whole process: median (range) of {args.runs} interleaved runs after a warm-up; "
          f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
