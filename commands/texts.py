"""The user-facing text catalogue, one dict per language, merged from the parts of the program."""

from __future__ import annotations

from . import (
    texts_bot,
    texts_channels,
    texts_core,
    texts_flow,
    texts_ingest,
    texts_ingest_notices,
    texts_reminders,
    texts_report,
    texts_sozialindex,
    texts_store,
)

__all__ = ["LANGUAGES", "catalogue", "register", "text"]

LANGUAGES = ("de", "en")

_CATALOGUE: dict[str, dict[str, str]] = {"de": {}, "en": {}}


def register(de: dict[str, str], en: dict[str, str]) -> None:
    """Add a part's texts; every key must exist in both languages (a test checks it)."""
    _CATALOGUE["de"].update(de)
    _CATALOGUE["en"].update(en)


def catalogue(lang: str) -> dict[str, str]:
    return _CATALOGUE[lang if lang in _CATALOGUE else "de"]


# Positional-only: settings and catalogue problems fill a parameter that is itself called `key`.
def text(lang: str, key: str, /, **params: object) -> str:
    """The text for `key` in `lang`, falling back to German; params are filled with str.format."""
    if params.get("n") == 1 and f"{key}_one" in _CATALOGUE["de"]:
        key = f"{key}_one"  # the singular form, where a text has one ("1 Schritt offen")
    template = catalogue(lang).get(key) or _CATALOGUE["de"].get(key)
    if template is None:
        raise KeyError(f"no text for {key!r}")
    return template.format(**params) if params else template


register(texts_core.DE, texts_core.EN)
register(texts_bot.DE, texts_bot.EN)
register(texts_ingest.DE, texts_ingest.EN)
register(texts_ingest_notices.DE, texts_ingest_notices.EN)
register(texts_reminders.DE, texts_reminders.EN)
register(texts_report.DE, texts_report.EN)
register(texts_store.DE, texts_store.EN)
register(texts_sozialindex.DE, texts_sozialindex.EN)
register(texts_flow.DE, texts_flow.EN)
register(texts_channels.DE, texts_channels.EN)
