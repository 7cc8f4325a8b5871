"""A catalogue that would empty the monitor is refused: on reload, at start, and by `check` (read-only)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from bot.runtime import ADMINS
from bot.workspace import Monitor, WorkspaceError, open_checked, problem_text
from commands import Caller, dispatch
from commands.texts import text
from storage.catalogue import ADMINS_META, check_against_store, parse_catalogue, render_catalogue, stored_data
from storage.models import Indicator, Person
from storage.store import Store
from tests.conftest import ROOT, run_cli
from tests.test_watcher import Notices, tune, wait_for
from watchers import build_watcher

T0 = datetime(2018, 10, 1, 9, 0)


def test_the_store_names_what_a_catalogue_must_keep(tmp_path: Path) -> None:
    with Store(tmp_path / "s.json") as store:
        store.add_meeting("M21", date(2018, 9, 20))
        store.record_protocol("M22", date(2018, 9, 19), sent_on=date(2018, 9, 21), signatories=["A"])
        store.add_step("M23", "Zahlen prüfen")
        store.add_step("", "für alle Maßnahmen")
        store.add_delivery(file="a.csv", content_hash="h", office="Amt 61", received=T0, measures=["M24"],
                           rows=[("M24-x", "", "2016", 1.0, "", 2), ("M24-x", "", "2017", 2.0, "", 3),
                                 ("M24-x", "Lützel", "2017", 3.0, "", 4)])
        store.set_meta(ADMINS_META, ["Erika Muster"])
        held = stored_data(store)
    assert held.measures == {"M21": {"meetings": 1, "protocols": 0, "steps": 0, "deliveries": 0},
                             "M22": {"meetings": 0, "protocols": 1, "steps": 0, "deliveries": 0},
                             "M23": {"meetings": 0, "protocols": 0, "steps": 1, "deliveries": 0},
                             "M24": {"meetings": 0, "protocols": 0, "steps": 0, "deliveries": 1}}
    assert held.indicators == {"M24-x": 2}
    assert held.admins == ("Erika Muster",)

    whole, _ = parse_catalogue(render_catalogue(indicators=[Indicator("M24-x", "M24", "X")],
                                                persons=[Person("Erika Muster", role="admin")]))
    assert whole is not None and check_against_store(whole, held) == []
    # A different admin is fine: only a catalogue without any admin drops "the last" one.
    other, _ = parse_catalogue(render_catalogue(indicators=[Indicator("M24-x", "M24", "X")],
                                                persons=[Person("Max Mustermann", role="admin")]))
    assert other is not None and check_against_store(other, held) == []

    empty, _ = parse_catalogue("")
    assert empty is not None
    problems = check_against_store(empty, held, "katalog.toml")
    assert [(p.code, p.params.get("id")) for p in problems] == [
        ("cat_drops_measure", "M21"), ("cat_drops_measure", "M22"), ("cat_drops_measure", "M23"),
        ("cat_drops_measure", "M24"), ("cat_drops_indicator", "M24-x"), ("cat_drops_admins", None)]
    lines = [problem_text(p, "de") for p in problems]
    assert lines[0] == ('katalog.toml: Maßnahme M21 fehlt, zu ihr sind aber Daten gespeichert (Besprechungen: 1, '
                        'Protokolle: 0, Schritte: 0, Lieferungen: 0). Bitte wieder einen Eintrag [[massnahme]] mit '
                        'id = "M21" aufnehmen.')
    assert "„M24-x“" in lines[4] and "2 Zeitraum" in lines[4]
    assert "Erika Muster" in lines[5] and 'rolle = "admin"' in lines[5]


def _without_indicator(catalogue: str, indicator: str) -> str:
    blocks = catalogue.split("\n\n")
    kept = [b for b in blocks if f'id = "{indicator}"' not in b]
    assert len(kept) == len(blocks) - 1
    return "\n\n".join(kept)


def test_reload_keeps_the_last_good_catalogue_and_takes_a_later_valid_edit(demo_monitor: Monitor) -> None:
    path = demo_monitor.settings.catalogue_file
    good = path.read_text(encoding="utf-8")
    before = demo_monitor.catalogue
    assert demo_monitor.store.periods("M21-sozialwohnungen")  # the demo data has values for it

    path.write_text("", encoding="utf-8")
    problems = demo_monitor.reload_catalogue()
    assert demo_monitor.catalogue is before
    assert {p.params["id"] for p in problems if p.code == "cat_drops_measure"} == set(before.measures)
    reply = dispatch(demo_monitor.state, "/status", Caller(operator=True), demo_monitor.now())
    assert "M 21" in reply.plain() and "M 43" in reply.plain()

    path.write_text(_without_indicator(good, "M21-sozialwohnungen"), encoding="utf-8")
    problems = demo_monitor.reload_catalogue()
    assert [(p.code, p.params["id"]) for p in problems] == [("cat_drops_indicator", "M21-sozialwohnungen")]
    assert demo_monitor.catalogue is before

    path.write_text(good + '\n[[indikator]]\nid = "M43-neu"\nmassnahme = "M43"\nname = "Neu"\n', encoding="utf-8")
    assert demo_monitor.reload_catalogue() == []
    assert "M43-neu" in demo_monitor.catalogue.indicators
    # An indicator without values may go again.
    path.write_text(good, encoding="utf-8")
    assert demo_monitor.reload_catalogue() == []
    assert "M43-neu" not in demo_monitor.catalogue.indicators


def test_reload_refuses_a_catalogue_without_any_admin(demo_monitor: Monitor) -> None:
    path = demo_monitor.settings.catalogue_file
    good = path.read_text(encoding="utf-8")
    assert demo_monitor.reload_catalogue() == []  # taking it over notes the admins in the store
    assert demo_monitor.store.meta(ADMINS_META) == ["Beispiel: Fachstelle Sozialplanung"]
    path.write_text(good.replace('rolle = "admin"', 'rolle = "mitglied"'), encoding="utf-8")
    (problem,) = demo_monitor.reload_catalogue()
    assert problem.code == "cat_drops_admins"
    assert demo_monitor.catalogue.admins[0].name == "Beispiel: Fachstelle Sozialplanung"


@pytest.fixture
def watching(demo_monitor: Monitor) -> Iterator[Notices]:
    notices = Notices()
    tune(demo_monitor)
    watcher = build_watcher(demo_monitor, notices)
    watcher.start()
    try:
        yield notices
    finally:
        watcher.stop()


def test_the_running_watcher_tells_the_admins_exactly_what_would_be_dropped(
        demo_monitor: Monitor, watching: Notices) -> None:
    path = demo_monitor.settings.catalogue_file
    good = path.read_text(encoding="utf-8")
    path.write_text(_without_indicator(good, "M21-sozialwohnungen"), encoding="utf-8")
    headline = text("de", "cat.refused_reload", path=path)
    wait_for(lambda: any(headline in t for t in watching.texts()), what="refusal notice")
    refusal = next(n for n in watching if headline in n.reply.plain())
    assert refusal.recipients == (ADMINS,) and refusal.kind == "error"
    body = refusal.reply.plain()
    assert "„M21-sozialwohnungen“ fehlt" in body and 'id = "M21-sozialwohnungen"' in body
    assert "M21-sozialwohnungen" in demo_monitor.catalogue.indicators

    path.write_text(good + '\n[[indikator]]\nid = "M43-neu"\nmassnahme = "M43"\nname = "Neu"\n', encoding="utf-8")
    wait_for(lambda: "M43-neu" in demo_monitor.catalogue.indicators, what="later valid edit")
    wait_for(lambda: any("übernommen (" in t for t in watching.texts()), what="taken-over notice")


def test_a_command_refuses_to_open_on_a_catalogue_that_drops_data(demo_workspace: Path) -> None:
    catalogue = demo_workspace / "katalog.toml"
    catalogue.write_text("", encoding="utf-8")
    with pytest.raises(WorkspaceError) as exc:
        open_checked(demo_workspace)
    first, *rest = str(exc.value).splitlines()
    assert first == text("de", "cli.catalogue_refused", path=catalogue)
    measures = [line for line in rest if ": Maßnahme " in line]
    indicators = [line for line in rest if ": Indikator " in line]
    assert len(measures) == 14 and all("fehlt, zu ihr sind aber Daten gespeichert" in line for line in measures)
    assert indicators and len(measures) + len(indicators) == len(rest)
    # Commands about the store itself (restoring a backup) may open it all the same.
    monitor = open_checked(demo_workspace, guard_catalogue=False)
    try:
        assert monitor.catalogue.measures == {}
    finally:
        monitor.close()


# ---------------------------------------------------------------- through the real command line
def test_check_compares_with_the_store_read_only_while_run_holds_it(demo_workspace: Path) -> None:
    store_file = demo_workspace / "daten" / "sozialmonitor.json"
    catalogue = demo_workspace / "katalog.toml"
    good = catalogue.read_text(encoding="utf-8")
    running = open_checked(demo_workspace)  # holds the store like `sozialmonitor run`
    try:
        catalogue.write_text(_without_indicator(good, "M21-sozialwohnungen").replace(
            'rolle = "admin"', 'rolle = "mitglied"'), encoding="utf-8")
        before = store_file.read_bytes()
        check = run_cli("--workspace", str(demo_workspace), "check")
        assert check.returncode == 1, check.stdout + check.stderr
        lines = check.stdout.splitlines()
        assert lines == [
            f"{catalogue}: " + text("de", "cat_drops_indicator", id="M21-sozialwohnungen",
                                    periods=len(running.store.periods("M21-sozialwohnungen"))),
            f"{catalogue}: " + text("de", "cat_drops_admins", names="Beispiel: Fachstelle Sozialplanung"),
        ]
        assert store_file.read_bytes() == before
        running.store.add_step("M21", "noch schreibbar")  # check took no lock from the running monitor

        catalogue.write_text(good, encoding="utf-8")
        again = run_cli("--workspace", str(demo_workspace), "check")
        assert again.returncode == 0 and "Maßnahmen: 14" in again.stdout
    finally:
        running.close()


def test_run_and_ask_refuse_with_the_text_of_check(demo_workspace: Path) -> None:
    catalogue = demo_workspace / "katalog.toml"
    catalogue.write_text("", encoding="utf-8")
    check = run_cli("--workspace", str(demo_workspace), "check")
    assert check.returncode == 1 and sum(": Maßnahme " in line for line in check.stdout.splitlines()) == 14
    for command in (["run", "--console"], ["ask", "/status"], ["reminders"], ["report"]):
        result = run_cli("--workspace", str(demo_workspace), *command, input="/status\n")
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        first, *rest = result.stderr.splitlines()
        assert first == text("de", "cli.catalogue_refused", path=catalogue)
        assert rest == check.stdout.splitlines()
        assert result.stdout == "" and "Traceback" not in result.stderr


@pytest.mark.slow
def test_the_running_console_monitor_keeps_its_catalogue(demo_workspace: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOZIALMONITOR_")}
    out_path = tmp_path / "out.txt"
    catalogue = demo_workspace / "katalog.toml"
    good = catalogue.read_text(encoding="utf-8")
    with open(out_path, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "--workspace", str(demo_workspace), "run", "--console"],
                                cwd=ROOT, env={**env, "PYTHONUNBUFFERED": "1"}, stdin=subprocess.PIPE,
                                stdout=out, stderr=subprocess.STDOUT)
    assert proc.stdin is not None

    def wait_output(needle: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while needle not in (seen := out_path.read_text(encoding="utf-8")):
            assert proc.poll() is None and time.monotonic() < deadline, seen
            time.sleep(0.05)
        return seen

    try:
        wait_output("Konsolen-Chat")
        catalogue.write_text("", encoding="utf-8")
        wait_output("nicht übernommen")
        proc.stdin.write(b"/massnahmen\n")
        proc.stdin.flush()
        wait_output("M 43")  # the running monitor still answers from the last good catalogue
        # The notice names what would be dropped; it may be printed before or after that answer.
        wait_output("Maßnahme M43 fehlt")
        catalogue.write_text(good + '\n[[indikator]]\nid = "M43-neu"\nmassnahme = "M43"\nname = "Neu"\n',
                             encoding="utf-8")
        wait_output("Der geänderte Katalog wurde übernommen")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdin.close()
    assert "Traceback" not in out_path.read_text(encoding="utf-8")
    assert re.search(r"\[error → .*\]\n" + re.escape(text("de", "cat.refused_reload", path=catalogue)),
                     out_path.read_text(encoding="utf-8"))


def test_check_reports_a_damaged_store_instead_of_crashing(workspace: Path) -> None:
    (workspace / "daten" / "sozialmonitor.json").write_bytes(b'{"meta": {"1": {"schema"')
    result = run_cli("--workspace", str(workspace), "check")
    assert result.returncode == 1 and "Traceback" not in result.stderr and "Unerwarteter" not in result.stderr
    assert "beschädigt oder unvollständig" in result.stdout
