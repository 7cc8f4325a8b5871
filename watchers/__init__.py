"""The shared-folder ingest: watcher, reader, validation and the pipeline that stores and archives files."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.messages import Sink

    from .seams import CatalogueSource
    from .watcher import FolderWatcher

__all__ = ["build_watcher"]


def build_watcher(monitor: CatalogueSource, sink: Sink | None = None) -> FolderWatcher:
    """The folder watcher as a Service (start/stop): imports what waits in eingang/ and whatever arrives,
    re-reads katalog.toml on change, and sends every notice as a `storage.messages.Outgoing` to `sink`."""
    from .pipeline import Pipeline
    from .watcher import FolderWatcher

    pipeline = Pipeline(monitor, sink)
    return FolderWatcher(monitor, pipeline, monitor.settings.watcher,
                         reload_catalogue=getattr(monitor, "reload_catalogue", None), sink=sink)
