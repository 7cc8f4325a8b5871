"""The command registry loads command modules on first need: each command answers, /hilfe lists all, and a
short command does not import what it does not use (checked in fresh processes)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime

from commands import COMMAND_MODULES
from commands.registry import all_commands

from .conftest import ROOT


def fresh(code: str) -> dict:
    """Run `code` in a new interpreter (nothing imported yet) and return the JSON it prints last."""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_table_names_every_command_with_the_module_that_registers_it() -> None:
    registered = {alias: cmd.func.__module__ for cmd in all_commands() for alias in cmd.names()}
    listed = {name: f"commands.{module}" for module, names in COMMAND_MODULES.items() for name in names}
    assert listed == registered


def test_a_status_question_imports_neither_charts_nor_calendar_nor_holidays(workspace) -> None:
    found = fresh(f"""
import json, sys
from bot import cli
from bot.workspace import Monitor
from commands import Caller, dispatch
from pathlib import Path
monitor = Monitor.open(Path({str(workspace)!r}), env={{}})
reply = dispatch(monitor.state, "/status M21", Caller(operator=True), monitor.now())
monitor.close()
heavy = ("matplotlib", "numpy", "pandas", "icalendar", "holidays", "telegram", "watchdog", "openpyxl")
print(json.dumps({{"ok": reply.ok, "loaded": [m for m in heavy if m in sys.modules],
                  "commands": sorted(m for m in sys.modules if m.startswith("commands."))}}))
""")
    assert found["ok"] and found["loaded"] == []
    assert "commands.report" not in found["commands"] and "commands.meetings" not in found["commands"]


def test_every_command_is_found_in_a_fresh_process_and_an_unknown_one_is_not(workspace) -> None:
    names = sorted({alias for cmd in all_commands() for alias in cmd.names()})
    found = fresh(f"""
import json
from commands.registry import find
names = {names!r}
print(json.dumps({{"missing": [n for n in names if find(n) is None], "unknown": find("gibtesnicht") is None}}))
""")
    assert found == {"missing": [], "unknown": True}


def test_help_in_a_fresh_process_lists_every_command(workspace) -> None:
    expected = sorted(cmd.name for cmd in all_commands())
    found = fresh(f"""
import json
from bot.workspace import Monitor
from commands import Caller, dispatch
from commands.registry import all_commands
from pathlib import Path
monitor = Monitor.open(Path({str(workspace)!r}), env={{}})
text = dispatch(monitor.state, "/hilfe", Caller(operator=True), monitor.now()).plain()
monitor.close()
print(json.dumps({{"names": sorted(c.name for c in all_commands()),
                  "shown": [c.name for c in all_commands() if "/" + c.name in text]}}))
""")
    assert found["names"] == expected and sorted(found["shown"]) == expected


# One invocation per command that does its work (no usage line), in this order on the demo workspace.
INVOCATIONS = {
    "start": "/start", "hilfe": "/hilfe", "status": "/status M21", "massnahmen": "/massnahmen",
    "termine": "/termine", "protokolle": "/protokolle", "indikatoren": "/indikatoren M21",
    "lieferungen": "/lieferungen", "trend": "/trend M21 bauland", "verlauf": "/verlauf M21 bauland",
    "vorlage": "/vorlage Amt 61", "bericht": "/bericht md", "kalender": "/kalender", "schritte": "/schritte",
    "sozialindex": "/sozialindex",
    "termin": "/termin M12 10.11.2026 10:00", "protokoll": "/protokoll M12 10.11.2026 versandt",
    "unterschrieben": "/unterschrieben M42 30.08.2018 für Paula Probe", "schritt": "/schritt M21 neu Testschritt",
    "erinnerungen": "/erinnerungen senden",
}


def test_exactly_the_commands_marked_as_writing_change_the_store(demo_workspace) -> None:
    """`ask` reads the store without its lock for every command not marked `writes`: such a command must
    never change it, and one that changes it must be marked."""
    from bot.workspace import Monitor
    from commands import Caller, dispatch

    assert set(INVOCATIONS) == {cmd.name for cmd in all_commands()}
    marked = {cmd.name for cmd in all_commands() if cmd.writes}
    monitor = Monitor.open(demo_workspace, env={})
    try:
        now = datetime(2026, 11, 26, 10, 0, tzinfo=monitor.state.tz)
        changed = set()
        for name, said in INVOCATIONS.items():
            before = monitor.store.writes
            reply = dispatch(monitor.state, said, Caller(operator=True), now)
            assert reply.status == "ok", (said, reply.plain())
            if monitor.store.writes != before:
                changed.add(name)
    finally:
        monitor.close()
    assert changed == marked == {"termin", "protokoll", "unterschrieben", "schritt", "erinnerungen"}


def test_every_reading_command_answers_from_a_store_read_without_its_lock(demo_workspace) -> None:
    from bot.workspace import Monitor
    from commands import Caller, dispatch

    reading = [cmd.name for cmd in all_commands() if not cmd.writes]
    monitor = Monitor.open(demo_workspace, env={}, reading=True)
    try:
        assert monitor.store.read_only and monitor.outbox is None  # no lock taken, nothing to send
        now = datetime(2026, 11, 26, 10, 0, tzinfo=monitor.state.tz)
        for name in reading:
            reply = dispatch(monitor.state, INVOCATIONS[name], Caller(operator=True), now)
            assert reply.status == "ok", (name, reply.plain())
    finally:
        monitor.close()


def test_ask_takes_the_lock_only_for_a_writing_command(workspace) -> None:
    found = fresh(f"""
import json, sys
from bot.cli import _changes_nothing
from bot.workspace import open_checked
from pathlib import Path
monitor = open_checked(Path({str(workspace)!r}), reading=_changes_nothing("/status M21"))
read_only, locking = monitor.store.read_only, "filelock" in sys.modules
monitor.close()
print(json.dumps({{"read_only": read_only, "filelock": locking, "writes": not _changes_nothing("/schritt M21 neu x"),
                  "unknown": _changes_nothing("/gibtesnicht")}}))
""")
    assert found == {"read_only": True, "filelock": False, "writes": True, "unknown": True}
