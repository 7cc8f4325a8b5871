"""End-to-end: the real `sozialmonitor run` process against the fake Bot API and a real shared folder."""

from __future__ import annotations

import io
import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.run import setup_logging
from bot.workspace import Monitor
from commands.texts import text
from tests.conftest import ROOT
from tests.fakebotapi import FakeBotAPI, SentMessage

ADMIN_ID, MEMBER_ID, STRANGER_ID = 100000001, 100000002, 555000222


class Process:
    """`python -m bot --workspace WS run`, output in files (a full pipe must never block the bot)."""

    def __init__(self, workspace: Path, folder: Path, *args: str, env: dict[str, str] | None = None,
                 stdin: int = subprocess.DEVNULL) -> None:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("SOZIALMONITOR_")}
        full_env.update(env or {}, PYTHONUNBUFFERED="1")
        self.stdout_path, self.stderr_path = folder / "stdout.txt", folder / "stderr.txt"
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen([sys.executable, "-m", "bot", "--workspace", str(workspace), "run", *args],
                                         cwd=ROOT, env=full_env, stdout=out, stderr=err, stdin=stdin)

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_output(self, needle: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.stdout:
            assert self.proc.poll() is None, f"process ended early:\n{self.stdout}\n{self.stderr}"
            assert time.monotonic() < deadline, f"{needle!r} not printed:\n{self.stdout}\n{self.stderr}"
            time.sleep(0.05)

    def stop(self, signum: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signum)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"process did not stop:\n{self.stdout}\n{self.stderr}") from None


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Process]]:
    processes: list[Process] = []

    def run(workspace: Path, *args: str, **kwargs: object) -> Process:
        folder = tmp_path / f"proc{len(processes)}"
        folder.mkdir()
        processes.append(Process(workspace, folder, *args, **kwargs))  # type: ignore[arg-type]
        return processes[-1]

    yield run
    for process in processes:
        if process.proc.poll() is None:
            process.proc.kill()
            process.proc.wait()
        if process.proc.stdin:
            process.proc.stdin.close()


def ask(api: FakeBotAPI, chat_id: int, said: str, expect: Callable[[str], bool], timeout: float = 20) -> SentMessage:
    """Send as the user and wait for the matching answer (reminders may come in between)."""
    since = api.mark()
    api.send_user_message(chat_id, text=said)
    return api.wait_for_sent(lambda m: m.chat_id == chat_id and expect(m.visible_text or ""), timeout, since=since)


def test_log_lines_never_show_the_token() -> None:
    token = "123456:SECRET-token"
    stream = io.StringIO()
    levels = {name: logging.getLogger(name).level for name in ("", "httpx", "httpcore", "apscheduler", "watchdog")}
    handler = setup_logging([token], stream)
    try:
        log = logging.getLogger("httpx")
        log.info("HTTP Request: POST http://127.0.0.1/bot%s/getMe", token)  # httpx's own INFO line: silenced
        try:
            raise RuntimeError(f"The token `{token}` was rejected by the server.")
        except RuntimeError:
            logging.getLogger("sozialmonitor.test").exception("start failed for bot%s", token)
    finally:
        logging.getLogger().removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
    out = stream.getvalue()
    assert "start failed for bot<token>" in out and "was rejected" in out
    assert "SECRET" not in out and "HTTP Request" not in out


@pytest.mark.slow
def test_real_process_talks_imports_survives_429_and_stops_on_sigterm(
        demo_workspace: Path, start: Callable[..., Process]) -> None:
    inbox = demo_workspace / "ablage" / "eingang"
    (inbox / "M24_Flaechen_2025.csv").write_text(
        "Maßnahme;Indikator;Zeitraum;Wert;Amt\nM24;M24-flaechen-auflagen;2025;2;Amt 61\n", encoding="utf-8")
    with FakeBotAPI() as api:
        proc = start(demo_workspace, env={"SOZIALMONITOR_TELEGRAM_TOKEN": api.token,
                                          "SOZIALMONITOR_TELEGRAM_API_URL": api.base_url})
        proc.wait_for_output("@sozialmonitor_bot")

        # A delivery already waiting in eingang/ is imported at start; the admins hear of it.
        api.wait_for_sent(lambda m: m.chat_id == ADMIN_ID and "M24_Flaechen_2025.csv" in (m.visible_text or ""),
                          timeout=30)

        ask(api, MEMBER_ID, "/status M21", lambda t: "Federführung" in t)
        refusal = text("de", "denied.unknown", user_id=STRANGER_ID)
        ask(api, STRANGER_ID, "/status M21", lambda t: t == refusal)
        denied = text("de", "denied.admin", command="termin")
        ask(api, MEMBER_ID, "/termin M21 01.12.2026", lambda t: t == denied)

        # A file dropped into the shared folder: imported, and the admins and the office's people hear of it.
        drop = inbox / "M21_Bauland_2026.csv"
        drop.write_text("Maßnahme;Indikator;Zeitraum;Wert;Amt\nM21;M21-bauland;2021;5,5;Amt 61\n",
                        encoding="utf-8")
        api.wait_for_sent(lambda m: m.chat_id == ADMIN_ID and "M21_Bauland_2026.csv" in (m.visible_text or ""),
                          timeout=30)
        api.wait_for_sent(lambda m: m.chat_id == MEMBER_ID and "M21_Bauland_2026.csv" in (m.visible_text or ""),
                          timeout=10)

        # Flood control: the answer still arrives, exactly once.
        api.fail_next("sendMessage", 429, retry_after=1)
        reply = ask(api, MEMBER_ID, "/massnahmen", lambda t: t.startswith("Die 14 Maßnahmen"))
        time.sleep(0.3)
        assert [m.visible_text for m in api.sent if m.chat_id == MEMBER_ID].count(reply.visible_text) == 1

        # SIGTERM in the middle of a conversation: what was fetched is answered, then a clean exit.
        update_id = api.send_user_message(MEMBER_ID, text="/status")
        api.wait_for_call("getUpdates", lambda p: p.get("offset", 0) > update_id, timeout=10)
        assert proc.stop(signal.SIGTERM) == 0
        assert api.update_log[update_id].delivered_at is not None
        assert any(m.chat_id == MEMBER_ID and (m.visible_text or "").startswith("Stand der 14") for m in api.sent)

    assert [m.visible_text for m in api.sent if m.chat_id == STRANGER_ID] == [refusal]  # and nothing else
    out, err = proc.stdout, proc.stderr
    assert api.token not in out and api.token not in err
    assert api.token.split(":")[1] not in out + err
    assert "Traceback" not in err
    assert text("de", "cli.stopped") in out
    # The store is intact and holds the import.
    monitor = Monitor.open(demo_workspace, env={})
    try:
        assert any(d.file == "M21_Bauland_2026.csv" for d in monitor.store.deliveries())
    finally:
        monitor.close()


@pytest.mark.slow
def test_rejected_token_exits_1_with_one_sentence_and_never_prints_it(
        demo_workspace: Path, start: Callable[..., Process]) -> None:
    with FakeBotAPI() as api:
        wrong = "999999:WRONG-TOKEN-never-print-me"
        proc = start(demo_workspace, env={"SOZIALMONITOR_TELEGRAM_TOKEN": wrong,
                                          "SOZIALMONITOR_TELEGRAM_API_URL": api.base_url})
        assert proc.proc.wait(30) == 1
    assert text("de", "bot.token_rejected") in proc.stderr
    assert "WRONG-TOKEN" not in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_console_mode_answers_and_stops_on_sigint(demo_workspace: Path, start: Callable[..., Process]) -> None:
    proc = start(demo_workspace, stdin=subprocess.PIPE)
    assert proc.proc.stdin is not None
    proc.wait_for_output("Konsolen-Chat")
    proc.proc.stdin.write(b"/status M21\n")
    proc.proc.stdin.flush()
    proc.wait_for_output("Federführung")
    assert proc.stop(signal.SIGINT) == 0
    assert text("de", "cli.stopped") in proc.stdout
    assert "Traceback" not in proc.stderr


@pytest.mark.slow
def test_console_mode_without_input_keeps_watching_until_sigterm(
        workspace: Path, start: Callable[..., Process]) -> None:
    """Under a service manager stdin is /dev/null: the monitor must go on importing until a signal."""
    catalogue = workspace / "katalog.toml"
    catalogue.write_text(catalogue.read_text(encoding="utf-8") + (
        '\n[[indikator]]\nid = "M21-sozialwohnungen"\nmassnahme = "M21"\nname = "Neu gebaute Sozialwohnungen"\n'
        'einheit = "Anzahl"\nturnus = "jährlich"\nfrist_tage = 60\n'), encoding="utf-8")
    proc = start(workspace)  # stdin = /dev/null
    proc.wait_for_output("Konsolen-Chat")
    (workspace / "ablage" / "eingang" / "M21_2018.csv").write_bytes(
        "Maßnahme;Indikator;Zeitraum;Wert\r\nM21;Neu gebaute Sozialwohnungen;2018;64\r\n".encode("cp1252"))
    proc.wait_for_output("M21_2018.csv")
    (workspace / "ablage" / "protokolle" / "M21_2018-09-20_Protokoll.pdf").write_bytes(b"%PDF-1.4 protokoll")
    proc.wait_for_output("Protokoll zu M 21 vom 20.09.2018")
    assert proc.proc.poll() is None
    assert proc.stop(signal.SIGTERM) == 0
    assert "Traceback" not in proc.stderr
    assert list((workspace / "ablage" / "verarbeitet").rglob("M21_2018.csv"))
