"""The store: crash-safe writes, never silently empty, thread-safe, indexed, versioned."""

from __future__ import annotations

import copy
import os
import random
import threading
from datetime import date, datetime
from pathlib import Path

import orjson
import pytest
from tinydb import TinyDB

from storage.jsonstore import AtomicJSONStorage, StoreUnreadable, backup_files
from storage.store import SCHEMA_VERSION, Rows, Store, StoreError

T0 = datetime(2018, 10, 1, 9, 0)


def rows(indicator: str, n: int, value: float = 1.0, area: str = "") -> list:
    return [(indicator, area, str(2000 + k), value + k, "", k + 2) for k in range(n)]


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path / "daten" / "store.json", backup_seconds=0)
    yield s
    s.close()


def test_new_store_has_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    Store(path).close()
    data = orjson.loads(path.read_bytes())
    assert data["meta"]["1"]["schema"] == SCHEMA_VERSION


def test_other_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_bytes(orjson.dumps({"meta": {"1": {"schema": SCHEMA_VERSION + 1}}}))
    with pytest.raises(StoreError) as exc:
        Store(path)
    assert exc.value.code == "store_schema"


def test_foreign_tinydb_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with TinyDB(path) as db:
        db.table("termine").insert({"measure": "M21"})
    with pytest.raises(StoreError) as exc:
        Store(path)
    assert exc.value.code == "store_no_schema"


def test_values_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with Store(path) as s:
        s.add_meeting("M21", date(2018, 9, 20), approach="Übersicht")
        result = s.add_delivery(file="a.csv", content_hash="h1", office="Amt 61", received=T0,
                                rows=rows("M21-x", 3))
        assert result.new == 3
        step = s.add_step("M21", "Zahlen prüfen", due=date(2018, 12, 1))
        s.complete_step("M21", step.number, done_on=date(2018, 11, 1), by="Erika")
    with Store(path) as s:
        assert [m.approach for m in s.meetings("M21")] == ["Übersicht"]
        assert [o.value for o in s.observations("M21-x")] == [1.0, 2.0, 3.0]
        assert s.observations("M21-x")[0].file == "a.csv"
        assert s.observations("M21-x")[0].office == "Amt 61"
        assert s.steps("M21") == []
        assert s.steps("M21", include_done=True)[0].done_by == "Erika"


def test_duplicate_content_is_not_counted_twice(store: Store) -> None:
    first = store.add_delivery(file="a.csv", content_hash="h", office="", received=T0, rows=rows("i", 2))
    again = store.add_delivery(file="a (1).csv", content_hash="h", office="", received=T0, rows=rows("i", 2))
    assert first.delivery is not None and again.delivery is None
    assert again.duplicate_of == first.delivery.id
    assert store.observation_count == 2
    assert len(store.deliveries()) == 1


def test_correction_replaces_current_value_and_keeps_history(store: Store) -> None:
    store.add_delivery(file="a.csv", content_hash="h1", office="", received=T0, rows=[("i", "", "2018", 5.0, "", 2)])
    result = store.add_delivery(file="b.csv", content_hash="h2", office="", received=T0,
                                rows=[("i", "", "2018", 6.0, "korrigiert", 2), ("i", "", "2019", 7.0, "", 3)])
    assert (result.new, result.replaced, result.unchanged) == (1, 1, 0)
    assert [o.value for o in store.observations("i")] == [6.0, 7.0]
    assert [(o.value, o.file) for o in store.history("i", "", "2018")] == [(5.0, "a.csv"), (6.0, "b.csv")]


def test_latest_gives_every_area_of_the_latest_period(store: Store) -> None:
    store.add_delivery(file="a.csv", content_hash="h", office="", received=T0,
                       rows=[("i", "Mitte", "2018", 1.0, "", 2), ("i", "Süd", "2018", 2.0, "", 3),
                             ("i", "Mitte", "2017", 9.0, "", 4)])
    assert [(o.area, o.value) for o in store.latest("i")] == [("Mitte", 1.0), ("Süd", 2.0)]
    assert store.latest("unknown") == []


def test_one_write_per_delivery(store: Store) -> None:
    before = store.writes
    store.add_delivery(file="a.csv", content_hash="h", office="", received=T0, rows=rows("i", 500))
    assert store.writes == before + 1


def test_protocol_replaced_after_signing_resets_signatures(store: Store) -> None:
    p, reset = store.record_protocol("M21", date(2018, 9, 20), sent_on=date(2018, 9, 24), signatories=["A", "B"],
                                     file="M21_2018-09-20.pdf", file_hash="x")
    assert not reset
    assert store.sign(p.id, "A", signed_on=date(2018, 9, 25), channel="telegram", at=T0)
    assert not store.sign(p.id, "A", signed_on=date(2018, 9, 25), channel="telegram", at=T0)
    same, reset = store.record_protocol("M21", date(2018, 9, 20), sent_on=date(2018, 9, 26), signatories=["A", "B"],
                                        file="M21_2018-09-20.pdf", file_hash="x")
    assert not reset and [s.person for s in store.signatures(same.id)] == ["A"]
    changed, reset = store.record_protocol("M21", date(2018, 9, 20), sent_on=date(2018, 9, 27),
                                           signatories=["A", "B"], file="M21_2018-09-20_v2.pdf", file_hash="y")
    assert reset and changed.version == 2
    assert store.signatures(changed.id) == []
    assert [s.person for s in store.signatures(changed.id, all_versions=True)] == ["A"]


def test_reminder_keys_are_recorded_once(store: Store) -> None:
    store.mark_sent(["a", "b", "a"], at=T0)
    store.mark_sent(["b", "c"], at=T0)
    assert store.sent_keys() == {"a", "b", "c"}


def test_meetings_sort_in_document_order(store: Store) -> None:
    store.add_meeting("M11", date(2018, 9, 20))
    store.add_meeting("M43", date(2018, 9, 20))
    store.add_meeting("M14", date(2018, 6, 28))
    store.add_meeting("M12", None)
    assert [m.measure for m in store.meetings()] == ["M14", "M11", "M43", "M12"]


def test_move_meeting_keeps_history(store: Store) -> None:
    m = store.add_meeting("M12", None)
    moved = store.move_meeting(m.id, date(2018, 11, 5), at=None, approach="Befragung", changed=T0, by="Fachstelle")
    assert moved.day == date(2018, 11, 5) and moved.approach == "Befragung"
    assert store.meetings("M12")[0].history[0]["day"] is None


# ---------------------------------------------------------------- crash safety


def test_failed_write_leaves_old_file_and_memory_consistent(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "s.json"
    with Store(path) as s:
        s.add_step("M21", "eins")
        good = path.read_bytes()

        def boom(*args, **kwargs):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr("storage.jsonstore.os.replace", boom)
        with pytest.raises(OSError):
            s.add_step("M21", "zwei")
        monkeypatch.undo()
        assert path.read_bytes() == good
        # The failed change is not visible in memory either: the disk is the truth.
        assert [x.text for x in s.steps("M21")] == ["eins"]
        assert not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("seed", range(3))
def test_truncated_store_never_loads_empty_or_half(tmp_path: Path, seed: int) -> None:
    # A truncated main file is rebuilt from the newest good backup and the segments; never empty, never half.
    path = tmp_path / "daten" / "s.json"
    with Store(path, backup_seconds=0) as s:
        for k in range(20):
            s.add_delivery(file=f"f{k}.csv", content_hash=f"h{k}", office="", received=T0, rows=rows(f"i{k}", 5))
    full = path.read_bytes()
    rng = random.Random(seed)
    offsets = sorted({0, 1, len(full) - 1, *(rng.randrange(len(full)) for _ in range(40))})
    for offset in offsets[:: max(1, len(offsets) // 8)]:
        path.write_bytes(full[:offset])
        with Store(path, backup_seconds=0) as s:
            assert s.recovered is not None and s.recovered.kept is not None
            assert s.recovered.kept.read_bytes() == full[:offset]  # the damaged file is kept aside
            assert s.observation_count == 100 and len(s.deliveries()) == 20
        assert orjson.loads(path.read_bytes())["lieferungen"]


def test_backups_are_kept_and_rotated(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with Store(path, backups=3, backup_seconds=0) as s:
        for k in range(6):
            s.add_step("M21", f"Schritt {k}")
    backups = backup_files(path)
    assert len(backups) == 3
    # A clean close leaves the final state as the newest backup; the one before is the state before the last write.
    assert len(orjson.loads(backups[0].read_bytes())["schritte"]) == 6
    assert len(orjson.loads(backups[1].read_bytes())["schritte"]) == 5


def test_backup_interval_limits_backups(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    clock = [1000.0]
    storage = AtomicJSONStorage(path, backups=5, backup_seconds=600, clock=lambda: clock[0])
    storage.write({"a": {}})
    for _ in range(5):
        storage.write({"a": {"1": {"x": 1}}})
    assert len(backup_files(path)) == 1
    clock[0] += 601
    storage.write({"a": {}})
    assert len(backup_files(path)) == 2


def test_two_threads_writing_concurrently_lose_nothing(store: Store) -> None:
    errors: list[BaseException] = []

    def deliver(prefix: str) -> None:
        try:
            for k in range(40):
                store.add_delivery(file=f"{prefix}{k}.csv", content_hash=f"{prefix}{k}", office="", received=T0,
                                   rows=[(f"{prefix}-ind", "", str(1900 + k), float(k), "", 2)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def steps() -> None:
        try:
            for k in range(40):
                store.add_step("M21", f"Schritt {k}")
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=deliver, args=("a",)), threading.Thread(target=deliver, args=("b",)),
               threading.Thread(target=steps)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert store.observation_count == 80
    assert sorted(s.number for s in store.steps("M21")) == list(range(1, 41))
    reopened = Store(store.path)
    try:
        assert reopened.observation_count == 80
        assert len(reopened.steps("M21")) == 40
    finally:
        reopened.close()


def test_latest_summary_prefers_the_whole_city(store: Store) -> None:
    store.add_delivery(file="a.csv", content_hash="h", office="", received=T0,
                       rows=[("i", "Süd", "2018", 2.0, "", 2), ("i", "", "2018", 9.0, "", 3),
                             ("i", "Mitte", "2018", 1.0, "", 4), ("j", "Süd", "2019", 5.0, "", 5),
                             ("j", "Mitte", "2019", 4.0, "", 6)])
    obs, n = store.latest_summary("i")
    assert (obs.area, obs.value, n) == ("", 9.0, 3)
    obs, n = store.latest_summary("j")
    assert (obs.area, obs.value, n) == ("Mitte", 4.0, 2)
    assert store.latest_summary("k") == (None, 0)


def test_a_second_store_on_the_same_file_is_read_only(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    first = Store(path)
    first.add_step("M21", "eins")
    second = Store(path)
    try:
        assert not first.read_only and second.read_only
        assert [s.text for s in second.steps("M21")] == ["eins"]
        with pytest.raises(StoreError) as exc:
            second.add_step("M21", "zwei")
        assert exc.value.code == "store_locked" and exc.value.params["pid"] == str(os.getpid())
        assert [s.text for s in second.steps("M21")] == ["eins"]
    finally:
        second.close()
        first.close()
    third = Store(path)  # the lock is gone with the first store
    try:
        assert not third.read_only
        third.add_step("M21", "zwei")
    finally:
        third.close()


def _filled(path: Path) -> None:
    with Store(path, backup_seconds=0) as s:
        s.add_step("M21", "eins")
        s.add_delivery(file="a.csv", content_hash="h", office="", received=T0, rows=rows("i", 3))


def test_a_reader_takes_no_lock_sees_everything_and_refuses_every_write(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    _filled(path)
    reader = Store.reader(path)
    try:
        assert reader.read_only and reader.observation_count == 3
        assert [s.text for s in reader.steps("M21")] == ["eins"]
        writer = Store(path)  # the lock is free while the reader is open
        try:
            assert not writer.read_only
            writer.add_step("M21", "zwei")
        finally:
            writer.close()
        with pytest.raises(StoreError) as exc:
            reader.add_step("M21", "drei")
        assert exc.value.code == "store_locked"
    finally:
        reader.close()
    with Store(path) as again:
        assert [s.text for s in again.steps("M21")] == ["eins", "zwei"]


@pytest.mark.parametrize("damage", ["main file deleted", "main file cut", "coverage deleted"])
def test_a_reader_leaves_repairs_to_the_holder_of_the_lock(tmp_path: Path, damage: str) -> None:
    from storage.coverage import coverage_path

    path = tmp_path / "daten" / "s.json"
    _filled(path)
    if damage == "main file deleted":
        path.unlink()
    elif damage == "main file cut":
        path.write_bytes(path.read_bytes()[:-20])
    else:
        coverage_path(path).unlink()
    store = Store.reader(path)
    try:
        # Opened with the lock: the main file rebuilt or the coverage saved, as any holder does on open.
        assert not store.read_only and store.observation_count == 3
        assert (store.recovered is not None) == (damage != "coverage deleted")
        assert [s.text for s in store.steps("M21")] == ["eins"]
    finally:
        store.close()
    assert path.exists() and coverage_path(path).exists()
    reader = Store.reader(path)  # repaired: the next reader needs no lock
    try:
        assert reader.read_only and reader.recovered is None
    finally:
        reader.close()


def test_a_reader_that_wants_a_repair_while_another_holds_the_lock_still_reads(tmp_path: Path) -> None:
    from storage.coverage import coverage_path

    path = tmp_path / "s.json"
    _filled(path)
    holder = Store(path)
    try:
        coverage_path(path).unlink()
        reader = Store.reader(path)
        try:
            assert reader.read_only and reader.observation_count == 3
        finally:
            reader.close()
    finally:
        holder.close()


# ---------------------------------------------------------------- delivery segments (schema 2)


def _segments(path: Path) -> list[Path]:
    return sorted((path.parent / "lieferungen").glob(f"{path.stem}.*.json"))


def test_a_delivery_writes_its_own_segment_and_leaves_the_others_alone(tmp_path: Path) -> None:
    path = tmp_path / "daten" / "s.json"
    with Store(path) as s:
        s.add_delivery(file="a.csv", content_hash="h1", office="", received=T0, rows=rows("i", 3))
        (first,) = _segments(path)
        inode = first.stat().st_ino
        s.add_delivery(file="b.csv", content_hash="h2", office="", received=T0, rows=rows("j", 4))
        assert len(_segments(path)) == 2 and first.stat().st_ino == inode
    main = orjson.loads(path.read_bytes())
    assert all("rows" not in doc for doc in main["lieferungen"].values())
    assert [doc["count"] for doc in main["lieferungen"].values()] == [3, 4]
    # Every segment is itself a TinyDB file.
    with TinyDB(first, access_mode="r") as db:
        assert len(db.table("zeilen").all()[0]["rows"]) == 3


def test_orphan_segment_after_a_crash_between_the_two_writes_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "daten" / "s.json"
    with Store(path, backups=0) as s:
        s.add_delivery(file="a.csv", content_hash="h1", office="", received=T0, rows=rows("i", 3))
        before = path.read_bytes()
        s.add_delivery(file="b.csv", content_hash="h2", office="", received=T0, rows=rows("j", 4))
    # As if the process died after the segment's rename and before the main file's: the old main file stays,
    # and the journal has no line for the second delivery (it is written after the main file).
    path.write_bytes(before)
    journal = path.parent / "lieferungen" / "s.journal.jsonl"
    journal.write_bytes(journal.read_bytes().splitlines(keepends=True)[0])
    orphan = _segments(path)[-1]
    (orphan.parent / f".{orphan.name}.123.tmp").write_bytes(b'{"zeilen": {"1": {"ro')  # an interrupted segment write
    with Store(path) as s:
        assert [d.file for d in s.deliveries()] == ["a.csv"]
        assert s.observations("j") == []
        assert not orphan.exists() and not list(orphan.parent.glob(".*.tmp"))
        again = s.add_delivery(file="b.csv", content_hash="h2", office="", received=T0, rows=rows("j", 4))
        assert again.delivery is not None and again.new == 4
    with Store(path) as s:
        assert s.observation_count == 7 and len(_segments(path)) == 2


def test_failed_main_write_removes_the_new_segment(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "daten" / "s.json"
    real_replace = os.replace

    def replace(src, dst):
        if Path(dst) == path:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    with Store(path) as s:
        monkeypatch.setattr("storage.jsonstore.os.replace", replace)
        with pytest.raises(OSError):
            s.add_delivery(file="a.csv", content_hash="h1", office="", received=T0, rows=rows("i", 3))
        monkeypatch.undo()
        assert s.deliveries() == [] and s.observations("i") == [] and _segments(path) == []
        assert s.add_delivery(file="a.csv", content_hash="h1", office="", received=T0, rows=rows("i", 3)).new == 3


def test_orphan_referenced_by_a_kept_backup_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "daten" / "s.json"
    with Store(path, backup_seconds=0) as s:
        s.add_delivery(file="a.csv", content_hash="h1", office="", received=T0, rows=rows("i", 3))
        before = path.read_bytes()
        s.add_delivery(file="b.csv", content_hash="h2", office="", received=T0, rows=rows("j", 4))
    # An older state restored by hand (a new file: the newest backup is a hard link to the current one and still
    # references b.csv's rows).
    path.unlink()
    path.write_bytes(before)
    with Store(path, backup_seconds=0) as s:
        assert len(s.deliveries()) == 1
        # A new delivery gets id 2 again, but never the name of the segment a backup references.
        s.add_delivery(file="c.csv", content_hash="h3", office="", received=T0, rows=rows("k", 2))
    assert len(_segments(path)) == 3
    newest_with_b = next(b for b in backup_files(path)
                         if "h2" in {d["hash"] for d in orjson.loads(b.read_bytes())["lieferungen"].values()})
    path.unlink()
    path.write_bytes(newest_with_b.read_bytes())
    with Store(path) as s:
        assert [o.value for o in s.observations("j")] == [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize("damage", ["truncate", "delete", "flip"])
def test_damaged_segment_makes_the_store_unreadable_and_names_it(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "daten" / "s.json"
    with Store(path, backup_seconds=0) as s:
        for k in range(3):
            s.add_delivery(file=f"f{k}.csv", content_hash=f"h{k}", office="", received=T0, rows=rows(f"i{k}", 5))
    segment = _segments(path)[-1] if damage != "flip" else next(p for p in _segments(path) if ".3." in p.name)
    raw = segment.read_bytes()
    if damage == "truncate":
        segment.write_bytes(raw[: len(raw) // 2])
    elif damage == "delete":
        segment.unlink()
    else:  # still valid JSON, same size, other value: only the checksum notices
        segment.write_bytes(raw.replace(b"5.0", b"6.0", 1))
    with pytest.raises(StoreUnreadable) as exc:
        Store(path, backup_seconds=0)
    assert exc.value.segment == segment and segment.name in exc.value.reason and exc.value.path == path
    # The backup offered references only intact segments: restoring it gives a working store without the
    # damaged delivery, which can then be imported again.
    backup = exc.value.backup
    assert backup is not None
    path.write_bytes(backup.read_bytes())
    with Store(path, backup_seconds=0) as s:
        assert [d.file for d in s.deliveries()] == ["f0.csv", "f1.csv"]
        assert s.add_delivery(file="f2.csv", content_hash="h2", office="", received=T0, rows=rows("i2", 5)).new == 5


def test_schema_1_store_is_migrated_on_open(tmp_path: Path) -> None:
    path = tmp_path / "daten" / "s.json"
    path.parent.mkdir()
    old = {
        "meta": {"1": {"schema": 1, "created": "2018-10-01T09:00:00"}},
        "schritte": {"1": {"measure": "M21", "number": 1, "text": "eins", "due": None, "who": "", "created": None,
                           "done_on": None, "done_by": ""}},
        "lieferungen": {
            "1": {"file": "a.csv", "hash": "h1", "office": "Amt 61", "received": "2018-10-01T09:00:00",
                  "measures": ["M21"], "indicators": ["i"], "rows": [["i", "", "2018", 5.0, "", 2]]},
            "2": {"file": "b.csv", "hash": "h2", "office": "Amt 61", "received": "2018-10-02T09:00:00",
                  "measures": ["M21"], "indicators": ["i"],
                  "rows": [["i", "", "2018", 6.0, "korrigiert", 2], ["i", "Süd", "2019", 7.0, "", 3]]},
        },
    }
    path.write_bytes(orjson.dumps(old))
    with Store(path) as s:
        assert [o.value for o in s.observations("i")] == [6.0, 7.0]
        assert [(o.value, o.file) for o in s.history("i", "", "2018")] == [(5.0, "a.csv"), (6.0, "b.csv")]
        assert [d.rows for d in s.deliveries()] == [1, 2]
        assert [x.text for x in s.steps("M21")] == ["eins"]
        assert s.delivery_by_hash("h2").office == "Amt 61"
    main = orjson.loads(path.read_bytes())
    assert main["meta"]["1"]["schema"] == SCHEMA_VERSION == 2
    assert all("rows" not in d and d["segment"] for d in main["lieferungen"].values())
    assert len(_segments(path)) == 2
    # The version-1 file is kept among the backups.
    assert any(orjson.loads(b.read_bytes())["meta"]["1"]["schema"] == 1 for b in backup_files(path))
    with Store(path) as s:
        assert s.observation_count == 2 and s.add_delivery(
            file="c.csv", content_hash="h1", office="", received=T0, rows=[]).duplicate_of == 1


def test_read_only_second_store_sees_deliveries_and_writes_no_segment(tmp_path: Path) -> None:
    path = tmp_path / "daten" / "s.json"
    first = Store(path)
    first.add_delivery(file="a.csv", content_hash="h1", office="", received=T0, rows=rows("i", 3))
    second = Store(path)
    try:
        assert second.read_only and [o.value for o in second.observations("i")] == [1.0, 2.0, 3.0]
        with pytest.raises(StoreError) as exc:
            second.add_delivery(file="b.csv", content_hash="h2", office="", received=T0, rows=rows("j", 2))
        assert exc.value.code == "store_locked" and len(_segments(path)) == 1
    finally:
        second.close()
        first.close()


def test_backups_are_copies_not_links_of_the_live_file(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with Store(path, backups=3, backup_seconds=0) as s:
        s.add_step("M21", "eins")
        s.add_step("M21", "zwei")
    live = path.stat()
    for backup in backup_files(path):
        # Damage done to the live file in place must never reach a backup.
        assert not backup.samefile(path)
    assert live.st_nlink == 1


def test_an_interrupt_after_the_replace_keeps_the_referenced_segment(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "s.json"
    store = Store(path)

    def interrupted(folder: Path) -> None:
        if folder == tmp_path:  # the main file's folder: the segment is already written and synced
            raise KeyboardInterrupt

    monkeypatch.setattr("storage.jsonstore._fsync_dir", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.add_delivery(file="a.csv", content_hash="h", office="", received=T0, rows=rows("i", 3))
    monkeypatch.undo()
    store.close()
    with Store(path) as again:  # the delivery that reached the disk is whole, segment included
        assert again.observation_count == 3


def test_a_backup_that_cannot_be_written_does_not_fail_the_write(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "s.json"
    with Store(path, backup_seconds=0) as s:
        s.add_step("M21", "eins")

        def full(*args, **kwargs):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr("shutil.copyfile", full)  # the backup copy (imported where it is made)
        s.add_step("M21", "zwei")
        monkeypatch.undo()
    with Store(path) as again:
        assert [x.text for x in again.steps("M21")] == ["eins", "zwei"]


def test_a_key_twice_in_one_delivery_counts_like_one_after_the_other(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.json")
    rows = [("M21-x", "", "2020", 1.0, "", 2), ("M21-x", "", "2020", 1.0, "", 3), ("M21-x", "", "2020", 2.0, "", 4),
            ("M21-x", "Lützel", "2020", 5.0, "", 5)]
    result = store.add_delivery(file="a.csv", content_hash="a", office="", received=datetime(2026, 1, 1), rows=rows)
    assert (result.new, result.unchanged, result.replaced) == (2, 1, 1)
    assert [(o.area, o.value, o.row) for o in store.observations("M21-x")] == [("", 2.0, 4), ("Lützel", 5.0, 5)]
    store.close()


def test_rows_handed_over_as_stored_are_stored_like_any_others(tmp_path: Path) -> None:
    import sys

    # Interned texts in plain tuples (what the import hands over) are kept as they are; lists, None for the whole
    # city or for no note, and texts built anew are packed first. Both must end up the same, on disk and in memory.
    kept = [(sys.intern("x"), sys.intern("Mitte"), sys.intern("2018"), 1.5, "", 2),
            (sys.intern("x"), "", sys.intern("2019"), None, "geschätzt", 3)]
    packed = [["".join(["x"]), "".join(["Mit", "te"]), "2018", 1.5, None, 2], ("x", None, "2019", None, "geschätzt", 3)]
    columns = Rows.of(*zip(*kept, strict=True))  # rows that carry their columns, as the import's check makes them
    with pytest.raises(TypeError):
        columns.append(kept[0])  # its columns would no longer match
    with pytest.raises(TypeError):
        columns[0] = kept[1]
    copied = copy.copy(columns)  # a copy is a plain list, free to change
    copied.append(kept[0])
    copied.pop()
    seen = []
    unpacked = Rows.of(*zip(*packed, strict=True))  # carrying columns, but None and uninterned texts: packed first
    for name, rows in (("kept", kept), ("packed", packed), ("columns", columns), ("copied", copied),
                       ("unpacked", unpacked)):
        with Store(tmp_path / name / "s.json", fsync=False) as store:
            result = store.add_delivery(file="a.csv", content_hash="a", office="Amt 61",
                                        received=datetime(2018, 9, 1), rows=rows)
            assert result.new == 2
            segment, = (tmp_path / name / "lieferungen").glob("s.*.json")
            on_disk = orjson.loads(segment.read_bytes())["zeilen"]["1"]["rows"]
            seen.append((on_disk, store.series("x"), store.observations("x")))
        with Store(tmp_path / name / "s.json", fsync=False) as store:
            assert (on_disk, store.series("x"), store.observations("x")) == seen[-1]
    assert seen[0] == seen[1] == seen[2] == seen[3] == seen[4]
    assert type(copied) is list and Rows.columns_of(copied) == Rows.columns_of(kept) == columns.columns
    assert seen[0][0] == [["x", "Mitte", "2018", 1.5, "", 2], ["x", "", "2019", None, "geschätzt", 3]]


def test_rows_carrying_their_columns_count_and_index_like_plain_rows(tmp_path: Path) -> None:
    import sys

    def i(text: str) -> str:
        return sys.intern(text)

    # Runs that change only the indicator, only the period, come back to an earlier run, and hold an area twice.
    first = [(i("a"), i("Mitte"), i("2020"), 1.0, "", 2), (i("a"), i("Süd"), i("2020"), 2.0, "", 3),
             (i("b"), i("Mitte"), i("2020"), 3.0, "", 4), (i("b"), i("Mitte"), i("2021"), 4.0, "", 5)]
    second = [(i("a"), i("Mitte"), i("2020"), 1.0, "", 2), (i("a"), i("Süd"), i("2020"), 9.0, "", 3),
              (i("b"), i("Mitte"), i("2020"), 3.0, "neu", 4), (i("b"), i("Nord"), i("2020"), 7.0, "", 5),
              (i("a"), i("Nord"), i("2020"), None, "", 6), (i("a"), i("Süd"), i("2020"), 2.0, "", 7),
              (i("b"), i("Mitte"), i("2021"), 4.0, "", 8), (i("b"), i("Mitte"), i("2021"), 5.0, "", 9)]
    seen = []
    for name, make in (("plain", list), ("columns", lambda rows: Rows.of(*zip(*rows, strict=True)))):
        with Store(tmp_path / name / "s.json", fsync=False) as store:
            counts = []
            for k, rows in enumerate((first, second)):
                result = store.add_delivery(file=f"{k}.csv", content_hash=str(k), office="",
                                            received=datetime(2026, 1, 1 + k), rows=make(rows))
                counts.append((result.new, result.replaced, result.unchanged))
            held = [(o.indicator, o.period, o.area, o.value, o.note, o.delivery, o.row)
                    for ind in ("a", "b") for o in store.observations(ind)]
            seen.append((counts, held, store.latest("b"), store.coverage("a")))
    assert seen[0] == seen[1]
    counts, held, _, _ = seen[0]
    # second: a/Mitte same; a/Süd 9 replaces 2, then 2 meets 9; b/Mitte note changed; b/Nord, a/Nord new;
    # b/Mitte/2021 same, then 5 replaces 4
    assert counts == [(4, 0, 0), (2, 4, 2)]
    assert ("a", "2020", "Süd", 2.0, "", 2, 7) in held and ("b", "2021", "Mitte", 5.0, "", 2, 9) in held
    assert ("a", "2020", "Mitte", 1.0, "", 2, 2) in held
