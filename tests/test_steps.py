"""/schritte and /schritt through the real dispatcher and store."""

from __future__ import annotations

from datetime import date

import pytest

from commands import Caller, dispatch
from commands.state import State

from .conftest import at

NOW = at("2018-09-21 10:00")


def ask(state: State, text: str, now=NOW):
    return dispatch(state, text, Caller(operator=True), now)


def test_schritte_lists_the_seeded_steps_numbered_by_measure(state: State) -> None:
    reply = ask(state, "/schritte")
    text = reply.plain()
    assert reply.ok and text.startswith("Ausstehende Schritte (")
    assert "M 12" in text and "1. Gespräch zu M 12 terminieren" in text
    assert "alle Maßnahmen" in text and "Sozialausschusses vorstellen" in text
    one = ask(state, "/steps M43").plain()
    assert "2. Möglichkeiten nach Start des neuen Internetauftritts prüfen" in one and "M 12" not in one


def test_schritt_neu_with_due_date_then_erledigt(state: State) -> None:
    added = ask(state, "/schritt M21 neu Daten beim Amt 61 anfragen bis 30.11.2018")
    assert added.ok and "Schritt 2 zu M 21 angelegt" in added.plain()
    assert "Daten beim Amt 61 anfragen (bis 30.11.2018)" in added.plain()
    step = next(s for s in state.store.steps("M21") if s.number == 2)
    assert step.due == date(2018, 11, 30) and step.created == date(2018, 9, 21)
    late = ask(state, "/schritte M21", now=at("2018-12-03 09:00")).plain()
    assert "(bis 30.11.2018, überfällig)" in late
    done = ask(state, "/schritt m21 erledigt 2")
    assert done.ok and "Schritt 2 zu M 21 ist erledigt" in done.plain()
    assert [s.number for s in state.store.steps("M21")] == [1]
    kept = next(s for s in state.store.steps("M21", include_done=True) if s.number == 2)
    assert kept.done_on == date(2018, 9, 21) and kept.done_by == "Fachstelle"
    assert "offen sind: 1" in ask(state, "/schritt M21 erledigt 2").plain()


def test_steps_for_all_measures(state: State) -> None:
    assert ask(state, "/step alle new Bericht vorbereiten by 01.10.2018").ok
    assert "Bericht vorbereiten" in ask(state, "/schritte alle").plain()


@pytest.mark.parametrize(("text", "expected"), [
    ("/schritt M21", "„neu TEXT“ oder „erledigt N“"),
    ("/schritt M21 weg 1", "„weg“ verstehe ich nicht"),
    ("/schritt M21 neu", "Bitte den Text des Schritts angeben"),
    ("/schritt M21 neu Text bis 01.01.2018", "liegt in der Vergangenheit"),
    ("/schritt M21 neu Text bis 32.01.2019", "kein gültiges Datum"),
    ("/schritt M21 erledigt eins", "„eins“ ist keine Schrittnummer"),
    ("/schritt M77 erledigt 1", "Die Maßnahme „M77“ gibt es nicht"),
    ("/schritte M21 M22", "bitte nur eine Maßnahme"),
])
def test_bad_input_gets_one_clear_sentence(state: State, text: str, expected: str) -> None:
    reply = ask(state, text)
    assert reply.status == "usage" and expected in reply.plain()


def test_schritt_is_for_admins_schritte_for_members(state: State) -> None:
    from storage.models import Person

    member = Caller(user_id=7, person=Person("Test", measures=("M21",)))
    assert dispatch(state, "/schritt M21 erledigt 1", member, NOW).status == "denied"
    assert dispatch(state, "/schritte", member, NOW).ok
