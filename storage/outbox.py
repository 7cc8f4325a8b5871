"""Messages on their way out, kept in their own small file: a stop or crash never loses a notice."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tinydb import TinyDB
from tinydb.storages import MemoryStorage

from .jsonstore import AtomicJSONStorage, StoreUnreadable, backup_time, keep_aside

__all__ = ["Outbox", "OutboxItem", "OutboxRecovery", "outbox_shape_problem"]

ITEMS = "nachrichten"
STATE = "kanaele"  # what a channel must remember across restarts (Matrix: the sync position, direct rooms)


@dataclass(frozen=True)
class OutboxItem:
    id: int
    kind: str
    key: str
    recipients: tuple[str, ...]
    messages: tuple[str, ...]  # rendered, ready to send
    delivered: tuple[int | str, ...]  # targets that already have it: a Telegram chat id, or "channel:address"
    created: datetime | None = None
    keys: tuple[str, ...] = ()  # reminder keys this message carries (recorded as sent together with it)
    subject: str = ""  # the e-mail subject
    calendar: str = ""  # an iCalendar invitation that goes with it by e-mail


@dataclass(frozen=True)
class OutboxRecovery:
    """A damaged outbox file was moved to `kept` and the newest good backup (`backup`, None: none) put in place."""

    reason: str
    backup: str | None
    taken: datetime | None
    items: int
    kept: Path


_FIELDS: dict[str, type] = {"kind": str, "recipients": list, "messages": list, "delivered": list}


def outbox_shape_problem(data: Any) -> str | None:
    """Why parsed JSON is not an outbox (None if it is one): a JSON object of tables of documents with fields."""
    if not isinstance(data, dict):
        return "kein JSON-Objekt"
    for name, table in data.items():
        if not isinstance(table, dict):
            return f"Tabelle „{name}“ ist kein JSON-Objekt"
        for doc_id, doc in table.items():
            if not doc_id.isdigit() or not isinstance(doc, dict):
                return f"Tabelle „{name}“: Eintrag „{doc_id}“ ist kein Dokument"
            if name == ITEMS and not all(isinstance(doc.get(k), t) for k, t in _FIELDS.items()):
                return f"Nachricht {doc_id}: ein Feld fehlt oder hat den falschen Typ"
    return None


class Outbox:
    """A small TinyDB file beside the store, written like the store: temp file, fsync, atomic rename, backups.

    It is separate from the store so that recording a delivery to one chat never rewrites the store. A damaged
    file (truncated, not JSON, the wrong shape) never stops the monitor: it is moved to `beschaedigt/` and the
    newest good backup takes its place (`recovered` says so). With `read_only` (another process holds the
    workspace) nothing is written and a damaged file is left alone and read as empty.
    """

    def __init__(self, path: str | Path, *, fsync: bool = True, backups: int = 5, backup_seconds: float = 60.0,
                 read_only: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.recovered: OutboxRecovery | None = None
        self._db = TinyDB(self.path, storage=AtomicJSONStorage, backups=backups, backup_seconds=backup_seconds,
                          fsync=fsync, validate=lambda data: outbox_shape_problem(data) is None)
        storage: AtomicJSONStorage = self._db.storage  # type: ignore[assignment]
        storage.read_only = read_only
        try:
            data = storage.read()
        except StoreUnreadable as exc:
            problem: str | None = exc.reason
        else:
            problem = outbox_shape_problem(data) if data is not None else None
        if problem is None:
            return
        if read_only:
            self._db = TinyDB(storage=MemoryStorage)
            return
        backup = storage.newest_backup()
        kept = keep_aside(self.path)
        restored = _loads(backup) if backup is not None else {}
        storage.write(restored)
        self.recovered = OutboxRecovery(reason=problem, backup=backup.name if backup else None,
                                        taken=backup_time(backup) if backup else None,
                                        items=len(restored.get(ITEMS, {})), kept=kept)

    def add(self, *, kind: str, key: str, recipients: Iterable[str], messages: Iterable[str],
            created: datetime | None = None, keys: Iterable[str] = (), subject: str = "", calendar: str = "") -> int:
        return self.add_many([{"kind": kind, "key": key, "recipients": recipients, "messages": messages,
                               "created": created, "keys": keys, "subject": subject, "calendar": calendar}])[0]

    def add_many(self, entries: Sequence[Mapping[str, Any]]) -> list[int]:
        """Several messages in ONE write (all or none): `kind`, `key`, `recipients`, `messages`, `created`, `keys`,
        and optionally `subject` and `calendar`."""
        docs = []
        for e in entries:
            created = e.get("created")
            docs.append({"kind": e["kind"], "key": e.get("key", ""), "recipients": list(e["recipients"]),
                         "messages": list(e["messages"]), "delivered": [],
                         "created": created.isoformat(timespec="seconds") if created else None,
                         "keys": list(e.get("keys", ()))})
            for extra in ("subject", "calendar"):
                if e.get(extra):
                    docs[-1][extra] = str(e[extra])
        if not docs:
            return []
        with self._lock:
            return self._db.table(ITEMS).insert_multiple(docs)

    def delivered(self, item_id: int, chat_id: int | str) -> None:
        """One target has the message (or can never get it): a restart does not send it there again."""
        with self._lock:
            table = self._db.table(ITEMS)
            doc = table.get(doc_id=item_id)
            if doc is not None and chat_id not in doc["delivered"]:
                table.update({"delivered": [*doc["delivered"], chat_id]}, doc_ids=[item_id])

    def finish(self, item_id: int) -> None:
        with self._lock:
            table = self._db.table(ITEMS)
            if table.contains(doc_id=item_id):
                table.remove(doc_ids=[item_id])

    def pending(self) -> list[OutboxItem]:
        with self._lock:
            docs = self._db.table(ITEMS).all()
        return [OutboxItem(id=d.doc_id, kind=d["kind"], key=d.get("key", ""), recipients=tuple(d["recipients"]),
                           messages=tuple(d["messages"]), delivered=tuple(d.get("delivered", ())),
                           created=datetime.fromisoformat(d["created"]) if d.get("created") else None,
                           keys=tuple(d.get("keys") or ()), subject=d.get("subject") or "",
                           calendar=d.get("calendar") or "")
                for d in docs]

    def claimed_keys(self) -> dict[str, str]:
        """Reminder key -> recipient, for every message still waiting: these count as sent already."""
        out: dict[str, str] = {}
        for item in self.pending():
            for key in item.keys:
                out.setdefault(key, item.recipients[0] if item.recipients else "")
        return out

    def channel_state(self, channel: str) -> dict[str, Any]:
        """What `channel` asked to remember (a copy; empty if nothing)."""
        from tinydb import Query

        with self._lock:
            doc = self._db.table(STATE).get(Query().kanal == channel)
        return dict(doc.get("daten", {})) if doc else {}

    def remember(self, channel: str, data: Mapping[str, Any]) -> None:
        """Keep `data` for `channel`, in one atomic write."""
        from tinydb import Query

        with self._lock:
            self._db.table(STATE).upsert({"kanal": channel, "daten": dict(data)}, Query().kanal == channel)

    @property
    def writes(self) -> int:
        """How many times the file was written (each one atomic)."""
        storage = self._db.storage
        return storage.writes if isinstance(storage, AtomicJSONStorage) else 0

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _loads(path: Path) -> dict[str, Any]:
    import orjson

    data = orjson.loads(path.read_bytes())
    return data if isinstance(data, dict) else {}
