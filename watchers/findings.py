"""Problems found in a delivered file: data (a code and its parameters), worded only when shown."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from .wording import catalogue

__all__ = ["FORMATS", "Problem", "cell_text", "clip", "display", "format_report", "letter", "line", "phrase", "where"]

FORMATS = ".csv, .txt, .xlsx, .xlsm, .ods"
_FOUND_LIMIT = 80


class _Params(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def clip(text: object) -> str:
    """A cell as shown in a message: printable characters only, at most 80 of them."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(text))
    return text if len(text) <= _FOUND_LIMIT else text[: _FOUND_LIMIT - 1] + "…"


def phrase(lang: str, key: str, **params: object) -> str:
    """One text of the reading layer's catalogue (commands/texts_ingest.py, installed via watchers/wording.py),
    German when `lang` has none."""
    template = catalogue(lang).get(key) or catalogue("de")[key]
    return template.format(**params) if params else template


def where(lang: str, sheet: str | None = None, row: int | None = None, column: str | None = None, *,
          letter: str | None = None, more: object = None) -> str:
    """Where in a file: 'Tabellenblatt „Daten“, Zeile 7 (und 2 weitere), Spalte „Wert“ (D)', or 'Datei'."""
    parts = [phrase(lang, "read.where.sheet", sheet=sheet)] if sheet else []
    if row is not None:
        parts.append(phrase(lang, "read.where.more_rows" if more else "read.where.row", row=row, more=more))
    if column:
        parts.append(phrase(lang, "read.where.column_letter" if letter else "read.where.column", column=column,
                            letter=letter))
    return ", ".join(parts) or phrase(lang, "read.where.file")


def line(lang: str, place: str, *, message: str = "", found: str | None = None, expected: str | None = None,
         suggestion: str = "") -> str:
    """A problem as one line: where: message – found – expected. Suggestion. (`found` "" is "found nothing";
    None leaves it out, as does an `expected` of None.)"""
    parts = [message] if message else []
    if found is not None:
        parts.append(phrase(lang, "read.found", found=found) if found else phrase(lang, "read.found_nothing"))
    if expected is not None:
        parts.append(phrase(lang, "read.expected", expected=expected))
    text = f"{place}: " + " – ".join(parts) + "."
    return text + " " + phrase(lang, "read.suggestion", suggestion=suggestion) if suggestion else text


def letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA (the column letter a person sees in Excel)."""
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


def cell_text(value: object) -> str:
    """A cell as text: 2018.0 -> '2018', a date -> '2018-09-30', None -> ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "WAHR" if value else "FALSCH"
    if isinstance(value, float):
        return str(int(value)) if math.isfinite(value) and value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def display(value: object) -> str:
    """A cell as a person would recognise it in a message (German dates)."""
    if isinstance(value, datetime):
        return value.strftime("%d.%m.%Y %H:%M" if value.time() != time() else "%d.%m.%Y")
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")
    return cell_text(value).strip()


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file: where (sheet, row, column), what was found, what was expected.

    `code` names the message in commands/texts_ingest.py and `params` fill it; nothing is worded until
    `expected`, `suggestion` or `text(lang)` is asked for. A problem made by hand without a code carries
    its own German `given_expected` / `given_suggestion` (the 4th and 5th positional fields).
    """

    row: int | None
    column: str | None
    found: str | None
    given_expected: str = ""
    given_suggestion: str = ""
    sheet: str | None = None
    code: str = ""
    params: Mapping[str, object] = field(default_factory=dict, hash=False)

    @classmethod
    def make(cls, code: str, *, row: int | None = None, column: str | None = None, found: object = None,
             sheet: str | None = None, **params: object) -> Problem:
        return cls(row, column, None if found is None else clip(found), "", "", sheet, code, params)

    @property
    def expected(self) -> str:
        return self.expected_text("de")

    @property
    def suggestion(self) -> str:
        return self.suggestion_text("de")

    def _fill(self, key: str, lang: str) -> str:
        texts = catalogue(lang)
        template = texts.get(key, catalogue("de").get(key, ""))
        values = _Params(self.params)
        values.update(found=self.found or "", row=self.row, column=self.column, sheet=self.sheet, formats=FORMATS)
        if "field" in self.params:
            values["field_name"] = texts.get(f"read.field.{self.params['field']}", self.params["field"])
        if "style" in self.params:
            values["style_name"] = texts.get(f"read.style.{self.params['style']}", self.params["style"])
        return template.format_map(values)

    def expected_text(self, lang: str = "de") -> str:
        return self._fill(self.code, lang) if self.code else self.given_expected

    def suggestion_text(self, lang: str = "de") -> str:
        return self._fill(self.code + ".hint", lang) if self.code else self.given_suggestion

    def text(self, lang: str = "de") -> str:
        """One line: where – found – expected – suggestion."""
        place = where(lang, self.sheet, self.row, self.column, letter=self.params.get("letter"),  # type: ignore[arg-type]
                      more=self.params.get("more"))
        return line(lang, place, found=self.found, expected=self.expected_text(lang),
                    suggestion=self.suggestion_text(lang))


def format_report(filename: str, problems: Sequence[Problem], lang: str = "de", limit: int = 200) -> str:
    """The error report for a rejected file: a title line and one numbered line per problem."""
    texts = catalogue(lang)
    lines = [texts["read.report.title"].format(filename=filename, count=len(problems))]
    lines += [f"{n}. {p.text(lang)}" for n, p in enumerate(problems[:limit], start=1)]
    if len(problems) > limit:
        lines.append(texts["read.report.more"].format(count=len(problems) - limit))
    return "\n".join(lines)
