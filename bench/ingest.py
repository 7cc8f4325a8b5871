"""Ingest benchmark: a 100,000-row office CSV into a store of 10^6 observations, and drop-to-queryable latency.

Run: .venv/bin/python bench/ingest.py [--rows 100000] [--store 1000000] [--drops 50] [--runs 5] [--process-runs 5]
(--drops 0 leaves out the latency, --process-runs 0 the whole processes: for a quick in-process measurement.)
In-process, each of --runs rounds measures, interleaved: pandas.read_csv of the file (baseline a), one orjson
dump of the whole store (baseline b), and the ingest of a file with new values (target: ingest <= 1.5x a+b).
Whole process, interleaved: `sozialmonitor ingest FILE` beside a floor process that imports pandas, reads the file
with read_csv, reads every segment of the store and writes the store as one JSON document (what any importer that
rewrites the store pays). Latency p50/p95 from "file closed" to "observation visible in the store" with the native
observer on a store of 10^5 (target p95 < 300 ms) and with polling (target interval + 300 ms).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # before bench/ (the script's folder): `bot` is the package, not bench/bot.py

import orjson  # noqa: E402
import pandas as pd  # noqa: E402
from common import fmt_ms, fmt_s, median, process_env, sozialmonitor, timed_processes, verdict  # noqa: E402
from tabulate import tabulate  # noqa: E402

from bot import demo  # noqa: E402
from bot.workspace import Monitor, create_workspace  # noqa: E402
from storage.catalogue import SEED_AREAS, render_catalogue  # noqa: E402
from storage.config import CATALOGUE_FILE  # noqa: E402
from storage.models import Area, Indicator  # noqa: E402
from watchers.pipeline import IMPORTED, Pipeline  # noqa: E402
from watchers.validate import Limits, check_delivery, parse_records  # noqa: E402
from watchers.watcher import FolderWatcher  # noqa: E402

# The floor of a whole-process import that rewrites the store: pandas, read_csv, every segment read, one dump.
FLOOR = """
import sys, orjson, pandas as pd
from pathlib import Path
frame = pd.read_csv(sys.argv[1], sep=";", decimal=",", thousands=".", encoding="cp1252")
daten = Path(sys.argv[2])
main = orjson.loads((daten / "sozialmonitor.json").read_bytes())
for doc in main["lieferungen"].values():
    doc["rows"] = orjson.loads((daten / "lieferungen" / doc["segment"]).read_bytes())["zeilen"]["1"]["rows"]
tmp = daten / "floor.json"
tmp.write_bytes(orjson.dumps(main))
tmp.unlink()
"""

BENCH = Indicator("M33-bench", "M33", "Bench: Werte je Baublock", "Anzahl", "monatlich", 60, "Amt 12")
FILL = Indicator("M33-fill", "M33", "Bench: Füllwerte", "Anzahl", "monatlich", 60, "Amt 12")
HEADER = "Maßnahme;Indikator;Zeitraum;Gebiet;Wert;Einheit;Amt;Bemerkung"


def months(n: int, start: int = 1990) -> list[str]:
    return [f"{start + k // 12}-{k % 12 + 1:02d}" for k in range(n)]


def workspace(base: Path) -> Path:
    path = base / "ws"
    create_workspace(path, today=date(2026, 11, 25))
    # The blocks of the bulk file and the areas of the latency drops are catalogue areas like the Stadtteile.
    areas = [*SEED_AREAS, *(Area(f"Block {k:03d} Süd") for k in range(500)), *(Area(f"Drop {k}") for k in range(1000))]
    text = render_catalogue(offices=demo.OFFICES, indicators=[*demo.INDICATORS, BENCH, FILL], persons=demo.PERSONS,
                            areas=areas)
    (path / CATALOGUE_FILE).write_text(text, encoding="utf-8")
    return path


def fill(monitor: Monitor, n: int, batch: int = 200_000) -> None:
    """n observations of FILL: 1,000 areas x monthly periods, stored in batches like real deliveries."""
    periods = months(max(n // 1000 + 1, 1))
    rows = [(FILL.id, f"Block {k % 1000:04d}", periods[k // 1000], float(k % 997), "", k + 2) for k in range(n)]
    for start in range(0, n, batch):
        chunk = rows[start:start + batch]
        monitor.store.add_delivery(file=f"fill-{start}.csv", content_hash=f"fill-{n}-{start}", office="Amt 12",
                                   received=datetime(2026, 1, 1), rows=chunk, measures=["M33"])


def office_csv(rows: int, seed: int = 0) -> bytes:
    """Written the way Excel saves "CSV (Trennzeichen-getrennt)": ;, decimal comma, Windows-1252, CRLF."""
    periods = months(rows // 500 + 1, 2000)
    lines = [HEADER]
    for k in range(rows):
        value = f"{(k * 7 + seed) % 100_000 / 10:.1f}".replace(".", ",")
        lines.append(f"M33;{BENCH.id};{periods[k // 500]};Block {k % 500:03d} Süd;{value};Anzahl;Amt 12;")
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def timed(func, *args, **kwargs):
    start = time.perf_counter()
    out = func(*args, **kwargs)
    return time.perf_counter() - start, out


def bulk(base: Path, n_rows: int, n_store: int, runs: int, process_runs: int) -> list[list]:
    ws = workspace(base / "bulk")
    monitor = Monitor.open(ws, env={})
    times: dict[str, list[float]] = {"pandas": [], "dump": [], "parse": [], "check": [], "ingest": []}
    try:
        fill(monitor, n_store)
        store = monitor.store
        observations = store.observation_count
        limits = Limits.from_settings(monitor.settings.watcher)
        pipeline = Pipeline(monitor, sink=None)
        for k in range(runs):
            csv = base / f"lieferung_{k}.csv"
            csv.write_bytes(office_csv(n_rows, seed=k))  # new values each round: a new delivery, not a duplicate
            t_pandas, frame = timed(pd.read_csv, csv, sep=";", decimal=",", thousands=".", encoding="cp1252")
            assert len(frame) == n_rows
            # The whole store as one document, as schema 1 held it in one file: main file plus every segment's rows.
            main = store._storage.read() or {}
            data = {**main, "lieferungen": {key: {**doc, "rows": store._rows[int(key)]}
                                            for key, doc in main.get("lieferungen", {}).items()}}
            t_dump, payload = timed(orjson.dumps, data, option=orjson.OPT_NON_STR_KEYS)
            raw = csv.read_bytes()
            t_parse, _ = timed(parse_records, raw, csv.name, limits)
            t_check, _ = timed(check_delivery, raw, csv.name, monitor.catalogue, limits=limits)
            inbox_file = monitor.settings.inbox / csv.name
            inbox_file.write_bytes(raw)
            t_ingest, result = timed(pipeline.process, inbox_file)
            assert result.status == IMPORTED, result.findings[:3]
            for key, value in (("pandas", t_pandas), ("dump", t_dump), ("parse", t_parse), ("check", t_check),
                               ("ingest", t_ingest)):
                times[key].append(value)
    finally:
        monitor.close()
    baseline = [a + b for a, b in zip(times["pandas"], times["dump"], strict=True)]
    ratio = median(times["ingest"]) / median(baseline)
    verdict("ingest", f"{n_rows:,}-row CSV into a {n_store:,} store, in-process (depends on the reader)",
            "<= 1.5x read_csv + one dump", f"{median(times['ingest']) * 1000:.0f} ms = {ratio:.2f}x", ratio <= 1.5)
    rows = [
        ["pandas.read_csv (baseline a)", f"{n_rows:,}", fmt_ms(times["pandas"]), ""],
        [f"orjson dump of the store, {len(payload) / 2**20:.0f} MB (baseline b)", f"{observations:,}",
         fmt_ms(times["dump"]), ""],
        ["ingest: read, check, store (1 write, fsync), archive", f"{n_rows:,}", fmt_ms(times["ingest"]),
         f"{ratio:.2f}x (a+b), target <= 1.5x"],
        ["  parsing alone (watchers/read.py)", "", fmt_ms(times["parse"]),
         f"{median(times['parse']) / median(baseline):.2f}x"],
        ["  parsing and catalogue check alone (watchers/validate.py)", "", fmt_ms(times["check"]),
         f"{median(times['check']) / median(baseline):.2f}x"],
    ]
    if process_runs <= 0:
        return rows
    # Whole processes: the store is copied back before each run, so every ingest meets the same store.
    daten, saved = ws / "daten", base / "daten-kopie"
    shutil.copytree(daten, saved)
    csv = base / "lieferung_prozess.csv"
    csv.write_bytes(office_csv(n_rows, seed=runs))

    def restore() -> None:
        shutil.rmtree(daten)
        shutil.copytree(saved, daten)

    whole = timed_processes(
        {"ingest": [*sozialmonitor(), "--workspace", str(ws), "ingest", str(csv)],
         "floor": [sys.executable, "-c", FLOOR, str(csv), str(daten)]},
        process_runs, before={"ingest": restore, "floor": restore}, env=process_env())
    rows.append([f"sozialmonitor ingest, whole process, into {n_store:,}", f"{n_rows:,}", fmt_s(whole["ingest"]),
                 f"{median(whole['ingest']) / median(whole['floor']):.2f}x floor"])
    rows.append(["floor process: pandas import + read_csv + read every segment + one dump", "",
                 fmt_s(whole["floor"]), ""])
    verdict("ingest", f"{n_rows:,}-row CSV into a {n_store:,} store, whole process (depends on the reader)",
            "—", f"{median(whole['ingest']):.2f} s vs floor {median(whole['floor']):.2f} s", None)
    return rows


def latency(base: Path, drops: int, n_store: int, polling: bool, interval: float, stable: float) -> list[float]:
    path = workspace(base / ("poll" if polling else "native"))
    monitor = Monitor.open(path, env={})
    settings = monitor.settings
    monitor.settings = replace(settings, watcher=replace(settings.watcher, polling=polling, poll_interval=interval,
                                                         stable_seconds=stable, rescan_minutes=60))
    out: list[float] = []
    try:
        fill(monitor, n_store)
        pipeline = Pipeline(monitor, sink=None)
        watcher = FolderWatcher(monitor, pipeline, monitor.settings.watcher)
        watcher.start()
        try:
            time.sleep(0.3)
            for k in range(drops):
                data = (f"{HEADER}\r\nM33;{BENCH.id};2025-{k % 12 + 1:02d};Drop {k};{k},5;Anzahl;Amt 12;\r\n"
                        ).encode("cp1252")
                digest = hashlib.sha256(data).hexdigest()
                target = monitor.settings.inbox / f"drop_{k:03d}.csv"
                with open(target, "wb") as fh:
                    fh.write(data)
                start = time.perf_counter()
                while monitor.store.delivery_by_hash(digest) is None:
                    if time.perf_counter() - start > 30:
                        raise TimeoutError(target)
                    time.sleep(0.002)
                out.append(time.perf_counter() - start)
                # Let the archive move finish before the next drop, like files arriving one by one.
                deadline = time.perf_counter() + 5
                while target.exists() and time.perf_counter() < deadline:
                    time.sleep(0.005)
        finally:
            watcher.stop()
    finally:
        monitor.close()
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--store", type=int, default=1_000_000)
    parser.add_argument("--drops", type=int, default=50)
    parser.add_argument("--latency-store", type=int, default=100_000)
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--process-runs", type=int, default=None, help="whole-process runs (default --runs; 0: none)")
    args = parser.parse_args()
    process_runs = args.runs if args.process_runs is None else args.process_runs
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        base = Path(tmp)
        rows = bulk(base, args.rows, args.store, args.runs, process_runs)
        print(tabulate(rows, headers=["step", "rows", "time", "ratio"], tablefmt="github"))
        if args.drops <= 0:
            return 0
        print()
        native = latency(base, args.drops, args.latency_store, False, args.interval, 1.0)
        poll = latency(base, args.drops, args.latency_store, True, args.interval, args.interval / 2)
        table = [
            ["native observer", f"{args.latency_store:,}", f"{pct(native, .5) * 1000:.0f} ms",
             f"{pct(native, .95) * 1000:.0f} ms", "p95 < 300 ms"],
            [f"polling, interval {args.interval:g} s", f"{args.latency_store:,}", f"{pct(poll, .5) * 1000:.0f} ms",
             f"{pct(poll, .95) * 1000:.0f} ms", f"p95 < {(args.interval + 0.3) * 1000:.0f} ms"],
        ]
        print(tabulate(table, headers=[f"drop -> queryable ({args.drops} drops)", "store", "p50", "p95", "target"],
                       tablefmt="github"))
        print(f"(mean native {statistics.mean(native) * 1000:.0f} ms, polling {statistics.mean(poll) * 1000:.0f} ms)")
        verdict("ingest", f"drop -> queryable, native observer, store {args.latency_store:,} (depends on the watcher)",
                "p95 < 300 ms", f"{pct(native, .95) * 1000:.0f} ms", pct(native, .95) < 0.3)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
