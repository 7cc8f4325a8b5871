"""The store: TinyDB behind one lock, typed records out, in-memory indexes for the hot queries.

Layout (schema 2): the main file (daten/sozialmonitor.json) holds meetings, protocols, signatures, steps, reminders
sent and one small document per delivery. Each delivery's rows live in their own immutable segment,
daten/lieferungen/<stem>.<id>.<token>.json, itself a TinyDB file written once through AtomicJSONStorage. A delivery
is written segment first (temp file, fsync, rename), then the main file that references it (size and sha256), so a
write costs the new rows plus the small main file instead of the whole database. A segment not referenced by the main
file (a crash between the two writes) is ignored and deleted on the next open unless a kept backup references it;
referenced segments are never deleted, so every backup of the main file stays restorable.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import re
import secrets
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import orjson
from tinydb import TinyDB
from tinydb.table import Document

from .coverage import Coverage, IndicatorCoverage, coverage_path
from .coverage import fingerprint as coverage_fingerprint
from .jsonstore import AtomicJSONStorage, ProcessLock, StoreError, StoreUnreadable, _fsync_dir, backup_files
from .models import Delivery, Meeting, Observation, Protocol, Signature, Step

__all__ = [
    "SCHEMA_VERSION",
    "DeliveryResult",
    "Store",
    "StoreError",
    "StoreUnreadable",
    "gc_paused",
    "segment_folder",
    "write_segment",
]

# 1: rows inside the main file's delivery documents; 2: rows in one segment file per delivery (migrated on open).
SCHEMA_VERSION = 2

# Table names are part of the file format.
META, MEETINGS, PROTOCOLS, SIGNATURES, STEPS, DELIVERIES, SENT = (
    "meta", "termine", "protokolle", "unterschriften", "schritte", "lieferungen", "erinnerungen",
)

# Row layout inside a delivery document: compact lists, not dicts, because a store holds millions of them.
R_INDICATOR, R_AREA, R_PERIOD, R_VALUE, R_NOTE, R_ROW = range(6)

# Segment files: a folder beside the main file; inside, one TinyDB table with one document holding the rows.
SEGMENT_FOLDER, SEGMENT_TABLE = "lieferungen", "zeilen"


def segment_folder(path: Path) -> Path:
    return path.parent / SEGMENT_FOLDER


def _segment_pattern(path: Path) -> re.Pattern[str]:
    return re.compile(rf"{re.escape(path.stem)}\.\d+\.[0-9a-f]{{8}}\.json")


def write_segment(path: Path, did: int, content_hash: str, rows: Sequence[Sequence[Any]], *,
                  fsync: bool = True) -> dict[str, Any]:
    """Write one delivery's rows to a new segment beside the store `path`; returns the reference fields.

    The name carries a random token: after a backup of the main file is restored, delivery ids are handed out
    again, and a new delivery must never overwrite a segment that a kept backup still references.
    """
    folder = segment_folder(path)
    if not folder.is_dir():
        folder.mkdir(exist_ok=True)
        if fsync:
            _fsync_dir(folder.parent)  # the folder's entry must be durable before the main file names a segment
    name = f"{path.stem}.{did}.{secrets.token_hex(4)}.json"
    storage = AtomicJSONStorage(folder / name, backups=0, fsync=fsync, checksum=True)
    storage.write({SEGMENT_TABLE: {"1": {"delivery": did, "hash": content_hash, "rows": rows}}})
    assert storage.last_write is not None
    size, digest = storage.last_write
    return {"count": len(rows), "segment": name, "segment_bytes": size, "segment_sha256": digest}


@dataclass(frozen=True)
class DeliveryResult:
    delivery: Delivery | None
    duplicate_of: int | None = None
    new: int = 0
    replaced: int = 0
    unchanged: int = 0


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


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _t(value: str | None) -> time | None:
    return time.fromisoformat(value) if value else None


class Store:
    """All persistent state but the catalogue. Thread-safe: every method takes the one lock.

    The watcher thread and the bot's event loop share one Store; TinyDB itself is not thread-safe.
    """

    def __init__(self, path: str | Path, *, backups: int = 5, backup_seconds: float = 600.0,
                 fsync: bool = True, on_load: Callable[[], None] | None = None) -> None:
        self.path = Path(path)
        self._on_load = on_load  # coverage: called once every observation is in memory (see _need_rows)
        self._coverage_file = coverage_path(self.path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._fsync = fsync
        self._segments = segment_folder(self.path)
        self._verified: dict[str, bool] = {}  # segment name -> matches its reference (checked for backups)
        self._db = TinyDB(self.path, storage=AtomicJSONStorage, backups=backups,
                          backup_seconds=backup_seconds, fsync=fsync, validate=self._backup_usable)
        self._storage: AtomicJSONStorage = self._db.storage  # type: ignore[assignment]
        self._process_lock = ProcessLock(self.path)
        if not self._process_lock.acquired:
            self._storage.read_only = True
            self._storage._holder = self._process_lock.holder()
        try:
            with self._lock, gc_paused():
                self._check_schema()
                self._build_indexes()
                if not self.read_only:
                    self._collect_orphans()
        except BaseException:
            self._process_lock.release()
            raise

    # ---------------------------------------------------------------- lifecycle
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
            self._storage._maybe_backup(force=True)
        written: list[Path] = []
        writes = self._storage.writes
        try:
            deliveries = {}
            for doc_id, doc in data.get(DELIVERIES, {}).items():
                if "rows" not in doc:
                    deliveries[doc_id] = doc
                    continue
                ref = write_segment(self.path, int(doc_id), doc["hash"], doc["rows"], fsync=self._fsync)
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
        # indicator -> period -> area -> (delivery id, row): the current value of every key.
        self._current: dict[str, dict[str, dict[str, tuple[int, list]]]] = {}
        self._latest: dict[str, str] = {}  # indicator -> latest period held
        self._hashes: dict[str, int] = {}
        self._deliveries: dict[int, Delivery] = {}
        self._rows: dict[int, list[tuple]] = {}  # delivery id -> its rows, as stored in its segment
        table = self._raw(DELIVERIES)
        for doc_id in sorted(table, key=int):
            doc = table[doc_id]
            did = int(doc_id)
            rows = self._pack(doc["rows"] if "rows" in doc else self._read_segment(did, doc))
            self._rows[did] = rows
            self._hashes.setdefault(doc["hash"], did)
            self._deliveries[did] = self._delivery(did, doc)
            self._index_rows(did, rows)
        self._coverage_from_index()  # coverage: derived from the rows just read

    def _read_segment(self, did: int, doc: dict, *, parse: bool = True) -> list[list]:
        """The rows of a referenced segment; a missing or damaged one makes the whole store unreadable.

        With `parse=False` only the size and checksum are checked (opening from the coverage).
        """
        path = self._segments / doc["segment"]

        def unreadable(problem: str) -> StoreUnreadable:
            reason = f"Lieferung {did} ({doc.get('file', '?')}): Segment {path} {problem}"
            return StoreUnreadable(self.path, self._storage._newest_backup(), reason, segment=path)

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
            rows = orjson.loads(raw)[SEGMENT_TABLE]["1"]["rows"]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise unreadable(f"ist kein Segment: {exc}") from None
        self._verified[doc["segment"]] = True
        return rows

    def _segment_ok(self, doc: dict) -> bool:
        name = doc.get("segment")
        if name is None:
            return "rows" in doc  # schema 1: the rows are inside
        if name not in self._verified:
            try:
                raw = (self._segments / name).read_bytes()
            except OSError:
                self._verified[name] = False
            else:
                self._verified[name] = (len(raw) == doc.get("segment_bytes")
                                        and hashlib.sha256(raw).hexdigest() == doc.get("segment_sha256"))
        return self._verified[name]

    def _backup_usable(self, data: dict) -> bool:
        """A backup of the main file is only offered for restoring if every segment it references is intact."""
        deliveries = data.get(DELIVERIES, {})
        return isinstance(deliveries, dict) and all(
            isinstance(doc, dict) and self._segment_ok(doc) for doc in deliveries.values())

    def _collect_orphans(self) -> None:
        """Delete segments neither the main file nor a kept backup references (a crash between the two writes
        of a delivery), and temp files of interrupted segment writes. Only the process holding the store does.
        """
        if not self._segments.is_dir():
            return
        pattern = _segment_pattern(self.path)
        referenced = {doc.get("segment") for doc in self._raw(DELIVERIES).values()}
        orphans = [p for p in self._segments.iterdir() if pattern.fullmatch(p.name) and p.name not in referenced]
        if orphans:
            for backup in backup_files(self.path):
                try:
                    data = orjson.loads(backup.read_bytes())
                    referenced.update(doc.get("segment") for doc in data.get(DELIVERIES, {}).values())
                except (OSError, orjson.JSONDecodeError, AttributeError, TypeError):
                    continue
        for path in orphans:
            if path.name not in referenced:
                with contextlib.suppress(OSError):
                    path.unlink()
        for tmp in self._segments.glob(f".{self.path.stem}.*.tmp"):
            with contextlib.suppress(OSError):
                tmp.unlink()

    @staticmethod
    def _pack(rows: list[list]) -> list[tuple]:
        """Rows as read from a segment (lists) -> interned tuples, in place.

        Interning shares the few distinct ids/areas/periods across a million rows. Tuples of strings and numbers
        drop out of the cyclic garbage collector's tracking; lists would keep 10^6 objects in every full
        collection (about a second each at that size, at random moments in the bot).
        """
        intern = sys.intern
        for k, r in enumerate(rows):
            rows[k] = (intern(r[0]), intern(r[1]), intern(r[2]), r[3], r[4], r[5])
        return rows  # type: ignore[return-value]

    def _index_rows(self, did: int, rows: list[tuple], *, count: bool = False) -> tuple[int, int, int]:
        """Make `rows` (packed tuples) the current values of their keys; with `count`, say how many were
        new/replaced/same."""
        current, latest = self._current, self._latest
        new = replaced = unchanged = 0
        for row in rows:
            ind, area, period = row[R_INDICATOR], row[R_AREA], row[R_PERIOD]
            by_period = current.get(ind)
            if by_period is None:
                by_period = current[ind] = {}
            by_area = by_period.get(period)
            if by_area is None:
                by_area = by_period[period] = {}
                if period > latest.get(ind, ""):
                    latest[ind] = period
            if count:
                old = by_area.get(area)
                if old is None:
                    new += 1
                elif old[1][R_VALUE] == row[R_VALUE] and old[1][R_NOTE] == row[R_NOTE]:
                    unchanged += 1
                else:
                    replaced += 1
            by_area[area] = (did, row)
        return new, replaced, unchanged

    def _raw(self, name: str) -> dict[str, dict]:
        data = self._storage.read() or {}
        return data.get(name, {})

    @property
    def read_only(self) -> bool:
        """True when another process holds the store: reads work, writes raise StoreError('store_locked')."""
        return self._storage.read_only

    @property
    def holder(self) -> str:
        """The process id holding the store when this one is read-only."""
        return self._storage._holder

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
    def _meeting(doc: Document | dict, doc_id: int) -> Meeting:
        return Meeting(
            id=doc_id, measure=doc["measure"], day=_d(doc.get("day")), time=_t(doc.get("time")),
            approach=doc.get("approach", ""), participants=tuple(doc.get("participants", ())),
            seq=doc.get("seq", 0), history=tuple(doc.get("history", ())),
        )

    def meetings(self, measure: str | None = None) -> list[Meeting]:
        """Meetings in the status document's order: by date, then as entered; unscheduled last."""
        with self._lock:
            raw = self._raw(MEETINGS)
            out = [self._meeting(d, int(i)) for i, d in raw.items() if measure is None or d["measure"] == measure]
        return sorted(out, key=lambda m: (m.day is None, m.day or date.max, m.seq, m.id))

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

    # ---------------------------------------------------------------- protocols and signatures
    @staticmethod
    def _protocol(doc: dict, doc_id: int) -> Protocol:
        return Protocol(
            id=doc_id, measure=doc["measure"], meeting_day=date.fromisoformat(doc["meeting_day"]),
            sent_on=date.fromisoformat(doc["sent_on"]), signatories=tuple(doc.get("signatories", ())),
            file=doc.get("file", ""), file_hash=doc.get("file_hash", ""), version=doc.get("version", 1),
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
                        file: str = "", file_hash: str = "") -> tuple[Protocol, bool]:
        """Record a protocol sent for signature. Returns (protocol, signatures_were_reset).

        A different file for a protocol that already has signatures starts a new version: a changed
        protocol must be signed again. The same file again changes nothing.
        """
        with self._lock:
            table = self._db.table(PROTOCOLS)
            existing = self.protocol(measure, meeting_day)
            if existing is None:
                doc = {"measure": measure, "meeting_day": meeting_day.isoformat(), "sent_on": sent_on.isoformat(),
                       "signatories": list(signatories), "file": file, "file_hash": file_hash, "version": 1,
                       "history": []}
                return self._protocol(doc, table.insert(doc)), False
            if file_hash and existing.file_hash == file_hash:
                return existing, False
            changed_file = bool(file_hash and existing.file_hash and existing.file_hash != file_hash)
            had_signatures = bool(self.signatures(existing.id))
            reset = changed_file and had_signatures
            version = existing.version + 1 if changed_file else existing.version
            raw = table.get(doc_id=existing.id) or {}
            history = [*raw.get("history", []),
                       {"version": existing.version, "sent_on": existing.sent_on.isoformat(),
                        "file": existing.file, "file_hash": existing.file_hash}]
            update = {"sent_on": sent_on.isoformat(), "signatories": list(signatories),
                      "file": file or existing.file, "file_hash": file_hash or existing.file_hash,
                      "version": version, "history": history}
            table.update(update, doc_ids=[existing.id])
            return self._protocol({**raw, **update}, existing.id), reset

    def sign(self, protocol_id: int, person: str, *, signed_on: date, channel: str, at: datetime) -> bool:
        """Record a signature on the protocol's current version; False if it was already there."""
        with self._lock:
            raw = self._db.table(PROTOCOLS).get(doc_id=protocol_id)
            if raw is None:
                raise KeyError(protocol_id)
            version = raw.get("version", 1)
            if any(s.person == person for s in self.signatures(protocol_id)):
                return False
            self._db.table(SIGNATURES).insert(
                {"protocol": protocol_id, "version": version, "person": person, "signed_on": signed_on.isoformat(),
                 "channel": channel, "recorded_at": at.isoformat(timespec="seconds")})
            return True

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
                          recorded_at=_dt(d.get("recorded_at")))
                for d in self._raw(SIGNATURES).values()
                if d["protocol"] == protocol_id and (all_versions or d["version"] == version)
            ]
        return sorted(out, key=lambda s: (s.version, s.signed_on, s.person))

    # ---------------------------------------------------------------- steps
    @staticmethod
    def _step(doc: dict, doc_id: int) -> Step:
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
    def _delivery(doc_id: int, doc: dict) -> Delivery:
        return Delivery(id=doc_id, file=doc["file"], content_hash=doc["hash"], office=doc.get("office", ""),
                        received=datetime.fromisoformat(doc["received"]),
                        rows=doc["count"] if "count" in doc else len(doc["rows"]),
                        measures=tuple(doc.get("measures", ())), indicators=tuple(doc.get("indicators", ())))

    def delivery_by_hash(self, content_hash: str) -> Delivery | None:
        with self._lock:
            did = self._hashes.get(content_hash)
            return self._deliveries.get(did) if did is not None else None

    def deliveries(self) -> list[Delivery]:
        with self._lock:
            return list(self._deliveries.values())

    def add_delivery(self, *, file: str, content_hash: str, office: str, received: datetime,
                     rows: Sequence[tuple[str, str, str, float | None, str, int]],
                     measures: Sequence[str] = ()) -> DeliveryResult:
        """Store one file's rows (indicator, area, period, value, note, row) in ONE write, all or nothing.

        Identical content (same hash) is a duplicate and stores nothing. A value for an indicator, area and
        period already held replaces it; the earlier delivery keeps the old value as history.
        The rows go to a new segment file first; the delivery exists once the main file references it (that
        write is the one counted in `writes`). If that fails, the segment is removed again (or on the next open).
        """
        with self._lock, gc_paused():
            if content_hash in self._hashes:
                return DeliveryResult(None, duplicate_of=self._hashes[content_hash])
            if self.read_only:
                raise StoreError("store_locked", path=str(self.path), pid=self._storage._holder)
            self._need_rows()  # coverage: counting new/replaced values needs the current ones
            intern = sys.intern
            packed = [(intern(ind), intern(area or ""), intern(period), value, note or "", rowno)
                      for ind, area, period, value, note, rowno in rows]
            indicators = sorted({r[R_INDICATOR] for r in packed})
            did = max(self._deliveries, default=0) + 1
            ref = write_segment(self.path, did, content_hash, packed, fsync=self._fsync)
            doc = {"file": file, "hash": content_hash, "office": office,
                   "received": received.isoformat(timespec="seconds"), "measures": sorted(set(measures)),
                   "indicators": indicators, **ref}
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
            # Only now that the write succeeded do the indexes learn the rows (one pass: count and index).
            self._hashes[content_hash] = did
            self._rows[did] = packed
            delivery = self._deliveries[did] = self._delivery(did, doc)
            new, replaced, unchanged = self._index_rows(did, packed, count=True)
            self._coverage_update(indicators)  # coverage: the indicators this delivery touched
            return DeliveryResult(delivery, new=new, replaced=replaced, unchanged=unchanged)

    def _observation(self, did: int, row: list) -> Observation:
        d = self._deliveries[did]
        return Observation(indicator=row[R_INDICATOR], area=row[R_AREA], period=row[R_PERIOD], value=row[R_VALUE],
                           note=row[R_NOTE], delivery=did, row=row[R_ROW], file=d.file, office=d.office,
                           received=d.received)

    def observations(self, indicator: str) -> list[Observation]:
        """Current values of one indicator, by period then area. Reads the index only."""
        with self._lock:
            held = self._current.get(indicator, {})
            return [self._observation(did, row) for period in sorted(held)
                    for _, (did, row) in sorted(held[period].items())]

    def latest(self, indicator: str) -> list[Observation]:
        """The current values of the latest period delivered for an indicator (one per area)."""
        with self._lock:
            period = self._latest.get(indicator)
            if period is None:
                return []
            by_area = self._current[indicator][period]
            return [self._observation(did, row) for _, (did, row) in sorted(by_area.items())]

    def latest_summary(self, indicator: str) -> tuple[Observation | None, int]:
        """The latest period's whole-city value (else its first area) and how many areas that period has."""
        with self._lock:
            entry = self._coverage.get(indicator)  # coverage: no rows needed
            if entry is None:
                return None, 0
            return self._observation(*entry.headline), entry.areas

    def periods(self, indicator: str) -> set[str]:
        with self._lock:
            entry = self._coverage.get(indicator)  # coverage: no rows needed
            return set(entry.periods) if entry else set()

    def coverage(self, indicator: str) -> IndicatorCoverage | None:
        """Which periods the indicator holds, which are missing between, its latest (storage/coverage.py)."""
        with self._lock:
            return self._coverage.get(indicator)

    # ---------------------------------------------------------------- report: lean series
    def series(self, indicator: str) -> dict[str, list[tuple[str, float | None, str]]]:
        """Current values of one indicator as area -> [(period, value, note)], each area in period order.

        Plain tuples, not Observation records: the committee report reads every current value (336,000 at the
        benchmark size), and building a frozen record per value cost more than the whole report.
        """
        with self._lock:
            held = self._current.get(indicator, {})
            out: dict[str, list[tuple[str, float | None, str]]] = {}
            for period in sorted(held):
                for area, (_, row) in held[period].items():
                    points = out.get(area)
                    if points is None:
                        points = out[area] = []
                    points.append((period, row[R_VALUE], row[R_NOTE]))
            return out

    def history(self, indicator: str, area: str, period: str) -> list[Observation]:
        """Every value ever delivered for one key, oldest first (scans the deliveries of that indicator)."""
        with self._lock:
            out = []
            for did, delivery in self._deliveries.items():
                if indicator not in delivery.indicators:
                    continue
                for row in self._rows[did]:
                    if row[R_INDICATOR] == indicator and row[R_AREA] == area and row[R_PERIOD] == period:
                        out.append(self._observation(did, row))
            return out

    @property
    def observation_count(self) -> int:
        with self._lock:
            return sum(len(areas) for periods in self._current.values() for areas in periods.values())

    # ---------------------------------------------------------------- coverage (storage/coverage.py)
    # A store whose saved coverage matches its deliveries opens without reading any rows: /status, /lieferungen
    # and the reminders need only the coverage. The row indexes (_current, _latest, _rows) are built on first use.
    _ROW_INDEXES = frozenset({"_current", "_latest", "_rows"})

    def _open_from_coverage(self) -> bool:
        table = self._raw(DELIVERIES)
        saved = Coverage.load(self._coverage_file, coverage_fingerprint(table))
        if saved is None:
            return False
        self._hashes, self._deliveries = {}, {}
        for doc_id in sorted(table, key=int):
            doc, did = table[doc_id], int(doc_id)
            self._read_segment(did, doc, parse=False)  # a missing or damaged segment still stops the open
            self._hashes.setdefault(doc["hash"], did)
            self._deliveries[did] = self._delivery(did, doc)
        self._coverage = saved
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

    def _coverage_from_index(self) -> None:
        saved = self.__dict__.get("_coverage")
        self._coverage = Coverage.from_index(self._current, coverage_fingerprint(self._raw(DELIVERIES)))
        if self._coverage.fingerprint is not None and not self.read_only and saved != self._coverage:
            self._coverage.save(self._coverage_file)
        if self._on_load is not None:
            self._on_load()

    def _coverage_update(self, indicators: Iterable[str]) -> None:
        self._coverage.update(self._current, indicators, coverage_fingerprint(self._raw(DELIVERIES)))
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

    # ---------------------------------------------------------------- generic key/value (settings of the store)
    def meta(self, key: str, default: Any = None) -> Any:
        with self._lock:
            return (self._raw(META).get("1") or {}).get(key, default)

    def set_meta(self, key: str, value: Any) -> None:
        with self._lock:
            self._db.table(META).update({key: value}, doc_ids=[1])
