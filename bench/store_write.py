"""Store write benchmark: add_delivery of 100,000 and 1,000 rows and one small write into a store of 10^6, in
process; and a small write through the command line (`ask "/schritt M21 neu …"`) as a whole process, interleaved
with the same process answering `/status M21` (start, open, answer: the floor every command pays).

Uses the public Store API only, so the same script measures any store layout.
Usage: python bench/store_write.py [--store 1000000] [--reps 5]
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

# The project before bench/ (the script's folder): `bot` is the package, not bench/bot.py.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import fmt_ms, fmt_s, median, sozialmonitor, timed_processes, verdict
from stores import workspace_with

from storage.store import Store

T0 = datetime(2026, 1, 1)


def rows(indicator: str, n: int, offset: int = 0) -> list[tuple]:
    return [(indicator, f"Block {k % 1000:04d}", f"{1900 + (k + offset) // 1000:04d}-01", float(k % 997), "", k + 2)
            for k in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    from tabulate import tabulate

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "daten" / "sozialmonitor.json"
        with Store(path, backup_seconds=600) as s:
            t = time.perf_counter()
            for start in range(0, args.store, 200_000):
                s.add_delivery(file=f"fill-{start}.csv", content_hash=f"fill-{start}", office="Amt 12", received=T0,
                               rows=rows("fill", min(200_000, args.store - start), start))
            fill = time.perf_counter() - t
        t = time.perf_counter()
        s = Store(path, backup_seconds=600)
        opened = time.perf_counter() - t
        t = time.perf_counter()
        count = s.observation_count  # the first write needs every current value: load them now, outside the timing
        loaded = time.perf_counter() - t
        out: dict[str, list[float]] = {"100k": [], "1k": [], "step": []}
        for rep in range(args.reps):
            t = time.perf_counter()
            s.add_delivery(file=f"big{rep}.csv", content_hash=f"big{rep}", office="Amt 12", received=T0,
                           rows=rows(f"big{rep}", 100_000))
            out["100k"].append(time.perf_counter() - t)
            t = time.perf_counter()
            s.add_delivery(file=f"small{rep}.csv", content_hash=f"small{rep}", office="Amt 12", received=T0,
                           rows=rows(f"small{rep}", 1_000))
            out["1k"].append(time.perf_counter() - t)
            t = time.perf_counter()
            s.add_step("M21", f"Schritt {rep}", due=date(2026, 2, 1))
            out["step"].append(time.perf_counter() - t)
        t = time.perf_counter()
        gc.collect()
        full_gc = time.perf_counter() - t
        s.close()

        ws = workspace_with(Path(tmp) / "cli", args.store)
        base = [*sozialmonitor(), "--workspace", str(ws), "ask"]
        whole = timed_processes({"write": [*base, "/schritt M21 neu Zahlen prüfen"], "read": [*base, "/status M21"]},
                                args.reps)
    print(f"fill {args.store:,}: {fill:.2f} s; open (from the coverage): {opened * 1000:.0f} ms; loading "
          f"{count:,} current values for the first write: {loaded:.2f} s; one full gc.collect(): "
          f"{full_gc * 1000:.0f} ms")
    table = [
        ["add_delivery 100,000 rows", fmt_ms(out["100k"])],
        ["add_delivery 1,000 rows", fmt_ms(out["1k"])],
        ["add_step (one small main-file write)", fmt_ms(out["step"])],
        ["ask /schritt M21 neu …, whole process", fmt_s(whole["write"])],
        ["ask /status M21, whole process (the floor, interleaved)", fmt_s(whole["read"])],
    ]
    print(tabulate(table, headers=[f"into a store of {args.store:,}", "median (range)"], tablefmt="github",
                   disable_numparse=True))
    verdict("store_write", f"add_delivery 1,000 rows into {args.store:,}, in-process", "—",
            f"{median(out['1k']) * 1000:.1f} ms", None)
    verdict("store_write", "small write through the command line at 10^6, whole process", "—",
            f"{median(whole['write']):.3f} s (floor /status {median(whole['read']):.3f} s)", None)


if __name__ == "__main__":
    main()
