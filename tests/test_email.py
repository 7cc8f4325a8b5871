"""E-mail: reminders, notices and meeting invitations through a real SMTP server on 127.0.0.1 (aiosmtpd)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from icalendar import Calendar

from bot.channels import send_once
from bot.email_channel import EmailTransport, build_email
from bot.outbox_service import Letter, Limits, outbox_entry
from bot.reminders import OutboxCollector, deliver_reminders, dispatch_keeping
from bot.workspace import Monitor
from commands import Caller
from commands.outgoing import Outgoing
from commands.reply import ReplyBuilder
from storage.outbox import Outbox
from tests.conftest import at, run_cli
from tests.mailserver import MailServer, Received

ERIKA, PAULA = "Beispiel: Erika Muster", "Beispiel: Paula Probe"
ERIKA_MAIL, PAULA_MAIL = "erika.muster@stadt.example", "paula.probe@stadt.example"
SECRET = "Geheim-SMTP-9f31"
QUICK = Limits(backoff_start=0.05, backoff_max=0.2, reply_patience=2, drain_seconds=1)


def add_person_fields(workspace: Path, name: str, **fields: str) -> None:
    """Give a catalogue person more fields (e-mail address, Matrix id, preferred channel)."""
    path = workspace / "katalog.toml"
    lines = "".join(f'{key} = "{value}"\n' for key, value in fields.items())
    body = path.read_text(encoding="utf-8")
    marker = f'name = "{name}"\n'
    assert marker in body
    path.write_text(body.replace(marker, marker + lines, 1), encoding="utf-8")


def set_up_email(workspace: Path, port: int, *, user: str = "") -> None:
    settings = workspace / "sozialmonitor.toml"
    settings.write_text(settings.read_text(encoding="utf-8") + (
        f'\n[email]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nuser = "{user}"\n'
        'absender = "Sozialmonitor <sozialmonitor@stadt.example>"\n'), encoding="utf-8")


@pytest.fixture
def smtp() -> Iterator[MailServer]:
    with MailServer(user="sozialmonitor", password=SECRET) as server:
        yield server


@pytest.fixture
def mail_workspace(demo_workspace: Path, smtp: MailServer) -> Path:
    """The demo: Erika prefers e-mail (she has Telegram too), Paula has only e-mail; the server needs a login."""
    set_up_email(demo_workspace, smtp.port, user="sozialmonitor")
    add_person_fields(demo_workspace, ERIKA, email=ERIKA_MAIL, kanal="email")
    add_person_fields(demo_workspace, PAULA, email=PAULA_MAIL)
    return demo_workspace


@pytest.fixture
def mail_monitor(mail_workspace: Path) -> Iterator[Monitor]:
    monitor = Monitor.open(mail_workspace, env={"SOZIALMONITOR_SMTP_PASSWORD": SECRET})
    yield monitor
    monitor.close()


def invitation(mail: Received) -> Calendar:
    part = mail.part("text/calendar")
    assert part is not None, "no invitation in the mail"
    return Calendar.from_ical(part.get_content())


@pytest.mark.slow
def test_reminders_go_by_email_once_per_person_with_subject_html_and_the_meeting(
        mail_workspace: Path, smtp: MailServer) -> None:
    env = {"SOZIALMONITOR_SMTP_PASSWORD": SECRET}
    result = run_cli("--workspace", str(mail_workspace), "reminders", "--at", "2018-09-19T09:00", "--send", env=env)
    assert result.returncode == 0, result.stderr
    assert SECRET not in result.stdout + result.stderr and "Traceback" not in result.stderr
    to_erika = [m for m in smtp.received if ERIKA_MAIL in m.recipients]
    assert len(to_erika) == 1  # one message per person and run, as in chat
    mail = to_erika[0]
    assert mail.recipients == (ERIKA_MAIL,) and mail.sender == "sozialmonitor@stadt.example"
    assert mail.subject.startswith("Erinnerung: Termin M 21")
    assert "Besprechung zu M 21 morgen" in mail.text("text/plain")
    assert "<b>Erinnerung für Beispiel: Erika Muster:</b>" in mail.text("text/html")
    event = invitation(mail).walk("VEVENT")[0]
    assert invitation(mail)["METHOD"] == "REQUEST" and re.fullmatch(r"termin-\d+-M21@sozialmonitor", event["UID"])
    assert smtp.logins and set(smtp.logins) == {"sozialmonitor"}
    # Paula has no Telegram: she is reached by e-mail now instead of being only named to the admins.
    assert not [line for line in result.stdout.splitlines() if "ohne_telegram" in line and "Paula" in line]
    [to_paula] = [m for m in smtp.received if PAULA_MAIL in m.recipients]
    assert to_paula.subject == "Erinnerung: Lieferung M 41, Lieferung M 42"
    # Nothing waits: every message reached its channel.
    box = Outbox(mail_workspace / "daten" / "postausgang.json")
    try:
        assert [i for i in box.pending() if any(r in (ERIKA, PAULA) for r in i.recipients)] == []
    finally:
        box.close()
    again = run_cli("--workspace", str(mail_workspace), "reminders", "--at", "2018-09-19T09:30", "--send", env=env)
    assert again.returncode == 0 and len([m for m in smtp.received if ERIKA_MAIL in m.recipients]) == 1


def test_scheduling_moving_and_cancelling_a_meeting_send_one_event_that_outlook_updates(
        mail_monitor: Monitor, smtp: MailServer) -> None:
    admin = Caller(operator=True)
    sequences = []
    for said, when, method in (("/termin M21 27.09.2018 10:00", "2018-09-19 10:00", "REQUEST"),
                               ("/termin M21 28.09.2018", "2018-09-19 10:05", "REQUEST"),
                               ("/termin M21 absagen", "2018-09-19 10:10", "CANCEL")):
        before = len(smtp.received)
        reply, items = dispatch_keeping(mail_monitor, said, admin, at(when))
        assert reply.ok, reply.plain()
        _, waiting = send_once(mail_monitor, [(n, items.get(k)) for k, n in enumerate(reply.notices)], limits=QUICK)
        assert waiting == 0
        mails = [m for m in smtp.received[before:] if ERIKA_MAIL in m.recipients]
        assert len(mails) == 1, [m.subject for m in smtp.received[before:]]
        cal = invitation(mails[0])
        event = cal.walk("VEVENT")[0]
        assert cal["METHOD"] == method
        assert cal.walk("VTIMEZONE") and cal.walk("VTIMEZONE")[0]["TZID"] == "Europe/Berlin"
        attendees = event.get("ATTENDEE", [])
        attendees = attendees if isinstance(attendees, list) else [attendees]
        assert [str(a) for a in attendees] == [f"mailto:{ERIKA_MAIL}"]  # the one participant with an address
        assert str(event["ORGANIZER"]) == "mailto:sozialmonitor@stadt.example"
        sequences.append((str(event["UID"]), int(event["SEQUENCE"]), event.decoded("DTSTART")))
    uids = {uid for uid, _, _ in sequences}
    assert len(uids) == 1  # the same event throughout: moved and then cancelled, never a second one
    assert [seq for _, seq, _ in sequences] == sorted({seq for _, seq, _ in sequences})  # raised every time
    assert sequences[0][2].hour == 10 and sequences[1][2].day == 28
    assert mails[0].subject.startswith("Abgesagt: Besprechung M 21")
    assert mail_monitor.outbox.pending() == []


def test_a_4xx_answer_is_retried_and_the_mail_arrives_once(mail_monitor: Monitor, smtp: MailServer) -> None:
    collector = OutboxCollector(mail_monitor)
    assert deliver_reminders(mail_monitor, collector, at("2018-09-19 09:00"))
    smtp.fail_next("RCPT", "451 4.7.1 Bitte später erneut versuchen", count=2)
    problems, waiting = send_once(mail_monitor, collector.kept, limits=QUICK)
    assert waiting == 0 and not [p for p in problems if p[0] == ERIKA]
    assert len([m for m in smtp.received if ERIKA_MAIL in m.recipients]) == 1


def test_a_reminder_the_server_may_have_taken_is_not_sent_twice_a_notice_is_with_the_same_id(
        mail_monitor: Monitor, smtp: MailServer) -> None:
    collector = OutboxCollector(mail_monitor)
    assert deliver_reminders(mail_monitor, collector, at("2018-09-19 09:00"))
    smtp.fail_next("DATA", "TAKE-AND-HANG-UP")  # the first mail (Erika's reminder) is taken, the answer lost
    send_once(mail_monitor, collector.kept, limits=QUICK)
    assert smtp.failures_left == 0  # the hang-up happened
    for address in (ERIKA_MAIL, PAULA_MAIL):
        assert len([m for m in smtp.received if address in m.recipients]) == 1
    assert mail_monitor.outbox.pending() == []
    notice = Outgoing((PAULA,), ReplyBuilder().line("Datei übernommen").build())
    item = mail_monitor.outbox.add_many([outbox_entry(notice, None)])[0]
    smtp.fail_next("DATA", "TAKE-AND-HANG-UP")
    send_once(mail_monitor, [(notice, item)], limits=QUICK)
    assert smtp.failures_left == 0
    copies = [m for m in smtp.received if PAULA_MAIL in m.recipients and "Datei übernommen" in m.text()]
    assert len(copies) == 2 and len({m.message["Message-ID"] for m in copies}) == 1  # shown once by mail clients


def test_a_5xx_answer_is_refused_for_good_and_named(mail_monitor: Monitor, smtp: MailServer) -> None:
    collector = OutboxCollector(mail_monitor)
    assert deliver_reminders(mail_monitor, collector, at("2018-09-19 09:00"))
    smtp.fail_next("RCPT", "550 5.1.1 Postfach unbekannt")
    problems, waiting = send_once(mail_monitor, collector.kept, limits=QUICK)
    refused = [reason for name, reason in problems if "550" in reason]
    assert refused and waiting == 0  # not retried forever: refused, and the admins were told


def test_a_mail_server_that_is_down_loses_nothing_and_sends_nothing_twice(mail_workspace: Path,
                                                                          smtp: MailServer) -> None:
    env = {"SOZIALMONITOR_SMTP_PASSWORD": SECRET}
    smtp.__exit__()  # the server goes down
    monitor = Monitor.open(mail_workspace, env=env)
    try:
        collector = OutboxCollector(monitor)
        assert deliver_reminders(monitor, collector, at("2018-09-19 09:00"))
        _, waiting = send_once(monitor, collector.kept, limits=QUICK)
        assert waiting and any(ERIKA in i.recipients for i in monitor.outbox.pending())
    finally:
        monitor.close()
    with MailServer(user="sozialmonitor", password=SECRET, port=smtp.port) as back:
        for _ in range(2):  # the next start delivers what waits; the one after finds nothing
            monitor = Monitor.open(mail_workspace, env=env)
            try:
                send_once(monitor, [], limits=QUICK)
            finally:
                monitor.close()
        assert len([m for m in back.received if ERIKA_MAIL in m.recipients]) == 1


def test_build_email_escapes_and_keeps_plain_text_and_html_alike() -> None:
    letter = Letter("notice", "", ("<b>Importiert:</b> M21_&lt;x&gt;.csv\nzweite Zeile",), subject="")
    mail = build_email(letter, sender="Sozialmonitor <s@stadt.example>", to="e@stadt.example", name="Erika")
    assert mail["Subject"] == "Sozialmonitor: Importiert: M21_<x>.csv"
    assert mail["To"] == "Erika <e@stadt.example>" and mail["Auto-Submitted"] == "auto-generated"
    plain = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert "Importiert: M21_<x>.csv\nzweite Zeile" in plain
    assert "<b>Importiert:</b> M21_&lt;x&gt;.csv<br>\nzweite Zeile" in html


def test_email_transport_addresses_only_persons_with_an_address(mail_monitor: Monitor) -> None:
    transport = EmailTransport(mail_monitor)
    erika = mail_monitor.catalogue.person(ERIKA)
    max_ = mail_monitor.catalogue.person("Beispiel: Max Mustermann")
    assert erika is not None and max_ is not None
    assert transport.address(erika) == ERIKA_MAIL and transport.address(max_) is None


@pytest.mark.slow
def test_check_names_what_the_email_channel_lacks_and_never_prints_the_password(demo_workspace: Path) -> None:
    set_up_email(demo_workspace, 2525, user="sozialmonitor")
    lacking = run_cli("--workspace", str(demo_workspace), "check")
    assert lacking.returncode == 1 and "SOZIALMONITOR_SMTP_PASSWORD" in lacking.stdout
    assert "sozialmonitor.toml:" in lacking.stdout  # with file and line, as every problem
    fine = run_cli("--workspace", str(demo_workspace), "check", env={"SOZIALMONITOR_SMTP_PASSWORD": SECRET})
    assert fine.returncode == 0, fine.stdout
    assert SECRET not in fine.stdout + fine.stderr + lacking.stdout + lacking.stderr
