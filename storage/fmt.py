"""German and English formatting of dates, numbers and shortened titles (shared by commands and watchers)."""

from __future__ import annotations

from datetime import date, time

__all__ = ["clock", "day", "number", "short"]


def day(value: date | None, lang: str = "de") -> str:
    if value is None:
        return "—"
    return value.strftime("%d.%m.%Y") if lang == "de" else value.isoformat()


def clock(value: time | None) -> str:
    return value.strftime("%H:%M") if value else ""


def number(value: float | None, lang: str = "de", digits: int = 2) -> str:
    """1234.5 -> '1.234,5' (de) or '1,234.5' (en); integers without decimals; None -> '—'."""
    if value is None:
        return "—"
    text = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.{digits}f}".rstrip("0").rstrip(".")
    if lang == "de":
        text = text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")
    return text


def short(text: str, limit: int = 48) -> str:
    """Cut at a word boundary and mark the cut with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(",.;:")
    return cut + "…"
