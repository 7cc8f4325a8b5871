"""Store benchmark: our store beside plain TinyDB (JSONStorage, search) at 10^4, 10^5 and 10^6 observations.

Each side runs in its own process so that peak memory is its own. Prints a table; ratios are plain/ours.
Usage: python bench/store.py [--sizes 10000,100000,1000000] [--reps 50]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AREAS = 1000  # statistical blocks: 10^6 values then span ~60 periods per indicator, as a real history would
INDICATORS = 17  # as many as the demo catalogue has
RECEIVED = "2026-11-25T09:00:00"


def _period_back(frequency: str, steps: int) -> str:
    """The period `steps` periods before 2025 (the last complete year) in the indicator's frequency."""
    if frequency == "jährlich":
        return f"{2025 - steps}"
    if frequency == "halbjährlich":
        return f"{2025 - steps // 2}-H{2 - steps % 2}"
    if frequency == "vierteljährlich":
        return f"{2025 - steps // 4}-Q{4 - steps % 4}"
    return f"{2025 - steps // 12}-{12 - steps % 12:02d}"


def _keys(n: int, frequencies: list[str]):
    """n distinct (indicator index, area, period) keys, spread over indicators, areas and periods."""
    for k in range(n):
        ind, rest = k % INDICATORS, k // INDICATORS
        area, step = rest % AREAS, rest // AREAS
        yield ind, f"Block {area:04d}", _period_back(frequencies[ind], step)


def build_ours(path: Path, n: int, indicator_ids: list[str], frequencies: list[str]) -> None:
    """Write a store in our format directly (1,000 rows per delivery, as files would bring them).

    Schema 2: one segment file per delivery (daten/lieferungen/), then the main file referencing them.
    """
    import orjson

    from storage.store import SCHEMA_VERSION, Store, write_segment

    with Store(path):  # creates the schema marker
        pass
    data = orjson.loads(path.read_bytes())
    deliveries: dict[str, dict] = {}

    def flush(rows: list[list]) -> None:
        did = len(deliveries) + 1
        ref = write_segment(path, did, f"h{did}", rows, fsync=False)
        deliveries[str(did)] = {"file": f"lieferung_{did}.csv", "hash": f"h{did}", "office": "Amt 61",
                                "received": RECEIVED, "measures": [], "indicators": sorted({r[0] for r in rows}),
                                **ref}

    rows: list[list] = []
    for k, (ind, area, period) in enumerate(_keys(n, frequencies)):
        rows.append([indicator_ids[ind], area, period, float(k % 997), "", k % 1000 + 2])
        if len(rows) == 1000:
            flush(rows)
            rows = []
    if rows:
        flush(rows)
    data["lieferungen"] = deliveries
    assert data["meta"]["1"]["schema"] == SCHEMA_VERSION
    path.write_bytes(orjson.dumps(data))


def build_plain(path: Path, n: int, indicator_ids: list[str], frequencies: list[str]) -> None:
    """Plain TinyDB: one document per observation, written once with insert_multiple."""
    from tinydb import TinyDB

    with TinyDB(path) as db:
        db.table("observations").insert_multiple(
            {"measure": indicator_ids[ind][:3], "indicator": indicator_ids[ind], "area": area, "period": period,
             "value": float(k % 997), "note": "", "file": f"lieferung_{k // 1000 + 1}.csv",
             "hash": f"h{k // 1000 + 1}", "row": k % 1000 + 2, "office": "Amt 61", "received": RECEIVED}
            for k, (ind, area, period) in enumerate(_keys(n, frequencies)))


def peak_mb() -> float:
    """Peak resident memory of this process since exec (VmHWM).

    ru_maxrss would also count the pages of the big parent process at fork time.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(side: str, path: Path, reps: int) -> dict:
    from bot.demo import INDICATORS as DEMO_INDICATORS

    result: dict[str, float] = {}
    if side == "ours":
        from bot.workspace import Monitor
        from commands import Caller, dispatch

        t0 = time.perf_counter()
        monitor = Monitor.open(path.parent.parent)
        result["open"] = time.perf_counter() - t0
        state, caller, now = monitor.state, Caller(operator=True), datetime.now()
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            reply = dispatch(state, "/status M21", caller, now)
            times.append(time.perf_counter() - t0)
        assert reply.ok and "Beispiel" in reply.plain()
        result["status"] = statistics.median(times)
        new_rows = [("M21-wohnungen", f"Neu {k}", "2026", float(k), "", k + 2) for k in range(1000)]
        t0 = time.perf_counter()
        monitor.store.add_delivery(file="neu.csv", content_hash="neu", office="Amt 61", received=now, rows=new_rows)
        result["write"] = time.perf_counter() - t0
        monitor.close()
    else:
        from tinydb import Query, TinyDB

        t0 = time.perf_counter()
        db = TinyDB(path)
        table = db.table("observations")
        result["open"] = time.perf_counter() - t0
        # TinyDB opens lazily: the first query pays the parse; count it as part of opening.
        q = Query()
        t0 = time.perf_counter()
        table.search(q.measure == "M21")
        result["open"] += time.perf_counter() - t0
        times = []
        ids = [i.id for i in DEMO_INDICATORS if i.measure == "M21"]
        for k in range(reps):
            table.clear_cache()
            t0 = time.perf_counter()
            # What /status M21 needs: the observations of its indicators (one search; latest picked in Python).
            found = table.search(q.indicator.one_of(ids) & (q.value != k - 1))
            max((d["period"] for d in found), default=None)
            times.append(time.perf_counter() - t0)
        result["status"] = statistics.median(times)
        docs = [{"measure": "M21", "indicator": "M21-wohnungen", "area": f"Neu {k}", "period": "2026",
                 "value": float(k), "note": "", "file": "neu.csv", "hash": "neu", "row": k + 2, "office": "Amt 61",
                 "received": RECEIVED} for k in range(1000)]
        t0 = time.perf_counter()
        table.insert_multiple(docs)
        result["write"] = time.perf_counter() - t0
        db.close()
    result["peak_mb"] = peak_mb()
    result["file_mb"] = path.stat().st_size / 2**20
    if side == "ours":  # the whole store: main file and its delivery segments
        from storage.store import segment_folder

        result["file_mb"] += sum(f.stat().st_size for f in segment_folder(path).glob("*.json")) / 2**20
    return result


def run_side(side: str, path: Path, reps: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--worker", side, "--path", str(path), "--reps", str(reps)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--plain-reps", type=int, default=0, help="reps for plain TinyDB (default: fewer at 10^6)")
    parser.add_argument("--worker")
    parser.add_argument("--path")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, Path(args.path), args.reps)))
        return

    from tabulate import tabulate

    from bot.demo import INDICATORS as DEMO_INDICATORS
    from bot.workspace import create_workspace

    ids = [i.id for i in DEMO_INDICATORS]
    freqs = [i.frequency for i in DEMO_INDICATORS]
    table = []
    for n in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            ws = Path(tmp) / "ws"
            create_workspace(ws, demo_data=True)
            for f in (ws / "ablage" / "eingang").iterdir():
                f.unlink()
            ours_path = ws / "daten" / "sozialmonitor.json"
            ours_path.unlink()
            build_ours(ours_path, n, ids, freqs)
            plain_path = Path(tmp) / "plain.json"
            build_plain(plain_path, n, ids, freqs)
            ours = run_side("ours", ours_path, args.reps)
            plain_reps = args.plain_reps or (args.reps if n <= 100_000 else 5)
            plain = run_side("plain", plain_path, plain_reps)
        for metric, label, unit in (("open", "open store", "s"), ("status", "/status M21 median", "ms"),
                                    ("write", "write 1,000 observations", "ms")):
            scale = 1000 if unit == "ms" else 1
            table.append([f"{n:,}", label, f"{ours[metric] * scale:.3f} {unit}", f"{plain[metric] * scale:.3f} {unit}",
                          f"{plain[metric] / ours[metric]:.1f}x"])
        table.append([f"{n:,}", "peak memory", f"{ours['peak_mb']:.0f} MB", f"{plain['peak_mb']:.0f} MB",
                      f"{plain['peak_mb'] / ours['peak_mb']:.1f}x"])
        table.append([f"{n:,}", "file size", f"{ours['file_mb']:.1f} MB", f"{plain['file_mb']:.1f} MB",
                      f"{plain['file_mb'] / ours['file_mb']:.1f}x"])
    print(tabulate(table, headers=["observations", "measure", "Sozialmonitor store", "plain TinyDB",
                                   "plain / ours"], tablefmt="github"))
    print(f"\n(status median over {args.reps} runs; plain TinyDB at 10^6 over {args.plain_reps or 5}; "
          f"python {sys.version.split()[0]}, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
