"""Crash safety: the watcher process killed with SIGKILL mid-import, restarted — every file counts exactly once."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from bot.workspace import Monitor, create_workspace
from tests.conftest import ROOT
from tests.test_pipeline import office_csv

CHILD = """
import signal, sys, threading
from pathlib import Path
from bot.workspace import Monitor
from watchers import build_watcher

monitor = Monitor.open(Path(sys.argv[1]), env={})
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *a: stop.set())
watcher = build_watcher(monitor, lambda message: print(message.reply.plain(), flush=True))
watcher.start()
Path(sys.argv[2]).write_text("started")
stop.wait()
watcher.stop()
monitor.close()
"""


def good(k: int) -> bytes:
    return office_csv([["M33", "M33-sgb2-quote", "2016", f"Block {k:02d}", f"{k},25", "%", "Amt 12", ""]])


def bad(k: int) -> bytes:
    return office_csv([["M33", "M33-sgb2-quoet", "2016", f"Block {k:02d}", "1", "%", "Amt 12", ""]])


def start(workspace: Path, tmp: Path, n: int) -> subprocess.Popen:
    marker = tmp / "started"
    marker.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOZIALMONITOR_")}
    with open(tmp / f"out{n}.txt", "wb") as out:
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(workspace), str(marker)], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while not marker.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise AssertionError((tmp / f"out{n}.txt").read_text(errors="replace"))
        time.sleep(0.02)
    return proc


def waiting(inbox: Path) -> list[Path]:
    return [p for p in inbox.rglob("*") if p.is_file() and not p.name.startswith(".")]


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing_and_counts_nothing_twice(tmp_path: Path) -> None:
    seed = int(os.environ.get("CRASH_SEED", time.time_ns() % 10_000))
    rng = random.Random(seed)
    workspace = tmp_path / "ws"
    create_workspace(workspace, demo_data=True, today=date(2026, 11, 25))
    settings = workspace / "sozialmonitor.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("stable_seconds = 1.0", "stable_seconds = 0.1"),
                        encoding="utf-8")
    catalogue = workspace / "katalog.toml"  # the blocks are areas of the catalogue, like the Stadtteile
    catalogue.write_text(catalogue.read_text(encoding="utf-8") + "".join(
        f'\n[[gebiet]]\nid = "Block {k:02d}"\n' for k in range(36)), encoding="utf-8")
    inbox = workspace / "ablage" / "eingang"
    files = {f"gut_{k:02d}.csv": good(k) for k in range(36)} | {f"schlecht_{k}.csv": bad(k) for k in range(4)}
    names = list(files)
    rng.shuffle(names)

    kills = 0
    left: list[int] = []  # files still waiting after each kill
    for round_no, batch in enumerate(names[i:i + 8] for i in range(0, len(names), 8)):
        proc = start(workspace, tmp_path, round_no)
        for name in batch:
            (inbox / name).write_bytes(files[name])
        time.sleep(rng.uniform(0.0, 0.25))  # a random moment while the batch is being imported
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        kills += 1
        left.append(len(waiting(inbox)))

    proc = start(workspace, tmp_path, 99)
    deadline = time.monotonic() + 60
    while waiting(inbox) and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 0
    assert not waiting(inbox), f"seed {seed}: still waiting {waiting(inbox)}"

    monitor = Monitor.open(workspace, env={})  # the store loads after every kill
    try:
        hashes = Counter(d.content_hash for d in monitor.store.deliveries())
        assert max(hashes.values()) == 1, f"seed {seed}"
        for name, data in files.items():
            digest = hashlib.sha256(data).hexdigest()
            stored = monitor.store.delivery_by_hash(digest)
            if name.startswith("gut"):
                assert stored is not None, f"seed {seed}: {name} lost"
            else:
                assert stored is None, f"seed {seed}: {name} imported"
        values = {o.area: o.value for o in monitor.store.observations("M33-sgb2-quote") if o.area.startswith("Block")}
        assert values == {f"Block {k:02d}": k + 0.25 for k in range(36)}, f"seed {seed}"
    finally:
        monitor.close()
    processed = list((workspace / "ablage" / "verarbeitet").rglob("*.csv"))
    assert {p.read_bytes() for p in processed} >= {d for n, d in files.items() if n.startswith("gut")}
    rejected = workspace / "ablage" / "abgelehnt"
    for k in range(4):
        assert (rejected / f"schlecht_{k}.csv").exists() and (rejected / f"schlecht_{k}.csv.fehler.txt").exists()
    assert kills == 5
    print(f"seed {seed}: waiting after each kill {left}")
