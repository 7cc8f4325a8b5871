"""The store's meeting, protocol and signature records for the history: they survive closing and reopening."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

from storage.store import Store

AT = datetime(2025, 11, 4, 10, 0)


def test_cancelled_meetings_stay_in_the_store_and_out_of_the_default_list(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with Store(path, backups=0) as store:
        held = store.add_meeting("M21", date(2018, 9, 20), approach="Phase I")
        later = store.add_meeting("M21", date(2026, 3, 5), at=time(10, 0), approach="Phase II")
        store.cancel_meeting(later.id, changed=AT, by="Fachstelle")
    with Store(path, backups=0) as store:
        assert [m.id for m in store.meetings("M21")] == [held.id]
        both = store.meetings("M21", include_cancelled=True)
        cancelled = both[1]
        assert (cancelled.day, cancelled.time, cancelled.cancelled, cancelled.cancelled_by) == (
            date(2026, 3, 5), time(10, 0), AT, "Fachstelle")
        assert cancelled.history[-1]["cancelled"] is True and cancelled.history[-1]["day"] == "2026-03-05"


def test_protocols_entered_as_history_and_the_signature_ledger(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with Store(path, backups=0) as store:
        live, _ = store.record_protocol("M21", date(2018, 9, 20), sent_on=date(2018, 9, 21), signatories=["A"],
                                        entered_on=date(2018, 9, 21))
        old, _ = store.record_protocol("M14", date(2018, 6, 28), sent_on=date(2018, 6, 28), signatories=["A", "B"],
                                       entered_on=date(2025, 11, 4))
        assert live.entered_on is None  # entered on the day it went out: nothing to hold back
        store.sign(old.id, "A", signed_on=date(2018, 7, 2), channel="konsole", at=AT, method="papier",
                   recorded_by="Fachstelle")
        assert store.sign_many([(old.id, "B", date(2018, 7, 3), "chat"), (old.id, "A", date(2018, 7, 9), "chat")],
                               channel="demo", at=AT, recorded_by="Fachstelle") == 1  # A has signed already
    with Store(path, backups=0) as store:
        protocol = store.protocol("M14", date(2018, 6, 28))
        assert protocol.entered_on == date(2025, 11, 4)
        ledger = {(s.person, s.method, s.recorded_by, s.signed_on) for s in store.signatures(protocol.id)}
        assert ledger == {("A", "papier", "Fachstelle", date(2018, 7, 2)), ("B", "chat", "B", date(2018, 7, 3))}


def test_value_history_in_delivery_order(tmp_path: Path) -> None:
    with Store(tmp_path / "s.json", backups=0) as store:
        store.add_delivery(file="a.csv", content_hash="a", office="Amt 12", received=AT,
                           rows=[("i", "", "2024", 1.0, "", 2), ("i", "Lützel", "2024", 5.0, "", 3)])
        store.add_delivery(file="b.csv", content_hash="b", office="Amt 12", received=AT,
                           rows=[("i", "", "2024", 2.0, "korrigiert", 2), ("j", "", "2024", 9.0, "", 3)])
        assert [(o.file, o.value) for o in store.value_history("i", "")] == [("a.csv", 1.0), ("b.csv", 2.0)]
        assert [o.area for o in store.value_history("i")] == ["", "Lützel", ""]
        assert store.areas("i") == ["", "Lützel"] and store.areas("nothing") == []
