"""Messages on their way out, kept in their own small file: a stop or crash never loses a notice."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tinydb import TinyDB

from .jsonstore import AtomicJSONStorage

__all__ = ["Outbox", "OutboxItem"]

ITEMS = "nachrichten"


@dataclass(frozen=True)
class OutboxItem:
    id: int
    kind: str
    key: str
    recipients: tuple[str, ...]
    messages: tuple[str, ...]  # rendered, ready to send
    delivered: tuple[int, ...]  # chats that already have it
    created: datetime | None = None


class Outbox:
    """A small TinyDB file beside the store (one write per change, crash-safe like the store).

    It is separate from the store so that recording a delivery never rewrites a store of a million values.
    """

    def __init__(self, path: str | Path, *, fsync: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = TinyDB(self.path, storage=AtomicJSONStorage, backups=0, fsync=fsync)

    def add(self, *, kind: str, key: str, recipients: Iterable[str], messages: Iterable[str],
            created: datetime | None = None) -> int:
        with self._lock:
            return self._db.table(ITEMS).insert({
                "kind": kind, "key": key, "recipients": list(recipients), "messages": list(messages),
                "delivered": [], "created": created.isoformat(timespec="seconds") if created else None})

    def delivered(self, item_id: int, chat_id: int) -> None:
        """One chat has the message (or can never get it): a restart does not send it there again."""
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
                           created=datetime.fromisoformat(d["created"]) if d.get("created") else None)
                for d in docs]

    def close(self) -> None:
        with self._lock:
            self._db.close()
