"""Files handled a short while ago, remembered on disk: a writer that had only paused is caught after a restart too.

Every file the watcher archives or rejects is watched for a day more (see `FolderWatcher`). What it needs for that
(where the file lies, the content hash handled, the delivery that content is stored as) lives here, in
daten/nachpruefen.jsonl: one JSON line per change, the last line of an entry wins, a torn last line (a crash while
appending) is ignored, and the file is rewritten atomically (temp file, fsync, rename) once it holds mostly old lines.

A move is announced before it happens (`intent`): should the process die between the store write and the move,
the next start finds the file at its old place (the move did not happen: handled again) or, by its inode, in the
folder it was moved to (the move happened: watched there).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import stat
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = ["FOLLOWUP_FILE", "FollowUps", "Handled"]

log = logging.getLogger(__name__)

FOLLOWUP_FILE = "nachpruefen.jsonl"
KEEP_SECONDS = 24 * 3600.0  # as long as the watcher looks at a handled file again
LIMIT = 2000  # entries kept; the oldest drop out first


@dataclass
class Handled:
    """One file handled (or being handled) by the pipeline, watched a while for changes its writer still makes.

    `status`, `content_hash` are the last handling that completed ("" while none has); `delivery` is the delivery
    this file's content is stored as (withdrawn ones too) and `stored` the content hash it holds or held, so the
    file's final content can replace it. `intent` is a move in progress: {"folder", "status", "hash", "delivery",
    "stored", "report"}; `attempt` the hash an interrupted import may have stored.
    """

    key: str
    path: Path
    signature: tuple[int, int, int]
    handled: float  # wall-clock time of the last handling (time.time())
    file: str = ""  # its name in notices
    display: str = ""  # its name in the store ("Amt 61/name.csv")
    hint: str | None = None  # the office its sub-folder named
    status: str = ""
    content_hash: str = ""
    office: str = ""
    rows: int = 0
    report: Path | None = None
    delivery: int | None = None
    stored: str = ""
    intent: dict[str, Any] | None = None
    attempt: str = ""
    arrived: int | None = None  # the newest delivery when the file was first handled: its place if stored late

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["path"] = os.fsdecode(self.path)
        out["report"] = os.fsdecode(self.report) if self.report is not None else None
        out["signature"] = list(self.signature)
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Handled:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        known["path"] = Path(data["path"])
        known["report"] = Path(data["report"]) if data.get("report") else None
        size, mtime, inode = data["signature"]
        known["signature"] = (int(size), int(mtime), int(inode))
        known["handled"] = float(data["handled"])
        return cls(**known)


def _inode_of(path: Path) -> int | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st.st_ino if stat.S_ISREG(st.st_mode) else None


def _find_inode(folder: Path, inode: int) -> Path | None:
    """The regular file with this inode directly in `folder` (a move keeps the inode; names may have changed)."""
    try:
        with os.scandir(folder) as it:
            for entry in it:
                with contextlib.suppress(OSError):
                    if entry.inode() == inode and entry.is_file(follow_symlinks=False):
                        return Path(entry.path)
    except OSError:
        return None
    return None


class FollowUps:
    """The entries of daten/nachpruefen.jsonl, in memory, each change appended to the file at once (fsynced).

    Thread-safe. Paths are stored as the file system spells them (names that are not UTF-8 survive, escaped)."""

    def __init__(self, path: Path, *, fsync: bool = True, keep_seconds: float = KEEP_SECONDS,
                 limit: int = LIMIT) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self.keep_seconds = float(keep_seconds)
        self.limit = limit
        self._lock = threading.Lock()
        self._entries: dict[str, Handled] = {}
        self._lines = 0
        self._loaded = False

    # ---------------------------------------------------------------- reading
    def load(self) -> list[Handled]:
        """Read the file (once), settle interrupted moves, forget expired entries, rewrite it compactly; the
        entries, oldest first."""
        with self._lock:
            if not self._loaded:
                self._loaded = True
                self._entries = self._read()
                now = time.time()
                for key in list(self._entries):
                    entry = self._entries[key]
                    if now - entry.handled > self.keep_seconds or not self._settle_intent(entry):
                        del self._entries[key]
                self._trim()
                if self.path.exists():  # nothing is written where nothing was handled yet
                    self._rewrite()
            return list(self._entries.values())

    def _read(self) -> dict[str, Handled]:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError:
            log.warning("%s not readable; files handled before the start are not looked at again", self.path,
                        exc_info=True)
            return {}
        out: dict[str, Handled] = {}
        for line in raw.splitlines():
            try:
                data = json.loads(line)
                if data.get("drop"):
                    out.pop(str(data["key"]), None)
                    continue
                entry = Handled.from_json(data)
            except (ValueError, KeyError, TypeError, AttributeError):
                continue  # a line torn by a crash while it was appended, or not ours
            out.pop(entry.key, None)  # re-inserted: the order is the order of the last change
            out[entry.key] = entry
        return out

    @staticmethod
    def _settle_intent(entry: Handled) -> bool:
        """A move announced but not confirmed: did it happen? False when the file is nowhere to be found."""
        intent = entry.intent
        if intent is None:
            return _inode_of(entry.path) is not None
        entry.intent = None
        inode = entry.signature[2]
        if _inode_of(entry.path) == inode:
            # Still where it was: the move did not happen, the file is handled again (an import may be stored).
            if intent.get("status") == "imported":
                entry.attempt = str(intent.get("hash", ""))
            return True
        found = _find_inode(Path(intent["folder"]), inode)
        if found is None:
            return False
        entry.path = found
        entry.status = str(intent.get("status", ""))
        entry.content_hash = str(intent.get("hash", ""))
        entry.delivery = intent.get("delivery", entry.delivery)
        entry.stored = str(intent.get("stored", entry.stored) or "")
        if intent.get("report"):
            entry.report = Path(intent["report"])
        entry.attempt = ""
        return True

    def at(self, path: Path, inode: int) -> Handled | None:
        """The entry of the file at `path` with this inode (a file handled before a crash, still in the inbox)."""
        with self._lock:
            target = os.path.abspath(path)
            for entry in reversed(self._entries.values()):
                if entry.signature[2] == inode and os.path.abspath(entry.path) == target:
                    return entry
            return None

    def entries(self) -> list[Handled]:
        with self._lock:
            return list(self._entries.values())

    # ---------------------------------------------------------------- writing
    @staticmethod
    def new_key() -> str:
        return secrets.token_hex(8)

    def record(self, entry: Handled) -> None:
        """Remember `entry` as it is now (appended at once; a failure to write is logged, never raised)."""
        with self._lock:
            self._entries.pop(entry.key, None)
            self._entries[entry.key] = entry
            self._trim()
            self._append(entry.to_json())

    def drop(self, key: str) -> None:
        with self._lock:
            if self._entries.pop(key, None) is not None:
                self._append({"key": key, "drop": True})

    def _trim(self) -> None:
        while len(self._entries) > self.limit:
            del self._entries[next(iter(self._entries))]

    def _append(self, data: dict[str, Any]) -> None:
        if self._lines > 4 * len(self._entries) + 200:
            self._rewrite()
            if self._lines == 0:
                return  # the rewrite holds `data` already (it is in the entries, or dropped from them)
        line = json.dumps(data, separators=(",", ":")).encode("ascii") + b"\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "ab+") as fh:
                fh.seek(0, 2)
                if fh.tell() > 0:
                    fh.seek(-1, 2)
                    if fh.read(1) != b"\n":
                        line = b"\n" + line  # close off a line torn by an earlier crash
                fh.write(line)
                fh.flush()
                if self.fsync:
                    os.fsync(fh.fileno())
            self._lines += 1
        except OSError:
            log.warning("%s not written; this file is not looked at again after a restart", self.path,
                        exc_info=True)

    def _rewrite(self) -> None:
        """The live entries only, written to a temp file, fsynced, renamed over the file."""
        payload = b"".join(json.dumps(e.to_json(), separators=(",", ":")).encode("ascii") + b"\n"
                           for e in self._entries.values())
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as fh:
                fh.write(payload)
                fh.flush()
                if self.fsync:
                    os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            if self.fsync:
                fd = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        except OSError:
            log.warning("%s not rewritten", self.path, exc_info=True)
            with contextlib.suppress(OSError):
                tmp.unlink()
            return
        self._lines = 0
