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
