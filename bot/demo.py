"""Example offices, persons, indicators and deliveries for the demo workspace, all marked „Beispiel“."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from storage.models import ADMIN, MEMBER, Indicator, Measure, Office, Person
from storage.seed import FIELDS, MEASURES

from . import demo_sozialindex

__all__ = ["INDICATORS", "OFFICES", "PERSONS", "SIGNATURES", "SOZIALINDEX", "measures", "participants",
           "write_example_files"]

OFFICES = [
    Office("Amt 50", "Beispiel: Amt für Jugend, Familie, Senioren und Soziales (Fachstelle Sozialplanung)"),
    Office("Amt 61", "Beispiel: Amt für Stadtentwicklung und Bauordnung"),
    Office("Amt 40", "Beispiel: Schulverwaltungsamt"),
    Office("Amt 51", "Beispiel: Jugendamt, Kindertagesstätten"),
    Office("Amt 10", "Beispiel: Hauptamt, Internetredaktion"),
    Office("Amt 12", "Beispiel: Kommunalstatistik"),
    Office("Pflegekonferenz", "Beispiel: Regionale Pflegekonferenz"),
    Office("Studierendenwerk", "Beispiel: Studierendenwerk (außerhalb der Verwaltung)"),
]

_IND = [
    ("M11-auszubildende", "M11", "Beispiel: Auszubildende in Pflegeberufen", "Anzahl", "jährlich", "Pflegekonferenz"),
    ("M14-einrichtungen-kita", "M14", "Beispiel: Pflegeeinrichtungen mit Kinderbetreuung", "Anzahl", "jährlich",
     "Amt 50"),
    ("M21-bauland", "M21", "Beispiel: Neu ausgewiesenes Bauland", "ha", "jährlich", "Amt 61"),
    ("M21-wohnungen", "M21", "Beispiel: Fertiggestellte Wohnungen", "Anzahl", "jährlich", "Amt 61"),
    ("M21-sozialwohnungen", "M21", "Beispiel: Neu gebaute Sozialwohnungen", "Anzahl", "jährlich", "Amt 61"),
    ("M22-wohnen-fuer-hilfe", "M22", "Beispiel: Vermittlungen Wohnen für Hilfe", "Anzahl", "halbjährlich", "Amt 50"),
    ("M22-mehrgenerationen", "M22", "Beispiel: Mehrgenerationen-Wohnprojekte", "Anzahl", "halbjährlich", "Amt 50"),
    ("M23-wohnheimplaetze", "M23", "Beispiel: Wohnheimplätze für Studierende", "Anzahl", "jährlich",
     "Studierendenwerk"),
    ("M24-flaechen-auflagen", "M24", "Beispiel: Verkaufte öffentliche Flächen mit Auflagen", "Anzahl", "jährlich",
     "Amt 61"),
    ("M24-anteil-gefoerdert", "M24", "Beispiel: Anteil geförderter Wohnungen auf diesen Flächen", "%", "jährlich",
     "Amt 61"),
    ("M31-u3-plaetze", "M31", "Beispiel: U3-Betreuungsplätze nahe Integrations- und Sprachkursen", "Anzahl",
     "vierteljährlich", "Amt 51"),
    ("M32-beteiligung", "M32", "Beispiel: Beteiligungsformate und Bewohnerprojekte in Programmgebieten", "Anzahl",
     "halbjährlich", "Amt 61"),
    ("M33-sgb2-quote", "M33", "Beispiel: SGB-II-Quote", "%", "jährlich", "Amt 12"),
    ("M33-migrationshintergrund", "M33", "Beispiel: Anteil mit Migrationshintergrund", "%", "jährlich", "Amt 12"),
    ("M41-ganztag-standards", "M41", "Beispiel: Ganztagsangebote nach gemeinsamen Qualitätsstandards", "%",
     "jährlich", "Amt 40"),
    ("M42-barrierefrei", "M42", "Beispiel: Barrierefreie Schulen und Kitas", "%", "jährlich", "Amt 40"),
    ("M43-leichte-sprache", "M43", "Beispiel: Formulare und Seiten in leichter Sprache", "Anzahl", "vierteljährlich",
     "Amt 10"),
]
INDICATORS = [Indicator(i, m, n, u, f, 60, o) for i, m, n, u, f, o in _IND]
INDICATORS += demo_sozialindex.INDICATORS  # social index example (bot/demo_sozialindex.py)
SOZIALINDEX = demo_sozialindex.CONFIG  # the demo catalogue's active [sozialindex]

PERSONS = [
    Person("Beispiel: Fachstelle Sozialplanung", "Amt 50", 100000001, ADMIN,
           tuple(sorted({i.measure for i in INDICATORS} | {"M12", "M13"}))),
    Person("Beispiel: Erika Muster", "Amt 61", 100000002, MEMBER, ("M21", "M24", "M32")),
    Person("Beispiel: Max Mustermann", "Amt 50", 100000003, MEMBER, ("M14", "M22", "M31")),
    Person("Beispiel: Paula Probe", "Amt 40", None, MEMBER, ("M41", "M42")),
    Person("Beispiel: Jonas Test", "Amt 12", 100000005, MEMBER, ("M33",)),
]

_FS, _ERIKA, _MAX, _PAULA = (p.name for p in PERSONS[:4])

# The status document of 21.09.2018: every meeting's protocol went to all its participants for signature on the
# meeting day. Which signatures had come back by then is invented for the demo (chat, or a sheet on paper);
# every other one is missing, so the demo shows the sign-off at work.
SIGNATURES: dict[str, list[tuple[str, date, str]]] = {
    "M14": [(_FS, date(2018, 7, 2), "chat"), (_MAX, date(2018, 7, 4), "papier")],
    "M31": [(_FS, date(2018, 7, 2), "chat"), (_MAX, date(2018, 7, 5), "chat")],
    "M32": [(_FS, date(2018, 8, 29), "chat"), (_ERIKA, date(2018, 9, 3), "chat")],
    "M41": [(_FS, date(2018, 9, 3), "chat"), (_PAULA, date(2018, 9, 10), "papier")],
    "M42": [(_FS, date(2018, 9, 3), "chat")],
    "M33": [(_FS, date(2018, 9, 7), "chat")],
    "M21": [(_FS, date(2018, 9, 21), "chat")],
    "M23": [(_FS, date(2018, 9, 21), "chat")],
}


def participants(measure: str) -> list[str]:
    return [p.name for p in PERSONS if measure in p.measures]

def measures() -> list[Measure]:
    """The 14 measures, with the example offices that deliver their indicators as lead offices."""
    out = []
    for mid, (title, hint) in MEASURES.items():
        lead = tuple(sorted({i.office for i in INDICATORS if i.measure == mid})) or ("Amt 50",)
        out.append(Measure(mid, FIELDS[mid[1]], title, lead_offices=lead, hint=hint))
    return out


_AREAS = ["Altstadt", "Mitte", "Süd", "Goldgrube", "Lützel", "Metternich", "Karthause-Nord"]


def _csv(rows: Sequence[tuple[str, ...]]) -> bytes:
    # Written the way Excel saves "CSV (Trennzeichen-getrennt)": ; and decimal comma, Windows-1252.
    lines = ["Maßnahme;Indikator;Zeitraum;Gebiet;Wert;Einheit;Amt;Bemerkung"]
    lines += [";".join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def write_example_files(inbox: Path) -> list[Path]:
    """Example deliveries dropped into the inbox; the monitor imports them on start."""
    files = {
        "Beispiel_M21_Wohnen_2022-2025.csv": _csv(
            [("M21", "M21-bauland", str(y), "", f"{v:.1f}".replace(".", ","), "ha", "Amt 61", "Beispielwert")
             for y, v in zip(range(2022, 2026), (4.2, 6.8, 3.1, 7.5), strict=True)]
            + [("M21", "M21-wohnungen", str(y), "", str(v), "Anzahl", "Amt 61", "Beispielwert")
               for y, v in zip(range(2022, 2026), (412, 388, 455, 501), strict=True)]
            + [("M21", "M21-sozialwohnungen", str(y), "", str(v), "Anzahl", "Amt 61", "Beispielwert")
               for y, v in zip(range(2022, 2026), (38, 41, 57, 64), strict=True)]),
        "Beispiel_M33_Stadtteile_2023-2025.csv": _csv(
            [("M33", "M33-sgb2-quote", str(y), area, f"{5 + k * 1.7 + (y - 2023) * 0.3:.1f}".replace(".", ","), "%",
              "Amt 12", "Beispielwert") for k, area in enumerate(_AREAS) for y in range(2023, 2026)]),
        "Beispiel_M31_U3_Quartale.csv": _csv(
            [("M31", "M31-u3-plaetze", f"{y}-Q{q}", "", str(20 + 3 * n), "Anzahl", "Amt 51", "Beispielwert")
             for n, (y, q) in enumerate((y, q) for y in (2025, 2026) for q in (1, 2, 3, 4)) if (y, q) <= (2026, 2)]),
    }
    files.update(demo_sozialindex.example_files())  # social index example (bot/demo_sozialindex.py)
    inbox.mkdir(parents=True, exist_ok=True)
    out = []
    for name, data in files.items():
        target = inbox / name
        target.write_bytes(data)
        out.append(target)
    return out
