"""The 14 measures, 12 meetings and open steps of the status document of 21 September 2018."""

from __future__ import annotations

from datetime import date

__all__ = ["DOCUMENT_DATE", "FIELDS", "MEASURES", "MEETINGS", "STADTTEILE", "STEPS", "UNSCHEDULED", "WHOLE_CITY_AREA"]

DOCUMENT_DATE = date(2018, 9, 21)

# First digit of a measure id names its field.
FIELDS = {"1": "Pflege", "2": "Wohnen", "3": "Soziale Lage", "4": "Bildung"}

# id -> (title word for word from the document, hint). M 12 and M 13 have no title in the document.
MEASURES: dict[str, tuple[str, str]] = {
    "M11": (
        "Im Rahmen einer gemeinsamen Imagekampagne der Akteure der Regionalen Pflegekonferenz wird aktiv "
        "für Pflegeberufe geworben.",
        "",
    ),
    # That their meetings are still being scheduled is data (an unscheduled meeting in the store), not a hint.
    "M12": ("", ""),
    "M13": ("", ""),
    "M14": ("Es werden Modelle zur Kindertagesbetreuung bzw. Betriebskitas in Pflegeeinrichtungen eingerichtet.", ""),
    "M21": (
        "Zur Schaffung zusätzlichen Wohnraums weist die Stadt, soweit dies ökologisch vertretbar ist, "
        "zusätzliche Baugebiete aus. Sie entwickelt militärische und/oder zivile Konversionsflächen zur "
        "Schaffung zusätzlichen Wohnraums. Die Koblenzer Wohnbau baut zusätzlich bezahlbare Wohnungen sowie "
        "sogenannte Sozialwohnungen.",
        "",
    ),
    "M22": ("Die Stadt Koblenz fördert neue Wohnformen (Bsp.: Wohnen für Hilfe, Mehrgenerationenwohnen).", ""),
    "M23": (
        "Innerhalb der Stadt Koblenz wird mehr Wohnraum für Studierende geschaffen.",
        "Zuständigkeit der Umsetzung liegt beim Land",
    ),
    "M24": (
        "Die Stadt belegt öffentliche Flächen mit Auflagen für Investoren. Die Auflagen befassen sich mit den "
        "Schwerpunkten: barrierearme Wohnungen, günstiger Wohnraum, kleine Wohnungen und Berücksichtigung "
        "neuer Wohnformen in den Planungen.",
        "z.B. 20% Quote sozialer Wohnungsbau bei Areal Fritsch-Kaserne",
    ),
    "M31": (
        "Bei Maßnahmen zur Integration in den Arbeitsmarkt und Sprachförderkursen für Eltern soll es "
        "bedarfsgerechte Angebote zur Betreuung von Kleinkindern unter 3 Jahren in unmittelbarer Nähe geben.",
        "",
    ),
    "M32": (
        "Beim Einsatz von Stadtteil-Entwicklungsprogrammen (Soziale Stadt, Aktive Innenstadt, Stadtgrün o.ä.) "
        "werden die BewohnerInnen in geeigneten Formen einbezogen und erhalten die Möglichkeit, eigene "
        "Projektvorschläge umzusetzen.",
        "",
    ),
    "M33": (
        "Als Folge einer auf Inklusion angelegten Wohnungs- und Sozialpolitik ergibt sich eine höhere soziale "
        "Mischung von Wohngebieten sowie von Personen mit und ohne Migrationshintergrund.",
        "",
    ),
    "M41": (
        "Es gibt unter den Anbietern in Koblenz ein gemeinsames Verständnis von Qualitätsstandards in der "
        "Ganztagsbetreuung in Schule und Kitas.",
        "",
    ),
    "M42": (
        "Im Bildungsbereich werden sowohl was die Strukturqualität - z.B. Ausgestaltung der Räumlichkeiten in "
        "Bezug auf Barrierefreiheit - als auch allgemeine Standards unter dem Aspekt der Inklusion entwickelt "
        "(in Schulen und Kitas).",
        "",
    ),
    "M43": (
        "Verschiedene Angebote werden in leichter Sprache zur Verfügung gestellt. Dies betrifft unter Anderem "
        "Formulare oder aber auch die Internetseite der Stadtverwaltung.",
        "",
    ),
}

# The meetings table in the document's own order (meeting date, then as listed).
MEETINGS: list[tuple[str, date, str]] = [
    ("M14", date(2018, 6, 28), "Befragung"),
    ("M31", date(2018, 6, 28), "Bestandsanalyse"),
    ("M32", date(2018, 8, 27), "Monitoring"),
    ("M41", date(2018, 8, 30), "Bestandsanalyse"),
    ("M42", date(2018, 8, 30), "Bestandsanalyse"),
    ("M33", date(2018, 9, 5), "Anpassung Monitoring der sozialen Belastung"),
    ("M11", date(2018, 9, 20), "Einbringung in Pflegekonferenz"),
    ("M43", date(2018, 9, 20), "Prüfung der Möglichkeiten nach Start des neuen Internetauftritts"),
    ("M21", date(2018, 9, 20), "Übersicht zum Sozialwohnungsbau und neu ausgewiesenen Bauflächen"),
    ("M22", date(2018, 9, 20), "Öffentlichkeitsarbeit und Lotsenfunktion"),
    ("M23", date(2018, 9, 20), "Bestandsanalyse"),
    (
        "M24",
        date(2018, 9, 20),
        "Beachtung der Auflagen bei geeigneten Flächen und in geeigneter Weise, so z.B. 20% Quote sozialer "
        "Wohnungsbau bei Areal Fritsch-Kaserne",
    ),
]

UNSCHEDULED = ("M12", "M13")

# Outstanding steps the document names ("Kursiv: die noch ausstehenden Schritte"); "" = all measures.
STEPS: list[tuple[str, str]] = [
    ("M12", "Gespräch zu M 12 terminieren"),
    ("M13", "Gespräch zu M 13 terminieren"),
    *[(m, "Indikatoren der Maßnahme konkretisieren (welche Daten nötig sind, um die Entwicklung zu beobachten)")
      for m in MEASURES],
    ("M43", "Möglichkeiten nach Start des neuen Internetauftritts prüfen"),
    ("", "Monitoring bei der nächsten Unterrichtung des Sozialausschusses vorstellen"),
    ("", "Phase II starten, sobald alle verwaltungsinternen Informationen gesichtet, aufbereitet und "
         "dokumentiert sind; den Sozialausschuss über die hinzugezogenen externen Stellen informieren"),
]

# The 30 districts (Stadtteile) of Koblenz, the areas of area-level data; `init` lists them as [[gebiet]].
STADTTEILE = (
    "Altstadt", "Arenberg", "Arzheim", "Asterstein", "Bubenheim", "Ehrenbreitstein", "Goldgrube", "Güls",
    "Horchheim", "Horchheimer Höhe", "Immendorf", "Karthause Flugfeld", "Karthause Nord", "Karthäuserhofgelände",
    "Kesselheim", "Lay", "Lützel", "Metternich", "Mitte", "Moselweiß", "Neuendorf", "Niederberg", "Oberwerth",
    "Pfaffendorf", "Pfaffendorfer Höhe", "Rauental", "Rübenach", "Stolzenfels", "Süd", "Wallersheim",
)
# City-wide values: the [[gebiet]] entry of this name stands for the whole city (stored without an area).
WHOLE_CITY_AREA = "Stadt gesamt"
