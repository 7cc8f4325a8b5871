"""Store write benchmark: add_delivery of 100,000 and 1,000 rows and one small write into a store of 10^6.

Uses the public Store API only, so the same script measures any store layout.
Usage: python bench/store_write.py [--store 1000000] [--reps 5]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.store import Store  # noqa: E402

T0 = datetime(2026, 1, 1)


def rows(indicator: str, n: int, offset: int = 0) -> list[tuple]:
    return [(indicator, f"Block {k % 1000:04d}", f"{1900 + (k + offset) // 1000:04d}-01", float(k % 997), "", k + 2)
            for k in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
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
    print(f"fill {args.store:,}: {fill:.2f} s, open: {opened:.2f} s, one full gc.collect(): {full_gc * 1000:.0f} ms")
    for key, values in out.items():
        print(f"{key:>5}: median {statistics.median(values) * 1000:7.1f} ms  "
              f"min {min(values) * 1000:7.1f} ms  max {max(values) * 1000:7.1f} ms")


if __name__ == "__main__":
    main()
