"""The words of the ingest: what watchers/ found and did (watchers/results.py) worded in the reader's language.

A finding is worded only when it is shown: the rejection report lists its problems, a notice its first three
problems or five warnings, the command line its first three. `IngestWording` is the renderer the pipeline is
handed (the `IngestWords` seam of watchers/seams.py): it words NAME.fehler.txt, NAME.pruefung.txt, the notices
to admins and offices, the operating notices and those of the protocols folder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from pathlib import PurePath
from typing import NamedTuple

from storage import fmt
from storage.catalogue import Catalogue
from storage.messages import Reply, ReplyBuilder, b
from storage.periods import Period, period_label
from watchers.results import DUPLICATE, FORMATS, GONE, IMPORTED, REFUSED, REJECTED, Finding, IngestResult, Notice

from .texts import catalogue, text

__all__ = [
    "CHECK_CODES",
    "INGEST_WORDS",
    "NOTICE_PROBLEMS",
    "NOTICE_WARNINGS",
    "REPORT_LIMIT",
    "IngestWording",
    "Words",
    "check_summary",
    "column",
    "describe",
    "expected",
    "finding_line",
    "format_report",
    "mb_text",
    "refusal",
    "render_findings",
    "suggestion",
    "where",
]

REPORT_LIMIT = 1000  # problems listed per report; a 200,000-row file with one wrong column would be unreadable
NOTICE_PROBLEMS = 3  # problems a rejection notice names (the report lists them all)
NOTICE_WARNINGS = 5  # warnings an import notice names
MB = 1024 * 1024


class Words(NamedTuple):
    """A finding in words: its message, what was found (None: not shown), expected and suggested."""

    message: str
    found: str | None
    expected: str
    suggestion: str


class _Params(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def mb_text(size: float, lang: str) -> str:
    """Bytes as megabytes the way people read them: 20, 0,5, 0,001 (de) or 0.001 (en)."""
    value = size / MB
    return fmt.number(round(value, 1 if value >= 1 else 3), lang, digits=3)


def _num(value: object, lang: str) -> str:
    return "" if value is None else fmt.number(value, lang, digits=6)  # type: ignore[arg-type]


def where(lang: str, sheet: str | None = None, row: int | None = None, column: str | None = None, *,
          letter: str | None = None, more: object = None) -> str:
    """Where in a file: 'Tabellenblatt „Daten“, Zeile 7 (und 2 weitere), Spalte „Wert“ (D)', or 'Datei'."""
    parts = [text(lang, "read.where.sheet", sheet=sheet)] if sheet else []
    if row is not None:
        parts.append(text(lang, "read.where.more_rows" if more else "read.where.row", row=row, more=more))
    if column:
        parts.append(text(lang, "read.where.column_letter" if letter else "read.where.column", column=column,
                             letter=letter))
    return ", ".join(parts) or text(lang, "read.where.file")


def _line(lang: str, place: str, *, message: str = "", found: str | None = None, expected: str | None = None,
          suggestion: str = "") -> str:
    """A problem as one line: where: message – found – expected. Suggestion. (`found` "" is "found nothing";
    None leaves it out, as does an `expected` of None.)"""
    parts = [message] if message else []
    if found is not None:
        parts.append(text(lang, "read.found", found=found) if found else text(lang, "read.found_nothing"))
    if expected is not None:
        parts.append(text(lang, "read.expected", expected=expected))
    out = f"{place}: " + " – ".join(parts) + "."
    return out + " " + text(lang, "read.suggestion", suggestion=suggestion) if suggestion else out


# ---------------------------------------------------------------------------------------------- findings
def _fill(finding: Finding, key: str, lang: str) -> str:
    """A reader's problem text (`code` is expected, `code.hint` the suggestion), filled from its params."""
    texts = catalogue(lang)
    template = texts.get(key, catalogue("de").get(key, ""))
    values = _Params(finding.params)
    values.update(found=finding.found or "", row=finding.row, column=finding.column, sheet=finding.sheet,
                  letter=finding.letter, formats=FORMATS)
    if "field" in finding.params:
        values["field_name"] = texts.get(f"read.field.{finding.params['field']}", finding.params["field"])
    if "style" in finding.params:
        values["style_name"] = texts.get(f"read.style.{finding.params['style']}", finding.params["style"])
    limit = finding.params.get("limit")
    if isinstance(limit, int) and not isinstance(limit, bool):  # a count in the reader's notation: 10.000.000
        values["limit"] = fmt.number(limit, lang, 0)
    return template.format_map(values)


def _area(area: object, lang: str) -> object:
    return area or text(lang, "ingest.whole_city")


def _closest(lang: str, p: Mapping[str, object]) -> str:
    return text(lang, "ingest.suggest.closest", name=p["near"]) if p.get("near") else ""


# The checks of watchers/validate.py: code -> (finding, lang) -> its words.
_Check = Callable[[Finding, str], Words]


def _unknown_measure(f: Finding, lang: str) -> Words:
    return Words(text(lang, "ingest.problem.unknown_measure", found=f.found), f.found,
                 text(lang, "ingest.expected.measure"), _closest(lang, f.params))


def _unknown_indicator(f: Finding, lang: str) -> Words:
    p = f.params
    hint = _closest(lang, p) + f" ({p['near_id']})" if p.get("near") else ""
    return Words(text(lang, "ingest.problem.unknown_indicator", found=f.found, measure=p["measure"]), f.found,
                 text(lang, "ingest.expected.indicator"), hint)


def _indicator_other_measure(f: Finding, lang: str) -> Words:
    p = f.params
    return Words(text(lang, "ingest.problem.indicator_other_measure", found=f.found, other=p["other"],
                      measure=p["measure"]), f.found, text(lang, "ingest.expected.indicator"), "")


def _period_frequency(f: Finding, lang: str) -> Words:
    p = f.params
    return Words(text(lang, "ingest.problem.period_frequency", found=f.found, frequency=p["frequency"]), f.found,
                 text(lang, "ingest.expected.period", frequency=p["frequency"], example=p["example"]), "")


def _period_not_ended(f: Finding, lang: str) -> Words:
    p = f.params
    last = p["last"].label(lang) if isinstance(p["last"], Period) else str(p["last"])
    end = fmt.day(p["end"], lang)  # type: ignore[arg-type]
    return Words(text(lang, "ingest.problem.period_not_ended", found=f.found, end=end), f.found,
                 text(lang, "ingest.expected.period_ended", last=last),
                 text(lang, "ingest.suggest.period_not_ended", end=end, last=last))


def _office_not_allowed(f: Finding, lang: str) -> Words:
    p = f.params
    return Words(text(lang, "ingest.problem.office_not_allowed", office=p["office"],
                      expected_office=p["expected_office"]), f.found,
                 text(lang, "ingest.expected.office", office=p["expected_office"]), "")


def _unknown_area(f: Finding, lang: str) -> Words:
    p = f.params
    hint = (text(lang, "ingest.suggest.area", name=p["near"], found=f.found) if p.get("near")
            else text(lang, "ingest.suggest.area_new"))
    return Words(text(lang, "ingest.problem.unknown_area", found=f.found), f.found,
                 text(lang, "ingest.expected.area", n=p["n"], examples=p["examples"]), hint)


def _unit_mismatch(f: Finding, lang: str) -> Words:
    p = f.params
    return Words(text(lang, "ingest.problem.unit_mismatch", found=f.found, indicator=p["indicator"], unit=p["unit"]),
                 f.found, text(lang, "ingest.expected.unit", unit=p["unit"]),
                 text(lang, "ingest.suggest.unit", unit=p["unit"]))


def _negative(f: Finding, lang: str) -> Words:
    p = f.params
    found = _num(p["value"], lang)
    return Words(text(lang, "ingest.problem.negative", found=found, indicator=p["indicator"], unit=p["unit"]), found,
                 text(lang, "ingest.expected.not_negative"), text(lang, "ingest.suggest.not_negative"))


def _conflicting_values(f: Finding, lang: str) -> Words:
    p = f.params
    return Words(text(lang, "ingest.problem.conflicting_values", other_row=p["other_row"]), _num(p["value"], lang),
                 text(lang, "ingest.expected.one_value", other_row=p["other_row"], other=_num(p["other"], lang) or "—",
                      indicator=p["indicator"], area=_area(p["area"], lang),
                      period=period_label(str(p["period"]), lang)),
                 text(lang, "ingest.suggest.conflicting_values", other_row=p["other_row"]))


def _too_big(f: Finding, lang: str) -> Words:
    p = f.params
    return Words(text(lang, "ingest.problem.too_big", size=mb_text(p["size"], lang),  # type: ignore[arg-type]
                      limit=mb_text(p["limit"], lang)), None, "", "")  # type: ignore[arg-type]


def _empty(f: Finding, lang: str) -> Words:
    return Words(text(lang, "ingest.problem.empty"), None, "", "")


def _unreadable(f: Finding, lang: str) -> Words:
    return Words(text(lang, "ingest.problem.unreadable", detail=f.params["detail"]), None, "", "")


def _repeated_rows(f: Finding, lang: str) -> Words:
    p = f.params
    if not p["others"]:
        return Words(text(lang, "ingest.note.repeated_row", earlier=p["earlier"]), None, "", "")
    return Words(text(lang, "ingest.note.repeated_rows", n=p["others"], earlier=p["earlier"]), None, "", "")


def _jump(f: Finding, lang: str) -> Words:
    p = f.params
    shown = _num(p["value"], lang)
    message = text(lang, "ingest.note.jump_up" if p["up"] else "ingest.note.jump_down", value=shown,
                   indicator=p["indicator"], area=_area(p["area"], lang), period=period_label(str(p["period"]), lang),
                   previous=_num(p["previous"], lang), previous_period=period_label(str(p["previous_period"]), lang))
    return Words(message, shown, "", text(lang, "ingest.suggest.jump"))


_CHECKS: dict[str, _Check] = {
    "unknown_measure": _unknown_measure,
    "unknown_indicator": _unknown_indicator,
    "indicator_other_measure": _indicator_other_measure,
    "period_frequency": _period_frequency,
    "period_not_ended": _period_not_ended,
    "office_not_allowed": _office_not_allowed,
    "unknown_area": _unknown_area,
    "unit_mismatch": _unit_mismatch,
    "negative": _negative,
    "conflicting_values": _conflicting_values,
    "too_big": _too_big,
    "empty": _empty,
    "unreadable": _unreadable,
    "repeated_rows": _repeated_rows,
    "jump": _jump,
}
_NOTES = frozenset({"repeated_rows", "jump"})  # warnings on a file imported all the same: nothing was expected
CHECK_CODES = frozenset(_CHECKS)  # the codes of the checks' findings, each worded here by its code


def describe(finding: Finding, lang: str = "de") -> Words:
    """A finding's words: a check's message, or a reader's problem's expected text and suggestion."""
    check = _CHECKS.get(finding.code)
    if check is not None:
        return check(finding, lang)
    return Words("", finding.found, _fill(finding, finding.code, lang), _fill(finding, finding.code + ".hint", lang))


def expected(finding: Finding, lang: str = "de") -> str:
    return describe(finding, lang).expected


def suggestion(finding: Finding, lang: str = "de") -> str:
    return describe(finding, lang).suggestion


def column(finding: Finding, lang: str = "de") -> str | None:
    """The column a finding names: its heading in the file, or its role in the reader's language."""
    if finding.column or not finding.role:
        return finding.column
    return text(lang, f"read.field.{finding.role}")


def finding_line(finding: Finding, lang: str = "de") -> str:
    """One finding as one line: where: message – found – expected. Suggestion."""
    words = describe(finding, lang)
    place = where(lang, finding.sheet, finding.row, column(finding, lang), letter=finding.letter,
                  more=finding.params.get("more"))
    if finding.code == "unreadable":
        return words.message  # nothing of the file could be placed
    if finding.code in _NOTES:
        out = f"{place}: {words.message}"
        return out + " " + text(lang, "read.suggestion", suggestion=words.suggestion) if words.suggestion else out
    if finding.code in _CHECKS:
        # A check at a row always says what it found ("nothing" for an empty cell); one of the whole file does not.
        found = words.found or ""
        return _line(lang, place, message=words.message, found=found if found or finding.row is not None else None,
                     expected=words.expected or None, suggestion=words.suggestion)
    return _line(lang, place, found=words.found, expected=words.expected, suggestion=words.suggestion)


def render_findings(findings: Sequence[Finding], lang: str, limit: int = REPORT_LIMIT) -> list[str]:
    """The numbered lines of a report, at most `limit` of them, and how many more there are."""
    lines = [f"{n}. {finding_line(f, lang)}" for n, f in enumerate(findings[:limit], 1)]
    if len(findings) > limit:
        lines.append(text(lang, "ingest.report.more", n=len(findings) - limit))
    return lines


def format_report(filename: str, problems: Sequence[Finding], lang: str = "de", limit: int = 200) -> str:
    """The reader's report on a file it could not read: a title line and one numbered line per problem."""
    texts = catalogue(lang)
    lines = [texts["read.report.title"].format(filename=filename, count=len(problems))]
    lines += [f"{n}. {finding_line(p, lang)}" for n, p in enumerate(problems[:limit], start=1)]
    if len(problems) > limit:
        lines.append(texts["read.report.more"].format(count=len(problems) - limit))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------- results
def _kind(kind: str, lang: str) -> str:
    """What an entry that is not a file is: a link, a FIFO, a device, a socket, …"""
    key = f"ingest.kind.{kind}"
    return text(lang, key if key in catalogue("de") else "ingest.kind.other")


def refusal(file: str, kind: str, lang: str, *, moved: bool | None) -> str:
    """The one sentence for an entry that is not a file; `moved` None: named on the command line."""
    what = _kind(kind, lang)
    key = "ingest.refused.cli" if moved is None else "ingest.refused.moved" if moved else "ingest.refused.left"
    return text(lang, key, file=file, what=what)


def check_summary(result: IngestResult, lang: str, *, first: bool = True) -> str:
    """What a check found, in one line: 'würde übernommen: 24 Werte, davon 3 Korrekturen' or why not
    (with `first`, a rejection names its first problem)."""
    if result.status == IMPORTED:
        return text(lang, "check.would_import", values=text(lang, "check.values", n=result.rows),
                    corrections=text(lang, "check.corrections", n=result.replaced))
    if result.status == DUPLICATE:
        return text(lang, "check.would_be_duplicate", delivery=result.duplicate_of)
    if result.status == REJECTED:
        if not first or not result.findings:
            return text(lang, "check.would_reject_short", n=len(result.findings))
        return text(lang, "check.would_reject", n=len(result.findings),
                    first=finding_line(result.findings[0], lang))
    if result.status == REFUSED:
        return refusal(result.file, result.refused, lang, moved=None)
    if result.status == GONE:
        return text(lang, "ingest.cli.missing_short")
    return text(lang, "ingest.cli.retry_short")


def _when(moment: datetime, lang: str) -> str:
    return f"{fmt.day(moment.date(), lang)} {moment:%H:%M}"


def _indicator_name(catalogue_: Catalogue, indicator: str) -> str:
    ind = catalogue_.indicators.get(indicator)
    return ind.name if ind else indicator


# Notices: the codes of the watcher, the pipeline and the protocols folder -> their texts.
_NOTICES = {
    "move_failed": "ingest.notice.move_failed",
    "reject_move_failed": "ingest.notice.reject_move_failed",
    "internal": "ingest.notice.internal",
    "share_unavailable": "watch.unavailable",
    "watch_limit": "watch.limit",
    "watch_failed": "watch.failed",
    "catalogue_refused": "cat.refused_reload",
    "catalogue_broken": "watch.catalogue_broken",
    "catalogue_problems": "watch.catalogue_problems",
    "catalogue_ok": "watch.catalogue_ok",
    "protocol_refused": "pf.refused",
    "protocol_unreadable": "pf.unreadable",
    "protocol_bad_name": "pf.bad_name",
    "protocol_unknown_measure": "pf.unknown_measure",
    "protocol_no_meeting": "pf.no_meeting",
    "protocol_reset": "pf.reset",
    "protocol_reset_admins": "pf.reset_admins",
    "protocol_updated": "pf.updated",
    "protocol_announce": "pf.announce",
    "protocol_recorded_admins": "pf.recorded_admins",
    "protocol_no_signatories": "pf.no_signatories",
}
_NUMBER_PARAMS = ("minutes", "interval")


def _notice_params(params: Mapping[str, object], lang: str) -> dict[str, object]:
    """A notice's parameters as its text shows them: numbers and days in the reader's notation, a list of days
    joined (or "none"), the kind of an entry that is not a file in words."""
    out: dict[str, object] = {}
    for key, value in params.items():
        if key in _NUMBER_PARAMS:
            value = fmt.number(float(value), lang)  # type: ignore[arg-type]
        elif isinstance(value, date):
            value = fmt.day(value, lang)
        elif isinstance(value, tuple) and all(isinstance(v, date) for v in value):
            value = ", ".join(fmt.day(v, lang) for v in value) or text(lang, "none")
        elif key == "kind":
            key, value = "what", _kind(str(value), lang)
        out[key] = value
    return out


class IngestWording:
    """The ingest's renderer (watchers.seams.IngestWords): results and notices in, the words people read out."""

    def report(self, result: IngestResult, file: str, when: datetime, catalogue_: Catalogue, lang: str, /) -> str:
        """NAME.pruefung.txt for a check (`preview`), else NAME.fehler.txt of a refused or rejected file."""
        if result.preview:
            lines = self._check_report(result, file, when, catalogue_, lang)
        elif result.status == REFUSED:
            lines = [text(lang, "ingest.report.refused_title", file=file, when=_when(when, lang)),
                     refusal(result.file, result.refused, lang, moved=True)]
        else:
            lines = [text(lang, "ingest.report.title", file=file, when=_when(when, lang))]
            if result.office:
                lines.append(text(lang, "ingest.report.office", office=result.office))
            lines += [text(lang, "ingest.report.whole"), "", text(lang, "ingest.report.count", n=len(result.findings))]
            lines += render_findings(result.findings, lang)
        return "\n".join(lines) + "\n"

    @staticmethod
    def _check_report(result: IngestResult, file: str, when: datetime, catalogue_: Catalogue,
                      lang: str) -> list[str]:
        lines = [text(lang, "check.report.title", file=file, when=_when(when, lang)), ""]
        if result.office:
            lines.append(text(lang, "ingest.report.office", office=result.office))
        lines.append(text(lang, "check.report.result", summary=check_summary(result, lang, first=False)))
        if result.status == IMPORTED:
            lines.append(text(lang, "ingest.notice.counts", new=result.new, replaced=result.replaced,
                              unchanged=result.unchanged))
            if result.measures:
                lines.append(text(lang, "check.report.measures", measures=", ".join(result.measures)))
            for indicator in result.hints:
                lines.append(text(lang, "ingest.notice.percent_hint",
                                  indicator=_indicator_name(catalogue_, indicator)))
            lines += ["", text(lang, "check.report.next_ok")]
        elif result.status == REJECTED:
            lines += ["", text(lang, "ingest.report.count", n=len(result.findings))]
            lines += render_findings(result.findings, lang)
            lines += ["", text(lang, "check.report.next_fix")]
        elif result.status == DUPLICATE:
            lines += ["", text(lang, "check.report.next_duplicate")]
        return [*lines, "", text(lang, "check.report.nothing_stored")]

    def notice(self, result: IngestResult, catalogue_: Catalogue, lang: str, /) -> Reply:
        """The notice to the admins and the delivering office about one imported, duplicate, rejected or refused
        file: only the findings it names are worded."""
        office = result.office or text(lang, "ingest.notice.no_office")
        out = ReplyBuilder()
        if result.earlier:
            key = "ingest.notice.changed_after_reject" if result.earlier == REJECTED else \
                "ingest.notice.changed_after_import"
            out.line(text(lang, key, file=result.file))
        if result.status == REFUSED:
            out.line(b(refusal(result.file, result.refused, lang, moved=result.moved_to is not None)))
        elif result.status == IMPORTED:
            out.line(b(text(lang, "ingest.notice.imported", file=result.file, office=office, rows=result.rows,
                            measures=", ".join(result.measures) or "—")))
            out.line(text(lang, "ingest.notice.counts", new=result.new, replaced=result.replaced,
                          unchanged=result.unchanged))
            if result.withdrawn:
                out.line(text(lang, "ingest.notice.partial_dropped", n=result.withdrawn))
            for indicator in result.hints:
                out.line(text(lang, "ingest.notice.percent_hint", indicator=_indicator_name(catalogue_, indicator)))
            if result.warnings:
                out.line(text(lang, "ingest.notice.warnings"))
                for warning in result.warnings[:NOTICE_WARNINGS]:
                    out.line(finding_line(warning, lang))
                if len(result.warnings) > NOTICE_WARNINGS:
                    out.line(text(lang, "ingest.notice.more_warnings", n=len(result.warnings) - NOTICE_WARNINGS))
        elif result.status == DUPLICATE:
            earlier = result.original
            out.line(text(lang, "ingest.notice.duplicate", file=result.file, office=office,
                          earlier=earlier.file if earlier else "?",
                          day=fmt.day(earlier.received.date(), lang) if earlier else "?"))
            if result.withdrawn:
                out.line(text(lang, "ingest.notice.partial_dropped", n=result.withdrawn))
        else:
            out.line(b(text(lang, "ingest.notice.rejected", file=result.file, office=office,
                            n=len(result.findings))))
            for line in render_findings(result.findings, lang, limit=NOTICE_PROBLEMS):
                out.line(line)
            if result.report is not None:
                out.line(text(lang, "ingest.notice.report", report=result.report.name))
            if result.withdrawn:
                out.line(text(lang, "ingest.notice.partial_withdrawn", n=result.withdrawn))
        return out.build()

    def message(self, notice: Notice, lang: str, /) -> Reply:
        """An operating notice for the admins: one sentence, then one line per catalogue problem."""
        out = ReplyBuilder().line(text(lang, _NOTICES[notice.code], **_notice_params(notice.params, lang)))
        for p in notice.problems:
            line = f":{p.line}" if getattr(p, "line", None) else ""
            try:
                detail = text(lang, p.code, **p.params)
            except (KeyError, IndexError, ValueError):
                detail = p.code
            out.line("• ", text(lang, "cli.problem", file=PurePath(p.file).name, line=line, message=detail))
        return out.build()


INGEST_WORDS = IngestWording()
