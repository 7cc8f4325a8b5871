"""The outbox: what waits for delivery survives a restart; delivered chats are remembered."""

from __future__ import annotations

from pathlib import Path

from storage.outbox import Outbox


def test_pending_messages_survive_reopen_with_their_deliveries(tmp_path: Path) -> None:
    path = tmp_path / "postausgang.json"
    box = Outbox(path)
    first = box.add(kind="notice", key="", recipients=["A", "@admins"], messages=["<b>eins</b>", "zwei"])
    second = box.add(kind="reminder", key="termin:M21:1", recipients=["B"], messages=["drei"])
    box.delivered(first, 11)
    box.delivered(first, 11)
    box.finish(second)
    box.close()
    again = Outbox(path)
    try:
        [item] = again.pending()
        assert item.id == first and item.messages == ("<b>eins</b>", "zwei")
        assert item.recipients == ("A", "@admins") and item.delivered == (11,)
        again.finish(first)
        again.finish(first)  # twice is harmless
        assert again.pending() == []
    finally:
        again.close()


def test_messages_written_together_are_one_write_and_carry_their_keys(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "postausgang.json")
    try:
        writes = box.writes
        ids = box.add_many([{"kind": "reminder", "key": "b1", "recipients": ["A"], "messages": ["x"], "keys": ["k1"]},
                            {"kind": "reminder", "key": "b2", "recipients": ["B"], "messages": ["y"],
                             "keys": ["k1", "k2"]}])
        assert box.writes == writes + 1 and len(ids) == 2
        assert box.claimed_keys() == {"k1": "A", "k2": "B"}
        box.finish(ids[0])
        box.finish(ids[1])
        assert box.claimed_keys() == {}
    finally:
        box.close()


def test_a_read_only_outbox_leaves_a_damaged_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "postausgang.json"
    path.write_bytes(b'{"nachrichten": {"1": ')
    box = Outbox(path, read_only=True)
    try:
        assert box.pending() == [] and box.recovered is None
    finally:
        box.close()
    assert path.read_bytes() == b'{"nachrichten": {"1": ' and not (tmp_path / "beschaedigt").exists()


def test_erinnerungen_senden_keeps_its_reminders_with_their_marks_or_nothing(demo_monitor, monkeypatch) -> None:
    import os

    from bot.reminders import dispatch_keeping
    from commands import Caller
    from tests.conftest import at

    now = at("2018-09-19 09:00")
    store_file = demo_monitor.settings.store_file
    real_replace = os.replace

    def store_unwritable(src, dst):
        if Path(dst) == store_file:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr("storage.jsonstore.os.replace", store_unwritable)
    reply, items = dispatch_keeping(demo_monitor, "/erinnerungen senden", Caller(operator=True), now)
    monkeypatch.undo()
    assert reply.status == "error" and items == {}
    assert "No space left on device" in reply.lines[0][0].text
    assert demo_monitor.outbox.pending() == [] and demo_monitor.store.sent_keys() == set()
    reply, items = dispatch_keeping(demo_monitor, "/erinnerungen senden", Caller(operator=True), now)
    assert reply.status == "ok" and reply.notices and len(items) == len(reply.notices)
    waiting = demo_monitor.outbox.pending()
    assert {i.id for i in waiting} == set(items.values())
    assert set(demo_monitor.outbox.claimed_keys()) == demo_monitor.store.sent_keys() != set()
