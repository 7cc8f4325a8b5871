"""The command registry loads command modules on first need: each command answers, /hilfe lists all, and a
short command does not import what it does not use (checked in fresh processes)."""

from __future__ import annotations

import json
import subprocess
import sys

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
