"""Finding an indicator or a person by what people type: id, name, or an unambiguous part of it.

/trend, /indikatoren and /verlauf find indicators here; /unterschrieben … für NAME and `--as NAME` find persons.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from storage.catalogue import Catalogue
from storage.models import Indicator, Measure, Person

from . import fmt
from .registry import UsageError
from .state import State

__all__ = ["NAMES_SHOWN", "Match", "catalogue_person", "find_indicator", "find_person", "resolve_indicator",
           "some_names", "words"]

T = TypeVar("T")

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


def words(text: str) -> list[str]:
    """'Beispiel: Neu gebaute Sozialwohnungen' -> ['beispiel', 'neu', 'gebaute', 'sozialwohnungen']."""
    return [w for w in _NOT_ALNUM.split(str(text).casefold().translate(_FOLD)) if w]


@dataclass(frozen=True)
class Match(Generic[T]):
    """`found` when the text names exactly one; else `candidates` lists the equally good ones (maybe none)."""

    found: T | None
    candidates: tuple[T, ...] = ()

    @property
    def ambiguous(self) -> bool:
        return self.found is None and len(self.candidates) > 1


def _best(items: Sequence[T], tiers: Iterable[Callable[[T], bool]]) -> Match[T]:
    """The first tier that matches anything decides: one hit is found, several are ambiguous."""
    for tier in tiers:
        hits = [item for item in items if tier(item)]
        if len(hits) == 1:
            return Match(hits[0], (hits[0],))
        if hits:
            return Match(None, tuple(hits))
    return Match(None)


def find_indicator(catalogue: Catalogue, measure: str | None, text: str) -> Match[Indicator]:
    """By id or name; else by whole words ('/trend M21 wohnungen' is the one with the word Wohnungen, not
    Sozialwohnungen); else by the starts of words; else by any part of the name or id."""
    query = words(text)
    items = [i for i in catalogue.indicators.values() if measure is None or i.measure == measure]
    if not query or not items:
        return Match(None)
    joined = "".join(query)
    vocab = {i.id: set(words(i.name)) | set(words(i.id)) for i in items}

    def exact(i: Indicator) -> bool:
        return query in (words(i.id), words(i.name))

    def whole_words(i: Indicator) -> bool:
        return all(w in vocab[i.id] for w in query)

    def word_starts(i: Indicator) -> bool:
        return all(any(v.startswith(w) for v in vocab[i.id]) for w in query)

    def part(i: Indicator) -> bool:
        return joined in "".join(words(i.name)) or joined in "".join(words(i.id))

    return _best(items, (exact, whole_words, word_starts, part))


def find_person(names: Iterable[str], text: str) -> Match[str]:
    """A person's name as in the catalogue, or an unambiguous start of it: of the whole name or of any of
    its words ('Erika' finds 'Beispiel: Erika Muster'); whole words count before starts of words.
    Case, umlauts and punctuation do not matter."""
    query = words(text)
    items = list(dict.fromkeys(names))
    if not query:
        return Match(None)

    def exact(name: str) -> bool:
        return words(name) == query

    def starts(name: str) -> bool:
        have = words(name)
        return have[: len(query) - 1] == query[:-1] and len(have) >= len(query) and have[len(query) - 1].startswith(
            query[-1])

    def whole_words_at_a_word(name: str) -> bool:
        have, n = words(name), len(query)
        return any(have[k:k + n] == query for k in range(len(have)))

    def starts_at_a_word(name: str) -> bool:
        have, n = words(name), len(query)
        return any(have[k:k + n - 1] == query[:-1] and len(have) >= k + n and have[k + n - 1].startswith(query[-1])
                   for k in range(len(have)))

    # 'Muster' is Erika Muster (a whole word) before it could be the start of Mustermann.
    return _best(items, (exact, starts, whole_words_at_a_word, starts_at_a_word))


def catalogue_person(catalogue: Catalogue, text: str) -> Match[Person]:
    """find_person over the catalogue's persons, handing out the Person records."""
    by_name = {p.name: p for p in catalogue.persons}
    match = find_person(by_name, text)
    return Match(by_name[match.found] if match.found else None, tuple(by_name[n] for n in match.candidates))


def resolve_indicator(state: State, measure: Measure, text: str) -> Indicator:
    """The indicator of `measure` that `text` names; a usage error naming the candidates or the known ones."""
    match = find_indicator(state.catalogue, measure.id, text)
    if match.found is not None:
        return match.found
    if match.ambiguous:
        raise UsageError("ind.ambiguous", found=text, measure=measure.number,
                         names=", ".join(f"{i.name} ({i.id})" for i in match.candidates))
    known = state.catalogue.indicators_of(measure.id)
    if not known:
        raise UsageError("ind.none", measure=measure.number)
    raise UsageError("ind.unknown", found=text, measure=measure.number,
                     known=", ".join(f"{i.name} ({i.id})" for i in known))


NAMES_SHOWN = 12  # a list of names in a reply: beyond this many, the closest ones and how many there are


def some_names(state: State, names: Sequence[str], near: str = "") -> str:
    """The names joined for a reply; a long list (1,000 blocks of a city) as the few closest to `near` and the
    number of all, so that a chat message stays readable."""
    if len(names) <= NAMES_SHOWN:
        return ", ".join(names)
    import difflib

    shown = difflib.get_close_matches(near, list(names), n=5, cutoff=0.0) if near else list(names[:5])
    return state.t("names_more", names=", ".join(shown), n=fmt.number(len(names), state.lang, 0))
