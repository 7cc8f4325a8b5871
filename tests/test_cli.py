"""The command line through the real process: init, ask, check, exit codes, German errors, docs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import build_parser
from commands.registry import all_commands
from commands.texts import text

from .conftest import ROOT, run_cli


def test_init_ask_check_round_trip(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    result = run_cli("init", str(ws))
    assert result.returncode == 0, result.stderr
    again = run_cli("init", str(ws))
    assert again.returncode == 1
    assert "schon einen Arbeitsbereich" in again.stderr and "Traceback" not in again.stderr

    status = run_cli("--workspace", str(ws), "ask", "/status M21")
    assert status.returncode == 0, status.stderr
    assert status.stdout.startswith("M 21 · Wohnen")

    env_status = run_cli("ask", "/status", "m 21", env={"SOZIALMONITOR_WORKSPACE": str(ws)})
    assert env_status.stdout == status.stdout

    check = run_cli("check", "--workspace", str(ws))
    assert check.returncode == 0 and "Maßnahmen: 14" in check.stdout


def test_ask_exit_codes_and_errors_are_one_german_sentence(workspace: Path) -> None:
    unknown = run_cli("--workspace", str(workspace), "ask", "/gibtsnicht")
    assert unknown.returncode == 2 and "kenne ich nicht" in unknown.stderr
    bad_measure = run_cli("--workspace", str(workspace), "ask", "/status M99")
    assert bad_measure.returncode == 2 and "gibt es nicht" in bad_measure.stderr
    bad_args = run_cli("--workspace", str(workspace), "ask")
    assert bad_args.returncode == 2
    assert "Traceback" not in bad_args.stderr and len(bad_args.stderr.strip().splitlines()) == 1
    missing = run_cli("--workspace", str(workspace / "nirgends"), "ask", "/status")
    assert missing.returncode == 1 and "keinen Arbeitsbereich" in missing.stderr


def test_ask_as_a_stranger_gives_no_data(workspace: Path) -> None:
    result = run_cli("--workspace", str(workspace), "ask", "--as", "4711", "/status M21")
    assert "4711" in result.stdout and "Wohnen" not in result.stdout


def test_check_reports_problems_with_file_and_line(workspace: Path) -> None:
    catalogue = workspace / "katalog.toml"
    catalogue.write_text(catalogue.read_text(encoding="utf-8") + '\n[[indikator]]\nid = "x"\nmassnahme = "M77"\n',
                         encoding="utf-8")
    result = run_cli("--workspace", str(workspace), "check")
    assert result.returncode == 1
    line = len(catalogue.read_text(encoding="utf-8").splitlines()) - 2
    assert re.search(rf"katalog\.toml:{line}: .*M77", result.stdout), result.stdout


def test_console_chat_answers_until_end_of_input(workspace: Path) -> None:
    result = run_cli("--workspace", str(workspace), "run", "--console", input="/status M23\n/termine\n")
    assert result.returncode == 0, result.stderr
    assert "Zuständigkeit der Umsetzung liegt beim Land" in result.stdout
    assert "Noch nicht terminiert" in result.stdout


def test_every_cli_command_and_chat_command_is_documented() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    subcommands = next(a for a in build_parser()._actions if a.dest == "command").choices
    for name in subcommands:
        assert f"sozialmonitor {name}" in readme, f"README lacks `sozialmonitor {name}`"
    for cmd in all_commands():
        for alias in cmd.names():
            assert f"/{alias}" in readme, f"README lacks /{alias}"


def test_second_process_reads_but_does_not_write_while_the_monitor_runs(workspace: Path, tmp_path: Path) -> None:
    from bot.workspace import Monitor

    running = Monitor.open(workspace, env={})  # holds the store like `sozialmonitor run` does
    try:
        status = run_cli("--workspace", str(workspace), "ask", "/status M21")
        assert status.returncode == 0 and "Wohnen" in status.stdout
        change = run_cli("--workspace", str(workspace), "ask", "/schritt M21 neu Zahlen prüfen")
        assert "laufenden Sozialmonitor" in change.stdout + change.stderr and "Traceback" not in change.stderr
        data = tmp_path / "x.csv"
        data.write_text("Maßnahme;Indikator;Zeitraum;Wert\nM21;x;2018;1\n", encoding="utf-8")
        ingest = run_cli("--workspace", str(workspace), "ingest", str(data))
        assert ingest.returncode == 1 and "laufenden Sozialmonitor" in ingest.stderr
        assert not any("Zahlen prüfen" in s.text for s in running.store.steps("M21"))
    finally:
        running.close()


def test_ask_shows_what_a_command_tells_other_people(demo_workspace: Path) -> None:
    result = run_cli("--workspace", str(demo_workspace), "ask", "/termin M12 15.12.2099 10:00 Befragung")
    assert result.returncode == 0, result.stderr
    assert "[notice → Beispiel: Fachstelle Sozialplanung]" in result.stdout
    assert "15.12.2099" in result.stdout.split("[notice")[1]


def test_an_unexpected_error_is_one_sentence_and_a_log_file(workspace: Path, monkeypatch, capsys) -> None:
    from bot import cli
    from bot.workspace import Monitor

    def broken(*args, **kwargs):
        raise RuntimeError("a fault no check foresaw")

    monkeypatch.setattr(Monitor, "open", broken)  # fault injection: the failure itself is the subject
    assert cli.main(["--workspace", str(workspace), "ask", "/status"]) == 1
    err = capsys.readouterr().err
    log = workspace / "daten" / "sozialmonitor-fehler.log"
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "RuntimeError" in err and str(log) in err
    assert "a fault no check foresaw" in log.read_text(encoding="utf-8")


def test_ask_with_telegram_configured_queues_the_notices_for_the_bot(demo_workspace: Path) -> None:
    from storage.outbox import Outbox

    env = {"SOZIALMONITOR_TELEGRAM_TOKEN": "123:unbenutzt"}
    result = run_cli("--workspace", str(demo_workspace), "ask", "/termin M12 15.12.2099 10:00 Befragung", env=env)
    assert result.returncode == 0, result.stderr
    assert "Postausgang" in result.stdout
    box = Outbox(demo_workspace / "daten" / "postausgang.json")
    try:
        waiting = box.pending()
    finally:
        box.close()
    assert waiting and all("15.12.2099" in item.messages[0] for item in waiting)
    assert len(waiting) == result.stdout.count("[notice →")


# ---------------------------------------------------------------- settings: every command refuses what check reports
def _bad_settings(workspace: Path, case: str) -> None:
    from tests.test_config import BAD

    bad = next(b for b in BAD if b.name == case)
    (workspace / "sozialmonitor.toml").write_text(bad.text(), encoding="utf-8")


SUBSET = ["negative max_rows", "hours without minutes", "unknown timezone", "unknown key", "TOML syntax: open header",
          "bool as text", "whole section of the wrong type", "room alias instead of id"]


@pytest.mark.parametrize("case", SUBSET)
def test_check_reports_a_bad_setting_with_line_key_and_value(workspace: Path, case: str) -> None:
    from tests.test_config import BAD

    bad = next(b for b in BAD if b.name == case)
    _bad_settings(workspace, case)
    result = run_cli("--workspace", str(workspace), "check")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "Unerwarteter Fehler" not in result.stderr
    line = next(line for line in result.stdout.splitlines() if "sozialmonitor.toml" in line)
    assert line.startswith(f"{workspace / 'sozialmonitor.toml'}:{bad.line()}: ")
    assert bad.key in line and bad.found in line


@pytest.mark.parametrize("case", ["negative max_rows", "TOML syntax: open header"])
def test_every_command_refuses_invalid_settings_with_the_text_of_check(workspace: Path, case: str) -> None:
    _bad_settings(workspace, case)
    check = run_cli("--workspace", str(workspace), "check")
    assert check.returncode == 1
    headline = text("de", "cli.settings_refused", path=workspace / "sozialmonitor.toml")
    for command in (["run", "--console"], ["ask", "/status"], ["reminders"], ["report"], ["ingest", "x.csv"]):
        result = run_cli("--workspace", str(workspace), *command, input="/status\n")
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        assert result.stderr.splitlines() == [headline, *check.stdout.splitlines()], command
        assert result.stdout == ""


def test_the_template_written_by_init_passes_check(tmp_path: Path) -> None:
    for demo in ([], ["--demo"]):
        ws = tmp_path / f"ws{len(demo)}"
        assert run_cli("init", str(ws), *demo).returncode == 0
        check = run_cli("--workspace", str(ws), "check")
        assert check.returncode == 0, check.stdout
        assert check.stdout.startswith("Einstellungen und Katalog sind in Ordnung")


# ---------------------------------------------------------------- a closed pipe ends quietly
def test_a_reader_that_is_gone_before_the_output_ends_it_quietly(workspace: Path) -> None:
    read, write = os.pipe()
    os.close(read)  # nobody will ever read: the first write fails with EPIPE
    try:
        for command in (["ask", "/status"], ["report"]):
            result = subprocess.run([sys.executable, "-m", "bot", "--workspace", str(workspace), *command],
                                    cwd=ROOT, stdout=write, stderr=subprocess.PIPE, text=True, timeout=60)
            assert result.returncode == 0, result.stderr
            assert result.stderr == "", command
    finally:
        os.close(write)


def test_piping_a_long_answer_into_head_prints_no_error(workspace: Path) -> None:
    from storage.store import Store

    with Store(workspace / "daten" / "sozialmonitor.json") as store:
        store.add_steps([("M21", f"Schritt {n}: " + "Daten der Ämter zusammentragen und prüfen " * 3)
                         for n in range(1500)])
    full = run_cli("--workspace", str(workspace), "ask", "/schritte M21")
    assert full.returncode == 0 and len(full.stdout.encode()) > 200_000  # well beyond a pipe's buffer
    ask = subprocess.Popen([sys.executable, "-m", "bot", "--workspace", str(workspace), "ask", "/schritte M21"],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = subprocess.Popen(["head", "-1"], stdin=ask.stdout, stdout=subprocess.PIPE)
    assert ask.stdout is not None and ask.stderr is not None
    ask.stdout.close()  # only head reads the pipe now
    first, _ = head.communicate(timeout=60)
    err = ask.stderr.read().decode()
    ask.stderr.close()
    assert ask.wait(60) == 0, err
    assert first.decode() == full.stdout.splitlines(keepends=True)[0]
    assert err == ""


# ---------------------------------------------------------------- reminders: a what-if never sends
def test_reminders_send_in_the_future_is_refused_and_consumes_nothing(demo_workspace: Path) -> None:
    from storage.store import Store

    def sent() -> set[str]:
        with Store(demo_workspace / "daten" / "sozialmonitor.json") as store:
            return store.sent_keys()

    before = sent()
    future = run_cli("--workspace", str(demo_workspace), "reminders", "--at", "2099-06-01T09:00", "--send")
    assert future.returncode == 2
    assert "Zukunft" in future.stderr and "Was-wäre-wenn" in future.stderr and future.stdout == ""
    assert sent() == before
    what_if = run_cli("--workspace", str(demo_workspace), "reminders", "--at", "2099-06-01T09:00")
    assert what_if.returncode == 0
    past = run_cli("--workspace", str(demo_workspace), "reminders", "--at", "2018-09-19T09:00", "--send")
    assert past.returncode == 0, past.stderr


# ---------------------------------------------------------------- argparse speaks the workspace's language
def test_argument_errors_are_german_and_english_with_language_en(workspace: Path) -> None:
    cases = [(["ask"], "es fehlt die Angabe BEFEHL", "the following arguments are required: BEFEHL"),
             (["report", "--format", "doc"], "'doc' ist nicht möglich; möglich sind 'md'",
              "invalid choice: 'doc' (choose from 'md'"),
             (["check", "--extra"], "unbekannte Angaben: --extra", "unrecognized arguments: --extra"),
             (["gibtsnicht"], "'gibtsnicht' ist nicht möglich", "invalid choice: 'gibtsnicht'"),
             (["ask", "--as", "Erika", "/status"], "„Erika“ ist keine Telegram-ID", "“Erika” is not a Telegram id")]
    english = ("the following arguments", "invalid choice", "unrecognized arguments", "expected one argument")
    for argv, german, _ in cases:
        result = run_cli("--workspace", str(workspace), *argv)
        assert result.returncode == 2, argv
        (line,) = result.stderr.splitlines()
        assert german in line and line.startswith("Die Angaben passen nicht:")
        assert not any(phrase in line for phrase in english), line
    settings = workspace / "sozialmonitor.toml"
    settings.write_text(settings.read_text(encoding="utf-8").replace('language = "de"', 'language = "en"'),
                        encoding="utf-8")
    for argv, _, in_english in cases:
        result = run_cli(*argv, env={"SOZIALMONITOR_WORKSPACE": str(workspace)})
        assert result.returncode == 2, argv
        (line,) = result.stderr.splitlines()
        assert in_english in line and line.startswith("The arguments do not fit:")


def test_help_is_german(workspace: Path) -> None:
    result = run_cli("--workspace", str(workspace), "report", "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Aufruf: sozialmonitor report") and "diese Hilfe zeigen" in result.stdout
    assert "usage:" not in result.stdout and "show this help" not in result.stdout


def test_ingest_of_a_folder_says_it_is_a_folder(workspace: Path, tmp_path: Path) -> None:
    folder = tmp_path / "lieferungen"
    folder.mkdir()
    result = run_cli("--workspace", str(workspace), "ingest", str(folder))
    assert result.returncode == 1
    assert result.stdout.strip() == text("de", "ingest.cli.folder", file=folder)


def test_each_process_sees_what_the_one_before_wrote(demo_workspace: Path, tmp_path: Path) -> None:
    """`ingest` ends its process right after its output (no teardown): the store, its coverage and the archive
    are complete by then, and the next `ask` answers from them."""
    data = tmp_path / "M21_2031.csv"
    data.write_text("Maßnahme;Indikator;Zeitraum;Wert\nM21;M21-sozialwohnungen;2025;71\n", encoding="utf-8")
    ingest = run_cli("--workspace", str(demo_workspace), "ingest", str(data))
    assert ingest.returncode == 0 and "1 ersetzt" in ingest.stdout, ingest.stdout + ingest.stderr
    status = run_cli("--workspace", str(demo_workspace), "ask", "/status M21")
    assert "Beispiel: Neu gebaute Sozialwohnungen: 71 Anzahl (2025)" in status.stdout
    assert (demo_workspace / "daten" / "sozialmonitor.abdeckung.json").exists()
    assert list((demo_workspace / "ablage" / "verarbeitet").rglob("M21_2031.csv"))


def test_output_for_a_reader_that_stopped_early_ends_quietly(demo_workspace: Path) -> None:
    """The answer waits in the output buffer until the process ends; a pipe closed by then (`| head -0`) is no
    error and no traceback."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    with subprocess.Popen([sys.executable, "-m", "bot", "--workspace", str(demo_workspace), "ask", "/hilfe"],
                          cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == 0 and err == ""
