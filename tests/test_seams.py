"""The typed seams of watchers/seams.py are all the ingest needs: it runs on a source that offers nothing more.

The sources here are built from the real parts (a real store in tmp_path, the workspace's settings and catalogue)
but are not the bot's Monitor: slotted dataclasses with exactly the seam's members, so an ingest that reached for
anything else (the outbox, the commands' state, a clock of its own) would fail here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest

from commands.ingest_words import INGEST_WORDS, IngestWording
from commands.state import State
from storage.catalogue import Catalogue, load_catalogue
from storage.config import Settings, load_settings
from storage.messages import ADMINS, Outgoing
from storage.store import Store
from watchers.pipeline import DUPLICATE, IMPORTED, REJECTED, Pipeline
from watchers.protocols import handle_protocol_file

from .conftest import at

NOW = at("2027-01-25 10:00")  # the 2026 deliveries are over


@dataclass(frozen=True, slots=True)
class IngestSource:
    """A CatalogueSource: settings, store, catalogue and the words of commands/ — nothing else."""

    settings: Settings
    store: Store
    catalogue: Catalogue
    ingest_words: IngestWording = INGEST_WORDS


@dataclass(frozen=True, slots=True)
class ProtocolsSource:
    """A ProtocolSource: settings, the data state, the words of commands/ and now — nothing else."""

    settings: Settings
    state: State
    moment: datetime
    ingest_words: IngestWording = INGEST_WORDS

    def now(self) -> datetime:
        return self.moment


def _open(workspace: Path) -> tuple[Settings, Catalogue, Store]:
    settings, problems = load_settings(workspace, env={})
    assert not problems
    catalogue, cat_problems = load_catalogue(settings.catalogue_file)
    assert catalogue is not None and not cat_problems
    return settings, catalogue, Store(settings.store_file)


@pytest.fixture
def source(team_workspace: Path) -> Iterator[IngestSource]:
    settings, catalogue, store = _open(team_workspace)
    try:
        yield IngestSource(settings, store, catalogue)
    finally:
        store.close()


def test_the_pipeline_imports_rejects_and_recognises_a_file_with_only_the_seam(source: IngestSource) -> None:
    sent: list[Outgoing] = []
    pipeline = Pipeline(source, sent.append, clock=lambda: NOW)
    inbox = source.settings.inbox
    good = inbox / "M21_2026.csv"
    good.write_bytes("Maßnahme;Indikator;Zeitraum;Wert\r\nM21;M21-bauland;2026;2,5\r\n".encode("cp1252"))
    result = pipeline.process(good)
    assert result.status == IMPORTED, result.findings
    assert [(o.period, o.value) for o in source.store.observations("M21-bauland")] == [("2026", 2.5)]
    assert result.moved_to is not None and result.moved_to.parent == source.settings.processed / "2027" / "01"

    again = inbox / "M21_2026_nochmal.csv"
    again.write_bytes(result.moved_to.read_bytes())
    assert pipeline.process(again).status == DUPLICATE

    bad = inbox / "M21_kaputt.csv"
    bad.write_bytes(b"Massnahme;Indikator;Zeitraum;Wert\r\nM21;M21-bauland;2026;viel\r\n")
    rejected = pipeline.process(bad)
    assert rejected.status == REJECTED and rejected.report is not None and rejected.report.exists()

    assert [m.kind for m in sent] == ["notice", "notice", "notice"]
    assert all(ADMINS in m.recipients for m in sent)


def test_a_check_reads_the_store_through_the_seam_and_changes_nothing(source: IngestSource) -> None:
    pipeline = Pipeline(source, None, clock=lambda: NOW)
    path = source.settings.share / "pruefen" / "M21_2026.csv"
    path.write_bytes(b"Massnahme;Indikator;Zeitraum;Wert\r\nM21;M21-bauland;2026;3\r\n")
    result = pipeline.check(path)
    assert result.status == IMPORTED and result.preview and result.new == 1
    assert source.store.observations("M21-bauland") == [] and path.exists()


def test_the_protocols_folder_records_a_protocol_with_only_the_seam(team_workspace: Path) -> None:
    settings, catalogue, store = _open(team_workspace)
    try:
        moment = at("2018-09-24 09:30")
        folder_source = ProtocolsSource(settings, State(catalogue, store, settings), moment)
        path = settings.protocols / "M21_2018-09-20_Protokoll.pdf"
        path.write_bytes(b"%PDF version 1")
        sent: list[Outgoing] = []
        result = handle_protocol_file(folder_source, path, sent.append)
        assert result.status == "recorded"
        protocol = store.protocol("M21", date(2018, 9, 20))
        assert protocol is not None and protocol.sent_on == date(2018, 9, 24) and protocol.file_hash
        assert any("/unterschrieben M21" in m.reply.plain() for m in sent)
    finally:
        store.close()
