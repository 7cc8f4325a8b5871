"""Checking a delivered file against the catalogue: pure, from bytes to store rows or findings.

Nothing is worded here: a finding is a code, its parameters and its place (watchers/results.py); the words are
commands/ingest_words.py's, when the finding is shown.
"""

from __future__ import annotations

import difflib
import logging
import re
import sys
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from itertools import repeat
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from storage.catalogue import Catalogue
from storage.config import WatcherSettings
from storage.models import Indicator
from storage.periods import Period, fit_to_frequency, period_containing, previous
from storage.periods import example as period_example
from storage.store import Rows, SeriesReader

from .results import Finding

if TYPE_CHECKING:  # the reader (and pandas with it) is imported only when a file is checked
    from .read import Record, Records
    from .seams import Row

__all__ = [
    "Checked",
    "Finding",
    "Limits",
    "Series",
    "check_delivery",
    "decide_ambiguous",
    "jump_warnings",
    "office_key",
    "resolve_office",
    "unit_kind",
    "units_agree",
]

# The store's current values of one indicator: area -> [(period, value, note)] in period order (Store.series).
Series = Callable[[str], Mapping[str, Sequence[tuple[str, float | None, str]]]]

MB = 1024 * 1024


log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 20 * MB
    max_rows: int = 200_000
    max_unpacked_bytes: int = 200 * MB

    @classmethod
    def from_settings(cls, watcher: WatcherSettings) -> Limits:
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
    warnings: tuple[Finding, ...] = ()  # imported all the same, but worth a look: repeated rows, jumps

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


def _closest(word: str, candidates: Iterable[str]) -> str | None:
    by_key = {c.casefold(): c for c in candidates}
    match = difflib.get_close_matches(str(word).casefold(), list(by_key), n=1, cutoff=0.5)
    return by_key[match[0]] if match else None


def too_big(size: int, limit: int) -> Finding:
    """A file larger than the limit (in bytes): rejected unread."""
    return Finding("too_big", {"size": size, "limit": limit})


def check_delivery(data: bytes, filename: str, catalogue: Catalogue, *, office_hint: str | None = None,
                   limits: Limits | None = None, today: date | None = None,
                   series: Series | None = None) -> Checked:
    """Parse and validate one file. Never raises: anything unreadable becomes a finding.

    `today` (the caller's clock) rejects periods that have not ended yet; `series` (the store's values)
    lets a jump beyond ×10 or below ÷10 of a series' previous value become a warning. Without them,
    those two checks are left out."""
    from .read import gc_paused

    limits = limits or Limits()
    try:
        with gc_paused():
            return _check(data, filename, catalogue, office_hint, limits, today, series)
    except Exception as exc:  # a parser bug or an engine's surprise must never stop the watcher
        log.exception("checking %s failed unexpectedly; the file is rejected as unreadable", filename)
        return Checked([], findings=(Finding("unreadable", {"detail": type(exc).__name__}),))


def _check(data: bytes, filename: str, catalogue: Catalogue, office_hint: str | None, limits: Limits,
           today: date | None, series: Series | None) -> Checked:
    if len(data) > limits.max_file_bytes:
        return Checked([], findings=(too_big(len(data), limits.max_file_bytes),))
    records, problems = parse_records(data, filename, limits)
    records, unsure = decide_ambiguous(records, catalogue)
    findings = [*problems, *unsure]
    if not records and not findings:
        findings.append(Finding("empty"))
    checked = _validate(records, findings, catalogue, office_hint, today)
    if checked.ok and series is not None:
        try:
            jumps = jump_warnings(checked.rows, catalogue, series)
        except Exception:  # a warning is a courtesy: it never costs a good file its import
            log.exception("jump check of %s failed; imported without it", filename)
            jumps = ()
        checked = replace(checked, warnings=checked.warnings + jumps)
    return checked


def parse_records(data: bytes, filename: str, limits: Limits) -> tuple[Records, list[Finding]]:
    """The parser's records and problems (the parser lives in watchers/read.py); values that the file leaves
    ambiguous come back undecided, for decide_ambiguous."""
    from .read import read_records

    return read_records(data, filename, max_rows=limits.max_rows, max_unpacked_bytes=limits.max_unpacked_bytes,
                        defer_ambiguous=True)


# ----------------------------------------------------------------------------------------------
# Units: which unit texts mean the same, which are counts (whole numbers) and which cannot be negative
# ----------------------------------------------------------------------------------------------
_UNIT_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "²": "2"})
_UNIT_NOISE = re.compile(r"[\s.()\[\]_-]+")
_GENERIC_COUNT = ("anzahl", "anz", "stueck", "stk", "st", "zahl", "absolut", "abs", "count", "number", "pieces")
# Count nouns: a count of something; "Anzahl"/"Stück" fit every one, two different nouns do not fit each other.
_COUNT_NOUNS = frozenset({
    "personen", "plaetze", "wohnungen", "faelle", "haushalte", "kinder", "einrichtungen", "projekte", "schulen",
    "kitas", "bedarfsgemeinschaften", "einwohner", "einwohnerinnen", "formate", "formulare", "seiten", "angebote",
    "grundstuecke", "betten", "teilnehmende", "teilnehmer", "auszubildende", "vermittlungen", "gebaeude",
    "persons", "people", "places", "dwellings", "cases", "households", "children",
})
_UNIT_KINDS = {
    "percent": ("%", "prozent", "vh", "percent", "inprozent", "anteilinprozent", "prozentpunkte"),
    "permille": ("‰", "promille"),
    "hectare": ("ha", "hektar", "hectare", "hectares"),
    "squaremetre": ("m2", "qm", "quadratmeter", "sqm"),
    "euro": ("€", "euro", "eur"),
    "thousand_euro": ("tsd€", "teur", "tsdeuro", "tausendeuro", "t€"),
    "years": ("jahre", "jahr", "years", "a"),
    "months": ("monate", "months"),
    "days": ("tage", "days", "d"),
    "hours": ("stunden", "std", "h", "hours"),
}
_KIND_OF = {word: kind for kind, words in _UNIT_KINDS.items() for word in words}
# Counts and stocks: never below 0 unless the catalogue says negativ_erlaubt = true.
_NON_NEGATIVE = frozenset({"count", "hectare", "squaremetre", "years", "months", "days", "hours"})


def _unit_key(unit: str) -> str:
    return _UNIT_NOISE.sub("", str(unit).casefold().translate(_UNIT_UMLAUTS))


def unit_kind(unit: str) -> tuple[str, str] | None:
    """(kind, noun) of a unit text: ('count', '') for Anzahl/Stück, ('count', 'personen') for Personen or
    'Anzahl Personen', ('percent', '') for %, 'Anteil (%)', Prozent …; None for a unit we do not know."""
    key = _unit_key(unit)
    if not key:
        return None
    if key in _KIND_OF:
        return _KIND_OF[key], ""
    if "%" in key:
        return "percent", ""
    if key in _COUNT_NOUNS:
        return "count", key
    for word in _GENERIC_COUNT:
        if key.startswith(word) and (key == word or key[len(word):] in _COUNT_NOUNS):
            return "count", key[len(word):]
    return None


def units_agree(catalogue_unit: str, file_unit: str) -> bool:
    """Whether a file's unit cell fits the catalogue's unit (empty on either side always fits)."""
    a, b = _unit_key(catalogue_unit), _unit_key(file_unit)
    if not a or not b or a == b:
        return True
    ka, kb = unit_kind(catalogue_unit), unit_kind(file_unit)
    if ka is None or kb is None or ka[0] != kb[0]:
        return False
    return ka[0] != "count" or not ka[1] or not kb[1] or ka[1] == kb[1]


def _counts(unit: str) -> bool:
    kind = unit_kind(unit)
    return kind is not None and kind[0] == "count"


def _never_negative(unit: str) -> bool:
    kind = unit_kind(unit)
    return kind is not None and kind[0] in _NON_NEGATIVE


# ----------------------------------------------------------------------------------------------
# Numbers the file leaves ambiguous (1.500): decided from the catalogue's unit, or rejected
# ----------------------------------------------------------------------------------------------
def _indicator_of(catalogue: Catalogue, measure_text: str, indicator: str) -> Indicator | None:
    measure = catalogue.measure(str(measure_text or ""))
    if not indicator:
        return None
    return catalogue.find_indicator(measure.id if measure else None, indicator)


def decide_ambiguous(records: Records, catalogue: Catalogue) -> tuple[Records, list[Finding]]:
    """Values like 1.301 that nothing else in the file decides (watchers/read.py hands them on undecided).

    A count (unit Anzahl, Personen …, from the catalogue, else the file's unit cell) is a whole number:
    1.301 Wohnungen can only be 1301. Such a value also shows how the file writes numbers, which then
    decides the file's other ambiguous values. What stays ambiguous is rejected, never guessed:
    returns the records with the decided values and the read.number_ambiguous problems for the rest.
    """
    from .number_style import ambiguous_problem, ambiguous_readings

    col = records.columns
    if not any(col["ambiguous"]):
        return records, []
    unsure = [k for k, handed in enumerate(col["ambiguous"]) if handed is not None]
    readings = {k: ambiguous_readings(col["ambiguous"][k][0]) for k in unsure}
    decided: dict[int, float] = {}
    shown: set[str] = set()  # the styles (de/en) the decided values prove
    counts: dict[tuple[object, object, object], bool] = {}  # (measure, indicator, unit cell) -> is it a count
    for k in unsure:
        reading = readings[k]
        if reading is None:
            continue
        grouped, decimal, style = reading
        key = (col["measure"][k], col["indicator"][k], col["unit"][k])
        if key not in counts:
            indicator = _indicator_of(catalogue, key[0], key[1])
            unit = indicator.unit if indicator is not None and indicator.unit.strip() else key[2] or ""
            counts[key] = _counts(unit)
        if counts[key] and not decimal.is_integer():
            decided[k] = grouped
            shown.add(style)
    if len(shown) == 1:
        (style,) = shown
        for k in unsure:
            reading = readings[k]
            if k not in decided and reading is not None:
                decided[k] = reading[0] if reading[2] == style else reading[1]
    values, flawed, handed_on = list(col["value"]), list(col["flawed"]), list(col["ambiguous"])
    left: dict[str | None, list[int]] = {}
    for k in unsure:
        handed_on[k] = None
        if k in decided:
            values[k] = decided[k]
        else:
            flawed[k] = True
            left.setdefault(col["sheet"][k], []).append(k)
    problems = []
    for sheet, ks in left.items():
        found, column, letter = col["ambiguous"][ks[0]]
        problems.append(ambiguous_problem(col["row"][ks[0]], column or None, letter or None, found, len(ks), sheet))
    return records.replaced(value=values, flawed=flawed, ambiguous=handed_on), problems


# ----------------------------------------------------------------------------------------------
# The catalogue check and the plausibility of every value
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Fault:
    """What is wrong with a value, before it has a row: the column by its role, the cell found, a code and its
    parameters."""

    role: str
    found: str | None
    code: str
    params: Mapping[str, object]

    def at(self, row: int, sheet: str) -> Finding:
        return Finding(self.code, self.params, sheet, row, None, None, self.found, self.role)


@dataclass(frozen=True)
class _Verdict:
    """How one combination of measure, indicator, period and office fares against the catalogue: fine when
    `indicator` is set (`fault` then says its period has not ended yet), rejected when only `fault` is set,
    and nothing to add when neither is (the parser has reported the row already)."""

    indicator: Indicator | None = None
    period: str = ""  # the key, fitted to the indicator's frequency
    office: str = ""
    measure: str = ""
    fault: _Fault | None = None


def _validate(records: Records, findings: list[Finding], catalogue: Catalogue, office_hint: str | None,
              today: date | None = None) -> Checked:
    """Records against the catalogue. Rows repeat a few (measure, indicator, period, office) combinations
    thousands of times: each combination is judged once, then every row costs a few dict look-ups."""
    hint = resolve_office(catalogue, office_hint)
    verdicts: dict[Hashable, _Verdict] = {}
    seen: dict[tuple[str, str, str], tuple[float | None, int]] = {}
    repeats: list[tuple[int, int, str]] = []  # (row, earlier row, sheet) of identical repeats
    rows: list[tuple[str, str, str, float | None, str, int]] = []
    judge = _Judge(catalogue, hint, office_hint, today)

    fast = None if findings else _all_good(records, judge)
    for rec in records if fast is None else ():
        key = (rec.measure, rec.indicator, rec.period_text, rec.office, rec.flawed)
        verdict = verdicts.get(key)
        if verdict is None:
            verdict = verdicts[key] = judge(rec)
        sheet = rec.sheet or ""
        indicator = verdict.indicator
        if indicator is None:
            if verdict.fault is not None:
                findings.append(verdict.fault.at(rec.row, sheet))
            continue
        value = rec.value
        faults = [i for i in (verdict.fault, judge.area(rec.area), judge.unit(indicator, rec.unit),
                              judge.sign(indicator, rec.unit, value)) if i is not None]
        findings += [fault.at(rec.row, sheet) for fault in faults]
        if faults:
            continue
        area = judge.area_id(rec.area)
        earlier = seen.get((indicator.id, area, verdict.period))
        if earlier is None:
            seen[(indicator.id, area, verdict.period)] = (value, rec.row)
            rows.append((indicator.id, area, verdict.period, value, rec.note or "", rec.row))
        elif earlier[0] == value:
            repeats.append((rec.row, earlier[1], sheet))
        else:
            findings.append(Finding("conflicting_values", {
                "value": value, "other": earlier[0], "other_row": earlier[1], "indicator": indicator.name,
                "area": area, "period": verdict.period}, sheet, rec.row, role="value"))
    if fast is not None:
        verdicts, rows = fast
    if findings:
        return Checked([], findings=tuple(findings))
    good = [v for v in verdicts.values() if v.indicator is not None]
    offices = sorted({v.office for v in good if v.office})
    office = hint or (offices[0] if len(offices) == 1 else ", ".join(offices))
    warnings = (_repeat_note(repeats),) if repeats else ()
    # The indicators from the rows' own column when they carry it (a set built in C, not a step per row).
    indicators = set(Rows.columns_of(rows)[0] if isinstance(rows, Rows) else map(itemgetter(0), rows))
    return Checked(rows, tuple(sorted({v.measure for v in good})), tuple(sorted(indicators)), office, (), warnings)


def _repeat_note(repeats: list[tuple[int, int, str]]) -> Finding:
    """One note for all identical repeats: the first, and how many others."""
    row, earlier, sheet = repeats[0]
    return Finding("repeated_rows", {"earlier": earlier, "others": len(repeats) - 1}, sheet, row)


def _together(columns: list[list[Any]]) -> list[Any]:
    """Per row one key for the values of all `columns` in that row; only the columns that vary are looked at
    (in a delivery most are the same in every row), so a key is mostly a plain text, not a tuple."""
    # count() meets the same object in a row first: far cheaper than a set of 100,000 texts
    varying = [column for column in columns if column and column.count(column[0]) != len(column)]
    if len(varying) > 1:
        return list(zip(*varying, strict=True))
    return varying[0] if varying else [None] * len(columns[0])


def _all_good(records: Records, judge: _Judge) -> tuple[dict[Hashable, _Verdict], list[Row]] | None:
    """The common case in bulk, column by column: every combination, area, unit and sign fine and no
    (indicator, area, period) twice.

    The verdicts (each judged on the first record of its combination, like the row-by-row loop) and
    the store rows, or None: then the loop in _validate goes row by row and reports what it finds."""
    import numpy as np

    col = records.columns
    n = len(records)
    if not n:
        return {}, []
    keys = _together([col[name] for name in ("measure", "indicator", "period_text", "office", "flawed")])
    # Each row's combination as a small integer, and each combination's first row: a minimum over the codes.
    key_index = {key: k for k, key in enumerate(dict.fromkeys(keys))}
    key_codes = np.fromiter(map(key_index.__getitem__, keys), np.int64, n)
    first = np.full(len(key_index), n, dtype=np.int64)
    np.minimum.at(first, key_codes, np.arange(n))
    # Judged on the same record as in the loop (the earliest); the order of the verdicts matters nowhere.
    verdicts = {key: judge(records[k]) for key, k in zip(key_index, first.tolist(), strict=True)}
    if any(v.indicator is None or v.fault is not None for v in verdicts.values()):
        return None
    # The few distinct ids, areas and periods interned: the store keeps them so, and takes the rows as they are.
    pairs = {key: (sys.intern(v.indicator.id), sys.intern(v.period)) for key, v in verdicts.items()
             if v.indicator is not None}
    pair_code = {pair: k for k, pair in enumerate(dict.fromkeys(pairs.values()))}
    if len(pair_code) == 1:
        (indicator, period), = pair_code
        indicators, periods = [indicator] * n, [period] * n
    else:  # taken by the rows' combination codes (numpy, in C)
        indicators = np.array([pairs[key][0] for key in key_index], dtype=object)[key_codes].tolist()
        periods = np.array([pairs[key][1] for key in key_index], dtype=object)[key_codes].tolist()
    raw_areas = col["area"]
    raw_index = {raw: k for k, raw in enumerate(dict.fromkeys(raw_areas))}  # each area text's code
    known = {raw: sys.intern(judge.area_id(raw)) for raw in raw_index if judge.area(raw) is None}
    if len(known) != len(raw_index):
        return None  # an unknown area: the loop reports it
    raw_codes = np.fromiter(map(raw_index.__getitem__, raw_areas), np.int64, n)
    areas = np.array([known[raw] for raw in raw_index], dtype=object)[raw_codes].tolist()
    by_id = {v.indicator.id: v.indicator for v in verdicts.values() if v.indicator is not None}
    units = col["unit"]
    if len(by_id) == 1:
        (only,) = by_id.values()
        if any(judge.unit(only, unit) is not None for unit in set(units)):
            return None
    elif any(judge.unit(by_id[ind], unit) is not None for ind, unit in set(zip(indicators, units, strict=True))):
        return None
    values = col["value"]
    # A negative value is fine only where the unit or the catalogue allows it.
    if _any_negative(values) and any(
            v is not None and v < 0 and judge.sign(by_id[ind], unit, v) is not None
            for ind, unit, v in zip(indicators, units, values, strict=True)):
        return None
    codes = _row_codes(key_codes, [pair_code[pairs[key]] for key in key_index], list(pair_code), raw_codes,
                       [known[raw] for raw in raw_index])
    if not _each_once(codes):
        return None  # a repeated value (same or conflicting): the loop sorts it out
    raw_notes = col["note"]
    if raw_notes.count(None) == n:  # no note in the file (the usual case): one list, not a look-up per row
        notes: list[Any] = [""] * n
    else:
        notes = list(map(_EMPTY_NONE.get, raw_notes, raw_notes))
    rows = _CodedRows.of(indicators, areas, periods, values, notes, col["row"])
    rows.codes = codes  # the jump check's too
    return verdicts, rows


def _row_codes(key_codes: Any, pair_of_key: list[int], pairs: list[tuple[str, str]], raw_codes: Any,
               area_of_raw: list[str]) -> _Codes:
    """Each row's (indicator, period) and area as codes, from the codes of its combination and of its area's
    text (`pair_of_key`, `area_of_raw`: what each of those codes stands for)."""
    import numpy as np

    area_code = {area: k for k, area in enumerate(dict.fromkeys(area_of_raw))}  # texts of one area: one code
    return _Codes(pairs, np.array(pair_of_key, dtype=np.int64)[key_codes], list(area_code),
                  np.array([area_code[area] for area in area_of_raw], dtype=np.int64)[raw_codes])


def _each_once(codes: _Codes) -> bool:
    """Whether no (indicator, period, area) comes twice: each row's pair and area as one integer, counted."""
    import numpy as np

    width = len(codes.areas)
    combined = codes.pair_codes * width + codes.area_codes
    if len(codes.pairs) * width <= 8 * len(combined):  # a dense count is cheaper than sorting
        return int(np.bincount(combined).max()) <= 1
    return len(np.unique(combined)) == len(combined)


def _any_negative(values: list[float | None]) -> bool:
    """Whether any value is below 0 (None is no value)."""
    import numpy as np

    try:
        return bool((np.array(values, dtype=float) < 0).any())  # None -> NaN, which is not below 0
    except (TypeError, ValueError, OverflowError):  # not numbers throughout: one by one
        return any(v is not None and v < 0 for v in values)


_EMPTY_NONE = {None: ""}  # .get(x, x): None -> "", anything else as it is


class _Judge:
    """Judges one combination of measure, indicator, period and office against the catalogue; and, cached
    by their few distinct values, areas, units and signs."""

    def __init__(self, catalogue: Catalogue, hint: str, office_hint: str | None, today: date | None = None) -> None:
        self.catalogue, self.hint, self.office_hint = catalogue, hint, office_hint
        self.today = today
        self._areas: dict[str | None, tuple[str, _Fault | None]] = {}
        self._units: dict[tuple[str, str | None], _Fault | None] = {}
        # A file names the same few offices and indicators in every combination: each is looked up once.
        self._offices: dict[str, str] = {}
        self._indicators: dict[tuple[str, str], Indicator | _Fault] = {}

    def __call__(self, rec: Record) -> _Verdict:

        catalogue = self.catalogue
        mtext = str(rec.measure or "")
        if not mtext or not rec.indicator:
            return _Verdict()  # the parser has reported the empty cell
        measure = catalogue.measure(mtext)
        if measure is None:
            return _Verdict(fault=_Fault("measure", mtext, "unknown_measure",
                                         {"near": _closest(mtext, catalogue.measures)}))
        itext = str(rec.indicator)
        indicator = self._indicators.get((measure.id, itext))
        if indicator is None:
            indicator = self._indicators[(measure.id, itext)] = _find_indicator(catalogue, measure.id, itext)
        if not isinstance(indicator, Indicator):
            return _Verdict(fault=indicator)
        if rec.period is None:
            return _Verdict()  # the parser has reported this row's period
        fitted = fit_to_frequency(rec.period, indicator.frequency)
        if fitted is None:
            return _Verdict(fault=_Fault("period", rec.period_text, "period_frequency", {
                "frequency": indicator.frequency, "example": period_example(indicator.frequency)}))
        # A period not ended yet is reported with the row's other problems (area, unit, sign).
        late = self._not_ended(rec, fitted, indicator) if self.today is not None and fitted.end >= self.today else None
        if rec.office:
            office = self._offices.get(rec.office)
            if office is None:
                office = self._offices[rec.office] = resolve_office(catalogue, rec.office)
        else:
            office = self.hint
        if office and indicator.office and office_key(office) != office_key(indicator.office):
            return _Verdict(fault=_Fault("office", rec.office or self.office_hint or office, "office_not_allowed",
                                         {"office": office, "expected_office": indicator.office}))
        if rec.flawed:
            return _Verdict(fault=late)  # its value problem is in the parser's list
        return _Verdict(indicator, fitted.key, office or indicator.office, measure.id, late)

    def _not_ended(self, rec: Record, period: Period, indicator: Indicator) -> _Fault:
        """The problem with a period that has not ended yet: it ends on `end`, `last` is the latest that has."""
        assert self.today is not None
        last = previous(period_containing(indicator.frequency, self.today))
        return _Fault("period", rec.period_text, "period_not_ended", {"end": period.end, "last": last})

    # --- areas ([[gebiet]]) -----------------------------------------------------------------------
    def _resolve_area(self, raw: str | None) -> tuple[str, _Fault | None]:
        """(the id stored, None) or ("", problem) for one area text of the file."""
        if not raw:
            return "", None
        areas = self.catalogue.areas
        if not areas:
            return raw, None  # no [[gebiet]] list: areas are free text
        area = self.catalogue.area(raw)
        if area is not None:
            return ("" if area.whole_city else area.id), None
        near = self.catalogue.closest_area(raw)
        examples = ", ".join([a.id for a in areas.values() if not a.whole_city][:3])
        return "", _Fault("area", raw, "unknown_area",
                          {"near": near.id if near is not None else None, "n": len(areas), "examples": examples})

    def area(self, raw: str | None) -> _Fault | None:
        """The problem with an area text, or None."""
        known = self._areas.get(raw)
        if known is None:
            known = self._areas[raw] = self._resolve_area(raw)
        return known[1]

    def area_id(self, raw: str | None) -> str:
        """The area as stored: the catalogue's id ("" for the whole city), or the text when there is no list."""
        known = self._areas.get(raw)
        if known is None:
            known = self._areas[raw] = self._resolve_area(raw)
        return known[0]

    # --- units and signs ----------------------------------------------------------------------------
    def unit(self, indicator: Indicator, raw: str | None) -> _Fault | None:
        """The problem with a unit cell that contradicts the catalogue's unit, or None."""
        if not raw:
            return None
        key = (indicator.id, raw)
        if key not in self._units:
            problem = None
            if not units_agree(indicator.unit, raw):
                problem = _Fault("unit", raw, "unit_mismatch", {"indicator": indicator.name, "unit": indicator.unit})
            self._units[key] = problem
        return self._units[key]

    def sign(self, indicator: Indicator, raw_unit: str | None, value: float | None) -> _Fault | None:
        """The problem with a negative count or stock, or None."""
        if value is None or value >= 0 or indicator.negative_allowed:
            return None
        unit = indicator.unit if indicator.unit.strip() else raw_unit or ""
        if not _never_negative(unit):
            return None
        # The value itself is what was found: worded (as a number of the reader's language) when shown.
        return _Fault("value", None, "negative", {"value": value, "indicator": indicator.name, "unit": unit})


def _find_indicator(catalogue: Catalogue, measure: str, name: str) -> Indicator | _Fault:
    found = catalogue.find_indicator(measure, name)
    if found is not None:
        return found
    elsewhere = catalogue.find_indicator(None, name)
    if elsewhere is not None:
        return _Fault("indicator", name, "indicator_other_measure", {"other": elsewhere.measure, "measure": measure})
    own = catalogue.indicators_of(measure)
    by_name = {i.name: i for i in own} | {i.id: i for i in own}
    near = _closest(name, by_name)
    ind = by_name[near] if near is not None else None
    return _Fault("indicator", name, "unknown_indicator", {
        "measure": measure, "near": ind.name if ind else None, "near_id": ind.id if ind else None})


# ----------------------------------------------------------------------------------------------
# Jumps: a value beyond ×10 or below ÷10 of its series' previous value is imported with a warning
# ----------------------------------------------------------------------------------------------
JUMP_FACTOR = 10.0

# One jump: (row, indicator, area, period, value, previous period, previous value, up?)
_Jump = tuple[int, str, str, str, float, str, float, bool]


def jump_warnings(rows: Sequence[tuple[str, str, str, float | None, str, int]], catalogue: Catalogue,
                  series: Series) -> tuple[Finding, ...]:
    """One warning per value that is more than JUMP_FACTOR times, or less than a JUMP_FACTOR-th of, the value
    of the series' period before (from the store, or from the same file); real jumps exist, so never a
    rejection. `series` is the store's Series; the rows are the file's store rows. Nothing is worded: a notice
    words the few it shows."""
    jumps = _jumps_in_bulk(rows, series)
    if jumps is None:
        jumps = _jumps_row_by_row(rows, series)
    names: dict[str, str] = {}
    for ind in {jump[1] for jump in jumps}:
        indicator = catalogue.indicators.get(ind)
        names[ind] = indicator.name if indicator else ind
    return tuple(Finding("jump", {"value": value, "indicator": names[ind], "area": area, "period": period,
                                  "previous": before, "previous_period": before_period, "up": up},
                         None, row, role="value")
                 for row, ind, area, period, value, before_period, before, up in jumps)


def _jumps_row_by_row(rows: Sequence[tuple[str, str, str, float | None, str, int]], series: Series) -> list[_Jump]:
    """The jumps in row order (within a row: series by first row, then period), one series at a time."""
    by_series: dict[tuple[str, str], tuple[dict[str, float | None], dict[str, int]]] = {}  # values, rows by period
    for ind, area, period, value, _note, row in rows:
        values, numbers_of = by_series.get((ind, area)) or by_series.setdefault((ind, area), ({}, {}))
        values[period], numbers_of[period] = value, row
    held_of: dict[str, Mapping[str, Sequence[tuple[str, float | None, str]]]] = {}
    found: list[_Jump] = []
    for (ind, area), (new, new_rows) in by_series.items():
        held = held_of.get(ind)
        if held is None:
            held = held_of[ind] = series(ind)
        points = {p: v for p, v, _ in held.get(area, ())}
        points.update(new)
        before: tuple[str, float] | None = None
        for period in sorted(points):
            value = points[period]
            if value is None:
                continue
            if before is not None and period in new and before[1] != 0:
                ratio = abs(value) / abs(before[1])
                if ratio > JUMP_FACTOR or ratio < 1 / JUMP_FACTOR:
                    found.append((new_rows[period], ind, area, period, value, before[0], before[1],
                                  ratio > JUMP_FACTOR))
            before = (period, value)
    return sorted(found, key=itemgetter(0))


_FLOAT_OR_NONE = frozenset({float, type(None)})


def _jumps_in_bulk(rows: Sequence[tuple[str, str, str, float | None, str, int]],
                   series: Series) -> list[_Jump] | None:
    """The same jumps as _jumps_row_by_row, found with numpy over whole columns (a file of 100,000 values
    against as many held ones); None for values that are not all floats or None (the loop then decides)."""
    import numpy as np

    if not rows:
        return []
    inds, areas, periods, values, _notes, numbers = Rows.columns_of(rows)
    kinds = set(map(type, values))
    if not kinds <= _FLOAT_OR_NONE:
        return None
    n = len(rows)
    v_all = np.array(values, dtype=float)
    if int(np.isnan(v_all).sum()) != (values.count(None) if type(None) in kinds else 0):
        return None  # a NaN value: the loop keeps its own rules for it
    coded = rows.codes if isinstance(rows, _CodedRows) else _codes_of(inds, areas, periods)
    unique = isinstance(rows, _CodedRows)  # the catalogue check counted each (indicator, area, period) once
    a_all, area_names = coded.area_codes, coded.areas
    area_code = {a: k for k, a in enumerate(area_names)}
    hits: list[tuple[int, int, int, _Jump]] = []  # (row, first row of its series, period): the loop's order
    for ind, sel, new_names, new_codes in _by_indicator(coded, n):
        a_new = a_all[sel]
        # Each area's first row: the least position per area code (small integers: no sort needed).
        first_at = np.full(len(area_names), n, dtype=np.int64)
        np.minimum.at(first_at, a_new, sel)
        codes = np.flatnonzero(first_at < n)
        held = _held_points(series, ind, codes.tolist(), area_names, area_code)
        if held is None:
            return None
        h_a, h_names, h_counts, h_v = held
        ordered = sorted(set(new_names).union(h_names))
        rank = {p: k for k, p in enumerate(ordered)}
        span = len(ordered)
        h_rank = np.fromiter(map(rank.__getitem__, h_names), np.int64, len(h_names))
        if h_counts is not None:  # the store's columns: runs of one period, every area (only the file's count)
            keep = h_a >= 0
            h_a, h_rank, h_v = h_a[keep], np.repeat(h_rank, h_counts)[keep], h_v[keep]
        new_rank = np.array([rank[p] for p in new_names], dtype=np.int64)[new_codes]
        h_keys, new_keys = h_a * span + h_rank, a_new * span + new_rank
        size = len(area_names) * span
        if unique and h_counts is not None and size <= 4 * (len(h_keys) + len(new_keys)):
            # Keys are dense small integers, each once in the store and once in the file: placed in one array
            # (the file's after the store's, so its value wins), they come out sorted without a sort.
            held_here = np.zeros(size, dtype=bool)
            at_key, source_at = np.empty(size), np.empty(size, dtype=np.int64)
            held_here[h_keys], at_key[h_keys], source_at[h_keys] = True, h_v, -1
            held_here[new_keys], at_key[new_keys], source_at[new_keys] = True, v_all[sel], sel
            k_sorted = np.flatnonzero(held_here & ~np.isnan(at_key))  # an empty value is no point of the series
            v_sorted, s_sorted = at_key[k_sorted], source_at[k_sorted]
        else:
            keys = np.concatenate([h_keys, new_keys])
            vals = np.concatenate([h_v, v_all[sel]])
            source = np.concatenate([np.full(len(h_v), -1, dtype=np.int64), sel])  # position in rows, -1: held
            order = np.argsort(keys, kind="stable")
            last = np.ones(len(order), dtype=bool)  # the last of equal keys wins: the file's value over the store's
            last[:-1] = keys[order][1:] != keys[order][:-1]
            order = order[last]
            order = order[~np.isnan(vals[order])]  # an empty value is no point of the series
            k_sorted, v_sorted, s_sorted = keys[order], vals[order], source[order]
        same_series = k_sorted[1:] // span == k_sorted[:-1] // span
        before, value = v_sorted[:-1], v_sorted[1:]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ratio = np.abs(value) / np.abs(before)
        hit = same_series & (s_sorted[1:] >= 0) & (before != 0) & ((ratio > JUMP_FACTOR) | (ratio < 1 / JUMP_FACTOR))
        # The hits taken out column by column (thousands of jumps in a file of a new scale): no step per jump.
        js = np.flatnonzero(hit)
        at = s_sorted[js + 1]
        pos = at.tolist()
        rows_of = list(map(numbers.__getitem__, pos))
        period_ranks = (k_sorted[js + 1] % span).tolist()
        hits += zip(rows_of, first_at[a_all[at]].tolist(), period_ranks,
                    zip(rows_of, [ind] * len(pos), map(areas.__getitem__, pos), map(ordered.__getitem__, period_ranks),
                        value[js].tolist(), map(ordered.__getitem__, (k_sorted[js] % span).tolist()),
                        before[js].tolist(), (ratio[js] > JUMP_FACTOR).tolist(), strict=True), strict=True)
    hits.sort(key=itemgetter(0, 1, 2))  # each key once: rows of one series differ in period, series in first row
    return [jump for *_, jump in hits]


@dataclass(frozen=True)
class _Codes:
    """Each row's (indicator, period) and area as small integers (numpy arrays), with what each code stands for."""

    pairs: list[tuple[str, str]]
    pair_codes: Any
    areas: list[str]
    area_codes: Any


class _CodedRows(Rows):
    """The catalogue check's rows with the codes it counted them by: the jump check takes them as they are."""

    __slots__ = ("codes",)
    codes: _Codes


def _codes_of(inds: Sequence[str], areas: Sequence[str], periods: Sequence[str]) -> _Codes:
    """The codes of rows that do not carry them."""
    import numpy as np

    n = len(inds)
    area_code = {a: k for k, a in enumerate(dict.fromkeys(areas))}
    area_codes = np.fromiter(map(area_code.__getitem__, areas), np.int64, n)
    distinct = dict.fromkeys(inds)
    if len(distinct) == 1:  # one indicator: its periods are the pairs
        (ind,) = distinct
        period_code = {p: k for k, p in enumerate(dict.fromkeys(periods))}
        return _Codes([(ind, p) for p in period_code], np.fromiter(map(period_code.__getitem__, periods), np.int64, n),
                      list(area_code), area_codes)
    pair_code = {pair: k for k, pair in enumerate(dict.fromkeys(zip(inds, periods, strict=True)))}
    return _Codes(list(pair_code), np.fromiter(map(pair_code.__getitem__, zip(inds, periods, strict=True)),
                                              np.int64, n), list(area_code), area_codes)


def _by_indicator(coded: _Codes, n: int) -> Iterator[tuple[str, Any, list[str], Any]]:
    """Per indicator: its rows' positions, its periods and, per row, which of them (an index into the periods)."""
    import numpy as np

    of_indicator: dict[str, list[int]] = {}
    for code, (ind, _) in enumerate(coded.pairs):
        of_indicator.setdefault(ind, []).append(code)
    local = np.zeros(len(coded.pairs), dtype=np.int64)  # pair code -> index among its indicator's periods
    indicator_of = np.zeros(len(coded.pairs), dtype=np.int64)
    for k, codes in enumerate(of_indicator.values()):
        local[codes] = np.arange(len(codes))
        indicator_of[codes] = k
    for k, (ind, codes) in enumerate(of_indicator.items()):
        sel = np.arange(n) if len(of_indicator) == 1 else np.flatnonzero(indicator_of[coded.pair_codes] == k)
        yield ind, sel, [coded.pairs[c][1] for c in codes], local[coded.pair_codes[sel]]


def _area_codes(areas: list[str], counts: list[int], area_code: dict[str, int]) -> Any:
    """The code of each held area (-1: not in the file), run by run: a period's areas mostly come in the same
    order as the period's before, and then take its codes again (one list comparison in C, no look-up each)."""
    import numpy as np

    parts = []
    start = 0
    before: list[str] = []
    codes = np.zeros(0, dtype=np.int64)
    for count in counts:
        run = areas[start:start + count]
        start += count
        if run != before:
            codes = np.fromiter(map(area_code.get, run, repeat(-1)), np.int64, count)
            before = run
        parts.append(codes)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _held_points(series: Series, ind: str, codes: list[int], area_names: list[str], area_code: dict[str, int]
                 ) -> tuple[Any, Sequence[str], list[int] | None, Any] | None:
    """The store's points of one indicator as arrays (area code, -1 for an area not in the file), their periods
    (each repeated counts[k] times, when counts is not None) and values; None for a value not a float or None."""
    import numpy as np

    if isinstance(series, SeriesReader):  # the store's columns, no tuple per value
        columns = series.columns(ind)
        h_values = columns.values
        h_a = _area_codes(columns.areas, columns.counts, area_code)
        h_periods: Sequence[str] = columns.periods
        counts: list[int] | None = columns.counts
    else:
        held = series(ind)
        h_areas: list[int] = []
        h_periods = []
        h_values = []
        for code in codes:
            points = held.get(area_names[code], ())
            if points:
                h_areas += [code] * len(points)
                h_periods += map(itemgetter(0), points)
                h_values += map(itemgetter(1), points)
        h_a, counts = np.array(h_areas, dtype=np.int64), None
    kinds = set(map(type, h_values))
    if not kinds <= _FLOAT_OR_NONE:
        return None
    h_v = np.array(h_values, dtype=float)
    if int(np.isnan(h_v).sum()) != (h_values.count(None) if type(None) in kinds else 0):
        return None
    return h_a, h_periods, counts, h_v
