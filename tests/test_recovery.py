"""A missing, replaced or damaged main file loses nothing: rebuilt from backup + segments; backups and restore."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from storage.jsonstore import backup_files
from storage.store import Store, StoreError, list_backups, restore_backup
from tests.conftest import ROOT

T0 = datetime(2018, 10, 1, 9, 0)


def rows(indicator: str, n: int, value: float = 1.0) -> list:
    return [(indicator, "", str(2000 + k), value + k, "", k + 2) for k in range(n)]


def segments(path: Path) -> list[Path]:
    return sorted((path.parent / "lieferungen").glob(f"{path.stem}.*.*.json"))


def add(store: Store, k: int, n: int = 3) -> None:
    store.add_delivery(file=f"f{k}.csv", content_hash=f"h{k}", office=f"Amt {k}", received=T0, rows=rows(f"i{k}", n))


# A real process that imports deliveries and is then killed: no clean close, no final backup.
WRITER = textwrap.dedent("""
    import sys, time
    from datetime import datetime
    from storage.store import Store
    path, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    store = Store(path, backup_seconds=10**9)  # one backup (of the state before the first write), no more
    for k in range(first, last):
        store.add_delivery(file=f"f{k}.csv", content_hash=f"h{k}", office=f"Amt {k}",
                           received=datetime(2018, 10, 1, 9, 0),
                           rows=[(f"i{k}", "", str(2000 + j), 1.0 + j, "", j + 2) for j in range(3)])
    store.add_step("M21", "nach der Sicherung")
    print("ready", flush=True)
    time.sleep(60)
""")


def killed_writer(path: Path, first: int, last: int) -> None:
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(first), str(last)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_a_deleted_main_file_is_rebuilt_from_the_backup_and_the_segments_after_it(tmp_path: Path) -> None:
    path = tmp_path / "daten" / "sozialmonitor.json"
    with Store(path, backup_seconds=0) as s:
        s.add_meeting("M21", None, approach="vor der Sicherung")
        add(s, 1)
        add(s, 2)
    killed_writer(path, 3, 6)  # three more deliveries and a step after the newest backup, then SIGKILL
    newest = backup_files(path)[0]
    assert len(orjson.loads(newest.read_bytes())["lieferungen"]) == 2
    path.unlink()
    with Store(path) as s:
        r = s.recovered
        assert r is not None and r.missing and r.kept is None
        assert r.backup == newest.name and r.taken is not None and (r.from_backup, r.reattached) == (2, 3)
        # Every delivery is back, in id order, with its metadata and its values.
        assert [(d.id, d.file, d.office) for d in s.deliveries()] == [(k, f"f{k}.csv", f"Amt {k}") for k in range(1, 6)]
        assert s.observation_count == 15 and [o.value for o in s.observations("i5")] == [1.0, 2.0, 3.0]
        assert s.meetings("M21")[0].approach == "vor der Sicherung"
        assert s.steps("M21") == []  # changed after the backup: not recoverable, and the notice says as of when
        assert s.add_delivery(file="x.csv", content_hash="h4", office="", received=T0, rows=[]).duplicate_of == 4
    with Store(path) as s:  # rebuilt once; from now on an ordinary store
        assert s.recovered is None and s.observation_count == 15


def test_without_any_backup_the_deliveries_come_back_from_their_segments(tmp_path: Path) -> None:
    path = tmp_path / "daten" / "sozialmonitor.json"
    with Store(path, backup_seconds=0) as s:
        for k in range(1, 4):
            add(s, k)
    for backup in backup_files(path):
        backup.unlink()
    path.unlink()
    with Store(path) as s:
        assert s.recovered is not None and s.recovered.backup is None and s.recovered.reattached == 3
        assert [d.file for d in s.deliveries()] == ["f1.csv", "f2.csv", "f3.csv"] and s.observation_count == 9


def test_a_truly_new_workspace_simply_starts_a_new_store(tmp_path: Path) -> None:
    path = tmp_path / "daten" / "sozialmonitor.json"
    with Store(path) as s:
        assert s.recovered is None and s.is_empty


@pytest.mark.parametrize("content", [b"[1, 2, 3]", b'{"_default": 5}', b'{"termine": {"1": {"measure": 5}}}',
                                     b'{"lieferungen": {"1": {"file": "a.csv"}}}', b"", b"\x00\x00\x00",
                                     b'{"meta": {"1": {"schema": "zwei"}}}', b'{"termine": {"1": {"measure": "M21"'])
def test_valid_json_of_the_wrong_shape_is_damage_too(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "daten" / "sozialmonitor.json"
    with Store(path, backup_seconds=0) as s:
        s.add_meeting("M21", None)
        add(s, 1)
    path.write_bytes(content)
    with Store(path) as s:
        assert s.recovered is not None and not s.recovered.missing
        assert s.recovered.kept is not None and s.recovered.kept.read_bytes() == content
        assert s.recovered.kept.parent.name == "beschaedigt"
        assert len(s.meetings("M21")) == 1 and s.observation_count == 3


def test_a_foreign_file_in_place_of_the_store_is_damage_when_the_store_held_data(tmp_path: Path) -> None:
    path = tmp_path / "daten" / "sozialmonitor.json"
    with Store(path, backup_seconds=0) as s:
        add(s, 1)
    path.write_bytes(orjson.dumps({"termine": {"1": {"measure": "M99"}}}))  # TinyDB-like, but no schema marker
    with Store(path) as s:
        assert s.recovered is not None and s.observation_count == 3 and s.meetings() == []


def test_no_segment_is_ever_collected_while_the_journal_knows_it(tmp_path: Path) -> None:
    """The old failure: an older main file put in place by hand, many writes rotate the backups out, and the
    next open deleted every segment the old file did not reference."""
    path = tmp_path / "daten" / "sozialmonitor.json"
    with Store(path, backups=2, backup_seconds=0) as s:
        add(s, 1)
        old = path.read_bytes()
        for k in range(2, 5):
            add(s, k)
    path.write_bytes(old)  # replaced with the state after the first delivery
    for _ in range(3):
        with Store(path, backups=2, backup_seconds=0) as s:
            for n in range(4):
                s.add_step("M21", f"Schritt {n}")  # rotates every backup that knew f2..f4 out
    assert len(segments(path)) == 4
    assert all("h2" not in b.read_text() for b in backup_files(path))
    # ... so when the main file is lost later, everything comes back.
    path.unlink()
    with Store(path) as s:
        assert [d.file for d in s.deliveries()] == ["f1.csv", "f2.csv", "f3.csv", "f4.csv"]


def test_a_damaged_segment_that_nothing_references_is_skipped_named_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "daten" / "sozialmonitor.json"
    with Store(path, backup_seconds=0) as s:
        add(s, 1)
    killed_writer(path, 2, 4)
    damaged = next(p for p in segments(path) if ".2." in p.name)
    damaged.write_bytes(damaged.read_bytes()[:40])
    path.unlink()
    with Store(path) as s:
        assert s.recovered is not None and s.recovered.skipped == (damaged.name,)
        assert [d.file for d in s.deliveries()] == ["f1.csv", "f3.csv"]
    assert damaged.exists()


def test_a_second_process_does_not_rebuild_while_the_holder_has_it_in_memory(tmp_path: Path) -> None:
    path = tmp_path / "daten" / "sozialmonitor.json"
    holder = Store(path, backup_seconds=0)
    try:
        add(holder, 1)
        path.unlink()
        with pytest.raises(StoreError) as exc:
            Store(path)
        assert exc.value.code == "store_missing_locked" and exc.value.params["pid"] == str(os.getpid())
        holder.add_step("M21", "schreibt die Datei neu")  # the holder's next write puts the whole state back
    finally:
        holder.close()
    with Store(path) as s:
        assert s.recovered is None and s.observation_count == 3


def test_a_transaction_is_one_write_all_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with Store(path) as s:
        before = s.writes
        with s.transaction() as marked:
            s.add_step("M21", "eins")
            s.mark_sent(["k1", "k2"], at=T0)
        assert s.writes == before + 1 and marked == ["k1", "k2"]
        on_disk = path.read_bytes()
        with pytest.raises(RuntimeError), s.transaction():
            s.add_step("M21", "zwei")
            s.mark_sent(["k3"], at=T0)
            raise RuntimeError("mittendrin")
        assert path.read_bytes() == on_disk and s.writes == before + 1
        assert [x.text for x in s.steps("M21")] == ["eins"] and s.sent_keys() == {"k1", "k2"}
        s.add_step("M21", "drei")
    with Store(path) as s:
        assert [x.text for x in s.steps("M21")] == ["eins", "drei"]


# ---------------------------------------------------------------- listing and restoring backups


def test_backups_are_listed_newest_first_with_counts_and_usability(tmp_path: Path) -> None:
    path = tmp_path / "daten" / "sozialmonitor.json"
    with Store(path, backups=10, backup_seconds=0) as s:
        s.add_meeting("M21", None)
        add(s, 1, n=4)
        add(s, 2, n=2)
    infos = list_backups(path)
    assert [b.name for b in infos] == [b.name for b in backup_files(path)]
    assert [b.taken for b in infos] == sorted((b.taken for b in infos), reverse=True)
    newest = infos[0]
    assert (newest.meetings, newest.deliveries, newest.observations, newest.usable) == (1, 2, 6, True)
    with Store(path, backups=10, backup_seconds=0) as s:  # a correction: a new delivery, no new current value
        s.add_delivery(file="k.csv", content_hash="hk", office="", received=T0, rows=rows("i1", 2, value=9.0))
        assert s.observation_count == 6
    assert list_backups(path)[0].observations == 6 and list_backups(path)[0].deliveries == 3
    next(p for p in segments(path) if ".2." in p.name).unlink()
    infos = list_backups(path)
    assert not infos[0].usable and infos[0].problem == "segment" and ".2." in infos[0].segment
    assert any(b.usable and b.deliveries == 1 for b in infos) and not any(b.usable and b.deliveries > 1 for b in infos)


def test_restore_keeps_the_current_state_and_a_later_rebuild_respects_it(tmp_path: Path) -> None:
    path = tmp_path / "daten" / "sozialmonitor.json"
    with Store(path, backups=10, backup_seconds=0) as s:
        add(s, 1)
        add(s, 2)
        add(s, 3)
    one = next(b for b in list_backups(path) if b.deliveries == 1)
    restored = restore_backup(path, one.name)
    assert restored.backup.name == one.name and restored.previous is not None and restored.withdrawn == 2
    assert len(orjson.loads(restored.previous.read_bytes())["lieferungen"]) == 3
    with Store(path, backups=10, backup_seconds=0) as s:
        assert [d.file for d in s.deliveries()] == ["f1.csv"]
        s.add_step("M21", "nach dem Zurückholen")
    assert len(segments(path)) == 3  # the withdrawn deliveries' segments stay: the previous state needs them
    # A later loss of the main file does not bring back what the restore took away ...
    path.unlink()
    with Store(path, backups=10, backup_seconds=0) as s:
        assert [d.file for d in s.deliveries()] == ["f1.csv"] and s.recovered.reattached == 0
    # ... and the restore itself can be undone.
    restore_backup(path, restored.previous.name)
    with Store(path) as s:
        assert [d.file for d in s.deliveries()] == ["f1.csv", "f2.csv", "f3.csv"] and s.observation_count == 9


def test_restore_refuses_unknown_unusable_and_a_held_store(tmp_path: Path) -> None:
    path = tmp_path / "daten" / "sozialmonitor.json"
    with Store(path, backups=10, backup_seconds=0) as s:
        add(s, 1)
    with pytest.raises(StoreError) as exc:
        restore_backup(path, "gibt-es-nicht")
    assert exc.value.code == "restore_unknown"
    newest = list_backups(path)[0]
    segments(path)[0].unlink()
    with pytest.raises(StoreError) as exc:
        restore_backup(path, newest.name)
    assert exc.value.code == "restore_unusable"
    held = Store(tmp_path / "other" / "sozialmonitor.json", backup_seconds=0)
    try:
        add(held, 1)
        with pytest.raises(StoreError) as exc:
            restore_backup(held.path)
        assert exc.value.code == "restore_busy" and exc.value.params["pid"] == str(os.getpid())
    finally:
        held.close()
