"""Creating a workspace (`init`) and opening one: settings, catalogue and store wired together."""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from commands.state import State
from commands.texts import text
from storage.catalogue import Catalogue, CatalogueProblem, load_catalogue, render_catalogue
from storage.config import CATALOGUE_FILE, SETTINGS_FILE, SETTINGS_TEMPLATE, Settings, load_settings
from storage.jsonstore import StoreUnreadable
from storage.seed import DOCUMENT_DATE, MEETINGS, STEPS, UNSCHEDULED
from storage.store import Store, StoreError

from . import demo

__all__ = ["Monitor", "WorkspaceError", "create_workspace", "is_workspace", "problem_text"]


class WorkspaceError(Exception):
    """A workspace that cannot be used; the message is one sentence for the user."""


def is_workspace(path: Path) -> bool:
    return (path / SETTINGS_FILE).exists() or (path / CATALOGUE_FILE).exists()


def problem_text(problem: CatalogueProblem, lang: str) -> str:
    line = f":{problem.line}" if problem.line else ""
    return text(lang, "cli.problem", file=problem.file, line=line, message=text(lang, problem.code, **problem.params))


def create_workspace(path: Path, *, demo_data: bool = False, today: date | None = None) -> None:
    """Write settings, catalogue, the shared-folder tree and a seeded store. Refuses an existing workspace."""
    if is_workspace(path):
        raise WorkspaceError(text("de", "cli.workspace_exists", path=path))
    path.mkdir(parents=True, exist_ok=True)
    settings = Settings(workspace=path)
    for folder in (settings.inbox, settings.processed, settings.rejected, settings.protocols, settings.data):
        folder.mkdir(parents=True, exist_ok=True)
    header = "# Sozialmonitor – Katalog der Fachstelle Sozialplanung. Wird bei jeder Änderung neu gelesen.\n"
    if demo_data:
        header += ("# Enthält Beispieldaten („Beispiel“): erfundene Ämter, Personen und Indikatoren, "
                   "keine echten Zahlen.\n")
        catalogue_text = render_catalogue(demo.measures(), offices=demo.OFFICES, indicators=demo.INDICATORS,
                                          persons=demo.PERSONS, header=header)
    else:
        catalogue_text = render_catalogue(header=header)
    # The catalogue goes last: its presence is what marks a workspace, so a crash leaves none half made.
    (path / SETTINGS_FILE).write_text(SETTINGS_TEMPLATE, encoding="utf-8")
    with Store(settings.store_file) as store:
        seed_store(store, today=today or date.today())
    (path / CATALOGUE_FILE).write_text(catalogue_text, encoding="utf-8")
    if demo_data:
        files = demo.write_example_files(settings.inbox)
        _import_demo(path, files)


def _import_demo(path: Path, files: list[Path]) -> None:
    """Import the example files through the real pipeline, so `/status M21` shows values right after init."""
    from watchers.pipeline import Pipeline

    monitor = Monitor.open(path, env={})
    try:
        pipeline = Pipeline(monitor, sink=None)
        for file in files:
            pipeline.process(file)
    finally:
        monitor.close()


def seed_store(store: Store, *, today: date) -> None:
    """The meetings of 28.06.–20.09.2018 with their approach, M 12/M 13 unscheduled, the open steps."""
    for measure, day, approach in MEETINGS:
        store.add_meeting(measure, day, approach=approach)
    for measure in UNSCHEDULED:
        store.add_meeting(measure, None)
    store.add_steps(STEPS, created=DOCUMENT_DATE)
    store.set_meta("seeded", today.isoformat())


@dataclass
class Monitor:
    """One open workspace: settings, the current catalogue (re-read on change) and the store."""

    settings: Settings
    store: Store
    catalogue: Catalogue
    catalogue_problems: list[CatalogueProblem] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def open(cls, workspace: Path, *, env: dict[str, str] | None = None) -> Monitor:
        if not is_workspace(workspace):
            raise WorkspaceError(text("de", "cli.workspace_missing", path=workspace))
        settings, _ = load_settings(workspace, env)
        lang = settings.language
        catalogue, problems = load_catalogue(settings.catalogue_file)
        if catalogue is None:
            raise WorkspaceError(text(lang, "cli.catalogue_broken", path=settings.catalogue_file))
        try:
            # gc.freeze once the observations are in memory (at open, or when a command first needs them): they
            # live as long as the store, and every full collection would otherwise walk millions of references.
            store = Store(settings.store_file, backups=settings.store.backups,
                          backup_seconds=settings.store.backup_minutes * 60, on_load=gc.freeze)
        except StoreUnreadable as exc:
            if exc.backup:
                raise WorkspaceError(text(lang, "store_unreadable", path=exc.path, reason=exc.reason,
                                          backup=exc.backup)) from None
            raise WorkspaceError(text(lang, "store_unreadable_no_backup", path=exc.path, reason=exc.reason,
                                      folder=exc.path.parent / "sicherungen")) from None
        except StoreError as exc:
            raise WorkspaceError(text(lang, exc.code, **exc.params)) from None
        return cls(settings, store, catalogue, problems)

    @property
    def state(self) -> State:
        return State(self.catalogue, self.store, self.settings)

    def reload_catalogue(self) -> list[CatalogueProblem]:
        """Re-read katalog.toml; a catalogue that does not parse keeps the last good one."""
        catalogue, problems = load_catalogue(self.settings.catalogue_file)
        with self._lock:
            if catalogue is not None:
                self.catalogue = catalogue
            self.catalogue_problems = problems
        return problems

    def now(self) -> datetime:
        return datetime.now(self.state.tz)

    def close(self) -> None:
        self.store.close()
        gc.unfreeze()  # what this store froze may be collected again once it is dropped
