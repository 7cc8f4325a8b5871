"""The outbox service: one route per person (preferred channel, then the fixed order), the admins' targets, the
console as a viewer that never settles a message meant for a channel served elsewhere."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from bot.channels import ConsoleTransport
from bot.email_channel import EmailTransport
from bot.outbox_service import Letter, OutboxService, Target
from bot.telegram_bot import TelegramTransport
from bot.workspace import Monitor
from commands.outgoing import ADMINS, Outgoing, channels_of
from commands.reply import ReplyBuilder
from storage.config import AccessSettings, EmailSettings, MatrixSettings
from tests.test_email import add_person_fields

ERIKA, PAULA, ADMIN = "Beispiel: Erika Muster", "Beispiel: Paula Probe", "Beispiel: Fachstelle Sozialplanung"
ROOM = "!fachstelle:stadt.example"


def configured(monitor: Monitor, *, email: bool = True, matrix: bool = True, admin_chat: int = 0) -> Monitor:
    monitor.settings = replace(
        monitor.settings,
        email=EmailSettings(host="127.0.0.1", security="none", sender="s@stadt.example") if email else EmailSettings(),
        matrix=MatrixSettings(homeserver="http://127.0.0.1:1", user_id="@bot:stadt.example", rooms=(ROOM,),
                              token="t") if matrix else MatrixSettings(),
        access=AccessSettings(admin_chat=admin_chat) if admin_chat else monitor.settings.access)
    return monitor


def service_for(monitor: Monitor, *channels: str) -> OutboxService:
    service = OutboxService(monitor, [])
    for channel in channels:
        if channel == "telegram":
            service.add_transport(TelegramTransport(lambda: None, monitor, service.limits))  # type: ignore[arg-type,return-value]
        elif channel == "email":
            service.add_transport(EmailTransport(monitor))
        else:
            service.absent.add(channel)  # set up, served elsewhere: routed all the same
    return service


def test_preferred_channel_first_then_telegram_matrix_email(demo_workspace: Path) -> None:
    add_person_fields(demo_workspace, ERIKA, email="erika@stadt.example", matrix_id="@erika:stadt.example",
                      kanal="email")
    add_person_fields(demo_workspace, PAULA, email="paula@stadt.example", matrix_id="@paula:stadt.example")
    monitor = Monitor.open(demo_workspace, env={})
    try:
        erika, paula = monitor.catalogue.person(ERIKA), monitor.catalogue.person(PAULA)
        assert erika is not None and paula is not None
        assert channels_of(erika, {"telegram", "matrix", "email"}) == ["email", "telegram", "matrix"]
        assert channels_of(paula, {"telegram", "matrix", "email"}) == ["matrix", "email"]  # no Telegram id
        everything = service_for(configured(monitor), "telegram", "matrix", "email")
        assert everything.route(erika) == Target("email", "erika@stadt.example", ERIKA)
        assert everything.route(paula) == Target("matrix", "@paula:stadt.example", PAULA)
        # Without e-mail set up, Erika falls back to her Telegram chat.
        assert service_for(monitor, "telegram", "matrix").route(erika) == Target("telegram", "100000002", ERIKA)
        assert service_for(monitor, "telegram").route(paula) is None
    finally:
        monitor.close()


def test_admins_are_each_admin_once_and_the_admin_chat_and_the_first_room(demo_monitor: Monitor) -> None:
    service = service_for(configured(demo_monitor, admin_chat=-100123), "telegram", "matrix", "email")
    targets = service.targets([ADMINS, ADMIN], "notice")
    assert [(t.channel, t.address) for t in targets] == [("telegram", "100000001"), ("telegram", "-100123"),
                                                         ("matrix", ROOM)]


def test_someone_reachable_on_no_channel_is_named_to_the_admins_once(demo_monitor: Monitor) -> None:
    service = service_for(configured(demo_monitor, matrix=False), "telegram", "email")
    assert service.targets([PAULA], "reminder") == []
    assert service.targets([PAULA], "reminder") == []
    [(told, _)] = service._early  # handed over for the admins, once
    assert told.kind == "error" and told.recipients == (ADMINS,)
    assert "Beispiel: Paula Probe ist auf keinem eingerichteten Kanal erreichbar" in told.texts[0]
    assert [name for name, _ in service.problems] == [PAULA, PAULA]


def test_the_console_shows_what_waits_for_telegram_and_leaves_it_in_the_outbox(demo_monitor: Monitor) -> None:
    shown: list[Letter] = []
    service = OutboxService(demo_monitor, [ConsoleTransport(shown.append)], absent=["telegram"])

    async def go() -> None:
        service.start()
        service(Outgoing((ERIKA,), ReplyBuilder().line("Datei übernommen").build()))
        await asyncio.sleep(0.2)
        await service.close(drain=1)

    asyncio.run(go())
    assert [letter.texts for letter in shown] == [("Datei übernommen",)]
    [waiting] = demo_monitor.outbox.pending()  # for `sozialmonitor run` with Telegram to deliver
    assert waiting.recipients == (ERIKA,) and waiting.delivered == ()


def test_the_console_alone_writes_no_outbox(demo_monitor: Monitor) -> None:
    shown: list[Letter] = []
    service = OutboxService(demo_monitor, [ConsoleTransport(shown.append)])
    writes = demo_monitor.outbox.writes

    async def go() -> None:
        service.start()
        for n in range(3):
            service(Outgoing((ADMINS,), ReplyBuilder().line(f"Meldung {n}").build()))
        await asyncio.sleep(0.2)
        await service.close(drain=1)

    asyncio.run(go())
    assert [letter.texts[0] for letter in shown] == ["Meldung 0", "Meldung 1", "Meldung 2"]
    assert demo_monitor.outbox.writes == writes and demo_monitor.outbox.pending() == []
