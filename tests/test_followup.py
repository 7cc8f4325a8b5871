"""The second look at handled files survives restarts and crashes: follow-ups kept in daten/nachpruefen.jsonl.

Real watchers on real folders, real writer processes that pause, and real processes killed with SIGKILL at the
moments that matter (after the store write, after the move); the store and the folders end up holding the final
content of every file, and only that.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.workspace import Monitor
from tests.conftest import ROOT
from tests.test_paused_writer import HEADER, city_values, expected_values, rows
from tests.test_watcher import Notices, tune, wait_for
from watchers.followup import FOLLOWUP_FILE, FollowUps, Handled
from watchers.pipeline import IMPORTED, REJECTED, Pipeline
from watchers.watcher import FolderWatcher

YEARS = range(1990, 2016)
WINDOWS = {"stable_seconds": 0.3, "poll_interval": 0.1}
SETTLE = 0.6


@pytest.fixture
def notices() -> Notices:
    return Notices()


def open_watcher(workspace: Path, notices: Notices) -> tuple[Monitor, FolderWatcher]:
    """A fresh monitor and watcher on the workspace, as a new `run` would have them (nothing kept in memory)."""
    monitor = tune(Monitor.open(workspace, env={}), **WINDOWS)
    watcher = FolderWatcher(monitor, Pipeline(monitor, notices), sink=notices, open_grace_seconds=0.6,
                            settle_seconds=SETTLE)
    watcher.start()
    return monitor, watcher


@pytest.fixture
def running(demo_workspace: Path, notices: Notices) -> Iterator[list[tuple[Monitor, FolderWatcher]]]:
    """The monitors opened by a test, closed at its end whatever happened."""
    opened: list[tuple[Monitor, FolderWatcher]] = []
    yield opened
    for monitor, watcher in opened:
        watcher.stop()
        monitor.close()


def restart(workspace: Path, notices: Notices, opened: list[tuple[Monitor, FolderWatcher]]
            ) -> tuple[Monitor, FolderWatcher]:
    for monitor, watcher in opened:
        watcher.stop()
        monitor.close()
    opened.clear()
    opened.append(open_watcher(workspace, notices))
    return opened[0]


def archived(workspace: Path, stem: str) -> list[Path]:
    return sorted(p for p in (workspace / "ablage" / "verarbeitet").rglob(f"{stem}*") if p.is_file())


def rejected(workspace: Path) -> list[str]:
    return sorted(p.name for p in (workspace / "ablage" / "abgelehnt").iterdir())


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- a restart while the writer pauses
def test_a_header_rejected_before_a_restart_is_imported_once_its_writer_resumes(
        demo_workspace: Path, notices: Notices, running: list) -> None:
    """The failure the chaos test found: header only, rejected; restart; the writer completes the file."""
    monitor, _ = restart(demo_workspace, notices, running)
    inbox = monitor.settings.inbox
    final = rows(YEARS)
    with open(inbox / "nurkopf.csv", "wb") as writer:  # a writer holding the file open, like a copy in progress
        writer.write(HEADER.encode("cp1252"))
        writer.flush()
        wait_for(lambda: rejected(demo_workspace) == ["nurkopf.csv", "nurkopf.csv.fehler.txt"],
                 what="the header-only state rejected")
        monitor, _ = restart(demo_workspace, notices, running)  # nothing of the first run is in memory
        writer.write(final[len(HEADER.encode("cp1252")):])
    wait_for(lambda: city_values(monitor) == expected_values(YEARS), what="the final content stored")
    wait_for(lambda: not rejected(demo_workspace), what="abgelehnt/ empty (its report removed)")
    (copy,) = archived(demo_workspace, "nurkopf")
    assert copy.read_bytes() == final
    assert [d.file for d in monitor.store.deliveries()].count("nurkopf.csv") == 1
    assert any("nach der Ablehnung noch weitergeschrieben" in t for t in notices.texts())


def test_an_import_before_a_restart_is_replaced_by_the_final_content(
        demo_workspace: Path, notices: Notices, running: list) -> None:
    monitor, _ = restart(demo_workspace, notices, running)
    final = rows(YEARS)
    cut = len(rows(YEARS[:13]))
    with open(monitor.settings.inbox / "halb.csv", "wb") as writer:
        writer.write(final[:cut])
        writer.flush()
        wait_for(lambda: archived(demo_workspace, "halb"), what="the first half imported")
        monitor, _ = restart(demo_workspace, notices, running)
        writer.write(final[cut:])
    wait_for(lambda: city_values(monitor) == expected_values(YEARS), what="the final content stored")
    (copy,) = archived(demo_workspace, "halb")
    assert copy.read_bytes() == final
    mine = [d for d in monitor.store.deliveries() if d.file == "halb.csv"]
    assert len(mine) == 1 and mine[0].content_hash == digest(final)  # one delivery, now its final content
    assert not rejected(demo_workspace)


def test_a_correction_that_came_while_the_original_paused_stays_current(
        demo_workspace: Path, notices: Notices, running: list) -> None:
    monitor, _ = restart(demo_workspace, notices, running)
    inbox = monitor.settings.inbox
    final = rows(YEARS)
    with open(inbox / "original.csv", "wb") as writer:
        writer.write(HEADER.encode("cp1252"))
        writer.flush()
        wait_for(lambda: "original.csv" in rejected(demo_workspace), what="the header-only state rejected")
        (inbox / "korrektur.csv").write_bytes(HEADER.encode("cp1252") + b"M33;M33-sgb2-quote;2000;;99;%;Amt 12;\r\n")
        wait_for(lambda: archived(demo_workspace, "korrektur"), what="the correction imported")
        writer.write(final[len(HEADER.encode("cp1252")):])
    wait_for(lambda: archived(demo_workspace, "original"), what="the original's final content imported")
    # The original arrived first: its value for 2000 was corrected by the file that came after it.
    assert city_values(monitor) == {**expected_values(YEARS), "2000": 99.0}
    assert [o.value for o in monitor.store.value_history("M33-sgb2-quote", "") if o.period == "2000"] == [20.5, 99.0]


# ---------------------------------------------------------------- a writer that rewrites the file shorter
REWRITER = textwrap.dedent("""
    import sys, time
    target, first, second, pause = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    with open(target, "wb") as fh:
        fh.write(open(first, "rb").read()); fh.flush()
        time.sleep(pause)
        fh.seek(0); fh.truncate(); fh.write(open(second, "rb").read()); fh.flush()
""")


def test_a_file_rewritten_with_fewer_rows_leaves_only_those_rows(
        demo_workspace: Path, notices: Notices, running: list, tmp_path: Path) -> None:
    monitor, watcher = restart(demo_workspace, notices, running)
    first, second = tmp_path / "erst.csv", tmp_path / "dann.csv"
    first.write_bytes(rows(YEARS))
    second.write_bytes(rows(YEARS[:5]))
    subprocess.run([sys.executable, "-c", REWRITER, str(monitor.settings.inbox / "neu.csv"), str(first),
                    str(second), "2.0"], check=True, timeout=60)
    wait_for(lambda: city_values(monitor) == expected_values(YEARS[:5]), what="only the final rows stored")
    (copy,) = archived(demo_workspace, "neu")
    assert copy.read_bytes() == second.read_bytes()
    wait_for(lambda: any(r.earlier == IMPORTED for r in watcher.results), what="the correction recorded")
    again = next(r for r in watcher.results if r.earlier == IMPORTED)
    assert (again.rows, again.unchanged, again.withdrawn) == (5, 5, 21)
    assert any("21 Werte aus dem unvollständigen Stand fehlen im endgültigen Inhalt" in t for t in notices.texts())
    # The history keeps nothing that looks current: the withdrawn years have no value in /verlauf either.
    assert {o.period for o in monitor.store.value_history("M33-sgb2-quote", "")} == {str(y) for y in YEARS[:5]}


# ---------------------------------------------------------------- SIGKILL at the moments that matter
KILLED = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from bot.workspace import Monitor
    from watchers import pipeline as module
    from watchers.followup import FOLLOWUP_FILE, FollowUps
    from watchers.pipeline import Pipeline
    workspace, name, when = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    monitor = Monitor.open(workspace, env={})
    real = module._place
    def place_then_die(*args, **kwargs):
        if when == "after-store":
            os.kill(os.getpid(), signal.SIGKILL)  # stored, not moved
        placed = real(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)  # moved, the follow-up not yet told where to
    module._place = place_then_die
    pipeline = Pipeline(monitor, None, followups=FollowUps(monitor.settings.data / FOLLOWUP_FILE))
    pipeline.process(monitor.settings.inbox / name)
""")


def killed_import(workspace: Path, name: str, when: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOZIALMONITOR_")}
    proc = subprocess.run([sys.executable, "-c", KILLED, str(workspace), name, when], cwd=ROOT, env=env,
                          timeout=60, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode(errors="replace")


@pytest.mark.parametrize("when", ["after-store", "after-move"])
def test_a_kill_mid_import_then_a_resumed_writer_leaves_the_final_content(
        demo_workspace: Path, notices: Notices, running: list, when: str) -> None:
    inbox = demo_workspace / "ablage" / "eingang"
    final = rows(YEARS)
    cut = len(rows(YEARS[:13]))
    (inbox / "absturz.csv").write_bytes(final[:cut])
    killed_import(demo_workspace, "absturz.csv", when)
    left = [inbox / "absturz.csv"] if when == "after-store" else archived(demo_workspace, "absturz")
    assert len(left) == 1 and left[0].read_bytes() == final[:cut]
    with open(left[0], "ab") as writer:  # the writer resumes while no monitor runs
        writer.write(final[cut:])
    monitor, _ = restart(demo_workspace, notices, running)
    wait_for(lambda: city_values(monitor) == expected_values(YEARS), what="the final content stored")
    wait_for(lambda: not (inbox / "absturz.csv").exists(), what="the inbox empty")
    (copy,) = archived(demo_workspace, "absturz")
    wait_for(lambda: copy.read_bytes() == final, what="the archive holding the final content")
    mine = [d for d in monitor.store.deliveries() if d.file == "absturz.csv"]
    assert len(mine) == 1 and mine[0].content_hash == digest(final)


@pytest.mark.parametrize("when", ["after-store", "after-move"])
def test_a_kill_mid_import_then_a_broken_final_content_withdraws_the_partial_values(
        demo_workspace: Path, notices: Notices, running: list, when: str) -> None:
    inbox = demo_workspace / "ablage" / "eingang"
    partial = rows(YEARS[:13])
    (inbox / "kaputt.csv").write_bytes(partial)
    killed_import(demo_workspace, "kaputt.csv", when)
    left = inbox / "kaputt.csv" if when == "after-store" else archived(demo_workspace, "kaputt")[0]
    with open(left, "ab") as writer:
        writer.write(b"M33;M33-sgb2-quote;kaputt;;1;%;Amt 12;\r\n")
    monitor, _ = restart(demo_workspace, notices, running)
    wait_for(lambda: "kaputt.csv" in rejected(demo_workspace), what="the final content rejected")
    wait_for(lambda: city_values(monitor) == {}, what="the partial values withdrawn")
    assert not archived(demo_workspace, "kaputt") and not (inbox / "kaputt.csv").exists()
    assert all(d.file != "kaputt.csv" for d in monitor.store.deliveries())
    wait_for(lambda: any("zurückgenommen" in t for t in notices.texts()), what="the notice")
    # Kept in the history of the store: the withdrawn delivery is still there, marked as such.
    withdrawn = [monitor.store.delivery(i) for i in range(1, 100)]
    assert any(found is not None and found[1] and found[0].file == "kaputt.csv" for found in withdrawn)


# ---------------------------------------------------------------- the file itself
def test_the_follow_up_file_survives_a_torn_line_and_names_that_are_not_utf8(tmp_path: Path) -> None:
    folder = tmp_path / "verarbeitet"
    folder.mkdir()
    odd = Path(os.fsdecode(os.fsencode(str(folder)) + b"/alt\xe4.csv"))
    odd.write_bytes(b"x")
    plain = folder / "neu.csv"
    plain.write_bytes(b"y")
    target = tmp_path / "daten" / FOLLOWUP_FILE
    first = FollowUps(target, fsync=False)
    sig = (1, 0, os.lstat(odd).st_ino)
    first.record(Handled("a", odd, sig, time.time(), status=REJECTED, content_hash="h"))
    first.record(Handled("b", plain, (1, 0, os.lstat(plain).st_ino), time.time(), status=IMPORTED))
    first.record(Handled("c", plain, (1, 0, 999999), time.time() - 2 * 86400, status=IMPORTED))  # expired
    with open(target, "ab") as fh:
        fh.write(b'{"key": "d", "path": "/x", "sig')  # a crash while appending
    loaded = FollowUps(target, fsync=False).load()
    assert [(e.key, e.path, e.status) for e in loaded] == [("a", odd, REJECTED), ("b", plain, IMPORTED)]
    assert len(target.read_bytes().splitlines()) == 2  # rewritten: only what is still watched


def test_a_move_announced_but_not_confirmed_is_found_by_its_inode(tmp_path: Path) -> None:
    inbox, folder = tmp_path / "eingang", tmp_path / "abgelehnt"
    inbox.mkdir()
    folder.mkdir()
    source = inbox / "x.csv"
    source.write_bytes(b"x")
    target = tmp_path / "daten" / FOLLOWUP_FILE
    followups = FollowUps(target, fsync=False)
    entry = Handled("k", source, (1, 0, os.lstat(source).st_ino), time.time())
    entry.intent = {"folder": str(folder), "status": REJECTED, "hash": "h"}
    followups.record(entry)
    os.link(source, folder / "x_2.csv")  # the move happened (under another name), the confirmation did not
    source.unlink()
    (loaded,) = FollowUps(target, fsync=False).load()
    assert (loaded.path, loaded.status, loaded.content_hash, loaded.intent) == (folder / "x_2.csv", REJECTED, "h",
                                                                               None)


def test_the_follow_up_file_is_rewritten_once_it_holds_mostly_old_lines(tmp_path: Path) -> None:
    kept = tmp_path / "verarbeitet.csv"
    kept.write_bytes(b"x")
    target = tmp_path / "daten" / FOLLOWUP_FILE
    followups = FollowUps(target, fsync=False)
    entry = Handled("k", kept, (1, 0, os.lstat(kept).st_ino), time.time(), status=IMPORTED)
    for k in range(1000):  # one file handled again and again: one live entry
        entry.content_hash = f"h{k}"
        followups.record(entry)
        followups.record(Handled(f"weg{k}", kept, entry.signature, time.time(), status=REJECTED))
        followups.drop(f"weg{k}")
    assert len(target.read_bytes().splitlines()) <= 4 + 200 + 1
    (loaded,) = FollowUps(target, fsync=False).load()
    assert (loaded.key, loaded.content_hash) == ("k", "h999")
