"""A delivery's content replaced by a later version of its file, or withdrawn: the store holds exactly the final
content, keeps the earlier versions in the history, and survives a kill and a lost main file like add_delivery."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pytest

from storage.jsonstore import backup_files
from storage.store import Store
from tests.conftest import ROOT

T0 = datetime(2018, 10, 1, 9, 0)
T1 = datetime(2018, 10, 1, 9, 5)


def rows(values: dict[str, float], indicator: str = "i1") -> list:
    return [(indicator, "", period, value, "", k + 2) for k, (period, value) in enumerate(values.items())]


def current(store: Store, indicator: str = "i1") -> dict[str, float | None]:
    return {o.period: o.value for o in store.observations(indicator)}


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "daten" / "sozialmonitor.json"


def test_a_replacement_holds_exactly_the_final_content(path: Path) -> None:
    with Store(path) as s:
        s.add_delivery(file="alt.csv", content_hash="a", office="Amt 1", received=T0,
                       rows=rows({"2001": 1.0, "2002": 2.0}))
        partial = s.add_delivery(file="neu.csv", content_hash="p", office="Amt 1", received=T0,
                                 rows=rows({"2002": 20.0, "2003": 30.0, "2004": 40.0})).delivery
        assert partial is not None
        done = s.replace_delivery(partial.id, file="neu.csv", content_hash="f", office="Amt 1", received=T1,
                                  rows=rows({"2003": 33.0, "2005": 50.0}))
        # 2002 falls back to the older delivery's value, 2004 is gone, 2003 corrected, 2005 new.
        assert current(s) == {"2001": 1.0, "2002": 2.0, "2003": 33.0, "2005": 50.0}
        assert (done.new, done.replaced, done.unchanged, done.withdrawn) == (1, 1, 0, 2)
        assert done.delivery is not None and done.delivery.id == partial.id and done.delivery.content_hash == "f"
        assert s.delivery_by_hash("p") is None and s.delivery_by_hash("f") == done.delivery
        assert [d.id for d in s.deliveries()] == [1, 2] and s.latest("i1")[0].period == "2005"
    with Store(path) as s:  # the same after a reopen: the new version is what the files say
        assert current(s) == {"2001": 1.0, "2002": 2.0, "2003": 33.0, "2005": 50.0}
        # The history: the corrected value after the partial one; no withdrawn value appears as current.
        assert [(o.period, o.value) for o in s.value_history("i1") if o.delivery == 2] == [
            ("2003", 30.0), ("2003", 33.0), ("2005", 50.0)]
        assert [o.value for o in s.history("i1", "", "2002")] == [2.0]


def test_a_replacement_keeps_its_place_behind_a_later_correction(path: Path) -> None:
    with Store(path) as s:
        partial = s.add_delivery(file="langsam.csv", content_hash="p", office="", received=T0,
                                 rows=rows({"2001": 1.0})).delivery
        s.add_delivery(file="korrektur.csv", content_hash="k", office="", received=T0, rows=rows({"2002": 99.0}))
        assert partial is not None
        done = s.replace_delivery(partial.id, file="langsam.csv", content_hash="f", office="", received=T1,
                                  rows=rows({"2001": 1.0, "2002": 2.0}))
        # The file was complete before the correction came: the correction stays current.
        assert current(s) == {"2001": 1.0, "2002": 99.0}
        assert (done.new, done.replaced, done.unchanged, done.withdrawn) == (0, 0, 2, 0)
        assert [o.value for o in s.value_history("i1") if o.period == "2002"] == [2.0, 99.0]


def test_withdrawing_takes_back_every_value_and_keeps_it_in_the_history(path: Path) -> None:
    with Store(path) as s:
        s.add_delivery(file="alt.csv", content_hash="a", office="", received=T0, rows=rows({"2001": 1.0}))
        partial = s.add_delivery(file="halb.csv", content_hash="p", office="", received=T0,
                                 rows=rows({"2001": 10.0, "2002": 20.0})).delivery
        assert partial is not None
        gone = s.withdraw_delivery(partial.id, at=T1)
        assert gone.withdrawn == 2 and current(s) == {"2001": 1.0}
        assert s.withdraw_delivery(partial.id, at=T1).withdrawn == 0  # twice changes nothing
        assert [d.id for d in s.deliveries()] == [1] and s.delivery_by_hash("p") is None
        found = s.delivery(partial.id)
        assert found is not None and found[1] and found[0].content_hash == "p"
        # The same partial content delivered again is a new delivery, not a duplicate of the withdrawn one.
        again = s.add_delivery(file="halb2.csv", content_hash="p", office="", received=T1, rows=rows({"2003": 3.0}))
        assert again.duplicate_of is None and again.delivery is not None and again.delivery.id == 3
    with Store(path) as s:
        assert current(s) == {"2001": 1.0, "2003": 3.0} and [d.id for d in s.deliveries()] == [1, 3]
        revived = s.replace_delivery(partial.id, file="halb.csv", content_hash="g", office="", received=T1,
                                     rows=rows({"2002": 22.0}))
        assert revived.new == 1 and current(s) == {"2001": 1.0, "2002": 22.0, "2003": 3.0}
        assert [d.id for d in s.deliveries()] == [1, 2, 3]


def test_content_held_by_another_delivery_is_no_replacement(path: Path) -> None:
    with Store(path) as s:
        s.add_delivery(file="a.csv", content_hash="a", office="", received=T0, rows=rows({"2001": 1.0}))
        b = s.add_delivery(file="b.csv", content_hash="b", office="", received=T0, rows=rows({"2002": 2.0})).delivery
        assert b is not None
        result = s.replace_delivery(b.id, file="b.csv", content_hash="a", office="", received=T1,
                                    rows=rows({"2001": 1.0}))
        assert result.delivery is None and result.duplicate_of == 1 and current(s) == {"2001": 1.0, "2002": 2.0}
        with pytest.raises(KeyError):
            s.replace_delivery(99, file="x.csv", content_hash="x", office="", received=T1, rows=[])


def test_a_lost_main_file_comes_back_with_the_versions_written_after_the_backup(path: Path) -> None:
    with Store(path, backup_seconds=0) as s:
        s.add_delivery(file="alt.csv", content_hash="a", office="", received=T0, rows=rows({"2001": 1.0}))
    with Store(path, backup_seconds=10**9) as s:  # one backup, of the state before this open's first write
        partial = s.add_delivery(file="neu.csv", content_hash="p", office="", received=T0,
                                 rows=rows({"2001": 5.0, "2002": 6.0})).delivery
        assert partial is not None
        s.replace_delivery(partial.id, file="neu.csv", content_hash="f1", office="", received=T1,
                           rows=rows({"2001": 5.5, "2002": 6.0, "2003": 7.0}))
        s.replace_delivery(partial.id, file="neu.csv", content_hash="f2", office="", received=T1,
                           rows=rows({"2003": 7.5}))
        withdrawn = s.add_delivery(file="halb.csv", content_hash="h", office="", received=T0,
                                   rows=rows({"2010": 1.0})).delivery
        assert withdrawn is not None
        s.withdraw_delivery(withdrawn.id, at=T1)
        expected = current(s)
    assert expected == {"2001": 1.0, "2003": 7.5}
    backup_files(path)[0].unlink()  # the one a clean close leaves: as if the process had been killed instead
    newest = backup_files(path)[0]
    assert b'"p"' not in newest.read_bytes()  # taken before that first write
    path.unlink()
    with Store(path) as s:
        assert s.recovered is not None and s.recovered.backup == newest.name
        assert current(s) == expected and [d.id for d in s.deliveries()] == [1, 2]
        assert s.delivery_by_hash("f2") is not None and s.delivery_by_hash("p") is None
        assert [o.value for o in s.value_history("i1") if o.period == "2003"] == [7.0, 7.5]


# A process that writes a new version and is killed before its main file write: nothing is half there.
KILLED = textwrap.dedent("""
    import os, signal, sys
    from datetime import datetime
    from storage import store as module
    from storage.store import Store
    s = Store(sys.argv[1])
    real = module.write_segment
    def then_die(*args, **kwargs):
        ref = real(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)  # the segment is written, the main file not yet
    module.write_segment = then_die
    s.replace_delivery(1, file="neu.csv", content_hash="f", office="", received=datetime(2018, 10, 1),
                       rows=[("i1", "", "2009", 9.0, "", 2)])
""")


def test_a_kill_between_the_segment_and_the_main_file_leaves_the_old_version(path: Path) -> None:
    with Store(path) as s:
        s.add_delivery(file="neu.csv", content_hash="p", office="", received=T0, rows=rows({"2001": 1.0}))
    proc = subprocess.run([sys.executable, "-c", KILLED, str(path)], cwd=ROOT, timeout=60)
    assert proc.returncode == -signal.SIGKILL
    segments = list((path.parent / "lieferungen").glob("sozialmonitor.*.json"))
    assert len(segments) == 2  # the orphan of the new version is there …
    with Store(path) as s:
        assert current(s) == {"2001": 1.0} and s.delivery_by_hash("p") is not None
    # … and gone after the open: nothing references it, so the file's next check writes it again.
    assert len(list((path.parent / "lieferungen").glob("sozialmonitor.*.json"))) == 1


def test_a_late_delivery_takes_its_place_behind_the_one_it_arrived_after(path: Path) -> None:
    with Store(path) as s:
        s.add_delivery(file="alt.csv", content_hash="a", office="", received=T0, rows=rows({"2001": 1.0}))
        arrived = s.last_delivery  # the file arrives (header only, rejected), its writer pauses …
        s.add_delivery(file="korrektur.csv", content_hash="k", office="", received=T0,
                       rows=rows({"2001": 9.0, "2002": 8.0}))
        late = s.add_delivery(file="langsam.csv", content_hash="l", office="", received=T1,
                              rows=rows({"2001": 5.0, "2002": 6.0, "2003": 7.0}), after=arrived)
        # … and is stored only now: the correction that came meanwhile stays current.
        assert current(s) == {"2001": 9.0, "2002": 8.0, "2003": 7.0}
        assert (late.new, late.replaced, late.unchanged) == (1, 0, 2)
        assert [o.value for o in s.value_history("i1") if o.period == "2001"] == [1.0, 5.0, 9.0]
        # Its own final content replacing it keeps that place as well.
        assert late.delivery is not None
        s.replace_delivery(late.delivery.id, file="langsam.csv", content_hash="l2", office="", received=T1,
                           rows=rows({"2001": 5.5, "2004": 4.0}))
        assert current(s) == {"2001": 9.0, "2002": 8.0, "2004": 4.0}
        assert [d.id for d in s.deliveries()] == [1, 2, 3]
    with Store(path) as s:
        assert current(s) == {"2001": 9.0, "2002": 8.0, "2004": 4.0}
    backup_files(path)[0].unlink()
    path.unlink()
    with Store(path) as s:  # rebuilt from the segments alone: the same order
        assert s.recovered is not None and current(s) == {"2001": 9.0, "2002": 8.0, "2004": 4.0}


def test_a_store_opened_from_its_coverage_answers_as_the_full_one_after_versions(path: Path) -> None:
    """Withdrawn and replaced deliveries: the lazy open (no rows read) and the running store agree with a store
    that reads every row, on what is current, what is delivered and which content is already held."""
    with Store(path) as s:
        s.add_delivery(file="a.csv", content_hash="a", office="Amt 1", received=T0, rows=rows({"2001": 1.0}))
        b = s.add_delivery(file="b.csv", content_hash="b", office="Amt 1", received=T0,
                           rows=rows({"2001": 5.0, "2002": 2.0})).delivery
        c = s.add_delivery(file="c.csv", content_hash="c", office="Amt 1", received=T0,
                           rows=rows({"2003": 3.0}, indicator="i2")).delivery
        assert b is not None and c is not None
        s.withdraw_delivery(b.id, at=T1)
        s.replace_delivery(c.id, file="c.csv", content_hash="c2", office="Amt 1", received=T1,
                           rows=rows({"2004": 4.0}, indicator="i2"))
        running = {i: (s.periods(i), s.latest_summary(i)) for i in ("i1", "i2")}
    with Store(path) as lazy:
        answers = {i: (lazy.periods(i), lazy.latest_summary(i)) for i in ("i1", "i2")}
        delivered = [d.id for d in lazy.deliveries()]
        held = {h: lazy.delivery_by_hash(h) is not None for h in ("a", "b", "c", "c2")}
        assert "_current" not in vars(lazy)  # answered without reading a row
        lazy._build_indexes(lazy=False)  # the same store, every row read
        full = {i: (lazy.periods(i), lazy.latest_summary(i)) for i in ("i1", "i2")}
        assert delivered == [d.id for d in lazy.deliveries()] == [1, 3]
        assert held == {h: lazy.delivery_by_hash(h) is not None for h in held} == {
            "a": True, "b": False, "c": False, "c2": True}
    assert answers == full == running
    assert full["i1"][0] == {"2001"} and full["i2"][0] == {"2004"}


def test_withdrawing_from_a_store_opened_from_its_coverage_counts_what_it_takes_back(path: Path) -> None:
    with Store(path) as s:
        d = s.add_delivery(file="a.csv", content_hash="a", office="Amt 1", received=T0,
                           rows=rows({"2001": 1.0, "2002": 2.0})).delivery
    assert d is not None
    with Store(path) as lazy:
        assert "_current" not in vars(lazy)  # opened without reading a row
        assert lazy.withdraw_delivery(d.id, at=T1).withdrawn == 2
        assert current(lazy) == {}


@pytest.mark.parametrize("seed", range(8))
def test_one_indicator_read_from_its_deliveries_alone_answers_as_every_row_read(path: Path, seed: int) -> None:
    """Opened from the coverage, /trend and /verlauf read only the segments of the deliveries holding their
    indicator: series, areas and histories equal those of the store with every row read, through additions,
    late deliveries, replaced and withdrawn ones."""
    rng = random.Random(seed)
    indicators, areas, years = ("i1", "i2", "i3"), ("", "Lützel", "Süd"), [str(y) for y in range(2015, 2021)]

    def some_rows() -> list[tuple]:
        chosen = rng.sample(indicators, rng.randint(1, 2))
        keys = {(i, a, y) for i in chosen for a in areas for y in years if rng.random() < 0.4}
        return [(i, a, y, None if rng.random() < 0.1 else float(rng.randint(1, 50)), "", n + 2)
                for n, (i, a, y) in enumerate(sorted(keys))] or [(chosen[0], "", years[0], 1.0, "", 2)]

    with Store(path, backup_seconds=0) as s:
        made: list[int] = []
        for n in range(rng.randint(6, 14)):
            step = rng.random()
            if made and step < 0.15:
                s.withdraw_delivery(rng.choice(made), at=T1)
            elif made and step < 0.35:
                s.replace_delivery(rng.choice(made), file=f"r{n}.csv", content_hash=f"r{seed}-{n}", office="",
                                   received=T1, rows=some_rows())
            else:
                after = rng.choice(made) if made and rng.random() < 0.3 else None  # arrived back then
                result = s.add_delivery(file=f"f{n}.csv", content_hash=f"{seed}-{n}", office="", received=T0,
                                        rows=some_rows(), **({"after": after} if after is not None else {}))
                if result.delivery is not None:
                    made.append(result.delivery.id)

    def answers(store: Store, i: str) -> tuple:
        return (store.series(i), store.areas(i), store.value_history(i), [store.value_history(i, a) for a in areas],
                [store.history(i, a, y) for a in areas for y in years])

    with Store.reader(path) as full:
        full.observations("i1")  # every row read
        everything = {i: answers(full, i) for i in indicators}
    for i in indicators:  # as /trend or /verlauf in their own process: one indicator
        with Store.reader(path) as lazy:
            assert answers(lazy, i) == everything[i]
            assert "_current" not in vars(lazy), "an indicator's answers read every row"


def test_reading_indicator_by_indicator_stops_where_reading_every_row_is_cheaper(path: Path) -> None:
    """A report asks for every indicator: of deliveries holding several, each segment would be read again for
    each; past as many rows as the store holds, every row is read once instead."""
    with Store(path, backup_seconds=0) as s:
        s.add_delivery(file="a.csv", content_hash="a", office="", received=T0,
                       rows=[(i, "", "2020", float(k), "", k + 2) for k, i in enumerate(("i1", "i2", "i3"))])
    with Store.reader(path) as lazy:
        assert lazy.series("i1") == {"": [("2020", 0.0, "")]} and "_current" not in vars(lazy)
        assert lazy.series("i2") == {"": [("2020", 1.0, "")]} and "_current" in vars(lazy)  # read whole now
        assert lazy.series("i3") == {"": [("2020", 2.0, "")]}
