"""The store: TinyDB behind one lock, typed records out, in-memory indexes for the hot queries."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.table import Document

from .jsonstore import AtomicJSONStorage, ProcessLock, StoreError, StoreUnreadable
from .models import Delivery, Meeting, Observation, Protocol, Signature, Step

__all__ = ["SCHEMA_VERSION", "DeliveryResult", "Store", "StoreError", "StoreUnreadable"]

SCHEMA_VERSION = 1

# Table names are part of the file format.
META, MEETINGS, PROTOCOLS, SIGNATURES, STEPS, DELIVERIES, SENT = (
    "meta", "termine", "protokolle", "unterschriften", "schritte", "lieferungen", "erinnerungen",
)

# Row layout inside a delivery document: compact lists, not dicts, because a store holds millions of them.
R_INDICATOR, R_AREA, R_PERIOD, R_VALUE, R_NOTE, R_ROW = range(6)


@dataclass(frozen=True)
class DeliveryResult:
    delivery: Delivery | None
    duplicate_of: int | None = None
    new: int = 0
    replaced: int = 0
    unchanged: int = 0


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
                 fsync: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = TinyDB(self.path, storage=AtomicJSONStorage, backups=backups,
                          backup_seconds=backup_seconds, fsync=fsync)
        self._storage: AtomicJSONStorage = self._db.storage  # type: ignore[assignment]
        self._process_lock = ProcessLock(self.path)
        if not self._process_lock.acquired:
            self._storage.read_only = True
            self._storage._holder = self._process_lock.holder()
        try:
            with self._lock:
                self._check_schema()
                self._build_indexes()
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
        if version != SCHEMA_VERSION:
            raise StoreError("store_schema", path=str(self.path), found=version, expected=SCHEMA_VERSION)

    def _build_indexes(self) -> None:
        # indicator -> period -> area -> (delivery id, row): the current value of every key.
        self._current: dict[str, dict[str, dict[str, tuple[int, list]]]] = {}
        self._latest: dict[str, str] = {}  # indicator -> latest period held
        self._hashes: dict[str, int] = {}
        self._deliveries: dict[int, Delivery] = {}
        table = self._raw(DELIVERIES)
        for doc_id in sorted(table, key=int):
            doc = table[doc_id]
            did = int(doc_id)
            self._hashes.setdefault(doc["hash"], did)
            self._deliveries[did] = self._delivery(did, doc)
            self._index_rows(did, doc["rows"])

    def _index_rows(self, did: int, rows: list[list], *, count: bool = False) -> tuple[int, int, int]:
        """Make `rows` the current values of their keys; with `count`, say how many were new/replaced/same."""
        intern = sys.intern
        current, latest = self._current, self._latest
        new = replaced = unchanged = 0
        for row in rows:
            # Interning shares the few distinct ids/areas/periods across a million rows.
            row[R_INDICATOR] = ind = intern(row[R_INDICATOR])
            row[R_AREA] = area = intern(row[R_AREA])
            row[R_PERIOD] = period = intern(row[R_PERIOD])
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

    def set_signatories(self, protocol_id: int, signatories: Sequence[str]) -> None:
        with self._lock:
            self._db.table(PROTOCOLS).update({"signatories": list(signatories)}, doc_ids=[protocol_id])

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
                        received=datetime.fromisoformat(doc["received"]), rows=len(doc["rows"]),
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
        """
        with self._lock:
            if content_hash in self._hashes:
                return DeliveryResult(None, duplicate_of=self._hashes[content_hash])
            packed = [[ind, area or "", period, value, note or "", rowno]
                      for ind, area, period, value, note, rowno in rows]
            indicators = sorted({r[R_INDICATOR] for r in packed})
            doc = {"file": file, "hash": content_hash, "office": office,
                   "received": received.isoformat(timespec="seconds"), "measures": sorted(set(measures)),
                   "indicators": indicators, "rows": packed}
            did = self._db.table(DELIVERIES).insert(doc)
            # Only now that the write succeeded do the indexes learn the rows (one pass: count and index).
            stored = self._raw(DELIVERIES)[str(did)]
            self._hashes[content_hash] = did
            delivery = self._deliveries[did] = self._delivery(did, stored)
            new, replaced, unchanged = self._index_rows(did, stored["rows"], count=True)
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
            period = self._latest.get(indicator)
            if period is None:
                return None, 0
            by_area = self._current[indicator][period]
            area = "" if "" in by_area else min(by_area)
            return self._observation(*by_area[area]), len(by_area)

    def periods(self, indicator: str) -> set[str]:
        with self._lock:
            return set(self._current.get(indicator, {}))

    # ---------------------------------------------------------------- report: lean series (issue 6)
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
            table = self._raw(DELIVERIES)
            for did, delivery in self._deliveries.items():
                if indicator not in delivery.indicators:
                    continue
                for row in table[str(did)]["rows"]:
                    if row[R_INDICATOR] == indicator and row[R_AREA] == area and row[R_PERIOD] == period:
                        out.append(self._observation(did, row))
            return out

    @property
    def observation_count(self) -> int:
        with self._lock:
            return sum(len(areas) for periods in self._current.values() for areas in periods.values())

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
