"""The report's figures drawn before, kept in the workspace (`daten/diagramme/`) with diskcache.

A report draws some 30 figures of three panels each, about two seconds of matplotlib on two cores; between two
reports most indicators have not changed. The figures are kept by the key of what they show and how
(`commands.charts.figure_key`), so a figure is drawn again only when its content or the drawing code changed.
diskcache keeps them in one SQLite index plus files, safe for several processes at once, and drops the least
recently used ones beyond the size limit. The cache is derived data: when it cannot be used, the report is drawn
without it, and a damaged index is moved aside and started anew.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from diskcache import Cache

__all__ = ["SIZE_LIMIT", "FigureCache"]

T = TypeVar("T")

SIZE_LIMIT = 200 * 2**20  # bytes; a report's figures take about 1.5 MB
_PNG_START, _PNG_END = b"\x89PNG\r\n\x1a\n", b"IEND\xaeB`\x82"


def _whole_png(data: bytes) -> bool:
    return data.startswith(_PNG_START) and data.endswith(_PNG_END)


class FigureCache:
    """`commands.charts.FigureStore` in a folder: opened for each batch and closed again (a report forks its
    drawing workers in between, and an SQLite connection must not cross a fork)."""

    def __init__(self, folder: Path, *, size_limit: int = SIZE_LIMIT) -> None:
        self.folder = folder
        self.size_limit = size_limit

    def _use(self, work: Callable[[Cache], T]) -> T | None:
        """`work` done on the opened cache; None (and a log line) when the cache cannot be used."""
        # Imported here: every command builds a state with this cache, and only a report opens it.
        import logging
        import sqlite3

        log = logging.getLogger(__name__)
        try:
            from diskcache import Cache, Timeout
        except ImportError:  # a report without it is only slower
            return None
        try:
            with Cache(str(self.folder), size_limit=self.size_limit, eviction_policy="least-recently-used",
                       timeout=2) as cache:
                return work(cache)
        except sqlite3.DatabaseError as exc:  # a damaged index: derived data, started anew next time
            log.warning("figure cache %s damaged (%s), moved aside", self.folder, exc)
            aside = self.folder.with_name(f"{self.folder.name}.beschaedigt-{time.strftime('%Y%m%dT%H%M%S')}")
            try:
                os.replace(self.folder, aside)
            except OSError:
                log.warning("figure cache %s could not be moved aside", self.folder, exc_info=True)
        except (OSError, sqlite3.Error, Timeout):
            log.warning("figure cache %s not usable", self.folder, exc_info=True)
        return None

    def get_many(self, keys: Sequence[str]) -> dict[str, bytes]:
        def read(cache: Cache) -> dict[str, bytes]:
            found = {key: cache.get(key) for key in keys}
            return {key: data for key, data in found.items() if isinstance(data, bytes) and _whole_png(data)}

        return self._use(read) or {}

    def put_many(self, figures: Mapping[str, bytes]) -> None:
        def write(cache: Cache) -> None:
            for key, data in figures.items():
                cache.set(key, data)

        self._use(write)
