"""Shared fixtures: real workspaces in temp folders, a real store, the command state."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.run import Front
from bot.workspace import Monitor, create_workspace
from commands import Caller
from commands.state import State

BERLIN = ZoneInfo("Europe/Berlin")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _no_thread_leaks() -> Iterator[None]:
    """Every test must stop the threads it starts (watchdog's own suite does the same)."""
    before = set(threading.enumerate())
    yield
    leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    for t in leaked:
        t.join(timeout=5)
    leaked = [t.name for t in leaked if t.is_alive()]
    assert not leaked, f"threads left running: {leaked}"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A freshly initialised workspace, as `sozialmonitor init` leaves it."""
    path = tmp_path / "ws"
    create_workspace(path, today=date(2018, 9, 21))
    return path


@pytest.fixture
def demo_workspace(tmp_path: Path) -> Path:
    path = tmp_path / "demo"
    create_workspace(path, demo_data=True, today=date(2026, 11, 25))
    return path


@pytest.fixture
def team_workspace(tmp_path: Path) -> Path:
    """Plain `init` with the demo's offices, indicators and persons in the catalogue: the 2018 meetings, no
    protocols and no deliveries yet (the demo itself records the 2018 protocols as history)."""
    from bot import demo
    from storage.catalogue import render_catalogue

    path = tmp_path / "team"
    create_workspace(path, today=date(2018, 9, 21))
    (path / "katalog.toml").write_text(render_catalogue(demo.measures(), offices=demo.OFFICES,
                                                        indicators=demo.INDICATORS, persons=demo.PERSONS),
                                       encoding="utf-8")
    return path


@pytest.fixture
def team_monitor(team_workspace: Path) -> Iterator[Monitor]:
    m = Monitor.open(team_workspace, env={})
    yield m
    m.close()


@pytest.fixture
def monitor(workspace: Path) -> Iterator[Monitor]:
    m = Monitor.open(workspace, env={})
    yield m
    m.close()


@pytest.fixture
def demo_monitor(demo_workspace: Path) -> Iterator[Monitor]:
    m = Monitor.open(demo_workspace, env={})
    yield m
    m.close()


@pytest.fixture
def state(monitor: Monitor) -> State:
    return monitor.state


@pytest.fixture
def operator() -> Caller:
    return Caller(operator=True)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (for a server started later, or never)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def at(text: str) -> datetime:
    """'2018-09-21 10:00' in Europe/Berlin."""
    return datetime.fromisoformat(text).replace(tzinfo=BERLIN)


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run the real `sozialmonitor` command (python -m bot) in a subprocess."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SOZIALMONITOR_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd or ROOT, env=full_env, input=input,
                          capture_output=True, text=True, timeout=timeout)


class RunningFront:
    """A chat front (TelegramBot, MatrixBot) serving in its own thread and event loop, as `sozialmonitor run`
    serves it."""

    def __init__(self, front: Front, name: str = "bot", *, up: float = 30, down: float = 30) -> None:
        self.bot = front
        self.name, self.up, self.down = name, up, down
        self.ready = threading.Event()
        self.error: BaseException | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_event: asyncio.Event | None = None
        self.thread = threading.Thread(target=self._main, name=f"test-{name}")

    def _main(self) -> None:
        async def go() -> None:
            self.loop = asyncio.get_running_loop()
            self.stop_event = asyncio.Event()
            await self.bot.serve(self.stop_event, ready=lambda name: self.ready.set())

        try:
            asyncio.run(go())
        except BaseException as exc:
            self.error = exc
        finally:
            self.ready.set()

    def start(self, wait: bool = True) -> RunningFront:
        self.thread.start()
        if wait:
            assert self.ready.wait(self.up), f"{self.name} did not come up"
            if self.error:
                raise self.error
        return self

    def stop(self) -> None:
        deadline = time.monotonic() + 5
        while self.stop_event is None and time.monotonic() < deadline:  # started without waiting: not yet serving
            time.sleep(0.01)
        assert self.loop is not None and self.stop_event is not None
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.thread.join(self.down)
        assert not self.thread.is_alive(), f"{self.name} did not stop"
        if self.error:
            raise self.error
