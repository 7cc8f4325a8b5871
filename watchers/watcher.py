"""The folder watcher: watchdog events and periodic rescans feed one worker thread that runs the pipeline."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from commands import fmt
from commands.reply import ReplyBuilder
from commands.texts import text

from .pipeline import DUPLICATE, GONE, HELD, IMPORTED, REJECTED, RETRY, Pipeline, is_ignored

__all__ = ["FolderWatcher"]

log = logging.getLogger(__name__)

# A file that was created or modified but never closed is read anyway after this long without change:
# writers that close without an inotify event (mmap, some network clients) must not block it forever.
OPEN_GRACE_SECONDS = 30.0
CLOSE_SETTLE_SECONDS = 0.05  # coalesce the burst of events around one close
LIMIT_ERRNOS = (errno.ENOSPC, errno.EMFILE, errno.ENFILE)


@dataclass
class _Pending:
    """A candidate file and what the worker knows about it."""

    hint: str | None
    due: float  # monotonic time of the next look
    signature: tuple[int, int] | None = None
    since: float = 0.0  # when `signature` was first seen
    writing: bool = False  # created/modified, no close yet (native observer only)
    closed: bool = False  # a close-after-write or a rename into place: complete
    held: tuple[int, int] | None = None  # signature whose parse failed; reject if unchanged next time
    attempts: int = 0


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
    """Service: watches eingang/ (and katalog.toml) and imports each complete file once.

    One worker thread does all the work, so files are processed one after the other in the order they
    became complete. Under the native observer a file is complete when its writer closes it (or it is
    renamed into place); under polling — network shares send no events — when size and mtime stayed the
    same for `stable_seconds`. A file whose parse fails while it is still changing is looked at again,
    not rejected. A periodic rescan catches events the kernel dropped.
    """

    def __init__(self, monitor: Any, pipeline: Pipeline, settings: Any = None, *,
                 reload_catalogue: Callable[[], list] | None = None,
                 sink: Callable[[Any], None] | None = None,
                 observer_factory: Callable[[], Any] | None = None) -> None:
        self.monitor = monitor
        self.pipeline = pipeline
        self.settings = settings if settings is not None else monitor.settings.watcher
        self.reload_catalogue = reload_catalogue
        self.sink = sink if sink is not None else pipeline.sink
        self._observer_factory = observer_factory
        self.inbox: Path = monitor.settings.inbox
        self.catalogue_file: Path = monitor.settings.catalogue_file
        self.polling = bool(self.settings.polling)
        self._events: queue.SimpleQueue[tuple[str, str]] = queue.SimpleQueue()
        self._pending: dict[Path, _Pending] = {}
        # Files handled but not movable out of the inbox (permissions on a share), by the signature handled:
        # retried quietly on each rescan instead of announcing the same import again and again.
        self._stuck: dict[Path, tuple[int, int] | None] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._worker: threading.Thread | None = None
        self._observer: Any = None
        self._catalogue_due: float | None = None
        self._catalogue_hash = self._hash_file(self.catalogue_file)
        self._skew: float | None = None  # share clock minus ours, when known to be small
        self.results: list = []  # every IngestResult, for tests and the console (bounded below)
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
            self._error(text(self.pipeline.lang, "watch.unavailable", path=self.inbox, detail=exc.strerror or exc,
                             minutes=fmt.number(float(self.settings.rescan_minutes), self.pipeline.lang)))
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
    def _make_observer(self, polling: bool) -> Any:
        if self._observer_factory is not None and not polling:
            return self._observer_factory()
        if polling:
            return PollingObserver(timeout=float(self.settings.poll_interval))
        return Observer()

    def _schedule(self, observer: Any) -> None:
        observer.schedule(_Handler(self), str(self.inbox), recursive=True)
        observer.schedule(_CatalogueHandler(self, self.catalogue_file.name), str(self.catalogue_file.parent),
                          recursive=False)

    def _open_inbox(self) -> None:
        # Only eingang/ itself is created: creating a missing share root would watch a local stand-in folder.
        if not self.inbox.parent.is_dir():
            raise FileNotFoundError(2, "Ordner fehlt", str(self.inbox.parent))
        self.inbox.mkdir(exist_ok=True)
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
            key = "watch.limit" if exc.errno in LIMIT_ERRNOS else "watch.failed"
            log.warning("native observer failed (%s); falling back to polling", exc)
            with contextlib.suppress(Exception):
                observer.stop()
            self._error(text(self.pipeline.lang, key, path=self.inbox, detail=exc.strerror or str(exc),
                             interval=fmt.number(float(self.settings.poll_interval), self.pipeline.lang)))
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
                    self._scan(self.inbox)
                    self._check_observer()
                if self._catalogue_due is not None and now >= self._catalogue_due:
                    self._catalogue_due = None
                    self._reload_catalogue()
                self._work()
            except Exception:  # the watcher must outlive any single surprise
                log.exception("watcher loop error")
            waits = [next_rescan - time.monotonic()]
            waits += [p.due - time.monotonic() for p in self._pending.values()]
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
                self._scan(self.inbox)
                continue
            if kind == "catalogue":
                self._catalogue_due = now + 0.3  # editors write in several steps
                continue
            if kind == "tree":
                self._scan(Path(path_text))
                continue
            self._candidate(Path(path_text), kind, now)

    def _candidate(self, path: Path, kind: str, now: float) -> None:
        if is_ignored(path.name) or not self._inside_inbox(path):
            return
        self.idle.clear()
        pending = self._pending.get(path)
        if pending is None:
            pending = self._pending[path] = _Pending(hint=self.pipeline.office_hint(path), due=now)
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

    def _inside_inbox(self, path: Path) -> bool:
        try:
            rel = path.relative_to(self.inbox)
        except ValueError:
            return False
        return not any(is_ignored(part) for part in rel.parts[:-1])

    def _scan(self, folder: Path) -> None:
        now = time.monotonic()
        for root, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not is_ignored(d)]
            for name in files:
                self._candidate(Path(root) / name, "scan", now)

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
                st = path.stat()
            except OSError:
                del self._pending[path]
                continue
            signature = (st.st_size, st.st_mtime_ns)
            if signature != pending.signature:
                pending.signature, pending.since = signature, now
            if not pending.closed:
                # Quiet for how long: since we first saw this size and mtime, or — when the share's clock
                # agrees with ours — since its mtime, which spares a file already waiting a second look.
                quiet = max(now - pending.since, self._mtime_age(st))
                needed = OPEN_GRACE_SECONDS if pending.writing else stable
                if quiet < needed:
                    pending.due = now + (needed - quiet)
                    continue
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

    def _import(self, path: Path, pending: _Pending, signature: tuple[int, int]) -> None:
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
                self._error(text(self.pipeline.lang, "ingest.notice.internal", file=path.name,
                                 detail=type(exc).__name__))
            pending.due = time.monotonic() + min(60.0 * pending.attempts, 600.0)
            return
        now = time.monotonic()
        if result.status == RETRY:
            # Changing while read, or not readable yet (locked by the writer): look again, backing off
            # for a file that stays unreadable so that it cannot keep the worker busy.
            pending.attempts = pending.attempts + 1 if result.signature == pending.signature else 0
            pending.signature, pending.since = result.signature, now
            pending.closed = False
            pending.due = now + min(float(self.settings.stable_seconds) * 2 ** pending.attempts, 300.0)
            return
        if result.status == HELD:
            pending.held, pending.closed = result.signature, False
            pending.signature, pending.since = result.signature, now
            pending.due = now + max(float(self.settings.stable_seconds), 0.5)
            return
        self._pending.pop(path, None)
        if result.status in (IMPORTED, DUPLICATE, REJECTED) and result.moved_to is None and path.exists():
            self._stuck[path] = result.signature
        else:
            self._stuck.pop(path, None)
        if result.status != GONE:
            self.results.append(result)
            del self.results[:-1000]

    def _check_observer(self) -> None:
        if self._observer is None and not self._stop.is_set():
            try:
                self._open_inbox()
            except OSError as exc:
                log.info("inbox %s still not available: %s", self.inbox, exc)
            else:
                log.warning("inbox %s available again; watching", self.inbox)
                self._scan(self.inbox)
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
        problems = list(self.reload_catalogue() or [])
        lang = self.pipeline.lang
        if self.monitor.catalogue is before:
            # A valid file that would drop stored data is refused as well; the notice says which and why.
            refused = any(str(getattr(p, "code", "")).startswith("cat_drops_") for p in problems)
            self._error(text(lang, "cat.refused_reload" if refused else "watch.catalogue_broken",
                             path=self.catalogue_file), problems)
        elif problems:
            self._error(text(lang, "watch.catalogue_problems", path=self.catalogue_file), problems)
        else:
            cat = self.monitor.catalogue
            self._error(text(lang, "watch.catalogue_ok", measures=len(cat.measures), indicators=len(cat.indicators),
                             persons=len(cat.persons)), kind="notice")
            # Files rejected for an unknown indicator stay rejected; files still waiting get a new chance.
            self._scan(self.inbox)

    def _error(self, message: str, problems: list | None = None, kind: str = "error") -> None:
        log.warning("%s", message)
        if self.sink is None:
            return
        from commands.outgoing import ADMINS, Outgoing

        lang = self.pipeline.lang
        out = ReplyBuilder().line(message)
        for p in problems or []:
            line = f":{p.line}" if getattr(p, "line", None) else ""
            try:
                detail = text(lang, p.code, **p.params)
            except (KeyError, IndexError, ValueError):
                detail = p.code
            out.line("• ", text(lang, "cli.problem", file=Path(p.file).name, line=line, message=detail))
        try:
            self.sink(Outgoing((ADMINS,), out.build(), kind=kind))
        except Exception:
            log.exception("watcher notice not delivered")
