"""/indikatoren and /lieferungen on the demo workspace, and `sozialmonitor ingest` / `init --demo` end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.workspace import Monitor
from commands import Caller, dispatch
from tests.conftest import at, run_cli
from tests.test_pipeline import office_csv

NOW = at("2026-11-25 10:00")


def ask(monitor: Monitor, text: str, lang: str | None = None) -> str:
    state = monitor.state if lang is None else monitor.state.for_language(lang)
    reply = dispatch(state, text, Caller(operator=True), NOW)
    assert reply.status == "ok", reply.plain()
    return reply.plain()


def test_indicators_of_a_measure(demo_monitor: Monitor) -> None:
    text = ask(demo_monitor, "/indikatoren M 21")
    assert text.startswith("Indikatoren von M 21:")
    assert "Beispiel: Neu gebaute Sozialwohnungen (M21-sozialwohnungen)" in text
    assert "Anzahl · jährlich · liefert: Amt 61" in text
    assert "letzter Wert: 64 Anzahl (2025)" in text
    assert "nächste Lieferung: 2026, fällig am 01.03.2027" in text
    m24 = ask(demo_monitor, "/indikatoren 24")
    assert "noch kein Wert geliefert" in m24 and "überfällig: 2025, fällig seit 01.03.2026" in m24
    m33 = ask(demo_monitor, "/indikatoren m33")
    assert "letzter Wert: 5,6 – 15,8 % (2025, 7 Gebiete)" in m33  # area values: their range, not one district
    assert ask(demo_monitor, "/indicators M21") == text


def test_indicators_english_and_usage(demo_monitor: Monitor) -> None:
    text = ask(demo_monitor, "/indicators M31", lang="en")
    assert "Indicators of M 31:" in text and "next delivery: Q3 2026, due on 2026-11-29" in text
    reply = dispatch(demo_monitor.state, "/indikatoren", Caller(operator=True), NOW)
    assert reply.status == "usage" and "Bitte eine Maßnahme angeben" in reply.plain()
    reply = dispatch(demo_monitor.state, "/indikatoren M99", Caller(operator=True), NOW)
    assert reply.status == "usage" and "M99" in reply.plain()
    assert "noch keine Indikatoren" in ask(demo_monitor, "/indikatoren M12")


def test_deliveries_overdue_first(demo_monitor: Monitor) -> None:
    text = ask(demo_monitor, "/lieferungen")
    assert text.startswith("Lieferungen am 25.11.2026:\nÜberfällig:")
    assert "Amt 40 · 2025: 0 von 2 geliefert" in text
    assert "fehlt: Beispiel: Barrierefreie Schulen und Kitas (M42), fällig seit 01.03.2026" in text
    assert "Amt 61 · 2025: 3 von 5 geliefert" in text
    assert text.index("Überfällig:") < text.index("Vollständig geliefert:")
    assert "Amt 51 · 2. Quartal 2026: 1 von 1 geliefert" in text
    assert ask(demo_monitor, "/deliveries") == text
    m31 = ask(demo_monitor, "/lieferungen M31")
    assert "Keine Lieferung ist überfällig." in m31 and "Amt 40" not in m31
    assert "Deliveries on 2026-11-25:" in ask(demo_monitor, "/deliveries", lang="en")


def test_status_counts_overdue_deliveries(demo_monitor: Monitor) -> None:
    text = ask(demo_monitor, "/status")
    m24 = next(line for line in text.splitlines() if line.startswith("M 24"))
    assert "2 überfällig" in m24
    detail = ask(demo_monitor, "/status M24")
    assert "Überfällige Lieferungen:" in detail and "fällig seit 01.03.2026 (Amt 61)" in detail


def test_delivered_value_clears_the_overdue_entry(demo_monitor: Monitor) -> None:
    state = demo_monitor.state
    state.store.add_delivery(file="m24.csv", content_hash="m24", office="Amt 61", received=NOW,
                             rows=[("M24-flaechen-auflagen", "", "2025", 3.0, "", 2)])
    assert "Amt 61 · 2025: 4 von 5 geliefert" in ask(demo_monitor, "/lieferungen")


@pytest.mark.slow
def test_init_demo_imports_the_examples_and_ingest_cli(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    assert run_cli("init", str(ws), "--demo").returncode == 0
    assert not [p for p in (ws / "ablage" / "eingang").iterdir()]
    assert len(list((ws / "ablage" / "verarbeitet").rglob("*.csv"))) == 5  # 3 examples + 2 social-index deliveries
    status = run_cli("ask", "--workspace", str(ws), "/status M21")
    assert status.returncode == 0 and "Beispiel: Neu gebaute Sozialwohnungen: 64 Anzahl (2025)" in status.stdout

    good = tmp_path / "M21_2021.csv"  # an ended year before the examples (the real clock judges it)
    good.write_bytes(office_csv([["M21", "M21-sozialwohnungen", "2021", "", "70", "Anzahl", "Amt 61", ""]]))
    bad = tmp_path / "M21_kaputt.csv"
    bad.write_bytes(office_csv([["M21", "Sozialwohnugen", "2026", "", "70", "", "", ""]]))
    result = run_cli("ingest", "--workspace", str(ws), str(good))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{good}: importiert (1 Werte; 1 neu, 0 ersetzt, 0 unverändert)"
    assert good.exists()  # the original stays
    again = run_cli("ingest", "--workspace", str(ws), str(good), str(bad), str(tmp_path / "fehlt.csv"))
    assert again.returncode == 1
    lines = again.stdout.splitlines()
    assert lines[0].startswith(f"{good}: schon vorhanden")
    assert lines[1].startswith(f"{bad}: abgelehnt, 1 Problem(e), siehe ")
    assert "Sozialwohnugen" in lines[2]
    assert lines[-1] == f"{tmp_path / 'fehlt.csv'}: die Datei gibt es nicht"
    assert (ws / "ablage" / "abgelehnt" / "M21_kaputt.csv.fehler.txt").exists() and bad.exists()
    assert "Traceback" not in again.stderr


def test_english_indicator_list_names_the_frequency_in_english(demo_monitor: Monitor) -> None:
    text = ask(demo_monitor, "/indicators M33", lang="en")
    assert "yearly" in text and "jährlich" not in text


def test_indicators_are_answered_from_the_coverage_alike_with_rows_read_or_not(demo_workspace) -> None:
    def answers(monitor: Monitor) -> list[str]:
        return [dispatch(monitor.state, f"/indikatoren {m}", Caller(operator=True), NOW).plain()
                for m in monitor.catalogue.measures]

    monitor = Monitor.open(demo_workspace, env={})
    try:
        lazy = answers(monitor)
        assert "_current" not in vars(monitor.store), "/indikatoren read the rows"
        monitor.store.observations("M21-bauland")  # every row in memory now
        assert answers(monitor) == lazy
    finally:
        monitor.close()
    assert any("–" in a and "Gebiete" in a for a in lazy)  # an indicator with area values only shows its range
