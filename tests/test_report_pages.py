"""The report looked at, not just parsed: the PDF's pages read as text (pdftotext) and rendered to PNG (pdftoppm),
the HTML printed by headless Chromium. The demo workspace's report fits in five A4 pages.

These tests need poppler-utils and Chromium (`.ci/run` installs them). A missing tool fails the test; only
SOZIALMONITOR_SKIP_RENDER_TESTS=1 skips them, so that CI can never pass without looking.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PIL import Image

from bot.workspace import Monitor, create_workspace
from commands.charts import Line, Panel
from commands.render_report import PdfUnavailable, chart_layout, render_html, render_markdown, render_pdf
from commands.report import ChartGroup, ReportData, build_report
from commands.sozialindex import index_result

from .conftest import ROOT, at

SKIP_ENV = "SOZIALMONITOR_SKIP_RENDER_TESTS"
DEMO_DAY = date(2026, 11, 25)
MOMENT = at("2026-11-25 10:00")
MEASURES = ("M 11", "M 12", "M 13", "M 14", "M 21", "M 22", "M 23", "M 24", "M 31", "M 32", "M 33", "M 41", "M 42",
            "M 43")
A4_POINTS = (595.3, 841.9)


def tool(*names: str) -> str:
    """The path of the first of `names` on PATH; a missing tool fails, unless SKIP_ENV says to skip."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    message = (f"{names[0]} fehlt: bitte `apt-get install -y chromium poppler-utils` (so wie .ci/run) oder "
               f"{SKIP_ENV}=1 setzen, um diese Tests ausdrücklich zu überspringen.")
    if os.environ.get(SKIP_ENV):
        pytest.skip(message)
    pytest.fail(message)


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    done = subprocess.run(list(args), capture_output=True, timeout=timeout)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    return done


def pdf_of(report: ReportData) -> bytes:
    try:
        return render_pdf(report)
    except PdfUnavailable as exc:
        if os.environ.get(SKIP_ENV):
            pytest.skip(f"WeasyPrint ohne Systembibliotheken: {exc.reason}")
        raise


def pages(pdf: Path) -> int:
    info = run(tool("pdfinfo"), str(pdf)).stdout.decode()
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def page_size(pdf: Path) -> tuple[float, float]:
    info = run(tool("pdfinfo"), str(pdf)).stdout.decode()
    match = re.search(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    return float(match.group(1)), float(match.group(2))


def page_texts(pdf: Path) -> list[str]:
    n = pages(pdf)
    return [run(tool("pdftotext"), "-f", str(k), "-l", str(k), "-enc", "UTF-8", str(pdf), "-").stdout.decode()
            for k in range(1, n + 1)]


def page_image(pdf: Path, page: int, dpi: int = 60) -> Image.Image:
    png = run(tool("pdftoppm"), "-f", str(page), "-l", str(page), "-r", str(dpi), "-png", str(pdf)).stdout
    image = Image.open(io.BytesIO(png))
    image.load()
    return image.convert("RGB")


def flat(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Monitor]:
    path = tmp_path_factory.mktemp("bericht") / "demo"
    create_workspace(path, demo_data=True, today=DEMO_DAY)
    monitor = Monitor.open(path, env={})
    yield monitor
    monitor.close()


@pytest.fixture(scope="module")
def demo_pdf(demo: Monitor, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("pdf") / "bericht.pdf"
    target.write_bytes(pdf_of(build_report(demo.state, MOMENT)))
    return target


def test_the_demo_pdf_fits_five_a4_pages_each_with_page_number_and_stand(demo_pdf: Path) -> None:
    n = pages(demo_pdf)
    assert 1 <= n <= 5
    width, height = page_size(demo_pdf)
    assert (round(width, 1), round(height, 1)) == A4_POINTS
    texts = page_texts(demo_pdf)
    for k, text in enumerate(texts, 1):
        assert f"Seite {k} von {n}" in text, k
        assert "Stand: 25. November 2026" in text, k
        assert "Erstellt vom Sozialmonitor am 25.11.2026 um 10:00 Uhr." in text, k


def test_the_first_page_answers_where_we_stand(demo: Monitor, demo_pdf: Path) -> None:
    texts = page_texts(demo_pdf)
    first = flat(texts[0])
    assert "Auf einen Blick" in first and "Für den Ausschuss" in first
    for word in ("Pflege", "Wohnen", "Soziale Lage", "Bildung", *MEASURES):
        assert word in first, word
    # The social index's most urgent point is one of the items for the committee.
    urgent = [d.area for d in index_result(demo.state).rated
              if d.status_class == "sehr niedrig" or d.dynamics_class == "negativ"]
    item = first[first.index("Sozialindex 2025:"): first.index("(siehe „Sozialindex“)")]
    assert urgent and all(re.search(rf"(?<!\w){re.escape(name)}(?!\w)", item) for name in urgent), item
    # The details begin on the second page: the meetings table with the full titles.
    assert "Besprechungen" not in first.split("Auf einen Blick", 1)[0]
    second = flat(texts[1])
    assert second.index("Besprechungen") < second.index("M 14, „Es werden Modelle zur Kindertagesbetreuung")


def test_pages_rendered_show_status_marks_charts_and_nothing_beyond_the_margins(demo_pdf: Path) -> None:
    texts = page_texts(demo_pdf)
    for k in range(1, len(texts) + 1):
        image = page_image(demo_pdf, k)
        w, h = image.size
        pixels = image.load()
        inked = sum(1 for x in range(0, w, 3) for y in range(0, h, 3) if sum(pixels[x, y]) < 600)
        assert inked > 200, f"page {k} looks empty"
        # Nothing runs over the page edge: the outer 6 mm on the left and right stay white.
        strip = round(6 / 25.4 * 60)
        for x in (*range(strip), *range(w - strip, w)):
            for y in range(0, h, 2):
                assert sum(pixels[x, y]) > 740, f"page {k}: ink at x={x}, y={y} (outside the margin)"
    # The first page's "!" marks: the warning colour is there.
    first = page_image(demo_pdf, 1, dpi=100)
    raw = first.tobytes()
    warn = sum(1 for r, g, b in zip(raw[0::3], raw[1::3], raw[2::3], strict=True)
               if r > 150 and 40 < g < 100 and b < 40)
    assert warn > 100
    # The charts page holds sharp pictures (at least 190 pixels per inch on paper).
    chart_page = next(k for k, text in enumerate(texts, 1) if "Verlauf der Indikatoren" in text)
    listing = run(tool("pdfimages"), "-f", str(chart_page), "-l", str(chart_page), "-list", str(demo_pdf))
    rows = [line.split() for line in listing.stdout.decode().splitlines()[2:] if line.strip()]
    images = [r for r in rows if r[2] == "image"]
    assert len(images) >= 3  # M 21, M 31, M 33
    assert all(int(r[12]) >= 190 and int(r[13]) >= 190 for r in images), rows


def district_names(text: str, areas: list[str]) -> list[str]:
    """The areas named in `text`, in the order of their first mention ("Pfaffendorf" is not in "Pfaffendorfer")."""
    found = []
    for area in areas:
        match = re.search(rf"(?<!\w){re.escape(area)}(?!\w)", text)
        if match:
            found.append((match.start(), area))
    return [area for _, area in sorted(found)]


def test_the_pdf_social_index_lists_exactly_the_attention_districts(demo: Monitor, demo_pdf: Path) -> None:
    """The matrix is a picture: the district names in the PDF's text of the section are the table's."""
    result = index_result(demo.state)
    expected = [d.area for d in result.districts if d.status_class in ("niedrig", "sehr niedrig")
                or d.dynamics_class == "negativ" or not d.rated or d.dynamics_class is None]
    text = flat(" ".join(page_texts(demo_pdf)))
    section = text[text.index("Sozialindex (Monitoring der sozialen Belastung)"):]
    table = section[section.index("Aufmerksamkeit brauchen"): section.index("Die übrigen")]
    assert district_names(table, [d.area for d in result.districts]) == expected
    others = len(result.districts) - len(expected)
    assert f"Die übrigen {others} Stadtteile" in section and "/bericht xlsx" in section


def test_the_paper_names_each_overdue_delivery_by_office_the_workbook_lists_them(demo: Monitor) -> None:
    report = build_report(demo.state, MOMENT)
    full = report.section("overdue")
    assert full.formats == {"md", "xlsx"} and len(full.table.rows) >= 5
    brief = report.section("overdue_brief")
    paragraph = brief.before[0]
    assert paragraph.startswith(f"{len(full.table.rows)} Lieferungen sind überfällig")
    # Every row of the full list (office, measure, period) is in the paragraph, under its office.
    parts = dict(part.split(": ", 1) for part in
                 paragraph.split("Zeitraum: ", 1)[1].rsplit(". Die Indikatoren", 1)[0].split("; "))
    for office, measure, _, period, _ in full.table.rows:
        assert f"{measure} ({period}" in parts[office], (office, measure, period)
    assert len(parts) == len({row[0] for row in full.table.rows})
    page = render_html(report)
    assert '<table class="t-overdue' not in page and paragraph.split(":", 1)[0] in page
    assert "| Amt 50 " in render_markdown(build_report(demo.state, MOMENT, charts=False))


def test_chart_groups_share_rows_and_a_long_group_goes_on_titled_as_continued() -> None:
    def panel(title: str, areas: int = 0) -> Panel:
        lines = (Line("", (1.0, 2.0), emphasis=True), *(Line(f"G{k}", (1.0, 2.0)) for k in range(areas)))
        return Panel(title, "Anzahl", ("2024", "2025"), lines)

    groups = [ChartGroup("M21", "M 21", (panel("a"), panel("b"), panel("c")), continued="M 21 (Forts.)"),
              ChartGroup("M31", "M 31", (panel("d"),), continued="M 31 (Forts.)"),
              ChartGroup("M33", "M 33", (panel("e", areas=7), panel("f"), panel("g"), panel("h"), panel("i")),
                         more="weitere", continued="M 33 (Forts.)")]
    layout = [(g.measure, [p.title for p in panels], slots, first, last)
              for g, panels, slots, first, last in chart_layout(groups)]
    assert layout == [("M21", ["a", "b", "c"], 3, True, True), ("M31", ["d"], 1, True, True),
                      ("M33", ["e", "f"], 2, True, False), ("M33", ["g", "h", "i"], 3, False, True)]
    # A panel with a legend needs two slots: beside one other panel it does not start in a row's last slot.
    legend_first = [ChartGroup("M31", "M 31", (panel("d"), panel("x"))),
                    ChartGroup("M33", "M 33", (panel("e", areas=7), panel("f"), panel("g"), panel("h")))]
    assert [([p.title for p in panels], slots) for _, panels, slots, _, _ in chart_layout(legend_first)] == [
        (["d", "x"], 2), (["e", "f", "g"], 3), (["h"], 1)]


def test_table_headers_repeat_on_every_page_and_no_row_is_split(tmp_path: Path) -> None:
    path = tmp_path / "viele"
    create_workspace(path, today=date(2018, 9, 21))
    monitor = Monitor.open(path, env={})
    try:
        # Tall rows (five to six lines each), so that a page break would fall inside one if rows could split.
        middle = ("Abstimmung der Datenlieferung mit dem Amt über die Zeitreihe, die Abgrenzung der Gebiete, die "
                  "Frist der Lieferung, die Einheit und die Bemerkungen zu Schätzwerten; ") * 3
        for k in range(1, 61):
            monitor.store.add_step("M21", f"Schritt{k:02d}anfang: {middle[: 250 + 7 * k % 90]} Runde{k:02d}ende")
        pdf = tmp_path / "bericht.pdf"
        pdf.write_bytes(pdf_of(build_report(monitor.state, date(2018, 9, 21))))
    finally:
        monitor.close()
    texts = [flat(t) for t in page_texts(pdf)]
    with_steps = [k for k, text in enumerate(texts) if "anfang:" in text]
    assert len(with_steps) >= 2  # the steps table runs over pages
    for k in with_steps:
        text = texts[k]
        header = text.find("Maßnahmen Schritt")
        assert 0 <= header < text.index("anfang:"), f"page {k + 1}: no repeated table header"
    for n in range(1, 61):
        begin = [k for k, text in enumerate(texts) if f"Schritt{n:02d}anfang" in text]
        end = [k for k, text in enumerate(texts) if f"Runde{n:02d}ende" in text]
        assert len(begin) == 1 and begin == end, f"step {n} split across pages {begin} / {end}"


def chromium_pdf(html_file: Path, target: Path, profile: Path) -> Path:
    browser = tool("chromium", "chromium-browser", "google-chrome")
    run(browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync", f"--user-data-dir={profile}",
        f"--print-to-pdf={target}", html_file.as_uri(), timeout=180)
    assert target.exists()
    return target


def test_chromium_prints_the_demo_html_on_at_most_five_a4_pages(demo: Monitor, tmp_path: Path) -> None:
    html_file = tmp_path / "bericht.html"
    html_file.write_text(render_html(build_report(demo.state, MOMENT)), encoding="utf-8")
    pdf = chromium_pdf(html_file, tmp_path / "chromium.pdf", tmp_path / "profil")
    n = pages(pdf)
    assert 1 <= n <= 5
    width, height = page_size(pdf)
    assert abs(width - A4_POINTS[0]) < 2 and abs(height - A4_POINTS[1]) < 2
    texts = [flat(t) for t in page_texts(pdf)]
    assert "Auf einen Blick" in texts[0] and all(m in texts[0] for m in MEASURES)
    assert f"Seite 1 von {n}" in texts[0]  # the page footer of the stylesheet, printed by the browser too
    assert "Besprechungen" in texts[1]
    # The social index prints its table of the attention districts; the small multiples are for the screen only.
    printed = " ".join(texts)
    assert "Aufmerksamkeit brauchen" in printed and "Die übrigen" in printed
    caption = "Die Stadtteile der Tabelle, die belastetsten zuerst"
    assert caption not in printed
    page = html_file.read_text(encoding="utf-8")
    assert 'class="chart si screen-only"' in page and caption in page


def open_protocols(monitor: Monitor) -> tuple[dict[tuple[str, str], list[str]], list[tuple[str, str]]]:
    """From the store itself: (measure "M 42", meeting day) -> the signatories still missing, for every protocol
    not fully signed; and the fully signed ones, in the store's order."""
    store, catalogue = monitor.store, monitor.state.catalogue
    missing, complete = {}, []
    for p in store.protocols():
        names = list(p.signatories) or [person.name for person in catalogue.participants(p.measure)]
        signed = {s.person for s in store.signatures(p.id)}
        key = (f"M {p.measure[1:]}", p.meeting_day.strftime("%d.%m.%Y"))
        if names and all(n in signed for n in names):
            complete.append(key)
        else:
            missing[key] = [n for n in names if n not in signed]
    return missing, complete


def test_the_paper_lists_the_protocols_missing_signatures_the_workbook_and_markdown_all(
        demo: Monitor, demo_pdf: Path) -> None:
    from openpyxl import load_workbook

    from commands.render_report import render_xlsx

    from .test_report import parse

    missing, complete = open_protocols(demo)
    assert missing and complete  # the demo has both: otherwise this test would prove nothing
    report = build_report(demo.state, MOMENT)
    # HTML: the table has a row for each protocol missing a signature, naming who; the others in one sentence.
    page = parse(render_html(report))
    table = next(t for t in page.tables if t[0][-1] == "ausstehende Unterschriften")
    rows = {(r[0], r[1]): r[-1] for r in table[1:]}
    assert rows == {key: ", ".join(names) for key, names in missing.items()}
    sentence = "Vollständig unterschrieben: " + ", ".join(f"{m} ({d})" for m, d in complete) + "."
    assert sentence in report.section("protocols_brief").before[0]
    # The PDF prints the same: each open protocol's row with its names, the complete ones only in the sentence.
    text = flat(" ".join(page_texts(demo_pdf)))
    section = text[text.index("Gesprächsprotokolle und Unterzeichnung"): text.index("Je Maßnahme die Indikatoren")]
    assert sentence in section
    for (measure, day), names in missing.items():
        assert f"{measure} {day}" in section and all(n in section for n in names), measure
    for measure, day in complete:
        assert f"{measure} {day}" not in section, measure
    # The workbook and Markdown keep every protocol of the store.
    wb = load_workbook(io.BytesIO(render_xlsx(report)))
    sheet = [(r[0], r[1].strftime("%d.%m.%Y")) for r in wb["Protokolle"].iter_rows(min_row=2, values_only=True)
             if r[0]]
    assert sorted(sheet) == sorted([*missing, *complete]) and len(sheet) == len(demo.store.protocols())
    md = render_markdown(report)
    for measure, day in [*missing, *complete]:
        assert re.search(rf"^\| {measure} +\| {day} ", md, re.M), (measure, day)


def test_every_indicator_row_spans_the_header_and_a_row_without_value_runs_over_the_empty_cells(
        demo: Monitor) -> None:
    html = render_html(build_report(demo.state, MOMENT))
    body = html[html.index('<table class="t-indicators'):]
    body = body[: body.index("</table>")]
    head = re.findall(r"<th scope=\"col\"", body)
    rows = re.findall(r"<tr>(.*?)</tr>", body.split("</thead>", 1)[1], re.S)
    assert rows
    for row in rows:
        spans = [int(x) if x else 1 for x in re.findall(r"<td(?: colspan=\"(\d+)\")?", row)]
        assert sum(spans) == len(head), row
    waiting = [r for r in rows if "überfällig seit" in r and "—" in r]
    assert waiting and all('colspan="4">überfällig seit' in r for r in waiting)


def chromium_of(monitor: Monitor, folder: Path) -> Path:
    html_file = folder / "bericht.html"
    html_file.write_text(render_html(build_report(monitor.state, MOMENT)), encoding="utf-8")
    return chromium_pdf(html_file, folder / "chromium.pdf", folder / "profil")


BODY_TOP, BODY_BOTTOM = 16, 297 - 17  # mm: the page's text area (report.css @page margins)


def body_lines(text: str) -> list[str]:
    """A page's text without the running header and footer."""
    frame = ("Sozialausschuss: Stand der Handlungsempfehlungen", "Stand: 25. November 2026",
             "Erstellt vom Sozialmonitor am", "Seite ")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith(frame)]


def filled(pdf: Path, page: int) -> float:
    """How far down the text area the page's lowest ink reaches (0 … 1), from the page rendered at 60 dpi."""
    image = page_image(pdf, page)
    w, h = image.size
    px = h / 297
    top, bottom = round(BODY_TOP * px), round(BODY_BOTTOM * px) - 2
    pixels = image.load()
    lowest = max((y for y in range(top, bottom) if any(sum(pixels[x, y]) < 600 for x in range(0, w, 2))),
                 default=top)
    return (lowest - top) / (bottom - top)


@pytest.mark.parametrize("engine", ["weasyprint", "chromium"])
def test_no_page_is_left_half_empty_no_heading_ends_a_page_and_no_text_is_below_8_pt(
        engine: str, demo: Monitor, demo_pdf: Path, tmp_path: Path) -> None:
    pdf = demo_pdf if engine == "weasyprint" else chromium_of(demo, tmp_path)
    texts = page_texts(pdf)
    n = len(texts)
    # Every page but the last is filled (no forced break before the social index or the charts).
    for k in range(1, n):
        assert filled(pdf, k) > 0.85, f"{engine}: page {k} is filled only to {filled(pdf, k):.0%}"
    # No section heading stands last on its page, away from what it heads.
    report = build_report(demo.state, MOMENT)
    headings = {s.heading for s in report.sections if "html" in s.formats} | {"Für den Ausschuss"}
    for k, text in enumerate(texts, 1):
        lines = body_lines(text)
        assert lines and lines[-1] not in headings, f"{engine}: page {k} ends with the heading {lines[-1]!r}"
    # Text never below 8 pt: Liberation Sans' word boxes are 1.117 times the type size high (8 pt: 8.94 pt).
    boxes = run(tool("pdftotext"), "-bbox", "-enc", "UTF-8", str(pdf), "-").stdout.decode()
    heights = [(float(y1) - float(y0), word) for y0, y1, word in
               re.findall(r'<word xMin="[\d.]+" yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)</word>', boxes)]
    assert len(heights) > 1000
    small = [(round(height / 1.117, 1), word) for height, word in heights if height < 8 * 1.117 - 0.05]
    assert not small, small[:10]


DOCS = {"bericht-pdf-seite1.png": "PDF", "bericht-html.png": "HTML", "bericht-xlsx.png": "XLSX",
        "bericht-markdown.md": "Markdown", "trend-chat.png": "/trend"}


def test_docs_show_one_page_of_each_format_and_the_readme_links_them() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in DOCS:
        path = ROOT / "docs" / name
        assert path.is_file(), name
        assert f"docs/{name}" in readme, name
        if name.endswith(".png"):
            with Image.open(path) as image:
                assert image.width >= 800, name
        else:
            assert path.read_text(encoding="utf-8").startswith("# Dokumentation über den Stand")
