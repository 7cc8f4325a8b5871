"""The social burden index (MSS method): the computation against a hand-computed example, the [sozialindex]
catalogue section, /sozialindex in chat, the export, the admins' notice after a delivery, the report section."""

from __future__ import annotations

import csv
import html
import io
import math
import os
import random
import re
import signal
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.workspace import Monitor, create_workspace
from commands import Caller, dispatch
from commands.render_report import render, render_html
from commands.report import build_report
from commands.sozialindex import META_KEY, index_result, record, unrated_reason
from commands.sozialindex_charts import CELL_COLOURS, LINE_COLOURS, severity
from commands.sozialindex_export import export_csv, export_xlsx
from storage.catalogue import parse_catalogue, render_catalogue, render_sozialindex
from storage.models import Indicator, Observation, Office
from storage.sozialindex import (
    DYNAMICS_CLASSES,
    STATUS_CLASSES,
    DistrictScore,
    IndexConfig,
    IndexResult,
    available_years,
    cell_code,
    classify_dynamics,
    classify_status,
    compute,
    critical_moves,
    moves,
    snapshot,
)
from watchers.pipeline import IMPORTED, Pipeline

from .conftest import BERLIN, ROOT, run_cli

NOW = datetime(2019, 6, 1, 10, 0, tzinfo=BERLIN)
IDS = ("M33-alo", "M33-lzalo", "M33-transfer", "M33-besch")
CONFIG = IndexConfig(IDS, reversed=("M33-besch",))

# The hand-computed example: five districts A–E, reference year 2018, dynamics since 2016.
# M33-besch is "reversed" (a share of employed people: higher = less burden).
V2018 = {"M33-alo": (4, 4, 6, 8, 8), "M33-lzalo": (1, 3, 5, 5, 6), "M33-transfer": (3, 11, 11, 12, 13),
         "M33-besch": (53, 53, 49, 49, 46)}
V2016 = {"M33-alo": (3.5, 3.5, 6, 8.5, 8.5), "M33-lzalo": (0, 2, 4, 4, 5), "M33-transfer": (5, 11.5, 11.5, 10.5, 11.5),
         "M33-besch": (53.5, 53.5, 49.5, 49.5, 44)}
AREAS = "ABCDE"
# District E in 2018 far above everyone else (its 2016 values unchanged): "sehr niedrig" and "negativ".
WORSE_E = {"M33-alo": 20, "M33-lzalo": 15, "M33-transfer": 30, "M33-besch": 20}


def example_observations() -> list[Observation]:
    out = []
    for year, table, delivery in ((2018, V2018, 2), (2016, V2016, 1)):
        for indicator, values in table.items():
            for area, value in zip(AREAS, values, strict=True):
                out.append(Observation(indicator, area, str(year), float(value), delivery=delivery))
    # F: its M33-transfer value for 2018 was delivered empty (too few cases to publish).
    for indicator in IDS:
        out.append(Observation(indicator, "F", "2016", 5.0, delivery=1))
        out.append(Observation(indicator, "F", "2018", None if indicator == "M33-transfer" else 5.0,
                               note="Fallzahl zu klein" if indicator == "M33-transfer" else "", delivery=2))
    # The whole city is no district: it must not enter the standardisation.
    out += [Observation(i, "", "2018", 99.0, delivery=3) for i in IDS]
    return out


# ---------------------------------------------------------------- the computation
def test_hand_computed_example() -> None:
    """Sample standard deviation (n − 1 = 4) across A–E.

    Status 2018, deviations from the mean and z = deviation / sd:
      alo       4 4 6 8 8        mean 6,  dev −2 −2 0 2 2,   ss 16, sd √(16/4) = 2  -> z −1 −1 0 1 1
      lzalo     1 3 5 5 6        mean 4,  dev −3 −1 1 1 2,   ss 16, sd 2           -> z −1.5 −0.5 0.5 0.5 1
      transfer  3 11 11 12 13    mean 10, dev −7 1 1 2 3,    ss 64, sd 4           -> z −1.75 0.25 0.25 0.5 0.75
      besch     53 53 49 49 46   mean 50, dev 3 3 −1 −1 −4,  ss 36, sd 3, reversed -> z −1 −1 1/3 1/3 4/3
    Sums (in twelfths): A −63, B −27, C 13, D 28, E 49; their mean is 0, ss = 8052/144, sd = √8052/24,
    so the status index is 2k/√8052 for k = −63, −27, 13, 28, 49.
    Dynamics (2018 − 2016):
      alo       0.5 0.5 0 −0.5 −0.5   sd 0.5           -> z 1 1 0 −1 −1
      lzalo     1 1 1 1 1             sd 0             -> z 0 (no spread, no information)
      transfer  −2 −0.5 −0.5 1.5 1.5  sd 1.5           -> z −4/3 −1/3 −1/3 1 1
      besch     −0.5 ×4, 2            sd √1.25, reversed -> z 1/√5 ×4, −4/√5
    Sums with r = 1/√5: A −1/3 + r, B 2/3 + r, C −1/3 + r, D r, E −4r; ss = 2/3 + 20r² = 14/3, sd = √(7/6).
    """
    result = compute(CONFIG, example_observations())
    assert (result.year, result.comparison_year) == (2018, 2016)

    status = {d.area: d.status_index for d in result.rated}
    for area, k in zip(AREAS, (-63, -27, 13, 28, 49), strict=True):
        assert status[area] == pytest.approx(2 * k / math.sqrt(8052), abs=1e-8)
    r, sd = 1 / math.sqrt(5), math.sqrt(7 / 6)
    dynamics = {d.area: d.dynamics_index for d in result.rated}
    for area, total in zip(AREAS, (-1 / 3 + r, 2 / 3 + r, -1 / 3 + r, r, -4 * r), strict=True):
        assert dynamics[area] == pytest.approx(total / sd, abs=1e-8)

    a = result.district("A")
    assert [s.status_z for s in a.scores] == pytest.approx([-1, -1.5, -1.75, -1])
    assert [s.dynamics_z for s in a.scores] == pytest.approx([1, 0, -4 / 3, r])
    e = result.district("E")
    assert [s.change for s in e.scores] == pytest.approx([-0.5, 1, 1.5, 2])

    # Indices: A −1.40, B −0.60, C 0.29, D 0.62, E 1.09; dynamics A 0.11, B 1.03, C 0.11, D 0.41, E −1.66.
    classes = {d.area: (d.status_class, d.dynamics_class) for d in result.districts}
    assert classes == {"A": ("hoch", "stabil"), "B": ("mittel", "negativ"), "C": ("mittel", "stabil"),
                       "D": ("mittel", "stabil"), "E": ("niedrig", "positiv"), "F": (None, None)}
    # Worst first: status class before dynamics class, then the higher index; the unrated last.
    assert [d.area for d in result.districts] == ["E", "B", "D", "C", "A", "F"]
    assert [cell_code(*d.cell) for d in result.rated] == ["3 +", "2 -", "2 +/-", "2 +/-", "1 +/-"]

    f = result.district("F")
    assert not f.rated and f.status_index is None
    assert [(g.indicator, g.year, g.kind, g.note) for g in f.status_gaps] == [
        ("M33-transfer", 2018, "empty", "Fallzahl zu klein")]
    assert [s.value for s in f.scores] == [5.0, 5.0, None, 5.0]  # shown, never imputed
    assert result.status_n == result.dynamics_n == 5
    assert result.deliveries == (1, 2)  # the whole-city delivery 3 was not used
    spreads = {s.name: s for s in result.status_spreads}
    assert (spreads["M33-transfer"].mean, spreads["M33-transfer"].sd, spreads["M33-transfer"].n) == (10, 4, 5)


def test_identical_inputs_give_identical_results() -> None:
    observations = example_observations()
    first = compute(CONFIG, observations)
    shuffled = list(observations)
    random.Random(7).shuffle(shuffled)
    again = compute(CONFIG, shuffled)
    assert again == first and again.fingerprint == first.fingerprint
    changed = [Observation(o.indicator, o.area, o.period, 4.5, delivery=9)
               if (o.indicator, o.area, o.period) == ("M33-alo", "A", "2018") else o for o in observations]
    assert compute(CONFIG, changed).fingerprint != first.fingerprint


def test_class_limits_in_standard_deviations() -> None:
    assert [classify_status(x) for x in (-1.01, -1.0, 0.0, 1.0, 1.01, 1.5, 1.51)] == [
        "hoch", "mittel", "mittel", "mittel", "niedrig", "niedrig", "sehr niedrig"]
    assert [classify_dynamics(x) for x in (-1.01, -1.0, 1.0, 1.01)] == ["positiv", "stabil", "stabil", "negativ"]
    assert classify_status(0.6, (-0.5, 0.5, 0.75)) == "niedrig"
    assert classify_dynamics(-0.6, (-0.5, 0.5)) == "positiv"


def test_the_twelve_combinations() -> None:
    codes = {cell_code(s, d) for s in STATUS_CLASSES for d in DYNAMICS_CLASSES}
    assert len(codes) == 12 and "4 -" in codes and "1 +" in codes and "2 +/-" in codes
    assert cell_code("sehr niedrig", None) == ""
    assert severity(4, 3) == 5 and severity(1, 1) == 0 and severity(None, 2) is None


def test_the_value_of_a_year_is_the_one_at_its_end() -> None:
    config = IndexConfig(("q", "y"))
    obs = []
    for k, area in enumerate("ABC"):
        obs += [Observation("q", area, "2018-Q3", 50.0), Observation("q", area, "2018-Q4", float(k)),
                Observation("y", area, "2018", float(k * k)), Observation("y", area, "2018-12-31", 99.0)]
    result = compute(config, obs)
    assert result.year == 2018
    assert [result.district(a).score("q").value for a in "ABC"] == [0, 1, 2]  # Q4, not Q3
    assert [result.district(a).score("y").value for a in "ABC"] == [0, 1, 4]  # the yearly value first
    only_q3 = compute(config, [o for o in obs if o.period != "2018-Q4"])
    assert only_q3.years == () and only_q3.year is None


def test_default_reference_year_is_the_latest_with_every_indicator() -> None:
    obs = example_observations() + [Observation("M33-alo", a, "2019", 1.0) for a in AREAS]
    assert available_years(CONFIG, obs) == (2016, 2018)
    assert compute(CONFIG, obs).year == 2018
    fixed = IndexConfig(IDS, reversed=("M33-besch",), reference_year=2016)
    result = compute(fixed, obs)
    assert result.year == 2016 and result.comparison_year == 2014
    # Status rated, dynamics not: nothing for 2014.
    a = result.district("A")
    assert a.status_class is not None and a.dynamics_class is None
    assert {(g.indicator, g.year) for g in a.dynamics_gaps} == {(i, 2014) for i in IDS}


def test_too_few_districts_are_not_standardised() -> None:
    obs = [o for o in example_observations() if o.area in ("A", "B", "F")]
    result = compute(CONFIG, obs)
    assert result.rated == () and result.too_few_status and result.status_n == 2
    assert {d.area for d in result.unrated} == {"A", "B", "F"}


def test_moves_between_stored_computations() -> None:
    before = compute(CONFIG, example_observations())
    stored = snapshot(before, NOW)
    worse = [Observation(o.indicator, o.area, o.period, _worse_e(o), delivery=5) if o.area == "E" else o
             for o in example_observations()]
    after = compute(CONFIG, worse)
    assert after.district("E").cell == ("sehr niedrig", "negativ")
    changed = {m.area: m for m in moves(stored, after)}
    assert changed["E"].status_before == "niedrig" and changed["E"].into_very_low and changed["E"].into_negative
    assert [m.area for m in critical_moves(stored, after)] == ["E"]
    # Without an earlier computation every district in "sehr niedrig" or "negativ" counts as moved there.
    assert [m.area for m in critical_moves(None, before)] == ["B"]
    assert moves(snapshot(after, NOW), after) == []


def _worse_e(o: Observation) -> float | None:
    return float(WORSE_E[o.indicator]) if o.period == "2018" else o.value


# ---------------------------------------------------------------- the catalogue
def _indicators() -> list[Indicator]:
    return [Indicator(i, "M33", f"Anteil {i[4:]}", "%", "jährlich", 60, "Amt 12") for i in IDS]


def test_sozialindex_section_parsed_with_mss_defaults() -> None:
    text = render_catalogue(offices=[Office("Amt 12")], indicators=_indicators(), sozialindex=CONFIG)
    catalogue, problems = parse_catalogue(text)
    assert problems == []
    assert catalogue.sozialindex == CONFIG
    assert CONFIG.span == 2 and CONFIG.status_limits == (-1.0, 1.0, 1.5) and CONFIG.dynamics_limits == (-1.0, 1.0)
    custom = IndexConfig(IDS[:2], reference_year=2018, span=3, status_limits=(-0.8, 0.8, 1.2),
                         dynamics_limits=(-0.5, 0.5))
    catalogue, problems = parse_catalogue(render_catalogue(indicators=_indicators(), sozialindex=custom))
    assert problems == [] and catalogue.sozialindex == custom


def test_every_sozialindex_problem_is_reported_with_its_line() -> None:
    base = render_catalogue(indicators=_indicators())
    text = base + "\n".join([
        "[sozialindex]",
        'indikatoren = ["M33-alo", "M33-alo", "M33-transfr"]',
        'umgekehrt = ["M33-besch"]',
        'bezugsjahr = "2018"',
        "dynamik_jahre = 0",
        "status_grenzen = [1.5, 1.0, -1.0]",
        "dynamik_grenzen = [-1, 1]",
        "grenze = 2",
        "",
    ])
    catalogue, problems = parse_catalogue(text, "katalog.toml")
    lines = text.splitlines()
    found = {(p.code, lines[p.line - 1].split("=")[0].strip()) for p in problems}
    assert found == {
        ("si_unknown_key", "grenze"), ("si_duplicate_indicator", "indikatoren"),
        ("si_unknown_indicator_near", "indikatoren"), ("si_reversed_not_index", "umgekehrt"),
        ("si_bad_year", "bezugsjahr"), ("si_bad_span", "dynamik_jahre"), ("si_bad_limits", "status_grenzen")}
    near = next(p for p in problems if p.code == "si_unknown_indicator_near")
    assert near.params == {"id": "M33-transfr", "closest": "M33-transfer"}
    assert catalogue is not None and catalogue.sozialindex is None  # an unknown indicator: not usable

    # Only optional values wrong: the index stays usable with the defaults.
    text = base + '[sozialindex]\nindikatoren = ["M33-alo", "M33-lzalo", "M33-transfer"]\ndynamik_jahre = 2.5\n'
    catalogue, problems = parse_catalogue(text)
    assert [p.code for p in problems] == ["si_bad_span"]
    assert catalogue.sozialindex == IndexConfig(("M33-alo", "M33-lzalo", "M33-transfer"))

    _, problems = parse_catalogue(base + "[sozialindex]\nindikatoren = []\n")
    assert [p.code for p in problems] == ["si_no_indicators"]


def test_init_writes_a_commented_example_that_works_when_uncommented() -> None:
    text = render_catalogue()
    catalogue, problems = parse_catalogue(text)
    assert problems == [] and catalogue.sozialindex is None
    assert "# [sozialindex]" in text and '"M33-sgb2", "M33-arbeitslose"' in text
    start = text.index("# [[indikator]]")
    uncommented = text[:start] + "\n".join(line[2:] if line.startswith("# ") else line
                                            for line in text[start:].splitlines()) + "\n"
    catalogue, problems = parse_catalogue(uncommented)
    assert problems == []
    assert catalogue.sozialindex.indicators == ("M33-sgb2", "M33-arbeitslose", "M33-langzeitarbeitslose",
                                                "M33-kinderarmut")
    assert catalogue.sozialindex.reference_year == 2018 and catalogue.sozialindex.span == 2
    assert {catalogue.indicators[i].unit for i in catalogue.sozialindex.indicators} == {"%"}
    assert render_sozialindex(None) in text


def test_check_names_a_broken_sozialindex_with_file_and_line(workspace: Path) -> None:
    path = workspace / "katalog.toml"
    path.write_text(path.read_text(encoding="utf-8") + '\n[sozialindex]\nindikatoren = ["M33-gibtsnicht"]\n',
                    encoding="utf-8")
    line = len(path.read_text(encoding="utf-8").splitlines())
    proc = run_cli("--workspace", str(workspace), "check")
    assert proc.returncode == 1
    assert f"katalog.toml:{line}" in proc.stdout and "M33-gibtsnicht" in proc.stdout
    assert "Traceback" not in proc.stderr


# ---------------------------------------------------------------- chat, export and notice on a real workspace
def _csv(rows: list[tuple[str, str, str, str]]) -> bytes:
    lines = ["Maßnahme;Indikator;Zeitraum;Gebiet;Wert;Amt"]
    lines += [f"M33;{ind};{period};{area};{value};Amt 12" for ind, period, area, value in rows]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _rows(table: dict, year: int) -> list[tuple[str, str, str, str]]:
    return [(ind, str(year), area, str(v).replace(".", ",")) for ind, values in table.items()
            for area, v in zip(AREAS, values, strict=True)]


@pytest.fixture
def index_monitor(tmp_path: Path):
    path = tmp_path / "index_ws"
    create_workspace(path)
    (path / "katalog.toml").write_text(
        render_catalogue(offices=[Office("Amt 12", "Statistik")], indicators=_indicators(), sozialindex=CONFIG,
                         areas=()),
        encoding="utf-8")
    m = Monitor.open(path, env={})
    yield m
    m.close()


def _deliver(monitor: Monitor, name: str, data: bytes, sink=None) -> None:
    path = monitor.settings.inbox / name
    path.write_bytes(data)
    result = Pipeline(monitor, sink, clock=lambda: NOW).process(path)
    assert result.status == IMPORTED, result.findings


def ask(monitor: Monitor, text: str, caller: Caller | None = None):
    return dispatch(monitor.state, text, caller or Caller(operator=True), NOW)


def test_chat_lists_districts_by_class_worst_first(index_monitor: Monitor) -> None:
    _deliver(index_monitor, "si_2016_2018.csv", _csv(_rows(V2016, 2016) + _rows(V2018, 2018)))
    reply = ask(index_monitor, "/sozialindex")
    assert reply.ok
    text = reply.plain()
    assert "Sozialindex 2018 · Dynamik seit 2016" in text
    assert "5 von 5 Stadtteilen bewertet · Grundlage: si_2016_2018.csv" in text
    headings = [line for line in text.splitlines() if line.startswith("Status ") and " – " in line]
    assert headings == ["Status niedrig · Dynamik positiv (3 +) – 1", "Status mittel · Dynamik negativ (2 -) – 1",
                        "Status mittel · Dynamik stabil (2 +/-) – 2", "Status hoch · Dynamik stabil (1 +/-) – 1"]
    assert "• E: Statusindex +1,09 · Dynamikindex −1,66" in text
    assert text.index("• D:") < text.index("• C:")  # within a cell the higher status index first
    assert ask(index_monitor, "/socialindex").plain() == text  # the English name works too
    assert ask(index_monitor, "/sozialindex 2018").plain() == text


def test_chat_one_district_with_values_z_values_and_movement(index_monitor: Monitor) -> None:
    _deliver(index_monitor, "si.csv", _csv(_rows(V2016, 2016) + _rows(V2018, 2018)))
    text = ask(index_monitor, "/sozialindex a").plain()
    assert "A · Sozialindex 2018" in text
    assert "Status: hoch (Statusindex −1,40)" in text
    assert "Dynamik seit 2016: stabil (Dynamikindex +0,11)" in text
    assert "Gesamtindex Soziale Ungleichheit: 1 +/- (hoch / stabil)" in text
    assert "2018: 4 % · 2016: 3,5 % · Veränderung +0,5 Pp." in text  # M33-alo
    assert "z-Wert Status −1,75 · z-Wert Dynamik −1,33" in text  # M33-transfer
    assert "(umgekehrt: höher = weniger Belastung)" in text  # M33-besch
    assert "Noch keine frühere Berechnung gespeichert." in text

    state = index_monitor.state
    from commands.sozialindex import index_result

    record(state, index_result(state), NOW)
    worse = {k: (*v[:4], WORSE_E[k]) for k, v in V2018.items()}
    _deliver(index_monitor, "korrektur.csv", _csv(_rows(worse, 2018)))
    text = ask(index_monitor, "/sozialindex E").plain()
    assert "Status: sehr niedrig" in text
    assert "Seit der letzten Berechnung (Bezugsjahr 2018, am 01.06.2019): Status niedrig → sehr niedrig; " \
           "Dynamik positiv → negativ." in text
    # The same computation recorded again: the movement is still told against the one before.
    record(state, index_result(state), NOW)
    assert "Status niedrig → sehr niedrig" in ask(index_monitor, "/sozialindex E").plain()


def test_chat_explains_what_it_cannot_answer(index_monitor: Monitor, monitor: Monitor) -> None:
    not_set_up = ask(monitor, "/sozialindex")
    assert not_set_up.ok and "[sozialindex]" in not_set_up.plain()
    assert "noch kein Jahr" in ask(index_monitor, "/sozialindex").plain()
    _deliver(index_monitor, "si.csv", _csv(_rows(V2016, 2016) + _rows(V2018, 2018) + [
        ("M33-alo", "2018", "Karthause-Nord", "5")]))
    unknown = ask(index_monitor, "/sozialindex Karthause Nordd")
    assert unknown.status == "usage" and "Meinten Sie: Karthause-Nord?" in unknown.plain()
    assert "Karthause-Nord · Sozialindex 2018" in ask(index_monitor, "/sozialindex koblenz-karthause nord").plain()
    assert "Nicht bewertbar:" in ask(index_monitor, "/sozialindex Karthause-Nord").plain()
    year = ask(index_monitor, "/sozialindex 2017")
    assert year.status == "usage" and "2016, 2018" in year.plain()
    assert ask(index_monitor, "/sozialindex export pdf").status == "usage"


def test_chat_member_may_ask_unknown_user_may_not(index_monitor: Monitor) -> None:
    assert ask(index_monitor, "/sozialindex", Caller(user_id=999, chat_id=999)).status == "denied"


def test_export_csv_is_german_excel_and_keyed_by_district(index_monitor: Monitor) -> None:
    _deliver(index_monitor, "si.csv", _csv(_rows(V2016, 2016) + _rows(V2018, 2018)))
    index_monitor.store.add_delivery(file="gefaehrlich.csv", content_hash="x", office="Amt 12", received=NOW,
                                     rows=[("M33-alo", "=HYPERLINK(\"http://x\")", "2018", 1.0, "", 2)])
    reply = ask(index_monitor, "/sozialindex export csv")
    assert reply.ok and reply.attachments[0].filename.endswith(".csv")
    data = reply.attachments[0].data
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))
    header = rows[0]
    assert header[:4] == ["Gebiet", "Bezugsjahr", "Vergleichsjahr", "Statusindex"]
    assert "M33-alo 2018" in header and "M33-alo z Status" in header
    by_area = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert by_area["A"]["Statusindex"] == "-1,404167"
    assert by_area["A"]["M33-alo 2016"] == "3,5" and by_area["E"]["Status/Dynamik"] == "3 +"
    assert by_area["A"]["Statusgruppe"] == "1" and by_area["B"]["Dynamikklasse"] == "negativ"
    # A name that a spreadsheet would run as a formula stays text.
    assert "'=HYPERLINK(\"http://x\")" in by_area
    assert by_area["'=HYPERLINK(\"http://x\")"]["Bewertung"] == "nicht bewertbar"


def test_export_xlsx_holds_numbers_and_inert_text(index_monitor: Monitor) -> None:
    _deliver(index_monitor, "si.csv", _csv(_rows(V2016, 2016) + _rows(V2018, 2018)))
    index_monitor.store.add_delivery(file="x.csv", content_hash="x", office="Amt 12", received=NOW,
                                     rows=[("M33-alo", "=1+1", "2018", 1.0, "", 2)])
    reply = ask(index_monitor, "/sozialindex export")
    assert reply.attachments[0].filename.endswith(".xlsx")
    wb = load_workbook(io.BytesIO(reply.attachments[0].data))
    assert wb.sheetnames == ["Sozialindex", "Grundlagen"]
    ws = wb["Sozialindex"]
    header = [c.value for c in ws[1]]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=2)}
    e = rows["E"]
    assert e[header.index("Statusindex")].value == pytest.approx(2 * 49 / math.sqrt(8052), abs=1e-8)
    assert e[header.index("M33-transfer 2018")].value == 13
    formula = rows["=1+1"][0]
    assert formula.data_type == "s" and formula.quotePrefix
    basis = [[c for c in r] for r in wb["Grundlagen"].iter_rows(values_only=True)]
    assert any(r[0] == "M33-transfer" and r[3] == 10 and r[4] == 4 for r in basis)
    assert any(r[1] == "si.csv" for r in basis)  # the delivery it was computed from


def test_export_functions_agree(index_monitor: Monitor) -> None:
    _deliver(index_monitor, "si.csv", _csv(_rows(V2016, 2016) + _rows(V2018, 2018)))
    result = index_result(index_monitor.state)
    text = export_csv(index_monitor.state, result).decode("utf-8-sig")
    wb = load_workbook(io.BytesIO(export_xlsx(index_monitor.state, result)))
    assert len(text.strip().splitlines()) == wb["Sozialindex"].max_row == 6


def test_a_delivery_that_moves_a_district_is_a_notice_to_the_admins(index_monitor: Monitor) -> None:
    sent = []
    _deliver(index_monitor, "si.csv", _csv(_rows(V2016, 2016) + _rows(V2018, 2018)), sink=sent.append)
    notices = [o for o in sent if "Sozialindex" in o.reply.plain()]
    assert len(notices) == 1
    assert notices[0].recipients == ("@admins",)
    first = notices[0].reply.plain()
    assert "Sozialindex erstmals berechnet (2018, Dynamik seit 2016)" in first
    assert "B: Dynamik jetzt „negativ“ (vorher: nicht bewertet), Dynamikindex +1,03" in first
    assert index_monitor.store.meta(META_KEY)["current"]["year"] == 2018

    # A delivery of another indicator, and the same file again: no new computation, no notice.
    sent.clear()
    other = Indicator("M21-x", "M21", "X", "Anzahl", "jährlich", 60, "Amt 12")
    (index_monitor.settings.catalogue_file).write_text(render_catalogue(
        offices=[Office("Amt 12")], indicators=[*_indicators(), other], sozialindex=CONFIG, areas=()),
        encoding="utf-8")
    index_monitor.reload_catalogue()
    _deliver(index_monitor, "m21.csv", b"Massnahme;Indikator;Zeitraum;Wert\r\nM21;M21-x;2018;3\r\n",
             sink=sent.append)
    assert not [o for o in sent if "Sozialindex" in o.reply.plain()]

    worse = {k: (*v[:4], WORSE_E[k]) for k, v in V2018.items()}
    _deliver(index_monitor, "korrektur.csv", _csv(_rows(worse, 2018)), sink=sent.append)
    notice = next(o for o in sent if "Sozialindex" in o.reply.plain()).reply.plain()
    assert "Sozialindex neu berechnet (2018, Dynamik seit 2016):" in notice
    assert "E: Status jetzt „sehr niedrig“ (vorher: niedrig)" in notice
    assert "E: Dynamik jetzt „negativ“ (vorher: positiv)" in notice
    assert "B:" not in notice  # B left "negativ": no alarm for getting better
    history = index_monitor.store.meta(META_KEY)
    assert history["previous"]["districts"]["E"]["status"] == "niedrig"
    assert history["current"]["districts"]["E"]["status"] == "sehr niedrig"


def test_values_taken_back_after_a_paused_writer_recompute_the_index(index_monitor: Monitor, tmp_path: Path) -> None:
    """The correction turns out broken once its writer is done: its values are withdrawn, and the stored index
    follows them back instead of keeping a district in "sehr niedrig" that no held value puts there."""
    from watchers.followup import FollowUps
    from watchers.pipeline import REJECTED

    sent: list = []
    followups = FollowUps(tmp_path / "nachpruefen.jsonl")
    pipeline = Pipeline(index_monitor, sent.append, clock=lambda: NOW, followups=followups)
    for name, data in (("si.csv", _csv(_rows(V2016, 2016) + _rows(V2018, 2018))),
                       ("korrektur.csv", _csv(_rows({k: (*v[:4], WORSE_E[k]) for k, v in V2018.items()}, 2018)))):
        path = index_monitor.settings.inbox / name
        path.write_bytes(data)
        assert pipeline.process(path).status == IMPORTED
    assert index_monitor.store.meta(META_KEY)["current"]["districts"]["E"]["status"] == "sehr niedrig"
    (tracked,) = [e for e in followups.entries() if e.path.name.startswith("korrektur")]
    tracked.path.write_bytes(b"Das war nur ein halber Stand\r\n")  # its final content: no table at all
    result = pipeline.recheck(tracked)
    assert result is not None and result.status == REJECTED and result.withdrawn > 0
    assert index_monitor.store.meta(META_KEY)["current"]["districts"]["E"]["status"] == "niedrig"


def test_without_a_sink_the_stored_computation_stays_for_the_next_notice(index_monitor: Monitor) -> None:
    _deliver(index_monitor, "si.csv", _csv(_rows(V2016, 2016) + _rows(V2018, 2018)))  # e.g. `sozialmonitor ingest`
    assert index_monitor.store.meta(META_KEY) is None
    sent = []
    # A district that cannot be rated yet changes the inputs, not the classes of A–E.
    _deliver(index_monitor, "nachtrag.csv", _csv([("M33-alo", "2018", "G", "4,1")]), sink=sent.append)
    assert any("Sozialindex erstmals berechnet" in o.reply.plain() for o in sent)


def test_no_notice_before_a_year_has_every_indicator(index_monitor: Monitor) -> None:
    sent = []
    _deliver(index_monitor, "si.csv", _csv([("M33-alo", "2018", "A", "4")]), sink=sent.append)
    assert not [o for o in sent if "Sozialindex" in o.reply.plain()]  # no year with every indicator yet


# ---------------------------------------------------------------- the report
def test_report_section_table_matrix_and_charts(index_monitor: Monitor) -> None:
    _deliver(index_monitor, "si.csv", _csv(_rows(V2016, 2016) + _rows(V2018, 2018)))
    report = build_report(index_monitor.state, NOW.date(), charts=True)
    # The workbook and Markdown: every district, and the matrix as a table.
    table = report.section("sozialindex")
    assert table.formats == {"md", "xlsx"}
    assert [row[0] for row in table.table.rows] == ["E", "B", "D", "C", "A"]
    assert table.table.rows[0][1:6] == ("niedrig", 1.09, "positiv", -1.66, "3 +")
    assert any("Monitoring Soziale Stadtentwicklung" in p for p in table.before)
    matrix = report.section("sozialindex_matrix")
    assert matrix.formats == {"md", "xlsx"}
    assert [c.title for c in matrix.table.columns][1:] == ["positiv", "stabil", "negativ"]
    assert matrix.table.rows[1] == ("mittel", "", "D, C", "B")
    # The committee: E ("niedrig") and B ("negativ") only; A, C and D are counted, not listed.
    brief = report.section("sozialindex_brief")
    assert brief.formats == {"html", "pdf"}
    assert [row[0] for row in brief.table.rows] == ["E", "B"]
    assert brief.table.rows[0][1:3] == ("niedrig (+1,09)", "positiv (−1,66)")
    assert brief.table.rows[1][1:3] == ("mittel (−0,60)", "negativ (+1,03)")
    assert brief.table_intro.startswith("Aufmerksamkeit brauchen 2 Stadtteile")
    assert "Die übrigen 3 Stadtteile haben den Status „hoch“ (1) oder „mittel“ (2)" in brief.after[0]
    assert "Blatt „Sozialindex“" in brief.after[0] and "sozialindex\u00a0export" in brief.after[0]
    matrix_chart, multiples = brief.figures
    assert not matrix_chart.screen_only and multiples.screen_only
    assert matrix_chart.png.startswith(b"\x89PNG") and multiples.png.startswith(b"\x89PNG")
    assert matrix_chart.width_mm == pytest.approx(177.8, abs=0.2)  # drawn at the A4 text width, type at its size

    html_text = render(report, "html")[0].decode("utf-8")
    assert html_text.count('alt="Sozialindex 2018: Stadtteile nach Status und Dynamik (seit 2016)"') == 1
    assert html_text.count('alt="Index-Indikatoren je Stadtteil 2016–2018') == 1
    assert '<figure class="chart si screen-only"' in html_text
    assert "<h2>Sozialindex: Stadtteile nach Status und Dynamik</h2>" not in html_text  # the chart shows it
    paper = render_html(report, screen=False)  # what the PDF lays out
    assert 'alt="Index-Indikatoren je Stadtteil' not in paper and 'alt="Sozialindex 2018' in paper
    md = render(build_report(index_monitor.state, NOW.date(), charts=False), "md")[0].decode("utf-8")
    assert "## Sozialindex (Monitoring der sozialen Belastung)" in md and "| E " in md and "| A " in md
    assert "## Sozialindex: Stadtteile nach Status und Dynamik" in md
    wb = load_workbook(io.BytesIO(render(build_report(index_monitor.state, NOW.date(), charts=False), "xlsx")[0]))
    assert "Sozialindex" in wb.sheetnames and "Sozialindex-Matrix" in wb.sheetnames
    assert [r[0] for r in wb["Sozialindex"].iter_rows(min_row=2, max_col=1, values_only=True)] == list("EBDCA")


def _attention_rule(d) -> bool:
    """The brief's rule, written out here on its own: status niedrig/sehr niedrig or dynamics negativ."""
    return d.status_class in ("niedrig", "sehr niedrig") or d.dynamics_class == "negativ"


def test_the_committee_reads_exactly_the_attention_districts_and_the_workbook_keeps_all(
        demo_monitor: Monitor) -> None:
    state = demo_monitor.state
    result = index_result(state)
    expected = [d.area for d in result.districts if _attention_rule(d) or not d.rated or d.dynamics_class is None]
    others = [d.area for d in result.districts if d.area not in expected]
    assert len(expected) >= 3 and len(others) >= 3 and any(not d.rated for d in result.districts)
    moment = datetime(2026, 11, 25, 10, 0, tzinfo=BERLIN)
    report = build_report(state, moment)

    brief = report.section("sozialindex_brief")
    assert [row[0] for row in brief.table.rows] == expected
    html_text = render_html(report)
    section = html_text[html_text.index('<section id="sozialindex"'):]
    section = section[: section.index("</section>")]
    tbody = section[section.index("<tbody>"): section.index("</tbody>")]
    assert re.findall(r"<tr><td>([^<]*)</td>", tbody) == expected
    unrated = next(d for d in result.districts if not d.rated)
    assert unrated_reason(state, result, unrated) in html.unescape(tbody)
    assert f"Die übrigen {len(others)} Stadtteile" in section

    # The first page names the districts in "sehr niedrig" and those with "negativ" dynamics.
    item = next(a for a in report.summary.attention if a.startswith(f"Sozialindex {result.year}:"))
    urgent = [d.area for d in result.rated if d.status_class == "sehr niedrig" or d.dynamics_class == "negativ"]
    assert urgent and all(name in item for name in urgent)

    # The workbook and Markdown keep every district.
    data = render(build_report(state, moment, charts=False), "xlsx")[0]
    sheet = load_workbook(io.BytesIO(data))["Sozialindex"]
    assert [r[0] for r in sheet.iter_rows(min_row=2, max_col=1, values_only=True)] == [
        d.area for d in result.districts]
    assert len(result.districts) == 30
    md = render(build_report(state, moment, charts=False), "md")[0].decode("utf-8")
    block = md[md.index("## Sozialindex (Monitoring"): md.index("## Sozialindex: Stadtteile")]
    assert all(f"| {d.area} " in block for d in result.districts)


def test_the_first_page_gives_a_number_where_names_would_not_fit_two_lines(state) -> None:
    from commands.report_sozialindex import _attention

    def district(area: str, status: str, dynamics: str) -> DistrictScore:
        return DistrictScore(area, (), 1.0, 1.0, status, dynamics)

    few = IndexResult(CONFIG, 2025, 2023, (district("Lay", "sehr niedrig", "negativ"),
                                           district("Mitte", "mittel", "negativ"),
                                           district("Süd", "hoch", "stabil")))
    assert _attention(state, few) == (
        "Sozialindex 2025: Status „sehr niedrig“ in Lay; Dynamik „negativ“ (stärker verschlechtert als die übrigen "
        "Stadtteile) in Lay und Mitte (siehe „Sozialindex“).")
    many = IndexResult(CONFIG, 2025, 2023, (
        district("A", "sehr niedrig", "stabil"), district("B", "sehr niedrig", "stabil"),
        *(district(f"N{k}", "mittel", "negativ") for k in range(7))))
    text = _attention(state, many)
    assert "Status „sehr niedrig“ in A und B" in text and "in 7 Stadtteilen" in text and "N1" not in text
    calm = IndexResult(CONFIG, 2025, 2023, (district("Süd", "hoch", "stabil"),))
    assert _attention(state, calm) == ""


def test_report_without_sozialindex_has_no_such_section(state) -> None:
    report = build_report(state, NOW.date(), charts=False)
    assert not [s for s in report.sections if s.key.startswith("sozialindex")]


def test_chart_colours_are_colour_blind_safe() -> None:
    def luminance(hex_colour: str) -> float:
        rgb = [int(hex_colour[k:k + 2], 16) / 255 for k in (1, 3, 5)]
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    # A sequential palette must get darker at every step: lightness is what every colour vision sees.
    shades = [luminance(c) for c in CELL_COLOURS]
    assert shades == sorted(shades, reverse=True) and len(set(shades)) == len(shades)
    assert LINE_COLOURS[:4] == ("#0072B2", "#D55E00", "#009E73", "#CC79A7")  # Okabe–Ito


# ---------------------------------------------------------------- the demo
def test_demo_shows_a_real_index_with_history(demo_monitor: Monitor) -> None:
    text = ask(demo_monitor, "/sozialindex").plain()
    assert "Sozialindex 2025 · Dynamik seit 2023" in text
    assert "29 von 30 Stadtteilen bewertet" in text
    assert "Beispiel_M33_Sozialindex_2021-2024.csv, Beispiel_M33_Sozialindex_2025.csv" in text
    assert "Stolzenfels: Beispiel: Kinderarmut" in text and "Fallzahl zu klein" in text
    history = demo_monitor.store.meta(META_KEY)
    assert history["current"]["year"] == 2025 and history["previous"]["year"] == 2024
    assert "Seit der letzten Berechnung (Bezugsjahr 2024" in ask(demo_monitor, "/sozialindex Lützel").plain()
    catalogue_text = demo_monitor.settings.catalogue_file.read_text(encoding="utf-8")
    assert "\n[sozialindex]\n" in catalogue_text


@pytest.mark.slow
def test_running_monitor_tells_the_admins_when_a_district_moves(demo_workspace: Path, tmp_path: Path) -> None:
    """The real `sozialmonitor run --console`: a corrected delivery drops Lay into "sehr niedrig"; the notice
    is printed like every notice for the admins."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOZIALMONITOR_")}
    env["PYTHONUNBUFFERED"] = "1"
    out_path = tmp_path / "stdout.txt"
    with open(out_path, "wb") as out, open(tmp_path / "stderr.txt", "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "bot", "--workspace", str(demo_workspace), "run", "--console"],
                                cwd=ROOT, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    try:
        _wait_for(proc, out_path, "Konsolen-Chat")
        rows = [f"M33;{ind};2025;Lay;{value};%;Amt 12;Korrektur" for ind, value in (
            ("M33-sgb2", "30,0"), ("M33-arbeitslose", "20,0"), ("M33-langzeitarbeitslose", "9,0"),
            ("M33-kinderarmut", "60,0"))]
        (demo_workspace / "ablage" / "eingang" / "Lay_Korrektur_2025.csv").write_bytes(
            ("Maßnahme;Indikator;Zeitraum;Gebiet;Wert;Einheit;Amt;Bemerkung\r\n" + "\r\n".join(rows) + "\r\n")
            .encode("cp1252"))
        _wait_for(proc, out_path, "Lay: Status jetzt „sehr niedrig“")
        assert "Sozialindex neu berechnet (2025, Dynamik seit 2023)" in out_path.read_text(encoding="utf-8")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    assert "Traceback" not in (tmp_path / "stderr.txt").read_text(encoding="utf-8")


def _wait_for(proc: subprocess.Popen, path: Path, needle: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while needle not in path.read_text(encoding="utf-8", errors="replace"):
        assert proc.poll() is None, path.read_text(encoding="utf-8", errors="replace")
        assert time.monotonic() < deadline, f"{needle!r} not printed:\n{path.read_text(encoding='utf-8')}"
        time.sleep(0.05)
