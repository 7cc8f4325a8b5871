"""Bot benchmark: /status requests from many chats through the real Application, at 10^4 and 10^6 observations.

The fake Bot API and the clients run in a separate process (`--server`), so that the bot's process does only the
bot's work; each chat is a closed-loop client (asks, waits for the answer, asks again). The two store sizes take
turns, round after round, against the same server; both have every row loaded (as after the first delivery or
report) and frozen out of the collector, as the running monitor has. Baselines from the same run: the fake
server's own HTTP echo round trip, and the bare /status dispatch without Telegram.
Latency is measured inside the fake server: from queuing the user's update to the bot's sendMessage.
Usage: python bench/bot.py [--requests 500] [--chats 20] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

# The project before bench/ (the script's folder): `bot` is the package, not bench/bot.py.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import ROOT, median, pct, process_env, verdict
from stores import workspace_with

FIRST_CHAT = 200000001
SIZES = (10_000, 1_000_000)


# ---------------------------------------------------------------------- the server process
def serve(chats: int) -> None:
    """Run the fake Bot API and, on request (one JSON line on stdin), the closed-loop clients against it."""
    sys.path.insert(0, str(ROOT))
    from tests.fakebotapi import FakeBotAPI

    with FakeBotAPI() as api:
        print(json.dumps({"token": api.token, "base_url": api.base_url, "username": api.bot_username}), flush=True)
        for line in sys.stdin:
            order = json.loads(line)
            if order["op"] == "quit":
                break
            start = time.perf_counter()
            if order["op"] == "echo":
                latencies = api.echo(order["requests"])
            else:
                latencies = clients(api, order["requests"], chats, f"/status@{api.bot_username}")
            print(json.dumps({"latencies": latencies, "wall": time.perf_counter() - start}), flush=True)


def clients(api, requests: int, chats: int, ask: str) -> list[float]:
    latencies: list[float] = []
    lock = threading.Lock()

    def client(chat_id: int, count: int) -> None:
        for _ in range(count):
            _, seconds = api.roundtrip(chat_id, ask, timeout=60)
            with lock:
                latencies.append(seconds)

    per_chat = [requests // chats + (1 if n < requests % chats else 0) for n in range(chats)]
    threads = [threading.Thread(target=client, args=(FIRST_CHAT + n, per_chat[n])) for n in range(chats)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies


class Server:
    """The server process, driven line by line."""

    def __init__(self, chats: int) -> None:
        self.proc = subprocess.Popen([sys.executable, __file__, "--server", str(chats)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, env=process_env(), cwd=ROOT)
        self.info = self._read()

    def _read(self) -> dict:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("the fake Bot API process ended")
        return json.loads(line)

    def ask(self, op: str, requests: int) -> dict:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": op, "requests": requests}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
        self.proc.stdin.close()
        self.proc.wait(30)


# ---------------------------------------------------------------------- the bot process (this one)
def with_members(monitor, chats: int) -> None:
    """Every benchmark chat belongs to a catalogue member (private chats)."""
    from storage.models import MEMBER, Person

    extra = tuple(Person(f"Bench {n}", "Amt 61", FIRST_CHAT + n, MEMBER, ("M21",)) for n in range(chats))
    monitor.catalogue = replace(monitor.catalogue, persons=monitor.catalogue.persons + extra)


def run_bot(monitor, server: Server, limits, requests: int) -> dict:
    from bot.telegram_bot import TelegramBot

    bot = TelegramBot(monitor, token=server.info["token"], api_url=server.info["base_url"], limits=limits)
    ready = threading.Event()
    holder: dict = {}

    def loop() -> None:
        async def go() -> None:
            holder["loop"], holder["stop"] = asyncio.get_running_loop(), asyncio.Event()
            await bot.serve(holder["stop"], ready=lambda username: ready.set())

        asyncio.run(go())

    thread = threading.Thread(target=loop, name="bench-bot")
    thread.start()
    if not ready.wait(60):
        raise SystemExit("bot did not start")
    pauses: list[tuple[int, float, float]] = []  # generation, wall seconds, CPU seconds of the collecting thread
    started: list[tuple[float, float]] = []

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            started.append((time.perf_counter(), time.thread_time()))
        elif started:
            wall, cpu = started.pop()
            pauses.append((info["generation"], time.perf_counter() - wall, time.thread_time() - cpu))

    gc.callbacks.append(on_gc)
    result = server.ask("load", requests)
    gc.callbacks.remove(on_gc)
    holder["loop"].call_soon_threadsafe(holder["stop"].set)
    thread.join(60)
    result["throughput"] = len(result["latencies"]) / result["wall"]
    result["gc_max"] = max((w for _, w, _ in pauses), default=0.0)
    result["gc_cpu_max"] = max((c for _, _, c in pauses), default=0.0)
    result["gc_full"] = sum(1 for g, _, _ in pauses if g == 2)
    return result


def bare(monitor, requests: int) -> list[float]:
    from commands import Caller, dispatch

    caller = Caller(user_id=FIRST_CHAT, chat_id=FIRST_CHAT, person=monitor.catalogue.person_by_telegram(FIRST_CHAT))
    out = []
    for _ in range(requests):
        t = time.perf_counter()
        dispatch(monitor.state, "/status", caller, monitor.now())
        out.append(time.perf_counter() - t)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--server", type=int, metavar="CHATS")
    args = parser.parse_args()
    if args.server:
        serve(args.server)
        return

    sys.path.insert(0, str(ROOT))
    from tabulate import tabulate

    from bot.telegram_bot import Limits
    from bot.workspace import Monitor

    unlimited = Limits(chat_rate=0, overall_per_second=0, group_per_minute=0)
    with tempfile.TemporaryDirectory(prefix="bench-bot-") as tmp:
        monitors = {}
        for n in SIZES:
            (Path(tmp) / str(n)).mkdir()
            monitors[n] = Monitor.open(workspace_with(Path(tmp) / str(n), n), env={})
            with_members(monitors[n], args.chats)
            assert monitors[n].store.observation_count >= n  # every row loaded (and frozen: Monitor's on_load)
        server = Server(args.chats)
        try:
            server.ask("echo", 20)  # warm-up
            echo = server.ask("echo", args.requests)
            runs: dict[int, list[dict]] = {n: [] for n in SIZES}
            for n in SIZES:  # warm-up round, not counted: first connections, first imports
                run_bot(monitors[n], server, unlimited, args.chats)
            for k in range(args.rounds):
                # The order alternates: whatever drifts during a run (the machine, the server's logs) falls on
                # each size in turn, not always on the one measured second.
                for n in SIZES if k % 2 == 0 else SIZES[::-1]:
                    runs[n].append(run_bot(monitors[n], server, unlimited, args.requests))
            limited = run_bot(monitors[SIZES[-1]], server, Limits(), min(args.requests, 200))
            bare_runs = {n: bare(monitors[n], args.requests) for n in SIZES}
        finally:
            server.close()
            for m in monitors.values():
                m.close()

    rows = [["fake server: HTTP echo round trip (server process)", "", f"{len(echo['latencies']) / echo['wall']:,.0f}",
             f"{median(echo['latencies']) * 1000:.1f}", f"{pct(echo['latencies'], .95) * 1000:.1f}", "", ""]]
    for n in SIZES:
        values = bare_runs[n]
        rows.append([f"/status dispatch alone (no Telegram), {n:,}", "", f"{len(values) / sum(values):,.0f}",
                     f"{median(values) * 1000:.2f}", f"{pct(values, .95) * 1000:.2f}", "", ""])
    for n in SIZES:
        tps = [r["throughput"] for r in runs[n]]
        lat = [x for r in runs[n] for x in r["latencies"]]
        rows.append([f"bot, flood limits off, {n:,} observations", f"{args.rounds}×{args.requests}",
                     f"{median(tps):,.0f} ({min(tps):,.0f}–{max(tps):,.0f})", f"{median(lat) * 1000:.1f}",
                     f"{pct(lat, .95) * 1000:.1f}", f"{pct(lat, .99) * 1000:.1f}",
                     f"{max(r['gc_max'] for r in runs[n]) * 1000:.1f} wall, "
                     f"{max(r['gc_cpu_max'] for r in runs[n]) * 1000:.1f} CPU; "
                     f"{sum(r['gc_full'] for r in runs[n])} full"])
    lat = limited["latencies"]
    rows.append([f"bot, Telegram limits (30/s, 1/s per chat), {SIZES[-1]:,}", len(lat), f"{limited['throughput']:,.0f}",
                 f"{median(lat) * 1000:.1f}", f"{pct(lat, .95) * 1000:.1f}", f"{pct(lat, .99) * 1000:.1f}",
                 f"{limited['gc_max'] * 1000:.1f} wall, {limited['gc_cpu_max'] * 1000:.1f} CPU; "
                 f"{limited['gc_full']} full"])
    print(f"/status requests from {args.chats} chats, closed loop; fake Bot API and clients in their own process; "
          f"the two store sizes take turns over {args.rounds} rounds")
    print(tabulate(rows, headers=["path", "requests", "per second (range)", "p50 ms", "p95 ms", "p99 ms",
                                  "longest GC pause ms; full collections"], tablefmt="github", disable_numparse=True))
    small, large = (median([r["throughput"] for r in runs[n]]) for n in SIZES)
    # Each round runs the two sizes back to back: the ratio within a round is what the machine's load drifts least.
    ratios = [b["throughput"] / a["throughput"] for a, b in zip(runs[SIZES[0]], runs[SIZES[-1]], strict=True)]
    print(f"10^6 / 10^4 per round: {', '.join(f'{r:.0%}' for r in ratios)}; median {median(ratios):.0%}")
    verdict("bot", "bot throughput at 10^6 vs 10^4 (limits off, rows loaded)", ">= 90%",
            f"{large:,.0f} vs {small:,.0f} req/s; per round {min(ratios):.0%}–{max(ratios):.0%}, "
            f"median {median(ratios):.0%}", median(ratios) >= 0.9)


if __name__ == "__main__":
    main()
