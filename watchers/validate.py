"""Checking a delivered file against the catalogue: pure, from bytes to store rows or findings."""

from __future__ import annotations

import difflib
import io
import re
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from commands.texts import catalogue as text_catalogue
from commands.texts import text
from storage.catalogue import Catalogue
from storage.models import Indicator

__all__ = ["Checked", "Finding", "Limits", "check_delivery", "office_key", "resolve_office"]

MB = 1024 * 1024


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


def _mb(size: int) -> str:
    return f"{size / MB:.1f}".rstrip("0").rstrip(".")


def _closest(word: str, candidates: Iterable[str]) -> str | None:
    by_key = {c.casefold(): c for c in candidates}
    match = difflib.get_close_matches(str(word).casefold(), list(by_key), n=1, cutoff=0.5)
    return by_key[match[0]] if match else None


def zip_finding(data: bytes, limits: Limits, lang: str) -> Finding | None:
    """XLSX and ODS are zip files: check the members' declared sizes before any engine unpacks them."""
    if not data.startswith(b"PK"):
        return None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        return Finding(text(lang, "ingest.problem.not_a_table", detail=type(exc).__name__), code="not_a_table")
    total = sum(m.file_size for m in members)
    if total > limits.max_unpacked_bytes or len(members) > 10_000:
        return Finding(text(lang, "ingest.problem.zip_bomb", size=_mb(total), limit=_mb(limits.max_unpacked_bytes)),
                       code="zip_bomb")
    return None


def _problem_finding(problem: object, lang: str) -> Finding:
    """The parser's Problem as a Finding; its message comes from the parser's own text module when it has one."""
    code = str(getattr(problem, "code", "") or "")
    texts = text_catalogue(lang)
    message = ""
    for key in (code, f"ingest.{code}", f"read.{code}", f"problem.{code}", f"ingest.problem.{code}"):
        if key and key in texts:
            try:
                message = text(lang, key, **{k: getattr(problem, k, "") for k in
                                             ("row", "column", "found", "expected", "suggestion", "sheet")})
            except (KeyError, IndexError, ValueError):
                message = texts[key]
            break
    row = getattr(problem, "row", None)
    return Finding(message=message or code, row=row if isinstance(row, int) else None,
                   column=str(getattr(problem, "column", "") or ""), found=str(getattr(problem, "found", "") or ""),
                   expected=str(getattr(problem, "expected", "") or ""),
                   suggestion=str(getattr(problem, "suggestion", "") or ""),
                   sheet=str(getattr(problem, "sheet", "") or ""), code=code)


def check_delivery(data: bytes, filename: str, catalogue: Catalogue, *, office_hint: str | None = None,
                   limits: Limits | None = None, lang: str = "de") -> Checked:
    """Parse and validate one file. Never raises: anything unreadable becomes a finding."""
    limits = limits or Limits()
    if len(data) > limits.max_file_bytes:
        return Checked([], findings=(Finding(text(lang, "ingest.problem.too_big", size=_mb(len(data)),
                                                  limit=_mb(limits.max_file_bytes)), code="too_big"),))
    bomb = zip_finding(data, limits, lang)
    if bomb is not None:
        return Checked([], findings=(bomb,))
    try:
        records, problems = parse_records(data, filename, limits)
    except Exception as exc:  # a parser bug or an engine's surprise must never stop the watcher
        return Checked([], findings=(Finding(text(lang, "ingest.problem.unreadable", detail=type(exc).__name__),
                                             code="unreadable"),))
    findings = [_problem_finding(p, lang) for p in problems]
    if len(records) > limits.max_rows:
        findings.insert(0, Finding(text(lang, "ingest.problem.too_many_rows", rows=len(records),
                                        limit=limits.max_rows), code="too_many_rows"))
        return Checked([], findings=tuple(findings))
    if not records and not findings:
        findings.append(Finding(text(lang, "ingest.problem.empty"), code="empty"))
    try:
        return _validate(records, findings, catalogue, office_hint, lang)
    except Exception as exc:
        return Checked([], findings=(*findings, Finding(text(lang, "ingest.problem.unreadable",
                                                             detail=type(exc).__name__), code="unreadable")))


def parse_records(data: bytes, filename: str, limits: Limits) -> tuple[list, list]:
    """The parser's records and problems (the parser lives in watchers/read.py)."""
    from . import read

    return read.parse_bytes(data, filename, max_rows=limits.max_rows)


_MISSING = object()


def _validate(records: list, findings: list[Finding], catalogue: Catalogue, office_hint: str | None,
              lang: str) -> Checked:
    from commands.periods import fit_to_frequency

    hint = resolve_office(catalogue, office_hint)
    measure_cache: dict[str, object] = {}
    indicator_cache: dict[tuple[str, str], object] = {}
    period_cache: dict[tuple[object, str], object] = {}
    office_cache: dict[str, str] = {}
    seen: dict[tuple[str, str, str], tuple[float | None, int]] = {}
    rows: list[tuple[str, str, str, float | None, str, int]] = []
    measures: set[str] = set()
    offices: Counter[str] = Counter()
    t = text

    def add(rec: object, column: str, found: object, expected: str, suggestion: str, message: str,
            code: str) -> None:
        findings.append(Finding(message=message, row=rec.row, column=column, found=str(found if found is not None
                                                                                        else ""),
                                expected=expected, suggestion=suggestion, sheet=str(rec.sheet or ""), code=code))

    for rec in records:
        mtext = str(rec.measure or "")
        measure = measure_cache.get(mtext, _MISSING)
        if measure is _MISSING:
            measure = measure_cache[mtext] = catalogue.measure(mtext)
        if measure is None:
            near = _closest(mtext, catalogue.measures)
            add(rec, "Maßnahme" if lang == "de" else "measure", mtext, t(lang, "ingest.expected.measure"),
                t(lang, "ingest.suggest.closest", name=near) if near else "",
                t(lang, "ingest.problem.unknown_measure", found=mtext), "unknown_measure")
            continue
        itext = str(rec.indicator or "")
        ikey = (measure.id, itext)
        indicator = indicator_cache.get(ikey, _MISSING)
        if indicator is _MISSING:
            indicator = indicator_cache[ikey] = _find_indicator(catalogue, measure.id, itext, lang)
        if not isinstance(indicator, Indicator):
            message, suggestion, code = indicator
            add(rec, "Indikator" if lang == "de" else "indicator", itext, t(lang, "ingest.expected.indicator"),
                suggestion, message, code)
            continue
        measures.add(measure.id)

        period = rec.period
        pkey = (period, indicator.frequency)
        fitted = period_cache.get(pkey, _MISSING)
        if fitted is _MISSING:
            fitted = period_cache[pkey] = fit_to_frequency(period, indicator.frequency) if period is not None \
                else None
        if fitted is None:
            if period is None and any(f.row == rec.row and f.code for f in findings[-3:]):
                continue  # the parser already reported this row's period
            example = _period_example(indicator.frequency)
            add(rec, "Zeitraum" if lang == "de" else "period", rec.period_text,
                t(lang, "ingest.expected.period", frequency=indicator.frequency, example=example), "",
                t(lang, "ingest.problem.period_frequency", found=rec.period_text, frequency=indicator.frequency)
                if period is not None else t(lang, "ingest.problem.no_period"),
                "period_frequency" if period is not None else "no_period")
            continue

        raw_office = rec.office or ""
        if raw_office:
            office = office_cache.get(raw_office)
            if office is None:
                office = office_cache[raw_office] = resolve_office(catalogue, raw_office)
        else:
            office = hint
        if office and indicator.office and office_key(office) != office_key(indicator.office):
            add(rec, "Amt" if lang == "de" else "office", raw_office or office_hint or office,
                t(lang, "ingest.expected.office", office=indicator.office), "",
                t(lang, "ingest.problem.office_not_allowed", office=office, expected_office=indicator.office),
                "office_not_allowed")
            continue
        offices[office or indicator.office] += 1

        area = str(rec.area or "")
        key = (indicator.id, area, fitted.key)
        value = rec.value
        earlier = seen.get(key)
        if earlier is not None:
            if earlier[0] != value:
                add(rec, "Wert" if lang == "de" else "value", value, "", "",
                    t(lang, "ingest.problem.conflicting_values", other_row=earlier[1]), "conflicting_values")
            continue
        seen[key] = (value, rec.row)
        rows.append((indicator.id, area, fitted.key, value, str(rec.note or ""), int(rec.row or 0)))

    if findings:
        return Checked([], findings=tuple(findings))
    office = hint or (offices.most_common(1)[0][0] if offices else "")
    return Checked(rows, tuple(sorted(measures)), tuple(sorted({r[0] for r in rows})), office, ())


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


def _period_example(frequency: str) -> str:
    return {"monatlich": "2018-09", "vierteljährlich": "2018-Q3", "halbjährlich": "2018-H2"}.get(frequency, "2018")
