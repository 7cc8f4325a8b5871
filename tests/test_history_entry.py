"""The Fachstelle's first day: entering what already happened (the status document of 21.09.2018) — the 12 held
meetings, their protocols as sent to all participants, the signatures that came back on paper — and seeing the
protocols complete and the reminders stop, without a flood of reminders for the past."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.runtime import Outgoing
from bot.workspace import Monitor
from commands import Caller, dispatch
from commands.reminders import ADMINS, collect, due_reminders, next_protocol_reminder
from commands.state import State
from storage.seed import MEETINGS
from storage.store import Store
from watchers.protocols import ProtocolFolderWatcher

from .conftest import at

ADMIN = "Beispiel: Fachstelle Sozialplanung"
ERIKA = "Beispiel: Erika Muster"
MAX = "Beispiel: Max Mustermann"
PAULA = "Beispiel: Paula Probe"  # no Telegram account: signs on paper only
JONAS = "Beispiel: Jonas Test"
NOW = at("2025-11-04 10:00")  # a Tuesday, years later: the monitor is new, the history is old
OPERATOR = Caller(operator=True)
# Short names as the Fachstelle types them after "für" (an unambiguous start of a word of the name).
SHORT = {ADMIN: "Fachstelle", ERIKA: "Erika", MAX: "Max", PAULA: "Paula", JONAS: "Jonas"}


@pytest.fixture
def empty(team_monitor: Monitor, tmp_path: Path) -> Iterator[State]:
    """The team's catalogue with a store that holds nothing yet (a real TinyDB file)."""
    store = Store(tmp_path / "leer" / "sozialmonitor.json", backups=0)
    yield State(team_monitor.catalogue, store, team_monitor.settings)
    store.close()


def ask(state: State, text: str, now=NOW):
    reply = dispatch(state, text, OPERATOR, now)
    assert reply.ok, (text, reply.plain())
    return reply


def test_the_2018_status_entered_as_history(empty: State) -> None:
    state = empty
    # 1. The twelve meetings that took place, with their approach: recorded as held, nobody notified.
    for measure, day, approach in MEETINGS:
        reply = ask(state, f"/termin {measure} {day:%d.%m.%Y} {approach}")
        assert "als stattgefunden eingetragen" in reply.plain() and not reply.notices
        assert "mehr als 5 Jahre zurück" in reply.plain()  # 2018 seen from 2025: the year is worth a look
    assert len(state.store.meetings()) == 12
    detail = ask(state, "/status M24").plain()
    assert "20% Quote sozialer Wohnungsbau bei Areal Fritsch-Kaserne (stattgefunden)" in detail
    meetings = ask(state, "/termine").plain()
    assert "Keine Besprechung ist angesetzt." in meetings and "M 12" in meetings.split("Noch nicht terminiert:")[1]

    # 2. Every protocol went to all participants for signature on the meeting day.
    for measure, day, _ in MEETINGS:
        reply = ask(state, f"/protokoll {measure} {day:%d.%m.%Y} versandt {day:%d.%m.%Y}")
        assert f"als am {day:%d.%m.%Y} zur Unterschrift versandt erfasst" in reply.plain()
        assert not reply.notices  # history: they got it back then
    assert all(p.sent_on == p.meeting_day for p in state.store.protocols())

    # 3. No flood: nothing that fell due back then goes out now, although every signature is missing.
    assert not [r for r in collect(state, NOW.date()) if r.kind in ("protokoll", "ohne_telegram")
                and r.key.startswith("protokoll:")]
    assert not [r for r in due_reminders(state, NOW) if r.key.startswith(("protokoll:", "termin:"))]

    # 4. The signed sheets that came back on paper, recorded by the Fachstelle; Jonas' is still missing.
    for protocol in state.store.protocols():
        for name in protocol.signatories:
            if name == JONAS:
                continue
            signed_on = protocol.sent_on + timedelta(days=3)
            reply = ask(state, f"/unterschrieben {protocol.measure} für {SHORT[name]} am {signed_on:%d.%m.%Y}")
            assert f"Unterschrift von {name}" in reply.plain() and "auf Papier" in reply.plain()
    ledger = [s for p in state.store.protocols() for s in state.store.signatures(p.id)]
    assert ledger and all(s.method == "papier" and s.recorded_by == "Fachstelle" for s in ledger)
    assert {s.person for s in ledger} == {ADMIN, ERIKA, MAX, PAULA}

    # 5. The protocols are complete, except M 33 where Jonas has not signed.
    listing = ask(state, "/protokolle").plain()
    assert "M 33" in listing and JONAS in listing
    assert all(other not in listing for other in ("M 21", "M 41", "M 42", PAULA, ERIKA))
    overview = ask(state, "/status").plain().splitlines()
    assert "Protokoll 2/2" in next(x for x in overview if x.startswith("M 42"))  # Paula, on paper
    assert "Protokoll 1/2" in next(x for x in overview if x.startswith("M 33"))

    # 6. From the next round on only Jonas is reminded (and the admins told); everybody else's reminders stopped.
    m33 = state.store.protocol("M33", date(2018, 9, 5))
    first = next_protocol_reminder(state, m33, NOW.date())
    assert first is not None and first > NOW.date()
    day = NOW.date()
    while day < first:
        assert not [r for r in collect(state, day) if r.key.startswith("protokoll:")], day
        day += timedelta(days=1)
    due = [r for r in collect(state, first) if r.key.startswith("protokoll:")]
    assert {r.recipient for r in due} == {JONAS, ADMINS}
    assert all(r.measure == "M33" for r in due)
    assert JONAS in next(r.text for r in due if r.recipient == ADMINS)


def test_a_paper_signature_completes_a_protocol_of_someone_without_chat(team_monitor: Monitor) -> None:
    state = team_monitor.state
    now = at("2018-09-24 10:00")
    ask(state, "/protokoll M42 30.08.2018 versandt 30.08.2018", now)
    ask(state, "/unterschrieben M42 für Fachstelle am 03.09.2018", now)
    # Paula has no Telegram id: her reminders go to the admins as "ohne_telegram" ...
    week_later = at("2018-10-05 10:00")
    assert [r for r in collect(state, week_later.date()) if r.kind == "ohne_telegram" and PAULA in r.text]
    # ... until her signed sheet is recorded.
    reply = ask(state, "/signed 42 30.08.2018 for paula on 10.09.2018", now)
    assert "unterschrieben am 10.09.2018" in reply.plain() and "alle unterschrieben" in reply.plain()
    assert [n.person for n in reply.notices] == [ADMINS]
    assert not [r for r in collect(state, week_later.date()) if r.key.startswith("protokoll:")]
    sig = next(s for s in state.store.signatures(state.store.protocol("M42", date(2018, 8, 30)).id)
               if s.person == PAULA)
    assert (sig.method, sig.recorded_by, sig.signed_on, sig.channel) == ("papier", "Fachstelle",
                                                                        date(2018, 9, 10), "konsole")
    detail = ask(state, "/status M42", now).plain()
    assert f"{PAULA} (10.09.2018, auf Papier)" in detail


def test_paper_signature_refusals(team_monitor: Monitor) -> None:
    state = team_monitor.state
    now = at("2018-09-24 10:00")
    erika = team_monitor.catalogue.person(ERIKA)
    as_erika = Caller(user_id=erika.telegram_id, chat_id=erika.telegram_id, person=erika)
    ask(state, "/protokoll M21 20.09.2018 versandt 21.09.2018", now)
    denied = dispatch(state, "/unterschrieben M21 für Max", as_erika, now)
    assert denied.status == "denied" and "Fachstelle" in denied.plain()
    cases = {
        "/unterschrieben M21 für Muster am 24.09.2018": None,  # a whole word: Erika Muster, not Mustermann
        "/unterschrieben M21 für Mus": "passt zu mehreren Personen",
        "/unterschrieben M21 für Niemand": "weder im Katalog noch auf den Protokollen",
        "/unterschrieben M21 für Max": "nicht auf der Liste der Unterzeichnenden",
        "/unterschrieben M21 für Fachstelle am 01.10.2018": "in der Zukunft",
        "/unterschrieben M21 für Fachstelle am 20.09.2018": "noch nicht versandt",
        "/unterschrieben M21 19.09.2018 für Fachstelle am 22.09.2018": "kein Protokoll der Besprechung am 19.09.2018",
        "/unterschrieben M21 für": "Bitte so angeben",
    }
    for text, expected in cases.items():
        reply = dispatch(state, text, OPERATOR, now)
        if expected is None:
            assert reply.ok and ERIKA in reply.plain(), reply.plain()
        else:
            assert reply.status == "usage" and expected in reply.plain(), (text, reply.plain())
    again = dispatch(state, "/unterschrieben M21 für Erika", OPERATOR, now)
    assert again.ok and "bereits erfasst (am 24.09.2018)" in again.plain()
    # Her own confirmation stays her own.
    own = dispatch(state, "/unterschrieben M21", as_erika, now)
    assert "bereits erfasst" in own.plain()


def test_past_and_corrected_dates_of_meetings_and_protocols(team_monitor: Monitor) -> None:
    state = team_monitor.state
    now = at("2018-11-05 10:00")
    held = ask(state, "/termin M12 15.10.2018 10:00 Bestandsanalyse", now)  # fills M 12's "to be scheduled"
    assert "am 15.10.2018 um 10:00 Uhr als stattgefunden eingetragen" in held.plain()
    assert "/protokoll M12 15.10.2018 versandt TT.MM.JJJJ" in held.plain()
    assert [m.day for m in state.store.meetings("M12")] == [date(2018, 10, 15)]
    assert "nichts geändert" in ask(state, "/termin M12 15.10.2018", now).plain()
    corrected = ask(state, "/termin M12 15.10.2018 Befragung", now)
    assert "berichtigt" in corrected.plain() and state.store.meetings("M12")[0].approach == "Befragung"
    # The sending date: given, defaulting to today, and corrected later.
    sent = ask(state, "/protokoll M12 15.10.2018 versandt 17.10.2018", now)
    assert "am 17.10.2018 zur Unterschrift versandt" in sent.plain() and "frühestens am" in sent.plain()
    fixed = ask(state, "/protocol M12 15.10.2018 sent 16.10.2018", now)
    assert "16.10.2018 statt 17.10.2018" in fixed.plain()
    assert state.store.protocol("M12", date(2018, 10, 15)).sent_on == date(2018, 10, 16)
    for text, expected in {
        "/protokoll M12 15.10.2018 versandt 14.10.2018": "vor der Besprechung",
        "/protokoll M12 15.10.2018 versandt 06.11.2018": "in der Zukunft",
        "/protokoll M13 01.11.2018 versandt": "/termin M13 01.11.2018",  # the exact line to enter it
        "/termin M21 20.09.2012": None,
    }.items():
        reply = dispatch(state, text, OPERATOR, now)
        if expected is None:
            assert reply.ok and "mehr als 5 Jahre zurück" in reply.plain()
        else:
            assert reply.status == "usage" and expected in reply.plain(), (text, reply.plain())


def test_a_protocol_file_for_a_meeting_not_entered_offers_the_termin_line_that_works(team_monitor: Monitor) -> None:
    messages: list[Outgoing] = []
    lock = threading.Lock()

    def sink(message: Outgoing) -> None:
        with lock:
            messages.append(message)

    watcher = ProtocolFolderWatcher(team_monitor, sink, polling=True, stable_seconds=0.1, rescan_seconds=0.3)
    (team_monitor.settings.protocols / "M12_2018-10-15_Protokoll.pdf").write_bytes(b"%PDF protocol of M 12")
    watcher.start()
    try:
        line = None
        deadline = time.monotonic() + 20
        while line is None and time.monotonic() < deadline:
            with lock:
                texts = [m.reply.plain() for m in messages if ADMINS in m.recipients]
            found = [re.search(r"/termin M12 \d\d\.\d\d\.\d{4}", t) for t in texts]
            line = next((m.group(0) for m in found if m), None)
            time.sleep(0.05)
        assert line == "/termin M12 15.10.2018"
        reply = dispatch(team_monitor.state, line, OPERATOR, team_monitor.now())
        assert reply.ok and "als stattgefunden eingetragen" in reply.plain()
        deadline = time.monotonic() + 20
        while team_monitor.store.protocol("M12", date(2018, 10, 15)) is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        watcher.stop()
    protocol = team_monitor.store.protocol("M12", date(2018, 10, 15))
    assert protocol is not None and protocol.file == "M12_2018-10-15_Protokoll.pdf"
    with lock:
        rejections = [m for m in messages if "passt zu keiner Besprechung" in m.reply.plain()]
    assert len(rejections) == 1  # told once, however often the rescan looked again
