"""The ingest pipeline: one delivered file checked, stored once, then archived or rejected — in this one place.

What it writes for people (NAME.fehler.txt, NAME.pruefung.txt) and sends them (notices) is worded by the
renderer its source hands in (`CatalogueSource.ingest_words`, see watchers/seams.py) from the results as data.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from storage.catalogue import Catalogue
from storage.config import Settings
from storage.messages import ADMINS, Outgoing, Sink
from storage.models import Delivery

from . import files
from .followup import FollowUps, Handled
from .results import DUPLICATE, GONE, HELD, IMPORTED, REFUSED, REJECTED, RETRY, IngestResult, Notice
from .seams import CatalogueSource, Clock, IndexSource, IngestWords
from .validate import Checked, Limits, check_delivery, too_big

__all__ = [
    "CHECK_SUFFIX",
    "DUPLICATE",
    "GONE",
    "HELD",
    "IMPORTED",
    "REFUSED",
    "REJECTED",
    "REPORT_SUFFIX",
    "RETRY",
    "IngestResult",
    "Pipeline",
    "check_report_name",
    "is_ignored",
]

log = logging.getLogger(__name__)

REPORT_SUFFIX = ".fehler.txt"
CHECK_SUFFIX = ".pruefung.txt"  # the report `pruefen/` writes beside a file it checked
NUMBER_ROOM = 8  # bytes kept free in archive names for "_2" … "_9999999"


def is_ignored(name: str) -> bool:
    """Office temp and lock files, editor autosaves, partial downloads, hidden files and our own reports are
    never deliveries or protocols (one rule for the inbox, the check folder and the protocols folder)."""
    lower = name.casefold()
    return name.startswith(("~$", ".")) or lower.endswith((".tmp", ".part", ".crdownload", "#", REPORT_SUFFIX,
                                                           CHECK_SUFFIX))


@dataclass(frozen=True)
class _Read:
    """A file read whole (or, `data` None, found too large to read) through a descriptor that follows no link."""

    data: bytes | None
    size: int
    signature: tuple[int, int, int]
    digest: str = ""


_SPREADSHEETS = (".xlsx", ".xlsm", ".ods")


def percent_hints(filename: str, checked: Checked, catalogue: Catalogue) -> tuple[str, ...]:
    """Indicators in % whose values from a spreadsheet all lie between 0 and 1.

    A cell formatted as percent holds the fraction (12,5 % is 0.125) and the readers see no number formats, so
    such a file is imported as it is, but the notice asks to check it.
    """
    if not filename.casefold().endswith(_SPREADSHEETS):
        return ()
    values: dict[str, list[float]] = {}
    for indicator, _area, _period, value, _note, _row in checked.rows:
        if value is not None:
            values.setdefault(indicator, []).append(value)
    out = []
    for indicator, found in values.items():
        ind = catalogue.indicators.get(indicator)
        if ind is None or ind.unit.strip() not in ("%", "Prozent", "Anteil %", "Anteil (%)"):
            continue
        if all(0 <= v <= 1 for v in found) and any(0 < v < 1 for v in found):
            out.append(indicator)
    return tuple(sorted(out))


def _unique(folder: Path, name: str, *, reports: bool = True) -> Path:
    """`name`, or `stem_2.ext`, `stem_3.ext`, … — archives are never overwritten (nor another file's report).

    A long name is shortened first (keeping its extension) so that the number and `NAME.fehler.txt` still fit
    the folder's name limit: a name that cannot be placed would keep the file in the inbox for ever."""
    name = files.fit_name(name, NUMBER_ROOM + len(REPORT_SUFFIX), files.name_max(folder))

    def free(candidate: Path) -> bool:
        # lexists: a dangling link under that name is taken too (exists() would follow it and say no).
        return not os.path.lexists(candidate) and not (
            reports and os.path.lexists(folder / (candidate.name + REPORT_SUFFIX)))

    target = folder / name
    if free(target):
        return target
    stem, dot, ext = name.rpartition(".")
    if not stem:
        stem, dot, ext = name, "", ""
    n = 2
    while True:
        candidate = folder / f"{stem}_{n}{dot}{ext}"
        if free(candidate):
            return candidate
        n += 1


class ChangedMeanwhile(Exception):
    """The file was saved again after it was read: it stays in the inbox, its new content is read next."""


def _copy_safely(source: Path, folder: Path) -> Path:
    """A temporary copy of `source` in `folder`, read without following a link."""
    fd, _ = files.open_file(source)
    with os.fdopen(fd, "rb") as src:
        tmp_fd, tmp_name = tempfile.mkstemp(dir=folder, prefix=".sozialmonitor-", suffix=".part")
        try:
            with os.fdopen(tmp_fd, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise
    return Path(tmp_name)


def _place(source: Path, data: bytes | None, folder: Path, name: str, *, move: bool, reports: bool = True,
           expect: tuple[int, int, int] | None = None) -> Path:
    """Move `source` (or copy it: `data`, or the file when None) into `folder` under a free name; never overwrites.

    With `expect` (size, mtime, inode of what was read), a file saved again since is not moved: what would be
    archived must be what was stored or judged."""
    folder.mkdir(parents=True, exist_ok=True)
    for _ in range(1000):
        target = _unique(folder, name, reports=reports)
        if move:
            try:
                # link + unlink refuses to overwrite a file that appeared meanwhile; rename would replace it.
                os.link(source, target, follow_symlinks=False)
            except FileExistsError:
                continue
            except OSError:
                if os.path.lexists(target):
                    continue
                shutil.move(str(source), str(target))  # shares without hard links, or another file system
                return target
            if expect is not None and files.signature(os.lstat(target)) != expect:
                os.unlink(target)
                raise ChangedMeanwhile(source)
            try:
                os.unlink(source)
            except OSError:
                os.unlink(target)  # not moved after all: no second copy in the archive on the next attempt
                raise
            return target
        tmp = _copy_safely(source, folder) if data is None else files.write_new(folder, data)
        try:
            os.link(tmp, target)
        except FileExistsError:
            continue
        except OSError:
            if os.path.lexists(target):
                continue
            os.replace(tmp, target)
            return target
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        return target
    raise OSError(f"no free name for {name} in {folder}")


def _write_text(path: Path, content: str) -> None:
    # utf-8-sig: Windows Notepad of the offices shows umlauts right only with the BOM.
    data = content.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8-sig")
    tmp = files.write_new(path.parent, data)
    try:
        os.replace(tmp, path)  # replaces whatever has the name (even a planted link), never writes through it
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def check_report_name(name: str, limit: int = files.NAME_MAX) -> str:
    """`NAME.pruefung.txt`, with NAME shortened where the whole would not fit the folder's name limit."""
    return files.fit_name(name, len(CHECK_SUFFIX), limit) + CHECK_SUFFIX


class Pipeline:
    """Check, store, archive: the only code that moves delivered files and writes deliveries to the store.

    `monitor` is anything with `settings`, `store`, `catalogue` (re-read on every file, so a reloaded catalogue
    applies at once) and `ingest_words`, which words what is written and sent. `sink` receives one Outgoing notice
    per imported, duplicate, rejected or refused file. The store write comes BEFORE the move: a crash in between
    leaves the file waiting, and its re-import is recognised by its content hash as a duplicate and archived — each
    file counts exactly once. With `followups` (the watcher's), every move is announced there first and confirmed
    after, so a file written on after a crash is still known as the delivery it was stored as.
    Files are opened without following links; a link, FIFO, device or socket is refused unread.
    """

    def __init__(self, monitor: CatalogueSource, sink: Sink | None = None, *, clock: Clock | None = None,
                 followups: FollowUps | None = None) -> None:
        self.monitor = monitor
        self.sink = sink
        self._clock = clock
        # Files moved from the inbox, remembered (on disk) for the watcher's second look; None: not watched
        # (`ingest` archives copies; nobody writes to them).
        self.followups = followups
        self._lock = threading.Lock()
        self._quiet = False  # a retry of a file that could not be archived: no second round of notices
        self._errors: list[Notice] | None = None  # while a file is processed: its error notices, sent after its verdict

    @property
    def settings(self) -> Settings:
        return self.monitor.settings

    @property
    def lang(self) -> str:
        return self.settings.language

    @property
    def words(self) -> IngestWords:
        return self.monitor.ingest_words

    @property
    def check_folder(self) -> Path:
        """ablage/pruefen/: offices test a file there; nothing is stored or moved."""
        return self.settings.share / "pruefen"

    def now(self) -> datetime:
        if self._clock is not None:
            return self._clock()
        return datetime.now(ZoneInfo(self.settings.timezone))

    def _roots(self) -> tuple[Path, ...]:
        s = self.settings
        return s.inbox, self.check_folder, s.processed, s.rejected

    def _root_for(self, path: Path) -> Path | None:
        """The watched folder `path` lies in (by its spelling: a link is never resolved to find out)."""
        absolute = os.path.abspath(path)
        for root in self._roots():
            base = os.path.abspath(root)
            if absolute.startswith(base + os.sep):
                return Path(base)
        return None

    def office_hint(self, path: Path) -> str | None:
        """The sub-folder of eingang/ (or pruefen/) a file was dropped into names the delivering office."""
        absolute = Path(os.path.abspath(path))
        for root in (self.settings.inbox, self.check_folder):
            try:
                rel = absolute.relative_to(os.path.abspath(root))
            except ValueError:
                continue
            return rel.parts[0] if len(rel.parts) > 1 else None
        return None

    def display_name(self, path: Path) -> str:
        """How the store and the notices name a delivered file: `Amt 61/name.csv` for one in a sub-folder."""
        hint = self.office_hint(path)
        name = files.readable(path.name)
        return f"{files.readable(hint)}/{name}" if hint else name

    _display_name = display_name

    # ------------------------------------------------------------------ the one place
    def process(self, path: Path, office_hint: str | None = None, *, keep_original: bool = False,
                may_reject: bool = True, notify: bool = True) -> IngestResult:
        """Import one file whole, or reject it whole. Never raises for anything in the file."""
        path = Path(path)
        with self._lock:
            self._quiet = not notify
            self._errors = []
            try:
                result = self._process(path, office_hint, keep_original, may_reject)
            finally:
                self._quiet = False
                errors, self._errors = self._errors, None
        if notify and result.status in (IMPORTED, DUPLICATE, REJECTED, REFUSED):
            self._notify(result)
        for notice in errors:
            self._send_alert(notice)  # after the verdict: first what happened, then what went wrong with it
        if notify and result.status == IMPORTED and self.sink is not None:
            self._sozialindex(result)  # social index hook: recompute, notice on "sehr niedrig"/"negativ"
        return result

    def _read(self, path: Path, limits: Limits) -> _Read | IngestResult:
        """The file's bytes, read through a descriptor that follows no link. Raises files.NotAFile."""
        name = files.readable(path.name)
        try:
            fd, st = files.open_file(path, self._root_for(path))
        except FileNotFoundError:
            return IngestResult(name, GONE)
        except files.Replaced:
            return IngestResult(name, RETRY)
        except OSError as exc:
            # Locked by the writer (SMB) or unreadable for now: try again later, do not reject.
            log.info("cannot read %s yet: %s", path, exc)
            return IngestResult(name, RETRY)
        sig = files.signature(st)
        try:
            with os.fdopen(fd, "rb") as fh:
                if st.st_size > limits.max_file_bytes:
                    return _Read(None, st.st_size, sig)  # not read at all: rejected on its size alone
                data = fh.read(limits.max_file_bytes + 1)
                after = os.fstat(fh.fileno())
        except OSError as exc:
            log.info("cannot read %s yet: %s", path, exc)
            return IngestResult(name, RETRY, signature=sig)
        if files.signature(after) != sig or len(data) != after.st_size:
            return IngestResult(name, RETRY, signature=files.signature(after))
        try:
            now = os.lstat(path)
        except OSError:
            return IngestResult(name, GONE)
        if files.signature(now) != sig:
            return IngestResult(name, RETRY, signature=files.signature(now))  # saved anew under the same name
        return _Read(data, len(data), sig, hashlib.sha256(data).hexdigest())

    def _judge(self, data: bytes, name: str, office_hint: str | None, limits: Limits) -> Checked:
        """The verdict on a file's content: one and the same for an import, a check and a re-read after a change."""
        return check_delivery(data, name, self.monitor.catalogue, office_hint=office_hint, limits=limits,
                              today=self.now().date(), series=self.monitor.store.series)

    @staticmethod
    def _too_big(size: int, limits: Limits) -> Checked:
        return Checked([], findings=(too_big(size, limits.max_file_bytes),))

    def _process(self, path: Path, office_hint: str | None, keep_original: bool, may_reject: bool) -> IngestResult:
        name = files.readable(path.name)
        limits = Limits.from_settings(self.settings.watcher)
        try:
            read = self._read(path, limits)
        except files.NotAFile as exc:
            return self._refuse(path, exc.kind, keep_original, office_hint)
        if isinstance(read, IngestResult):
            return read
        signature = read.signature
        tracked = None if keep_original else self._tracked(path, office_hint, signature)
        if tracked is not None and tracked.status == "":
            own = self._own(tracked)
            found = self.monitor.store.delivery(own) if own is not None else None
            if found is not None and found[0].content_hash != read.digest:
                # Imported before a crash (stored, not yet moved) and written on since: its final content
                # takes the place of what the incomplete state stored.
                return self._changed(path, tracked, read, limits)
        if read.data is None:
            checked = self._too_big(read.size, limits)
            if not may_reject:
                return IngestResult(name, HELD, findings=checked.findings, signature=signature)
            return self._reject(path, None, "", office_hint or "", checked, keep_original, signature,
                                tracked=tracked)
        data, digest = read.data, read.digest
        catalogue = self.monitor.catalogue

        known = self.monitor.store.delivery_by_hash(digest)
        if known is not None:
            return self._archive_duplicate(path, data, known, keep_original, digest, signature, tracked=tracked)

        checked = self._judge(data, name, office_hint, limits)
        if not checked.ok:
            if not may_reject:
                return IngestResult(name, HELD, findings=checked.findings, content_hash=digest, signature=signature)
            return self._reject(path, data, digest, checked.office or office_hint or "", checked, keep_original,
                                signature, tracked=tracked)

        received = self.now()
        # Announced before the store write: a crash before the move leaves a file the next start knows it stored.
        state = {"status": IMPORTED, "hash": digest, "stored": digest, "office": checked.office,
                 "rows": len(checked.rows)}
        self._announce(tracked, self._archive_folder(received), state)
        stored = self.monitor.store.add_delivery(
            file=self.display_name(path), content_hash=digest, office=checked.office, received=received,
            rows=checked.rows, measures=checked.measures)
        if stored.duplicate_of is not None:
            return self._archive_duplicate(path, data, self.monitor.store.delivery_by_hash(digest), keep_original,
                                           digest, signature, tracked=tracked)
        did = stored.delivery.id if stored.delivery else None
        moved = self._archive(path, data, received, keep_original, signature, tracked=tracked,
                              state={**state, "delivery": did})
        return IngestResult(name, IMPORTED, office=checked.office, rows=len(checked.rows), measures=checked.measures,
                            indicators=checked.indicators, delivery=did,
                            new=stored.new, replaced=stored.replaced, unchanged=stored.unchanged, moved_to=moved,
                            content_hash=digest, signature=signature, hints=percent_hints(name, checked, catalogue),
                            warnings=checked.warnings, tracked=tracked)

    # ------------------------------------------------------------------ follow-ups: files watched after a move
    def _tracked(self, path: Path, office_hint: str | None, signature: tuple[int, int, int]) -> Handled | None:
        """The follow-up entry for an inbox file about to be handled: the one left by a crash, or a new one."""
        if self.followups is None:
            return None
        entry = self.followups.at(path, signature[2])
        if entry is None:
            entry = Handled(FollowUps.new_key(), path, signature, time.time(),
                            arrived=self.monitor.store.last_delivery)
        entry.path, entry.signature, entry.hint = path, signature, office_hint
        entry.file, entry.display = files.readable(path.name), self.display_name(path)
        return entry

    def _own(self, tracked: Handled) -> int | None:
        """The delivery this file's content is stored as (withdrawn ones too), if any: the one its final content
        replaces. Checked against the store, which may have been rebuilt since."""
        store = self.monitor.store
        if tracked.delivery is not None:
            found = store.delivery(tracked.delivery)
            if found is not None and found[0].content_hash in (tracked.stored, tracked.attempt):
                return tracked.delivery
        for digest in (tracked.stored, tracked.attempt):
            known = store.delivery_by_hash(digest) if digest else None
            if known is not None:
                return known.id
        return None

    def _announce(self, tracked: Handled | None, folder: Path, state: dict[str, Any]) -> None:
        """Remember a move before it happens (see watchers.followup): where to, and what it will have handled."""
        if tracked is None or self.followups is None:
            return
        tracked.intent = {"folder": os.fsdecode(folder), **state}
        self.followups.record(tracked)

    def _settled(self, tracked: Handled | None, place: Path | None, state: dict[str, Any],
                 signature: tuple[int, int, int] | None) -> None:
        """After the move (or in place: `place` is where it lies): the handling is complete. `place` None: it
        stayed where it was, and is handled again later."""
        if tracked is None or self.followups is None:
            return
        tracked.intent = None
        if place is None:
            if state.get("status") == IMPORTED:
                tracked.attempt = str(state.get("hash", ""))
            if tracked.status or tracked.attempt or tracked.delivery is not None:
                self.followups.record(tracked)
            else:
                self.followups.drop(tracked.key)
            return
        tracked.path = place
        if signature is not None:
            tracked.signature = signature
        tracked.status, tracked.content_hash = str(state["status"]), str(state.get("hash", ""))
        if "delivery" in state:
            tracked.delivery = state["delivery"]
        if "stored" in state:
            tracked.stored = str(state["stored"] or "")
        tracked.office = str(state.get("office", tracked.office) or "")
        tracked.rows = int(state.get("rows", tracked.rows) or 0)
        if "report" in state:
            tracked.report = Path(state["report"]) if state["report"] else None
        tracked.attempt, tracked.handled = "", time.time()
        self.followups.record(tracked)

    def _withdraw(self, own: int | None) -> int:
        """Take back the values `own` holds (its file's final content does not hold them); how many."""
        if own is None:
            return 0
        found = self.monitor.store.delivery(own)
        if found is None or found[1]:
            return 0
        return self.monitor.store.withdraw_delivery(own, at=self.now()).withdrawn

    def _archive_folder(self, received: datetime) -> Path:
        return self.settings.processed / f"{received:%Y}" / f"{received:%m}"

    def _archive(self, path: Path, data: bytes, received: datetime, keep_original: bool,
                 signature: tuple[int, int, int] | None = None, *, tracked: Handled | None = None,
                 state: dict[str, Any] | None = None) -> Path | None:
        folder = self._archive_folder(received)
        if state is not None:
            self._announce(tracked, folder, state)
        moved: Path | None = None
        try:
            moved = _place(path, data, folder, path.name, move=not keep_original, expect=signature)
        except ChangedMeanwhile:
            log.info("%s was saved again while it was imported; its new content is read next", path)
        except OSError as exc:
            # Stored already: the file stays in the inbox and comes back as a duplicate, which archives it.
            log.warning("could not archive %s: %s", path, exc)
            self._send_alert(Notice("move_failed", {"file": files.readable(path.name),
                                                   "detail": exc.strerror or str(exc)}))
        if state is not None:
            self._settled(tracked, moved, state, signature)
        return moved

    def _archive_duplicate(self, path: Path, data: bytes, known: Delivery | None, keep_original: bool, digest: str,
                           signature: tuple[int, int, int], *, tracked: Handled | None = None) -> IngestResult:
        did = getattr(known, "id", None)
        state: dict[str, Any] = {"status": DUPLICATE, "hash": digest}
        if tracked is not None and did is not None and self._own(tracked) == did:
            state.update(delivery=did, stored=digest)  # its own import, before a crash: still its delivery
        moved = self._archive(path, data, self.now(), keep_original, signature, tracked=tracked, state=state)
        return IngestResult(files.readable(path.name), DUPLICATE, office=getattr(known, "office", ""),
                            rows=getattr(known, "rows", 0), measures=tuple(getattr(known, "measures", ())),
                            duplicate_of=did, moved_to=moved, content_hash=digest,
                            signature=signature, original=known, tracked=tracked)

    def _report(self, display: str, result: IngestResult) -> str:
        """The text of the report file on `result`: NAME.fehler.txt, or NAME.pruefung.txt for a check."""
        return self.words.report(result, display, self.now(), self.monitor.catalogue, self.lang)

    def _reject(self, path: Path, data: bytes | None, digest: str, office: str, checked: Checked,
                keep_original: bool, signature: tuple[int, int, int] | None, *,
                display: str | None = None, tracked: Handled | None = None) -> IngestResult:
        folder = self.settings.rejected
        result = IngestResult(files.readable(path.name), REJECTED, office=office, findings=checked.findings,
                              content_hash=digest, signature=signature, tracked=tracked)
        report_text = self._report(display or self.display_name(path), result)
        report: Path | None = None
        placed: Path | None = None
        state: dict[str, Any] = {"status": REJECTED, "hash": digest, "office": office}
        try:
            folder.mkdir(parents=True, exist_ok=True)
            # The report goes first: a crash before the move leaves the file waiting (rejected again later),
            # never a rejected file without its reason.
            # An orphaned report (its file deleted, or a crash before the move) is simply replaced.
            target = _unique(folder, path.name, reports=False)
            report = folder / (target.name + REPORT_SUFFIX)
            _write_text(report, report_text)
            self._announce(tracked, folder, {**state, "report": os.fsdecode(report)})
            # Its own report is already there: only another file may push it to a new name.
            try:
                placed = _place(path, data, folder, target.name, move=not keep_original, reports=False,
                                expect=signature)
            except ChangedMeanwhile:
                # Saved again (perhaps corrected) while it was judged: judge the new content instead.
                report.unlink()
                self._settled(tracked, None, state, signature)
                return IngestResult(files.readable(path.name), RETRY, signature=signature)
            if placed.name != target.name:
                os.replace(report, folder / (placed.name + REPORT_SUFFIX))
                report = folder / (placed.name + REPORT_SUFFIX)
        except OSError as exc:
            log.warning("could not move rejected %s: %s", path, exc)
            if report is not None:
                with contextlib.suppress(OSError):
                    report.unlink()  # no report for a file that is not beside it; the notice carries the problems
            self._send_alert(Notice("reject_move_failed", {"file": files.readable(path.name),
                                                          "detail": exc.strerror or str(exc)}))
            placed, report = None, None
        self._settled(tracked, placed, {**state, "report": os.fsdecode(report) if report else None}, signature)
        return replace(result, moved_to=placed, report=report)

    def _refuse(self, path: Path, kind: str, keep_original: bool, office_hint: str | None) -> IngestResult:
        """A link, FIFO, device or socket: never opened; the entry itself moves to abgelehnt/ with a report."""
        name = files.readable(path.name)
        try:
            sig: tuple[int, int, int] | None = files.signature(os.lstat(path))
        except OSError:
            sig = None
        result = IngestResult(name, REFUSED, office=office_hint or "", refused=kind, signature=sig)
        if keep_original or kind == files.LINKED_FOLDER:
            # Named on the command line (it stays where it is), or reached through a linked folder: moving it
            # would go through that link, so the link itself is what is moved aside, as an entry of its own.
            return result
        folder = self.settings.rejected
        report: Path | None = None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for _ in range(100):
                target = _unique(folder, path.name, reports=False)
                report = folder / (target.name + REPORT_SUFFIX)
                _write_text(report, self._report(self.display_name(path), result))
                try:
                    files.move_entry(path, target)  # a rename moves the link, never what it points to
                except FileExistsError:
                    continue
                return replace(result, moved_to=target, report=report)
            raise OSError(f"no free name for {name} in {folder}")
        except OSError as exc:
            log.warning("could not move %s (%s) aside: %s", path, kind, exc)
            if report is not None:
                with contextlib.suppress(OSError):
                    report.unlink()
            return result

    # ------------------------------------------------------------------ pruefen: judge only
    def check(self, path: Path, office_hint: str | None = None, *, may_reject: bool = True) -> IngestResult:
        """Judge one file exactly like an import, but store nothing and move nothing (`preview` results).

        IMPORTED here means "would be imported", with the counts the store would report (replaced = corrections).
        """
        path = Path(path)
        with self._lock:
            return self._check(path, office_hint, may_reject)

    def _check(self, path: Path, office_hint: str | None, may_reject: bool) -> IngestResult:
        name = files.readable(path.name)
        limits = Limits.from_settings(self.settings.watcher)
        try:
            read = self._read(path, limits)
        except files.NotAFile as exc:
            try:
                sig: tuple[int, int, int] | None = files.signature(os.lstat(path))
            except OSError:
                sig = None
            return IngestResult(name, REFUSED, refused=exc.kind, preview=True, signature=sig)
        if isinstance(read, IngestResult):
            return replace(read, preview=True)
        if read.data is None:
            checked = self._too_big(read.size, limits)
            status = REJECTED if may_reject else HELD
            return IngestResult(name, status, office=office_hint or "", findings=checked.findings, preview=True,
                                signature=read.signature)
        known = self.monitor.store.delivery_by_hash(read.digest)
        if known is not None:
            return IngestResult(name, DUPLICATE, office=known.office, rows=known.rows, measures=known.measures,
                                duplicate_of=known.id, content_hash=read.digest, preview=True,
                                signature=read.signature, original=known)
        checked = self._judge(read.data, name, office_hint, limits)
        if not checked.ok:
            return IngestResult(name, REJECTED if may_reject else HELD, office=checked.office or office_hint or "",
                                findings=checked.findings, content_hash=read.digest, preview=True,
                                signature=read.signature)
        new, replaced_, unchanged = self._counts(checked.rows)
        return IngestResult(name, IMPORTED, office=checked.office, rows=len(checked.rows), measures=checked.measures,
                            indicators=checked.indicators, new=new, replaced=replaced_, unchanged=unchanged,
                            content_hash=read.digest, preview=True, signature=read.signature,
                            hints=percent_hints(name, checked, self.monitor.catalogue))

    def _counts(self, rows: list[tuple[str, str, str, float | None, str, int]]) -> tuple[int, int, int]:
        """New, replaced (corrections) and unchanged values, as the store would count them on import."""
        store = self.monitor.store
        current: dict[str, dict[tuple[str, str], tuple[float | None, str]]] = {}
        for indicator in {r[0] for r in rows}:
            current[indicator] = {(o.area, o.period): (o.value, o.note) for o in store.observations(indicator)}
        new = replaced = unchanged = 0
        for indicator, area, period, value, note, _row in rows:
            old = current[indicator].get((area or "", period))
            if old is None:
                new += 1
            elif old == (value, note or ""):
                unchanged += 1
            else:
                replaced += 1
        return new, replaced, unchanged

    def check_report(self, path: Path, result: IngestResult) -> Path:
        """Write NAME.pruefung.txt beside the checked file: the verdict, and every problem when it would be rejected."""
        report = path.parent / check_report_name(path.name, files.name_max(path.parent))
        _write_text(report, self._report(self.display_name(path), replace(result, preview=True)))
        return report

    # ------------------------------------------------------------------ a writer that had only paused
    def recheck(self, tracked: Handled) -> IngestResult | None:
        """A file archived or rejected earlier, looked at again once quiet (its writer may only have paused):
        None when it still holds what was handled, else the result of handling its final content.

        The final content replaces what the incomplete state stored (the delivery keeps its place; values the
        final content lacks are withdrawn); a final content with errors moves the file to abgelehnt/ and withdraws
        the incomplete state's values; a rejected file whose final content is fine is imported and archived.
        """
        with self._lock:
            own = self._own(tracked)
            found = self.monitor.store.delivery(own) if own is not None else None
            before = found[0].indicators if found is not None else ()  # what a withdrawal would take back
            result = self._recheck(tracked)
        if result is not None and result.status in (IMPORTED, DUPLICATE, REJECTED):
            self._notify(result)
        if result is not None and (result.status == IMPORTED or result.withdrawn) and self.sink is not None:
            # Its values changed (replaced or taken back): the index follows, as after any import.
            self._sozialindex(replace(result, indicators=tuple(dict.fromkeys((*result.indicators, *before)))))
        return result

    def _recheck(self, tracked: Handled) -> IngestResult | None:
        limits = Limits.from_settings(self.settings.watcher)
        try:
            read = self._read(tracked.path, limits)
        except files.NotAFile:
            return None  # replaced by a link: nothing of ours to follow
        if isinstance(read, IngestResult):
            return read
        if read.digest == tracked.content_hash:
            return None
        return self._changed(tracked.path, tracked, read, limits)

    def _changed(self, path: Path, tracked: Handled, read: _Read, limits: Limits) -> IngestResult:
        """Handle the content of a file that differs from what was handled of it: in verarbeitet/ (imported or a
        duplicate), in abgelehnt/, or still in the inbox after a crash (imported, not yet moved)."""
        store = self.monitor.store
        name = tracked.file or files.readable(path.name)
        display = tracked.display or self.display_name(path)
        earlier = tracked.status or IMPORTED
        archived = tracked.status in (IMPORTED, DUPLICATE)
        old_report = tracked.report if tracked.status == REJECTED else None  # its reason, once it is archived
        own = self._own(tracked)
        after: dict[str, Any] = {"earlier": earlier, "tracked": tracked}
        if read.data is None:
            checked = self._too_big(read.size, limits)
        else:
            known = store.delivery_by_hash(read.digest)
            if known is not None:
                # Its final content is a delivery already: this file's own (stored before a crash), or another's.
                mine = known.id == own
                withdrawn = 0 if mine else self._withdraw(own)
                state: dict[str, Any] = {"status": IMPORTED if mine else DUPLICATE, "hash": read.digest,
                                         "office": known.office, "rows": known.rows, "report": None}
                if mine:
                    state.update(delivery=own, stored=read.digest)
                if archived:
                    moved: Path | None = path
                    self._settled(tracked, path, state, read.signature)
                else:
                    moved = self._archive(path, read.data, self.now(), False, read.signature, tracked=tracked,
                                          state=state)
                    if moved is not None:
                        self._drop(old_report)
                return IngestResult(name, str(state["status"]), office=known.office, rows=known.rows,
                                    measures=known.measures, duplicate_of=None if mine else known.id,
                                    delivery=own if mine else None, unchanged=known.rows if mine else 0,
                                    moved_to=moved, content_hash=read.digest, signature=read.signature,
                                    withdrawn=withdrawn, original=None if mine else known, **after)
            checked = self._judge(read.data, name, tracked.hint, limits)
        office = checked.office or tracked.hint or tracked.office
        if not checked.ok:
            withdrawn = self._withdraw(own)
            if tracked.status == REJECTED:
                report = tracked.report
                result = IngestResult(name, REJECTED, office=office, findings=checked.findings, moved_to=path,
                                      report=report, content_hash=read.digest, signature=read.signature,
                                      withdrawn=withdrawn, **after)
                if report is not None:
                    with contextlib.suppress(OSError):
                        _write_text(report, self._report(display, result))
                self._settled(tracked, path, {"status": REJECTED, "hash": read.digest, "office": office},
                              read.signature)
                return result
            rejected = self._reject(path, read.data, read.digest, office, checked, False, read.signature,
                                    display=display, tracked=tracked)
            if rejected.status != REJECTED:
                return rejected
            return replace(rejected, file=name, rows=tracked.rows, withdrawn=withdrawn, **after)
        assert read.data is not None
        received = self.now()
        state = {"status": IMPORTED, "hash": read.digest, "stored": read.digest, "office": checked.office,
                 "rows": len(checked.rows), "report": None}
        if not archived:
            self._announce(tracked, self._archive_folder(received), state)
        if own is not None:
            stored = store.replace_delivery(own, file=display, content_hash=read.digest, office=checked.office,
                                            received=received, rows=checked.rows, measures=checked.measures)
        else:
            # Stored only now, but it arrived earlier: a correction delivered meanwhile stays current.
            stored = store.add_delivery(file=display, content_hash=read.digest, office=checked.office,
                                        received=received, rows=checked.rows, measures=checked.measures,
                                        after=tracked.arrived)
        did = stored.delivery.id if stored.delivery else None
        state["delivery"] = did
        moved = path
        if archived:
            self._settled(tracked, path, state, read.signature)
        else:
            moved = self._archive(path, read.data, received, False, read.signature, tracked=tracked, state=state)
            if moved is not None:
                self._drop(old_report)
        return IngestResult(name, IMPORTED, office=checked.office, rows=len(checked.rows), measures=checked.measures,
                            indicators=checked.indicators, delivery=did, new=stored.new, replaced=stored.replaced,
                            unchanged=stored.unchanged, moved_to=moved, content_hash=read.digest,
                            signature=read.signature, hints=percent_hints(name, checked, self.monitor.catalogue),
                            warnings=checked.warnings, withdrawn=stored.withdrawn, **after)

    @staticmethod
    def _drop(report: Path | None) -> None:
        """Remove our own report of a rejection that no longer holds (never a delivered file)."""
        if report is not None and report.name.endswith(REPORT_SUFFIX):
            with contextlib.suppress(OSError):
                report.unlink()

    # ------------------------------------------------------------------ notices
    def recipients(self, office: str) -> tuple[str, ...]:
        names = [p.name for p in self.monitor.catalogue.office_persons(office)] if office else []
        return (ADMINS, *dict.fromkeys(names))

    def _notify(self, result: IngestResult) -> None:
        if self.sink is None:
            return
        try:
            notice = self.words.notice(result, self.monitor.catalogue, self.lang)
            self.sink(Outgoing(self.recipients(result.office), notice, kind="notice"))
        except Exception:  # a failing chat must not stop the import
            log.exception("notice for %s not delivered", result.file)

    def _sozialindex(self, result: IngestResult) -> None:
        """A delivery of a social-index indicator recomputes the index (kept in the store); a district newly in
        "sehr niedrig" or "negativ" is a notice to the admins. Only with a sink: without one nobody would hear
        of it, so the stored computation stays and the next announced one reports the move."""
        if not isinstance(self.monitor, IndexSource):
            return  # a source without the social index (the index lives in commands/, the bot wires it in)
        try:
            reply = self.monitor.after_import(result.indicators, self.now())
            if reply is not None and self.sink is not None:
                self.sink(Outgoing((ADMINS,), reply, kind="notice"))
        except Exception:  # the index must never cost an import
            log.exception("social index after %s not computed", result.file)

    def _send_alert(self, notice: Notice) -> None:
        if self.sink is None or self._quiet:
            return
        if self._errors is not None:
            self._errors.append(notice)
            return
        try:
            self.sink(Outgoing((ADMINS,), self.words.message(notice, self.lang), kind="error"))
        except Exception:
            log.exception("error notice not delivered")
