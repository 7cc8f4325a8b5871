"""The core commands through the real dispatcher, on a real seeded store."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from commands import Caller, dispatch
from commands.registry import all_commands, split_command
from commands.state import State
from commands.texts import catalogue
from storage.models import Person

from .conftest import at

NOW = at("2018-09-21 10:00")


def ask(state: State, text: str, caller: Caller | None = None, now: datetime = NOW):
    return dispatch(state, text, caller or Caller(operator=True), now)


@pytest.mark.parametrize("spelling", ["M21", "M 21", "m21", "21"])
def test_status_accepts_every_measure_spelling(state: State, spelling: str) -> None:
    reply = ask(state, f"/status {spelling}")
    assert reply.ok
    assert reply.plain().startswith("M 21 · Wohnen")
    assert "Übersicht zum Sozialwohnungsbau" in reply.plain()


def test_status_of_unknown_measure_lists_the_known_ones(state: State) -> None:
    reply = ask(state, "/status M99")
    assert reply.status == "usage"
    assert "M99" in reply.plain() and "M11, M12, M13" in reply.plain()


def test_status_overview_has_one_line_per_measure(state: State) -> None:
    lines = ask(state, "/status").plain().splitlines()
    measure_lines = [line for line in lines if line.startswith("M ")]
    assert [line[:4] for line in measure_lines] == ["M 11", "M 12", "M 13", "M 14", "M 21", "M 22", "M 23", "M 24",
                                                    "M 31", "M 32", "M 33", "M 41", "M 42", "M 43"]
    assert "noch nicht terminiert" in measure_lines[1]
    assert "Termin 20.09.2018" in measure_lines[0]


def test_status_detail_shows_protocol_signatures_and_steps(state: State) -> None:
    state.store.add_step("M21", "Bauflächen nachliefern", due=date(2018, 12, 31), who="Amt 61")
    p, _ = state.store.record_protocol("M21", date(2018, 9, 20), sent_on=date(2018, 9, 21),
                                       signatories=["Erika Muster", "Max Mustermann"])
    state.store.sign(p.id, "Erika Muster", signed_on=date(2018, 9, 21), channel="telegram", at=NOW)
    text = ask(state, "/status M21").plain()
    assert "1 von 2 unterschrieben" in text
    assert "Es fehlt die Unterschrift von: Max Mustermann" in text
    assert "2. Bauflächen nachliefern (bis 31.12.2018) – Amt 61" in text
    steps_line = next(line for line in ask(state, "/status M21").lines if line and "Bauflächen" in line[0].text)
    assert steps_line[0].style == "i"  # outstanding steps in italics, as in the document


def test_status_detail_shows_latest_indicator_value(demo_monitor) -> None:
    state = demo_monitor.state
    state.store.add_delivery(file="x.csv", content_hash="h", office="Amt 61", received=NOW,
                             rows=[("M21-sozialwohnungen", "", "2027", 30.0, "", 2),
                                   ("M21-sozialwohnungen", "", "2028", 1234.5, "", 3)])
    text = ask(state, "/status M21").plain()
    # Later than the demo deliveries that `init --demo` imports (2022-2025).
    assert "Beispiel: Neu gebaute Sozialwohnungen: 1.234,5 Anzahl (2028)" in text


def test_measures_by_field(state: State) -> None:
    text = ask(state, "/massnahmen").plain()
    positions = [text.index(f) for f in ("Pflege", "Wohnen", "Soziale Lage", "Bildung")]
    assert positions == sorted(positions)
    assert text.count("M ") >= 14
    assert ask(state, "/measures").plain() == text


def test_meetings_lists_upcoming_and_unscheduled(state: State) -> None:
    state.store.add_meeting("M11", date(2018, 10, 15), approach="Zweites Gespräch")
    text = ask(state, "/termine").plain()
    upcoming, _, rest = text.partition("Noch nicht terminiert:")
    assert "M 11 15.10.2018: Zweites Gespräch" in upcoming
    assert "M 12" in rest and "M 13" in rest


def test_help_is_generated_from_the_registry(state: State) -> None:
    text = ask(state, "/hilfe").plain()
    for cmd in all_commands():
        if cmd.access != "admin":
            assert f"/{cmd.name}" in text
    member = Caller(user_id=5, person=Person("Erika", role="mitglied"))
    member_help = ask(state, "/hilfe", member).plain()
    assert all(f"/{c.name} " not in member_help and not member_help.count(f"/{c.name}\n")
               for c in all_commands() if c.access == "admin")


def test_every_command_has_german_and_english_help() -> None:
    en = catalogue("en")
    for cmd in all_commands():
        assert cmd.help, f"/{cmd.name} has no docstring"
        assert f"help.{cmd.name}" in en, f"/{cmd.name} has no English help"


def test_text_catalogues_have_the_same_keys() -> None:
    # German help lines are the commands' docstrings; only English has help.* keys of its own.
    assert set(catalogue("de")) - set(catalogue("en")) == set()
    assert all(k.startswith("help.") for k in set(catalogue("en")) - set(catalogue("de")))


def test_unknown_user_gets_no_data(state: State) -> None:
    stranger = Caller(user_id=4711, chat_id=4711)
    for text in ("/status", "/status M21", "/termine", "/massnahmen", "/hilfe", "/gibtsnicht"):
        reply = ask(state, text, stranger)
        assert reply.status == "denied"
        assert "4711" in reply.plain() and "M 21" not in reply.plain()
    start = ask(state, "/start", stranger)
    assert start.ok and "4711" in start.plain()


def test_english_language(state: State) -> None:
    reply = dispatch(state.for_language("en"), "/status M21", Caller(operator=True), NOW)
    assert "Housing" in reply.plain() and "Meetings:" in reply.plain()


def test_command_parsing_handles_bot_suffix_and_case() -> None:
    assert split_command("/Status@sozialmonitor_bot M 21") == ("status", ["M", "21"])
    assert split_command("status") is None


def test_unknown_command_and_plain_text_are_usage_errors(state: State) -> None:
    assert ask(state, "/gibtsnicht").status == "usage"
    assert ask(state, "Hallo").status == "usage"


def test_a_protocol_without_stored_signatories_counts_the_catalogue_participants(team_monitor) -> None:
    state = team_monitor.state
    expected = [p.name for p in state.catalogue.participants("M14")]
    assert len(expected) == 2
    state.store.record_protocol("M14", date(2018, 6, 28), sent_on=date(2018, 7, 2), signatories=[])
    overview = next(line for line in ask(state, "/status").plain().splitlines() if line.startswith("M 14"))
    assert "Protokoll 0/2" in overview
    detail = ask(state, "/status M14").plain()
    assert "0 von 2 unterschrieben" in detail and ", ".join(expected) in detail
    assert all(name in ask(state, "/protokolle").plain() for name in expected)
    from commands.report import build_report

    (row,) = [p for p in build_report(state, date(2018, 7, 10), charts=False).protocols if p.measure == "M14"]
    assert list(row.missing) == expected


def test_one_open_step_is_singular(state: State) -> None:
    line = next(x for x in ask(state, "/status").plain().splitlines() if x.startswith("M 11"))
    assert line.endswith("1 Schritt offen")
    line = next(x for x in ask(state, "/status").plain().splitlines() if x.startswith("M 12"))
    assert line.endswith("2 Schritte offen")


def test_a_command_on_its_own_line_with_arguments_below(state: State) -> None:
    assert split_command("/status\nM21") == ("status", ["M21"])
    assert ask(state, "/status\nM21").plain().startswith("M 21 · Wohnen")
    assert ask(state, "/").status == "usage"


def test_start_in_a_team_group_greets_without_a_wrong_name(state: State) -> None:
    member_of_group = Caller(user_id=77, chat_id=-100, group_member=True)
    text = ask(state, "/start", member_of_group).plain()
    assert "Fachstelle!" not in text and "Guten Tag" in text
