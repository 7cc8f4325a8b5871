"""Coverage benchmark: /status, /lieferungen and the reminders at 10^6 observations with 6, 59 and 590 periods
per indicator, beside the full computation they replaced (every expected period built on every call).

Every indicator is delivered monthly here, so that 590 periods are 590 real months. Baseline and candidate run
in the same process, interleaved call by call, and must give the same replies; whole-process `ask /status`
beside. Usage: python bench/coverage.py [--periods 6,59,590] [--calls 300] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

# The project before bench/ (the script's folder): `bot` is the package, not bench/bot.py.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import fmt_ms, fmt_s, median, pct, process_env, sozialmonitor, timed_processes, verdict
from stores import workspace_with

# The computation the coverage replaced, as the tests keep it to compare against.
from tests.test_deliveries import reference_completeness, reference_overdue

N = 1_000_000
INDICATORS = 17


def worker(ws: Path, calls: int) -> dict:
    import commands.core as core
    import commands.ingest_cmds as ingest_cmds
    import commands.reminders as reminders
    from bot.workspace import Monitor
    from commands import Caller, dispatch
    from commands.deliveries import completeness, overdue

    monitor = Monitor.open(ws)
    state, caller = monitor.state, Caller(operator=True)
    now = datetime(2026, 12, 1, 10, 0, tzinfo=state.tz)  # a Tuesday within the reminder hours
    # Which module-level name each question reads, and its new and former implementation.
    questions = {
        "/status": (core, "overdue", overdue, reference_overdue, lambda: dispatch(state, "/status", caller, now)),
        "/lieferungen": (ingest_cmds, "completeness", completeness, reference_completeness,
                         lambda: dispatch(state, "/lieferungen", caller, now)),
        "reminders due": (reminders, "overdue", overdue, reference_overdue,
                          lambda: reminders.due_reminders(state, now)),
    }
    result: dict = {"periods": max(len(state.store.periods(i)) for i in state.catalogue.indicators)}
    for name, (module, attr, new, old, ask) in questions.items():
        times: dict[str, list[float]] = {"new": [], "old": []}
        answers = {}
        for impl in (new, old):  # warm-up, not counted: first imports (holiday tables), first cache entries
            setattr(module, attr, impl)
            ask()
        for k in range(calls if name != "reminders due" else max(calls // 10, 10)):
            for side, impl in (("new", new), ("old", old)):
                setattr(module, attr, impl)
                t = time.perf_counter()
                answer = ask()
                times[side].append(time.perf_counter() - t)
                if k == 0:
                    answers[side] = answer.plain() if hasattr(answer, "plain") else repr(answer)
        setattr(module, attr, new)
        assert answers["new"] == answers["old"], f"{name}: the coverage path answers differently"
        result[name] = times
    result["rows_read"] = "_current" in vars(monitor.store)
    monitor.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--periods", default="6,59,590")
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--worker", nargs=2)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(Path(args.worker[0]), int(args.worker[1]))))
        return

    from tabulate import tabulate

    table = []
    overview: dict[int, list[float]] = {}
    for periods in (int(p) for p in args.periods.split(",")):
        areas = math.ceil(N / INDICATORS / periods)
        with tempfile.TemporaryDirectory(prefix="bench-coverage-") as tmp:
            ws = workspace_with(Path(tmp), N, areas=areas, monthly=True)
            ask = [*sozialmonitor(), "--workspace", str(ws), "ask", "/status"]
            whole = timed_processes({"ask": ask}, args.runs)  # the warm-up run computes the coverage once
            out = subprocess.run([sys.executable, __file__, "--worker", str(ws), str(args.calls)],
                                 capture_output=True, text=True, env=process_env(), check=False)
            if out.returncode != 0:
                raise SystemExit(out.stderr[-3000:])
            result = json.loads(out.stdout.strip().splitlines()[-1])
        label = f"{result['periods']} periods × {areas:,} areas"
        for name in ("/status", "/lieferungen", "reminders due"):
            new, old = result[name]["new"], result[name]["old"]
            table.append([label, name, fmt_ms(new), fmt_ms(old), f"{median(old) / median(new):.0f}x",
                          f"{pct(new, .99) * 1000:.2f} ms"])
        table.append([label, "ask /status, whole process", fmt_s(whole["ask"]), "", "", ""])
        table.append([label, "rows read for these answers", "none" if not result["rows_read"] else "yes", "", "", ""])
        overview[result["periods"]] = result["/status"]["new"]
    print(tabulate(table, headers=[f"10^6 observations, {INDICATORS} monthly indicators", "in-process",
                                   "with coverage", "full computation (before)", "before / now", "p99 now"],
                   tablefmt="github", disable_numparse=True))
    print(f"\n(in-process: median (range) of {args.calls} calls, baseline interleaved call by call in the same "
          "process; the replies of both are compared and must be equal)")
    shown = ", ".join(f"{p}: {median(v) * 1000:.2f} ms" for p, v in overview.items())
    verdict("coverage", "/status overview in-process at 10^6, by periods per indicator", "< 1 ms each", shown,
            all(median(v) < 0.001 for v in overview.values()))


if __name__ == "__main__":
    main()
