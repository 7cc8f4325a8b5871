"""The protocols folder: name parsing, recording and announcing, resets on a changed file, the real watcher."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bot.runtime import ADMINS, Outgoing
from bot.workspace import Monitor
from commands import Caller, dispatch
from watchers.protocols import ProtocolFolderWatcher, handle_protocol_file, is_ignored, parse_protocol_name

from .conftest import at

ADMIN = "Beispiel: Fachstelle Sozialplanung"
ERIKA = "Beispiel: Erika Muster"
NOW = at("2018-09-24 09:30")


class Sink:
    def __init__(self) -> None:
        self.messages: list[Outgoing] = []
        self.lock = threading.Lock()

    def __call__(self, message: Outgoing) -> None:
        with self.lock:
            self.messages.append(message)

    def to(self, recipient: str) -> list[str]:
        with self.lock:
            return [m.reply.plain() for m in self.messages if recipient in m.recipients]


def drop(monitor: Monitor, name: str, content: bytes) -> Path:
    path = monitor.settings.protocols / name
    path.write_bytes(content)
    return path


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.mark.parametrize(("name", "expected"), [
    ("M21_2018-09-20.pdf", ("M21", date(2018, 9, 20), "pdf")),
    ("m21_2018-09-20_Protokoll final.DOCX", ("M21", date(2018, 9, 20), "docx")),
    ("M 41_2018-08-30-unterschrieben.odt", ("M41", date(2018, 8, 30), "odt")),
    ("M21-2018-09-20.pdf", None),
    ("M21_2018-02-30.pdf", None),
    ("M21_20.09.2018.pdf", None),
    ("M21_2018-09-20.txt", None),
    ("Protokoll.pdf", None),
])
def test_parse_protocol_name(name: str, expected: tuple | None) -> None:
    parsed = parse_protocol_name(name)
    assert (None if parsed is None else (parsed.measure, parsed.day, parsed.extension)) == expected


def test_office_temp_and_lock_files_are_ignored() -> None:
    assert is_ignored("~$M21_2018-09-20.docx")
    assert is_ignored(".~lock.M21_2018-09-20.odt#")
    assert is_ignored("M21_2018-09-20.pdf.part")
    assert not is_ignored("M21_2018-09-20.pdf")


def test_a_dropped_protocol_is_recorded_sent_today_and_announced_once(team_monitor: Monitor) -> None:
    sink = Sink()
    path = drop(team_monitor, "M21_2018-09-20_Protokoll.pdf", b"%PDF version 1")
    result = handle_protocol_file(team_monitor, path, sink, NOW)
    assert result.status == "recorded"
    protocol = team_monitor.store.protocol("M21", date(2018, 9, 20))
    assert protocol.sent_on == date(2018, 9, 24) and set(protocol.signatories) == {ADMIN, ERIKA}
    assert protocol.file == path.name and protocol.file_hash
    assert any("/unterschrieben M21" in text for text in sink.to(ERIKA))
    assert any("an 2 Unterzeichnende" in text for text in sink.to(ADMINS))
    before = len(sink.messages)
    assert handle_protocol_file(team_monitor, path, sink, at("2018-09-25 09:00")).status == "unchanged"
    assert len(sink.messages) == before
    assert team_monitor.store.protocol("M21", date(2018, 9, 20)).sent_on == date(2018, 9, 24)


def test_a_changed_protocol_after_signing_resets_the_signatures_and_says_why(team_monitor: Monitor) -> None:
    sink = Sink()
    store = team_monitor.store
    handle_protocol_file(team_monitor, drop(team_monitor, "M21_2018-09-20.pdf", b"v1"), sink, NOW)
    erika = team_monitor.catalogue.person(ERIKA)
    signed = dispatch(team_monitor.state, "/unterschrieben M21", Caller(user_id=erika.telegram_id, person=erika),
                      at("2018-09-25 10:00"))
    assert signed.ok
    protocol = store.protocol("M21", date(2018, 9, 20))
    assert [s.person for s in store.signatures(protocol.id)] == [ERIKA]

    sink.messages.clear()
    replaced = drop(team_monitor, "M21_2018-09-20.pdf", b"v2 with a correction")
    result = handle_protocol_file(team_monitor, replaced, sink, at("2018-09-27 11:00"))
    assert result.status == "reset"
    current = store.protocol("M21", date(2018, 9, 20))
    assert current.version == 2 and current.sent_on == date(2018, 9, 27)
    assert store.signatures(current.id) == []
    assert [s.person for s in store.signatures(current.id, all_versions=True)] == [ERIKA]  # history kept
    for name in (ERIKA, ADMIN):
        assert any("muss neu unterschrieben werden" in text for text in sink.to(name)), name
    assert any(ERIKA in text and "zurückgesetzt" in text for text in sink.to(ADMINS))
    again = dispatch(team_monitor.state, "/unterschrieben M21", Caller(user_id=erika.telegram_id, person=erika),
                     at("2018-09-28 10:00"))
    assert again.ok and "1 von 2" in again.plain()


def test_a_new_version_before_anyone_signed_asks_for_the_new_one(team_monitor: Monitor) -> None:
    sink = Sink()
    handle_protocol_file(team_monitor, drop(team_monitor, "M24_2018-09-20.docx", b"a"), sink, NOW)
    result = handle_protocol_file(team_monitor, drop(team_monitor, "M24_2018-09-20_v2.docx", b"b"), sink, NOW)
    assert result.status == "updated" and result.protocol.version == 2
    assert any("neue Fassung" in text for text in sink.to(ERIKA))


def test_a_file_for_a_protocol_recorded_by_command_keeps_its_date(team_monitor: Monitor) -> None:
    dispatch(team_monitor.state, "/protokoll M21 20.09.2018 versandt", Caller(operator=True), at("2018-09-21 10:00"))
    result = handle_protocol_file(team_monitor, drop(team_monitor, "M21_2018-09-20.pdf", b"x"), Sink(), NOW)
    assert result.status == "attached"
    assert team_monitor.store.protocol("M21", date(2018, 9, 20)).sent_on == date(2018, 9, 21)


@pytest.mark.parametrize(("name", "expected"), [
    ("Protokoll M21.pdf", "passt nicht zum Namensschema"),
    ("M99_2018-09-20.pdf", "nennt die Maßnahme M99, die es nicht gibt"),
    ("M21_2018-09-19.pdf", "zu M 21 gibt es keine Besprechung am 19.09.2018 (eingetragen: 20.09.2018)"),
])
def test_a_name_that_fits_no_meeting_is_told_to_the_admins_once(team_monitor: Monitor, name: str,
                                                               expected: str) -> None:
    sink = Sink()
    path = drop(team_monitor, name, b"content")
    assert handle_protocol_file(team_monitor, path, sink, NOW).status == "rejected"
    assert handle_protocol_file(team_monitor, path, sink, NOW).status == "rejected"
    texts = sink.to(ADMINS)
    assert len(texts) == 1 and expected in texts[0]
    assert team_monitor.store.protocols() == []


@pytest.mark.parametrize("polling", [False, True])
def test_the_watcher_records_waiting_new_and_renamed_files(team_monitor: Monitor, polling: bool) -> None:
    sink = Sink()
    drop(team_monitor, "M41_2018-08-30.pdf", b"waiting before start")
    watcher = ProtocolFolderWatcher(team_monitor, sink, polling=polling, stable_seconds=0.1, rescan_seconds=300)
    watcher.start()
    try:
        assert wait_for(lambda: team_monitor.store.protocol("M41", date(2018, 8, 30)) is not None)
        drop(team_monitor, "M42_2018-08-30_Protokoll.odt", b"arrives while running")
        assert wait_for(lambda: team_monitor.store.protocol("M42", date(2018, 8, 30)) is not None)
        # An office program saves through a temp file renamed to the real name.
        tmp = drop(team_monitor, "~$tmp1234.tmp", b"saved by an office program")
        os.replace(tmp, team_monitor.settings.protocols / "M33_2018-09-05.docx")
        assert wait_for(lambda: team_monitor.store.protocol("M33", date(2018, 9, 5)) is not None)
        assert not [r for r in watcher.handled if r.file.startswith("~$")]
    finally:
        watcher.stop()
        watcher.stop()
    assert {r.status for r in watcher.handled} == {"recorded"}


def test_a_failing_pass_does_not_end_the_watcher(team_monitor: Monitor) -> None:
    sink = Sink()
    watcher = ProtocolFolderWatcher(team_monitor, sink, polling=True, stable_seconds=0.1, rescan_seconds=1)
    original = watcher.scan
    failures = []

    def share_gone_once() -> None:
        if not failures:
            failures.append(1)
            raise OSError(112, "Host is down")  # a network share that dropped out for a moment
        original()

    watcher.scan = share_gone_once  # type: ignore[method-assign]
    drop(team_monitor, "M41_2018-08-30.pdf", b"waiting while the share was away")
    watcher.start()
    try:
        assert wait_for(lambda: team_monitor.store.protocol("M41", date(2018, 8, 30)) is not None, timeout=20)
        assert failures and watcher._thread is not None and watcher._thread.is_alive()
    finally:
        watcher.stop()
