"""/verlauf: every period's value with source file, office and day received, and the values it replaced; and the
one indicator lookup that /trend, /indikatoren and /verlauf share."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.workspace import Monitor
from commands import Caller, dispatch
from commands.lookup import find_indicator, find_person
from watchers.pipeline import IMPORTED, Pipeline

from .conftest import at

NOW = at("2026-11-30 10:00")
OPERATOR = Caller(operator=True)


def csv(path: Path, rows: list[str]) -> Path:
    path.write_bytes(("Maßnahme;Indikator;Zeitraum;Gebiet;Wert;Amt\r\n" + "\r\n".join(rows) + "\r\n").encode("cp1252"))
    return path


def ingest(monitor: Monitor, path: Path) -> None:
    assert Pipeline(monitor, sink=None).process(path, keep_original=True).status == IMPORTED


@pytest.fixture
def delivered(demo_monitor: Monitor, tmp_path: Path) -> Monitor:
    """The demo's deliveries, then a correction of two values by a second file."""
    ingest(demo_monitor, csv(tmp_path / "M21_Korrektur_2024.csv", [
        "M21;M21-wohnungen;2024;;460;Amt 61",
        "M21;M21-wohnungen;2025;;501;Amt 61",  # unchanged: a value delivered again
        "M21;M21-sozialwohnungen;2024;;58;Amt 61",
    ]))
    ingest(demo_monitor, csv(tmp_path / "M33_Luetzel_2025.csv", ["M33;M33-sgb2-quote;2025;Lützel;12,6;Amt 12"]))
    return demo_monitor


def ask(monitor: Monitor, text: str):
    return dispatch(monitor.state, text, OPERATOR, NOW)


def test_verlauf_shows_file_office_received_and_what_was_replaced(delivered: Monitor) -> None:
    reply = ask(delivered, "/verlauf M21 wohnungen")
    assert reply.ok, reply.plain()
    text = reply.plain()
    assert text.startswith("Verlauf: Beispiel: Fertiggestellte Wohnungen (M21-wohnungen) · M 21 · Anzahl")
    lines = text.splitlines()
    current = next(k for k, line in enumerate(lines) if line.startswith("• 2024:"))
    assert "460 Anzahl – M21_Korrektur_2024.csv, Amt 61, eingegangen am" in lines[current]
    replaced = lines[current + 1].strip()
    assert replaced.startswith("ersetzte 455 Anzahl („Beispielwert“) – Beispiel_M21_Wohnen_2022-2025.csv")
    assert "• 2022: 412 Anzahl" in text and "(Zeile 2)" in lines[current]
    assert "2 frühere Werte wurden ersetzt" in text  # 2024 replaced, and 2025 delivered again


def test_verlauf_of_one_area_by_any_spelling(delivered: Monitor) -> None:
    for spelling in ("Lützel", "luetzel", "Koblenz-Lützel", "lütz"):
        text = ask(delivered, f"/verlauf M33 quote {spelling}").plain()
        assert "Gebiet: Lützel" in text and "Gebiet: Mitte" not in text, spelling
        assert "12,6 % – M33_Luetzel_2025.csv, Amt 12" in text and "ersetzte 12,4 %" in text
    all_areas = ask(delivered, "/history M33 quote").plain()
    assert "Gebiet: Mitte" in all_areas and "Gebiet: Lützel" in all_areas
    unknown = ask(delivered, "/verlauf M33 quote Atlantis")
    assert unknown.status == "usage" and "keine Werte im Gebiet „Atlantis“" in unknown.plain()
    assert "Lützel" in unknown.plain()


def test_verlauf_refusals_name_the_candidates(delivered: Monitor) -> None:
    ambiguous = ask(delivered, "/verlauf M21 neu")
    assert ambiguous.status == "usage" and "passt zu mehreren Indikatoren" in ambiguous.plain()
    assert "M21-bauland" in ambiguous.plain() and "M21-sozialwohnungen" in ambiguous.plain()
    unknown = ask(delivered, "/verlauf M21 Kita")
    assert unknown.status == "usage" and "gibt es bei M 21 nicht" in unknown.plain()
    missing = ask(delivered, "/verlauf M21")
    assert missing.status == "usage" and "M21-wohnungen" in missing.plain()
    nothing = ask(delivered, "/verlauf M42 barrierefrei")
    assert nothing.ok and "noch kein Wert geliefert" in nothing.plain()
    none = ask(delivered, "/verlauf M12 x")
    assert none.status == "usage" and "keine Indikatoren" in none.plain()


def test_an_unknown_area_among_many_names_the_closest_and_how_many_there_are(delivered: Monitor) -> None:
    areas = [a for a in delivered.store.areas("M33-sgb2") if a]
    assert len(areas) > 12  # the demo's 30 Stadtteile
    for said in ("/verlauf M33 M33-sgb2 Lützell-Nord", "/trend M33 M33-sgb2 Lützell-Nord"):
        reply = ask(delivered, said).plain()
        named = [a for a in areas if a in reply]
        assert "Lützel" in named and len(named) <= 5, reply
        assert f"({len(areas)} insgesamt)" in reply
    few = ask(delivered, "/verlauf M21 M21-wohnungen Lützel").plain()  # whole city only: said as it is
    assert "Gesamtstadt" in few and "insgesamt" not in few


def test_trend_and_indikatoren_find_indicators_the_same_way(delivered: Monitor) -> None:
    trend = ask(delivered, "/trend M21 wohnungen")
    assert trend.ok and "Fertiggestellte Wohnungen" in trend.plain() and trend.attachments
    ambiguous = ask(delivered, "/trend M21 neu")
    assert ambiguous.status == "usage" and "M21-bauland" in ambiguous.plain()
    one = ask(delivered, "/indikatoren M21 sozialw").plain()
    assert "Sozialwohnungen" in one and "Bauland" not in one
    assert ask(delivered, "/indikatoren M21 Kita").status == "usage"


def test_indicator_lookup_rules(demo_monitor: Monitor) -> None:
    catalogue = demo_monitor.catalogue

    def found(text: str) -> str | None:
        match = find_indicator(catalogue, "M21", text)
        return match.found.id if match.found else None

    assert found("M21-wohnungen") == "M21-wohnungen"  # id
    assert found("beispiel: neu gebaute sozialwohnungen") == "M21-sozialwohnungen"  # name
    assert found("Wohnungen") == "M21-wohnungen"  # a whole word before a part of a word
    assert found("sozialwohn") == "M21-sozialwohnungen"  # the start of a word
    assert found("ausgewiesen") == "M21-bauland"
    assert found("gebaute sozial") == "M21-sozialwohnungen"
    assert found("neu") is None and len(find_indicator(catalogue, "M21", "neu").candidates) == 2
    assert found("xyz") is None and find_indicator(catalogue, "M21", "xyz").candidates == ()
    assert find_indicator(catalogue, "M22", "wohnungen").found is None  # only within the measure


def test_person_lookup_rules() -> None:
    names = ["Beispiel: Erika Muster", "Beispiel: Max Mustermann", "Jörg Schäfer", "Anna Berg", "Anna Bergmann"]
    assert find_person(names, "Erika").found == "Beispiel: Erika Muster"
    assert find_person(names, "beispiel: max").found == "Beispiel: Max Mustermann"
    assert find_person(names, "Muster").found == "Beispiel: Erika Muster"  # a whole word wins
    assert find_person(names, "Must").ambiguous
    assert find_person(names, "joerg").found == "Jörg Schäfer"
    assert find_person(names, "Anna Berg").found == "Anna Berg"  # exact before prefix
    assert find_person(names, "Anna").ambiguous
    assert find_person(names, "Otto").found is None and not find_person(names, "Otto").candidates
