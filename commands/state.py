"""What a command sees: catalogue, store, settings and the language to answer in."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from storage.catalogue import Catalogue
from storage.config import Settings
from storage.store import Store

from .texts import text

if TYPE_CHECKING:
    from .charts import FigureStore

__all__ = ["State"]


@dataclass(frozen=True)
class State:
    catalogue: Catalogue
    store: Store
    settings: Settings
    language: str | None = None
    figures: FigureStore | None = field(default=None, compare=False)  # the report's figures drawn before

    @property
    def lang(self) -> str:
        return self.language or self.settings.language

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def local(self, now: datetime) -> datetime:
        """`now` in the configured time zone (naive datetimes are taken as already local)."""
        return now.astimezone(self.tz) if now.tzinfo else now.replace(tzinfo=self.tz)

    def t(self, key: str, /, *, lang: str | None = None, **params: object) -> str:
        return text(lang or self.lang, key, **params)

    def for_language(self, lang: str | None) -> State:
        return self if not lang or lang == self.lang else replace(self, language=lang)

    def with_catalogue(self, catalogue: Catalogue) -> State:
        return replace(self, catalogue=catalogue)
