"""Store.series: the lean read the committee report uses (current values per area, in period order)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from storage.store import Store


def test_series_gives_current_values_per_area_in_period_order(tmp_path: Path) -> None:
    with Store(tmp_path / "s.json", fsync=False) as store:
        assert store.series("x") == {}
        store.add_delivery(file="a.csv", content_hash="a", office="Amt 61", received=datetime(2018, 9, 1),
                           rows=[("x", "", "2018-Q2", 2.0, "", 2), ("x", "Mitte", "2018-Q1", 5.0, "", 3),
                                 ("x", "", "2018-Q1", 1.0, "geschätzt", 4), ("y", "", "2018-Q1", 9.0, "", 5)])
        # A correction replaces the current value; an empty value with a note is kept as None.
        store.add_delivery(file="b.csv", content_hash="b", office="Amt 61", received=datetime(2018, 9, 2),
                           rows=[("x", "", "2018-Q2", 2.5, "korrigiert", 2), ("x", "Mitte", "2018-Q3", None, "-", 3)])
        assert store.series("x") == {
            "": [("2018-Q1", 1.0, "geschätzt"), ("2018-Q2", 2.5, "korrigiert")],
            "Mitte": [("2018-Q1", 5.0, ""), ("2018-Q3", None, "-")],
        }
        # The same answer as the record-returning observations(), just without the records.
        via_records: dict[str, list] = {}
        for o in store.observations("x"):
            via_records.setdefault(o.area, []).append((o.period, o.value, o.note))
        assert store.series("x") == via_records
        # The caller gets its own lists: changing them does not touch the store.
        store.series("x")[""].clear()
        assert len(store.series("x")[""]) == 2


def test_series_columns_hold_the_same_current_values(tmp_path: Path) -> None:
    with Store(tmp_path / "s.json", fsync=False) as store:
        assert store.series.columns("x").values == []
        store.add_delivery(file="a.csv", content_hash="a", office="Amt 61", received=datetime(2018, 9, 1),
                           rows=[("x", "", "2018-Q2", 2.0, "", 2), ("x", "Mitte", "2018-Q1", 5.0, "", 3),
                                 ("x", "", "2018-Q1", 1.0, "geschätzt", 4), ("y", "", "2018-Q1", 9.0, "", 5)])
        store.add_delivery(file="b.csv", content_hash="b", office="Amt 61", received=datetime(2018, 9, 2),
                           rows=[("x", "", "2018-Q2", 2.5, "korrigiert", 2), ("x", "Mitte", "2018-Q3", None, "-", 3)])
        columns = store.series.columns("x")
        assert sum(columns.counts) == len(columns.areas) == len(columns.values) == 4
        periods = [p for p, count in zip(columns.periods, columns.counts, strict=True) for _ in range(count)]
        by_area: dict[str, list] = {}
        for period, area, value in sorted(zip(periods, columns.areas, columns.values, strict=True)):
            by_area.setdefault(area, []).append((period, value))
        assert by_area == {area: [(p, v) for p, v, _ in points] for area, points in store.series("x").items()}
