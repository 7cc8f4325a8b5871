"""`sozialmonitor report`: Markdown and HTML to stdout or -o, the workbook to -o or ./bericht_JJJJ-MM-TT.xlsx."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.cli import main

from .conftest import run_cli
from .test_report import DOCUMENT_NOTE, DOCUMENT_TABLE, parse


def test_markdown_goes_to_stdout(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--workspace", str(workspace)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Dokumentation über den Stand der Umsetzung der Handlungsempfehlungen")
    positions = [out.index(f"| {cell}") for cell, _, _ in DOCUMENT_TABLE]
    assert positions == sorted(positions)
    assert DOCUMENT_NOTE in out


def test_html_to_a_file(workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "bericht.html"
    assert main(["report", "--workspace", str(workspace), "--format", "html", "-o", str(target)]) == 0
    assert capsys.readouterr().out.strip() == f"Bericht gespeichert: {target}"
    page = parse(target.read_text(encoding="utf-8"))
    meetings = next(t for t in page.tables if t[0][0] == "Maßnahmen-Nr. und Bezeichnung der Maßnahme")
    assert [tuple(r) for r in meetings[1:]] == DOCUMENT_TABLE


def test_xlsx_without_o_lands_in_the_current_folder(workspace: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    here = tmp_path / "hier"
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(["report", "--workspace", str(workspace), "--format", "xlsx"]) == 0
    written = list(here.glob("bericht_*.xlsx"))
    assert len(written) == 1
    assert capsys.readouterr().out.strip() == f"Bericht gespeichert: {written[0]}"
    day = date.fromisoformat(written[0].stem.removeprefix("bericht_"))
    assert abs((day - date.today()).days) <= 1
    wb = load_workbook(written[0])
    assert "Besprechungen" in wb.sheetnames and wb["Besprechungen"].freeze_panes == "A2"
    assert wb["Besprechungen"]["A2"].value == DOCUMENT_TABLE[0][0]


def test_unwritable_target_is_one_german_sentence(workspace: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "fehlt" / "bericht.xlsx"
    assert main(["report", "--workspace", str(workspace), "--format", "xlsx", "-o", str(target)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (f"Der Bericht konnte nicht nach {target} geschrieben werden; bitte prüfen, ob der Ordner "
                   "existiert und beschreibbar ist.")


def test_missing_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--workspace", str(tmp_path / "nichts")]) == 1
    assert "keinen Arbeitsbereich" in capsys.readouterr().err


@pytest.mark.slow
def test_real_process_writes_utf8_markdown(workspace: Path) -> None:
    done = run_cli("report", "--workspace", str(workspace), env={"LC_ALL": "C", "PYTHONIOENCODING": "ascii"})
    assert done.returncode == 0, done.stderr
    assert DOCUMENT_TABLE[-1][0] in done.stdout  # „…“ and umlauts survive an ASCII console
    assert "Traceback" not in done.stderr


def test_the_format_follows_the_ending_of_o(workspace: Path, tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    for name, start in (("bericht.pdf", b"%PDF-"), ("bericht.xlsx", b"PK"), ("bericht.html", b"<!DOCTYPE html>"),
                        ("bericht.md", b"# Dokumentation")):
        target = tmp_path / name
        assert main(["report", "--workspace", str(workspace), "-o", str(target)]) == 0, name
        assert target.read_bytes().startswith(start), name
    assert main(["report", "--workspace", str(workspace), "--format", "pdf", "-o", str(tmp_path / "b.pdf")]) == 0
    capsys.readouterr()


def test_an_ending_that_contradicts_format_is_refused(workspace: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "bericht.pdf"
    assert main(["report", "--workspace", str(workspace), "--format", "html", "-o", str(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"Die Datei {target} endet auf „.pdf“, das passt nicht zu --format html; bitte eine Datei auf "
                   ".html angeben oder --format weglassen (dann folgt das Format der Endung).")
    assert not target.exists()
    unknown = tmp_path / "bericht.docx"
    assert main(["report", "--workspace", str(workspace), "-o", str(unknown)]) == 2
    assert "„.docx“" in capsys.readouterr().err and not unknown.exists()


def test_pdf_without_o_lands_in_the_current_folder(workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["report", "--workspace", str(workspace), "--format", "pdf"]) == 0
    written = list(tmp_path.glob("bericht_*.pdf"))
    assert len(written) == 1 and written[0].read_bytes().startswith(b"%PDF-")
    assert capsys.readouterr().out.strip() == f"Bericht gespeichert: {written[0]}"


@pytest.mark.slow
def test_pdf_without_the_pango_library_is_one_sentence_not_a_traceback(workspace: Path, tmp_path: Path) -> None:
    # A WeasyPrint that cannot load Pango raises OSError on import, as it does on a machine without libpango.
    fake = tmp_path / "ohne_pango" / "weasyprint"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise OSError(\"cannot load library 'libpango-1.0-0'\")\n", encoding="utf-8")
    done = run_cli("report", "--workspace", str(workspace), "--format", "pdf", "-o", str(tmp_path / "b.pdf"),
                   env={"PYTHONPATH": str(fake.parent)})
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("Die PDF-Fassung konnte nicht erzeugt werden (cannot load library 'libpango-1.0-0')")
    assert "--format html" in done.stderr and not (tmp_path / "b.pdf").exists()
