"""/termin, /protokoll, /unterschrieben, /protokolle and /kalender through the real dispatcher and store."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from icalendar import Calendar

from bot.workspace import Monitor
from commands import Caller, dispatch
from commands.state import State

from .conftest import at

ADMIN = "Beispiel: Fachstelle Sozialplanung"
ERIKA = "Beispiel: Erika Muster"
MAX = "Beispiel: Max Mustermann"
NOW = at("2018-09-21 10:00")


def person(monitor: Monitor, name: str) -> Caller:
    p = monitor.catalogue.person(name)
    return Caller(user_id=p.telegram_id, chat_id=p.telegram_id, person=p)


def ask(state: State, text: str, caller: Caller | None = None, now: datetime = NOW):
    return dispatch(state, text, caller or Caller(operator=True), now)


def test_termin_schedules_an_unscheduled_meeting(state: State) -> None:
    reply = ask(state, "/termin M12 15.10.2018 10:00 Bestandsanalyse")
    assert reply.ok, reply.plain()
    assert "M 12 angesetzt: 15.10.2018 um 10:00 Uhr, Vorgehensweise: Bestandsanalyse" in reply.plain()
    meetings = state.store.meetings("M12")
    assert len(meetings) == 1 and meetings[0].day == date(2018, 10, 15)
    assert meetings[0].history[0]["day"] is None  # the former "not yet scheduled" stays in the history
    assert "M 12" not in ask(state, "/termine").plain().split("Noch nicht terminiert:")[1]


def test_termin_moves_an_upcoming_meeting_and_keeps_its_hour(demo_monitor: Monitor) -> None:
    state = demo_monitor.state
    now = at("2018-09-10 10:00")
    ask(state, "/termin M21 20.09.2018 14:30", now=now)
    reply = ask(state, "/schedule m 21 27.09.2018", now=now)
    assert reply.ok
    assert "verlegt vom 20.09.2018 um 14:30 Uhr auf den 27.09.2018 um 14:30 Uhr" in reply.plain()
    assert {n.person for n in reply.notices} == {ADMIN, ERIKA}
    meeting = demo_monitor.store.meetings("M21")[0]
    assert meeting.day == date(2018, 9, 27) and meeting.approach.startswith("Übersicht")
    assert len(meeting.history) == 2
    assert "nichts geändert" in ask(state, "/termin M21 27.09.2018", now=now).plain()


def test_termin_after_the_meeting_adds_a_new_one(state: State) -> None:
    reply = ask(state, "/termin M21 06.12.2018 Folgetermin", now=NOW)
    assert reply.ok
    days = [m.day for m in state.store.meetings("M21")]
    assert days == [date(2018, 9, 20), date(2018, 12, 6)]


def test_termin_warns_about_holidays(state: State) -> None:
    assert "kein Arbeitstag (Tag der Deutschen Einheit)" in ask(state, "/termin M12 03.10.2018").plain()


@pytest.mark.parametrize(("text", "expected"), [
    ("/termin M21 31.02.2018", "„31.02.2018“ ist kein gültiges Datum"),
    ("/termin M21 20/09/2018", "kein gültiges Datum"),
    ("/termin M21 01.10.2018 25:00", "„25:00“ ist keine gültige Uhrzeit"),
    ("/termin M21", "Bitte das Datum der Besprechung angeben"),
    ("/termin M99 01.10.2018", "Die Maßnahme „M99“ gibt es nicht"),
])
def test_termin_bad_input_gets_one_clear_sentence(state: State, text: str, expected: str) -> None:
    reply = ask(state, text)
    assert reply.status == "usage"
    assert expected in reply.plain()


def test_termin_is_for_admins(demo_monitor: Monitor) -> None:
    reply = ask(demo_monitor.state, "/termin M21 01.10.2018", person(demo_monitor, ERIKA))
    assert reply.status == "denied"


def test_protokoll_versandt_and_signing(team_monitor: Monitor) -> None:
    state = team_monitor.state
    reply = ask(state, "/protokoll M21 20.09.2018 versandt")
    assert reply.ok, reply.plain()
    assert "versandt erfasst" in reply.plain()
    assert {n.person for n in reply.notices} == {ADMIN, ERIKA}
    protocol = team_monitor.store.protocol("M21", date(2018, 9, 20))
    assert protocol.sent_on == date(2018, 9, 21) and set(protocol.signatories) == {ADMIN, ERIKA}
    assert "bereits am 21.09.2018 versandt" in ask(state, "/protokoll M21 20.09.2018 versandt").plain()

    listing = ask(state, "/protokolle").plain()
    assert "0/2 unterschrieben" in listing and ERIKA in listing

    signed = ask(state, "/unterschrieben M21", person(team_monitor, ERIKA), at("2018-09-24 09:00"))
    assert signed.ok and "1 von 2 haben unterschrieben" in signed.plain()
    sig = team_monitor.store.signatures(protocol.id)[0]
    assert (sig.person, sig.signed_on, sig.channel) == (ERIKA, date(2018, 9, 24), "telegram")
    again = ask(state, "/signed 21", person(team_monitor, ERIKA), at("2018-09-25 09:00"))
    assert "bereits erfasst (am 24.09.2018)" in again.plain()

    last = ask(state, "/unterschrieben M21 24.09.2018", person(team_monitor, ADMIN), at("2018-09-25 09:00"))
    assert "alle unterschrieben" in last.plain()
    assert [n.person for n in last.notices] == ["@admins"]
    assert "vollständig unterschrieben" in ask(state, "/protokolle").plain()


def test_unterschrieben_refusals(team_monitor: Monitor) -> None:
    state = team_monitor.state
    max_ = person(team_monitor, MAX)
    assert "noch kein Protokoll" in ask(state, "/unterschrieben M21", person(team_monitor, ERIKA)).plain()
    ask(state, "/protokoll M21 20.09.2018 versandt")
    refused = ask(state, "/unterschrieben M21", max_)
    assert refused.status == "usage" and "nicht auf der Liste der Unterzeichnenden" in refused.plain()
    assert "in der Zukunft" in ask(state, "/unterschrieben M21 01.10.2018", person(team_monitor, ERIKA)).plain()
    # A signing day before the protocol went out (the meeting's own date would pick the protocol instead).
    assert "noch nicht versandt" in ask(state, "/unterschrieben M21 19.09.2018",
                                        person(team_monitor, ERIKA)).plain()
    assert "keine Person aus dem Katalog" in ask(state, "/unterschrieben M21").plain()
    stranger = Caller(user_id=5)
    assert ask(state, "/unterschrieben M21", stranger).status == "denied"


@pytest.mark.parametrize(("text", "expected"), [
    ("/protokoll M21 20.09.2018", "Bitte so angeben: /protokoll M21 20.09.2018 versandt"),
    ("/protokoll M21 19.09.2018 versandt", "keine Besprechung am 19.09.2018; eingetragen: 20.09.2018"),
    ("/protokoll M12 01.10.2018 versandt", "noch nicht stattgefunden"),
    ("/protokoll M21 2018-13-01 versandt", "kein gültiges Datum"),
])
def test_protokoll_bad_input(state: State, text: str, expected: str) -> None:
    reply = ask(state, text)
    assert reply.status == "usage" and expected in reply.plain()


def test_protokolle_without_any(state: State) -> None:
    assert ask(state, "/protokolle").plain() == "Es ist noch kein Protokoll zur Unterschrift versandt."


def test_kalender_is_valid_ics_with_stable_uids_in_berlin_time(state: State) -> None:
    ask(state, "/termin M12 15.10.2018 10:00 Bestandsanalyse")
    reply = ask(state, "/kalender")
    assert reply.ok and len(reply.attachments) == 1
    attachment = reply.attachments[0]
    assert attachment.filename.endswith(".ics") and attachment.mime == "text/calendar"
    cal = Calendar.from_ical(attachment.data)
    events = {str(e["summary"]): e for e in cal.walk("VEVENT")}
    assert len(events) == 13  # the 12 seeded meetings and M 12
    m12 = next(e for s, e in events.items() if s.startswith("Besprechung M 12"))
    start = m12.decoded("dtstart")
    assert start == datetime(2018, 10, 15, 10, 0, tzinfo=start.tzinfo)
    assert m12["dtstart"].params.get("TZID") == "Europe/Berlin"
    assert cal.walk("VTIMEZONE"), "the time zone must travel with the file"
    all_day = next(e for s, e in events.items() if s.startswith("Besprechung M 21"))
    assert all_day.decoded("dtstart") == date(2018, 9, 20)
    again = Calendar.from_ical(ask(state, "/calendar", now=at("2018-09-22 10:00")).attachments[0].data)
    assert sorted(str(e["uid"]) for e in again.walk("VEVENT")) == sorted(str(e["uid"]) for e in events.values())


def test_unterschrieben_with_the_meeting_date_signs_that_protocol(team_monitor) -> None:
    state = team_monitor.state
    erika = Caller(user_id=100000002, person=state.catalogue.person("Beispiel: Erika Muster"))
    older, _ = state.store.record_protocol("M21", date(2018, 9, 20), sent_on=date(2018, 9, 24),
                                           signatories=["Beispiel: Erika Muster"])
    newer, _ = state.store.record_protocol("M21", date(2018, 11, 5), sent_on=date(2018, 11, 6),
                                           signatories=["Beispiel: Erika Muster"])
    now = at("2018-11-08 10:00")
    reply = dispatch(state, "/unterschrieben M21 20.09.2018", erika, now)
    assert reply.ok, reply.plain()
    assert [s.person for s in state.store.signatures(older.id)] == ["Beispiel: Erika Muster"]
    assert state.store.signatures(newer.id) == []
    assert state.store.signatures(older.id)[0].signed_on == date(2018, 11, 8)
    # Any other date is the day of signing, on the newest protocol still open.
    reply = dispatch(state, "/unterschrieben M21 07.11.2018", erika, now)
    assert reply.ok and state.store.signatures(newer.id)[0].signed_on == date(2018, 11, 7)
