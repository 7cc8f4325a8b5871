"""`ask --as` and `run --console --as`: the chat as a catalogue person (by Telegram id or name), in real processes;
and extra arguments that a command does not take."""

from __future__ import annotations

from pathlib import Path

import pytest

from commands import Caller, dispatch
from commands.state import State

from .conftest import at, run_cli


def test_ask_as_a_name_or_an_id_answers_as_that_person(demo_workspace: Path) -> None:
    ws = ("--workspace", str(demo_workspace))
    by_name = run_cli(*ws, "ask", "--as", "Erika", "/unterschrieben M21")
    assert by_name.returncode == 0, by_name.stderr
    assert "Danke, Beispiel: Erika Muster" in by_name.stdout
    by_id = run_cli(*ws, "ask", "--as", "100000003", "/unterschrieben M22")
    assert by_id.returncode == 0 and "Beispiel: Max Mustermann" in by_id.stdout
    denied = run_cli(*ws, "ask", "--as", "Beispiel: Jonas", "/termin M21 01.10.2030")
    assert denied.returncode == 0 and "der Fachstelle (Admins) vorbehalten" in denied.stdout
    stranger = run_cli(*ws, "ask", "--as", "4711", "/status")
    assert "4711" in stranger.stdout and "M 21" not in stranger.stdout


@pytest.mark.parametrize(("who", "expected"), [("Niemand", "„Niemand“ ist keine Telegram-ID und kein Name"),
                                               ("Beispiel", "passt zu mehreren Personen")])
def test_ask_as_nobody_or_several_is_refused_in_one_sentence(demo_workspace: Path, who: str, expected: str) -> None:
    result = run_cli("--workspace", str(demo_workspace), "ask", "--as", who, "/status")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("Die Angaben passen nicht:") and expected in line


def test_console_chat_as_a_person_without_telegram(demo_workspace: Path) -> None:
    result = run_cli("--workspace", str(demo_workspace), "run", "--console", "--as", "Paula",
                     input="/unterschrieben M42\n/protokolle\n/schritt M42 neu Test\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Sie chatten als Beispiel: Paula Probe (mitglied, Amt 40)." in out
    assert "Danke, Beispiel: Paula Probe" in out and "Damit haben alle unterschrieben." in out
    assert "der Fachstelle (Admins) vorbehalten" in out


def test_run_as_nobody_refuses_to_start(demo_workspace: Path) -> None:
    result = run_cli("--workspace", str(demo_workspace), "run", "--console", "--as", "Niemand", input="")
    assert result.returncode == 2 and "keine Telegram-ID und kein Name" in result.stderr


@pytest.mark.parametrize(("text", "usage"), [
    ("/termine M21", "So geht es: /termine"),
    ("/status M21 M22", "So geht es: /status [Mxx]"),
    ("/massnahmen alle", "So geht es: /massnahmen"),
    ("/protokolle M21", "So geht es: /protokolle"),
    ("/kalender 2018", "So geht es: /kalender"),
    ("/termin M21 absagen sofort", "So geht es: /termin"),
    ("/hilfe status termin", "So geht es: /hilfe [BEFEHL]"),
])
def test_extra_arguments_get_the_usage_line(state: State, text: str, usage: str) -> None:
    reply = dispatch(state, text, Caller(operator=True), at("2018-09-21 10:00"))
    assert reply.status == "usage", reply.plain()
    assert "nimmt" in reply.plain() and usage in reply.plain()


def test_help_on_one_command(state: State) -> None:
    reply = dispatch(state, "/hilfe unterschrieben", Caller(operator=True), at("2018-09-21 10:00"))
    assert reply.ok and "für NAME [am TT.MM.JJJJ]" in reply.plain()
    english = dispatch(state.for_language("en"), "/help /schedule", Caller(operator=True), at("2018-09-21 10:00"))
    assert "/schedule Mxx DD.MM.YYYY" in english.plain() and "cancel" in english.plain()
    assert dispatch(state, "/hilfe gibtsnicht", Caller(operator=True), at("2018-09-21 10:00")).status == "usage"
