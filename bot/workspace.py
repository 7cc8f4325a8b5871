"""Creating a workspace (`init`) and opening one: settings, catalogue and store wired together."""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from zoneinfo import ZoneInfo

from commands.state import State
from commands.texts import text
from storage.catalogue import (
    ADMINS_META,
    Catalogue,
    CatalogueProblem,
    check_against_store,
    load_catalogue,
    render_catalogue,
    stored_data,
)
from storage.config import CATALOGUE_FILE, SETTINGS_FILE, SETTINGS_TEMPLATE, Settings, load_settings
from storage.jsonstore import StoreUnreadable
from storage.messages import Reply
from storage.seed import DOCUMENT_DATE, MEETINGS, STEPS, UNSCHEDULED
from storage.store import Recovery, Store, StoreError

if TYPE_CHECKING:
    from commands.ingest_words import IngestWording
    from storage.outbox import Outbox, OutboxRecovery

__all__ = ["OUTBOX_FILE", "Monitor", "WorkspaceError", "active_channels", "create_workspace", "is_workspace",
           "local_time",
           "open_checked", "outbox_recovery_text", "problem_text", "recovery_text", "workspace_problems"]

OUTBOX_FILE = "postausgang.json"
FIGURES = "diagramme"  # the report's figures drawn before (bot/figures.py), in the data folder


def unreadable(exc: StoreUnreadable) -> tuple[str, dict[str, object]]:
    """The text key and parameters that say a store is damaged, and how to restore it."""
    if exc.backup:
        return "store_unreadable", {"path": exc.path, "reason": exc.reason, "backup": exc.backup,
                                    "name": exc.backup.name}
    return "store_unreadable_no_backup", {"path": exc.path, "reason": exc.reason,
                                          "folder": exc.path.parent / "sicherungen"}


def unreadable_text(exc: StoreUnreadable, lang: str) -> str:
    key, params = unreadable(exc)
    return text(lang, key, **params)


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
    (settings.share / "pruefen").mkdir(exist_ok=True)  # offices test files there; nothing is stored
    from . import demo  # the example data: only `init --demo` needs it

    header = "# Sozialmonitor – Katalog der Fachstelle Sozialplanung. Wird bei jeder Änderung neu gelesen.\n"
    if demo_data:
        header += ("# Enthält Beispieldaten („Beispiel“): erfundene Ämter, Personen und Indikatoren, "
                   "keine echten Zahlen.\n")
        catalogue_text = render_catalogue(demo.measures(), offices=demo.OFFICES, indicators=demo.INDICATORS,
                                          persons=demo.PERSONS, header=header, sozialindex=demo.SOZIALINDEX)
    else:
        catalogue_text = render_catalogue(header=header)
    # The catalogue goes last: its presence is what marks a workspace, so a crash leaves none half made.
    (path / SETTINGS_FILE).write_text(SETTINGS_TEMPLATE, encoding="utf-8")
    with Store(settings.store_file) as store:
        seed_store(store, today=today or date.today(), demo_data=demo_data)
    (path / CATALOGUE_FILE).write_text(catalogue_text, encoding="utf-8")
    if demo_data:
        files = demo.write_example_files(settings.inbox)
        _import_demo(path, files)


def _import_demo(path: Path, files: list[Path]) -> None:
    """Import the example files through the real pipeline, so `/status M21` shows values right after init."""
    from watchers.pipeline import Pipeline

    from . import demo_sozialindex

    monitor = Monitor.open(path, env={})
    try:
        pipeline = Pipeline(monitor, sink=None)
        for file in files:
            pipeline.process(file)
        demo_sozialindex.record_history(monitor)  # the social index's stored computations (demo only)
    finally:
        monitor.close()


def seed_store(store: Store, *, today: date, demo_data: bool = False) -> None:
    """The meetings of 28.06.–20.09.2018 with their approach, M 12/M 13 unscheduled, the open steps.

    With the demo's persons, also what the status document says of the protocols: each went to all
    participants for signature on the meeting day; some signatures came back, some are missing. Without
    persons nobody is known who must sign, so plain `init` records no protocols: a protocol "sent to nobody"
    would read as fully signed. The Fachstelle enters them once the persons are in the catalogue
    (/protokoll Mxx TT.MM.JJJJ versandt TT.MM.JJJJ).
    """
    for measure, day, approach in MEETINGS:
        store.add_meeting(measure, day, approach=approach)
    for measure in UNSCHEDULED:
        store.add_meeting(measure, None)
    store.add_steps(STEPS, created=DOCUMENT_DATE)
    if demo_data:
        _seed_demo_protocols(store, today)
    store.set_meta("seeded", today.isoformat())


def local_time(moment: datetime | None, settings: Settings) -> str:
    """A moment (UTC or local) as local German date and time, e.g. 25.11.2026 09:00:12."""
    if moment is None:
        return text(settings.language, "backups.unknown_time")
    try:
        tz = ZoneInfo(settings.timezone)
    except (KeyError, ValueError):
        tz = ZoneInfo("Europe/Berlin")
    local = moment.astimezone(tz) if moment.tzinfo else moment
    return local.strftime("%d.%m.%Y %H:%M:%S")


def recovery_text(recovery: Recovery, settings: Settings) -> str:
    """The notice about a rebuilt main file: what happened, from which backup of when, what may be missing."""
    lang = settings.language
    what = (text(lang, "store.what_missing") if recovery.missing
            else text(lang, "store.what_damaged", reason=recovery.reason))
    if recovery.backup is None:
        out = text(lang, "store.recovered_no_backup", path=settings.store_file, what=what,
                   reattached=recovery.reattached)
    else:
        out = text(lang, "store.recovered", path=settings.store_file, what=what, backup=recovery.backup,
                   taken=local_time(recovery.taken, settings), from_backup=recovery.from_backup,
                   reattached=recovery.reattached)
    if recovery.skipped:
        out += " " + text(lang, "store.recovered_skipped", n=len(recovery.skipped),
                          folder=settings.store_file.parent / "lieferungen", names=", ".join(recovery.skipped))
    if recovery.kept is not None:
        out += " " + text(lang, "store.recovered_kept", kept=recovery.kept)
    return out


def outbox_recovery_text(recovery: OutboxRecovery, path: Path, settings: Settings) -> str:
    lang = settings.language
    if recovery.backup is None:
        return text(lang, "outbox.recovered_no_backup", path=path, reason=recovery.reason, kept=recovery.kept)
    return text(lang, "outbox.recovered", path=path, reason=recovery.reason, kept=recovery.kept,
                backup=recovery.backup, taken=local_time(recovery.taken, settings), items=recovery.items)


def _seed_demo_protocols(store: Store, today: date) -> None:
    """The protocols as history, entered today: no reminder that fell due back then goes out now."""
    from . import demo

    entered = datetime.combine(today, datetime.min.time())
    signed = []
    for measure, day, _ in MEETINGS:
        protocol, _ = store.record_protocol(measure, day, sent_on=day, signatories=demo.participants(measure),
                                            entered_on=today)
        signed += [(protocol.id, name, on, method) for name, on, method in demo.SIGNATURES.get(measure, ())]
    store.sign_many(signed, channel="demo", at=entered, recorded_by=demo.PERSONS[0].name)


@dataclass
class Monitor:
    """One open workspace: settings, the current catalogue (re-read on change), the store and its outbox.

    The outbox is opened here, once per process, beside the store and under the store's process lock: every
    part of the program that queues a message uses this one object.
    """

    settings: Settings
    store: Store
    catalogue: Catalogue
    outbox: Outbox | None = None
    notices: list[str] = field(default_factory=list)  # what opening repaired, as told on stderr and to the admins

    @classmethod
    def open(cls, workspace: Path, *, env: dict[str, str] | None = None, role: str = "", wait: float = 0.0,
             report: TextIO | None = None, reading: bool = False) -> Monitor:
        """Open the workspace. `role` names the command (shown to other processes), `wait` see ProcessLock;
        `reading` for a command that changes nothing: the store without its lock where it can (`Store.reader`).

        A main file or outbox rebuilt on open is reported: on `report` (default stderr) and, with Telegram
        configured, as a notice to the admins in the outbox.
        """
        if not is_workspace(workspace):
            raise WorkspaceError(text("de", "cli.workspace_missing", path=workspace))
        settings, _ = load_settings(workspace, env)
        lang = settings.language
        catalogue, _ = load_catalogue(settings.catalogue_file)  # its remarks are for `sozialmonitor check`
        if catalogue is None:
            raise WorkspaceError(text(lang, "cli.catalogue_broken", path=settings.catalogue_file))
        try:
            # gc.freeze once the observations are in memory (at open, or when a command first needs them): they
            # live as long as the store, and every full collection would otherwise walk millions of references.
            store = (Store.reader if reading else Store)(
                settings.store_file, backups=settings.store.backups,
                backup_seconds=settings.store.backup_minutes * 60, role=role, wait=wait, on_load=gc.freeze)
        except StoreUnreadable as exc:
            raise WorkspaceError(unreadable_text(exc, lang)) from None
        except StoreError as exc:
            raise WorkspaceError(text(lang, exc.code, **exc.params)) from None
        outbox = None
        if not (reading and store.read_only):  # a reader sends nothing and repairs nothing: no outbox
            from storage.outbox import Outbox

            try:
                outbox = Outbox(settings.data / OUTBOX_FILE, backups=settings.store.backups,
                                read_only=store.read_only)
            except BaseException:
                store.close()
                raise
        monitor = cls(settings, store, catalogue, outbox=outbox)
        if store.recovered is not None:
            monitor.notices.append(recovery_text(store.recovered, settings))
        if outbox is not None and outbox.recovered is not None:
            monitor.notices.append(outbox_recovery_text(outbox.recovered, outbox.path, settings))
        if not store.read_only:
            monitor.record_outbox_claims()
        monitor._announce(report or sys.stderr)
        return monitor

    def _announce(self, stream: TextIO) -> None:
        if not self.notices:
            return
        for notice in self.notices:
            stream.write(notice + "\n")
        stream.flush()
        # The admins hear of it on their channel too; without one the operator reading stderr is the admin.
        settings = self.settings
        channel = settings.telegram.token or settings.email.host or settings.matrix.homeserver
        if channel and self.outbox is not None and not self.store.read_only:
            from commands.outgoing import ADMINS
            from commands.reply import ReplyBuilder

            from .render import render_html

            self.outbox.add_many([{"kind": "notice", "key": "", "recipients": [ADMINS],
                                   "messages": render_html(ReplyBuilder().line(n).build()), "created": self.now()}
                                  for n in self.notices])

    def record_outbox_claims(self) -> int:
        """Reminders waiting in the outbox count as sent: record any the store lacks (a crash came between)."""
        if self.outbox is None or self.store.read_only:
            return 0
        with self.store.locked():
            sent = self.store.sent_keys()
            missing: dict[str, list[str]] = {}
            for key, recipient in self.outbox.claimed_keys().items():
                if key not in sent:
                    missing.setdefault(recipient, []).append(key)
            for recipient, keys in missing.items():
                self.store.mark_sent(keys, at=self.now(), recipient=recipient)
        return sum(len(k) for k in missing.values())

    @property
    def state(self) -> State:
        from .figures import FigureCache

        return State(self.catalogue, self.store, self.settings, figures=FigureCache(self.settings.data / FIGURES))

    @property
    def ingest_words(self) -> IngestWording:
        """The ingest's renderer: what the pipeline writes beside files and sends, worded from its results."""
        from commands.ingest_words import INGEST_WORDS  # on first ingest: a chat command needs none of it

        return INGEST_WORDS

    def reload_catalogue(self) -> list[CatalogueProblem]:
        """Re-read katalog.toml; one that does not parse, or would drop stored data, keeps the last good one.

        The refusal's problems (codes `cat_drops_*`) come first, so the notice names them before any remarks.
        """
        catalogue, problems = load_catalogue(self.settings.catalogue_file)
        drops = self.catalogue_drops(catalogue) if catalogue is not None else []
        if catalogue is not None and not drops:
            self.catalogue = catalogue
            self.remember_admins()
        return drops + problems

    def catalogue_drops(self, catalogue: Catalogue | None = None) -> list[CatalogueProblem]:
        """What taking over `catalogue` (default: the current one) would drop that the store holds data for."""
        return check_against_store(catalogue or self.catalogue, stored_data(self.store),
                                   str(self.settings.catalogue_file))

    def remember_admins(self) -> None:
        """Note the current admins in the store, so a later catalogue without any is recognised as dropping them."""
        admins = sorted(p.name for p in self.catalogue.admins)
        if admins and not self.store.read_only and self.store.meta(ADMINS_META) != admins:
            try:
                self.store.set_meta(ADMINS_META, admins)
            except StoreError:
                pass  # another process took the store meanwhile; the one holding it notes them

    def now(self) -> datetime:
        return datetime.now(self.state.tz)

    def after_import(self, indicators: Sequence[str], now: datetime) -> Reply | None:
        """The ingest's social index hook: recompute after a delivery of index indicators; the admins' notice
        when a district came into "sehr niedrig" or "negativ" (None otherwise)."""
        from commands.sozialindex import after_delivery

        return after_delivery(self.state, indicators, now)

    def close(self) -> None:
        try:
            if self.outbox is not None:
                self.outbox.close()
        finally:
            self.store.close()
            gc.unfreeze()  # what this store froze may be collected again once it is dropped


def _refusal(headline: str, path: Path, problems: list[CatalogueProblem], lang: str) -> str:
    """Why a command does not start: one sentence, then each problem exactly as `check` prints it."""
    return "\n".join([text(lang, headline, path=path), *(problem_text(p, lang) for p in problems)])


def open_checked(workspace: Path, *, guard_catalogue: bool = True, role: str = "", wait: float = 0.0,
                 remember: bool = True, reading: bool = False) -> Monitor:
    """Open a workspace for a command: refuses broken settings and a catalogue that would drop stored data.

    `guard_catalogue=False` is for commands about the store itself (e.g. restoring a backup), not its content;
    `remember=False` for commands that promise to leave the store as it is (`pruefen`).
    """
    if is_workspace(workspace):
        settings, problems = load_settings(workspace)
        if problems:
            raise WorkspaceError(_refusal("cli.settings_refused", settings.settings_file, problems, settings.language))
    monitor = Monitor.open(workspace, role=role, wait=wait, reading=reading)
    try:
        drops = monitor.catalogue_drops() if guard_catalogue else []
        if drops:
            raise WorkspaceError(_refusal("cli.catalogue_refused", monitor.settings.catalogue_file, drops,
                                          monitor.settings.language))
        if remember:
            monitor.remember_admins()
    except BaseException:
        monitor.close()
        raise
    return monitor


def workspace_problems(workspace: Path) -> tuple[Settings, Catalogue | None, list[CatalogueProblem]]:
    """What `check` reports: the settings, the catalogue, and what the catalogue would drop of the store's data.

    The store is opened read-only and without its lock, so this works while `run` holds the workspace.
    """
    settings, problems = load_settings(workspace)
    catalogue, cat_problems = load_catalogue(settings.catalogue_file)
    problems += cat_problems
    if catalogue is None or not settings.store_file.exists():
        return settings, catalogue, problems  # nothing stored yet: nothing to lose
    path = settings.store_file
    try:
        store = Store(path, read_only=True)
    except StoreUnreadable as exc:
        problems.append(CatalogueProblem(str(exc.path), None, *unreadable(exc)))
        return settings, catalogue, problems
    except StoreError as exc:
        problems.append(CatalogueProblem(str(path), None, exc.code, exc.params))
        return settings, catalogue, problems
    except OSError as exc:  # e.g. no permission to read the database
        problems.append(CatalogueProblem(str(path), None, "file_unreadable",
                                         {"path": str(path), "detail": exc.strerror or str(exc)}))
        return settings, catalogue, problems
    try:
        problems += check_against_store(catalogue, stored_data(store), str(settings.catalogue_file))
    finally:
        store.close()
    return settings, catalogue, problems


def active_channels(monitor: Monitor) -> list[str]:
    """The channels the settings set up for sending, in the fixed order: telegram, matrix, email."""
    settings = monitor.settings
    out = []
    if settings.telegram.token:
        out.append("telegram")
    if settings.matrix.homeserver and settings.matrix.user_id and settings.matrix.token:
        out.append("matrix")
    if settings.email.host and settings.email.sender:
        out.append("email")
    return out
