"""Test stores of a given size: ours (schema 2, segments) in a demo workspace, and the same data in plain TinyDB."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from storage.coverage import key_of, ordinal  # noqa: E402
from storage.periods import FREQUENCY_KIND  # noqa: E402

AREAS = 1000  # statistical blocks: 10^6 values then span ~59 periods per indicator, as a long real history would
RECEIVED = "2026-11-25T09:00:00"

__all__ = ["AREAS", "build_ours", "build_plain", "demo_indicators", "workspace_with"]


def demo_indicators() -> tuple[list[str], list[str]]:
    from bot.demo import INDICATORS

    return [i.id for i in INDICATORS], [i.frequency for i in INDICATORS]


_LAST_OF_2025 = {"jahr": "2025", "halbjahr": "2025-H2", "quartal": "2025-Q4", "monat": "2025-12"}


def _period_back(frequency: str, steps: int) -> str:
    """The period `steps` periods before the end of 2025 (the last complete year) in the indicator's frequency."""
    kind, last = ordinal(_LAST_OF_2025[FREQUENCY_KIND[frequency]])
    return key_of(kind, last - steps)


def _keys(n: int, frequencies: list[str], areas: int):
    """n distinct (indicator index, area, period) keys, spread over indicators, areas and periods."""
    count = len(frequencies)
    for k in range(n):
        ind, rest = k % count, k // count
        area, step = rest % areas, rest // areas
        yield ind, f"Block {area:05d}", _period_back(frequencies[ind], step)


def build_ours(path: Path, n: int, indicator_ids: list[str], frequencies: list[str], areas: int = AREAS) -> None:
    """Write a store in our format directly (1,000 rows per delivery, as files would bring them).

    Schema 2: one segment file per delivery (daten/lieferungen/), then the main file referencing them. No coverage
    file: the first open computes it, as after an upgrade.
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
    for k, (ind, area, period) in enumerate(_keys(n, frequencies, areas)):
        rows.append([indicator_ids[ind], area, period, float(k % 997), "", k % 1000 + 2])
        if len(rows) == 1000:
            flush(rows)
            rows = []
    if rows:
        flush(rows)
    data["lieferungen"] = deliveries
    assert data["meta"]["1"]["schema"] == SCHEMA_VERSION
    path.write_bytes(orjson.dumps(data))
    from storage.coverage import coverage_path

    coverage_path(path).unlink(missing_ok=True)


def build_plain(path: Path, n: int, indicator_ids: list[str], frequencies: list[str], areas: int = AREAS) -> None:
    """Plain TinyDB: one document per observation, written once with insert_multiple."""
    from tinydb import TinyDB

    with TinyDB(path) as db:
        db.table("observations").insert_multiple(
            {"measure": indicator_ids[ind][:3], "indicator": indicator_ids[ind], "area": area, "period": period,
             "value": float(k % 997), "note": "", "file": f"lieferung_{k // 1000 + 1}.csv",
             "hash": f"h{k // 1000 + 1}", "row": k % 1000 + 2, "office": "Amt 61", "received": RECEIVED}
            for k, (ind, area, period) in enumerate(_keys(n, frequencies, areas)))


def workspace_with(base: Path, n: int, *, areas: int = AREAS, monthly: bool = False) -> Path:
    """A demo workspace (catalogue, meetings, steps) whose store holds n synthetic observations instead of the
    example files. With `monthly`, every indicator is delivered monthly (so that 590 periods stay real months)."""
    from bot import demo
    from bot.workspace import create_workspace
    from storage.catalogue import render_catalogue
    from storage.config import CATALOGUE_FILE

    ws = base / "ws"
    create_workspace(ws, demo_data=True)
    for f in (ws / "ablage" / "eingang").iterdir():
        f.unlink()
    indicators = list(demo.INDICATORS)
    if monthly:
        from dataclasses import replace

        indicators = [replace(i, frequency="monatlich") for i in indicators]
        text = render_catalogue(demo.measures(), offices=demo.OFFICES, indicators=indicators, persons=demo.PERSONS)
        (ws / CATALOGUE_FILE).write_text(text, encoding="utf-8")
    store = ws / "daten" / "sozialmonitor.json"
    store.unlink()
    for segment in (ws / "daten" / "lieferungen").glob("*.json"):
        segment.unlink()
    build_ours(store, n, [i.id for i in indicators], [i.frequency for i in indicators], areas)
    return ws
