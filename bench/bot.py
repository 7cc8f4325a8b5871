"""Bot benchmark: /status requests from many chats through the real Application and the fake Bot API.

Each chat is a closed-loop client (asks, waits for the answer, asks again). Beside the bot, the same run
measures the fake server's own HTTP echo round trip and the bare /status dispatch (no Telegram), so the
bot's numbers read as ratios against baselines taken on the same machine at the same moment.
Latency is measured inside the fake server: from queuing the user's update to the bot's sendMessage.
Usage: python bench/bot.py [--requests 200] [--chats 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tabulate import tabulate  # noqa: E402

from bot.telegram_bot import Limits, TelegramBot  # noqa: E402
from bot.workspace import Monitor, create_workspace  # noqa: E402
from commands import Caller, dispatch  # noqa: E402
from storage.models import MEMBER, Person  # noqa: E402
from tests.fakebotapi import FakeBotAPI  # noqa: E402

FIRST_CHAT = 200000001


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def row(name: str, latencies: list[float], wall: float) -> list[object]:
    return [name, len(latencies), f"{len(latencies) / wall:,.0f}", f"{statistics.median(latencies) * 1000:.1f}",
            f"{p95(latencies) * 1000:.1f}"]


def with_members(monitor: Monitor, chats: int) -> None:
    """Every benchmark chat belongs to a catalogue member (private chats, ~1 msg/s each under the limits)."""
    extra = tuple(Person(f"Bench {n}", "Amt 61", FIRST_CHAT + n, MEMBER, ("M21",)) for n in range(chats))
    monitor.catalogue = replace(monitor.catalogue, persons=monitor.catalogue.persons + extra)


def run_bot(monitor: Monitor, api: FakeBotAPI, limits: Limits, requests: int, chats: int) -> tuple[list[float], float]:
    bot = TelegramBot(monitor, token=api.token, api_url=api.base_url, limits=limits)
    ready = threading.Event()
    holder: dict[str, object] = {}

    def serve() -> None:
        async def go() -> None:
            holder["loop"], holder["stop"] = asyncio.get_running_loop(), asyncio.Event()
            await bot.serve(holder["stop"], ready=lambda username: ready.set())  # type: ignore[arg-type]

        asyncio.run(go())

    thread = threading.Thread(target=serve, name="bench-bot")
    thread.start()
    if not ready.wait(30):
        raise SystemExit("bot did not start")
    ask = f"/status@{api.bot_username}"
    latencies: list[float] = []
    lock = threading.Lock()

    def client(chat_id: int, count: int) -> None:
        for _ in range(count):
            _, seconds = api.roundtrip(chat_id, ask, timeout=60)
            with lock:
                latencies.append(seconds)

    per_chat = [requests // chats + (1 if n < requests % chats else 0) for n in range(chats)]
    clients = [threading.Thread(target=client, args=(FIRST_CHAT + n, per_chat[n])) for n in range(chats)]
    start = time.perf_counter()
    for c in clients:
        c.start()
    for c in clients:
        c.join()
    wall = time.perf_counter() - start
    loop, stop = holder["loop"], holder["stop"]
    loop.call_soon_threadsafe(stop.set)  # type: ignore[union-attr]
    thread.join(30)
    return latencies, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--chats", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        create_workspace(Path(tmp) / "ws", demo_data=True, today=date.today())
        monitor = Monitor.open(Path(tmp) / "ws", env={})
        try:
            with_members(monitor, args.chats)
            rows = []
            with FakeBotAPI() as api:
                api.echo(20)  # warm-up
                start = time.perf_counter()
                echo = api.echo(args.requests)
                rows.append(row("fake server: HTTP echo round trip", echo, time.perf_counter() - start))

                caller = Caller(user_id=FIRST_CHAT, chat_id=FIRST_CHAT,
                                person=monitor.catalogue.person_by_telegram(FIRST_CHAT))
                bare = []
                start = time.perf_counter()
                for _ in range(args.requests):
                    t0 = time.perf_counter()
                    dispatch(monitor.state, "/status", caller, monitor.now())
                    bare.append(time.perf_counter() - t0)
                rows.append(row("/status dispatch alone (no Telegram)", bare, time.perf_counter() - start))

                unlimited = Limits(chat_rate=0, overall_per_second=0, group_per_minute=0)
                latencies, wall = run_bot(monitor, api, unlimited, args.requests, args.chats)
                rows.append(row("bot, flood limits off", latencies, wall))
                free_p95 = p95(latencies)

                latencies, wall = run_bot(monitor, api, Limits(), args.requests, args.chats)
                rows.append(row("bot, Telegram limits (30/s, 1/s per chat)", latencies, wall))
        finally:
            monitor.close()

    print(f"{args.requests} /status requests from {args.chats} chats, closed loop (each chat waits for its answer)")
    print(tabulate(rows, headers=["path", "requests", "per second", "p50 ms", "p95 ms"],
                   colalign=("left", "right", "right", "right", "right")))
    print(f"bot p95 (limits off) = {free_p95 / p95(echo):.0f}× the fake server's echo p95, "
          f"{free_p95 / p95(bare):.0f}× the bare dispatch p95")


if __name__ == "__main__":
    main()
