"""How numbers are written in delivered files: the style rule (German or English), values that read two
ways, and the conversion of a whole column of them."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, time, timedelta
from typing import Any

import orjson

from .findings import Finding, display

__all__ = [
    "MISSING", "NumberError", "ambiguous_problem", "ambiguous_readings", "classify", "column_values",
    "detect_number_style", "parse_number", "style_counts", "style_of",
]

# Number style rule (decided per table, over all its text values together):
# a value that reads only one way decides – German: 1.234,5 · 12,5 · 0,5 · 1.234.567; English:
# 1,234.5 · 12.5 · 0.5 · 1,234,567. Integers without separators (and space-grouped ones) fit both.
# A value like 1.500 or 1,500 (one group of three digits after a single separator, first digit
# not 0) is ambiguous: it takes the style of the decisive values of its table; with none, those of
# the other sheets of the file; with none there either, every such value is rejected – never guessed
# (or, with defer_ambiguous, handed to watchers/validate.py, where the catalogue's unit may decide:
# a count is a whole number). The CSV delimiter alone is deliberately NOT a hint (semicolon files
# with decimal points are common in database exports). If both styles occur, the majority decides
# and every value not valid in it is reported. Spreadsheet number cells are numbers already.
class NumberError(ValueError):
    """A text that is no number in the given style; `reason`: 'invalid', 'ambiguous' or 'style'."""

    def __init__(self, text: object, reason: str = "invalid") -> None:
        self.text = text
        self.reason = reason
        super().__init__(f"not a number ({reason}): {text!r}")


MISSING = frozenset({"", "-", "--", "–", "—", ".", "..", "...", "/", "k.a.", "k. a.", "k.a", "ka", "n.a.", "n/a",
                     "n.v.", "na", "nan", "#n/a", "#nv"})
_INT, _AMB_DOT, _AMB_COMMA = r"\d+", r"[1-9]\d{0,2}\.\d{3}", r"[1-9]\d{0,2},\d{3}"
_STYLES = {"de": r"\d{1,3}(?:\.\d{3})+,\d+|\d{1,3}(?:\.\d{3}){2,}|\d*,\d+",
           "en": r"\d{1,3}(?:,\d{3})+\.\d+|\d{1,3}(?:,\d{3}){2,}|\d*\.\d+"}
_NUMBER = re.compile(f"(?P<int>{_INT})|(?P<amb_dot>{_AMB_DOT})|(?P<amb_comma>{_AMB_COMMA})"
                     f"|(?P<de>{_STYLES['de']})|(?P<en>{_STYLES['en']})", re.ASCII)


def _plain_line(group: str, mark: str) -> str:
    """A line that is "", "-" or a signed integer, ambiguous or `style` number (grouped by `group`, decimal
    `mark`), and nothing else; atomic groups keep one pass over 100,000 lines fast."""
    g, m = re.escape(group), re.escape(mark)
    grouped = (rf"[1-9]\d{{0,2}}(?:{g}\d{{3}})+(?:{m}\d+)?|0\d{{0,2}}(?:{g}\d{{3}}){{2,}}(?:{m}\d+)?"
               rf"|0\d{{0,2}}{g}\d{{3}}{m}\d+")
    return rf"(?>[-+]?+(?>\d*+{m}\d++|\d++(?!{g})|{grouped})|-)?"


_PLAIN = {style: re.compile(rf"{line}(?:\n{line})*+", re.ASCII)
          for style, line in (("de", _plain_line(".", ",")), ("en", _plain_line(",", ".")))}
_DECIDES = {"de": re.compile(rf"^[-+]?(?!{_AMB_COMMA}$)(?:{_STYLES['de']})$", re.ASCII | re.MULTILINE),
            "en": re.compile(rf"^[-+]?(?!{_AMB_DOT}$)(?:{_STYLES['en']})$", re.ASCII | re.MULTILINE)}
_SPACE_GROUPS = re.compile(r"\d{1,3}(?: \d{3})+(?:[.,]\d+)?", re.ASCII)
_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " ", "\u2212": "-", "\u2013": "-"})


def _clean_number(text: str) -> tuple[str, str]:
    """(sign, body) without spaces, a trailing % or € and a leading sign."""
    text = text.translate(_SPACES).strip()
    if text[-1:] in ("%", "€"):
        text = text[:-1].rstrip()
    sign = ""
    if text[:1] in ("+", "-"):
        sign, text = ("-" if text[0] == "-" else ""), text[1:].lstrip()
    if " " in text and _SPACE_GROUPS.fullmatch(text):
        text = text.replace(" ", "")
    return sign, text


def classify(text: str) -> tuple[str, str, str]:
    """(category, sign, body): category int|amb_dot|amb_comma|de|en|missing|invalid."""
    text = text.strip()
    match = _NUMBER.fullmatch(text)
    if match is not None:
        return match.lastgroup or "invalid", "", text
    if text in MISSING or text.casefold() in MISSING:
        return "missing", "", ""
    sign, body = _clean_number(text)
    match = _NUMBER.fullmatch(body)
    return (match.lastgroup or "invalid", sign, body) if match else ("invalid", sign, body)


def _number(category: str, sign: str, body: str, style: str, text: object) -> float | None:
    if category == "missing":
        return None
    if category == "int":
        value = float(sign + body)
    elif category == "invalid":
        raise NumberError(text)
    elif category.startswith("amb_") and style not in ("de", "en"):
        raise NumberError(text, "ambiguous")
    elif not category.startswith("amb_") and style in ("de", "en") and category != style:
        raise NumberError(text, "style")
    else:
        value = _convert(body, style if category.startswith("amb_") else category)
        value = -value if sign else value
    if not math.isfinite(value):  # 400 digits are no count of anything
        raise NumberError(text)
    return value


def _convert(body: str, style: str) -> float:
    return float(body.replace(".", "").replace(",", ".") if style == "de" else body.replace(",", ""))


def parse_number(text: object, style: str = "de") -> float | None:
    """A value as float; None for no value (empty, -, ., k.A.). Raises NumberError.

    style: "de" (1.234,5), "en" (1,234.5) or "ambiguous" (then 1.500/1,500 are refused).
    Numbers (int/float cells) are taken as they are.
    """
    if text is None:
        return None
    if isinstance(text, bool) or not isinstance(text, int | float | str):
        raise NumberError(text)
    if isinstance(text, str):
        return _number(*classify(text), style, text)
    if not math.isfinite(text):
        raise NumberError(text)
    return float(text)


def style_counts(categories: Iterable[str]) -> dict[str, int]:
    counts = {"de": 0, "en": 0, "amb": 0}
    for category in categories:
        if category in ("de", "en"):
            counts[category] += 1
        elif category.startswith("amb_"):
            counts["amb"] += 1
    return counts


def style_of(counts: Mapping[str, int]) -> str:
    if counts["de"] or counts["en"]:
        return "de" if counts["de"] >= counts["en"] else "en"
    return "ambiguous" if counts["amb"] else "de"


def detect_number_style(values: Iterable[object]) -> str | Finding:
    """'de' or 'en' (also 'de' when every value reads the same either way), 'ambiguous' when only
    values like 1.500 decide nothing, or a Finding (code read.number_style_conflict) when the
    values mix both styles. See the rule above."""
    texts = [v for v in values if isinstance(v, str)]
    categories = [classify(v)[0] for v in texts]
    counts = style_counts(categories)
    style = style_of(counts)
    if counts["de"] and counts["en"]:
        odd = next(t for t, c in zip(texts, categories, strict=True) if c in ("de", "en") and c != style)
        return Finding.make("read.number_style_conflict", found=odd.strip(), style=style)
    return style


def ambiguous_readings(text: str) -> tuple[float, float, str] | None:
    """For a value like 1.500 or -1,500 that reads two ways: (grouped, decimal, style of the grouped reading),
    e.g. '1.301' -> (1301.0, 1.301, 'de'), '1,301' -> (1301.0, 1.301, 'en'); None for any other text."""
    category, sign, body = classify(text)
    if not category.startswith("amb_"):
        return None
    grouped = "de" if category == "amb_dot" else "en"
    factor = -1.0 if sign else 1.0
    return factor * _convert(body, grouped), factor * _convert(body, "en" if grouped == "de" else "de"), grouped


def ambiguous_problem(row: int, column: str | None, letter: str | None, text: str, count: int,
                      sheet: str | None = None) -> Finding:
    """The read.number_ambiguous problem for the first of `count` values that stay ambiguous."""
    sign, body = _clean_number(text)
    whole, _, digits = body.replace(",", ".").partition(".")
    decimals = digits.rstrip("0") or "0"
    params: dict[str, object] = {"letter": letter} if letter else {}
    return Finding.make(
        "read.number_ambiguous", row=row, column=column, found=text, sheet=sheet, more=count - 1 or None,
        count=count, thousands=f"{sign}{whole}{digits}", decimal_de=f"{sign}{whole},{decimals}",
        decimal_en=f"{sign}{whole}.{decimals}", **params,
    )


def _plain_numbers(texts: list[str]) -> list[float | None] | None:
    """The values of a column of text cells in one go, exactly as the rule gives them, when every cell is
    plain (see _plain_line) and one of them decides the style (or none needs deciding); else None."""
    joined = "\n".join(texts)
    if joined.count("\n") != len(texts) - 1:
        return None  # a cell with a line break
    for style in ("de", "en"):
        body = values = None
        # Only digits, the decimal mark, "-" and line breaks: every line orjson reads is a plain line as well, so
        # such a column needs no pass of the pattern (see _json_numbers).
        if not joined.translate(_NOT_PLAIN[style]):
            body = joined.replace(",", ".") if style == "de" else joined
            values = _json_numbers(body)
        if (values is not None or _PLAIN[style].fullmatch(joined)) and (
                ("." not in joined and "," not in joined) or _DECIDES[style].search(joined)):
            if body is None:
                body = joined.replace(".", "").replace(",", ".") if style == "de" else joined.replace(",", "")
                values = _json_numbers(body)
            if values is None:
                parts = body.split("\n")
                try:
                    values = list(map(float, parts))
                except ValueError:  # "" or "-": no value
                    values = [None if p in ("", "-") else float(p) for p in parts]
            return None if math.inf in values or -math.inf in values else values
    return None


_NO_VALUE_LINE = re.compile(r"^-?$", re.MULTILINE)
# str.translate tables deleting what a column of plain numbers without grouping consists of, per style.
_NOT_PLAIN = {style: str.maketrans("", "", "0123456789\n-" + mark) for style, mark in (("de", ","), ("en", "."))}


def _json_numbers(body: str) -> list[float | None] | None:
    """float() of every line of `body` ("" and "-": None), read in one go as a JSON array by orjson, whose
    number parser rounds exactly as float() does; None when a line is no JSON number (+5, .5, 007, too big):
    then float() reads it line by line."""
    if "\n-0\n" in f"\n{body}\n":
        return None  # JSON reads -0 as the integer 0, float() as -0.0
    try:
        values: list[Any] = orjson.loads(f"[{body.replace(chr(10), ',')}]")
    except orjson.JSONDecodeError:
        try:  # once more with the lines without a value ("" or "-") as null
            values = orjson.loads(f"[{_NO_VALUE_LINE.sub('null', body).replace(chr(10), ',')}]")
        except orjson.JSONDecodeError:
            return None
    if len(values) != body.count("\n") + 1:
        return None
    if body.count(".") == len(values):  # a point in every line (at most one, or it was no JSON): floats only
        return values
    if int in set(map(type, values)):  # orjson gives a whole number as int: its float() is exactly that of the text
        return [float(v) if v.__class__ is int else v for v in values]
    return values


_FLAW_CODES = {"ambiguous": "ambiguous", "style": "read.number_style_conflict"}  # NumberError.reason -> flaw


# A cell's flaw: ("ambiguous", text, {}) or (problem code, what was found, the problem's parameters).
Flaw = tuple[str, str, dict[str, object]]


def _value_check(style: str, classified: Mapping[str, tuple[str, str, str]]
                 ) -> Callable[[object], tuple[float | None, Flaw | None]]:
    """cell -> (value, flaw): flaw None, ("ambiguous", text, {}) or (problem code, found, params)."""
    def check(cell: object) -> tuple[float | None, Flaw | None]:
        if cell.__class__ is str:
            try:
                return _number(*classified[cell], style, cell), None
            except NumberError as exc:
                code = _FLAW_CODES.get(exc.reason, "read.bad_number")
                return None, (code, cell.strip(), {"style": style} if exc.reason == "style" else {})
        if isinstance(cell, int | float) and not isinstance(cell, bool) and math.isfinite(cell):
            return float(cell), None
        if cell is None:
            return None, None
        code = "read.value_is_date" if isinstance(cell, date | time | timedelta) else "read.bad_number"
        return None, (code, display(cell), {})
    return check


def column_values(cells: list[Any], fallback: str = "") -> tuple[list[float | None], dict[int, Flaw]]:
    """The values of a table's value cells, and the flaws by position: (problem code or "ambiguous", found,
    params). The style is what the table's own values decide, else `fallback` (the whole file's)."""
    plain = _plain_numbers(cells) if set(map(type, cells)) == {str} else None
    if plain is not None:
        return plain, {}
    known = {text: classify(text) for text in {c for c in cells if c.__class__ is str}}
    style = style_of(style_counts(c for c, _, _ in known.values()))
    check = _value_check(fallback if style == "ambiguous" and fallback in ("de", "en") else style, known)
    # Per distinct cell, told apart by type too (1, 1.0, True).
    results: dict[tuple[type, object], tuple[float | None, Flaw | None]] = {}
    values: list[float | None] = []
    flaws: dict[int, Flaw] = {}
    for k, cell in enumerate(cells):
        key = (cell.__class__, cell)
        value, flaw = results[key] if key in results else results.setdefault(key, check(cell))
        values.append(value)
        if flaw is not None:
            flaws[k] = flaw
    return values, flaws
