"""Per-indicator coverage: kept right on every write, saved beside the store, and the lazy open answers exactly
like a store that read every row. Differential tests against the full computation on real stores."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from commands.periods import Period, PeriodError
from storage import periods as domain
from storage.coverage import Coverage, coverage_path, fingerprint, key_of, ordinal
from storage.jsonstore import StoreUnreadable
from storage.store import Store

T0 = datetime(2024, 3, 1, 9, 0)
INDICATORS = ("m", "q", "h", "j", "t")  # by the kind of periods each mostly gets


# ---------------------------------------------------------------- period numbers, against commands/periods.py
@given(st.sampled_from(["jahr", "halbjahr", "quartal", "monat"]), st.integers(1890, 2210), st.integers(1, 12))
def test_ordinal_numbers_consecutive_periods_like_the_domain_does(kind: str, year: int, number: int) -> None:
    per_year = {"jahr": 1, "halbjahr": 2, "quartal": 4, "monat": 12}[kind]
    try:
        period = Period.of(kind, year, (number - 1) % per_year + 1)
    except PeriodError:
        key = f"{year}" if kind == "jahr" else f"{year}-Q1"
        assert ordinal(key) is None  # out of the domain's year range: no number either
        return
    found = ordinal(period.key)
    assert found is not None and found[0] == kind
    assert key_of(kind, found[1]) == period.key
    if period.year < domain.MAX_YEAR:
        following = ordinal(domain.next(period).key)
        assert following == (kind, found[1] + 1)


@given(st.text(alphabet="0123456789-HQ ", max_size=12))
def test_ordinal_accepts_exactly_the_domain_keys_of_a_frequency(text: str) -> None:
    try:
        period = Period.from_key(text)
    except PeriodError:
        period = None
    expected = None if period is None or period.kind == "tag" else period.kind
    found = ordinal(text)
    assert (found[0] if found else None) == expected


# ---------------------------------------------------------------- the full computation, from the rows
def full_coverage(store: Store, indicator: str) -> dict | None:
    """What the coverage must say, computed from every current value (reads the rows)."""
    observations = store.observations(indicator)
    if not observations:
        return None
    keys = {o.period for o in observations}
    latest = max(keys)
    areas = {o.area: o for o in observations if o.period == latest}
    headline = areas[""] if "" in areas else areas[min(areas)]
    runs = {}
    for kind in ("jahr", "halbjahr", "quartal", "monat"):
        own = sorted(p for p in (_period(k) for k in keys) if p is not None and p.kind == kind)
        if own:
            missing, p = [], own[0]
            while p < own[-1]:
                p = domain.next(p)
                if p.key not in keys:
                    missing.append(p.key)
            runs[kind] = (own[0].key, own[-1].key, missing)
    values = [o.value for o in areas.values() if o.value is not None]
    return {"periods": keys, "latest": latest, "areas": len(areas), "headline": headline, "runs": runs,
            "range": (min(values), max(values)) if values else (None, None)}


def _period(key: str) -> Period | None:
    try:
        return Period.from_key(key)
    except PeriodError:
        return None


def kept_coverage(store: Store, indicator: str) -> dict | None:
    entry = store.coverage(indicator)
    if entry is None:
        return None
    obs, areas = store.latest_summary(indicator)
    return {"periods": set(store.periods(indicator)), "latest": entry.latest, "areas": areas, "headline": obs,
            "runs": {kind: (r.first, r.last, list(r.missing)) for kind, r in entry.runs.items()},
            "range": store.latest_range(indicator)}


def random_key(rng: random.Random, indicator: str) -> str:
    year = rng.randint(2010, 2026)
    kind = {"m": "monat", "q": "quartal", "h": "halbjahr", "j": "jahr"}.get(indicator) or rng.choice(
        ["jahr", "quartal", "tag", "odd"])
    if rng.random() < 0.1:  # now and then another kind than the indicator's own
        kind = rng.choice(["jahr", "halbjahr", "quartal", "monat", "tag"])
    if kind == "jahr":
        return f"{year}"
    if kind == "halbjahr":
        return f"{year}-H{rng.randint(1, 2)}"
    if kind == "quartal":
        return f"{year}-Q{rng.randint(1, 4)}"
    if kind == "monat":
        return f"{year}-{rng.randint(1, 12):02d}"
    if kind == "tag":
        return f"{year}-{rng.randint(1, 12):02d}-{rng.choice([28, 30, 31]):02d}"
    return rng.choice(["1850", "2018-13", "Stand 2018"])  # not canonical: held, but in no run


def random_delivery(rng: random.Random, n: int) -> list[tuple]:
    rows, seen = [], set()
    for _ in range(rng.randint(1, 25)):
        ind = rng.choice(INDICATORS)
        key = (ind, rng.choice(["", "", "Lützel", "Süd", "Altstadt"]), random_key(rng, ind))
        if key in seen:  # one file holds one value per key
            continue
        seen.add(key)
        value = None if rng.random() < 0.15 else float(rng.randint(0, 9))  # "-": a key without a value
        rows.append((*key, value, "" if value is not None else "keine Angabe", len(rows) + 2))
    return rows


def assert_coverage_matches(store: Store) -> None:
    for ind in INDICATORS:
        assert kept_coverage(store, ind) == full_coverage(store, ind), ind


@pytest.mark.parametrize("seed", range(12))
def test_coverage_stays_right_through_new_periods_corrections_and_empty_values(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    path = tmp_path / "daten" / "s.json"
    with Store(path, backup_seconds=0) as store:
        for n in range(rng.randint(5, 30)):
            store.add_delivery(file=f"f{n}.csv", content_hash=f"{seed}-{n}", office="Amt 12", received=T0,
                               rows=random_delivery(rng, n))
            assert_coverage_matches(store)
    # Reopened from the saved coverage (no rows read) and read whole: the same answers.
    with Store(path, backup_seconds=0) as lazy:
        kept = {ind: kept_coverage(lazy, ind) for ind in INDICATORS}
        assert "_current" not in vars(lazy), "answering from the coverage read rows"
        assert kept == {ind: full_coverage(lazy, ind) for ind in INDICATORS}


def test_a_correction_of_the_headline_value_and_a_new_latest_period(tmp_path: Path) -> None:
    with Store(tmp_path / "s.json") as store:
        store.add_delivery(file="a.csv", content_hash="a", office="", received=T0,
                           rows=[("i", "", "2017", 1.0, "", 2), ("i", "Süd", "2018", 5.0, "", 3)])
        obs, areas = store.latest_summary("i")
        assert (obs.period, obs.area, obs.value, areas) == ("2018", "Süd", 5.0, 1)
        store.add_delivery(file="b.csv", content_hash="b", office="", received=T0,
                           rows=[("i", "", "2018", 9.0, "", 2), ("i", "Süd", "2018", 6.0, "", 3)])
        obs, areas = store.latest_summary("i")
        assert (obs.area, obs.value, obs.file, areas) == ("", 9.0, "b.csv", 2)  # the whole city wins
        store.add_delivery(file="c.csv", content_hash="c", office="", received=T0,
                           rows=[("i", "", "2018", None, "zurückgezogen", 2)])
        obs, _ = store.latest_summary("i")
        assert (obs.value, obs.note) == (None, "zurückgezogen")
        store.add_delivery(file="d.csv", content_hash="d", office="", received=T0, rows=[("i", "", "2020", 3.0, "", 2)])
        entry = store.coverage("i")
        assert entry.latest == "2020" and entry.runs["jahr"].missing == ("2019",)
        assert_coverage_of(store, "i")


def assert_coverage_of(store: Store, ind: str) -> None:
    assert kept_coverage(store, ind) == full_coverage(store, ind)


def test_restoring_an_older_main_file_takes_its_periods_away_again(tmp_path: Path) -> None:
    """A restored backup has fewer deliveries: a period's values are gone, and the coverage knows it."""
    path = tmp_path / "daten" / "s.json"
    with Store(path, backup_seconds=0) as store:
        store.add_delivery(file="a.csv", content_hash="a", office="", received=T0,
                           rows=[("i", "", "2017", 1.0, "", 2), ("i", "", "2018", 2.0, "", 3)])
        older = path.read_bytes()
        store.add_delivery(file="b.csv", content_hash="b", office="", received=T0,
                           rows=[("i", "", "2019", 3.0, "", 2), ("i", "", "2021", 4.0, "", 3)])
        assert store.coverage("i").latest == "2021"
    path.write_bytes(older)  # as a restore does: the main file of before the second delivery
    with Store(path, backup_seconds=0) as store:
        assert store.periods("i") == {"2017", "2018"}
        assert store.latest_summary("i")[0].value == 2.0
        assert store.coverage("i").runs["jahr"].last == "2018"
        assert_coverage_of(store, "i")


def test_a_crash_between_the_main_write_and_the_coverage_write_is_recomputed(tmp_path: Path) -> None:
    path = tmp_path / "daten" / "s.json"
    saved = coverage_path(path)
    with Store(path, backup_seconds=0) as store:
        store.add_delivery(file="a.csv", content_hash="a", office="", received=T0, rows=[("i", "", "2017", 1.0, "", 2)])
        before = saved.read_bytes()
        store.add_delivery(file="b.csv", content_hash="b", office="", received=T0, rows=[("i", "", "2019", 2.0, "", 2)])
    saved.write_bytes(before)  # the coverage of one delivery less: the process died before writing it
    with Store(path, backup_seconds=0) as store:
        assert store.periods("i") == {"2017", "2019"} and store.coverage("i").runs["jahr"].missing == ("2018",)
    # The store holding the file wrote the recomputed coverage: the next open reads no rows.
    with Store(path, backup_seconds=0) as store:
        assert store.periods("i") == {"2017", "2019"} and "_current" not in vars(store)


@pytest.mark.parametrize("damage", ["truncate", "flip", "garbage", "format", "empty"])
def test_a_damaged_coverage_file_is_never_read_as_numbers(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "daten" / "s.json"
    with Store(path) as store:
        store.add_delivery(file="a.csv", content_hash="a", office="", received=T0,
                           rows=[("i", "", "2017", 1.0, "", 2), ("i", "", "2018", 7.0, "", 3)])
    saved = coverage_path(path)
    raw = saved.read_bytes()
    if damage == "truncate":
        saved.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip":  # still valid JSON of the same size: only the checksum notices
        assert b"7.0" in raw
        saved.write_bytes(raw.replace(b"7.0", b"8.0"))
    elif damage == "garbage":
        saved.write_bytes(b"\x00\xff" * 50)
    elif damage == "format":
        head, _, body = raw.partition(b"\n")
        saved.write_bytes(orjson.dumps({**orjson.loads(head), "format": 0}) + b"\n" + body)
    else:
        saved.write_bytes(b"")
    with Store(path) as store:
        assert store.latest_summary("i")[0].value == 7.0
        assert_coverage_of(store, "i")


def test_a_second_process_reads_the_coverage_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "daten" / "s.json"
    with Store(path) as holder:
        holder.add_delivery(file="a.csv", content_hash="a", office="", received=T0,
                            rows=[("i", "", "2017", 1.0, "", 2)])
        saved = coverage_path(path)
        saved.unlink()
        with Store(path) as reader:  # read-only: computes the coverage from the rows, keeps it to itself
            assert reader.read_only and reader.periods("i") == {"2017"}
        assert not saved.exists()


def test_a_segment_damaged_after_a_lazy_open_stops_the_read_that_needs_it(tmp_path: Path) -> None:
    path = tmp_path / "daten" / "s.json"
    with Store(path) as store:
        store.add_delivery(file="a.csv", content_hash="a", office="", received=T0, rows=[("i", "", "2017", 1.0, "", 2)])
    with Store(path) as store:
        (segment,) = (path.parent / "lieferungen").glob("*.json")  # beside the journal
        segment.write_bytes(segment.read_bytes().replace(b"1.0", b"2.0"))
        assert store.latest_summary("i")[0].value == 1.0  # answered from the coverage, checked at open
        with pytest.raises(StoreUnreadable) as exc:
            store.observations("i")
        assert exc.value.segment == segment


def test_the_fingerprint_names_the_deliveries_and_their_segments() -> None:
    docs = {"1": {"segment_sha256": "aa"}, "2": {"segment_sha256": "bb"}}
    assert fingerprint(docs) == fingerprint(dict(reversed(docs.items())))
    assert fingerprint(docs) != fingerprint({"1": {"segment_sha256": "aa"}})
    assert fingerprint(docs) != fingerprint({"1": {"segment_sha256": "aa"}, "2": {"segment_sha256": "cc"}})
    assert fingerprint({"1": {"rows": []}}) is None  # schema 1: always read whole


def test_the_saved_file_round_trips(tmp_path: Path) -> None:
    path = tmp_path / "daten" / "s.json"
    with Store(path) as store:
        store.add_delivery(file="a.csv", content_hash="a", office="", received=T0,
                           rows=[("i", "", "2017-Q1", 1.0, "", 2), ("i", "", "2017-Q4", 1.0, "", 3),
                                 ("j", "Süd", "2017-09-30", None, "x", 4)])
        kept = store._coverage
    loaded = Coverage.load(coverage_path(path), kept.fingerprint)
    assert loaded == kept and loaded.get("i").runs["quartal"].missing == ("2017-Q2", "2017-Q3")
    assert loaded.get("j").runs == {}  # a reference day is held, but in no run
    assert Coverage.load(coverage_path(path), "another") is None


def test_schema_1_store_is_read_whole_and_then_gets_its_coverage(tmp_path: Path) -> None:
    path = tmp_path / "daten" / "s.json"
    with Store(path) as store:
        store.add_delivery(file="a.csv", content_hash="a", office="", received=T0, rows=[("i", "", "2017", 1.0, "", 2)])
    data = orjson.loads(path.read_bytes())
    data["meta"]["1"]["schema"] = 1
    doc = data["lieferungen"]["1"]
    segment = orjson.loads((path.parent / "lieferungen" / doc.pop("segment")).read_bytes())
    for k in ("segment_bytes", "segment_sha256", "count"):
        doc.pop(k)
    doc["rows"] = segment["zeilen"]["1"]["rows"]
    path.write_bytes(orjson.dumps(data))
    coverage_path(path).unlink()
    with Store(path) as store:  # migrated to segments, read whole, coverage saved
        assert store.periods("i") == {"2017"}
    assert coverage_path(path).exists()
