"""Delivering reminders: exactly-once hand-over to a sink (the outbox service, or the console), and the ticker."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from commands import Caller, dispatch
from commands.mail import reminder_calendar, reminder_subject
from commands.reminders import Bundle, bundle_reply, claim_all, due_reminders
from commands.reply import Reply, ReplyBuilder
from commands.texts import text

from .runtime import Outgoing, Sink

if TYPE_CHECKING:
    from storage.outbox import Outbox

    from .workspace import Monitor

__all__ = ["KeepingSink", "OutboxCollector", "ReminderService", "deliver_reminders", "dispatch_keeping"]


@runtime_checkable
class KeepingSink(Protocol):
    """A sink that keeps what it is handed in the outbox until every target has it (the outbox service).

    `keep` writes messages to the outbox in one atomic step, each with the reminder keys it carries (`keys`
    runs parallel to `messages`); `hand_over` then passes a kept message on for sending. Plain sinks (the
    console) just get called.
    """

    def __call__(self, message: Outgoing) -> None: ...

    def keep(self, messages: Sequence[Outgoing], keys: Sequence[Sequence[str]]) -> list[int]: ...

    def hand_over(self, message: Outgoing, item: int | None) -> None: ...

log = logging.getLogger(__name__)

# Ticker, JobQueue job and CLI may run at once in one process; claim_all() already prevents duplicates,
# this lock only keeps the messages of one run together.
_RUN_LOCK = threading.Lock()


def deliver_reminders(monitor: Monitor, sink: Sink, now: datetime | None = None) -> list[Bundle]:
    """Send what is due at `now`: one message per recipient, each recorded as sent BEFORE the sink gets it.

    With a KeepingSink the messages go into the outbox, with their reminder keys, before the store's sent marks
    are written (one store transaction around both): a crash between the two leaves the messages in the outbox,
    and the next start records their keys from there (Monitor.record_outbox_claims). So a crash neither loses
    nor doubles a reminder. A plain sink gets each message once it is recorded. Reminders missed while the
    process was down come out on the first call after start, if they are still relevant.
    Returns the bundles handed to the sink.
    """
    state = monitor.state
    now = now or monitor.now()
    keeping = sink if isinstance(sink, KeepingSink) else None
    claimed: list[Bundle] = []
    messages: list[Outgoing] = []
    items: list[int | None] = []
    with _RUN_LOCK:
        monitor.record_outbox_claims()
        try:
            with monitor.store.transaction():
                claimed = claim_all(state, due_reminders(state, now), now)
                messages = [Outgoing((c.recipient,), bundle_reply(state, c), kind="reminder", key=c.key,
                                     subject=reminder_subject(state, c), calendar=reminder_calendar(state, c, now))
                            for c in claimed]
                if keeping is not None and messages:
                    items = list(keeping.keep(messages, [c.keys for c in claimed]))
        except Exception:
            if not items:
                raise
            # The outbox holds them (and their keys): they go out; the store learns the keys at the next run.
            log.exception("reminders kept in the outbox, but their sent marks were not written")
        for k, message in enumerate(messages):
            try:
                if keeping is not None:
                    keeping.hand_over(message, items[k] if k < len(items) else None)
                else:
                    sink(message)
            except Exception:  # one failing recipient must not hold up the others
                log.exception("reminder for %s not handed over", message.recipients[0])
    return claimed


def dispatch_keeping(monitor: Monitor, said: str, caller: Caller, now: datetime, *,
                     outbox: Outbox | None = None) -> tuple[Reply, dict[int, int | None]]:
    """Answer a chat command and put its notices into the outbox; returns the reply and the item of each notice
    (by index; None if the outbox could not take it).

    The command runs in one store transaction. Reminders it sends (`/erinnerungen senden`) go into the outbox
    inside it, with the keys marked sent, so that their sent marks and outbox entries are never separated by a
    crash (the next start records keys found in the outbox). Other notices follow once the change is stored.
    A store that cannot be written gives an error reply, and nothing of the command is kept. Without an outbox
    (a monitor made without one) every notice goes out unkept, as when the outbox cannot be written.
    """
    from .outbox_service import outbox_entry

    box = outbox if outbox is not None else monitor.outbox
    store = monitor.store
    kept: dict[int, int | None] = {}
    try:
        with store.transaction() as marked:
            reply = dispatch(monitor.state, said, caller, now)
            keyed = [k for k, n in enumerate(reply.notices) if n.key]
            if keyed and marked and box is not None:
                items = box.add_many([outbox_entry(reply.notices[k], now, tuple(marked)) for k in keyed])
                kept = dict(zip(keyed, items, strict=True))
    except BaseException as exc:
        for item in kept.values():
            if item is not None and box is not None:
                box.finish(item)  # the marks were not written: these reminders are still due
        if not isinstance(exc, OSError):
            raise
        log.error("store not writable: %s", type(exc).__name__)
        lang = caller.language or monitor.settings.language
        return ReplyBuilder().line(text(lang, "store_write_failed", path=store.path,
                                        detail=exc.strerror or type(exc).__name__)).build("error"), {}
    for k, notice in enumerate(reply.notices):
        if k in kept:
            continue
        if box is None:
            kept[k] = None
            continue
        try:
            kept[k] = box.add_many([outbox_entry(notice, now)])[0]
        except Exception:  # an unwritable outbox must not lose the reply; the notice goes out unkept
            log.exception("outbox not writable; the %s is kept in memory only", notice.kind)
            kept[k] = None
    return reply, kept


class OutboxCollector:
    """A KeepingSink that only keeps: the messages go into the monitor's outbox (with their keys) and are
    collected here; the next `sozialmonitor run` (or an outbox service started now) delivers them."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor
        self.kept: list[tuple[Outgoing, int | None]] = []

    def __call__(self, message: Outgoing) -> None:
        self.hand_over(message, self.keep([message], [()])[0])

    def keep(self, messages: Sequence[Outgoing], keys: Sequence[Sequence[str]]) -> list[int]:
        from .outbox_service import outbox_entry

        outbox = self.monitor.outbox
        if outbox is None:  # nowhere to keep them: their reminders stay due (the caller's transaction is undone)
            raise RuntimeError("the monitor has no outbox")
        now = self.monitor.now()
        return outbox.add_many([outbox_entry(m, now, own) for m, own in zip(messages, keys, strict=True)])

    def hand_over(self, message: Outgoing, item: int | None) -> None:
        self.kept.append((message, item))


class ReminderService:
    """Service: asks the engine every `check_minutes` (and once at start, to catch up) and delivers to `sink`
    (the outbox service of `sozialmonitor run`, whatever channels it serves, or the console)."""

    def __init__(self, monitor: Monitor, sink: Sink, *, interval: float | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.monitor = monitor
        self.sink = sink
        self.interval = interval if interval is not None else monitor.settings.reminders.check_minutes * 60
        self.clock = clock or monitor.now
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="erinnerungen", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def tick(self) -> list[Bundle]:
        try:
            return deliver_reminders(self.monitor, self.sink, self.clock())
        except Exception:
            log.exception("reminder run failed")
            return []
        finally:
            self.runs += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(max(self.interval, 0.01))
