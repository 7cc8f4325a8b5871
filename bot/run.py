"""`sozialmonitor run`: the chat (Telegram or console) with the background services, until a signal."""

from __future__ import annotations

import signal
import threading

from .console import ConsoleChat
from .workspace import Monitor

__all__ = ["run"]


def run(monitor: Monitor, *, console: bool = False) -> int:
    chat = ConsoleChat(monitor)
    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, on_signal)
    try:
        chat.loop(stop)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, old)
    return 0
