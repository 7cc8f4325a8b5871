"""What the ingest needs of the rest of the program, as small `typing.Protocol`s.

The watchers are handed these by the composition root (`bot.workspace.Monitor` satisfies them all) and never ask
for more: a test can hand them a real store with a catalogue and settings of its own, and mypy checks that the
monitor still fits. The words come in the same way: the ingest and the protocols folder hand their results and
notices as data to an `IngestWords` renderer (commands.ingest_words.IngestWording), which words them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import date, datetime
from typing import Protocol, runtime_checkable

from storage.catalogue import Catalogue, CatalogueProblem
from storage.config import Settings
from storage.messages import Reply, Sink
from storage.models import Delivery, Meeting, Observation, Signature
from storage.models import Protocol as MeetingProtocol
from storage.store import DeliveryResult

from .results import IngestResult, Notice

__all__ = [
    "CatalogueSource",
    "Clock",
    "IndexSource",
    "IngestStore",
    "IngestWords",
    "ProtocolContext",
    "ProtocolSource",
    "ProtocolStore",
    "ReloadingSource",
    "Row",
    "Sink",
]

# One value of a delivered file: indicator, area, period, value (None: no value), note, row number in the file.
Row = tuple[str, str, str, float | None, str, int]


class Clock(Protocol):
    """Now, as an aware datetime in the workspace's time zone."""

    def __call__(self) -> datetime: ...


class IngestStore(Protocol):
    """What the pipeline reads and writes of the store: deliveries (by content hash or id) and the values they
    hold; a delivery's final content replaces a partial one, or withdraws it when it turned out broken."""

    def delivery_by_hash(self, content_hash: str, /) -> Delivery | None: ...

    def delivery(self, delivery_id: int, /) -> tuple[Delivery, bool] | None: ...

    def deliveries(self) -> list[Delivery]: ...

    @property
    def last_delivery(self) -> int: ...

    def add_delivery(self, *, file: str, content_hash: str, office: str, received: datetime,
                     rows: Sequence[Row], measures: Sequence[str] = (), after: int | None = None) -> DeliveryResult: ...

    def replace_delivery(self, delivery_id: int, /, *, file: str, content_hash: str, office: str, received: datetime,
                         rows: Sequence[Row], measures: Sequence[str] = ()) -> DeliveryResult: ...

    def withdraw_delivery(self, delivery_id: int, /, *, at: datetime) -> DeliveryResult: ...

    def observations(self, indicator: str, /) -> list[Observation]: ...

    def series(self, indicator: str, /) -> dict[str, list[tuple[str, float | None, str]]]: ...


class IngestWords(Protocol):
    """Words what the ingest found and did, in the reader's language: results and notices in, text out."""

    def report(self, result: IngestResult, file: str, when: datetime, catalogue: Catalogue, lang: str, /) -> str:
        """NAME.pruefung.txt of a check (`result.preview`), else NAME.fehler.txt of a rejected or refused file;
        `file` as the store names it, `when` the moment of the verdict."""
        ...

    def notice(self, result: IngestResult, catalogue: Catalogue, lang: str, /) -> Reply:
        """The notice about an imported, duplicate, rejected or refused file."""
        ...

    def message(self, notice: Notice, lang: str, /) -> Reply:
        """A notice for the admins (an operating one) or for the people a protocol concerns."""
        ...


class CatalogueSource(Protocol):
    """The open workspace as the ingest sees it: its settings, its store, the current catalogue and the words.

    `catalogue` is read anew for every file, so a reloaded katalog.toml applies at once.
    """

    @property
    def ingest_words(self) -> IngestWords: ...

    @property
    def settings(self) -> Settings: ...

    @property
    def store(self) -> IngestStore: ...

    @property
    def catalogue(self) -> Catalogue: ...


@runtime_checkable
class IndexSource(Protocol):
    """A source that also keeps the social index: after an import it recomputes it from the delivered
    indicators and returns the admins' notice when a district came into "sehr niedrig" or "negativ"."""

    def after_import(self, indicators: Sequence[str], now: datetime, /) -> Reply | None: ...


class ReloadingSource(CatalogueSource, Protocol):
    """A catalogue source that re-reads katalog.toml when the watcher sees it change."""

    def reload_catalogue(self) -> list[CatalogueProblem]: ...


class ProtocolStore(Protocol):
    """What the protocols folder reads and writes of the store: meetings, protocols, their signatures."""

    def locked(self) -> AbstractContextManager[None]: ...

    def sent_keys(self) -> set[str]: ...

    def mark_sent(self, keys: Iterable[str], *, at: datetime, recipient: str = "") -> None: ...

    def meetings(self, measure: str | None = None, *, include_cancelled: bool = False) -> list[Meeting]: ...

    def protocol(self, measure: str, meeting_day: date, /) -> MeetingProtocol | None: ...

    def record_protocol(self, measure: str, meeting_day: date, *, sent_on: date, signatories: Sequence[str],
                        file: str = "", file_hash: str = "",
                        entered_on: date | None = None) -> tuple[MeetingProtocol, bool]: ...

    def signatures(self, protocol_id: int, /, *, all_versions: bool = False) -> list[Signature]: ...


class ProtocolContext(Protocol):
    """What handling a file of the protocols folder needs: the catalogue, the store, the language, local time."""

    @property
    def lang(self) -> str: ...

    @property
    def catalogue(self) -> Catalogue: ...

    @property
    def store(self) -> ProtocolStore: ...

    def local(self, now: datetime, /) -> datetime: ...


class ProtocolSource(Protocol):
    """The open workspace as the protocols folder sees it."""

    @property
    def settings(self) -> Settings: ...

    @property
    def ingest_words(self) -> IngestWords: ...

    @property
    def state(self) -> ProtocolContext: ...

    def now(self) -> datetime: ...
