"""The column-wise fast path of watchers/read.py gives exactly what the row-by-row path gives.

Every file is read twice, once with the fast path and once without (read.FAST_PATH), and the
records (compared by repr, so that -0.0 and 0.0 or 1 and 1.0 would differ), the problems and the
report text must be identical. Valid files must really take the fast path.
"""

from __future__ import annotations

import io
from datetime import date, datetime

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from watchers import read
from watchers.read import find_columns, format_report, iter_records, read_records, read_table


def both(data: bytes, filename: str, monkeypatch: pytest.MonkeyPatch) -> tuple[list, list]:
    with monkeypatch.context() as patch:
        patch.setattr(read, "FAST_PATH", False)
        exact_records, exact_problems = read_records(data, filename)
    fast_records, fast_problems = read_records(data, filename)
    assert repr(fast_records) == repr(exact_records)
    assert fast_records == exact_records
    assert fast_problems == exact_problems
    assert format_report(filename, fast_problems) == format_report(filename, exact_problems)
    return fast_records, fast_problems


def fast_taken(data: bytes, filename: str) -> bool:
    result = read_table(data, filename)
    return all(read._fast_records(t, find_columns(t)) is not None for t in result.tables)


# --- hand-written files ---------------------------------------------------------------------------
HEADER = "Maßnahme;Indikator;Stadtteil;Zeitraum;Wert;Einheit;Amt;Bemerkung\r\n"
VALID = [
    HEADER + "M 21;Fälle;Lützel;2018-Q3;1.500;Anzahl;Amt 50;\r\nm21;Fälle;Gesamtstadt;Q3/2018;1.234,5;;Amt 50;x\r\n"
    "21;Quote;;3. Quartal 2018;12,5;%;Amt 50;vorläufig\r\nM21;Quote; Süd ;30.09.2018;-;%;Amt 50;nicht erhoben\r\n"
    ";;;;;;;\r\nM21;Quote;Süd;2018-09-30;;%;Amt 50;noch offen\r\n",
    "Maßnahme,Indikator,Zeitraum,Wert\nM21,A,2017,1.5\nM21,A,2018,\"1,500.25\"\nM21,A,2019,-2.5\n",
    "Maßnahme\tIndikator\tZeitraum\tWert\tGebiet\nM21\tA\t2017\t12\nM21\tA\t2018\t0,5\tGESAMT\t\t\n",
    "sep=;\r\nMaßnahme;Indikator;Zeitraum;Wert\r\nM21 – Wohnraum;A;2017;1 234,5\r\nM21;A;2018;k.A.\r\n",
    HEADER + "".join(f"M21;Ind {k % 3};Block {k % 7};2018-{k % 12 + 1:02d};{k},{k % 10};Anzahl;Amt 50;\r\n"
                     for k in range(300)),
]
FAULTY = [
    "Maßnahme;Indikator;Zeitraum;Wert\r\nM21;A;2017;1.500\r\nM21;A;2018;2.250\r\n",  # ambiguous, never guessed
    "Maßnahme;Indikator;Zeitraum;Wert\r\nM21;A;2017;1,5\r\nM21;A;2018;1.5\r\nM21;A;2019;2,5\r\n",  # mixed styles
    "Maßnahme;Indikator;Zeitraum;Wert\r\nM21;A;2017;2,250\r\nM21;A;2018;12\r\n",
    "Maßnahme;Indikator;Zeitraum;Wert\r\nM21;A;2017;2.250\r\nM21;A;2018;0.5\r\nM21;A;2019;1,5\r\n",
    "Maßnahme;Indikator;Zeitraum;Wert\r\nM21;A;2017;viele\r\n",
    "Maßnahme;Indikator;Zeitraum;Wert\r\nM21;A;Sommer;1\r\n",
    "Maßnahme;Indikator;Zeitraum;Wert\r\nM21;;2017;1\r\n;A;2018;2\r\nM21;A;;3\r\n",
    "Maßnahme;Indikator;Zeitraum;Wert\r\nM21;A;2017;1;zu viel\r\nM21;A;2018;2;;\r\n",
    "Maßnahme;Indikator;Zeitraum;Wert\r\nM21;A;2017\r\nM21;A\r\n",
    "Maßnahme;Indikator;Zeitraum;Wert\r\n  ;  ;  ;  \r\nM21;A;2017;1\r\n",
    "Maßnahme;Indikator;2017;2018\r\nM21;A;1,5;2\r\nM21;B;;\r\n",  # wide layout
]


@pytest.mark.parametrize("text", VALID)
def test_valid_files_take_the_fast_path_and_agree(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = text.encode("cp1252")
    assert fast_taken(data, "a.csv")
    records, problems = both(data, "a.csv", monkeypatch)
    assert records and problems == []


@pytest.mark.parametrize("text", FAULTY)
def test_faulty_files_agree(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    both(text.encode("utf-8"), "a.csv", monkeypatch)


@pytest.mark.parametrize("text", FAULTY)
def test_faulty_files_agree_when_ambiguous_values_are_handed_on(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = text.encode("utf-8")
    with monkeypatch.context() as patch:
        patch.setattr(read, "FAST_PATH", False)
        exact = read_records(data, "a.csv", defer_ambiguous=True)
    assert repr(read_records(data, "a.csv", defer_ambiguous=True)) == repr(exact)
    # Handed on instead of reported: the same records otherwise, and the other problems unchanged.
    records, problems = read_records(data, "a.csv")
    assert [p for p in problems if p.code != "read.number_ambiguous"] == exact[1]
    assert [r.row for r in records] == [r.row for r in exact[0]]
    assert any(r.ambiguous for r in exact[0]) == any(p.code == "read.number_ambiguous" for p in problems)
    for plain, handed in zip(records, exact[0], strict=True):
        if handed.ambiguous is not None:
            assert plain.flawed and plain.value is None and handed.value is None


def test_sheets_of_one_workbook_decide_each_others_ambiguous_values(monkeypatch: pytest.MonkeyPatch) -> None:
    wb = openpyxl.Workbook()
    first = wb.active
    first.title = "Eins"
    for row in (["Maßnahme", "Indikator", "Zeitraum", "Wert"], ["M21", "A", "2017", "1.500"]):
        first.append(row)
    second = wb.create_sheet("Zwei")
    for row in (["Maßnahme", "Indikator", "Zeitraum", "Wert"], ["M21", "B", "2017", "2,5"], ["M21", "B", "2018", 3]):
        second.append(row)
    out = io.BytesIO()
    wb.save(out)
    records, problems = both(out.getvalue(), "w.xlsx", monkeypatch)
    assert problems == [] and [r.value for r in records] == [1500.0, 2.5, 3.0]


def test_spreadsheet_cells_agree(monkeypatch: pytest.MonkeyPatch) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["Maßnahme", "Indikator", "Zeitraum", "Wert", "Gebiet", "Bemerkung"])
    ws.append([21, "A", 2018, 1.5, "Gesamtstadt", None])
    ws.append(["M21", "A", 2019.0, 2, None, 7])
    ws.append(["M21", "A", datetime(2018, 9, 30), "1,5", "Süd", True])
    ws.append(["M21", "A", date(2018, 6, 30), "-", "Süd", 1.25])
    ws.append(["M21", "A", "2018-Q3", -0.0, 12, "x"])
    out = io.BytesIO()
    wb.save(out)
    data = out.getvalue()
    assert fast_taken(data, "a.xlsx")
    records, problems = both(data, "a.xlsx", monkeypatch)
    assert len(records) == 5 and problems == []
    ws.append(["M21", "A", "2018-Q4", True])
    ws.append(["M21", "A", "2017", datetime(2017, 1, 1)])
    out = io.BytesIO()
    wb.save(out)
    records, problems = both(out.getvalue(), "a.xlsx", monkeypatch)
    assert problems


def test_the_whole_bench_file_takes_the_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [f"M33;M33-bench;2000-{k // 50 % 12 + 1:02d};Block {k % 50:03d} Süd;{k * 7 % 1000 / 10:.1f};Anzahl;Amt 12;"
            for k in range(2000)]
    data = ("Maßnahme;Indikator;Zeitraum;Gebiet;Wert;Einheit;Amt;Bemerkung\r\n" + "\r\n".join(rows)).replace(
        ".", ",").encode("cp1252")
    assert fast_taken(data, "b.csv")
    records, problems = both(data, "b.csv", monkeypatch)
    assert len(records) == 2000 and problems == []


# --- generated files ------------------------------------------------------------------------------
MEASURES = ["M21", "m 21", " 21 ", "M-21", "M21 – Wohnraum", "M99", "Wohnen", ""]
INDICATORS = ["Fälle", " Quote Ü65 ", "M21-faelle", "", "   "]
AREAS = ["", "Gesamtstadt", " gesamt ", "Lützel", "Süd", "KOBLENZ"]
PERIODS = ["2018", "2018-Q3", "Q3/2018", "3. Quartal 2018", "2018-09", "09/2018", "30.09.2018", "2018-09-30",
           " 2019 ", "", "Sommer", "2018-13", "2018-Q5"]
NUMBERS_DE = ["12", "0", "12,5", ",5", "0,25", "1.234,5", "1.234.567", "-3,5", "+4", "1 234,5", "12 %", "7 €"]
NUMBERS_EN = ["12.5", ".5", "1,234.5", "1,234,567", "-3.5", "0.25"]
AMBIGUOUS = ["1.500", "2,250", "999.000"]
MISSING_VALUES = ["", "-", ".", "k.A.", "K.A.", " - ", "n/a", "#NV"]
BAD_VALUES = ["viele", "1,2,3", "12a", "1..5", "--5", "٣"]
UNITS = ["", "Anzahl", "%", " Euro "]
NOTES = ["", "vorläufig", "Zahl; mit Trennzeichen", 'mit "Anführung"', "  "]

integers = st.integers(0, 10**6).map(str)
VALUE_POOLS = {  # one per file, so that a file's number style is sometimes clear and sometimes not
    "all": st.one_of(
        st.sampled_from(NUMBERS_DE), st.sampled_from(NUMBERS_EN), st.sampled_from(AMBIGUOUS),
        st.sampled_from(MISSING_VALUES), st.sampled_from(BAD_VALUES), integers,
        st.integers(0, 10**6).map(lambda k: f"{k / 100:.2f}".replace(".", ",")),
    ),
    "ambiguous": st.one_of(st.sampled_from(AMBIGUOUS), integers, st.sampled_from(MISSING_VALUES)),
    "de": st.one_of(st.sampled_from(NUMBERS_DE + AMBIGUOUS), integers,
                    st.integers(0, 10**6).map(lambda k: f"{k / 100:.2f}".replace(".", ","))),
    "en": st.one_of(st.sampled_from(NUMBERS_EN + AMBIGUOUS), integers,
                    st.integers(0, 10**6).map(lambda k: f"{k / 100}")),
}


def row_of(values: st.SearchStrategy[str]) -> st.SearchStrategy[tuple]:
    return st.tuples(
        st.sampled_from(MEASURES), st.sampled_from(INDICATORS), st.sampled_from(AREAS), st.sampled_from(PERIODS),
        values, st.sampled_from(UNITS), st.sampled_from(["", "Amt 50", "amt50"]), st.sampled_from(NOTES),
        st.sampled_from([0, 0, 0, 0, 0, 0, -1, -3, 1, 2]),  # a short or long (ragged) row now and then
    )


def _quote(cell: str, sep: str) -> str:
    return f'"{cell.replace(chr(34), chr(34) * 2)}"' if sep in cell or '"' in cell else cell


def _csv(rows: list[tuple], sep: str, newline: str, extra: str) -> str:
    lines = [sep.join(["Maßnahme", "Indikator", "Stadtteil", "Zeitraum", "Wert", "Einheit", "Amt", "Bemerkung"])]
    for *cells, ragged in rows:
        cells = [_quote(c, sep) for c in cells]
        if ragged < 0:
            cells = cells[:ragged]
        elif ragged:
            cells += [extra] * ragged
        lines.append(sep.join(cells))
    return newline.join(lines) + newline


def _clean(rows: list[tuple]) -> list[tuple]:
    """The same rows without any fault: every one valid and complete."""
    return [(m or "M21", i.strip() or "Fälle", a, p if p.strip() and p not in ("Sommer", "2018-13", "2018-Q5")
             else "2018", v if v not in BAD_VALUES + NUMBERS_EN + AMBIGUOUS and "." not in v else "1,5", u, o, n, 0)
            for m, i, a, p, v, u, o, n, _ in rows]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.sampled_from(sorted(VALUE_POOLS)).flatmap(
        lambda pool: st.lists(row_of(VALUE_POOLS[pool]), min_size=1, max_size=40)),
    sep=st.sampled_from([";", "\t", ","]),
    newline=st.sampled_from(["\r\n", "\n"]),
    encoding=st.sampled_from(["cp1252", "utf-8", "utf-8-sig"]),
    extra=st.sampled_from(["", " ", "zu viel"]),
    clean=st.booleans(),
)
def test_generated_csv_files_agree(rows: list[tuple], sep: str, newline: str, encoding: str, extra: str,
                                   clean: bool) -> None:
    if clean:
        rows = _clean(rows)
    text = _csv(rows, sep, newline, extra)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:  # "٣" has no Windows-1252 form
        data = text.encode("utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(read, "FAST_PATH", False)
        exact = read_records(data, "g.csv")
    fast = read_records(data, "g.csv")
    assert repr(fast[0]) == repr(exact[0])
    assert fast == exact
    result = read_table(data, "g.csv")
    if clean and result.ok:
        assert iter_records(result)[1] == []
        assert fast_taken(data, "g.csv")


# --- the CSV row loop: max_rows and blank rows as before --------------------------------------------
def _reference_rows(text: str, header_index: int, max_rows: int) -> tuple | str:
    """The row loop watchers/read.py used before the fast path, as the reference."""
    import csv

    out = []
    for number, row in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=";"), start=1):
        if number <= header_index + 1:
            continue
        if number > max_rows:
            return "read.too_many_rows"
        if row.count("") != len(row):
            out.append((number, tuple(row)))
    return tuple(out)


@settings(max_examples=200, deadline=None)
@given(
    title=st.booleans(),
    lines=st.lists(st.sampled_from(["M21;A;2017;1", "", ";;;", " ; ;;", "M21;A;2018"]), max_size=12),
    max_rows=st.integers(0, 16),
)
def test_csv_rows_and_the_row_limit_as_before(title: bool, lines: list[str], max_rows: int) -> None:
    head = ["Lieferung Amt 50"] if title else []
    text = "\r\n".join([*head, "Maßnahme;Indikator;Zeitraum;Wert", *lines]) + "\r\n"
    result = read_table(text.encode("cp1252"), "r.csv", max_rows=max_rows)
    expected = _reference_rows(text, len(head), max_rows)
    if expected == "read.too_many_rows":
        assert [p.code for p in result.problems] == ["read.too_many_rows"]
    else:
        assert result.ok and result.tables[0].rows == expected


# --- the catalogue check: the bulk path agrees with the row-by-row loop -------------------------------
CATALOGUE_INDICATORS = ["M21-wohnungen", "Beispiel: Fertiggestellte Wohnungen", "M21-bauland", "M33-sgb2-quote",
                        "M21-wohnungn", "M22-mehrgenerationen"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.tuples(
        st.sampled_from(["M21", "M 21", "M33", "M22", "M99"]), st.sampled_from(CATALOGUE_INDICATORS),
        st.sampled_from(["", "Lützel", "Gesamtstadt", "Karthause-Nord", "karthause nord", "Koblenz-Lützel",
                         "Stadt gesamt"]),
        st.sampled_from(["2017", "2018", "30.06.2018", "2018-Q2", "2026"]),
        st.sampled_from(["1", "2,5", "", "3", "-3", "1.301", "2.000"]),
        st.sampled_from(["", "Amt 61", "Amt 12", "amt61"]),
        st.sampled_from(["", "Anzahl", "Stück", "%", "ha"]),
    ), min_size=1, max_size=25),
    office_hint=st.sampled_from([None, "Amt 61", "Amt 50"]),
    lang=st.sampled_from(["de", "en"]),
    today=st.sampled_from([None, date(2026, 12, 1), date(2027, 1, 1)]),
)
def test_catalogue_check_agrees_with_the_row_loop(rows: list[tuple], office_hint: str | None, lang: str,
                                                  today: date | None, demo_monitor) -> None:
    from watchers import validate

    text = "Maßnahme;Indikator;Gebiet;Zeitraum;Wert;Amt;Einheit\r\n" + "".join(";".join(r) + "\r\n" for r in rows)
    data = text.encode("cp1252")
    catalogue = demo_monitor.catalogue
    fast = validate.check_delivery(data, "v.csv", catalogue, office_hint=office_hint, lang=lang, today=today)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(validate, "_all_good", lambda records, judge: None)
        exact = validate.check_delivery(data, "v.csv", catalogue, office_hint=office_hint, lang=lang, today=today)
    assert fast == exact


def test_catalogue_check_of_a_clean_file_takes_the_bulk_path(demo_monitor, monkeypatch: pytest.MonkeyPatch) -> None:
    from storage.seed import STADTTEILE
    from watchers import validate

    # The catalogue lists the Stadtteile: spelt as offices do (with hyphens, in capitals), one series each.
    spellings = [name.replace(" ", "-") if k % 2 else name.upper() for k, name in enumerate(STADTTEILE)]
    text = "Maßnahme;Indikator;Gebiet;Zeitraum;Wert;Amt\r\n" + "".join(
        f"M21;M21-wohnungen;{spellings[k // 20]};{2000 + k % 20};{k},5;Amt 61\r\n" for k in range(200))
    data = text.encode("cp1252")
    taken = []
    real = validate._all_good
    monkeypatch.setattr(validate, "_all_good", lambda records, judge: taken.append(real(records, judge)) or taken[-1])
    fast = validate.check_delivery(data, "v.csv", demo_monitor.catalogue)
    assert fast.ok and len(fast.rows) == 200 and taken and taken[0] is not None
    assert {area for _, area, *_ in fast.rows} == set(STADTTEILE[:10])
    monkeypatch.setattr(validate, "_all_good", lambda records, judge: None)
    assert validate.check_delivery(data, "v.csv", demo_monitor.catalogue) == fast


# --- CSV without quotes is split by str.split: the same table as the csv module reads ----------------
@settings(max_examples=400, deadline=None)
@given(
    lines=st.lists(st.lists(st.sampled_from(["M21", "A", "2017", "1,5", "", " ", "x\x0by", "ä\x85", "\u2028"]),
                            max_size=6), max_size=10),
    breaks=st.lists(st.sampled_from(["\r\n", "\n", "\r", "\r\r\n", "\n\r"]), min_size=1, max_size=4),
    sep=st.sampled_from([";", "\t", ","]),
    title=st.booleans(),
    final_break=st.booleans(),
    max_rows=st.sampled_from([3, 6, 200_000]),
)
def test_unquoted_csv_split_equals_the_csv_module(lines: list[list[str]], breaks: list[str], sep: str, title: bool,
                                                  final_break: bool, max_rows: int) -> None:
    head = ["sep=" + sep] if title else []
    rows = [*head, sep.join(["Maßnahme", "Indikator", "Zeitraum", "Wert"]), *(sep.join(r) for r in lines)]
    text = "".join(row + breaks[k % len(breaks)] for k, row in enumerate(rows))
    if not final_break:
        text = text.rstrip("\r\n")
    data = text.encode("utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(read, "FAST_PATH", False)
        exact = read_table(data, "s.csv", max_rows=max_rows)
    assert read_table(data, "s.csv", max_rows=max_rows) == exact


def test_a_huge_unquoted_field_is_still_reported_by_the_csv_module(monkeypatch: pytest.MonkeyPatch) -> None:
    data = ("Maßnahme;Indikator;Zeitraum;Wert\r\nM21;A;2017;" + "1" * 200_000 + "\r\n").encode("utf-8")
    fast = read_table(data, "h.csv")
    monkeypatch.setattr(read, "FAST_PATH", False)
    assert fast == read_table(data, "h.csv") and [p.code for p in fast.problems] == ["read.damaged"]
