"""The reminder engine: working days, the rules, bundling, exactly-once delivery, and a simulated year."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot import runtime
from bot.reminders import ReminderService, deliver_reminders
from bot.runtime import ADMIN_CHAT, Outgoing
from bot.workspace import Monitor
from commands import Caller, dispatch
from commands.reminders import (
    ADMINS,
    WorkCalendar,
    blocked_reason,
    collect,
    due_reminders,
    next_slot,
)
from storage.config import AccessSettings
from storage.store import Store

from .conftest import BERLIN, at

ADMIN = "Beispiel: Fachstelle Sozialplanung"
ERIKA = "Beispiel: Erika Muster"
MAX = "Beispiel: Max Mustermann"
PAULA = "Beispiel: Paula Probe"


def keys(reminders) -> set[str]:
    return {r.key for r in reminders}


def of_kind(reminders, kind: str, measure: str | None = None) -> list:
    return [r for r in reminders if r.kind == kind and (measure is None or r.measure == measure)]


def test_admins_constant_is_the_runtime_one() -> None:
    assert ADMINS == runtime.ADMINS


def test_working_days_of_rhineland_palatinate() -> None:
    cal = WorkCalendar("RP")
    assert not cal.is_working_day(date(2018, 10, 3))  # Tag der Deutschen Einheit
    assert not cal.is_working_day(date(2018, 5, 31))  # Fronleichnam: a holiday in RP, not in Berlin
    assert WorkCalendar("BE").is_working_day(date(2018, 5, 31))
    assert not cal.is_working_day(date(2018, 9, 23))  # Sunday
    assert cal.is_working_day(date(2018, 12, 24))
    # Mon 01.10 .. Fri 05.10.2018 without the 3rd: four working days after Friday 28.09.
    assert cal.count(date(2018, 9, 28), date(2018, 10, 5)) == 4
    assert cal.on_or_before(date(2018, 12, 26)) == date(2018, 12, 24)
    assert cal.on_or_after(date(2019, 4, 19)) == date(2019, 4, 23)


def test_sending_hours_follow_berlin_time_across_daylight_saving(demo_monitor: Monitor) -> None:
    state = demo_monitor.state
    # Friday before the October switch: 06:30 UTC is 08:30 CEST (open); Monday after: 06:30 UTC is 07:30 CET.
    assert blocked_reason(state, datetime(2018, 10, 26, 6, 30, tzinfo=UTC)) is None
    assert blocked_reason(state, datetime(2018, 10, 29, 6, 30, tzinfo=UTC)) is not None
    assert blocked_reason(state, datetime(2018, 10, 29, 7, 30, tzinfo=UTC)) is None
    # Spring: Monday 01.04.2019 06:30 UTC is 08:30 CEST.
    assert blocked_reason(state, datetime(2019, 4, 1, 6, 30, tzinfo=UTC)) is None
    assert blocked_reason(state, datetime(2019, 3, 29, 15, 30, tzinfo=UTC)) is None  # 16:30 CET
    assert blocked_reason(state, datetime(2019, 4, 1, 15, 30, tzinfo=UTC)) is not None  # 17:30 CEST
    assert "Feiertag" in blocked_reason(state, at("2018-10-03 10:00"))
    assert "Sonntag" in blocked_reason(state, at("2018-09-23 10:00"))
    assert next_slot(state, at("2018-10-02 18:00")) == at("2018-10-04 08:00")
    assert due_reminders(state, at("2018-09-23 10:00")) == []


def test_meeting_reminders_seven_days_and_one_day_before(demo_monitor: Monitor) -> None:
    state = demo_monitor.state
    week_before = of_kind(collect(state, date(2018, 9, 13)), "termin", "M21")
    assert {r.recipient for r in week_before} == {ADMIN, ERIKA}
    assert all(":7:" in r.key for r in week_before)
    assert "in 7 Tagen" in week_before[0].text and "20.09.2018" in week_before[0].text
    day_before = of_kind(collect(state, date(2018, 9, 19)), "termin", "M21")
    assert all(":1:" in r.key and "morgen" in r.text for r in day_before)
    assert keys(week_before).isdisjoint(keys(day_before))
    assert of_kind(collect(state, date(2018, 9, 20)), "termin") == []  # the day itself: no reminder


def test_a_monday_meeting_is_announced_on_the_friday_before(demo_monitor: Monitor) -> None:
    state = demo_monitor.state
    state.store.add_meeting("M33", date(2018, 10, 8), approach="Test")
    assert of_kind(collect(state, date(2018, 10, 5)), "termin", "M33")  # Friday
    # Meeting after Easter: the 1-day reminder moves back over Easter Monday and Good Friday.
    state.store.add_meeting("M14", date(2019, 4, 23))
    assert [r for r in of_kind(collect(state, date(2019, 4, 18)), "termin", "M14") if ":1:" in r.key]


def test_meeting_participants_default_to_the_measures_persons(demo_monitor: Monitor) -> None:
    state = demo_monitor.state
    meeting = next(m for m in state.store.meetings("M21"))
    state.store.set_participants(meeting.id, [ERIKA])
    assert {r.recipient for r in of_kind(collect(state, date(2018, 9, 19)), "termin", "M21")} == {ERIKA}


def test_protocol_reminders_after_working_days_then_every_n_and_escalation(team_monitor: Monitor) -> None:
    state = team_monitor.state
    # Sent Monday 24.09.2018; D = 3 working days, R = 3, escalation after 10 days.
    state.store.record_protocol("M21", date(2018, 9, 20), sent_on=date(2018, 9, 24), signatories=[ADMIN, ERIKA])
    assert of_kind(collect(state, date(2018, 9, 26)), "protokoll") == []
    first = of_kind(collect(state, date(2018, 9, 27)), "protokoll")
    assert {r.recipient for r in first} == {ADMIN, ERIKA}
    assert all(":0:" in r.key for r in first)
    assert keys(first) == keys(of_kind(collect(state, date(2018, 10, 1)), "protokoll"))  # same round
    # 03.10 is a holiday: the second round comes on the 6th working day, Tuesday 02.10 ...
    second = of_kind(collect(state, date(2018, 10, 2)), "protokoll")
    assert all(":1:" in r.key for r in second) and len(second) == 2
    # ... and from 04.10 (10 days after sending) the admins also get the names.
    escalated = [r for r in of_kind(collect(state, date(2018, 10, 4)), "protokoll") if r.recipient == ADMINS]
    assert len(escalated) == 1 and ERIKA in escalated[0].text
    protocol = state.store.protocol("M21", date(2018, 9, 20))
    state.store.sign(protocol.id, ERIKA, signed_on=date(2018, 10, 4), channel="test", at=at("2018-10-04 09:00"))
    later = of_kind(collect(state, date(2018, 10, 8)), "protokoll")
    assert {r.recipient for r in later} == {ADMIN, ADMINS}


def test_a_replaced_protocol_restarts_reminders_for_everybody(team_monitor: Monitor) -> None:
    state = team_monitor.state
    store = state.store
    store.record_protocol("M21", date(2018, 9, 20), sent_on=date(2018, 9, 24), signatories=[ADMIN, ERIKA],
                          file="a.pdf", file_hash="a")
    protocol = store.protocol("M21", date(2018, 9, 20))
    store.sign(protocol.id, ERIKA, signed_on=date(2018, 9, 25), channel="test", at=at("2018-09-25 09:00"))
    assert {r.recipient for r in of_kind(collect(state, date(2018, 9, 27)), "protokoll")} == {ADMIN}
    _, reset = store.record_protocol("M21", date(2018, 9, 20), sent_on=date(2018, 10, 1),
                                     signatories=[ADMIN, ERIKA], file="b.pdf", file_hash="b")
    assert reset
    assert of_kind(collect(state, date(2018, 10, 2)), "protokoll") == []  # the clock restarts
    again = of_kind(collect(state, date(2018, 10, 5)), "protokoll")
    assert {r.recipient for r in again} == {ADMIN, ERIKA} and all(":v2:" in r.key for r in again)


def test_weekly_items_for_admins_once_a_week_until_done(demo_monitor: Monitor) -> None:
    state = demo_monitor.state
    step = state.store.add_step("M33", "Daten anfragen", due=date(2018, 9, 28))
    monday = collect(state, date(2018, 10, 1))
    assert [r.key for r in of_kind(monday, "schritt")] == [f"woche:2018-W40:schritt:{step.id}"]
    assert {r.measure for r in of_kind(monday, "terminierung")} == {"M12", "M13"}
    assert of_kind(monday, "zusammenfassung")  # the demo has overdue deliveries
    assert len(of_kind(monday, "zusammenfassung")) == 1  # one message, not one per item
    state.store.complete_step("M33", step.number, done_on=date(2018, 10, 2))
    assert of_kind(collect(state, date(2018, 10, 8)), "schritt") == []
    # Easter Monday 2019: the weekly items wait for Tuesday.
    assert of_kind(collect(state, date(2019, 4, 22)), "terminierung") == []  # (a holiday anyway)
    assert not [r for r in collect(state, date(2019, 4, 18)) if "2019-W17" in r.key]
    assert of_kind(collect(state, date(2019, 4, 23)), "terminierung")


def test_person_without_telegram_id_is_listed_to_the_admins(demo_monitor: Monitor) -> None:
    state = demo_monitor.state
    items = collect(state, date(2018, 8, 29))  # 1 day before the M41/M42 meetings
    assert not [r for r in items if r.recipient == PAULA]
    listed = [r for r in of_kind(items, "ohne_telegram") if PAULA in r.text]
    assert {r.measure for r in listed} >= {"M41", "M42"}
    assert all(r.recipient == ADMINS for r in listed)


def test_deliver_bundles_one_message_per_recipient_recorded_before_sending(demo_monitor: Monitor) -> None:
    store = demo_monitor.store
    seen: list[tuple[Outgoing, set[str]]] = []

    def sink(message: Outgoing) -> None:
        seen.append((message, set(store.sent_keys())))  # what was recorded when the message reached the sink

    due = due_reminders(demo_monitor.state, at("2018-09-19 09:00"))
    delivered = deliver_reminders(demo_monitor, sink, at("2018-09-19 09:00"))
    keys = {b.key: b.keys for b in delivered}
    recipients = [m.recipients for m, _ in seen]
    assert len(recipients) == len(set(recipients)) == len(delivered) > 1
    assert all(set(keys[m.key]) <= recorded for m, recorded in seen)
    assert all(m.kind == "reminder" and m.key for m, _ in seen)
    # Every due reminder went out, the admins' items inside the admins' own messages.
    assert {k for ks in keys.values() for k in ks} == {r.key for r in due}
    assert ADMINS not in {r for m, _ in seen for r in m.recipients}
    assert deliver_reminders(demo_monitor, sink, at("2018-09-19 09:05")) == []


def test_an_admin_gets_one_message_with_their_own_and_the_fachstelle_items(demo_monitor: Monitor) -> None:
    due = due_reminders(demo_monitor.state, at("2018-09-19 09:00"))
    own = [r for r in due if r.recipient == ADMIN]
    shared = [r for r in due if r.recipient == ADMINS]
    assert own and shared  # the demo admin takes part in measures and is the Fachstelle
    messages: list[Outgoing] = []
    deliver_reminders(demo_monitor, messages.append, at("2018-09-19 09:00"))
    (mine,) = [m for m in messages if m.recipients == (ADMIN,)]
    text = mine.reply.plain()
    assert all(r.text in text for r in own + shared)
    assert text.index(own[0].text) < text.index("Erinnerungen für die Fachstelle:") < text.index(shared[0].text)


def test_the_admin_chat_gets_the_fachstelle_items_too(demo_monitor: Monitor) -> None:
    demo_monitor.settings = replace(demo_monitor.settings, access=AccessSettings(admin_chat=-100123))
    messages: list[Outgoing] = []
    deliver_reminders(demo_monitor, messages.append, at("2018-09-19 09:00"))
    (group,) = [m for m in messages if m.recipients == (ADMIN_CHAT,)]
    assert group.reply.plain().startswith("Erinnerungen für die Fachstelle:")
    assert Counter(r for m in messages for r in m.recipients)[ADMIN] == 1


def test_a_failing_sink_does_not_resend_or_block_others(demo_monitor: Monitor) -> None:
    calls: list[Outgoing] = []

    def sink(message: Outgoing) -> None:
        calls.append(message)
        if len(calls) == 1:
            raise RuntimeError("chat down")

    delivered = deliver_reminders(demo_monitor, sink, at("2018-09-19 09:00"))
    assert len(calls) == len(delivered) > 1
    assert deliver_reminders(demo_monitor, sink, at("2018-09-19 10:00")) == []


def test_restart_never_repeats_and_sends_missed_ones_once(demo_workspace: Path) -> None:
    first = Monitor.open(demo_workspace, env={})
    try:
        sent_before = deliver_reminders(first, lambda m: None, at("2018-09-13 09:00"))
        assert sent_before
    finally:
        first.close()
    second = Monitor.open(demo_workspace, env={})
    try:
        assert deliver_reminders(second, lambda m: None, at("2018-09-13 11:00")) == []
        # Down from Friday 14.09 to Wednesday 19.09 at noon: the 1-day reminders come once, the
        # weekly items of week 38 too; nothing of the 13th again.
        caught_up = deliver_reminders(second, lambda m: None, at("2018-09-19 12:00"))
        caught_keys = [k for b in caught_up for k in b.keys]
        before_keys = {k for b in sent_before for k in b.keys}
        assert len(caught_keys) == len(set(caught_keys))
        assert before_keys.isdisjoint(caught_keys)
        assert any(":1:" in k for k in caught_keys) and any(k.startswith("woche:2018-W38") for k in caught_keys)
        assert deliver_reminders(second, lambda m: None, at("2018-09-19 12:05")) == []
    finally:
        second.close()


def test_two_runs_at_once_hand_out_each_reminder_once(demo_monitor: Monitor) -> None:
    got: list[Outgoing] = []
    lock = threading.Lock()

    def sink(message: Outgoing) -> None:
        with lock:
            got.append(message)

    when = at("2018-09-19 09:00")
    threads = [threading.Thread(target=deliver_reminders, args=(demo_monitor, sink, when)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    recipients = Counter(m.recipients for m in got)
    assert got and max(recipients.values()) == 1


def test_reminder_service_catches_up_at_start_and_stops(demo_monitor: Monitor) -> None:
    got: list[Outgoing] = []
    ready = threading.Event()

    def sink(message: Outgoing) -> None:
        got.append(message)
        ready.set()

    service = ReminderService(demo_monitor, sink, interval=0.05, clock=lambda: at("2018-09-19 09:00"))
    service.start()
    try:
        assert ready.wait(timeout=10)
        deadline = datetime.now().timestamp() + 10
        while service.runs < 3 and datetime.now().timestamp() < deadline:
            threading.Event().wait(0.02)
        assert service.runs >= 3
    finally:
        service.stop()
        service.stop()  # safe twice
    assert len({m.recipients for m in got}) == len(got)


def test_erinnerungen_lists_and_sends(demo_monitor: Monitor) -> None:
    state = demo_monitor.state
    admin = Caller(user_id=100000001, person=demo_monitor.catalogue.person(ADMIN))
    member = Caller(user_id=100000002, person=demo_monitor.catalogue.person(ERIKA))
    assert dispatch(state, "/erinnerungen", member, at("2018-09-19 09:00")).status == "denied"
    listing = dispatch(state, "/erinnerungen", admin, at("2018-09-19 09:00"))
    assert listing.ok and "Fällige Erinnerungen" in listing.plain() and ERIKA in listing.plain()
    assert not listing.notices
    sent = dispatch(state, "/erinnerungen senden", admin, at("2018-09-19 09:00"))
    assert sent.ok and "Versandt" in sent.plain()
    assert {n.person for n in sent.notices} >= {ERIKA, ADMIN}
    assert len({n.person for n in sent.notices}) == len(sent.notices)  # one message per person
    # Sent as reminders with their bundle key: the bot then never delivers them twice.
    assert all(n.kind == "reminder" and n.key for n in sent.notices)
    assert len({n.key for n in sent.notices}) == len(sent.notices)
    assert dispatch(state, "/reminders send", admin, at("2018-09-19 09:10")).plain() == (
        "Zurzeit ist keine Erinnerung fällig.")
    sunday = dispatch(state, "/erinnerungen", admin, at("2018-09-23 10:00")).plain()
    assert "Sonntag" in sunday and "Montag, 24.09.2018 ab 08:00" in sunday
    bad = dispatch(state, "/erinnerungen jetzt", admin, at("2018-09-19 09:00"))
    assert bad.status == "usage" and "„jetzt“" in bad.plain()


# ---------------------------------------------------------------- a simulated year


def _fast_monitor(workspace: Path) -> Monitor:
    """A workspace with a store that skips fsync: a year of ticks writes a few thousand times."""
    monitor = Monitor.open(workspace, env={})
    monitor.store.close()
    monitor.store = Store(monitor.settings.store_file, backups=0, fsync=False)
    return monitor


def test_a_simulated_year_sends_everything_once_on_working_days_only(team_workspace: Path) -> None:
    monitor = _fast_monitor(team_workspace)
    store = monitor.store
    cal = WorkCalendar("RP")
    start = datetime(2018, 9, 3, 0, 0, tzinfo=UTC)
    end = datetime(2019, 9, 2, 0, 0, tzinfo=UTC)
    step = timedelta(minutes=40)  # not a divisor of an hour: ticks land on changing minutes
    events = [
        (at("2018-09-24 10:00"), lambda: store.record_protocol(
            "M21", date(2018, 9, 20), sent_on=date(2018, 9, 24), signatories=[ADMIN, ERIKA], file="v1.pdf",
            file_hash="v1")),
        (at("2018-09-28 12:00"), lambda: store.move_meeting(
            _unscheduled(store, "M12"), date(2018, 12, 27), at=None, approach="", changed=at("2018-09-28 12:00"))),
        (at("2018-09-28 12:00"), lambda: store.move_meeting(
            _unscheduled(store, "M13"), date(2019, 4, 23), at=None, approach="", changed=at("2018-09-28 12:00"))),
        (at("2018-10-10 11:00"), lambda: store.sign(
            store.protocol("M21", date(2018, 9, 20)).id, ERIKA, signed_on=date(2018, 10, 10), channel="t",
            at=at("2018-10-10 11:00"))),
        (at("2018-10-15 11:00"), lambda: store.record_protocol(
            "M21", date(2018, 9, 20), sent_on=date(2018, 10, 15), signatories=[ADMIN, ERIKA], file="v2.pdf",
            file_hash="v2")),
        (at("2018-11-01 12:00"), lambda: store.add_step("M33", "Daten anfragen", due=date(2018, 11, 30))),
        (at("2018-11-05 16:00"), lambda: [store.sign(
            store.protocol("M21", date(2018, 9, 20)).id, who, signed_on=date(2018, 11, 5), channel="t",
            at=at("2018-11-05 16:00")) for who in (ERIKA, ADMIN)]),
        (at("2019-01-15 12:00"),
         lambda: store.complete_step("M33", _max_step(store, "M33"), done_on=date(2019, 1, 15))),
    ]
    sent: list[tuple[datetime, str, str]] = []  # (local time, recipient, key)
    checked_days = 0
    try:
        now = start
        while now < end:
            while events and events[0][0] <= now:
                events.pop(0)[1]()
            local = now.astimezone(BERLIN)
            for b in deliver_reminders(monitor, lambda m: None, now):
                sent += [(local, b.recipient, k) for k in b.keys]
            after = (now + step).astimezone(BERLIN)
            if blocked_reason(monitor.state, now) is None and (after.date() != local.date() or after.hour >= 17):
                # The day's last chance: everything relevant today has gone out (none lost).
                missing = keys(collect(monitor.state, local.date())) - store.sent_keys()
                assert not missing, (local, sorted(missing)[:5])
                checked_days += 1
            now += step
    finally:
        monitor.close()

    assert checked_days > 240  # every working day of the year was checked
    all_keys = [k for _, _, k in sent]
    duplicates = [k for k, n in Counter(all_keys).items() if n > 1]
    assert not duplicates, duplicates[:5]
    for local, _, key in sent:
        assert cal.is_working_day(local.date()), (local, key)
        assert 8 <= local.hour < 17, (local, key)
    assert not [s for s in sent if s[0].date() in (date(2018, 10, 3), date(2018, 12, 25), date(2019, 4, 22))]

    def when(prefix: str) -> list[datetime]:
        return sorted(local for local, _, key in sent if key.startswith(prefix))

    def days(prefix: str) -> set[date]:
        return {d.date() for d in when(prefix)}

    # Unscheduled M12/M13: weekly to the admins in weeks 36-39 only (scheduled on Friday of week 39).
    assert len([k for k in all_keys if ":terminierung:M12" in k]) == 4
    # M12 on Thu 27.12.2018: 7 days before is Thu 20.12; 1 day before falls on the holidays -> Mon 24.12.
    m12 = [(local.date(), key) for local, _, key in sent if key.startswith("termin:") and ":2018-12-27:" in key]
    assert {d for d, k in m12 if ":7:" in k} == {date(2018, 12, 20)}
    assert {d for d, k in m12 if ":1:" in k} == {date(2018, 12, 24)}
    # M13 on Tue 23.04.2019: the 1-day reminder goes on Maundy Thursday, before Good Friday and Easter Monday.
    assert {local.date() for local, _, key in sent if ":2019-04-23:1:" in key} == {date(2019, 4, 18)}
    # Every meeting of the year reached each participant (or the admins for those without Telegram).
    for meeting in monitor.state.store.meetings():
        if meeting.day and date(2018, 9, 12) < meeting.day < date(2019, 9, 1):
            assert days(f"termin:{meeting.id}:{meeting.day.isoformat()}:"), meeting
    # Protocol v1: Erika's reminders stop once she signed on 10.10; v2 restarts them; all stop on 05.11.
    erika_v1 = [local for local, who, key in sent if key.startswith("protokoll:") and ":v1:" in key and who == ERIKA]
    assert erika_v1 and max(erika_v1).date() < date(2018, 10, 10)
    v2 = [local for local, _, key in sent if key.startswith("protokoll:") and ":v2:" in key]
    assert v2 and min(v2).date() >= date(2018, 10, 18) and max(v2).date() <= date(2018, 11, 5)
    assert not [k for local, _, k in sent if k.startswith("protokoll:") and local.date() > date(2018, 11, 5)]
    assert [k for k in all_keys if k.startswith("protokoll:") and k.endswith(":admins")]  # escalated
    # The overdue step: weekly from week 49 2018 until it was done in week 3 2019.
    step_weeks = sorted(k.split(":")[1] for k in all_keys if ":schritt:" in k)
    assert step_weeks == ["2018-W49", "2018-W50", "2018-W51", "2018-W52", "2019-W01", "2019-W02", "2019-W03"]
    # One weekly summary per week with overdue deliveries, never two.
    summaries = [k for k in all_keys if k.endswith(":lieferungen")]
    assert len(summaries) == len(set(summaries)) >= 40


def _unscheduled(store: Store, measure: str) -> int:
    return next(m.id for m in store.meetings(measure) if m.day is None)


def _max_step(store: Store, measure: str) -> int:
    return max(s.number for s in store.steps(measure))


@pytest.mark.parametrize("when", ["2018-10-03 10:00", "2018-09-22 10:00", "2018-09-19 07:59", "2018-09-19 17:00"])
def test_nothing_is_due_outside_working_days_and_hours(demo_monitor: Monitor, when: str) -> None:
    assert due_reminders(demo_monitor.state, at(when)) == []


def test_texts_exist_in_both_languages_and_english_works(demo_monitor: Monitor) -> None:
    from commands import texts_reminders

    assert set(texts_reminders.DE) == set(texts_reminders.EN)
    english = demo_monitor.state.for_language("en")
    meeting = of_kind(collect(english, date(2018, 9, 19)), "termin", "M21")[0]
    assert meeting.text.startswith("Meeting on M 21 tomorrow, Thursday, 2018-09-20")
    # The key does not depend on the language: switching it never re-sends a reminder.
    assert meeting.key in keys(collect(demo_monitor.state, date(2018, 9, 19)))
