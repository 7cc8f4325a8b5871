"""The store: TinyDB behind one lock, typed records out, in-memory indexes for the hot queries.

Layout (schema 2): the main file (daten/sozialmonitor.json) holds meetings, protocols, signatures, steps, reminders
sent and one small document per delivery. Each delivery's rows live in their own immutable segment,
daten/lieferungen/<stem>.<id>.<token>.json, itself a TinyDB file written once through AtomicJSONStorage; it also
carries the delivery's metadata (file, hash, office, received), so the delivery can be rebuilt from it alone.
A delivery is written segment first (temp file, fsync, rename), then the main file that references it (size and
sha256), then a line in the journal (daten/lieferungen/<stem>.journal.jsonl), so a write costs the new rows plus the
small main file instead of the whole database.

Nothing a kept backup, the journal or the main file references is ever deleted. Only a segment none of them knows
(a crash between the segment's write and the main file's) is removed on the next open; its file is imported again.
A missing or damaged main file is rebuilt on open from the newest good backup plus every intact segment that
backup does not reference (`Store.recovered` says what happened); the damaged file is moved to daten/beschaedigt/.

A delivery's content can be replaced by a new version (its file was still being written when it was first read) or
withdrawn (the file's final content was rejected): the new version is a segment of its own that names the segment it
replaces, and the delivery's document keeps the earlier ones under `versions`, for the history. The delivery keeps
its id, and so its place among the deliveries: a correction delivered later still wins over it.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import operator
import os
import re
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from itertools import accumulate, compress, groupby, pairwise
from operator import and_, eq, itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NoReturn, Self

import orjson
from tinydb import TinyDB
from tinydb.table import Document

from .coverage import ROW_VALUE, Coverage, IndicatorCoverage, coverage_path
from .coverage import fingerprint as coverage_fingerprint
from .jsonstore import (
    AtomicJSONStorage,
    Holder,
    ProcessLock,
    StoreError,
    StoreUnreadable,
    _fsync_dir,
    backup_files,
    backup_time,
    keep_aside,
)
from .models import Delivery, Meeting, Observation, Protocol, Signature, Step

if TYPE_CHECKING:
    import logging

__all__ = [
    "SCHEMA_VERSION",
    "BackupInfo",
    "DeliveryResult",
    "HeldColumns",
    "Recovery",
    "Restored",
    "Rows",
    "SeriesReader",
    "Store",
    "StoreError",
    "StoreUnreadable",
    "gc_paused",
    "list_backups",
    "restore_backup",
    "segment_folder",
    "shape_problem",
    "write_segment",
]


def log() -> logging.Logger:
    """This module's logger. logging is imported on first use: it (with traceback, which it imports) costs about
    3 ms, and only failures are logged, while every command opens the store."""
    import logging

    return logging.getLogger(__name__)

# 1: rows inside the main file's delivery documents; 2: rows in one segment file per delivery (migrated on open).
SCHEMA_VERSION = 2

# Table names are part of the file format.
META, MEETINGS, PROTOCOLS, SIGNATURES, STEPS, DELIVERIES, SENT = (
    "meta", "termine", "protokolle", "unterschriften", "schritte", "lieferungen", "erinnerungen",
)

# Row layout inside a delivery document: compact lists, not dicts, because a store holds millions of them.
R_INDICATOR: Final = 0
R_AREA: Final = 1
R_PERIOD: Final = 2
R_VALUE: Final = ROW_VALUE  # the coverage reads rows too
R_NOTE: Final = 4
R_ROW: Final = 5
# A row as the indexes keep it (interned texts): indicator, area, period, value (None: no value), note, row number.
Packed = tuple[str, str, str, float | None, str, int]

# Segment files: a folder beside the main file; inside, one TinyDB table with one document holding the rows.
SEGMENT_FOLDER, SEGMENT_TABLE = "lieferungen", "zeilen"
_SEGMENT_META = ("file", "office", "received", "measures", "indicators")


def segment_folder(path: Path) -> Path:
    return path.parent / SEGMENT_FOLDER


def _segment_pattern(path: Path) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(path.stem)}\.\d+\.[0-9a-f]{{8}}\.json")


def write_segment(path: Path, did: int, content_hash: str, rows: Sequence[Sequence[Any]], *,
                  meta: Mapping[str, Any] | None = None, fsync: bool = True) -> dict[str, Any]:
    """Write one delivery's rows to a new segment beside the store `path`; returns the reference fields.

    The name carries a random token: after a backup of the main file is restored, delivery ids are handed out
    again, and a new delivery must never overwrite a segment that a kept backup still references.
    `meta` (file, office, received, measures, indicators) goes into the segment too: enough to rebuild the
    delivery's document should the main file be lost.
    """
    folder = segment_folder(path)
    if not folder.is_dir():
        folder.mkdir(exist_ok=True)
        if fsync:
            _fsync_dir(folder.parent)  # the folder's entry must be durable before the main file names a segment
    import secrets  # writers only (with random, hmac and base64 about 1 ms)

    name = f"{path.stem}.{did}.{secrets.token_hex(4)}.json"
    storage = AtomicJSONStorage(folder / name, backups=0, fsync=fsync, checksum=True)
    body = {**(meta or {}), "delivery": did, "hash": content_hash, "rows": rows}
    storage.write({SEGMENT_TABLE: {"1": body}})
    assert storage.last_write is not None
    size, digest = storage.last_write
    return {"count": len(rows), "segment": name, "segment_bytes": size, "segment_sha256": digest}


def _segment_files(path: Path) -> list[Path]:
    folder = segment_folder(path)
    if not folder.is_dir():
        return []
    pattern = _segment_pattern(path)
    return sorted(p for p in folder.iterdir() if pattern.fullmatch(p.name))


# ---------------------------------------------------------------- the journal of committed deliveries
def journal_path(path: Path) -> Path:
    return segment_folder(path) / f"{path.stem}.journal.jsonl"


def read_journal(path: Path) -> dict[str, dict[str, Any]] | None:
    """segment name -> its journal entry (the delivery document plus its id); None if there is no journal."""
    try:
        raw = journal_path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError:
        log().warning("journal of %s not readable", path, exc_info=True)
        return None
    out: dict[str, dict[str, Any]] = {}
    for line in raw.splitlines():
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue  # a line torn by a crash while it was appended
        if isinstance(entry, dict) and isinstance(entry.get("segment"), str):
            out[entry["segment"]] = entry
    return out


def append_journal(path: Path, entries: Iterable[Mapping[str, Any]], *, fsync: bool = True) -> None:
    """Append entries (one JSON line each); a torn last line from an earlier crash is closed off first."""
    lines = [orjson.dumps(dict(entry)) for entry in entries]
    if not lines:
        return
    target = journal_path(path)
    target.parent.mkdir(exist_ok=True)
    with open(target, "ab+") as fh:
        fh.seek(0, 2)
        head = b""
        if fh.tell() > 0:
            fh.seek(-1, 2)
            head = b"" if fh.read(1) == b"\n" else b"\n"
        fh.write(head + b"\n".join(lines) + b"\n")
        fh.flush()
        if fsync:
            os.fsync(fh.fileno())


# ---------------------------------------------------------------- the shape of a main file
_DATE_FIELDS = {"termine": ("day",), "protokolle": ("meeting_day", "sent_on"), "unterschriften": ("signed_on",),
                "lieferungen": ("received",)}
_REQUIRED: dict[str, dict[str, type | tuple[type, ...]]] = {
    "termine": {"measure": str},
    "protokolle": {"measure": str, "meeting_day": str, "sent_on": str},
    "unterschriften": {"protocol": int, "version": int, "person": str, "signed_on": str},
    "schritte": {"measure": str, "number": int, "text": str},
    "lieferungen": {"file": str, "hash": str, "received": str},
    "erinnerungen": {"key": str},
}
_SEGMENT_REF: dict[str, type] = {"segment": str, "segment_bytes": int, "segment_sha256": str, "count": int}


def shape_problem(data: Any) -> str | None:
    """Why parsed JSON is not a main file of ours (None if its shape is right): tables, documents, fields.

    Checked on open so that valid JSON of the wrong shape (a list, `{"_default": 5}`, a document without its
    fields) counts as damage like a truncated file, instead of failing later on some attribute.
    """
    if not isinstance(data, dict):
        return "kein JSON-Objekt"
    for name, table in data.items():
        if not isinstance(table, dict):
            return f"Tabelle „{name}“ ist kein JSON-Objekt"
        required = _REQUIRED.get(name, {})
        for doc_id, doc in table.items():
            if not doc_id.isdigit() or not isinstance(doc, dict):
                return f"Tabelle „{name}“: Eintrag „{doc_id}“ ist kein Dokument"
            for key, kind in required.items():
                if not isinstance(doc.get(key), kind) or isinstance(doc.get(key), bool):
                    return f"Tabelle „{name}“, Eintrag {doc_id}: „{key}“ fehlt oder hat den falschen Typ"
            for key in _DATE_FIELDS.get(name, ()):
                value = doc.get(key)
                if value is not None:
                    try:
                        datetime.fromisoformat(value)
                    except (TypeError, ValueError):
                        return f"Tabelle „{name}“, Eintrag {doc_id}: „{key}“ ist kein Datum"
            if name == DELIVERIES and not isinstance(doc.get("rows"), list) and not all(
                    isinstance(doc.get(k), t) for k, t in _SEGMENT_REF.items()):
                return f"Tabelle „{name}“, Eintrag {doc_id}: Verweis auf das Segment fehlt"
    meta = data.get(META, {}).get("1")
    if meta is not None and not isinstance(meta.get("schema"), int):
        return "Formatangabe unlesbar"
    return None


def _schema_of(data: dict[str, Any]) -> int | None:
    meta = data.get(META, {}).get("1")
    return meta.get("schema") if isinstance(meta, dict) else None


def _doc_segments(doc: Mapping[str, Any]) -> set[str]:
    """The segments one delivery document references: its current version and the earlier ones it keeps."""
    out = {doc.get("segment")}
    versions = doc.get("versions")
    if isinstance(versions, list):
        out.update(v.get("segment") for v in versions if isinstance(v, dict))
    out.discard(None)
    return {name for name in out if isinstance(name, str)}


def _references(data: dict[str, Any]) -> set[str]:
    """Segment names a main file (or backup) references or deliberately left out (`withdrawn` by a restore)."""
    out: set[Any] = set()
    for doc in data.get(DELIVERIES, {}).values():
        if isinstance(doc, dict):
            out |= _doc_segments(doc)
    meta = data.get(META, {}).get("1")
    if isinstance(meta, dict):
        out.update(name for name in meta.get("withdrawn", ()) if isinstance(name, str))
    out.discard(None)
    return out


def _segment_intact(folder: Path, doc: Mapping[str, Any], cache: dict[str, bool]) -> bool:
    name = doc.get("segment")
    if name is None:
        return "rows" in doc  # schema 1: the rows are inside
    if name not in cache:
        try:
            raw = (folder / name).read_bytes()
        except OSError:
            cache[name] = False
        else:
            cache[name] = (len(raw) == doc.get("segment_bytes")
                           and hashlib.sha256(raw).hexdigest() == doc.get("segment_sha256"))
    return cache[name]


def _loose_delivery(segment: Path, known: Mapping[str, Any] | None) -> tuple[int, dict[str, Any]] | None:
    """(delivery id, document) rebuilt from a segment no main file references; None if it is not intact.

    The metadata comes from the segment itself; segments written before they carried it take it from the
    journal or a backup (`known`), else the segment's name and time stand in for file and received.
    """
    try:
        raw = segment.read_bytes()
        stat = segment.stat()
    except OSError:
        return None
    digest = hashlib.sha256(raw).hexdigest()
    if known and isinstance(known.get("segment_sha256"), str) and (
            known.get("segment_sha256") != digest or known.get("segment_bytes") != len(raw)):
        return None
    try:
        body = orjson.loads(raw)[SEGMENT_TABLE]["1"]
        rows = body["rows"]
        content_hash = body["hash"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    if not isinstance(rows, list) or not isinstance(content_hash, str) or not all(
            isinstance(r, list) and len(r) == 6 and isinstance(r[0], str) for r in rows):
        return None
    info = {**(known or {}), **{k: v for k, v in body.items() if k not in ("rows", "delivery")}}
    did = body.get("delivery") if isinstance(body.get("delivery"), int) else int(segment.name.split(".")[-3])
    received = info.get("received")
    try:
        datetime.fromisoformat(received)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        received = datetime.fromtimestamp(stat.st_mtime).isoformat(timespec="seconds")
    doc = {"file": str(info.get("file") or segment.name), "hash": content_hash, "office": str(info.get("office", "")),
           "received": received, "measures": list(info.get("measures", ())),
           "indicators": sorted({r[R_INDICATOR] for r in rows}), "count": len(rows), "segment": segment.name,
           "segment_bytes": len(raw), "segment_sha256": digest}
    if isinstance(body.get("after"), int):  # a late delivery's place (see Store.add_delivery)
        doc["after"] = body["after"]
    if isinstance(body.get("replaces"), str):  # a later version of a delivery (see Store.replace_delivery)
        doc["replaces"] = body["replaces"]
        if body.get("withdrawn"):
            doc["withdrawn"] = received
    return did, doc


def _after_of(doc: Mapping[str, Any], did: int) -> int:
    """The delivery a late one arrived after (see Store.add_delivery); its own id for every other."""
    after = doc.get("after")
    return after if isinstance(after, int) and not isinstance(after, bool) and after < did else did


_VERSION_FIELDS = ("file", "hash", "received", "count", "segment", "segment_bytes", "segment_sha256", "withdrawn")


def _next_version(doc: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """A delivery document after a new version: `new`'s fields, the document before it kept under `versions`."""
    earlier = {k: doc[k] for k in _VERSION_FIELDS if k in doc}
    out = {k: v for k, v in new.items() if k not in ("replaces", "versions")}
    out["versions"] = [*doc.get("versions", ()), earlier]
    return out


@dataclass(frozen=True)
class Recovery:
    """What opening did to a missing or damaged main file: for the notice to the admins.

    `backup` is the backup the state was rebuilt from (None: there was none, the deliveries come from their
    segments alone), `taken` when it was made (UTC); `from_backup` deliveries came with it, `reattached` from
    segments written after it; `skipped` names damaged segments left where they are; `kept` is where the damaged
    main file now lies (None if it was missing).
    """

    missing: bool
    reason: str
    backup: str | None
    taken: datetime | None
    from_backup: int
    reattached: int
    skipped: tuple[str, ...] = ()
    kept: Path | None = None


@dataclass(frozen=True)
class BackupInfo:
    """One backup of the main file, for `sozialmonitor sicherungen`. `observations` counts the current values
    (one per indicator, area and period, as `Store.observation_count` would after restoring it)."""

    name: str
    path: Path
    taken: datetime | None
    meetings: int = 0
    protocols: int = 0
    deliveries: int = 0
    observations: int = 0
    usable: bool = False
    problem: str = ""  # unreadable | shape | schema | segment (then `segment` names it)
    segment: str = ""


@dataclass(frozen=True)
class Restored:
    """What `restore_backup` did: the backup restored, and the copy of the state before it (None: none)."""

    backup: BackupInfo
    previous: Path | None
    withdrawn: int = 0
    warnings: list[str] = field(default_factory=list)


def list_backups(path: Path) -> list[BackupInfo]:
    """The backups of the main file `path`, newest first, each checked: parses, right shape, segments intact."""
    folder = segment_folder(path)
    cache: dict[str, bool] = {}
    keys: dict[str, set[int]] = {}  # segment -> hashes of its (indicator, area, period): backups share segments

    def observations(deliveries: Iterable[dict[str, Any]]) -> int:
        held: set[int] = set()
        for doc in deliveries:
            name = doc.get("segment")
            if name is None:
                held.update(hash(tuple(r[:3])) for r in doc.get("rows", ()))
                continue
            if name not in keys:
                try:
                    rows = orjson.loads((folder / name).read_bytes())[SEGMENT_TABLE]["1"]["rows"]
                    keys[name] = {hash((r[0], r[1], r[2])) for r in rows}
                except (OSError, orjson.JSONDecodeError, KeyError, TypeError, IndexError):
                    keys[name] = set()
            held |= keys[name]
        return len(held)

    out = []
    for backup in backup_files(path):
        base = BackupInfo(backup.name, backup, backup_time(backup))
        try:
            data = orjson.loads(backup.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            out.append(replace(base, problem="unreadable"))
            continue
        if shape_problem(data) is not None:
            out.append(replace(base, problem="shape"))
            continue
        deliveries = data.get(DELIVERIES, {})
        counted = replace(base, meetings=len(data.get(MEETINGS, {})), protocols=len(data.get(PROTOCOLS, {})),
                          deliveries=len(deliveries), observations=observations(deliveries.values()))
        if _schema_of(data) not in (1, SCHEMA_VERSION):
            out.append(replace(counted, problem="schema"))
            continue
        broken = next((d for d in deliveries.values() if not _segment_intact(folder, d, cache)), None)
        if broken is not None:
            out.append(replace(counted, problem="segment", segment=str(broken.get("segment"))))
            continue
        out.append(replace(counted, usable=True))
    return out


def restore_backup(path: Path, name: str | None = None, *, backups: int = 5, fsync: bool = True) -> Restored:
    """Make a backup the main file again (default: the newest usable one); the state before is kept as a backup.

    Refused (StoreError) while another process holds the store, or when `name` is unknown or not usable.
    Segments the restored state does not reference stay on disk, journaled, and are recorded as `withdrawn` in
    it, so that a later rebuild does not bring back what the restore took away.
    """
    path = Path(path)
    lock = ProcessLock(path, role="wiederherstellen")
    if not lock.acquired:
        holder = lock.holder()
        raise StoreError("restore_busy", path=str(path), pid=holder.pid, command=holder.role or "?")
    try:
        infos = list_backups(path)
        if name is None:
            chosen = next((b for b in infos if b.usable), None)
            if chosen is None:
                raise StoreError("restore_none", folder=str(path.parent / "sicherungen"))
        else:
            chosen = next((b for b in infos if name in (b.name, b.path.stem, b.name.split(".")[-2])), None)
            if chosen is None:
                raise StoreError("restore_unknown", name=name, folder=str(path.parent / "sicherungen"))
            if not chosen.usable:
                raise StoreError("restore_unusable", name=chosen.name)
        data = orjson.loads(chosen.path.read_bytes())  # read before a new backup could rotate it out
        # The copy of the state before is taken once, here; the write itself takes none.
        storage = AtomicJSONStorage(path, backups=max(backups, 1), backup_seconds=float("inf"), fsync=fsync)
        previous = storage.backup_now() if path.exists() else None
        # Every segment on disk stays known to the journal: none of them may be collected later.
        journal = read_journal(path) or {}
        present = _segment_files(path)
        append_journal(path, [{"segment": p.name} for p in present if p.name not in journal], fsync=fsync)
        referenced = {name for d in data.get(DELIVERIES, {}).values() for name in _doc_segments(d)}
        withdrawn = sorted(p.name for p in present if p.name not in referenced)
        meta = dict(data.get(META, {}).get("1") or {})
        meta.update(withdrawn=withdrawn, restored={"from": chosen.name,
                                                   "at": datetime.now().isoformat(timespec="seconds")})
        data[META] = {**data.get(META, {}), "1": meta}
        storage.write(data)
        return Restored(chosen, previous, withdrawn=len(withdrawn))
    finally:
        lock.release()


@dataclass(frozen=True)
class DeliveryResult:
    delivery: Delivery | None
    duplicate_of: int | None = None
    new: int = 0
    replaced: int = 0
    unchanged: int = 0
    withdrawn: int = 0  # current values that are gone with a new version (or a withdrawal) of the delivery


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: for code that allocates hundreds of thousands of rows.

    Rows (tuples and lists of plain values) make no cycles, but every collection their allocation triggers walks
    every object of the process; with a store of 10^6 observations held, those passes cost more than the work.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _packed_already(rows: Sequence[Sequence[Any]], columns: Sequence[Sequence[Any]],
                    tables: Sequence[Mapping[Any, str]]) -> bool:
    """Whether every row is a plain tuple whose texts are already the interned ones (the import's rows are):
    then they can be kept as they are.

    Rows (made of their columns, never changed) are tuples throughout, and are taken by their distinct texts:
    what they hold is then what packing would make of it, and the catalogue check that made them interned each
    text once (another maker's uninterned texts would only share less memory)."""
    if isinstance(rows, Rows):
        return all(table[t] is t for table in tables for t in table)
    if set(map(type, rows)) != {tuple}:
        return False
    return all(all(map(operator.is_, column, map(table.__getitem__, column)))
               for column, table in zip(columns, tables, strict=True))


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _t(value: str | None) -> time | None:
    return time.fromisoformat(value) if value else None


class Rows(list[Packed]):
    """Store rows (indicator, area, period, value, note, row) made from their columns, which they keep: who reads
    them column by column (the import's jump check, `add_delivery`) takes `columns` instead of taking every
    row apart again. Made once and never changed: every changing method raises TypeError (a copy is a list)."""

    __slots__ = ("columns",)
    columns: tuple[Sequence[Any], ...]

    @classmethod
    def of(cls, *columns: Sequence[Any]) -> Self:
        rows = cls(zip(*columns, strict=True))
        rows.columns = tuple(map(tuple, columns))  # copies: a caller's list changed later changes nothing here
        return rows

    def __reduce__(self) -> tuple[type[list[Packed]], tuple[list[Packed]]]:
        return list, (list(self),)  # a copy is a plain list: it may be changed

    @staticmethod
    def columns_of(rows: Sequence[Sequence[Any]]) -> tuple[Sequence[Any], ...]:
        """The six columns of any store rows: those Rows carry (while they still match), else taken apart."""
        columns: tuple[Sequence[Any], ...] | None = getattr(rows, "columns", None) if isinstance(rows, Rows) else None
        if columns is not None and len(columns) == 6 and all(len(c) == len(rows) for c in columns):
            return columns
        return tuple(zip(*rows, strict=True))


def _distinct(column: Sequence[Any]) -> set[Any]:
    """The distinct cells of a column; one text throughout (one indicator, no notes) is told by a count, which
    meets the same object first: cheaper than hashing every cell. Only texts equal a text."""
    first = column[0] if column else None
    return {first} if first.__class__ is str and column.count(first) == len(column) else set(column)


def _runs(rows: list[Packed], columns: Sequence[Sequence[Any]] | None,
          ) -> Iterator[tuple[str, str, Sequence[Packed], Sequence[str], Sequence[Any] | None, Sequence[Any] | None]]:
    """The runs of rows of one indicator and period, in order: (indicator, period, rows, their areas, values,
    notes); values and notes only when `columns` holds them (else None)."""
    if columns is None:
        area_of = itemgetter(R_AREA)
        for (ind, period), group in groupby(rows, itemgetter(R_INDICATOR, R_PERIOD)):
            run = list(group)
            yield ind, period, run, list(map(area_of, run)), None, None
        return
    inds, areas, periods = columns[R_INDICATOR], columns[R_AREA], columns[R_PERIOD]
    if not rows:
        return
    # Where indicator or period changes: equal neighbours grouped in C (interned texts: an identity test), Python
    # steps only per run.
    cuts = sorted({0, *accumulate(len(list(g)) for _, g in groupby(periods)),
                   *accumulate(len(list(g)) for _, g in groupby(inds))})
    values, notes = (columns[R_VALUE], columns[R_NOTE]) if len(columns) > R_NOTE else (None, None)
    for start, end in pairwise(cuts):
        yield (inds[start], periods[start], rows[start:end], areas[start:end],
               None if values is None else values[start:end], None if notes is None else notes[start:end])


def _refuse(self: Rows, *args: object, **kwargs: object) -> NoReturn:
    raise TypeError("Rows are made once and not changed: their columns would no longer match")


for _name in ("__setitem__", "__delitem__", "__iadd__", "__imul__", "append", "extend", "insert", "pop", "remove",
              "clear", "sort", "reverse"):
    setattr(Rows, _name, _refuse)


@dataclass(frozen=True)
class HeldColumns:
    """The current values of one indicator column by column: `counts[k]` values of period `periods[k]` in a row,
    their areas in `areas` and values in `values` (None: no value); neither periods nor areas in any order."""

    periods: list[str]
    counts: list[int]
    areas: list[str]
    values: list[float | None]


class SeriesReader:
    """`Store.series`: called with an indicator, area -> [(period, value, note)] in period order; `columns`
    gives the same values as HeldColumns, for a check that reads them all at once (the import's jump check)."""

    __slots__ = ("_columns", "_points")

    def __init__(self, points: Callable[[str], dict[str, list[tuple[str, float | None, str]]]],
                 columns: Callable[[str], HeldColumns]) -> None:
        self._points, self._columns = points, columns

    def __call__(self, indicator: str) -> dict[str, list[tuple[str, float | None, str]]]:
        return self._points(indicator)

    def columns(self, indicator: str) -> HeldColumns:
        return self._columns(indicator)


class Store:
    """All persistent state but the catalogue. Thread-safe: every method takes the one lock.

    The watcher thread and the bot's event loop share one Store; TinyDB itself is not thread-safe.
    """

    def __init__(self, path: str | Path, *, backups: int = 5, backup_seconds: float = 600.0,
                 fsync: bool = True, read_only: bool = False, role: str = "", wait: float = 0.0,
                 on_load: Callable[[], None] | None = None, stop_for_writer: bool = False) -> None:
        """`role` names the command holding the store (shown to other processes); `wait` see ProcessLock.

        `read_only` (for `check`) takes no lock at all: even a brief hold would make a starting `run` refuse.
        `on_load` is called once the rows are in memory (the monitor freezes them out of the collector's way).
        `stop_for_writer` (with `read_only`, for `reader`): when the coverage cannot be used, stop before reading
        any row, with `needs_writer` set; the store is then only to be closed.
        """
        self.path = Path(path)
        self._on_load = on_load  # coverage: called once every observation is in memory (see _need_rows)
        self._coverage_file = coverage_path(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._fsync = fsync
        self._segments = segment_folder(self.path)
        self._verified: dict[str, bool] = {}  # segment name -> matches its reference (checked for backups)
        self._marked: list[str] | None = None  # reminder keys marked inside the open transaction
        self.recovered: Recovery | None = None
        # Opened read-only, the files wanted a writer's care (coverage to save, a schema to migrate): see reader()
        self.needs_writer = False
        # Opened from the coverage: the current values of single indicators, read from their deliveries' segments
        # alone (see _current_of); given up once every row is read.
        self._held_of: dict[str, dict[str, dict[str, Packed]]] = {}
        self._by_indicator = False
        self._lazy_left = 0  # rows that may still be read that way (see _lazy_budget), set by _open_from_coverage
        self._lazy_rows: dict[tuple[int, str], list[Packed]] = {}  # (delivery, indicator) -> its rows, read
        self._stop_for_writer = stop_for_writer and read_only
        # The lock comes first: only its holder may rebuild a missing or damaged main file.
        self._process_lock = ProcessLock(self.path, role=role, wait=wait, acquire=not read_only)
        try:
            self._db = TinyDB(self.path, storage=AtomicJSONStorage, backups=backups,
                              backup_seconds=backup_seconds, fsync=fsync, validate=self._backup_good)
            self._storage: AtomicJSONStorage = self._db.storage  # type: ignore[assignment]
            if not self._process_lock.acquired:
                self._storage.read_only = True
                self._storage.holder = self._process_lock.holder().pid
            with self._lock, gc_paused():
                self._open_main()
                self._check_schema()
                self._build_indexes()
                if not self.read_only:
                    self._journal_sync()
                    self._collect_orphans()
        except BaseException:
            self._process_lock.release()
            raise

    @classmethod
    def reader(cls, path: str | Path, *, role: str = "", wait: float = 0.0, **options: Any) -> Store:
        """The store for a command that only reads: opened without the process lock, so that it neither waits
        for nor blocks anybody (every write of the main file is an atomic rename, so a reader sees one whole
        state). When the files want what only the holder may do (rebuild a missing or damaged main file, migrate
        the schema, save the coverage), it is opened as `Store(path, role=..., wait=...)` instead.
        """
        try:
            store = cls(path, read_only=True, stop_for_writer=True, **options)
        except (StoreError, StoreUnreadable):
            return cls(path, role=role, wait=wait, **options)
        if store.needs_writer:
            store.close()
            return cls(path, role=role, wait=wait, **options)
        return store

    # ---------------------------------------------------------------- lifecycle
    def _has_history(self) -> bool:
        """Did this store ever hold data: a backup or a delivery segment exists."""
        return bool(backup_files(self.path) or _segment_files(self.path))

    def _open_main(self) -> None:
        """Read the main file; a missing one (when the store held data) or a damaged one is rebuilt."""
        try:
            data = self._storage.read()
        except StoreUnreadable as exc:
            problem: str | None = exc.reason
        else:
            if data is None:
                if not self._has_history():
                    return  # a truly new store
                problem = "fehlt"
            else:
                problem = shape_problem(data)
                if problem is None and _schema_of(data) is None and any(data.values()) and self._has_history():
                    problem = "keine Formatangabe: nicht die Datenbank des Sozialmonitors"
        if problem is None:
            return
        missing = not self.path.exists()
        if self.read_only:
            # Only the holder may rebuild; it still has the whole state in memory and writes it again.
            if missing:
                raise StoreError("store_missing_locked", path=str(self.path), pid=self._storage.holder)
            raise StoreUnreadable(self.path, self._storage.newest_backup(), problem)
        self._recover(problem, missing=missing)

    def _backup_good(self, data: dict[str, Any]) -> bool:
        return shape_problem(data) is None and _schema_of(data) in (1, SCHEMA_VERSION) and self._backup_usable(data)

    def _recover(self, reason: str, *, missing: bool) -> None:
        """Newest good backup + every intact segment it does not reference, re-attached in id order."""
        backup = self._storage.newest_backup()
        data: dict[str, Any] = orjson.loads(backup.read_bytes()) if backup is not None else {
            META: {"1": {"schema": SCHEMA_VERSION, "created": datetime.now().isoformat(timespec="seconds")}}}
        kept = None if missing else keep_aside(self.path)
        deliveries: dict[str, Any] = data.setdefault(DELIVERIES, {})
        from_backup = len(deliveries)
        known = _references(data)
        journal = read_journal(self.path) or {}
        # Segments written before they carried their metadata: any backup's document for them still has it.
        documents: dict[str, dict[str, Any]] = {}
        for other in backup_files(self.path):
            with contextlib.suppress(OSError, orjson.JSONDecodeError, AttributeError, TypeError):
                for doc in orjson.loads(other.read_bytes()).get(DELIVERIES, {}).values():
                    documents.setdefault(doc.get("segment"), doc)
        found: list[tuple[int, float, str, dict[str, Any]]] = []
        skipped: list[str] = []
        for segment in _segment_files(self.path):
            if segment.name in known:
                continue
            loose = _loose_delivery(segment, journal.get(segment.name) or documents.get(segment.name))
            if loose is None:
                skipped.append(segment.name)  # left where it is: nothing is deleted
                continue
            did, doc = loose
            found.append((did, segment.stat().st_mtime, segment.name, doc))
        reattached = 0
        last = max((int(i) for i in deliveries), default=0)
        versions = [f for f in found if "replaces" in f[3]]
        # A delivery replaced or withdrawn later may see its old content delivered again: that is no duplicate.
        superseded = {f[3]["replaces"] for f in versions}
        hashes = {doc["hash"] for doc in deliveries.values()
                  if not doc.get("withdrawn") and doc.get("segment") not in superseded}
        for did, _, _, doc in sorted((f for f in found if "replaces" not in f[3]), key=lambda f: f[:3]):
            if doc["hash"] in hashes:
                continue  # the same content again (the file was imported anew after a crash)
            last = max(did, last + 1)
            deliveries[str(last)] = doc
            hashes.add(doc["hash"])
            reattached += 1
        reattached += self._reapply_versions(deliveries, versions, last)
        taken = backup_time(backup) if backup is not None else None
        meta = data[META].setdefault("1", {"schema": SCHEMA_VERSION})
        meta["recovered"] = {"at": datetime.now().isoformat(timespec="seconds"), "reason": reason,
                             "backup": backup.name if backup else None, "reattached": reattached}
        self._storage.write(data)
        self.recovered = Recovery(missing=missing, reason=reason, backup=backup.name if backup else None,
                                  taken=taken, from_backup=from_backup, reattached=reattached,
                                  skipped=tuple(skipped), kept=kept)
        log().info("store %s rebuilt (%s) from %s plus %d segments", self.path, reason,
                   backup.name if backup else "no backup", reattached)

    @staticmethod
    def _reapply_versions(deliveries: dict[str, Any], versions: list[tuple[int, float, str, dict[str, Any]]],
                          last: int) -> int:
        """Apply versions written after the backup (replacements, withdrawals) to the deliveries they replace, in
        the order they were written; one whose delivery is not there comes back as a delivery of its own (its
        rows are a file's final content), a withdrawal of nothing is dropped. Returns how many were applied."""
        by_segment = {doc.get("segment"): key for key, doc in deliveries.items()}
        pending = sorted(versions, key=lambda f: (f[1], f[2]))
        applied = 0
        progress = True
        while pending and progress:
            progress = False
            for item in list(pending):
                doc = dict(item[3])
                key = by_segment.get(doc.pop("replaces"))
                if key is None:
                    continue
                deliveries[key] = _next_version(deliveries[key], doc)
                by_segment[doc["segment"]] = key
                pending.remove(item)
                applied += 1
                progress = True
        for did, _, _, doc in sorted(pending, key=lambda f: f[:3]):
            if doc.get("withdrawn"):
                continue
            last = max(did, last + 1)
            deliveries[str(last)] = {k: v for k, v in doc.items() if k != "replaces"}
            applied += 1
        return applied

    def _journal_sync(self) -> None:
        """Every segment the main file references is in the journal (a crash after the main write, a store from
        before the journal). Without a journal, every segment present is entered: unknown is never deleted."""
        journal = read_journal(self.path)
        names = {name for d in self._raw(DELIVERIES).values() for name in _doc_segments(d)}
        if journal is None:
            names |= {p.name for p in _segment_files(self.path)}
        journal = journal or {}
        table = self._raw(DELIVERIES)
        by_name = {doc.get("segment"): (int(i), doc) for i, doc in table.items()}
        entries = []
        for name in sorted(n for n in names if n not in journal):
            did, doc = by_name.get(name, (None, {}))
            entries.append({**{k: v for k, v in doc.items() if k != "rows"}, "segment": name, "delivery": did})
        try:
            append_journal(self.path, entries, fsync=self._fsync)
        except OSError:
            log().warning("journal of %s not written", self.path, exc_info=True)

    def _check_schema(self) -> None:
        meta = self._db.table(META).get(doc_id=1)
        if meta is None:
            if any(self._db.table(name).all() for name in self._db.tables() if name != META):
                raise StoreError("store_no_schema", path=str(self.path))
            self._db.table(META).insert(
                {"schema": SCHEMA_VERSION, "created": datetime.now().isoformat(timespec="seconds")})
            return
        version = meta.get("schema")
        if version == 1:
            # A second process reads a version-1 file as it is; the one holding the store migrates it.
            if not self.read_only:
                self._migrate_v1()
            self.needs_writer = self.read_only
            return
        if version != SCHEMA_VERSION:
            raise StoreError("store_schema", path=str(self.path), found=version, expected=SCHEMA_VERSION)

    def _migrate_v1(self) -> None:
        """Schema 1 -> 2: write a segment per delivery, then the main file without rows (one write).

        The version-1 file is kept among the backups first; restoring it later simply migrates it again
        (new segment names, so nothing a kept backup references is overwritten).
        """
        data = self._storage.read() or {}
        with contextlib.suppress(OSError):
            self._storage.backup_now()
        written: list[Path] = []
        writes = self._storage.writes
        try:
            deliveries = {}
            for doc_id, doc in data.get(DELIVERIES, {}).items():
                if "rows" not in doc:
                    deliveries[doc_id] = doc
                    continue
                meta = {k: v for k, v in doc.items() if k in _SEGMENT_META}
                ref = write_segment(self.path, int(doc_id), doc["hash"], doc["rows"], meta=meta, fsync=self._fsync)
                written.append(self._segments / ref["segment"])
                deliveries[doc_id] = {k: v for k, v in doc.items() if k != "rows"} | ref
            meta = dict(data[META]["1"], schema=SCHEMA_VERSION, migrated=datetime.now().isoformat(timespec="seconds"))
            self._storage.write({**data, DELIVERIES: deliveries, META: {**data[META], "1": meta}})
        except BaseException:
            if self._storage.writes == writes:  # the new main file is not in place: its segments are orphans
                for segment in written:
                    with contextlib.suppress(OSError):
                        segment.unlink()
            raise

    def _build_indexes(self, *, lazy: bool = True) -> None:
        if lazy and self._open_from_coverage():  # coverage: open without reading rows (storage/coverage.py)
            return
        if lazy and self._stop_for_writer and coverage_fingerprint(self._raw(DELIVERIES)) is not None:
            self.needs_writer = True  # the holder of the lock reads every row once and saves the coverage
            return
        # indicator -> period -> area -> row: the current value of every key; keyed alike, the id of the delivery
        # that holds it (a dict beside the rows, not a (delivery, row) tuple per value: 10^5 fewer objects per
        # import for the garbage collector to walk).
        self._current: dict[str, dict[str, dict[str, Packed]]] = {}
        self._owner: dict[str, dict[str, dict[str, int]]] = {}
        self._latest: dict[str, str] = {}  # indicator -> latest period held
        self._hashes: dict[str, int] = {}
        self._deliveries: dict[int, Delivery] = {}
        self._rows: dict[int, list[Packed]] = {}  # delivery id -> its rows, as stored in its segment
        # delivery id -> its earlier versions (received, rows), oldest first: history only, never current
        self._versions: dict[int, list[tuple[datetime | None, list[Packed]]]] = {}
        self._withdrawn: set[int] = set()  # deliveries whose values were all taken back (kept for the history)
        self._after: dict[int, int] = {}  # a late delivery -> the one it arrived after (see add_delivery)
        table = self._raw(DELIVERIES)
        for did, doc in sorted(((int(i), d) for i, d in table.items()),
                               key=lambda item: (_after_of(item[1], item[0]), item[0])):
            if _after_of(doc, did) != did:
                self._after[did] = _after_of(doc, did)
            rows = self._pack(doc["rows"] if "rows" in doc else self._read_segment(did, doc))
            self._rows[did] = rows
            if doc.get("withdrawn"):
                self._withdrawn.add(did)
            else:
                self._hashes.setdefault(doc["hash"], did)
            self._deliveries[did] = self._delivery(did, doc)
            self._index_rows(did, rows)
            if doc.get("versions"):
                self._versions[did] = self._read_versions(did, doc["versions"])

        self._coverage_from_index()  # coverage: derived from the rows just read

    def _read_versions(self, did: int, versions: list[Any]) -> list[tuple[datetime | None, list[Packed]]]:
        """The rows of a delivery's earlier versions, for the history; a damaged one is left out (with a log
        line), never a reason not to open the store: only the current version holds current values."""
        out = []
        for version in versions:
            if not isinstance(version, dict) or not version.get("count"):
                continue
            try:
                rows = self._read_segment(did, version)
            except StoreUnreadable:
                log().warning("earlier version %s of delivery %d not readable; its history is incomplete",
                              version.get("segment"), did)
                continue
            received = version.get("received")
            out.append((datetime.fromisoformat(received) if isinstance(received, str) else None, self._pack(rows)))
        return out

    def _read_segment(self, did: int, doc: dict[str, Any], *, parse: bool = True) -> list[list[Any]]:
        """The rows of a referenced segment; a missing or damaged one makes the whole store unreadable.

        With `parse=False` only the size and checksum are checked (opening from the coverage).
        """
        path = self._segments / doc["segment"]

        def unreadable(problem: str) -> StoreUnreadable:
            reason = f"Lieferung {did} ({doc.get('file', '?')}): Segment {path} {problem}"
            return StoreUnreadable(self.path, self._storage.newest_backup(), reason, segment=path)

        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise unreadable("fehlt") from None
        except OSError as exc:
            raise unreadable(f"nicht lesbar: {exc}") from None
        if len(raw) != doc["segment_bytes"]:
            raise unreadable(f"hat {len(raw)} statt {doc['segment_bytes']} Bytes") from None
        if hashlib.sha256(raw).hexdigest() != doc["segment_sha256"]:
            raise unreadable("hat nicht den gespeicherten Inhalt (Prüfsumme)") from None
        if not parse:
            self._verified[doc["segment"]] = True
            return []
        try:
            rows: list[list[Any]] = orjson.loads(raw)[SEGMENT_TABLE]["1"]["rows"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise unreadable(f"ist kein Segment: {exc}") from None
        self._verified[doc["segment"]] = True
        return rows

    def _segment_ok(self, doc: dict[str, Any]) -> bool:
        return _segment_intact(self._segments, doc, self._verified)

    def _backup_usable(self, data: dict[str, Any]) -> bool:
        """A backup of the main file is only offered for restoring if every segment it references is intact."""
        deliveries = data.get(DELIVERIES, {})
        return isinstance(deliveries, dict) and all(
            isinstance(doc, dict) and self._segment_ok(doc) for doc in deliveries.values())

    def _collect_orphans(self) -> None:
        """Delete segments that neither the main file, nor a kept backup, nor the journal knows (a crash between
        a segment's write and the main file's: the file is imported again), and temp files of interrupted
        segment writes. Only the process holding the store does.
        """
        if not self._segments.is_dir():
            return
        known = _references(self._storage.read() or {})  # once: per segment it made every open quadratic
        unknown = [p for p in _segment_files(self.path) if p.name not in known]
        if unknown:
            journal = read_journal(self.path)
            if journal is None:
                return  # no journal to tell committed from orphaned: keep everything
            protected = set(journal)
            for backup in backup_files(self.path):
                try:
                    protected |= _references(orjson.loads(backup.read_bytes()))
                except (OSError, orjson.JSONDecodeError, AttributeError, TypeError):
                    continue
            for path in unknown:
                if path.name not in protected:
                    with contextlib.suppress(OSError):
                        path.unlink()
        for tmp in self._segments.glob(f".{self.path.stem}.*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()

    @staticmethod
    def _pack(rows: list[Any]) -> list[Packed]:
        """Rows as read from a segment (lists) -> interned tuples, in place.

        Interning shares the few distinct ids/areas/periods across a million rows. Tuples of strings and numbers
        drop out of the cyclic garbage collector's tracking; lists would keep 10^6 objects in every full
        collection (about a second each at that size, at random moments in the bot).
        """
        if not rows:
            return rows
        # Column by column: each distinct text is interned once, and the tuples are built by zip in C.
        inds, areas, periods, values, notes, numbers = zip(*rows, strict=True)
        shared = [map({t: sys.intern(t) for t in set(c)}.__getitem__, c) for c in (inds, areas, periods)]
        rows[:] = zip(*shared, values, notes, numbers, strict=True)
        return rows

    def _index_rows(self, did: int, rows: list[Packed], *, count: bool = False,
                    columns: Sequence[Sequence[Any]] | None = None) -> tuple[int, int, int]:
        """Make `rows` (packed tuples) the current values of their keys; with `count`, say how many were
        new/replaced/same. `columns`: the rows' own columns, if the caller has them (fewer steps per row)."""
        from itertools import repeat

        current, owner, latest = self._current, self._owner, self._latest
        new = replaced = unchanged = 0
        value_of, note_of = itemgetter(R_VALUE), itemgetter(R_NOTE)
        # A delivery's rows come in runs of one indicator and period: each run is entered with one dict update.
        for ind, period, run, areas, run_values, run_notes in _runs(rows, columns):
            by_period = current.get(ind)
            if by_period is None:
                by_period = current[ind] = {}
                owner[ind] = {}
            by_area = by_period.get(period)
            if by_area is None:
                by_area = by_period[period] = {}
                owner[ind][period] = {}
                if period > latest.get(ind, ""):
                    latest[ind] = period
            if count:
                if len(set(areas)) != len(areas):  # an area twice in a run: the later row meets the earlier one
                    for area, row in zip(areas, run, strict=True):
                        old = by_area.get(area)
                        if old is None:
                            new += 1
                        elif old[R_VALUE] == row[R_VALUE] and old[R_NOTE] == row[R_NOTE]:
                            unchanged += 1
                        else:
                            replaced += 1
                        by_area[area] = row
                else:
                    olds = list(map(by_area.get, areas))
                    held = list(filter(None, olds))  # a row is never falsy (six fields)
                    if len(held) == len(olds) and run_values is not None and run_notes is not None:
                        met_values, met_notes = run_values, run_notes  # the run's own columns: no step per row
                    else:
                        met = run if len(held) == len(olds) else list(compress(run, olds))  # rows meeting them
                        met_values, met_notes = list(map(value_of, met)), list(map(note_of, met))
                    # Value and note compared by map in C: no Python step per value.
                    same = sum(map(and_, map(eq, map(value_of, held), met_values),
                                   map(eq, map(note_of, held), met_notes)))
                    fresh = len(olds) - len(held)
                    new, unchanged, replaced = new + fresh, unchanged + same, replaced + len(run) - fresh - same
                    by_area.update(zip(areas, run, strict=True))
            else:
                by_area.update(zip(areas, run, strict=True))
            owner[ind][period].update(zip(areas, repeat(did)))
        return new, replaced, unchanged

    def _raw(self, name: str) -> dict[str, dict[str, Any]]:
        data = self._storage.read() or {}
        table: dict[str, dict[str, Any]] = data.get(name, {})
        return table

    @property
    def read_only(self) -> bool:
        """True when another process holds the store: reads work, writes raise StoreError('store_locked')."""
        return self._storage.read_only

    @property
    def holder(self) -> str:
        """The process id holding the store when this one is read-only."""
        return self._storage.holder

    def holder_info(self) -> Holder:
        """Who holds the store (process id, command, since when) when this one is read-only."""
        return self._process_lock.holder()

    @contextmanager
    def transaction(self) -> Iterator[list[str]]:
        """Several changes as ONE write, all or nothing; yields the reminder keys marked sent inside.

        Holds the lock throughout, so no other thread's change joins (or is lost with) this one. Used where a
        reminder's sent mark and its outbox entry must not be separated by a crash.
        """
        with self._lock:
            outer = self._marked
            marked: list[str] = [] if outer is None else outer
            self._marked = marked
            try:
                with self._storage.batch():
                    yield marked
            except BaseException:
                for name in self._db.tables():
                    self._db.table(name).clear_cache()
                raise
            finally:
                self._marked = outer

    def close(self) -> None:
        with self._lock:
            self._db.close()
            # Without the process lock nothing may write any more (a late import after a timed-out stop).
            self._storage.read_only = True
            self._process_lock.release()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the lock across several calls that must see one consistent state."""
        with self._lock:
            yield

    @property
    def writes(self) -> int:
        return self._storage.writes

    @property
    def is_empty(self) -> bool:
        with self._lock:
            return not any(self._raw(n) for n in (MEETINGS, STEPS, DELIVERIES, PROTOCOLS))

    # ---------------------------------------------------------------- meetings
    @staticmethod
    def _meeting(doc: Mapping[str, Any], doc_id: int) -> Meeting:
        return Meeting(
            id=doc_id, measure=doc["measure"], day=_d(doc.get("day")), time=_t(doc.get("time")),
            approach=doc.get("approach", ""), participants=tuple(doc.get("participants", ())),
            seq=doc.get("seq", 0), history=tuple(doc.get("history", ())), cancelled=_dt(doc.get("cancelled")),
            cancelled_by=doc.get("cancelled_by", ""),
        )

    def meetings(self, measure: str | None = None, *, include_cancelled: bool = False) -> list[Meeting]:
        """Meetings in the status document's order: by date, then as entered; unscheduled last.

        Cancelled meetings stay in the store for the history; only `include_cancelled` hands them out.
        """
        with self._lock:
            raw = self._raw(MEETINGS)
            out = [self._meeting(d, int(i)) for i, d in raw.items()
                   if (measure is None or d["measure"] == measure) and (include_cancelled or not d.get("cancelled"))]
        return sorted(out, key=lambda m: (m.day is None, m.day or date.max, m.time or time.min, m.seq, m.id))

    def add_meeting(self, measure: str, day: date | None, *, at: time | None = None, approach: str = "",
                    participants: Sequence[str] = ()) -> Meeting:
        with self._lock:
            table = self._db.table(MEETINGS)
            seq = max((d.get("seq", 0) for d in self._raw(MEETINGS).values()), default=0) + 1
            doc = {"measure": measure, "day": day.isoformat() if day else None,
                   "time": at.isoformat(timespec="minutes") if at else None, "approach": approach,
                   "participants": list(participants), "seq": seq, "history": []}
            doc_id = table.insert(doc)
            return self._meeting(doc, doc_id)

    def move_meeting(self, meeting_id: int, day: date, *, at: time | None, approach: str | None,
                     changed: datetime, by: str = "") -> Meeting:
        """Reschedule; the former date and approach stay in the meeting's history."""
        with self._lock:
            table = self._db.table(MEETINGS)
            doc = table.get(doc_id=meeting_id)
            if doc is None:
                raise KeyError(meeting_id)
            history = [*doc.get("history", []),
                       {"day": doc.get("day"), "time": doc.get("time"), "approach": doc.get("approach", ""),
                        "changed": changed.isoformat(timespec="seconds"), "by": by}]
            update = {"day": day.isoformat(), "time": at.isoformat(timespec="minutes") if at else None,
                      "history": history}
            if approach is not None:
                update["approach"] = approach
            table.update(update, doc_ids=[meeting_id])
            return self._meeting({**doc, **update}, meeting_id)

    def set_participants(self, meeting_id: int, participants: Sequence[str]) -> None:
        with self._lock:
            self._db.table(MEETINGS).update({"participants": list(participants)}, doc_ids=[meeting_id])

    def cancel_meeting(self, meeting_id: int, *, changed: datetime, by: str = "") -> Meeting:
        """Cancel a meeting: it keeps its date and stays in the store, marked cancelled (and in its history)."""
        with self._lock:
            table = self._db.table(MEETINGS)
            doc = table.get(doc_id=meeting_id)
            if doc is None:
                raise KeyError(meeting_id)
            stamp = changed.isoformat(timespec="seconds")
            history = [*doc.get("history", []),
                       {"day": doc.get("day"), "time": doc.get("time"), "approach": doc.get("approach", ""),
                        "changed": stamp, "by": by, "cancelled": True}]
            update = {"cancelled": stamp, "cancelled_by": by, "history": history}
            table.update(update, doc_ids=[meeting_id])
            return self._meeting({**doc, **update}, meeting_id)

    # ---------------------------------------------------------------- protocols and signatures
    @staticmethod
    def _protocol(doc: Mapping[str, Any], doc_id: int) -> Protocol:
        return Protocol(
            id=doc_id, measure=doc["measure"], meeting_day=date.fromisoformat(doc["meeting_day"]),
            sent_on=date.fromisoformat(doc["sent_on"]), signatories=tuple(doc.get("signatories", ())),
            file=doc.get("file", ""), file_hash=doc.get("file_hash", ""), version=doc.get("version", 1),
            entered_on=_d(doc.get("entered")),
        )

    def protocols(self, measure: str | None = None) -> list[Protocol]:
        with self._lock:
            out = [self._protocol(d, int(i)) for i, d in self._raw(PROTOCOLS).items()
                   if measure is None or d["measure"] == measure]
        return sorted(out, key=lambda p: (p.meeting_day, p.measure))

    def protocol(self, measure: str, meeting_day: date) -> Protocol | None:
        for p in self.protocols(measure):
            if p.meeting_day == meeting_day:
                return p
        return None

    def record_protocol(self, measure: str, meeting_day: date, *, sent_on: date, signatories: Sequence[str],
                        file: str = "", file_hash: str = "",
                        entered_on: date | None = None) -> tuple[Protocol, bool]:
        """Record a protocol sent for signature. Returns (protocol, signatures_were_reset).

        A different file for a protocol that already has signatures starts a new version: a changed
        protocol must be signed again. The same file again changes nothing. `entered_on` (a day after
        `sent_on`) marks a protocol entered as history: reminders due before that day are never sent.
        """
        with self._lock:
            table = self._db.table(PROTOCOLS)
            existing = self.protocol(measure, meeting_day)
            if existing is None:
                doc = {"measure": measure, "meeting_day": meeting_day.isoformat(), "sent_on": sent_on.isoformat(),
                       "signatories": list(signatories), "file": file, "file_hash": file_hash, "version": 1,
                       "history": []}
                if entered_on is not None and entered_on > sent_on:
                    doc["entered"] = entered_on.isoformat()
                return self._protocol(doc, table.insert(doc)), False
            if file_hash and existing.file_hash == file_hash:
                return existing, False
            changed_file = bool(file_hash and existing.file_hash and existing.file_hash != file_hash)
            had_signatures = bool(self.signatures(existing.id))
            reset = changed_file and had_signatures
            version = existing.version + 1 if changed_file else existing.version
            raw: Mapping[str, Any] = table.get(doc_id=existing.id) or {}
            history = [*raw.get("history", []),
                       {"version": existing.version, "sent_on": existing.sent_on.isoformat(),
                        "file": existing.file, "file_hash": existing.file_hash}]
            update = {"sent_on": sent_on.isoformat(), "signatories": list(signatories),
                      "file": file or existing.file, "file_hash": file_hash or existing.file_hash,
                      "version": version, "history": history}
            if entered_on is not None and entered_on > sent_on:
                update["entered"] = entered_on.isoformat()
            table.update(update, doc_ids=[existing.id])
            return self._protocol({**raw, **update}, existing.id), reset

    def sign(self, protocol_id: int, person: str, *, signed_on: date, channel: str, at: datetime,
             method: str = "chat", recorded_by: str = "") -> bool:
        """Record a signature on the protocol's current version; False if it was already there.

        The ledger keeps how it came (`method`: chat, or papier for a signed sheet returned) and who entered it.
        """
        with self._lock:
            raw = self._db.table(PROTOCOLS).get(doc_id=protocol_id)
            if raw is None:
                raise KeyError(protocol_id)
            version = raw.get("version", 1)
            if any(s.person == person for s in self.signatures(protocol_id)):
                return False
            self._db.table(SIGNATURES).insert(
                {"protocol": protocol_id, "version": version, "person": person, "signed_on": signed_on.isoformat(),
                 "channel": channel, "recorded_at": at.isoformat(timespec="seconds"), "method": method,
                 "recorded_by": recorded_by or person})
            return True

    def sign_many(self, items: Iterable[tuple[int, str, date, str]], *, channel: str, at: datetime,
                  recorded_by: str = "") -> int:
        """Several signatures (protocol id, person, signed on, method) in one write (seeding, history).

        `recorded_by` entered the paper ones; a signature confirmed in the chat is entered by the person."""
        with self._lock:
            protocols = self._raw(PROTOCOLS)
            have = {(d["protocol"], d["version"], d["person"]) for d in self._raw(SIGNATURES).values()}
            docs = []
            for protocol_id, person, signed_on, method in items:
                raw = protocols.get(str(protocol_id))
                if raw is None:
                    raise KeyError(protocol_id)
                key = (protocol_id, raw.get("version", 1), person)
                if key in have:
                    continue
                have.add(key)
                docs.append({"protocol": protocol_id, "version": key[1], "person": person,
                             "signed_on": signed_on.isoformat(), "channel": channel,
                             "recorded_at": at.isoformat(timespec="seconds"), "method": method,
                             "recorded_by": (recorded_by if method != "chat" else "") or person})
            if docs:
                self._db.table(SIGNATURES).insert_multiple(docs)
            return len(docs)

    def signatures(self, protocol_id: int, *, all_versions: bool = False) -> list[Signature]:
        """Signatures of the protocol's current version (or of every version, for the history)."""
        with self._lock:
            raw = self._raw(PROTOCOLS).get(str(protocol_id))
            if raw is None:
                return []
            version = raw.get("version", 1)
            out = [
                Signature(protocol_id=d["protocol"], version=d["version"], person=d["person"],
                          signed_on=date.fromisoformat(d["signed_on"]), channel=d.get("channel", ""),
                          recorded_at=_dt(d.get("recorded_at")), method=d.get("method", "chat"),
                          recorded_by=d.get("recorded_by", d["person"]))
                for d in self._raw(SIGNATURES).values()
                if d["protocol"] == protocol_id and (all_versions or d["version"] == version)
            ]
        return sorted(out, key=lambda s: (s.version, s.signed_on, s.person))

    # ---------------------------------------------------------------- steps
    @staticmethod
    def _step(doc: Mapping[str, Any], doc_id: int) -> Step:
        return Step(id=doc_id, measure=doc["measure"], number=doc["number"], text=doc["text"], due=_d(doc.get("due")),
                    who=doc.get("who", ""), created=_d(doc.get("created")), done_on=_d(doc.get("done_on")),
                    done_by=doc.get("done_by", ""))

    def steps(self, measure: str | None = None, *, include_done: bool = False) -> list[Step]:
        with self._lock:
            out = [self._step(d, int(i)) for i, d in self._raw(STEPS).items()
                   if (measure is None or d["measure"] == measure) and (include_done or not d.get("done_on"))]
        return sorted(out, key=lambda s: (s.measure == "", s.measure, s.number))

    def add_step(self, measure: str, text: str, *, due: date | None = None, who: str = "",
                 created: date | None = None) -> Step:
        with self._lock:
            number = max((d["number"] for d in self._raw(STEPS).values() if d["measure"] == measure), default=0) + 1
            doc = {"measure": measure, "number": number, "text": text, "due": due.isoformat() if due else None,
                   "who": who, "created": created.isoformat() if created else None, "done_on": None, "done_by": ""}
            return self._step(doc, self._db.table(STEPS).insert(doc))

    def add_steps(self, items: Iterable[tuple[str, str]], *, created: date | None = None) -> list[Step]:
        """Several steps in one write (seeding)."""
        with self._lock:
            numbers: dict[str, int] = {}
            for d in self._raw(STEPS).values():
                numbers[d["measure"]] = max(numbers.get(d["measure"], 0), d["number"])
            docs = []
            for measure, text in items:
                numbers[measure] = numbers.get(measure, 0) + 1
                docs.append({"measure": measure, "number": numbers[measure], "text": text, "due": None, "who": "",
                             "created": created.isoformat() if created else None, "done_on": None, "done_by": ""})
            ids = self._db.table(STEPS).insert_multiple(docs)
            return [self._step(d, i) for d, i in zip(docs, ids, strict=True)]

    def complete_step(self, measure: str, number: int, *, done_on: date, by: str = "") -> Step | None:
        """Mark step `number` of `measure` done; it stays in the history. None if there is no such open step."""
        with self._lock:
            for i, d in self._raw(STEPS).items():
                if d["measure"] == measure and d["number"] == number and not d.get("done_on"):
                    update = {"done_on": done_on.isoformat(), "done_by": by}
                    self._db.table(STEPS).update(update, doc_ids=[int(i)])
                    return self._step({**d, **update}, int(i))
        return None

    # ---------------------------------------------------------------- deliveries and observations
    @staticmethod
    def _delivery(doc_id: int, doc: Mapping[str, Any]) -> Delivery:
        return Delivery(id=doc_id, file=doc["file"], content_hash=doc["hash"], office=doc.get("office", ""),
                        received=datetime.fromisoformat(doc["received"]),
                        rows=doc["count"] if "count" in doc else len(doc["rows"]),
                        measures=tuple(doc.get("measures", ())), indicators=tuple(doc.get("indicators", ())))

    def delivery_by_hash(self, content_hash: str) -> Delivery | None:
        with self._lock:
            did = self._hashes.get(content_hash)
            return self._deliveries.get(did) if did is not None else None

    def deliveries(self) -> list[Delivery]:
        """The deliveries that hold values (a withdrawn one holds none and is left out)."""
        with self._lock:
            return [self._deliveries[did] for did in sorted(self._deliveries) if did not in self._withdrawn]

    def delivery(self, delivery_id: int) -> tuple[Delivery, bool] | None:
        """One delivery by id, withdrawn ones included: (delivery, withdrawn). None if there is no such id."""
        with self._lock:
            found = self._deliveries.get(delivery_id)
            return None if found is None else (found, delivery_id in self._withdrawn)

    def add_delivery(self, *, file: str, content_hash: str, office: str, received: datetime,
                     rows: Sequence[tuple[str, str, str, float | None, str, int]],
                     measures: Sequence[str] = (), after: int | None = None) -> DeliveryResult:
        """Store one file's rows (indicator, area, period, value, note, row) in ONE write, all or nothing.

        Identical content (same hash) is a duplicate and stores nothing. A value for an indicator, area and
        period already held replaces it; the earlier delivery keeps the old value as history.
        The rows go to a new segment file first; the delivery exists once the main file references it (that
        write is the one counted in `writes`). If that fails, the segment is removed again (or on the next open).

        `after`: the file arrived when that delivery was the newest (`last_delivery`), and is stored only now
        (its writer had paused): it takes its place right behind it, so a value another file delivered since
        stays current.
        """
        with self._lock, gc_paused():
            if content_hash in self._hashes:
                return DeliveryResult(None, duplicate_of=self._hashes[content_hash])
            if self.read_only:
                raise StoreError("store_locked", path=str(self.path), pid=self._storage.holder)
            if self._storage.in_batch:
                raise RuntimeError("add_delivery writes segments and indexes: not inside a transaction")
            self._need_rows()  # coverage: counting new/replaced values needs the current ones
            if rows:  # column by column: each distinct text interned once, the tuples built by zip in C
                inds, areas, periods, values, notes, numbers = Rows.columns_of(rows)
                tables = [{t: sys.intern(t if k != R_AREA else t or "") for t in _distinct(c)}
                          for k, c in enumerate((inds, areas, periods))]
                tables.append({t: t or "" for t in _distinct(notes)})
                columns = (inds, areas, periods, notes)
                if _packed_already(rows, columns, tables):
                    packed = list(rows)  # the caller's tuples are what the indexes keep: no second copy of each
                    own = (inds, areas, periods, values, notes)  # their columns hold exactly what the rows hold
                else:
                    shared = [map(table.__getitem__, c) for c, table in zip(columns, tables, strict=True)]
                    packed = list(zip(*shared[:3], values, shared[3], numbers, strict=True))
                    own = None
                indicators = sorted(set(inds))
            else:
                packed, indicators, own = [], [], None
            did = max(self._deliveries, default=0) + 1
            late = after is not None and 0 <= after < did - 1
            meta = {"file": file, "office": office, "received": received.isoformat(timespec="seconds"),
                    "measures": sorted(set(measures)), "indicators": indicators,
                    **({"after": after} if late else {})}
            ref = write_segment(self.path, did, content_hash, packed, meta=meta, fsync=self._fsync)
            doc = {"file": file, "hash": content_hash, **{k: meta[k] for k in _SEGMENT_META}, **ref}
            if late:
                doc["after"] = after
            writes = self._storage.writes
            try:
                self._db.table(DELIVERIES).insert(Document(doc, doc_id=did))
            except BaseException:
                # Only a segment the main file does not reference may go (an interrupt after the replace
                # leaves it referenced); anything else is an orphan the next open removes.
                if self._storage.writes == writes:
                    with contextlib.suppress(OSError):
                        (self._segments / ref["segment"]).unlink()
                raise
            try:
                append_journal(self.path, [{**doc, "delivery": did}], fsync=self._fsync)
            except OSError:  # the main file references it: the next open enters it
                log().warning("journal of %s not written", self.path, exc_info=True)
            # Only now that the write succeeded do the indexes learn the rows (one pass: count and index).
            self._hashes[content_hash] = did
            self._rows[did] = packed
            delivery = self._deliveries[did] = self._delivery(did, doc)
            if late:
                assert after is not None
                self._after[did] = after
                return self._reindex(did, [], packed, delivery)
            new, replaced, unchanged = self._index_rows(did, packed, count=True, columns=own)
            self._coverage_update(indicators)  # coverage: the indicators this delivery touched
            return DeliveryResult(delivery, new=new, replaced=replaced, unchanged=unchanged)

    @property
    def last_delivery(self) -> int:
        """The id of the newest delivery (0: none yet); see `add_delivery(after=...)`."""
        with self._lock:
            return max(self._deliveries, default=0)

    def _order(self, did: int) -> tuple[int, int]:
        """Where a delivery stands among the others: by id, a late one right behind the one it arrived after."""
        return self._after.get(did, did), did

    def replace_delivery(self, delivery_id: int, *, file: str, content_hash: str, office: str, received: datetime,
                         rows: Sequence[tuple[str, str, str, float | None, str, int]],
                         measures: Sequence[str] = ()) -> DeliveryResult:
        """Make `rows` the whole content of an existing delivery (its file was still being written when it was
        read, and this is its final content). One write, all or nothing, crash-safe like `add_delivery`.

        Values of the earlier version that the new one lacks are withdrawn: the key falls back to the value it
        had before this delivery, or to none. The delivery keeps its id and so its place: a value delivered
        later by another file stays current. The earlier version stays in the history (`value_history`).
        Content already held by another delivery stores nothing (`duplicate_of`); a withdrawn delivery comes
        back with the new content.
        """
        return self._new_version(delivery_id, file=file, content_hash=content_hash, office=office, received=received,
                                 rows=rows, measures=measures, withdraw=False)

    def withdraw_delivery(self, delivery_id: int, *, at: datetime) -> DeliveryResult:
        """Take back every value of a delivery (its file's final content was rejected): each key falls back to
        the value it had before, or to none. The rows stay in the history of the store; the delivery no longer
        counts among `deliveries()`. Crash-safe like `add_delivery`; withdrawing twice changes nothing."""
        return self._new_version(delivery_id, file="", content_hash="", office="", received=at, rows=(),
                                 measures=(), withdraw=True)

    def _new_version(self, did: int, *, file: str, content_hash: str, office: str, received: datetime,
                     rows: Sequence[tuple[str, str, str, float | None, str, int]], measures: Sequence[str],
                     withdraw: bool) -> DeliveryResult:
        with self._lock, gc_paused():
            if self.read_only:
                raise StoreError("store_locked", path=str(self.path), pid=self._storage.holder)
            if self._storage.in_batch:
                raise RuntimeError("a new version writes segments and indexes: not inside a transaction")
            self._need_rows()  # coverage: the earlier version's rows, read before the main file changes
            stored_doc = self._raw(DELIVERIES).get(str(did))
            if stored_doc is None or did not in self._deliveries:
                raise KeyError(did)
            before_doc = dict(stored_doc)  # a copy: the write below changes the stored document in place
            if withdraw:
                if did in self._withdrawn:
                    return DeliveryResult(self._deliveries[did])
                # The marker keeps the delivery's own description; its hash stays the one of what it held.
                file, office, content_hash = before_doc["file"], before_doc.get("office", ""), before_doc["hash"]
                measures = before_doc.get("measures", ())
            else:
                other = self._hashes.get(content_hash)
                if other is not None:
                    return DeliveryResult(self._deliveries[did] if other == did else None, duplicate_of=other)
            intern = sys.intern
            packed = [(intern(ind), intern(area or ""), intern(period), value, note or "", rowno)
                      for ind, area, period, value, note, rowno in rows]
            meta = {"file": file, "office": office, "received": received.isoformat(timespec="seconds"),
                    "measures": sorted(set(measures)), "indicators": sorted({r[R_INDICATOR] for r in packed})}
            if isinstance(before_doc.get("after"), int):
                meta["after"] = before_doc["after"]  # a new version keeps the delivery's place
            marks = {"replaces": before_doc.get("segment")} | ({"withdrawn": True} if withdraw else {})
            ref = write_segment(self.path, did, content_hash, packed, meta={**meta, **marks}, fsync=self._fsync)
            new = {"file": file, "hash": content_hash, **meta, **ref}
            if withdraw:
                new["withdrawn"] = meta["received"]
            doc = _next_version(before_doc, new)

            def become(stored: MutableMapping[str, Any]) -> None:
                stored.clear()
                stored.update(doc)

            writes = self._storage.writes
            try:
                self._db.table(DELIVERIES).update(become, doc_ids=[did])
            except BaseException:
                if self._storage.writes == writes:  # not referenced: nothing knows it
                    with contextlib.suppress(OSError):
                        (self._segments / ref["segment"]).unlink()
                raise
            try:
                append_journal(self.path, [{**{k: v for k, v in doc.items() if k != "versions"}, "delivery": did}],
                               fsync=self._fsync)
            except OSError:  # the main file references it: the next open enters it
                log().warning("journal of %s not written", self.path, exc_info=True)
            earlier = self._rows[did]
            if earlier:
                self._versions.setdefault(did, []).append((self._deliveries[did].received, earlier))
            if self._hashes.get(before_doc["hash"]) == did:
                del self._hashes[before_doc["hash"]]
            if withdraw:
                self._withdrawn.add(did)
            else:
                self._withdrawn.discard(did)
                self._hashes[content_hash] = did
            self._rows[did] = packed
            delivery = self._deliveries[did] = self._delivery(did, doc)
            result = self._reindex(did, earlier, packed, delivery)
            # coverage: the indicators either version touched
            self._coverage_update({r[R_INDICATOR] for r in earlier} | {r[R_INDICATOR] for r in packed})
            return result

    def _reindex(self, did: int, earlier: list[Packed], rows: list[Packed], delivery: Delivery) -> DeliveryResult:
        """After a new version of delivery `did`: each key it held or holds gets the value of the last delivery
        (in id order) that holds it; counts as `add_delivery` would report them, plus the values withdrawn."""
        keys = {(r[R_INDICATOR], r[R_PERIOD], r[R_AREA]) for r in earlier}
        keys |= {(r[R_INDICATOR], r[R_PERIOD], r[R_AREA]) for r in rows}
        current, owner = self._current, self._owner
        before = {k: self._held(*k) for k in keys}
        indicators = {k[0] for k in keys}
        winner: dict[tuple[str, str, str], tuple[int, Packed]] = {}
        for other in sorted(self._deliveries, key=self._order):
            if indicators.isdisjoint(self._deliveries[other].indicators) and other != did:
                continue
            for row in self._rows[other]:
                key = (row[R_INDICATOR], row[R_PERIOD], row[R_AREA])
                if key in keys:
                    winner[key] = (other, row)
        for key in keys:
            ind, period, area = key
            held = winner.get(key)
            if held is not None:
                current.setdefault(ind, {}).setdefault(period, {})[area] = held[1]
                owner.setdefault(ind, {}).setdefault(period, {})[area] = held[0]
                continue
            by_area = current.get(ind, {}).get(period)
            if by_area is not None:
                by_area.pop(area, None)
                owner[ind][period].pop(area, None)
                if not by_area:
                    del current[ind][period], owner[ind][period]
        for ind in indicators:
            if current.get(ind):
                self._latest[ind] = max(current[ind])
            else:
                current.pop(ind, None)
                owner.pop(ind, None)
                self._latest.pop(ind, None)
        new = replaced = unchanged = withdrawn = 0
        seen: set[tuple[str, str, str]] = set()
        for row in rows:
            key = (row[R_INDICATOR], row[R_PERIOD], row[R_AREA])
            if key in seen:
                continue
            seen.add(key)
            old, held = before[key], winner.get(key)
            if held is None or held[0] != did:
                unchanged += 1  # a later delivery holds the key: nothing current changes
            elif old is None:
                new += 1
            elif old[1][R_VALUE] == row[R_VALUE] and old[1][R_NOTE] == row[R_NOTE]:
                unchanged += 1
            else:
                replaced += 1
        for key, old in before.items():
            held = winner.get(key)
            if old is not None and old[0] == did and (held is None or held[0] != did):
                withdrawn += 1
        return DeliveryResult(delivery, new=new, replaced=replaced, unchanged=unchanged, withdrawn=withdrawn)

    def _held(self, indicator: str, period: str, area: str) -> tuple[int, Packed] | None:
        """The current value of one key as (delivery id, row), None if none is held."""
        row = self._current.get(indicator, {}).get(period, {}).get(area)
        return None if row is None else (self._owner[indicator][period][area], row)

    def _observation(self, did: int, row: Sequence[Any], received: datetime | None = None) -> Observation:
        d = self._deliveries[did]
        return Observation(indicator=row[R_INDICATOR], area=row[R_AREA], period=row[R_PERIOD], value=row[R_VALUE],
                           note=row[R_NOTE], delivery=did, row=row[R_ROW], file=d.file, office=d.office,
                           received=received or d.received)

    def _rows_with_history(self, did: int, indicator: str) -> Iterator[tuple[Packed, datetime | None]]:
        """A delivery's rows of one indicator for the history: first the values of its earlier versions that its
        final content replaced with another value (not the ones it withdrew: a key's last value must be its
        current one), then its current rows."""
        current = self._rows_of(did, indicator)
        versions = self._versions_of(did)
        if versions:
            final = {(r[R_AREA], r[R_PERIOD]): r for r in current if r[R_INDICATOR] == indicator}
            for received, rows in versions:
                for row in rows:
                    if row[R_INDICATOR] != indicator:
                        continue
                    now = final.get((row[R_AREA], row[R_PERIOD]))
                    if now is not None and (now[R_VALUE], now[R_NOTE]) != (row[R_VALUE], row[R_NOTE]):
                        yield row, received
        for row in current:
            if row[R_INDICATOR] == indicator:
                yield row, None

    def _lazy(self) -> bool:
        """Opened from the coverage, rows not read yet, and single indicators can be read (see _current_of)."""
        return self._by_indicator and "_current" not in self.__dict__

    def _lazy_budget(self, deliveries: Iterable[int]) -> bool:
        """Whether these deliveries may still be read one by one: in all, a store opened from its coverage reads at
        most as many rows this way as reading every row once would (a report asking for every indicator of
        deliveries that hold many would read each segment again and again); beyond that, every row is read."""
        rows = sum(self._deliveries[did].rows for did in deliveries)
        if rows > self._lazy_left:
            self._need_rows()
            return False
        self._lazy_left -= rows
        return True

    def _rows_of(self, did: int, indicator: str) -> list[Packed]:
        """A delivery's current rows (at least those of `indicator`): from the index, or read from its segment
        (once per delivery and indicator)."""
        if not self._lazy():
            return self._rows[did]
        if (did, indicator) not in self._lazy_rows and not self._lazy_budget([did]):
            return self._rows[did]
        return self._lazy_rows_of(did, indicator)

    def _lazy_rows_of(self, did: int, indicator: str) -> list[Packed]:
        rows = self._lazy_rows.get((did, indicator))
        if rows is None:
            raw = self._read_segment(did, self._raw(DELIVERIES)[str(did)])
            rows = self._lazy_rows[(did, indicator)] = self._pack([r for r in raw if r[R_INDICATOR] == indicator])
        return rows

    def _versions_of(self, did: int) -> list[tuple[datetime | None, list[Packed]]]:
        if not self._lazy():
            return self._versions.get(did, [])
        versions = self._raw(DELIVERIES)[str(did)].get("versions")
        return self._read_versions(did, versions) if versions else []

    def _current_of(self, indicator: str) -> Mapping[str, Mapping[str, Packed]]:
        """period -> area -> current row of one indicator. Opened from the coverage, only the segments of the
        deliveries that hold the indicator are read, applied in the order the index applies every delivery (a
        later one's value replaces an earlier one's): `/trend` or `/verlauf` need not read 10^6 rows."""
        if self._lazy() and indicator not in self._held_of:
            holding = [did for did in sorted(self._deliveries, key=self._order)
                       if indicator in self._deliveries[did].indicators]
            if self._lazy_budget(d for d in holding if (d, indicator) not in self._lazy_rows):
                held: dict[str, dict[str, Packed]] = {}
                for did in holding:
                    for row in self._lazy_rows_of(did, indicator):
                        by_area = held.get(row[R_PERIOD])
                        if by_area is None:
                            by_area = held[row[R_PERIOD]] = {}
                        by_area[row[R_AREA]] = row
                self._held_of[indicator] = held
        if not self._lazy():
            return self._current.get(indicator, {})
        return self._held_of[indicator]

    def observations(self, indicator: str) -> list[Observation]:
        """Current values of one indicator, by period then area. Reads the index only."""
        with self._lock:
            held, owners = self._current.get(indicator, {}), self._owner.get(indicator, {})
            return [self._observation(owners[period][area], held[period][area]) for period in sorted(held)
                    for area in sorted(held[period])]

    def latest(self, indicator: str) -> list[Observation]:
        """The current values of the latest period delivered for an indicator (one per area)."""
        with self._lock:
            period = self._latest.get(indicator)
            if period is None:
                return []
            by_area, owners = self._current[indicator][period], self._owner[indicator][period]
            return [self._observation(owners[area], by_area[area]) for area in sorted(by_area)]

    def latest_summary(self, indicator: str) -> tuple[Observation | None, int]:
        """The latest period's whole-city value (else its first area) and how many areas that period has."""
        with self._lock:
            entry = self._coverage.get(indicator)  # coverage: no rows needed
            if entry is None:
                return None, 0
            return self._observation(*entry.headline), entry.areas

    def latest_range(self, indicator: str) -> tuple[float | None, float | None]:
        """The lowest and highest value of the latest period delivered, over all its areas ((None, None): none)."""
        with self._lock:
            entry = self._coverage.get(indicator)  # coverage: no rows needed
            return (entry.low, entry.high) if entry else (None, None)

    def periods(self, indicator: str) -> set[str]:
        with self._lock:
            entry = self._coverage.get(indicator)  # coverage: no rows needed
            return set(entry.periods) if entry else set()

    def coverage(self, indicator: str) -> IndicatorCoverage | None:
        """Which periods the indicator holds, which are missing between, its latest (storage/coverage.py)."""
        with self._lock:
            return self._coverage.get(indicator)

    # ---------------------------------------------------------------- report: lean series
    @property
    def series(self) -> SeriesReader:
        """Current values of one indicator as area -> [(period, value, note)], each area in period order:
        `store.series(indicator)`; `store.series.columns(indicator)` gives them column by column.

        Plain tuples, not Observation records: the committee report reads every current value (336,000 at the
        benchmark size), and building a frozen record per value cost more than the whole report.
        """
        return SeriesReader(self._series, self._series_columns)

    def _series(self, indicator: str) -> dict[str, list[tuple[str, float | None, str]]]:
        with self._lock:
            held = self._current_of(indicator)
            out: dict[str, list[tuple[str, float | None, str]]] = {}
            for period in sorted(held):
                for area, row in held[period].items():
                    points = out.get(area)
                    if points is None:
                        points = out[area] = []
                    points.append((period, row[R_VALUE], row[R_NOTE]))
            return out

    def _series_columns(self, indicator: str) -> HeldColumns:
        # Whole runs per period, extended in C: no tuple per value (the import's jump check reads 10^5 of them).
        with self._lock:
            periods: list[str] = []
            counts: list[int] = []
            areas: list[str] = []
            values: list[float | None] = []
            value_of = itemgetter(R_VALUE)
            for period, by_area in self._current.get(indicator, {}).items():
                periods.append(period)
                counts.append(len(by_area))
                areas += by_area
                values += map(value_of, by_area.values())
            return HeldColumns(periods, counts, areas, values)

    def history(self, indicator: str, area: str, period: str) -> list[Observation]:
        """Every value ever delivered for one key, oldest first (scans the deliveries of that indicator)."""
        with self._lock:
            out = []
            for did in sorted(self._deliveries, key=self._order):
                if indicator not in self._deliveries[did].indicators:
                    continue
                for row, received in self._rows_with_history(did, indicator):
                    if row[R_AREA] == area and row[R_PERIOD] == period:
                        out.append(self._observation(did, row, received))
            return out

    def value_history(self, indicator: str, area: str | None = None) -> list[Observation]:
        """Every value ever delivered for one indicator (in one area, if given), in delivery order.

        For each key the last one is the current value; the ones before it are what it replaced.
        """
        with self._lock:
            out = []
            for did in sorted(self._deliveries, key=self._order):
                if indicator not in self._deliveries[did].indicators:
                    continue
                for row, received in self._rows_with_history(did, indicator):
                    if area is None or row[R_AREA] == area:
                        out.append(self._observation(did, row, received))
            return out

    def areas(self, indicator: str) -> list[str]:
        """The areas an indicator has current values for ("" = whole city), sorted."""
        with self._lock:
            return sorted({area for by_area in self._current_of(indicator).values() for area in by_area})

    @property
    def observation_count(self) -> int:
        with self._lock:
            return sum(len(areas) for periods in self._current.values() for areas in periods.values())

    # ---------------------------------------------------------------- coverage (storage/coverage.py)
    # A store whose saved coverage matches its deliveries opens without reading any rows: /status, /lieferungen
    # and the reminders need only the coverage. The row indexes (_current, _latest, _rows) are built on first use.
    _ROW_INDEXES = frozenset({"_current", "_owner", "_latest", "_rows", "_versions"})

    def _open_from_coverage(self) -> bool:
        table = self._raw(DELIVERIES)
        saved = Coverage.load(self._coverage_file, coverage_fingerprint(table))
        if saved is None:
            return False
        self._hashes, self._deliveries = {}, {}
        self._withdrawn, self._after = set(), {}
        for doc_id in sorted(table, key=int):
            doc, did = table[doc_id], int(doc_id)
            self._read_segment(did, doc, parse=False)  # a missing or damaged segment still stops the open
            if _after_of(doc, did) != did:
                self._after[did] = _after_of(doc, did)
            if doc.get("withdrawn"):
                self._withdrawn.add(did)  # as _build_indexes: a withdrawn delivery's content counts as not held
            else:
                self._hashes.setdefault(doc["hash"], did)
            self._deliveries[did] = self._delivery(did, doc)
        self._coverage = saved
        # Each delivery names the indicators of its rows (older ones may not): then one indicator's values can be
        # read from the segments of its deliveries without the others'.
        self._by_indicator = all(isinstance(doc.get("indicators"), list) for doc in table.values())
        self._lazy_left = sum(d.rows for d in self._deliveries.values())  # as many as reading every row once
        return True

    def __getattr__(self, name: str) -> Any:
        # Python calls this only for attributes not set: the row indexes of a store opened from its coverage.
        if name in Store._ROW_INDEXES and "_coverage" in self.__dict__:
            self._need_rows()
            return self.__dict__[name]
        raise AttributeError(name)

    def _need_rows(self) -> None:
        with self._lock:
            if "_current" not in self.__dict__:
                with gc_paused():
                    self._build_indexes(lazy=False)
                self._held_of.clear()  # the index holds them all now
                self._lazy_rows.clear()

    def _coverage_from_index(self) -> None:
        saved = self.__dict__.get("_coverage")
        self._coverage = Coverage.from_index(self._current, self._owner, coverage_fingerprint(self._raw(DELIVERIES)))
        if self._coverage.fingerprint is not None and saved != self._coverage:
            if self.read_only:
                self.needs_writer = True
            else:
                self._coverage.save(self._coverage_file)
        if self._on_load is not None:
            self._on_load()

    def _coverage_update(self, indicators: Iterable[str]) -> None:
        self._coverage.update(self._current, self._owner, indicators, coverage_fingerprint(self._raw(DELIVERIES)))
        self._coverage.save(self._coverage_file)

    # ---------------------------------------------------------------- reminders sent
    def sent_keys(self) -> set[str]:
        with self._lock:
            return {d["key"] for d in self._raw(SENT).values()}

    def mark_sent(self, keys: Iterable[str], *, at: datetime, recipient: str = "") -> None:
        """Record reminders as sent, in one write, before the next message goes out."""
        with self._lock:
            known = self.sent_keys()
            docs = [{"key": k, "at": at.isoformat(timespec="seconds"), "to": recipient}
                    for k in dict.fromkeys(keys) if k not in known]
            if docs:
                self._db.table(SENT).insert_multiple(docs)
                if self._marked is not None:
                    self._marked.extend(d["key"] for d in docs)

    # ---------------------------------------------------------------- generic key/value (settings of the store)
    def meta(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return (self._raw(META).get("1") or {}).get(key, default)

    def set_meta(self, key: str, value: Any) -> None:
        with self._lock:
            self._db.table(META).update({key: value}, doc_ids=[1])
