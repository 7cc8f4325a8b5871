"""`init --demo` tells the truth of 21.09.2018: every protocol went to all participants on the meeting day; some
signatures came back (in the chat or on paper), some are missing. Plain `init` records no protocols."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from bot import demo
from bot.workspace import Monitor, create_workspace
from commands import Caller, dispatch
from commands.reminders import collect, next_protocol_reminder
from storage.seed import MEETINGS

INIT_DAY = date(2026, 11, 25)  # the conftest demo workspace is created on this day


def test_demo_protocols_were_sent_on_the_meeting_day_to_all_participants(demo_monitor: Monitor) -> None:
    store = demo_monitor.store
    protocols = store.protocols()
    assert len(protocols) == len(MEETINGS) == 12
    for p in protocols:
        assert p.sent_on == p.meeting_day
        assert list(p.signatories) == [x.name for x in demo_monitor.catalogue.participants(p.measure)]
        assert p.entered_on == INIT_DAY  # entered as history at init
    signed = {p.measure: {s.person: s for s in store.signatures(p.id)} for p in protocols}
    complete = [m for m, p in zip(signed, protocols, strict=True) if len(signed[m]) == len(p.signatories)]
    assert set(complete) == {"M14", "M31", "M32", "M41", "M23"}
    assert signed["M41"]["Beispiel: Paula Probe"].method == "papier"
    assert signed["M41"]["Beispiel: Paula Probe"].recorded_by == "Beispiel: Fachstelle Sozialplanung"
    assert signed["M31"]["Beispiel: Max Mustermann"].recorded_by == "Beispiel: Max Mustermann"
    assert all(s.signed_on <= date(2018, 9, 21) for by in signed.values() for s in by.values())


def test_demo_status_shows_the_sign_off_at_work(demo_monitor: Monitor) -> None:
    state = demo_monitor.state
    now = datetime(2026, 11, 26, 10, 0, tzinfo=state.tz)
    overview = dispatch(state, "/status", Caller(operator=True), now).plain()
    assert overview.count("kein Protokoll") == 2  # only M 12 and M 13, which have no meeting yet
    assert "Protokoll 2/2" in overview and "Protokoll 1/2" in overview and "Protokoll 0/2" in overview
    listing = dispatch(state, "/protokolle", Caller(operator=True), now).plain()
    assert "Beispiel: Paula Probe: M 42" in listing  # no Telegram: her sheet is awaited on paper


def test_demo_sets_off_no_flood_only_the_next_round(demo_monitor: Monitor) -> None:
    state = demo_monitor.state
    assert not [r for r in collect(state, INIT_DAY) if r.key.startswith("protokoll:")]
    m21 = state.store.protocol("M21", date(2018, 9, 20))
    first = next_protocol_reminder(state, m21, INIT_DAY)
    assert first is not None and first > INIT_DAY
    due = [r for r in collect(state, first) if r.key.startswith("protokoll:")]
    assert due
    missing = {(p.measure, name) for p in state.store.protocols() for name in p.signatories
               if name not in {s.person for s in state.store.signatures(p.id)}}
    person_items = {(r.measure, r.recipient) for r in due if r.kind == "protokoll" and r.recipient in
                    {p.name for p in demo.PERSONS}}
    assert person_items <= missing and ("M21", "Beispiel: Erika Muster") in person_items
    # Paula has no Telegram id: her reminder for M 42 goes to the admins instead.
    assert [r for r in due if r.kind == "ohne_telegram" and r.measure == "M42"]


def test_plain_init_records_no_protocols(tmp_path: Path) -> None:
    path = tmp_path / "plain"
    create_workspace(path, today=INIT_DAY)
    monitor = Monitor.open(path, env={})
    try:
        assert monitor.store.protocols() == [] and len(monitor.store.meetings()) == 14
    finally:
        monitor.close()
