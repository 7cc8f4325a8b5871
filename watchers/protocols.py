"""The protocols folder: a file `Mxx_JJJJ-MM-TT*.pdf|.docx|.odt` dropped there is recorded as sent for signature.

Its notices are data (`watchers.results.Notice`), worded by the renderer its source hands in (`ingest_words`).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import stat
import threading
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver

from storage.catalogue import normalize_measure
from storage.messages import ADMINS, Outgoing, Sink
from storage.models import Protocol

from . import files
from .pipeline import is_ignored
from .results import Notice
from .seams import IngestWords, ProtocolSource
from .watcher import no_follow_polling_observer

__all__ = [
    "PROTOCOL_EXTENSIONS",
    "ProtocolFolderWatcher",
    "ProtocolName",
    "ProtocolResult",
    "handle_protocol_file",
    "is_ignored",
    "parse_protocol_name",
]

log = logging.getLogger(__name__)

PROTOCOL_EXTENSIONS = ("pdf", "docx", "odt")
_NAME = re.compile(r"^(M\s?\d{2})_(\d{4})-(\d{2})-(\d{2})(?:[^/\\]*)\.(pdf|docx|odt)$", re.IGNORECASE)
_MAX_BYTES = 200 * 1024 * 1024  # a protocol is hashed, never parsed; the cap only keeps memory bounded


@dataclass(frozen=True)
class ProtocolName:
    measure: str  # normalised, "M21"
    day: date
    extension: str


@dataclass(frozen=True)
class ProtocolResult:
    """status: recorded | attached | updated | reset | unchanged | rejected | ignored."""

    file: str
    status: str
    protocol: Protocol | None = None
    reason: str = ""


def parse_protocol_name(name: str) -> ProtocolName | None:
    """'M21_2018-09-20_Protokoll.pdf' -> ProtocolName('M21', 2018-09-20, 'pdf'); None if it does not fit."""
    match = _NAME.match(name.strip())
    if not match:
        return None
    measure = normalize_measure(match.group(1).replace(" ", ""))
    try:
        day = date(int(match.group(2)), int(match.group(3)), int(match.group(4)))
    except ValueError:
        return None
    return ProtocolName(measure or match.group(1), day, match.group(5).lower()) if measure else None


@dataclass(frozen=True)
class _Sender:
    """Hands a notice, worded by the source's renderer in the workspace's language, to the sink."""

    sink: Sink | None
    words: IngestWords
    lang: str

    def __call__(self, recipients: list[str] | tuple[str, ...], notice: Notice, kind: str = "notice",
                 key: str = "") -> None:
        if self.sink is None or not recipients:
            return
        try:
            self.sink(Outgoing(tuple(recipients), self.words.message(notice, self.lang), kind=kind, key=key))
        except Exception:  # a failing chat must not stop the folder handling
            log.exception("protocol notice not delivered")


def _read_protocol(path: Path) -> bytes:
    """The protocol's bytes, read without following a link (raises files.NotAFile for anything else)."""
    fd, st = files.open_file(path)
    with os.fdopen(fd, "rb") as fh:
        if st.st_size > _MAX_BYTES:
            raise OSError("zu groß")
        return fh.read(_MAX_BYTES + 1)


def handle_protocol_file(monitor: ProtocolSource, path: Path, sink: Sink | None,
                         now: datetime | None = None) -> ProtocolResult:
    """Record one file of the protocols folder and tell the signatories (or the admins, if it fits no meeting).

    `monitor` needs `.state` (catalogue, store and language), `.ingest_words` and `.now()`. The store is the memory:
    the same content again changes nothing, a different file for a protocol already being signed resets its
    signatures.
    """
    state = monitor.state
    store = state.store
    send = _Sender(sink, monitor.ingest_words, state.lang)
    name = files.readable(path.name)  # what people read and the store keeps; the file keeps its real name
    now = now or monitor.now()
    today = state.local(now).date()
    try:
        st = os.lstat(path)
    except OSError:
        return ProtocolResult(name, "ignored")
    if is_ignored(name) or stat.S_ISDIR(st.st_mode):
        return ProtocolResult(name, "ignored")
    digest = ""

    def reject(reason: str, notice: Notice) -> ProtocolResult:
        # Rescans find the same file again and again: tell the admins once per file content and name.
        key = f"protokoll-datei-abgelehnt:{digest[:16] or f'eintrag-{st.st_ino}'}:{name}"
        with store.locked():
            if key in store.sent_keys():
                return ProtocolResult(name, "rejected", reason=reason)
            store.mark_sent([key], at=now, recipient=ADMINS)
        send([ADMINS], notice, "error", key)
        return ProtocolResult(name, "rejected", reason=reason)

    try:
        data = _read_protocol(path)
    except files.NotAFile as exc:
        # A link, FIFO, device or socket: never opened; it stays where it is, reported once.
        return reject("refused", Notice("protocol_refused", {"file": name, "kind": exc.kind}))
    except FileNotFoundError:
        return ProtocolResult(name, "ignored")
    except (OSError, files.Replaced) as exc:
        detail = getattr(exc, "strerror", None) or str(exc)
        send([ADMINS], Notice("protocol_unreadable", {"file": name, "detail": detail}), "error")
        return ProtocolResult(name, "rejected", reason="unreadable")
    digest = hashlib.sha256(data).hexdigest()

    parsed = parse_protocol_name(name)
    if parsed is None:
        return reject("name", Notice("protocol_bad_name", {"file": name}))
    measure = state.catalogue.measures.get(parsed.measure)
    if measure is None:
        return reject("measure", Notice("protocol_unknown_measure", {
            "file": name, "found": parsed.measure, "known": ", ".join(state.catalogue.measures)}))
    meetings = store.meetings(measure.id)
    meeting = next((m for m in meetings if m.day == parsed.day), None)
    if meeting is None:
        return reject("meeting", Notice("protocol_no_meeting", {
            "file": name, "measure": measure.number, "day": parsed.day,
            "known": tuple(m.day for m in meetings if m.day), "command": measure.id}))

    with store.locked():
        existing = store.protocol(measure.id, parsed.day)
        if existing is not None and existing.file_hash == digest:
            return ProtocolResult(name, "unchanged", existing)
        signers_before = [s.person for s in store.signatures(existing.id)] if existing else []
        people = (list(existing.signatories) if existing and existing.signatories
                  else state.catalogue.meeting_participants(meeting))
        # A protocol first recorded with /protokoll keeps its date sent; its file merely arrives now.
        attach = existing is not None and not existing.file_hash
        protocol, reset = store.record_protocol(
            measure.id, parsed.day, sent_on=existing.sent_on if attach and existing else today,
            signatories=people, file=name, file_hash=digest)

    params = {"measure": measure.number, "day": parsed.day, "file": name, "command": measure.id}
    if reset:
        status, notice = "reset", Notice("protocol_reset", params)
        send([ADMINS], Notice("protocol_reset_admins", {"names": ", ".join(signers_before), **params}))
    elif existing is not None and not attach:
        status, notice = "updated", Notice("protocol_updated", params)
    else:
        status, notice = ("attached" if attach else "recorded"), Notice("protocol_announce", params)
        if people:
            send([ADMINS], Notice("protocol_recorded_admins", {"n": len(people), **params}))
    if people:
        send(people, notice, "notice", f"protokoll-datei:{protocol.id}:v{protocol.version}:{digest[:16]}")
    else:
        send([ADMINS], Notice("protocol_no_signatories", params))
    return ProtocolResult(name, status, protocol)


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: ProtocolFolderWatcher) -> None:
        self.watcher = watcher

    def on_created(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.watcher.note(Path(os.fsdecode(event.src_path)))

    def on_modified(self, event: FileSystemEvent) -> None:
        self.on_created(event)

    def on_closed(self, event: FileSystemEvent) -> None:
        self.on_created(event)

    def on_moved(self, event: FileSystemEvent) -> None:
        # Office programs save by renaming a temp file to the real name: only the move is reported.
        if not event.is_directory:
            self.watcher.note(Path(os.fsdecode(event.dest_path)))


class ProtocolFolderWatcher:
    """Service: watches `ablage/protokolle/` (watchdog + periodic rescan) and records the protocols dropped there.

    A file is handled once its size and modification time have been stable for `stable_seconds`; files
    already waiting at start are handled too. The handling itself is `handle_protocol_file`.
    """

    def __init__(self, monitor: ProtocolSource, sink: Sink | None, *, folder: Path | None = None,
                 polling: bool | None = None, stable_seconds: float | None = None,
                 rescan_seconds: float | None = None) -> None:
        settings = monitor.settings
        self.monitor = monitor
        self.sink = sink
        self.folder = Path(folder or settings.protocols)
        self.polling = settings.watcher.polling if polling is None else polling
        self.stable = settings.watcher.stable_seconds if stable_seconds is None else stable_seconds
        self.rescan = settings.watcher.rescan_minutes * 60 if rescan_seconds is None else rescan_seconds
        self._pending: dict[Path, tuple[tuple[int, int, int], float]] = {}
        self._seen: dict[Path, tuple[int, int, int]] = {}
        self._waiting: set[Path] = set()  # files whose meeting is not entered yet: retried at every rescan
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._observer: BaseObserver | None = None
        self.handled: list[ProtocolResult] = []  # for tests and the operator's log

    def note(self, path: Path) -> None:
        """A file may have appeared or changed (called from watchdog's thread)."""
        if is_ignored(path.name) or path.parent != self.folder:
            return
        with self._lock:
            self._pending.setdefault(path, ((-1, -1, -1), 0.0))
        self._wake.set()

    def scan(self) -> None:
        try:
            entries = list(os.scandir(self.folder))
        except OSError:
            return
        for entry in entries:
            # Links and special files too (they are reported, never followed); only real folders are skipped.
            if not is_ignored(entry.name) and not entry.is_dir(follow_symlinks=False):
                path = Path(entry.path)
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if self._seen.get(path) != files.signature(st):
                    self.note(path)

    def start(self) -> None:
        if self._thread is not None:
            return
        try:
            # Only protokolle/ itself: creating a missing share root would watch a local stand-in folder.
            if not self.folder.parent.is_dir():
                raise FileNotFoundError(2, "Ordner fehlt", str(self.folder.parent))
            self.folder.mkdir(exist_ok=True)
            observer = no_follow_polling_observer([self.folder], 1.0) if self.polling else Observer()
            observer.schedule(_Handler(self), str(self.folder), recursive=False)
            observer.start()
            self._observer = observer
        except OSError:
            # Watch limits, or a share not mounted yet: the periodic rescan still finds every protocol, only later.
            log.exception("watching %s failed; relying on rescans", self.folder)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="protokolle-watcher", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=10)
            self._observer = None
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        next_scan = 0.0
        while not self._stop.is_set():
            wait = 5.0
            try:
                if time.monotonic() >= next_scan:
                    self.scan()
                    next_scan = time.monotonic() + max(self.rescan, 1.0)
                wait = self._work()
            except Exception:
                # An unreachable share or a file that vanished must not end the thread: look again later.
                log.exception("protocols folder: pass failed; trying again")
                next_scan = time.monotonic() + 5.0
            self._wake.wait(timeout=min(wait, max(next_scan - time.monotonic(), 0.0)))
            self._wake.clear()

    def _work(self) -> float:
        """Handle every pending file that has been stable long enough; returns seconds until the next look."""
        now = time.monotonic()
        with self._lock:
            pending = list(self._pending.items())
        wait = 3600.0
        for path, (signature, since) in pending:
            if self._stop.is_set():
                break
            try:
                st = os.lstat(path)  # a link is looked at as itself (and refused), never through
            except OSError:
                with self._lock:
                    self._pending.pop(path, None)
                continue
            current = files.signature(st)
            if current != signature:
                with self._lock:
                    self._pending[path] = (current, now)
                wait = min(wait, self.stable)
                continue
            if now - since < self.stable:
                wait = min(wait, self.stable - (now - since))
                continue
            with self._lock:
                self._pending.pop(path, None)
            try:
                result = handle_protocol_file(self.monitor, path, self.sink)
            except Exception:
                log.exception("protocol file %s not handled", path)
                continue
            # A protocol of a meeting not entered yet is looked at again by each rescan: once the meeting is
            # entered (/termin, as the rejection suggests), the file is recorded without being dropped again.
            if result.status == "rejected" and result.reason == "meeting":
                if path in self._waiting:
                    continue
                self._waiting.add(path)
            else:
                self._waiting.discard(path)
                self._seen[path] = current
            self.handled.append(result)
        return max(wait, 0.05)
