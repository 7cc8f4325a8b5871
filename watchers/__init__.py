"""The shared-folder ingest: watcher, reader, validation and the pipeline that stores and archives files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["build_watcher"]


def build_watcher(monitor: Any, sink: Callable[[Any], None] | None = None) -> Any:
    """The folder watcher as a Service (start/stop): imports what waits in eingang/ and whatever arrives,
    re-reads katalog.toml on change, and sends every notice as a `commands.outgoing.Outgoing` to `sink`."""
    from .pipeline import Pipeline
    from .watcher import FolderWatcher

    pipeline = Pipeline(monitor, sink)
    return FolderWatcher(monitor, pipeline, monitor.settings.watcher,
                         reload_catalogue=getattr(monitor, "reload_catalogue", None), sink=sink)
