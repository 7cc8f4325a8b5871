"""A TinyDB storage that never leaves a half-written file: temp file, fsync, atomic rename."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

__all__ = ["AtomicJSONStorage", "ProcessLock", "StoreError", "StoreUnreadable", "backup_files"]


log = logging.getLogger(__name__)

class StoreError(Exception):
    """A store that cannot be used; `code` names the German/English message."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code, params)
        self.code = code
        self.params = params


class ProcessLock:
    """An advisory lock file beside the store: one process writes, others may only read.

    TinyDB is not safe across processes: a second writer would overwrite the first one's changes with its own
    in-memory copy. A second process (`ask`, `report` while `run` is up) opens the store read-only instead.
    """

    def __init__(self, path: Path, *, acquire: bool = True) -> None:
        self.path = path.with_name(f".{path.name}.lock")
        self._fd: int | None = None
        if not acquire:
            self.acquired = False
            return
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not on Linux/macOS: no cross-process protection
            self.acquired = True
            return
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            self.acquired = False
            return
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        self.acquired = True

    def holder(self) -> str:
        try:
            return self.path.read_text().strip() or "?"
        except OSError:
            return "?"

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None


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
    folder = path.parent / "sicherungen"
    if not folder.is_dir():
        return []
    return sorted(folder.glob(f"{path.stem}.*{path.suffix}"), reverse=True)


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

    def read(self) -> dict[str, Any] | None:
        if self._data is None:
            self._data = self._load()
        # TinyDB mutates what read() returns and hands it back to write(): sharing is intended.
        return self._data

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
            raise StoreError("store_locked", path=str(self.path), pid=self._holder)
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
                log.warning("backup of %s not written", self.path, exc_info=True)
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

    def _maybe_backup(self, *, force: bool = False) -> None:
        if self.backups <= 0 or not self.path.exists():
            return
        now = self._clock()
        if not force and now - self._last_backup < self.backup_seconds:
            return
        folder = self.path.parent / "sicherungen"
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
        shutil.copyfile(self.path, partial)
        os.replace(partial, target)
        self._last_backup = now
        self._written_since_backup = False
        for old in backup_files(self.path)[self.backups :]:
            with contextlib.suppress(OSError):
                old.unlink()

    _holder = "?"

    def close(self) -> None:
        # A clean shutdown leaves its final state among the backups too.
        if self._written_since_backup and not self.read_only:
            with contextlib.suppress(OSError):
                self._maybe_backup(force=True)
        self._data = None
