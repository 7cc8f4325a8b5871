"""The folder watcher: watchdog events and periodic rescans feed one worker thread that runs the pipeline."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import queue
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserverVFS

from storage.catalogue import CatalogueProblem
from storage.config import WatcherSettings
from storage.messages import ADMINS, Outgoing, Sink

from . import files
from .followup import FOLLOWUP_FILE, FollowUps, Handled
from .pipeline import (
    CHECK_SUFFIX,
    DUPLICATE,
    GONE,
    HELD,
    IMPORTED,
    REFUSED,
    REJECTED,
    RETRY,
    IngestResult,
    Pipeline,
    check_report_name,
    is_ignored,
)
from .results import Notice
from .seams import CatalogueSource

__all__ = ["FolderWatcher", "no_follow_polling_observer"]

log = logging.getLogger(__name__)

# A file that was created or modified but never closed is read anyway after this long without change:
# writers that close without an inotify event (mmap, some network clients) must not block it forever.
OPEN_GRACE_SECONDS = 30.0
CLOSE_SETTLE_SECONDS = 0.05  # coalesce the burst of events around one close
LIMIT_ERRNOS = (errno.ENOSPC, errno.EMFILE, errno.ENFILE)
# A file that changes after it was archived (its writer had only paused) is read again once it has been
# quiet this long; archived files are watched for changes this long after they were handled.
SETTLE_SECONDS = 5.0
VERIFY_SECONDS = 24 * 3600.0
MAX_SETTLING = 2000  # files watched after handling; the oldest drop out first
_READER_EVENTS = ("opened", "closed_no_write")


def no_follow_polling_observer(roots: list[Path], interval: float) -> BaseObserver:
    """A polling observer that looks at entries with lstat: a link is reported as itself, never entered or
    followed (watchdog's default PollingObserver stats through links and walks into linked folders)."""
    tops = {os.path.abspath(root) for root in roots}

    def look(path: Any) -> os.stat_result:
        # The watched folders themselves may be configured links (a share mounted elsewhere).
        return os.stat(path) if os.fsdecode(path) in tops else os.lstat(path)

    return PollingObserverVFS(look, os.scandir, polling_interval=interval)


@dataclass
class _Pending:
    """A candidate file and what the worker knows about it."""

    hint: str | None
    due: float  # monotonic time of the next look
    signature: tuple[int, int, int] | None = None
    since: float = 0.0  # when `signature` was first seen
    writing: bool = False  # created/modified, no close yet (native observer only)
    closed: bool = False  # a close-after-write or a rename into place: complete
    held: tuple[int, int, int] | None = None  # signature whose parse failed; reject if unchanged next time
    attempts: int = 0
    check: bool = False  # in pruefen/: judged and reported beside it, never stored or moved


@dataclass
class _Settling:
    """A file archived or rejected, watched a while for changes its writer still makes.

    `tracked` (its entry among the pipeline's follow-ups, kept on disk) says where it lies and what was handled."""

    tracked: Handled
    signature: tuple[int, int, int]  # as last seen
    since: float  # monotonic time it was handled
    due: float
    changed: float | None = None  # when a change was last seen; None: unchanged since handled
    verified: bool = False  # its content was compared with what was handled once it was quiet


class _Handler(FileSystemEventHandler):
    def __init__(self, watcher: FolderWatcher) -> None:
        self.watcher = watcher

    def on_created(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.watcher.note(os.fsdecode(event.src_path), "created")
        else:
            # A folder moved or copied in at once brings files that raise no events of their own.
            self.watcher.note_tree(os.fsdecode(event.src_path))

    def on_modified(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.watcher.note(os.fsdecode(event.src_path), "modified")

    def on_opened(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.watcher.note(os.fsdecode(event.src_path), "opened")

    def on_closed(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.watcher.note(os.fsdecode(event.src_path), "closed")

    def on_closed_no_write(self, event: FileSystemEvent) -> None:
        if not event.is_directory:
            self.watcher.note(os.fsdecode(event.src_path), "closed_no_write")

    def on_moved(self, event: FileSystemEvent) -> None:
        # Office saves: write a temp file, rename it to NAME.xlsx — inotify reports only this move.
        dest = os.fsdecode(event.dest_path)
        if event.is_directory:
            self.watcher.note_tree(dest)
        else:
            self.watcher.note(dest, "moved")


class _CatalogueHandler(FileSystemEventHandler):
    def __init__(self, watcher: FolderWatcher, name: str) -> None:
        self.watcher = watcher
        self.name = name

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return  # someone only read it (our own hash, an editor, `sozialmonitor check`): nothing changed
        paths = [event.src_path, getattr(event, "dest_path", "")]
        if any(p and os.path.basename(os.fsdecode(p)) == self.name for p in paths):
            self.watcher.catalogue_changed()


class FolderWatcher:
    """Service: watches eingang/ (and pruefen/ and katalog.toml) and imports each complete file once.

    One worker thread does all the work, so files are processed one after the other in the order they
    became complete. Under the native observer a file is complete when its writer closes it (or it is
    renamed into place); under polling — network shares send no events — when size and mtime stayed the
    same for `stable_seconds`. A file whose parse fails while it is still changing is looked at again,
    not rejected. A periodic rescan catches events the kernel dropped.

    A writer may pause longer than any of these windows. So every archived (or rejected) file is watched for
    `verify_seconds` more: once it has been quiet for `settle_seconds` its content is compared with the hash
    that was handled, and a file that changed is handled again, its final content replacing what its incomplete
    state stored. What was handled is kept on disk (`watchers.followup`), so this survives a restart or a crash.
    Files in pruefen/ are judged the same way and get NAME.pruefung.txt beside them; nothing is stored or moved.
    Links, FIFOs, devices and sockets are never followed or read (see `watchers.files`).
    """

    def __init__(self, monitor: CatalogueSource, pipeline: Pipeline, settings: WatcherSettings | None = None, *,
                 reload_catalogue: Callable[[], list[CatalogueProblem]] | None = None,
                 sink: Sink | None = None,
                 observer_factory: Callable[[], BaseObserver] | None = None,
                 open_grace_seconds: float = OPEN_GRACE_SECONDS,
                 settle_seconds: float = SETTLE_SECONDS,
                 verify_seconds: float = VERIFY_SECONDS) -> None:
        self.monitor = monitor
        self.pipeline = pipeline
        self.settings = settings if settings is not None else monitor.settings.watcher
        self.reload_catalogue = reload_catalogue
        self.sink = sink if sink is not None else pipeline.sink
        self._observer_factory = observer_factory
        self.open_grace = float(open_grace_seconds)
        self.settle = max(float(settle_seconds), 0.05)
        self.verify_seconds = float(verify_seconds)
        if pipeline.followups is None and getattr(monitor.settings, "data", None) is not None:
            # What was handled is remembered on disk, so that a restart does not end the second look.
            pipeline.followups = FollowUps(monitor.settings.data / FOLLOWUP_FILE, keep_seconds=self.verify_seconds)
        self.inbox: Path = monitor.settings.inbox
        self.check_folder: Path = pipeline.check_folder
        self.catalogue_file: Path = monitor.settings.catalogue_file
        self.polling = bool(self.settings.polling)
        self._events: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        self._pending: dict[Path, _Pending] = {}
        # Files handled but not movable out of the inbox (permissions on a share), by the signature handled:
        # retried quietly on each rescan instead of announcing the same import again and again.
        self._stuck: dict[Path, tuple[int, int, int] | None] = {}
        self._settling: dict[str, _Settling] = {}  # by follow-up key
        self._checked: dict[Path, tuple[int, int, int] | None] = {}  # pruefen/: the state last reported on
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._worker: threading.Thread | None = None
        self._observer: BaseObserver | None = None
        self._catalogue_due: float | None = None
        self._catalogue_hash = self._hash_file(self.catalogue_file)
        self._skew: float | None = None  # share clock minus ours, when known to be small
        self.results: list[IngestResult] = []  # every IngestResult, for tests and the console (bounded below)
        self.checks: list[IngestResult] = []  # every check of pruefen/ (bounded below)
        self.idle = threading.Event()  # set whenever nothing is pending

    # ------------------------------------------------------------------ Service
    def start(self) -> None:
        if self._worker is not None:
            return
        self._stop.clear()
        try:
            self._open_inbox()
        except OSError as exc:
            # A network share that is not mounted (yet): keep running, the rescan tries again.
            log.warning("inbox %s not available: %s", self.inbox, exc)
            self._alert(Notice("share_unavailable", {"path": self.inbox, "detail": exc.strerror or str(exc),
                                                    "minutes": float(self.settings.rescan_minutes)}))
        self._resume_followups()
        # The initial scan runs in the worker: files waiting since before the start are imported first.
        self._events.put(("", "rescan"))
        self._worker = threading.Thread(target=self._run, name="sozialmonitor-watcher", daemon=True)
        self._worker.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        observer, self._observer = self._observer, None
        if observer is not None:
            with contextlib.suppress(Exception):
                observer.stop()
            with contextlib.suppress(RuntimeError):
                observer.join(timeout=10)
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.join(timeout=30)

    def __enter__(self) -> FolderWatcher:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ observers
    def _make_observer(self, polling: bool) -> BaseObserver:
        if self._observer_factory is not None and not polling:
            return self._observer_factory()
        if polling:
            return no_follow_polling_observer([self.inbox, self.check_folder, self.catalogue_file.parent],
                                              float(self.settings.poll_interval))
        return Observer()

    def _check_folder_usable(self) -> bool:
        # A real folder only: a pruefen/ replaced by a link would have reports written wherever it points.
        try:
            return stat.S_ISDIR(os.lstat(self.check_folder).st_mode)
        except OSError:
            return False

    def _schedule(self, observer: BaseObserver) -> None:
        observer.schedule(_Handler(self), str(self.inbox), recursive=True)
        if self._check_folder_usable():
            observer.schedule(_Handler(self), str(self.check_folder), recursive=True)
        observer.schedule(_CatalogueHandler(self, self.catalogue_file.name), str(self.catalogue_file.parent),
                          recursive=False)

    def _open_inbox(self) -> None:
        # Only eingang/ and pruefen/ themselves are created: creating a missing share root would watch a local
        # stand-in folder.
        if not self.inbox.parent.is_dir():
            raise FileNotFoundError(2, "Ordner fehlt", str(self.inbox.parent))
        self.inbox.mkdir(exist_ok=True)
        try:
            self.check_folder.mkdir(exist_ok=True)
        except OSError as exc:
            log.warning("check folder %s not available: %s", self.check_folder, exc)
        self._probe_clock()
        self._start_observer()

    def _start_observer(self) -> None:
        observer = self._make_observer(self.polling)
        try:
            self._schedule(observer)
            observer.start()
        except OSError as exc:
            if self.polling:
                raise
            # inotify watch/instance limits: say so in German and keep going by polling.
            code = "watch_limit" if exc.errno in LIMIT_ERRNOS else "watch_failed"
            log.warning("native observer failed (%s); falling back to polling", exc)
            with contextlib.suppress(Exception):
                observer.stop()
            self._alert(Notice(code, {"path": self.inbox, "detail": exc.strerror or str(exc),
                                     "interval": float(self.settings.poll_interval)}))
            self.polling = True
            observer = self._make_observer(True)
            self._schedule(observer)
            observer.start()
        self._observer = observer

    # ------------------------------------------------------------------ event intake (observer threads)
    def note(self, path: str, kind: str) -> None:
        self._events.put((path, kind))
        self._wake.set()

    def note_tree(self, folder: str) -> None:
        self._events.put((folder, "tree"))
        self._wake.set()

    def catalogue_changed(self) -> None:
        self._events.put(("", "catalogue"))
        self._wake.set()

    def rescan(self) -> None:
        """Look at every file in the inbox again (the safety net for lost events)."""
        self._events.put(("", "rescan"))
        self._wake.set()

    # ------------------------------------------------------------------ worker
    def _run(self) -> None:
        next_rescan = time.monotonic() + max(float(self.settings.rescan_minutes) * 60, 1.0)
        while not self._stop.is_set():
            try:
                self._drain()
                now = time.monotonic()
                if now >= next_rescan:
                    next_rescan = now + max(float(self.settings.rescan_minutes) * 60, 1.0)
                    self._probe_clock()
                    self._scan_all()
                    self._check_observer()
                if self._catalogue_due is not None and now >= self._catalogue_due:
                    self._catalogue_due = None
                    self._reload_catalogue()
                self._work()
                self._verify()
            except Exception:  # the watcher must outlive any single surprise
                log.exception("watcher loop error")
            waits = [next_rescan - time.monotonic()]
            waits += [p.due - time.monotonic() for p in self._pending.values()]
            waits += [s.due - time.monotonic() for s in self._settling.values()]
            if self._catalogue_due is not None:
                waits.append(self._catalogue_due - time.monotonic())
            if not self._pending:
                self.idle.set()
            self._wake.wait(timeout=min(max(min(waits), 0.0), 1.0))
            self._wake.clear()

    def _drain(self) -> None:
        now = time.monotonic()
        while True:
            try:
                path_text, kind = self._events.get_nowait()
            except queue.Empty:
                return
            if kind == "rescan":
                self._scan_all()
                continue
            if kind == "catalogue":
                self._catalogue_due = now + 0.3  # editors write in several steps
                continue
            if kind == "tree":
                self._scan(Path(path_text))
                continue
            self._candidate(Path(path_text), kind, now)

    def _root_of(self, path: Path) -> Path | None:
        """eingang/ or pruefen/, whichever `path` lies below (by its spelling; no link is resolved)."""
        absolute = os.path.abspath(path)
        for root in (self.inbox, self.check_folder):
            if absolute.startswith(os.path.abspath(root) + os.sep):
                return root
        return None

    def _candidate(self, path: Path, kind: str, now: float) -> None:
        root = self._root_of(path)
        if root is None or is_ignored(path.name):
            return
        if kind in _READER_EVENTS and path not in self._pending:
            return  # only read (often by this watcher itself): nothing new to look at
        rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(root))
        if any(is_ignored(part) for part in rel.parts[:-1]):
            return
        if len(rel.parts) > 1 and not files.parents_are_folders(root, path):
            return  # below a linked folder: the link itself is the entry that is refused
        if root == self.check_folder and not self._check_folder_usable():
            return
        self.idle.clear()
        pending = self._pending.get(path)
        if pending is None:
            pending = self._pending[path] = _Pending(hint=self.pipeline.office_hint(path), due=now,
                                                     check=root == self.check_folder)
        if kind in ("closed", "moved"):
            pending.closed, pending.writing = True, False
            pending.due = now + CLOSE_SETTLE_SECONDS
        elif kind in ("opened", "modified"):
            # Someone holds it open (a writer, as far as we can tell): wait for the close, within reason.
            pending.closed = False
            pending.writing = not self.polling
            pending.due = now + float(self.settings.stable_seconds)
        elif kind == "closed_no_write":
            pending.writing = False
        elif kind == "created":
            # A file moved in from elsewhere shows up as `created` alone, without open or close events.
            pending.closed = False
            pending.due = now + float(self.settings.stable_seconds)
        else:  # scan: decide by stability alone
            pending.due = min(pending.due, now) if pending.signature is None else pending.due

    def _scan_all(self) -> None:
        self._scan(self.inbox)
        if self._check_folder_usable():
            self._scan(self.check_folder)
        for path in [p for p in self._checked if not os.path.lexists(p)]:
            del self._checked[path]

    def _scan(self, folder: Path) -> None:
        now = time.monotonic()
        if os.path.islink(folder) and self._root_of(folder) is not None:
            self._candidate(folder, "scan", now)  # a linked folder is an entry to refuse, never a tree to walk
            return
        for path, is_folder in files.entries(folder, skip=is_ignored):
            if not is_folder:
                self._candidate(path, "scan", now)

    def _work(self) -> None:
        stable = float(self.settings.stable_seconds)
        for path in sorted(self._pending, key=lambda p: self._pending[p].due):
            if self._stop.is_set():
                return
            pending = self._pending.get(path)
            now = time.monotonic()
            if pending is None or pending.due > now:
                continue
            try:
                st = os.lstat(path)  # never through a link: a dangling one is still an entry to refuse
            except OSError:
                del self._pending[path]
                continue
            if stat.S_ISDIR(st.st_mode):
                del self._pending[path]
                continue
            signature = files.signature(st)
            if signature != pending.signature:
                pending.signature, pending.since = signature, now
            if not pending.closed and stat.S_ISREG(st.st_mode):
                # Quiet for how long: since we first saw this size and mtime, or — when the share's clock
                # agrees with ours — since its mtime, which spares a file already waiting a second look.
                quiet = max(now - pending.since, self._mtime_age(st))
                needed = self.open_grace if pending.writing else stable
                if quiet < needed:
                    pending.due = now + (needed - quiet)
                    continue
            if pending.check:
                self._check(path, pending, signature)
            else:
                self._import(path, pending, signature)

    def _mtime_age(self, st: os.stat_result) -> float:
        if self._skew is None:
            return 0.0
        return max(time.time() + self._skew - st.st_mtime, 0.0)

    def _probe_clock(self) -> None:
        """Compare the share's clock with ours through a hidden probe file; mtimes are used only if they agree."""
        probe = self.inbox / f".sozialmonitor-uhr-{os.getpid()}"
        try:
            before = time.time()
            probe.write_bytes(b"")
            skew = probe.stat().st_mtime - (before + time.time()) / 2
        except OSError:
            self._skew = None
            return
        finally:
            with contextlib.suppress(OSError):
                probe.unlink()
        self._skew = skew if abs(skew) < 1.0 else None

    def _again(self, pending: _Pending, result: IngestResult) -> bool:
        """RETRY and HELD: look again later. True when the result asks for that."""
        now = time.monotonic()
        if result.status == RETRY:
            # Changing while read, or not readable yet (locked by the writer): look again, backing off
            # for a file that stays unreadable so that it cannot keep the worker busy.
            pending.attempts = pending.attempts + 1 if result.signature == pending.signature else 0
            pending.signature, pending.since = result.signature, now
            pending.closed = False
            pending.due = now + min(float(self.settings.stable_seconds) * 2 ** pending.attempts, 300.0)
            return True
        if result.status == HELD:
            pending.held, pending.closed = result.signature, False
            pending.signature, pending.since = result.signature, now
            pending.due = now + max(float(self.settings.stable_seconds), 0.5)
            return True
        return False

    def _import(self, path: Path, pending: _Pending, signature: tuple[int, int, int]) -> None:
        # Reject at once only what is surely complete: closed by its writer, or seen unchanged across a
        # failed parse and another stability window.
        may_reject = pending.closed or pending.held == signature
        try:
            quiet = path in self._stuck and self._stuck[path] == signature
            result = self.pipeline.process(path, pending.hint, may_reject=may_reject, notify=not quiet)
        except Exception as exc:
            log.exception("pipeline failed on %s", path)
            pending.attempts += 1
            if pending.attempts == 1:
                self._alert(Notice("internal", {"file": files.readable(path.name), "detail": type(exc).__name__}))
            pending.due = time.monotonic() + min(60.0 * pending.attempts, 600.0)
            return
        if self._again(pending, result):
            return
        self._pending.pop(path, None)
        if result.status in (IMPORTED, DUPLICATE, REJECTED, REFUSED) and result.moved_to is None \
                and os.path.lexists(path):
            self._stuck[path] = result.signature
        else:
            self._stuck.pop(path, None)
        if result.status in (IMPORTED, DUPLICATE, REJECTED) and result.moved_to is not None \
                and isinstance(result.tracked, Handled):
            self._watch(result.tracked)
        if result.status != GONE:
            self._record(result)

    def _record(self, result: IngestResult) -> None:
        self.results.append(result)
        del self.results[:-1000]

    # ------------------------------------------------------------------ pruefen/
    def _check(self, path: Path, pending: _Pending, signature: tuple[int, int, int]) -> None:
        """Judge a file in pruefen/ and write NAME.pruefung.txt beside it — once per state of the file."""
        if path in self._checked and self._checked[path] == signature:
            self._pending.pop(path, None)
            return
        if path not in self._checked and self._report_is_current(path):
            self._checked[path] = signature  # reported before a restart, unchanged since
            self._pending.pop(path, None)
            return
        may_reject = pending.closed or pending.held == signature
        try:
            result = self.pipeline.check(path, pending.hint, may_reject=may_reject)
        except Exception:
            log.exception("check of %s failed", path)
            pending.attempts += 1
            pending.due = time.monotonic() + min(60.0 * pending.attempts, 600.0)
            return
        if self._again(pending, result):
            return
        self._pending.pop(path, None)
        if result.status == GONE:
            return
        try:
            self.pipeline.check_report(path, result)
        except OSError as exc:
            log.warning("could not write the check report beside %s: %s", path, exc)
        self._checked[path] = result.signature or signature
        self.checks.append(result)
        del self.checks[:-1000]

    def _report_is_current(self, path: Path) -> bool:
        report = path.parent / check_report_name(path.name, files.name_max(path.parent))
        try:
            made, checked = os.lstat(report), os.lstat(path)
        except OSError:
            return False
        return report.name.endswith(CHECK_SUFFIX) and stat.S_ISREG(made.st_mode) and \
            made.st_mtime_ns >= checked.st_mtime_ns

    # ------------------------------------------------------------------ after handling: a writer that paused
    def _resume_followups(self) -> None:
        """Files handled before this start (remembered in daten/): watched for the rest of their time, and each
        compared once with what was handled — a writer that resumed while the monitor was down is caught."""
        followups = self.pipeline.followups
        if followups is None:
            return
        try:
            entries = followups.load()
        except Exception:  # never a reason not to watch the inbox
            log.exception("follow-ups not loaded")
            return
        now, wall = time.monotonic(), time.time()
        for tracked in entries:
            if tracked.status:  # those still in the inbox are handled by the scan, which finds their entry
                self._watch(tracked, since=now - min(max(wall - tracked.handled, 0.0), self.verify_seconds))

    def _watch(self, tracked: Handled, *, since: float | None = None) -> None:
        now = time.monotonic()
        self._settling.pop(tracked.key, None)
        # Looked at again soon (a change is seen within a second or two), re-read once quiet for `settle`.
        first = now if since is not None else now + min(self.settle / 2, 2.0)
        self._settling[tracked.key] = _Settling(tracked, tracked.signature, since=now if since is None else since,
                                                due=first)
        while len(self._settling) > MAX_SETTLING:
            self._forget(next(iter(self._settling)))

    def _forget(self, key: str) -> None:
        self._settling.pop(key, None)
        if self.pipeline.followups is not None:
            self.pipeline.followups.drop(key)

    def _verify(self) -> None:
        """Compare archived and rejected files, once quiet, with what was handled; handle changed ones again."""
        for key in list(self._settling):
            if self._stop.is_set():
                return
            entry = self._settling.get(key)
            now = time.monotonic()
            if entry is None or entry.due > now:
                continue
            try:
                st = os.lstat(entry.tracked.path)
            except OSError:
                self._forget(key)  # moved away or deleted by someone: nothing left to compare
                continue
            if not stat.S_ISREG(st.st_mode):
                self._forget(key)
                continue
            signature = files.signature(st)
            if signature != entry.signature:
                entry.signature, entry.changed, entry.due = signature, now, now + self.settle
                continue
            if entry.changed is not None or not entry.verified:
                # Quiet since the change was seen, or — when the share's clock agrees with ours — since its mtime.
                quiet_since = entry.changed if entry.changed is not None else entry.since
                quiet = max(now - quiet_since, self._mtime_age(st))
                if quiet < self.settle:
                    entry.due = now + (self.settle - quiet)
                    continue
                if not self._settle(key, entry):
                    continue
            age = now - entry.since
            if age > self.verify_seconds:
                self._forget(key)
                continue
            entry.due = now + min(max(age / 30.0, min(self.settle / 2, 2.0), 0.05), 60.0)

    def _settle(self, key: str, entry: _Settling) -> bool:
        """Compare one quiet file with what was handled; False when it is no longer watched (or must wait)."""
        try:
            result = self.pipeline.recheck(entry.tracked)
        except Exception:
            log.exception("re-reading %s failed", entry.tracked.path)
            entry.changed, entry.due = time.monotonic(), time.monotonic() + max(self.settle, 30.0)
            return False
        now = time.monotonic()
        if result is None:
            entry.verified, entry.changed = True, None
            return True
        if result.status == RETRY:
            entry.changed, entry.due = now, now + self.settle
            return False
        if result.status == GONE:
            self._forget(key)
            return False
        self._record(result)
        if result.moved_to is None:
            # Handled, but not moved where it belongs (a share without rights): look again later.
            entry.changed, entry.due = now, now + max(self.settle, 30.0)
            return False
        try:
            signature = files.signature(os.lstat(entry.tracked.path))
        except OSError:
            self._forget(key)
            return False
        # Keep watching where it lies now: the writer may pause again.
        entry.signature, entry.changed, entry.verified = signature, None, True
        if signature != entry.tracked.signature:
            entry.changed = now  # written on while it was read: compared again once quiet
        return True

    def _check_observer(self) -> None:
        if self._observer is None and not self._stop.is_set():
            try:
                self._open_inbox()
            except OSError as exc:
                log.info("inbox %s still not available: %s", self.inbox, exc)
            else:
                log.warning("inbox %s available again; watching", self.inbox)
                self._scan_all()
            return
        observer = self._observer
        if observer is not None and not observer.is_alive() and not self._stop.is_set():
            # watchdog can stop silently after a network outage: start over, polling if need be.
            log.warning("observer died; restarting")
            with contextlib.suppress(Exception):
                observer.stop()
            self._start_observer()

    # ------------------------------------------------------------------ catalogue
    @staticmethod
    def _hash_file(path: Path) -> str:
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return ""

    def _reload_catalogue(self) -> None:
        digest = self._hash_file(self.catalogue_file)
        if digest == self._catalogue_hash or self.reload_catalogue is None:
            return
        self._catalogue_hash = digest
        before = self.monitor.catalogue
        problems = tuple(self.reload_catalogue() or [])
        if self.monitor.catalogue is before:
            # A valid file that would drop stored data is refused as well; the notice says which and why.
            refused = any(str(getattr(p, "code", "")).startswith("cat_drops_") for p in problems)
            self._alert(Notice("catalogue_refused" if refused else "catalogue_broken", {"path": self.catalogue_file},
                              problems))
        elif problems:
            self._alert(Notice("catalogue_problems", {"path": self.catalogue_file}, problems))
        else:
            cat = self.monitor.catalogue
            self._alert(Notice("catalogue_ok", {"measures": len(cat.measures), "indicators": len(cat.indicators),
                                               "persons": len(cat.persons)}), kind="notice")
            # Files rejected for an unknown indicator stay rejected; files still waiting get a new chance.
            self._scan(self.inbox)

    def _alert(self, notice: Notice, kind: str = "error") -> None:
        """Tell the admins (worded by the pipeline's renderer) and the log."""
        try:
            reply = self.pipeline.words.message(notice, self.pipeline.lang)
        except Exception:  # a wording that fails must not stop the watcher: the log keeps the notice as data
            log.exception("notice %s %s not worded", notice.code, dict(notice.params))
            return
        log.warning("%s", reply.plain().partition("\n")[0])
        if self.sink is None:
            return
        try:
            self.sink(Outgoing((ADMINS,), reply, kind=kind))
        except Exception:
            log.exception("watcher notice not delivered")
