"""The words of the ingest: watchers/ picks a text's key and parameters, the catalogue that words them is installed.

The text catalogues live in commands/ (every word a person reads); the composition root (bot/) installs them here
once, the way `gettext.install` does for `_`, so that the ingest imports nothing of the chat layer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

__all__ = ["catalogue", "install", "text"]

_text: Callable[..., str] | None = None
_catalogue: Callable[[str], Mapping[str, str]] | None = None


def install(text_of: Callable[..., str], catalogue_of: Callable[[str], Mapping[str, str]]) -> None:
    """`text_of(lang, key, **params)` words one text; `catalogue_of(lang)` is every text of a language."""
    global _text, _catalogue
    _text, _catalogue = text_of, catalogue_of


def text(lang: str, key: str, /, **params: object) -> str:
    if _text is None:
        raise RuntimeError("no text catalogue installed (bot/ installs it at start)")
    return _text(lang, key, **params)


def catalogue(lang: str) -> Mapping[str, str]:
    if _catalogue is None:
        raise RuntimeError("no text catalogue installed (bot/ installs it at start)")
    return _catalogue(lang)
