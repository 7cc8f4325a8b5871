"""A TinyDB storage that never leaves a half-written file: temp file, fsync, atomic rename."""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from tinydb.storages import Storage

if TYPE_CHECKING:
    import logging

    from filelock import FileLock

__all__ = [
    "DAMAGED_FOLDER",
    "AtomicJSONStorage",
    "Holder",
    "ProcessLock",
    "StoreError",
    "StoreUnreadable",
    "backup_files",
    "backup_time",
    "keep_aside",
]



def log() -> logging.Logger:
    """This module's logger. logging is imported on first use: it (with traceback, which it imports) costs about
    3 ms, and only failures are logged, while every command opens the store."""
    import logging

    return logging.getLogger(__name__)

BACKUP_FOLDER, DAMAGED_FOLDER = "sicherungen", "beschaedigt"


class StoreError(Exception):
    """A store that cannot be used; `code` names the German/English message."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class Holder:
    """The process that holds a store: its id, the command it runs (`run`, `ask`, ...) and since when."""

    pid: str = "?"
    role: str = ""
    since: str = ""  # ISO local time


class ProcessLock:
    """A cross-platform lock file beside the store (filelock): one process writes, the others may only read.

    TinyDB is not safe across processes: a second writer would overwrite the first one's changes with its own
    in-memory copy. A second process (`ask`, `report` while `run` is up) opens the store read-only instead.
    Who holds the lock is written to a small file beside it, so that the others can name the process.
    With `wait`, a short-lived holder (an `ask`) is waited for up to that many seconds; a holder with the same
    `role` as ours is not (two `run`s: the first one runs until it is stopped).
    """

    def __init__(self, path: Path, *, role: str = "", wait: float = 0.0, acquire: bool = True) -> None:
        self.path = path.with_name(f".{path.name}.lock")
        self.info = path.with_name(f".{path.name}.prozess")
        self.acquired = False
        self._lock: FileLock | None = None
        if not acquire:
            return  # a reader: filelock (about 20 ms of imports) is not even loaded
        from filelock import FileLock, Timeout

        # Not thread-local: the store is opened in one thread and may be closed in another.
        self._lock = FileLock(self.path, thread_local=False)
        deadline = time.monotonic() + wait
        while True:
            try:
                self._lock.acquire(timeout=0)
            except Timeout:
                if time.monotonic() >= deadline or (role and self.holder().role == role):
                    self.acquired = False
                    return
                time.sleep(0.1)
                continue
            break
        self.acquired = True
        info = {"pid": os.getpid(), "role": role, "since": datetime.now().isoformat(timespec="seconds")}
        tmp = self.info.with_name(f"{self.info.name}.{os.getpid()}.tmp")
        try:
            tmp.write_bytes(orjson.dumps(info))
            os.replace(tmp, self.info)
        except OSError:  # only a nicer message for the others depends on it
            log().warning("lock holder file %s not written", self.info, exc_info=True)

    def holder(self) -> Holder:
        try:
            info = orjson.loads(self.info.read_bytes())
            return Holder(pid=str(info["pid"]), role=str(info.get("role", "")), since=str(info.get("since", "")))
        except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
            return Holder()

    def release(self) -> None:
        if self.acquired and self._lock is not None and self._lock.is_locked:
            # The holder file goes first: once the lock is free, the next holder writes its own.
            if self.holder().pid == str(os.getpid()):
                with contextlib.suppress(OSError):
                    self.info.unlink()
            self._lock.release()
        self.acquired = False


class StoreUnreadable(Exception):
    """The store file exists but is not a complete JSON document, or a file it references is damaged.

    `path` is the file to restore (the main store file), `backup` the newest backup that is usable as a whole,
    `segment` the damaged or missing delivery file if that is the cause.
    """

    def __init__(self, path: Path, backup: Path | None, reason: str, *, segment: Path | None = None) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.backup = backup
        self.reason = reason
        self.segment = segment


def backup_files(path: Path) -> list[Path]:
    """The backups of `path`, newest first."""
    folder = path.parent / BACKUP_FOLDER
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.glob(f"{path.stem}.*{path.suffix}") if backup_time(p) is not None),
                  reverse=True)


def backup_time(backup: Path) -> datetime | None:
    """When a backup was taken, from its name (`<stem>.<UTC stamp><micro>.json`); None for other files."""
    stamp = backup.name.split(".")[-2] if backup.name.count(".") >= 2 else ""
    try:
        taken = datetime.strptime(stamp[:16], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        micro = int(stamp[16:]) if stamp[16:] else 0
    except ValueError:
        return None
    return taken.replace(microsecond=min(micro, 999_999))


def keep_aside(path: Path) -> Path:
    """Move a damaged file into `beschaedigt/` beside it, under a name that says when: kept, never deleted."""
    folder = path.parent / DAMAGED_FOLDER
    folder.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    target = folder / f"{path.stem}.{stamp}{path.suffix}"
    n = 1
    while target.exists():
        n += 1
        target = folder / f"{path.stem}.{stamp}-{n}{path.suffix}"
    os.replace(path, target)
    _fsync_dir(folder)
    _fsync_dir(path.parent)
    return target


def _fsync_dir(folder: Path) -> None:
    # The rename is only durable once the directory entry is on disk.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class AtomicJSONStorage(Storage):
    """Keeps the database in memory and writes it whole, crash-safely, with orjson.

    TinyDB's JSONStorage rewrites the file in place and truncates afterwards: a crash in between leaves a
    file that no longer parses. Here every write goes to a temp file in the same folder, is fsynced and
    then replaces the store with os.replace, so a reader sees the old or the new file, never a mix.
    Before the replace, the previous file is copied into `sicherungen/` (small: rows live in segments) at most once
    per `backup_seconds`, and only the newest `backups` are kept.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        backups: int = 5,
        backup_seconds: float = 600.0,
        fsync: bool = True,
        clock: Callable[[], float] = time.time,
        validate: Callable[[dict[str, Any]], bool] | None = None,
        checksum: bool = False,
    ) -> None:
        self.path = Path(path)
        # `validate` decides whether a parsed backup is usable as a whole (e.g. the files it references exist).
        self._validate = validate
        # With `checksum`, every write records (size, sha256) of what it wrote in `last_write`.
        self.checksum = checksum
        self.last_write: tuple[int, str] | None = None
        self.backups = backups
        self.backup_seconds = backup_seconds
        self.fsync = fsync
        self._clock = clock
        self._data: dict[str, Any] | None = None
        self.read_only = False
        self._last_backup = 0.0
        self._written_since_backup = False
        self.writes = 0
        self.holder = "?"  # the process holding the file when this one is read-only
        self._batch = False
        self._pending = False

    def read(self) -> dict[str, Any] | None:
        if self._data is None:
            self._data = self._load()
        # TinyDB mutates what read() returns and hands it back to write(): sharing is intended.
        return self._data

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Writes inside change the memory only; one write at the end makes them durable together.

        An exception inside drops every change made in the batch (the file is reloaded): all or nothing.
        Nested batches join the outer one. The caller must keep other threads out (the store's lock).
        """
        if self._batch:
            yield
            return
        self._batch, self._pending = True, False
        try:
            yield
        except BaseException:
            self._batch = False
            if self._pending:
                self._data = None
            raise
        self._batch = False
        if self._pending and self._data is not None:
            self.write(self._data)

    @property
    def in_batch(self) -> bool:
        return self._batch

    def _load(self) -> dict[str, Any] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        if not raw.strip():
            raise StoreUnreadable(self.path, self._newest_backup(), "leer")
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise StoreUnreadable(self.path, self._newest_backup(), str(exc)) from None
        if not isinstance(data, dict):
            raise StoreUnreadable(self.path, self._newest_backup(), "kein JSON-Objekt")
        return data

    def newest_backup(self) -> Path | None:
        """The newest backup that parses and that `validate` accepts as a whole."""
        return self._newest_backup()

    def _newest_backup(self) -> Path | None:
        for candidate in backup_files(self.path):
            try:
                data = orjson.loads(candidate.read_bytes())
            except (OSError, orjson.JSONDecodeError):
                continue
            if isinstance(data, dict) and (self._validate is None or self._validate(data)):
                return candidate
        return None

    def write(self, data: dict[str, Any]) -> None:
        if self.read_only:
            self._data = None  # TinyDB already changed the in-memory copy: drop it, the file is the truth
            raise StoreError("store_locked", path=str(self.path), pid=self.holder)
        if self._batch:
            self._data, self._pending = data, True
            return
        payload = orjson.dumps(data, option=orjson.OPT_NON_STR_KEYS)
        if self.checksum:
            self.last_write = (len(payload), hashlib.sha256(payload).hexdigest())
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as fh:
                fh.write(payload)
                fh.flush()
                if self.fsync:
                    os.fsync(fh.fileno())
            try:
                self._maybe_backup()
            except OSError:
                # A backup is best effort: a full or read-only sicherungen/ must not fail the write itself.
                log().warning("backup of %s not written", self.path, exc_info=True)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            # The in-memory copy already holds the failed change: forget it, the disk is the truth.
            self._data = None
            raise
        # The new file is in place: record that before anything else can interrupt (e.g. Ctrl-C in the fsync).
        self._data = data
        self.writes += 1
        self._written_since_backup = True
        if self.fsync:
            _fsync_dir(self.path.parent)

    def backup_now(self) -> Path | None:
        """Copy the file as it is on disk into `sicherungen/` now (rotating the oldest out); its path."""
        return self._maybe_backup(force=True)

    def _maybe_backup(self, *, force: bool = False) -> Path | None:
        if self.backups <= 0 or not self.path.exists():
            return None
        now = self._clock()
        if not force and now - self._last_backup < self.backup_seconds:
            return None
        folder = self.path.parent / BACKUP_FOLDER
        folder.mkdir(exist_ok=True)
        # Names sort in time order: seconds, then microseconds, bumped while taken.
        micro = int(now % 1 * 1_000_000)
        while True:
            # UTC: local time would sort wrongly in the hour the clocks go back.
            stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now)) + f"{micro:07d}"
            target = folder / f"{self.path.stem}.{stamp}{self.path.suffix}"
            if not target.exists():
                break
            micro += 1
        # A real copy, not a hard link: a link would share the live file's inode, so damage done to the file in
        # place (or a restore by `cp` onto it) would hit the backup too. The main file holds metadata only (the
        # rows are in their segments), so copying it is cheap.
        partial = target.with_name(target.name + ".tmp")
        import shutil

        shutil.copyfile(self.path, partial)
        os.replace(partial, target)
        self._last_backup = now
        self._written_since_backup = False
        for old in backup_files(self.path)[self.backups :]:
            with contextlib.suppress(OSError):
                old.unlink()
        return target

    def close(self) -> None:
        # A clean shutdown leaves its final state among the backups too.
        if self._written_since_backup and not self.read_only:
            with contextlib.suppress(OSError):
                self._maybe_backup(force=True)
        self._data = None
