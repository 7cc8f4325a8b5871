"""`init`: the workspace, the 14 measures word for word, the 12 meetings, the open steps."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.workspace import Monitor, WorkspaceError, create_workspace
from storage.catalogue import load_catalogue

# Written out here from the status document of 21.09.2018 (not read from the project's own seed module).
DOCUMENT_TABLE = [
    ("M14", "Es werden Modelle zur Kindertagesbetreuung bzw. Betriebskitas in Pflegeeinrichtungen eingerichtet.",
     "28.06.2018", "Befragung"),
    ("M31", "Bei Maßnahmen zur Integration in den Arbeitsmarkt und Sprachförderkursen für Eltern soll es "
            "bedarfsgerechte Angebote zur Betreuung von Kleinkindern unter 3 Jahren in unmittelbarer Nähe geben.",
     "28.06.2018", "Bestandsanalyse"),
    ("M32", "Beim Einsatz von Stadtteil-Entwicklungsprogrammen (Soziale Stadt, Aktive Innenstadt, Stadtgrün o.ä.) "
            "werden die BewohnerInnen in geeigneten Formen einbezogen und erhalten die Möglichkeit, eigene "
            "Projektvorschläge umzusetzen.", "27.08.2018", "Monitoring"),
    ("M41", "Es gibt unter den Anbietern in Koblenz ein gemeinsames Verständnis von Qualitätsstandards in der "
            "Ganztagsbetreuung in Schule und Kitas.", "30.08.2018", "Bestandsanalyse"),
    ("M42", "Im Bildungsbereich werden sowohl was die Strukturqualität - z.B. Ausgestaltung der Räumlichkeiten in "
            "Bezug auf Barrierefreiheit - als auch allgemeine Standards unter dem Aspekt der Inklusion entwickelt "
            "(in Schulen und Kitas).", "30.08.2018", "Bestandsanalyse"),
    ("M33", "Als Folge einer auf Inklusion angelegten Wohnungs- und Sozialpolitik ergibt sich eine höhere soziale "
            "Mischung von Wohngebieten sowie von Personen mit und ohne Migrationshintergrund.", "05.09.2018",
     "Anpassung Monitoring der sozialen Belastung"),
    ("M11", "Im Rahmen einer gemeinsamen Imagekampagne der Akteure der Regionalen Pflegekonferenz wird aktiv für "
            "Pflegeberufe geworben.", "20.09.2018", "Einbringung in Pflegekonferenz"),
    ("M43", "Verschiedene Angebote werden in leichter Sprache zur Verfügung gestellt. Dies betrifft unter Anderem "
            "Formulare oder aber auch die Internetseite der Stadtverwaltung.", "20.09.2018",
     "Prüfung der Möglichkeiten nach Start des neuen Internetauftritts"),
    ("M21", "Zur Schaffung zusätzlichen Wohnraums weist die Stadt, soweit dies ökologisch vertretbar ist, "
            "zusätzliche Baugebiete aus. Sie entwickelt militärische und/oder zivile Konversionsflächen zur "
            "Schaffung zusätzlichen Wohnraums. Die Koblenzer Wohnbau baut zusätzlich bezahlbare Wohnungen sowie "
            "sogenannte Sozialwohnungen.", "20.09.2018",
     "Übersicht zum Sozialwohnungsbau und neu ausgewiesenen Bauflächen"),
    ("M22", "Die Stadt Koblenz fördert neue Wohnformen (Bsp.: Wohnen für Hilfe, Mehrgenerationenwohnen).",
     "20.09.2018", "Öffentlichkeitsarbeit und Lotsenfunktion"),
    ("M23", "Innerhalb der Stadt Koblenz wird mehr Wohnraum für Studierende geschaffen.", "20.09.2018",
     "Bestandsanalyse"),
    ("M24", "Die Stadt belegt öffentliche Flächen mit Auflagen für Investoren. Die Auflagen befassen sich mit den "
            "Schwerpunkten: barrierearme Wohnungen, günstiger Wohnraum, kleine Wohnungen und Berücksichtigung neuer "
            "Wohnformen in den Planungen.", "20.09.2018",
     "Beachtung der Auflagen bei geeigneten Flächen und in geeigneter Weise, so z.B. 20% Quote sozialer "
     "Wohnungsbau bei Areal Fritsch-Kaserne"),
]


def test_init_creates_the_contract_layout(workspace: Path) -> None:
    for rel in ("sozialmonitor.toml", "katalog.toml", "ablage/eingang", "ablage/verarbeitet", "ablage/abgelehnt",
                "ablage/protokolle", "daten"):
        assert (workspace / rel).exists(), rel


def test_catalogue_carries_the_14_titles_word_for_word(workspace: Path) -> None:
    catalogue, problems = load_catalogue(workspace / "katalog.toml")
    assert problems == [] and catalogue is not None
    assert list(catalogue.measures) == ["M11", "M12", "M13", "M14", "M21", "M22", "M23", "M24", "M31", "M32",
                                        "M33", "M41", "M42", "M43"]
    for mid, title, _, _ in DOCUMENT_TABLE:
        assert catalogue.measures[mid].title == title
    assert catalogue.measures["M12"].title == "" and catalogue.measures["M13"].title == ""
    fields = {m.id: m.field for m in catalogue.measures.values()}
    assert fields["M14"] == "Pflege" and fields["M24"] == "Wohnen"
    assert fields["M33"] == "Soziale Lage" and fields["M41"] == "Bildung"
    assert all(m.phase == 1 for m in catalogue.measures.values())
    assert "Land" in catalogue.measures["M23"].hint
    assert "Fritsch-Kaserne" in catalogue.measures["M24"].hint


def test_store_is_seeded_with_the_12_meetings_in_document_order(monitor: Monitor) -> None:
    meetings = [m for m in monitor.store.meetings() if m.day]
    assert [(m.measure, m.day.strftime("%d.%m.%Y"), m.approach) for m in meetings] == [
        (mid, day, approach) for mid, _, day, approach in DOCUMENT_TABLE]
    unscheduled = [m.measure for m in monitor.store.meetings() if m.day is None]
    assert unscheduled == ["M12", "M13"]


def test_store_is_seeded_with_the_documents_open_steps(monitor: Monitor) -> None:
    steps = monitor.store.steps()
    texts = [s.text for s in steps]
    assert any("M 12" in t and "terminieren" in t for t in texts)
    assert any("M 13" in t and "terminieren" in t for t in texts)
    assert sum("Indikatoren" in t for t in texts) == 14
    assert any("Sozialausschuss" in t for t in texts)
    assert any("Phase II" in t for t in texts)
    assert any(s.measure == "M43" and "Internetauftritt" in s.text for s in steps)


def test_init_refuses_an_existing_workspace_and_changes_nothing(workspace: Path) -> None:
    before = {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file()}
    with pytest.raises(WorkspaceError):
        create_workspace(workspace)
    after = {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file()}
    assert before == after


def test_demo_marks_every_example(demo_workspace: Path) -> None:
    catalogue, problems = load_catalogue(demo_workspace / "katalog.toml")
    assert problems == [] and catalogue is not None
    assert catalogue.indicators and catalogue.persons and catalogue.offices
    assert all("Beispiel" in i.name for i in catalogue.indicators.values())
    assert all("Beispiel" in p.name for p in catalogue.persons)
    assert all("Beispiel" in o.name for o in catalogue.offices.values())


def test_open_refuses_a_folder_without_workspace(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="keinen Arbeitsbereich"):
        Monitor.open(tmp_path)


def test_open_rebuilds_a_damaged_store_and_says_so(workspace: Path, capsys) -> None:
    # The contract: a damaged main file is rebuilt from the newest good backup, with a notice; never refused.
    store_file = workspace / "daten" / "sozialmonitor.json"
    m = Monitor.open(workspace, env={})
    m.store.add_step("M21", "noch ein Schritt", created=date(2018, 10, 1))
    m.close()
    damaged = store_file.read_bytes()[:-10]
    store_file.write_bytes(damaged)
    m = Monitor.open(workspace, env={})
    try:
        assert "noch ein Schritt" in [s.text for s in m.store.steps("M21")]
        message = capsys.readouterr().err
        assert str(store_file) in message and "sicherungen" not in message and "beschädigt" in message
        kept = m.store.recovered.kept
        assert kept is not None and kept.read_bytes() == damaged and str(kept) in message
    finally:
        m.close()


def test_observations_are_frozen_out_of_the_collector_once_loaded(demo_workspace: Path) -> None:
    import gc

    with_coverage = Monitor.open(demo_workspace, env={})  # init wrote the coverage: nothing read yet
    with_coverage.close()
    before = gc.get_freeze_count()
    monitor = Monitor.open(demo_workspace, env={})
    try:
        assert gc.get_freeze_count() == before  # /status needs no rows: nothing loaded, nothing frozen
        assert monitor.store.observations("M21-sozialwohnungen")  # the first command that needs rows
        assert gc.get_freeze_count() > before
    finally:
        monitor.close()
    assert gc.get_freeze_count() == 0


def test_a_damaged_store_is_worded_the_same_wherever_it_is_found(tmp_path: Path) -> None:
    """At open, in `check`, and when a segment fails a later read in a command: one text with the backup's name."""
    from bot.workspace import unreadable, unreadable_text
    from storage.jsonstore import StoreUnreadable

    backup = tmp_path / "sicherungen" / "sozialmonitor.2026-11-30T090000Z.json"
    damaged = StoreUnreadable(tmp_path / "sozialmonitor.json", backup, "Prüfsumme stimmt nicht")
    message = unreadable_text(damaged, "de")
    assert backup.name in message and "Prüfsumme stimmt nicht" in message
    assert unreadable(damaged)[0] == "store_unreadable"
    lost = StoreUnreadable(tmp_path / "sozialmonitor.json", None, "leer")
    assert str(tmp_path / "sicherungen") in unreadable_text(lost, "en")
