"""What every bench shares: interleaved whole-process timing, medians with ranges, test stores, the verdicts.

Figures wobble on a shared machine, so nothing here reports a single run: every figure is the median of several,
with its range, and a baseline is always measured in the same run, interleaved with what it is compared to.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(os.environ.get("BENCH_RESULTS", ROOT / "bench" / "results" / "verdicts.jsonl"))
PYCACHE = ROOT / "bench" / "results" / "pycache"

__all__ = [
    "ROOT",
    "fmt_ms",
    "fmt_s",
    "median",
    "pct",
    "process_env",
    "sozialmonitor",
    "timed_processes",
    "verdict",
]


def process_env(*, bytecode: bool = True) -> dict[str, str]:
    """The environment for a measured process.

    With `bytecode` (what a person has: pip compiles an installed package, Python caches what it imports) the
    compiled modules are cached in bench/results/pycache even where PYTHONDONTWRITEBYTECODE is set; without it,
    every import compiles its source again.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOZIALMONITOR_")}
    if bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    return env


def sozialmonitor() -> list[str]:
    """The installed command, as a person calls it."""
    script = Path(sys.executable).with_name("sozialmonitor")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def timed_processes(commands: dict[str, Sequence[str]], runs: int, *, env: dict[str, str] | None = None,
                    cwd: Path | None = None, warmup: int = 1, check: bool = True,
                    before: dict[str, object] | None = None) -> dict[str, list[float]]:
    """Wall time of whole processes, from start to exit, run interleaved: a, b, a, b, ...

    One discarded warm-up per command first (it fills the bytecode cache and the page cache). `before` may name a
    callable per command, run untimed before each run (e.g. to restore a store).
    """
    env = env or process_env()
    out: dict[str, list[float]] = {name: [] for name in commands}
    for k in range(warmup + runs):
        for name, argv in commands.items():
            prepare = (before or {}).get(name)
            if callable(prepare):
                prepare()
            start = time.perf_counter()
            done = subprocess.run(list(argv), env=env, cwd=cwd or ROOT, capture_output=True)
            seconds = time.perf_counter() - start
            if check and done.returncode != 0:
                raise SystemExit(f"{name} failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
            if k >= warmup:
                out[name].append(seconds)
    return out


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def pct(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def fmt_s(values: Sequence[float]) -> str:
    return f"{median(values):.3f} s ({min(values):.3f}–{max(values):.3f}, n={len(values)})"


def fmt_ms(values: Sequence[float]) -> str:
    return f"{median(values) * 1000:.2f} ms ({min(values) * 1000:.2f}–{max(values) * 1000:.2f}, n={len(values)})"


def verdict(bench: str, what: str, target: str, measured: str, ok: bool | None) -> None:
    """Record one line of the final `make bench` table (None: measured for information, no target here)."""
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    line = {"bench": bench, "what": what, "target": target, "measured": measured,
            "verdict": "—" if ok is None else ("ok" if ok else "MISSED")}
    with open(RESULTS, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line, ensure_ascii=False) + "\n")


def read_verdicts() -> Iterator[dict]:
    if RESULTS.exists():
        for line in RESULTS.read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield json.loads(line)
