"""Checking a delivered file against the catalogue: pure, from bytes to store rows or findings."""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from commands import texts_ingest
from commands.texts import text
from storage.catalogue import Catalogue
from storage.models import Indicator

__all__ = ["Checked", "Finding", "Limits", "check_delivery", "finding", "mb_text", "office_key", "resolve_office"]

MB = 1024 * 1024


log = logging.getLogger(__name__)

@dataclass(frozen=True)
class Finding:
    """One reason to reject a file, ready to print: where, what was found, what was expected, a suggestion."""

    message: str
    row: int | None = None
    column: str = ""
    found: str = ""
    expected: str = ""
    suggestion: str = ""
    sheet: str = ""
    code: str = ""
    line: str = ""  # the whole problem as one line (where: found – expected. suggestion)


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 20 * MB
    max_rows: int = 200_000
    max_unpacked_bytes: int = 200 * MB

    @classmethod
    def from_settings(cls, watcher: object) -> Limits:
        return cls(max_file_bytes=int(float(watcher.max_file_mb) * MB), max_rows=int(watcher.max_rows),
                   max_unpacked_bytes=int(float(watcher.max_unpacked_mb) * MB))


@dataclass(frozen=True)
class Checked:
    """The outcome of checking one file: store rows when `findings` is empty."""

    rows: list[tuple[str, str, str, float | None, str, int]]
    measures: tuple[str, ...] = ()
    indicators: tuple[str, ...] = ()
    office: str = ""
    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.findings


def office_key(name: str) -> str:
    """'Amt 61', 'amt61' and 'AMT_61' are the same office."""
    return re.sub(r"[\W_]+", "", str(name).casefold())


def resolve_office(catalogue: Catalogue, name: str | None) -> str:
    """The catalogue id of an office named by id or full name; the text itself when the catalogue has no match."""
    if not name or not str(name).strip():
        return ""
    key = office_key(name)
    for office in catalogue.offices.values():
        if key in (office_key(office.id), office_key(office.name)):
            return office.id
    return " ".join(str(name).split())


def mb_text(size: float, lang: str) -> str:
    """Bytes as megabytes the way people read them: 20, 0,5, 0,001 (de) or 0.001 (en)."""
    from commands.fmt import number

    value = size / MB
    return number(round(value, 1 if value >= 1 else 3), lang, digits=3)


def _closest(word: str, candidates: Iterable[str]) -> str | None:
    by_key = {c.casefold(): c for c in candidates}
    match = difflib.get_close_matches(str(word).casefold(), list(by_key), n=1, cutoff=0.5)
    return by_key[match[0]] if match else None


def _rt(lang: str, key: str, **params: object) -> str:
    """A text of the reading layer (commands/texts_ingest.py), which watchers/read.py uses directly."""
    texts = texts_ingest.EN if lang == "en" else texts_ingest.DE
    template = texts.get(key) or texts_ingest.DE[key]
    return template.format(**params) if params else template


def _line(lang: str, message: str, row: int | None, column: str, found: str, expected: str, suggestion: str,
          sheet: str) -> str:
    """The parser's one-line form (watchers/read.py Problem.text), with our message in front."""
    where = []
    if sheet:
        where.append(_rt(lang, "read.where.sheet", sheet=sheet))
    if row is not None:
        where.append(_rt(lang, "read.where.row", row=row))
    if column:
        where.append(_rt(lang, "read.where.column", column=column))
    parts = [message]
    if found:
        parts.append(_rt(lang, "read.found", found=found))
    elif row is not None:
        parts.append(_rt(lang, "read.found_nothing"))
    if expected:
        parts.append(_rt(lang, "read.expected", expected=expected))
    line = f"{', '.join(where) or _rt(lang, 'read.where.file')}: " + " – ".join(parts) + "."
    if suggestion:
        line += " " + _rt(lang, "read.suggestion", suggestion=suggestion)
    return line


def finding(lang: str, code: str, message: str, *, row: int | None = None, column: str = "", found: object = "",
            expected: str = "", suggestion: str = "", sheet: str = "") -> Finding:
    found_text = "" if found is None else str(found)
    return Finding(message, row, column, found_text, expected, suggestion, sheet, code,
                   _line(lang, message, row, column, found_text, expected, suggestion, sheet))


def _problem_finding(problem: Any, lang: str) -> Finding:
    """The parser's Problem as a Finding, its texts in the workspace's language."""
    return Finding(message="", row=problem.row, column=problem.column or "", found=problem.found or "",
                   expected=problem.expected_text(lang), suggestion=problem.suggestion_text(lang),
                   sheet=problem.sheet or "", code=problem.code, line=problem.text(lang))


def check_delivery(data: bytes, filename: str, catalogue: Catalogue, *, office_hint: str | None = None,
                   limits: Limits | None = None, lang: str = "de") -> Checked:
    """Parse and validate one file. Never raises: anything unreadable becomes a finding."""
    from .read import gc_paused

    limits = limits or Limits()
    try:
        with gc_paused():
            return _check(data, filename, catalogue, office_hint, limits, lang)
    except Exception as exc:  # a parser bug or an engine's surprise must never stop the watcher
        log.exception("checking %s failed unexpectedly; the file is rejected as unreadable", filename)
        message = text(lang, "ingest.problem.unreadable", detail=type(exc).__name__)
        return Checked([], findings=(Finding(message, code="unreadable", line=message),))


def _check(data: bytes, filename: str, catalogue: Catalogue, office_hint: str | None, limits: Limits,
           lang: str) -> Checked:
    if len(data) > limits.max_file_bytes:
        message = text(lang, "ingest.problem.too_big", size=mb_text(len(data), lang),
                       limit=mb_text(limits.max_file_bytes, lang))
        return Checked([], findings=(finding(lang, "too_big", message),))
    records, problems = parse_records(data, filename, limits)
    findings = [_problem_finding(p, lang) for p in problems]
    if not records and not findings:
        findings.append(finding(lang, "empty", text(lang, "ingest.problem.empty")))
    return _validate(records, findings, catalogue, office_hint, lang)


def parse_records(data: bytes, filename: str, limits: Limits) -> tuple[list, list]:
    """The parser's records and problems (the parser lives in watchers/read.py)."""
    from .read import read_records

    return read_records(data, filename, max_rows=limits.max_rows, max_unpacked_bytes=limits.max_unpacked_bytes)


_OK, _SKIP, _PROBLEM = 0, 1, 2


def _validate(records: list, findings: list[Finding], catalogue: Catalogue, office_hint: str | None,
              lang: str) -> Checked:
    """Records against the catalogue. Rows repeat a few (measure, indicator, period, office) combinations
    thousands of times: each combination is judged once, then every row costs two dict look-ups."""
    hint = resolve_office(catalogue, office_hint)
    verdicts: dict[tuple, tuple] = {}
    seen: dict[tuple[str, str, str], tuple[float | None, int]] = {}
    rows: list[tuple[str, str, str, float | None, str, int]] = []
    col = {f: _rt(lang, f"read.field.{f}") for f in ("measure", "indicator", "period", "value", "office")}
    judge = _Judge(catalogue, hint, office_hint, lang, col)

    fast = None if findings else _all_good(records, judge)
    if fast is not None:
        verdicts, rows = fast
        records = ()  # nothing left to check row by row
    for rec in records:
        key = (rec.measure, rec.indicator, rec.period_text, rec.office, rec.flawed)
        verdict = verdicts.get(key)
        if verdict is None:
            verdict = verdicts[key] = judge(rec)
        if verdict[0] == _OK:
            area = rec.area or ""
            ind, period = verdict[1], verdict[2]
            value = rec.value
            earlier = seen.get((ind, area, period))
            if earlier is None:
                seen[(ind, area, period)] = (value, rec.row)
                rows.append((ind, area, period, value, rec.note or "", rec.row))
            elif earlier[0] != value:
                findings.append(finding(lang, "conflicting_values", text(
                    lang, "ingest.problem.conflicting_values", other_row=earlier[1]), row=rec.row,
                    column=col["value"], found="" if value is None else value, sheet=rec.sheet or ""))
        elif verdict[0] == _PROBLEM:
            _, column, found, expected, suggestion, message, code = verdict
            findings.append(finding(lang, code, message, row=rec.row, column=column, found=found, expected=expected,
                                    suggestion=suggestion, sheet=rec.sheet or ""))

    if findings:
        return Checked([], findings=tuple(findings))
    good = [v for v in verdicts.values() if v[0] == _OK]
    offices = sorted({v[3] for v in good if v[3]})
    office = hint or (offices[0] if len(offices) == 1 else ", ".join(offices))
    return Checked(rows, tuple(sorted({v[4] for v in good})), tuple(sorted(set(map(itemgetter(0), rows)))), office, ())


_KEY = itemgetter(2, 3, 5, 9, 12)  # Record: measure, indicator, period_text, office, flawed
_ROW, _AREA, _VALUE, _NOTE = itemgetter(0), itemgetter(4), itemgetter(7), itemgetter(10)
_FIRST, _SECOND = itemgetter(0), itemgetter(1)
_EMPTY_NONE = {None: ""}  # .get(x, x): None -> "", anything else as it is


def _all_good(records: list, judge: _Judge) -> tuple[dict[tuple, tuple], list[tuple]] | None:
    """The common case in bulk: every combination fine and no (indicator, area, period) twice.

    The verdicts (each judged on the first record of its combination, like the row-by-row loop) and
    the store rows, or None: then the loop in _validate goes row by row and reports what it finds."""
    keys = list(map(_KEY, records))
    first = dict(zip(reversed(keys), reversed(records), strict=True))  # the earliest record wins
    # Judged on the same record as in the loop; the order of the verdicts matters nowhere (sets, sorted).
    verdicts = {key: judge(rec) for key, rec in first.items()}
    if any(v[0] != _OK for v in verdicts.values()):
        return None
    # Column by column: indicator and period from the verdicts, None area/note as "".
    indicator_period = list(map({k: (v[1], v[2]) for k, v in verdicts.items()}.__getitem__, keys))
    indicators = list(map(_FIRST, indicator_period))
    periods = list(map(_SECOND, indicator_period))
    areas = list(map(_EMPTY_NONE.get, map(_AREA, records), map(_AREA, records)))
    if len(set(zip(indicators, areas, periods, strict=True))) != len(records):
        return None  # a repeated value (same or conflicting): the loop sorts it out
    notes = map(_EMPTY_NONE.get, map(_NOTE, records), map(_NOTE, records))
    rows = list(zip(indicators, areas, periods, map(_VALUE, records), notes, map(_ROW, records), strict=True))
    return verdicts, rows


class _Judge:
    """Judges one combination of measure, indicator, period and office against the catalogue."""

    def __init__(self, catalogue: Catalogue, hint: str, office_hint: str | None, lang: str,
                 col: dict[str, str]) -> None:
        self.catalogue, self.hint, self.office_hint, self.lang, self.col = catalogue, hint, office_hint, lang, col

    def __call__(self, rec: Any) -> tuple:
        from commands.periods import example as period_example
        from commands.periods import fit_to_frequency

        catalogue, lang, col, t = self.catalogue, self.lang, self.col, text
        mtext = str(rec.measure or "")
        if not mtext or not rec.indicator:
            return (_SKIP,)  # the parser has reported the empty cell
        measure = catalogue.measure(mtext)
        if measure is None:
            near = _closest(mtext, catalogue.measures)
            return (_PROBLEM, col["measure"], mtext, t(lang, "ingest.expected.measure"),
                    t(lang, "ingest.suggest.closest", name=near) if near else "",
                    t(lang, "ingest.problem.unknown_measure", found=mtext), "unknown_measure")
        itext = str(rec.indicator)
        indicator = _find_indicator(catalogue, measure.id, itext, lang)
        if not isinstance(indicator, Indicator):
            message, suggestion, code = indicator
            return (_PROBLEM, col["indicator"], itext, t(lang, "ingest.expected.indicator"), suggestion, message, code)
        if rec.period is None:
            return (_SKIP,)  # the parser has reported this row's period
        fitted = fit_to_frequency(rec.period, indicator.frequency)
        if fitted is None:
            return (_PROBLEM, col["period"], rec.period_text,
                    t(lang, "ingest.expected.period", frequency=indicator.frequency,
                      example=period_example(indicator.frequency)), "",
                    t(lang, "ingest.problem.period_frequency", found=rec.period_text, frequency=indicator.frequency),
                    "period_frequency")
        office = resolve_office(catalogue, rec.office) if rec.office else self.hint
        if office and indicator.office and office_key(office) != office_key(indicator.office):
            return (_PROBLEM, col["office"], rec.office or self.office_hint or office,
                    t(lang, "ingest.expected.office", office=indicator.office), "",
                    t(lang, "ingest.problem.office_not_allowed", office=office, expected_office=indicator.office),
                    "office_not_allowed")
        if rec.flawed:
            return (_SKIP,)  # its value problem is in the parser's list
        return (_OK, indicator.id, fitted.key, office or indicator.office, measure.id)


def _find_indicator(catalogue: Catalogue, measure: str, name: str, lang: str) -> Indicator | tuple[str, str, str]:
    found = catalogue.find_indicator(measure, name)
    if found is not None:
        return found
    elsewhere = catalogue.find_indicator(None, name)
    if elsewhere is not None:
        return (text(lang, "ingest.problem.indicator_other_measure", found=name, other=elsewhere.measure,
                     measure=measure), "", "indicator_other_measure")
    own = catalogue.indicators_of(measure)
    by_name = {i.name: i for i in own} | {i.id: i for i in own}
    near = _closest(name, by_name)
    suggestion = ""
    if near is not None:
        ind = by_name[near]
        suggestion = text(lang, "ingest.suggest.closest", name=ind.name) + f" ({ind.id})"
    return text(lang, "ingest.problem.unknown_indicator", found=name, measure=measure), suggestion, "unknown_indicator"
