"""Which row of a table is the header, and which column holds what (long or wide layout)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from storage.periods import Period, PeriodError, parse_period

from .findings import Finding, cell_text, letter

if TYPE_CHECKING:
    from .read import Table

__all__ = ["FIELDS", "HEADER_SEARCH_ROWS", "ColumnMap", "find_columns", "find_header", "first_text"]

HEADER_SEARCH_ROWS = 20  # non-empty rows searched for the header row
FIELDS = ("measure", "indicator", "period", "value", "unit", "area", "office", "note")
_SYNONYMS = {
    "measure": ("Maßnahme", "Massnahme", "Maßnahme-ID", "Maßnahmen-Nr.", "Maßnahmennummer", "measure", "measure id"),
    "indicator": ("Indikator", "Indikator-ID", "Kennzahl", "indicator", "indicator id"),
    "period": ("Zeitraum", "Periode", "Stichtag", "Berichtszeitraum", "Jahr", "period", "year", "reference date"),
    "value": ("Wert", "Werte", "value"),
    "unit": ("Einheit", "Maßeinheit", "unit"),
    "area": ("Gebiet", "Stadtteil", "Sozialraum", "area", "district"),
    "office": ("Quelle", "Amt", "Dienststelle", "Datenquelle", "office", "source"),
    "note": ("Bemerkung", "Bemerkungen", "Anmerkung", "Hinweis", "Kommentar", "Erläuterung", "note", "notes",
             "remark", "comment"),
}
_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
_BRACKETS = re.compile(r"[(\[][^)\]]*[)\]]")


def _header_key(text: str) -> str:
    """Casefold, drop bracketed additions and separators, umlauts as plain vowels:
    'Maßnahme ', 'MASSNAHME', 'Massnahme', 'massnahme_' and 'Erlauterung'/'Erläuterung' match."""
    text = _BRACKETS.sub("", text.casefold()).translate(_UMLAUTS)
    return _NOT_ALNUM.sub("", text).replace("ae", "a").replace("oe", "o").replace("ue", "u")


_HEADER_FIELD = {_header_key(name): fld for fld, names in _SYNONYMS.items() for name in names}
_YEARISH = re.compile(r"(?<!\d)(?:19|20|21)\d{2}(?!\d)")


@dataclass
class _HeaderMatch:
    fields: dict[str, list[int]]
    periods: list[tuple[int, Period]]
    bad_periods: list[int]

    @property
    def score(self) -> int:
        return len(self.fields) + (1 if self.periods else 0)

    @property
    def plausible(self) -> bool:
        return ("measure" in self.fields or "indicator" in self.fields) and self.score >= 2

    @property
    def complete(self) -> bool:
        long = "period" in self.fields and "value" in self.fields
        return "measure" in self.fields and "indicator" in self.fields and (long or bool(self.periods))


def _match_header(cells: Sequence[object]) -> _HeaderMatch:
    found: dict[str, list[int]] = {}
    periods: list[tuple[int, Period]] = []
    bad: list[int] = []
    for index, cell in enumerate(cells):
        text = cell_text(cell).strip()
        if not text:
            continue
        fld = _HEADER_FIELD.get(_header_key(text))
        if fld:
            found.setdefault(fld, []).append(index)
            continue
        try:
            periods.append((index, parse_period(cell if not isinstance(cell, str) else text)))
        except PeriodError:
            if _YEARISH.search(text):
                bad.append(index)
    return _HeaderMatch(found, periods, bad)


def find_header(rows: Sequence[Sequence[object]]) -> tuple[int, _HeaderMatch] | None:
    """The header among the first HEADER_SEARCH_ROWS non-empty rows: the first complete one, else the
    best plausible one (so that a missing column can be named)."""
    best: tuple[int, _HeaderMatch] | None = None
    seen = 0
    for index, row in enumerate(rows):
        if not any(cell_text(c).strip() for c in row):
            continue
        seen += 1
        if seen > HEADER_SEARCH_ROWS:
            break
        match = _match_header(row)
        if match.complete:
            return index, match
        if match.plausible and (best is None or match.score > best[1].score):
            best = (index, match)
    return best


def first_text(rows: Iterable[Sequence[object]]) -> str | None:
    for row in rows:
        cells = [cell_text(c).strip() for c in row]
        if any(cells):
            return " | ".join(c for c in cells if c)
    return None


@dataclass(frozen=True)
class ColumnMap:
    """Which column holds what. `fields` maps field name (FIELDS) -> column index; in the wide layout
    `periods` lists (column index, period) for every period column."""

    layout: str  # "long" | "wide"
    fields: Mapping[str, int] = field(hash=False)
    periods: tuple[tuple[int, Period], ...] = ()

    def get(self, name: str) -> int | None:
        return self.fields.get(name)


def find_columns(table: Table) -> ColumnMap | list[Finding]:
    """Recognise the layout (long: Zeitraum + Wert; wide: one column per period) and the columns."""
    match = _match_header(table.columns)
    problems: list[Finding] = []

    def problem(code: str, column: int | None = None, **params: object) -> None:
        if column is not None:
            params.update(column=table.columns[column], letter=letter(column))
        problems.append(Finding.make(code, row=table.header_row, sheet=table.sheet, **params))  # type: ignore[arg-type]

    for fld, indexes in match.fields.items():
        if len(indexes) > 1:
            cols = ", ".join(f"„{table.columns[i]}“ ({letter(i)})" for i in indexes)
            problem("read.duplicate_column", indexes[1], found=table.columns[indexes[1]], field=fld, columns=cols)
    long = "period" in match.fields or "value" in match.fields
    for fld in ["measure", "indicator"] + (["period", "value"] if long or not match.periods else []):
        if fld not in match.fields:
            problem("read.missing_column", field=fld, names=", ".join(_SYNONYMS[fld][:3] + _SYNONYMS[fld][-1:]))
    if long and match.periods:
        first = match.periods[0][0]
        problem("read.mixed_layout", first, found=table.columns[first],
                columns=", ".join(table.columns[i] for i, _ in match.periods))
    if not long:
        for index in match.bad_periods:
            problem("read.bad_period_header", index, found=table.columns[index])
        seen: dict[Period, int] = {}
        for index, period in match.periods:
            if period in seen:
                problem("read.duplicate_period", index, found=table.columns[index], key=period.key,
                        columns=f"„{table.columns[seen[period]]}“, „{table.columns[index]}“")
            seen.setdefault(period, index)
    if problems:
        return problems
    fields_ = {fld: indexes[0] for fld, indexes in match.fields.items()}
    return ColumnMap("long" if long else "wide", fields_, () if long else tuple(match.periods))
