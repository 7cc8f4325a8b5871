"""The ingest pipeline: one delivered file checked, stored once, then archived or rejected — in this one place."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from commands import fmt
from commands.reply import Reply, ReplyBuilder, b
from commands.texts import text

from .validate import Checked, Finding, Limits, check_delivery, finding, mb_text

__all__ = [
    "DUPLICATE",
    "GONE",
    "HELD",
    "IMPORTED",
    "REJECTED",
    "RETRY",
    "IngestResult",
    "Pipeline",
    "is_ignored",
    "render_findings",
]

log = logging.getLogger(__name__)

IMPORTED, DUPLICATE, REJECTED = "imported", "duplicate", "rejected"
RETRY = "retry"  # the file changed while it was read: still being written
HELD = "held"  # would be rejected, but the caller asked to look again before rejecting
GONE = "gone"  # vanished (or is no regular file) before it could be read

REPORT_SUFFIX = ".fehler.txt"
REPORT_LIMIT = 1000  # problems listed per report; a 200,000-row file with one wrong column would be unreadable


def is_ignored(name: str) -> bool:
    """Office temp and lock files, editor autosaves, partial downloads, hidden files and our own reports are
    never deliveries or protocols (one rule for the inbox and the protocols folder)."""
    lower = name.casefold()
    return name.startswith(("~$", ".")) or lower.endswith((".tmp", ".part", ".crdownload", "#", REPORT_SUFFIX))


@dataclass(frozen=True)
class IngestResult:
    """What happened to one file."""

    file: str
    status: str
    office: str = ""
    rows: int = 0
    measures: tuple[str, ...] = ()
    indicators: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    delivery: int | None = None
    duplicate_of: int | None = None
    new: int = 0
    replaced: int = 0
    unchanged: int = 0
    moved_to: Path | None = None
    report: Path | None = None
    content_hash: str = ""
    signature: tuple[int, int] | None = field(default=None, compare=False)  # (size, mtime_ns) that was read
    hints: tuple[str, ...] = ()  # imported, but worth a look (e.g. percent cells read as fractions)
    warnings: tuple[Finding, ...] = ()  # imported, but worth a look: repeated rows, jumps against the store

    @property
    def ok(self) -> bool:
        return self.status in (IMPORTED, DUPLICATE)


_SPREADSHEETS = (".xlsx", ".xlsm", ".ods")


def percent_hints(filename: str, checked: Checked, catalogue: Any) -> tuple[str, ...]:
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


def _signature(st: os.stat_result) -> tuple[int, int]:
    return st.st_size, st.st_mtime_ns


def _unique(folder: Path, name: str, *, reports: bool = True) -> Path:
    """`name`, or `stem_2.ext`, `stem_3.ext`, … — archives are never overwritten (nor another file's report)."""

    def free(candidate: Path) -> bool:
        return not candidate.exists() and not (reports and (folder / (candidate.name + REPORT_SUFFIX)).exists())

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


def _place(source: Path, data: bytes | None, folder: Path, name: str, *, move: bool, reports: bool = True,
           expect: tuple[int, int] | None = None) -> Path:
    """Move `source` (or copy it: `data`, or the file when None) into `folder` under a free name; never overwrites.

    With `expect` (size, mtime of what was read), a file saved again since is not moved: what would be archived
    must be what was stored or judged."""
    folder.mkdir(parents=True, exist_ok=True)
    for _ in range(1000):
        target = _unique(folder, name, reports=reports)
        if move:
            try:
                # link + unlink refuses to overwrite a file that appeared meanwhile; rename would replace it.
                os.link(source, target)
            except FileExistsError:
                continue
            except OSError:
                if target.exists():
                    continue
                shutil.move(str(source), str(target))  # shares without hard links, or another file system
                return target
            if expect is not None and _signature(os.stat(target)) != expect:
                os.unlink(target)
                raise ChangedMeanwhile(source)
            try:
                os.unlink(source)
            except OSError:
                os.unlink(target)  # not moved after all: no second copy in the archive on the next attempt
                raise
            return target
        tmp = folder / f".{target.name}.{os.getpid()}.part"
        if data is None:
            shutil.copyfile(source, tmp)
        else:
            with open(tmp, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        try:
            os.link(tmp, target)
        except FileExistsError:
            continue
        except OSError:
            if target.exists():
                continue
            os.replace(tmp, target)
            return target
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        return target
    raise OSError(f"no free name for {name} in {folder}")


def _write_text(path: Path, content: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    # utf-8-sig: Windows Notepad of the offices shows umlauts right only with the BOM.
    tmp.write_text(content, encoding="utf-8-sig", newline="\r\n")
    os.replace(tmp, path)


def render_finding(finding: Finding, lang: str) -> str:
    """One problem as one line: where – found – expected. Suggestion."""
    return finding.line or finding.message


def render_findings(findings: tuple[Finding, ...] | list[Finding], lang: str, limit: int = REPORT_LIMIT) -> list[str]:
    lines = [f"{n}. {render_finding(f, lang)}" for n, f in enumerate(findings[:limit], 1)]
    if len(findings) > limit:
        lines.append(text(lang, "ingest.report.more", n=len(findings) - limit))
    return lines


class Pipeline:
    """Check, store, archive: the only code that moves delivered files and writes deliveries to the store.

    `monitor` is anything with `settings`, `store` and `catalogue` (re-read on every file, so a reloaded
    catalogue applies at once). `sink` receives one Outgoing notice per imported, duplicate or rejected file.
    The store write comes BEFORE the move: a crash in between leaves the file waiting, and its re-import is
    recognised by its content hash as a duplicate and archived — each file counts exactly once.
    """

    def __init__(self, monitor: Any, sink: Callable[[Any], None] | None = None, *,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.monitor = monitor
        self.sink = sink
        self._clock = clock
        self._lock = threading.Lock()
        self._quiet = False  # a retry of a file that could not be archived: no second round of notices

    @property
    def settings(self) -> Any:
        return self.monitor.settings

    @property
    def lang(self) -> str:
        return self.settings.language

    def now(self) -> datetime:
        if self._clock is not None:
            return self._clock()
        return datetime.now(ZoneInfo(self.settings.timezone))

    def office_hint(self, path: Path) -> str | None:
        """The sub-folder of eingang/ a file was dropped into names the delivering office."""
        try:
            rel = path.resolve().relative_to(self.settings.inbox.resolve())
        except (ValueError, OSError):
            return None
        return rel.parts[0] if len(rel.parts) > 1 else None

    # ------------------------------------------------------------------ the one place
    def process(self, path: Path, office_hint: str | None = None, *, keep_original: bool = False,
                may_reject: bool = True, notify: bool = True) -> IngestResult:
        """Import one file whole, or reject it whole. Never raises for anything in the file."""
        path = Path(path)
        with self._lock:
            self._quiet = not notify
            try:
                result = self._process(path, office_hint, keep_original, may_reject)
            finally:
                self._quiet = False
        if notify and result.status in (IMPORTED, DUPLICATE, REJECTED):
            self._notify(result)
        if notify and result.status == IMPORTED and self.sink is not None:
            self._sozialindex(result)  # social index hook: recompute, notice on "sehr niedrig"/"negativ"
        return result

    def _process(self, path: Path, office_hint: str | None, keep_original: bool, may_reject: bool) -> IngestResult:
        name = path.name
        limits = Limits.from_settings(self.settings.watcher)
        try:
            st = path.stat()
        except OSError:
            return IngestResult(name, GONE)
        if not stat.S_ISREG(st.st_mode):
            return IngestResult(name, GONE)
        catalogue = self.monitor.catalogue
        lang = self.lang
        if st.st_size > limits.max_file_bytes:
            # Not read at all: a huge file is rejected on its size alone.
            checked = Checked([], findings=(finding(lang, "too_big", text(
                lang, "ingest.problem.too_big", size=mb_text(st.st_size, lang),
                limit=mb_text(limits.max_file_bytes, lang))),))
            if not may_reject:
                return IngestResult(name, HELD, findings=checked.findings, signature=_signature(st))
            return self._reject(path, None, "", office_hint or "", checked, keep_original, _signature(st))
        try:
            with open(path, "rb") as fh:
                data = fh.read(limits.max_file_bytes + 1)
            after = path.stat()
        except FileNotFoundError:
            return IngestResult(name, GONE)
        except OSError as exc:
            # Locked by the writer (SMB) or unreadable for now: try again later, do not reject.
            log.info("cannot read %s yet: %s", path, exc)
            return IngestResult(name, RETRY, signature=_signature(st))
        if _signature(after) != _signature(st) or len(data) != after.st_size:
            return IngestResult(name, RETRY, signature=_signature(after))
        signature = _signature(after)
        digest = hashlib.sha256(data).hexdigest()

        known = self.monitor.store.delivery_by_hash(digest)
        if known is not None:
            return self._archive_duplicate(path, data, known, keep_original, digest, signature)

        checked = check_delivery(data, name, catalogue, office_hint=office_hint, limits=limits, lang=lang,
                                 today=self.now().date(), series=self.monitor.store.series)
        if not checked.ok:
            if not may_reject:
                return IngestResult(name, HELD, findings=checked.findings, content_hash=digest, signature=signature)
            return self._reject(path, data, digest, checked.office or office_hint or "", checked, keep_original,
                                signature)

        received = self.now()
        stored = self.monitor.store.add_delivery(
            file=self._display_name(path), content_hash=digest, office=checked.office, received=received,
            rows=checked.rows, measures=checked.measures)
        if stored.duplicate_of is not None:
            return self._archive_duplicate(path, data, self.monitor.store.delivery_by_hash(digest), keep_original,
                                           digest, signature)
        moved = self._archive(path, data, received, keep_original, signature)
        return IngestResult(name, IMPORTED, office=checked.office, rows=len(checked.rows), measures=checked.measures,
                            indicators=checked.indicators, delivery=stored.delivery.id if stored.delivery else None,
                            new=stored.new, replaced=stored.replaced, unchanged=stored.unchanged, moved_to=moved,
                            content_hash=digest, signature=signature, hints=percent_hints(name, checked, catalogue),
                            warnings=checked.warnings)

    def _display_name(self, path: Path) -> str:
        hint = self.office_hint(path)
        return f"{hint}/{path.name}" if hint else path.name

    def _archive(self, path: Path, data: bytes, received: datetime, keep_original: bool,
                 signature: tuple[int, int] | None = None) -> Path | None:
        folder = self.settings.processed / f"{received:%Y}" / f"{received:%m}"
        try:
            return _place(path, data, folder, path.name, move=not keep_original, expect=signature)
        except ChangedMeanwhile:
            log.info("%s was saved again while it was imported; its new content is read next", path)
            return None
        except OSError as exc:
            # Stored already: the file stays in the inbox and comes back as a duplicate, which archives it.
            log.warning("could not archive %s: %s", path, exc)
            self._send_error(text(self.lang, "ingest.notice.move_failed", file=path.name, detail=exc.strerror or exc))
            return None

    def _archive_duplicate(self, path: Path, data: bytes, known: Any, keep_original: bool, digest: str,
                           signature: tuple[int, int]) -> IngestResult:
        moved = self._archive(path, data, self.now(), keep_original, signature)
        return IngestResult(path.name, DUPLICATE, office=getattr(known, "office", ""),
                            rows=getattr(known, "rows", 0), measures=tuple(getattr(known, "measures", ())),
                            duplicate_of=getattr(known, "id", None), moved_to=moved, content_hash=digest,
                            signature=signature)

    def _reject(self, path: Path, data: bytes | None, digest: str, office: str, checked: Checked,
                keep_original: bool, signature: tuple[int, int]) -> IngestResult:
        lang = self.lang
        folder = self.settings.rejected
        when = self.now()
        report_lines = [text(lang, "ingest.report.title", file=self._display_name(path),
                             when=f"{fmt.day(when.date(), lang)} {when:%H:%M}")]
        if office:
            report_lines.append(text(lang, "ingest.report.office", office=office))
        report_lines += [text(lang, "ingest.report.whole"), "", text(lang, "ingest.report.count",
                                                                     n=len(checked.findings))]
        report_lines += render_findings(checked.findings, lang)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            # The report goes first: a crash before the move leaves the file waiting (rejected again later),
            # never a rejected file without its reason.
            # An orphaned report (its file deleted, or a crash before the move) is simply replaced.
            target = _unique(folder, path.name, reports=False)
            report = folder / (target.name + REPORT_SUFFIX)
            _write_text(report, "\n".join(report_lines) + "\n")
            # Its own report is already there: only another file may push it to a new name.
            try:
                placed = _place(path, data, folder, target.name, move=not keep_original, reports=False,
                                expect=signature)
            except ChangedMeanwhile:
                # Saved again (perhaps corrected) while it was judged: judge the new content instead.
                report.unlink()
                return IngestResult(path.name, RETRY, signature=signature)
            if placed.name != target.name:
                os.replace(report, folder / (placed.name + REPORT_SUFFIX))
                report = folder / (placed.name + REPORT_SUFFIX)
        except OSError as exc:
            log.warning("could not move rejected %s: %s", path, exc)
            self._send_error(text(lang, "ingest.notice.move_failed", file=path.name, detail=exc.strerror or exc))
            placed, report = None, None
        return IngestResult(path.name, REJECTED, office=office, findings=checked.findings, moved_to=placed,
                            report=report, content_hash=digest, signature=signature)

    # ------------------------------------------------------------------ notices
    def recipients(self, office: str) -> tuple[str, ...]:
        from commands.outgoing import ADMINS

        names = [p.name for p in self.monitor.catalogue.office_persons(office)] if office else []
        return (ADMINS, *dict.fromkeys(names))

    def notice(self, result: IngestResult) -> Reply:
        lang = self.lang
        office = result.office or text(lang, "ingest.notice.no_office")
        out = ReplyBuilder()
        if result.status == IMPORTED:
            out.line(b(text(lang, "ingest.notice.imported", file=result.file, office=office, rows=result.rows,
                            measures=", ".join(result.measures) or "—")))
            out.line(text(lang, "ingest.notice.counts", new=result.new, replaced=result.replaced,
                          unchanged=result.unchanged))
            for indicator in result.hints:
                ind = self.monitor.catalogue.indicators.get(indicator)
                out.line(text(lang, "ingest.notice.percent_hint", indicator=ind.name if ind else indicator))
            if result.warnings:
                out.line(text(lang, "ingest.notice.warnings"))
                for warning in result.warnings[:5]:
                    out.line(warning.line)
                if len(result.warnings) > 5:
                    out.line(text(lang, "ingest.notice.more_warnings", n=len(result.warnings) - 5))
        elif result.status == DUPLICATE:
            earlier = next((d for d in self.monitor.store.deliveries() if d.id == result.duplicate_of), None)
            out.line(text(lang, "ingest.notice.duplicate", file=result.file, office=office,
                          earlier=earlier.file if earlier else "?",
                          day=fmt.day(earlier.received.date(), lang) if earlier else "?"))
        else:
            out.line(b(text(lang, "ingest.notice.rejected", file=result.file, office=office,
                            n=len(result.findings))))
            for line in render_findings(result.findings, lang, limit=3):
                out.line(line)
            if result.report is not None:
                out.line(text(lang, "ingest.notice.report", report=result.report.name))
        return out.build()

    def _notify(self, result: IngestResult) -> None:
        if self.sink is None:
            return
        from commands.outgoing import Outgoing

        try:
            self.sink(Outgoing(self.recipients(result.office), self.notice(result), kind="notice"))
        except Exception:  # a failing chat must not stop the import
            log.exception("notice for %s not delivered", result.file)

    def _sozialindex(self, result: IngestResult) -> None:
        """A delivery of a social-index indicator recomputes the index (kept in the store); a district newly in
        "sehr niedrig" or "negativ" is a notice to the admins. Only with a sink: without one nobody would hear
        of it, so the stored computation stays and the next announced one reports the move."""
        from commands.outgoing import ADMINS, Outgoing
        from commands.sozialindex import after_delivery
        from commands.state import State

        try:
            state = State(self.monitor.catalogue, self.monitor.store, self.settings)
            reply = after_delivery(state, result.indicators, self.now())
            if reply is not None and self.sink is not None:
                self.sink(Outgoing((ADMINS,), reply, kind="notice"))
        except Exception:  # the index must never cost an import
            log.exception("social index after %s not computed", result.file)

    def _send_error(self, message: str) -> None:
        if self.sink is None or self._quiet:
            return
        from commands.outgoing import ADMINS, Outgoing

        try:
            self.sink(Outgoing((ADMINS,), ReplyBuilder().line(message).build(), kind="error"))
        except Exception:
            log.exception("error notice not delivered")
