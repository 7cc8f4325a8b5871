"""The committee report: the document's meetings table, signatures, indicators, and the files read back."""

from __future__ import annotations

import base64
import io
import struct
from dataclasses import replace
from datetime import date, datetime
from html.parser import HTMLParser

import pytest
from openpyxl import load_workbook
from tabulate import tabulate

from commands import Caller, dispatch
from commands.render_report import pipe_table, render_html, render_markdown, render_xlsx
from commands.report import build_report, sparkline
from commands.state import State
from storage.models import Indicator, Office

from .conftest import at

# The status document's table of 21.09.2018, written out here (not read from the seed module or the source document).
DOCUMENT_TABLE = [
    ("M 14, „Es werden Modelle zur Kindertagesbetreuung bzw. Betriebskitas in Pflegeeinrichtungen eingerichtet.“",
     "28.06.2018", "Befragung"),
    ("M 31, „Bei Maßnahmen zur Integration in den Arbeitsmarkt und Sprachförderkursen für Eltern soll es "
     "bedarfsgerechte Angebote zur Betreuung von Kleinkindern unter 3 Jahren in unmittelbarer Nähe geben.“",
     "28.06.2018", "Bestandsanalyse"),
    ("M 32, „Beim Einsatz von Stadtteil-Entwicklungsprogrammen (Soziale Stadt, Aktive Innenstadt, Stadtgrün o.ä.) "
     "werden die BewohnerInnen in geeigneten Formen einbezogen und erhalten die Möglichkeit, eigene "
     "Projektvorschläge umzusetzen.“", "27.08.2018", "Monitoring"),
    ("M 41, „Es gibt unter den Anbietern in Koblenz ein gemeinsames Verständnis von Qualitätsstandards in der "
     "Ganztagsbetreuung in Schule und Kitas.“", "30.08.2018", "Bestandsanalyse"),
    ("M 42, „Im Bildungsbereich werden sowohl was die Strukturqualität - z.B. Ausgestaltung der Räumlichkeiten in "
     "Bezug auf Barrierefreiheit - als auch allgemeine Standards unter dem Aspekt der Inklusion entwickelt "
     "(in Schulen und Kitas).“", "30.08.2018", "Bestandsanalyse"),
    ("M 33, „Als Folge einer auf Inklusion angelegten Wohnungs- und Sozialpolitik ergibt sich eine höhere soziale "
     "Mischung von Wohngebieten sowie von Personen mit und ohne Migrationshintergrund.“", "05.09.2018",
     "Anpassung Monitoring der sozialen Belastung"),
    ("M 11, „Im Rahmen einer gemeinsamen Imagekampagne der Akteure der Regionalen Pflegekonferenz wird aktiv für "
     "Pflegeberufe geworben.“", "20.09.2018", "Einbringung in Pflegekonferenz"),
    ("M 43, „Verschiedene Angebote werden in leichter Sprache zur Verfügung gestellt. Dies betrifft unter Anderem "
     "Formulare oder aber auch die Internetseite der Stadtverwaltung.“", "20.09.2018",
     "Prüfung der Möglichkeiten nach Start des neuen Internetauftritts"),
    ("M 21, „Zur Schaffung zusätzlichen Wohnraums weist die Stadt, soweit dies ökologisch vertretbar ist, "
     "zusätzliche Baugebiete aus. Sie entwickelt militärische und/oder zivile Konversionsflächen zur Schaffung "
     "zusätzlichen Wohnraums. Die Koblenzer Wohnbau baut zusätzlich bezahlbare Wohnungen sowie sogenannte "
     "Sozialwohnungen.“", "20.09.2018", "Übersicht zum Sozialwohnungsbau und neu ausgewiesenen Bauflächen"),
    ("M 22, „Die Stadt Koblenz fördert neue Wohnformen (Bsp.: Wohnen für Hilfe, Mehrgenerationenwohnen).“",
     "20.09.2018", "Öffentlichkeitsarbeit und Lotsenfunktion"),
    ("M 23, „Innerhalb der Stadt Koblenz wird mehr Wohnraum für Studierende geschaffen.“", "20.09.2018",
     "Bestandsanalyse; Hinweis: Zuständigkeit der Umsetzung liegt beim Land"),
    ("M 24, „Die Stadt belegt öffentliche Flächen mit Auflagen für Investoren. Die Auflagen befassen sich mit den "
     "Schwerpunkten: barrierearme Wohnungen, günstiger Wohnraum, kleine Wohnungen und Berücksichtigung neuer "
     "Wohnformen in den Planungen.“", "20.09.2018",
     "Beachtung der Auflagen bei geeigneten Flächen und in geeigneter Weise, so z.B. 20% Quote sozialer "
     "Wohnungsbau bei Areal Fritsch-Kaserne"),
]
DOCUMENT_NOTE = "Hinweis: die Gespräche zu M 12 und M 13 stehen noch aus. Diese werden zurzeit terminiert."
DOCUMENT_DAY = date(2018, 9, 21)
INJECTION = '=HYPERLINK("http://example.invalid/x","klick")'


class Page(HTMLParser):
    """Headings, tables (rows of cell texts), images and italic texts of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[tuple[str, str]] = []
        self.tables: list[list[list[str]]] = []
        self.images: list[str] = []
        self.italic: list[str] = []
        self.styles: list[str] = []
        self.links: list[str] = []
        self._stack: list[str] = []
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag == "img":
            self.images.append(a.get("src") or "")
        elif tag in ("link", "script"):
            self.links.append(tag)
        if tag in ("h1", "h2", "h3", "td", "th", "em", "style"):
            self._stack.append(tag)
            self._text = []

    def handle_endtag(self, tag: str) -> None:
        if not self._stack or self._stack[-1] != tag:
            return
        self._stack.pop()
        text = "".join(self._text)
        if tag in ("h1", "h2", "h3"):
            self.headings.append((tag, text))
        elif tag in ("td", "th"):
            self.tables[-1][-1].append(text)
        elif tag == "em":
            self.italic.append(text)
            if self._stack and self._stack[-1] in ("td", "th"):
                self._text = [text]  # the cell keeps its (italic) text
        elif tag == "style":
            self.styles.append(text)

    def handle_data(self, data: str) -> None:
        if self._stack:
            self._text.append(data)


def parse(html_text: str) -> Page:
    page = Page()
    page.feed(html_text)
    page.close()
    return page


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def with_indicators(state: State, *indicators: Indicator, offices: tuple[Office, ...] = ()) -> State:
    cat = state.catalogue
    return state.with_catalogue(replace(cat, indicators={i.id: i for i in indicators},
                                        offices={**cat.offices, **{o.id: o for o in offices}}))


def deliver(state: State, name: str, rows: list[tuple], office: str = "Amt 61") -> None:
    result = state.store.add_delivery(file=name, content_hash=name, office=office,
                                      received=datetime(2018, 9, 1, 10, 0), rows=rows)
    assert result.delivery is not None


SOZIAL = Indicator("M21-sozialwohnungen", "M21", "Beispiel: Neu gebaute Sozialwohnungen", "Anzahl", "jährlich", 60,
                   "Amt 61")
QUOTE = Indicator("M33-sgb2-quote", "M33", "Beispiel: SGB-II-Quote", "%", "jährlich", 60, "Amt 12")


@pytest.fixture
def data_state(state: State) -> State:
    s = with_indicators(state, SOZIAL, QUOTE, offices=(Office("Amt 61", "Beispiel: Stadtentwicklung"),
                                                       Office("Amt 12", "Beispiel: Statistik")))
    deliver(s, "m21.csv", [(SOZIAL.id, "", str(y), v, "", k) for k, (y, v) in
                           enumerate(zip(range(2014, 2018), (38.0, 41.0, 57.0, 1064.5), strict=True))])
    deliver(s, "m33.csv", [(QUOTE.id, area, str(y), v + k, "", k) for k, area in enumerate(("Mitte", "Altstadt"))
                           for y, v in ((2016, 10.0), (2017, 9.5))], office="Amt 12")
    return s


# ---------------------------------------------------------------- the document's table
def test_fresh_workspace_reproduces_the_documents_meetings_table(state: State) -> None:
    report = build_report(state, DOCUMENT_DAY)
    got = [(r.cell, r.day.strftime("%d.%m.%Y"), r.approach) for r in report.meetings]
    assert got == DOCUMENT_TABLE
    assert report.unscheduled == ("M12", "M13")
    assert report.unscheduled_note == DOCUMENT_NOTE
    section = report.section("meetings")
    assert [c.title for c in section.table.columns] == [
        "Maßnahmen-Nr. und Bezeichnung der Maßnahme", "Termin", "Vorgehensweise"]
    assert section.after == (DOCUMENT_NOTE,)
    assert section.before == ("Folgende Besprechungen haben (Stand: 21. September 2018) stattgefunden:",)
    assert report.legend == "Kursiv: die noch ausstehenden Schritte in der Bearbeitung der Handlungsempfehlungen"
    assert not report.upcoming


def test_html_shows_the_documents_table_in_order(state: State) -> None:
    page = parse(render_html(build_report(state, DOCUMENT_DAY)))
    assert page.headings[0] == ("h1", "Dokumentation über den Stand der Umsetzung der Handlungsempfehlungen aus dem "
                                      "Bericht zur sozialen Lage 2015 in Koblenz")
    h2 = [text for tag, text in page.headings if tag == "h2"]
    assert h2[:3] == ["Auf einen Blick", "Besprechungen", "Maßnahmen ohne Besprechungstermin"]
    assert "Ausstehende Schritte" in h2 and "Vollständigkeit der Lieferungen je Amt" in h2
    meetings = next(t for t in page.tables if t[0][0] == "Maßnahmen-Nr. und Bezeichnung der Maßnahme")
    assert meetings[0] == ["Maßnahmen-Nr. und Bezeichnung der Maßnahme", "Termin", "Vorgehensweise"]
    assert [tuple(row) for row in meetings[1:]] == DOCUMENT_TABLE
    assert "Kursiv: die noch ausstehenden Schritte in der Bearbeitung der Handlungsempfehlungen" in page.italic
    assert "Gespräch zu M 12 terminieren" in page.italic  # outstanding steps are in italics
    assert not page.links  # self-contained: no stylesheet or script to fetch
    css = "".join(page.styles)
    assert "@page" in css and "A4" in css and "@media print" in css


def test_markdown_uses_pipe_tables_in_the_documents_order(state: State) -> None:
    md = render_markdown(build_report(state, DOCUMENT_DAY))
    assert "| Maßnahmen-Nr. und Bezeichnung der Maßnahme" in md
    positions = [md.index(f"| {cell}") for cell, _, _ in DOCUMENT_TABLE]
    assert positions == sorted(positions)
    assert DOCUMENT_NOTE in md
    assert "*Gespräch zu M 12 terminieren*" in md
    assert "Bestandsanalyse; Hinweis: Zuständigkeit der Umsetzung liegt beim Land" in md


def test_the_note_follows_the_data_not_a_constant(state: State) -> None:
    m12 = next(x for x in state.store.meetings("M12"))
    state.store.move_meeting(m12.id, date(2018, 10, 2), at=None, approach="Befragung", changed=at("2018-09-21 09:00"))
    report = build_report(state, DOCUMENT_DAY)
    assert report.unscheduled_note == "Hinweis: das Gespräch zu M 13 steht noch aus. Dieses wird zurzeit terminiert."
    # M 12's meeting lies after the report date: scheduled, not held.
    assert [r.cell for r in report.upcoming] == ["M 12"]
    assert len(report.meetings) == 12
    m13 = next(x for x in state.store.meetings("M13"))
    state.store.move_meeting(m13.id, date(2018, 9, 10), at=None, approach="Bestandsanalyse",
                             changed=at("2018-09-21 09:00"))
    report = build_report(state, DOCUMENT_DAY)
    assert report.unscheduled == () and report.unscheduled_note == ""
    assert report.section("meetings").after == ()
    # M 13 (10.09.) slots in by date between M 33 (05.09.) and M 11 (20.09.).
    assert [r.cell[:4] for r in report.meetings][5:8] == ["M 33", "M 13", "M 11"]


def test_a_hint_is_added_once_and_never_doubled(state: State) -> None:
    measures = dict(state.catalogue.measures)
    measures["M22"] = replace(measures["M22"], hint="Träger noch offen")
    s = state.with_catalogue(replace(state.catalogue, measures=measures))
    rows = {r.measure: r.approach for r in build_report(s, DOCUMENT_DAY).meetings}
    assert rows["M22"] == "Öffentlichkeitsarbeit und Lotsenfunktion; Hinweis: Träger noch offen"
    assert rows["M24"].count("20% Quote sozialer Wohnungsbau") == 1
    assert rows["M23"] == "Bestandsanalyse; Hinweis: Zuständigkeit der Umsetzung liegt beim Land"


# ---------------------------------------------------------------- signatures and steps
def test_protocol_signatures_complete_or_who_is_outstanding(state: State) -> None:
    store = state.store
    p21, _ = store.record_protocol("M21", date(2018, 9, 20), sent_on=date(2018, 9, 21),
                                   signatories=["Erika Muster", "Max Mustermann"])
    p14, _ = store.record_protocol("M14", date(2018, 6, 28), sent_on=date(2018, 7, 2), signatories=["Paula Probe"])
    store.sign(p21.id, "Erika Muster", signed_on=date(2018, 9, 24), channel="chat", at=datetime(2018, 9, 24, 9))
    store.sign(p14.id, "Paula Probe", signed_on=date(2018, 7, 5), channel="chat", at=datetime(2018, 7, 5, 9))
    report = build_report(state, date(2018, 9, 25))
    by_measure = {p.measure: p for p in report.protocols}
    assert by_measure["M21"].missing == ("Max Mustermann",) and not by_measure["M21"].complete
    assert by_measure["M14"].complete
    rows = {r[0]: r for r in report.section("protocols").table.rows}
    assert rows["M 21"][4:] == ("1 von 2", "ausstehend: Max Mustermann")
    assert rows["M 14"][4:] == ("1 von 1", "vollständig unterzeichnet")


def test_the_paper_lists_the_open_protocols_and_names_the_complete_ones(state: State) -> None:
    store = state.store
    p21, _ = store.record_protocol("M21", date(2018, 9, 20), sent_on=date(2018, 9, 21),
                                   signatories=["Erika Muster", "Max Mustermann"])
    p14, _ = store.record_protocol("M14", date(2018, 6, 28), sent_on=date(2018, 7, 2), signatories=["Paula Probe"])
    store.sign(p14.id, "Paula Probe", signed_on=date(2018, 7, 5), channel="chat", at=datetime(2018, 7, 5, 9))
    store.sign(p21.id, "Erika Muster", signed_on=date(2018, 9, 24), channel="chat", at=datetime(2018, 9, 24, 9))
    report = build_report(state, date(2018, 9, 25))
    brief = report.section("protocols_brief")
    assert brief.formats == {"html", "pdf"} and report.section("protocols").formats == {"md", "xlsx"}
    assert [r[0] for r in brief.table.rows] == ["M 21"] and brief.table.rows[0][-1] == "Max Mustermann"
    assert brief.table.columns[-1].title == "ausstehende Unterschriften"
    assert "Vollständig unterschrieben: M 14 (28.06.2018). Eines der 2 Protokolle ist noch nicht" in brief.before[0]
    md = render_markdown(report)
    assert "| M 14 " in md and "vollständig unterzeichnet" in md and "Vollständig unterschrieben:" not in md
    # Once every signature is in, the paper says so instead of an empty table.
    store.sign(p21.id, "Max Mustermann", signed_on=date(2018, 9, 25), channel="chat", at=datetime(2018, 9, 25, 9))
    brief = build_report(state, date(2018, 9, 26)).section("protocols_brief")
    assert brief.table.rows == () and brief.empty == "Keinem der 2 Protokolle fehlt eine Unterschrift."
    assert brief.before[0].endswith("Vollständig unterschrieben: M 14 (28.06.2018), M 21 (20.09.2018).")
    page = render_html(build_report(state, date(2018, 9, 26)))
    assert "Keinem der 2 Protokolle fehlt eine Unterschrift." in page and "ausstehende Unterschriften" not in page
    en = build_report(state.for_language("en"), date(2018, 9, 26)).section("protocols_brief")
    assert "Fully signed: M 14 (2018-06-28), M 21 (2018-09-20)." in en.before[0]
    assert en.empty == "None of the 2 protocols is missing a signature."


def test_done_steps_leave_the_report(state: State) -> None:
    state.store.complete_step("M12", 1, done_on=date(2018, 9, 25))
    section = build_report(state, date(2018, 9, 25)).section("steps")
    texts = [r[2] for r in section.workbook_table.rows]
    assert "Gespräch zu M 12 terminieren" not in texts
    assert "Gespräch zu M 13 terminieren" in texts
    assert [r[1] for r in section.table.rows].count("Gespräch zu M 13 terminieren") == 1


# ---------------------------------------------------------------- indicators
def test_indicators_latest_previous_change_and_trend(data_state: State) -> None:
    rows = {(r.indicator, r.area): r for r in build_report(data_state, date(2018, 9, 25)).indicators}
    whole = rows[(SOZIAL.id, "")]
    assert (whole.period, whole.value, whole.previous_period, whole.previous_value) == ("2017", 1064.5, "2016", 57.0)
    assert whole.change == 1007.5
    assert whole.trend == sparkline([38.0, 41.0, 57.0, 1064.5]) and len(whole.trend) == 4
    # Areas in alphabetical order after the whole city; the change of a share can be negative.
    quote = [r for r in build_report(data_state, date(2018, 9, 25)).indicators if r.indicator == QUOTE.id]
    assert [r.area for r in quote] == ["Altstadt", "Mitte"]
    assert quote[0].change == -0.5
    section = build_report(data_state, date(2018, 9, 25)).section("indicators")
    md = render_markdown(build_report(data_state, date(2018, 9, 25)))
    # For reading: the whole city with its change; an indicator with areas only as the range of its latest period.
    assert "1.064,5" in md and "+1.007,5" in md
    assert "9,5 (Mitte) bis 10,5 (Altstadt)" in md
    assert len(section.table.rows) == 2
    # The workbook keeps every area with its own change.
    assert len(section.workbook_table.rows) == 3
    assert [r[8] for r in section.workbook_table.rows] == [1007.5, -0.5, -0.5]


def test_indicator_without_delivery_is_listed_as_such(state: State) -> None:
    s = with_indicators(state, SOZIAL)
    rows = build_report(s, DOCUMENT_DAY).indicators
    assert len(rows) == 1 and rows[0].value is None and rows[0].note == "noch keine Lieferung"


def test_sparkline_starts_at_zero_and_keeps_gaps() -> None:
    # Bars from 0 like the charts: 388 -> 501 is not drawn as a tripling.
    assert sparkline([1.0, 2.0, 3.0]) == "▃▆█"
    assert sparkline([388.0, 501.0]) == "▆█"
    assert sparkline([5.0, 5.0]) == "██"
    assert sparkline([0.0, 0.0]) == "▁▁"
    assert sparkline([1.0, None, 3.0]) == "▃ █"  # the missing period stays visible
    assert sparkline([-2.0, 2.0]) == "▁█"
    assert sparkline([None, 7.0]) == ""


def test_delivery_completeness_per_office(data_state: State) -> None:
    # On 05.03.2019 the 2018 values (due 60 days after 31.12.2018) are overdue for both offices.
    report = build_report(data_state, date(2019, 3, 5))
    rows = {r[0]: r for r in report.section("deliveries").table.rows}
    assert rows["Amt 61"] == ("Amt 61", "Beispiel: Stadtentwicklung", 1, 5, 4, 1, 80, date(2018, 9, 1))
    assert rows["Amt 12"] == ("Amt 12", "Beispiel: Statistik", 1, 3, 2, 1, 67, date(2018, 9, 1))
    late = report.section("overdue").table.rows
    assert late == (("Amt 12", "M 33", "Beispiel: SGB-II-Quote", "2018", date(2019, 3, 1)),
                    ("Amt 61", "M 21", "Beispiel: Neu gebaute Sozialwohnungen", "2018", date(2019, 3, 1)))
    # A day earlier nothing is due yet: complete.
    rows = {r[0]: r for r in build_report(data_state, date(2019, 2, 28)).section("deliveries").table.rows}
    assert rows["Amt 61"][3:7] == (4, 4, 0, 100)
    assert build_report(data_state, date(2019, 2, 28)).section("overdue").table.rows == ()


# ---------------------------------------------------------------- HTML charts and XLSX
def test_html_embeds_one_png_per_measure_with_data(data_state: State) -> None:
    page = parse(render_html(build_report(data_state, date(2018, 9, 25))))
    assert len(page.images) == 2  # M 21 and M 33
    for src in page.images:
        assert src.startswith("data:image/png;base64,")
        width, height = png_size(base64.b64decode(src.split(",", 1)[1]))
        assert width > 200 and height > 150
    assert ("h2", "Verlauf der Indikatoren") in page.headings


def test_html_charts_share_one_scale_and_wide_tables_use_small_type(data_state: State) -> None:
    html_text = render_html(build_report(data_state, date(2018, 9, 25)))
    widths = []
    for chunk in html_text.split("<img ")[1:]:
        src = chunk.split('src="', 1)[1].split('"', 1)[0]
        mm = float(chunk.split('style="width: ', 1)[1].split("mm", 1)[0])
        pixels, _ = png_size(base64.b64decode(src.split(",", 1)[1]))
        widths.append((pixels, mm))
    # Within the 178 mm text width of A4, and sharp in print (at least 150 pixels per inch).
    assert widths and all(0 < mm <= 178 for _, mm in widths)
    assert all(pixels / (mm / 25.4) >= 150 for pixels, mm in widths)
    # Same scale: millimetres per pixel are the same for every chart (up to rounding).
    ratios = [mm / pixels for pixels, mm in widths]
    assert max(ratios) - min(ratios) < 0.001
    assert '<table class="t-indicators wide">' in html_text  # the indicator table has more than 7 columns


def test_xlsx_sheets_frozen_header_widths_and_inert_text(data_state: State) -> None:
    measures = dict(data_state.catalogue.measures)
    measures["M21"] = replace(measures["M21"], title=INJECTION)
    s = data_state.with_catalogue(replace(data_state.catalogue, measures=measures))
    deliver(s, "evil.csv", [(SOZIAL.id, "", "2018", 5.0, "+49 261 129-0", 1), (SOZIAL.id, "Mitte", "2018", 1.0,
                                                                                "@SUM(A1)", 2),
                            (QUOTE.id, "Mitte", "2018", None, "-\tnicht erhoben\x07", 3)])
    s.store.add_step("M21", "=1+1 prüfen")
    wb = load_workbook(io.BytesIO(render_xlsx(build_report(s, date(2018, 9, 25)))))
    assert wb.sheetnames == ["Übersicht", "Besprechungen", "Ohne Termin", "Protokolle", "Indikatoren",
                             "Lieferungen", "Überfällig", "Schritte"]
    for ws in wb.worksheets:
        assert ws.freeze_panes == "A2", ws.title
        assert ws.column_dimensions["A"].width >= 8
    meetings = wb["Besprechungen"]
    assert [c.value for c in meetings[1]] == ["Maßnahmen-Nr. und Bezeichnung der Maßnahme", "Termin", "Vorgehensweise"]
    assert meetings["A2"].value.startswith("M 14, „Es werden Modelle")
    assert meetings["B2"].value == datetime(2018, 6, 28) and meetings["B2"].number_format == "DD.MM.YYYY"
    assert meetings.column_dimensions["A"].width == 80
    title = wb["Übersicht"]["C6"]  # M 21, the fifth measure
    assert title.value == INJECTION and title.data_type == "s"
    inds = wb["Indikatoren"]
    notes = [row[10] for row in inds.iter_rows(min_row=2)]
    evil = {c.value: c for c in notes if c.value}
    assert set(evil) == {"+49 261 129-0", "@SUM(A1)", "-\tnicht erhoben"}
    assert all(c.data_type == "s" for c in evil.values())
    values = [row[5] for row in inds.iter_rows(min_row=2) if row[5].value is not None]
    assert all(c.data_type == "n" for c in values)
    steps = [c.value for c in wb["Schritte"]["C"]]
    assert "=1+1 prüfen" in steps
    step = next(c for c in wb["Schritte"]["C"] if c.value == "=1+1 prüfen")
    assert step.data_type == "s" and step.font.italic
    assert wb["Besprechungen"].cell(row=15, column=1).value == DOCUMENT_NOTE


def test_html_and_markdown_escape_delivered_text(data_state: State) -> None:
    deliver(data_state, "tags.csv", [(QUOTE.id, "<b>Mitte</b>", "2018", 99.0, "a | b <script>", 1)])
    html_text = render_html(build_report(data_state, date(2018, 9, 25)))
    assert "<script>" not in html_text and "&lt;script&gt;" in html_text
    page = parse(html_text)
    table = next(t for t in page.tables if t[0][0] == "Maßnahme" and "Indikator" in t[0])
    assert any("99 (<b>Mitte</b>) bis 99 (<b>Mitte</b>)" in row for row in table)
    assert any("a | b <script>" in row for row in table)
    md = render_markdown(build_report(data_state, date(2018, 9, 25)))
    line = next(x for x in md.splitlines() if "script" in x)
    assert "a \\| b \\<script\\>" in line


# ---------------------------------------------------------------- chat commands
def test_bericht_sends_the_report_as_a_document(state: State, operator: Caller) -> None:
    reply = dispatch(state, "/bericht", operator, at("2018-09-21 10:00"))
    assert reply.ok and len(reply.attachments) == 1
    doc = reply.attachments[0]
    assert doc.kind == "document" and doc.filename == "bericht_2018-09-21.html"
    page = parse(doc.data.decode("utf-8"))
    meetings = next(t for t in page.tables if t[0][0] == "Maßnahmen-Nr. und Bezeichnung der Maßnahme")
    assert [tuple(r) for r in meetings[1:]] == DOCUMENT_TABLE
    xlsx = dispatch(state, "/report xlsx", operator, at("2018-09-21 10:00")).attachments[0]
    assert xlsx.filename.endswith(".xlsx") and load_workbook(io.BytesIO(xlsx.data)).sheetnames[0] == "Übersicht"
    bad = dispatch(state, "/bericht docx", operator, at("2018-09-21 10:00"))
    assert bad.status == "usage" and "„docx“" in bad.plain() and "pdf" in bad.plain()


def test_bericht_is_for_members_only(state: State) -> None:
    reply = dispatch(state, "/bericht", Caller(user_id=999, chat_id=999), at("2018-09-21 10:00"))
    assert reply.status == "denied" and not reply.attachments


def test_trend_sends_a_png_of_one_indicator(data_state: State, operator: Caller) -> None:
    reply = dispatch(data_state, "/trend M33 SGB-II-Quote", operator, at("2018-09-25 10:00"))
    assert reply.ok, reply.plain()
    photo = reply.attachments[0]
    assert photo.kind == "photo" and photo.mime == "image/png"
    assert png_size(photo.data) == (1200, 675)  # at least 1,200 px wide for chat
    assert "M 33" in reply.plain()
    by_id = dispatch(data_state, "/chart 21 M21-sozialwohnungen", operator, at("2018-09-25 10:00"))
    assert by_id.ok and png_size(by_id.attachments[0].data) == (1200, 675)


def test_trend_without_indicator_draws_small_multiples(data_state: State, operator: Caller) -> None:
    reply = dispatch(data_state, "/trend M21", operator, at("2018-09-25 10:00"))
    assert reply.ok and reply.attachments[0].kind == "photo"
    width, _ = png_size(reply.attachments[0].data)
    assert width >= 1200


def test_trend_unknown_indicator_names_the_closest(data_state: State, operator: Caller) -> None:
    reply = dispatch(data_state, "/trend M21 Sozialwonungen-neu", operator, at("2018-09-25 10:00"))
    assert reply.status == "usage" and not reply.attachments
    assert reply.plain() == ("Den Indikator „Sozialwonungen-neu“ gibt es bei M 21 nicht – meinten Sie "
                             "„Beispiel: Neu gebaute Sozialwohnungen“?")


def test_trend_without_data_is_a_sentence_not_an_empty_chart(state: State, operator: Caller) -> None:
    s = with_indicators(state, SOZIAL)
    reply = dispatch(s, "/trend M21 M21-sozialwohnungen", operator, at("2018-09-25 10:00"))
    assert reply.ok and not reply.attachments
    assert "noch keine Werte geliefert" in reply.plain()
    reply = dispatch(s, "/trend M21", operator, at("2018-09-25 10:00"))
    assert not reply.attachments and "noch keine Werte geliefert" in reply.plain()
    reply = dispatch(s, "/trend M14", operator, at("2018-09-25 10:00"))
    assert not reply.attachments and "keine Indikatoren" in reply.plain()


def test_report_in_english(state: State) -> None:
    report = build_report(state.for_language("en"), DOCUMENT_DAY)
    assert report.section("meetings").table.columns[0].title == "Measure no. and title of the measure"
    assert report.unscheduled_note == ("Note: the meetings on M 12 and M 13 are still outstanding. "
                                       "They are being scheduled.")
    assert report.stand == "As of: 21 September 2018"


# ---------------------------------------------------------------- the first page and consistency
def summary_rows(report) -> dict[str, object]:
    return {r.measure: r for g in report.summary.groups for r in g.rows}


def test_first_page_has_one_line_per_measure_grouped_by_field(state: State) -> None:
    report = build_report(state, DOCUMENT_DAY)
    groups = report.summary.groups
    assert [g.field for g in groups] == ["Pflege", "Wohnen", "Soziale Lage", "Bildung"]
    assert [[r.measure for r in g.rows] for g in groups] == [
        ["M 11", "M 12", "M 13", "M 14"], ["M 21", "M 22", "M 23", "M 24"], ["M 31", "M 32", "M 33"],
        ["M 41", "M 42", "M 43"]]
    rows = summary_rows(report)
    assert rows["M 11"].meeting.kind == "ok" and rows["M 11"].meeting.text == "20.09.2018"
    assert rows["M 12"].meeting.kind == "warn" and rows["M 12"].meeting.text == "noch nicht terminiert"
    assert rows["M 21"].indicators.text == "noch keine festgelegt"
    assert rows["M 21"].protocol.text == "noch nicht versandt"  # held, no protocol recorded yet
    assert rows["M 12"].steps.text == "2 offen"
    # The short title on the first page; the full one stands in the meetings table.
    assert rows["M 21"].title.endswith("…") and len(rows["M 21"].title) <= 64
    attention = report.summary.attention
    assert 3 <= len(attention) <= 5
    assert attention[0] == "Für M 12 und M 13 ist noch keine Besprechung angesetzt."
    page = parse(render_html(report))
    assert page.headings[1] == ("h2", "Auf einen Blick")
    assert ("h3", "Für den Ausschuss") in page.headings
    first = page.tables[0]
    assert first[0] == ["Maßnahme", "Kurzbezeichnung", "Federführung", "Besprechung", "Protokoll", "Indikatoren",
                        "Schritte"]
    assert first[1] == ["Pflege"]


def test_summary_marks_follow_signatures_deliveries_and_steps(data_state: State) -> None:
    store = data_state.store
    p21, _ = store.record_protocol("M21", date(2018, 9, 20), sent_on=date(2018, 9, 21),
                                   signatories=["Erika Muster", "Max Mustermann"])
    store.sign(p21.id, "Erika Muster", signed_on=date(2018, 9, 24), channel="chat", at=datetime(2018, 9, 24, 9))
    store.add_step("M33", "Stadtteildaten abstimmen", due=date(2019, 1, 31))
    report = build_report(data_state, date(2019, 3, 5))
    rows = summary_rows(report)
    assert rows["M 21"].protocol == rows["M 21"].protocol.__class__("warn", "1/2 unterzeichnet")
    assert rows["M 21"].indicators.kind == "warn" and rows["M 21"].indicators.text == "1 von 1 überfällig"
    assert rows["M 33"].steps.text == "2 offen, 1 überfällig"
    attention = report.summary.attention
    assert any(a.startswith("2 Lieferungen von Indikatorwerten sind überfällig, die älteste seit 01.03.2019")
               for a in attention)
    assert "Unter einem Gesprächsprotokoll fehlen noch Unterschriften (M 21: 1 von 2)." in attention
    assert "Ein Schritt ist überfällig (M 33 bis 31.01.2019)." in attention
    assert len(attention) <= 5
    # On time, all is current.
    rows = summary_rows(build_report(data_state, date(2019, 2, 28)))
    assert rows["M 21"].indicators.kind == "ok" and rows["M 21"].indicators.text == "1 aktuell"


def test_scheduling_m12_leaves_no_sentence_contradicting_another(state: State, operator: Caller) -> None:
    reply = dispatch(state, "/termin M12 05.11.2018 08:00 Befragung", operator, at("2018-10-01 10:00"))
    assert reply.ok, reply.plain()
    md = render_markdown(build_report(state, at("2018-10-01 11:00")))
    assert "Gespräch zu M 12 terminieren*" not in md  # not listed as an outstanding step any more …
    assert "Erledigt durch die Terminierung: „Gespräch zu M 12 terminieren“ (M 12, Besprechung am 05.11.2018, " \
           "08:00 Uhr)." in md  # … but named as settled
    assert "Hinweis: das Gespräch zu M 13 steht noch aus." in md
    assert "*Gespräch zu M 13 terminieren*" in md
    reply = dispatch(state, "/termin M13 06.11.2018 Bestandsanalyse", operator, at("2018-10-01 10:00"))
    assert reply.ok, reply.plain()
    report = build_report(state, at("2018-10-01 11:00"))
    md = render_markdown(report)
    html_text = render_html(report)
    for text in (md, html_text):
        assert "Alle Maßnahmen haben einen Besprechungstermin." in text
        assert "terminieren</em>" not in text and "terminieren*" not in text
        assert "stehen noch aus" not in text and "noch nicht terminiert" not in text
    assert not any("keine Besprechung angesetzt" in a for a in report.summary.attention)
    assert report.summary.attention[-1] == "Nächste Besprechung: M 12 am 05.11.2018, 08:00 Uhr (Befragung)." or any(
        a.startswith("Nächste Besprechung: M 12") for a in report.summary.attention)


def test_full_titles_stand_once(state: State) -> None:
    html_text = render_html(build_report(state, DOCUMENT_DAY))
    md = render_markdown(build_report(state, DOCUMENT_DAY))
    for measure in state.catalogue.measures.values():
        if len(measure.title) > 64:
            assert html_text.count(measure.title) == 1, measure.id
            assert md.count(_md_escaped(measure.title)) == 1, measure.id
    # A measure with a meeting held and one upcoming: the title stands in the first table only.
    state.store.add_meeting("M21", date(2018, 11, 5), approach="Nachbesprechung")
    report = build_report(state, DOCUMENT_DAY)
    assert [r.cell for r in report.upcoming] == ["M 21"]
    assert render_html(report).count(state.catalogue.measures["M21"].title) == 1


def _md_escaped(text: str) -> str:
    from commands.render_report import _md

    return _md(text)


def test_a_held_meeting_counts_from_its_hour_in_every_section(state: State, operator: Caller) -> None:
    assert dispatch(state, "/termin M12 21.09.2018 08:00 Befragung", operator, at("2018-09-20 10:00")).ok
    early = build_report(state, at("2018-09-21 07:59"))
    late = build_report(state, at("2018-09-21 08:00"))
    assert "M12" in {r.measure for r in early.upcoming} and "M12" not in {r.measure for r in early.meetings}
    assert "M12" in {r.measure for r in late.meetings} and not late.upcoming
    assert early.unscheduled == late.unscheduled == ("M13",)
    assert late.stand == "Stand: 21. September 2018"
    assert late.footer == "Erstellt vom Sozialmonitor am 21.09.2018 um 08:00 Uhr."


def test_bericht_pdf_is_a_pdf_document(state: State, operator: Caller) -> None:
    reply = dispatch(state, "/bericht pdf", operator, at("2018-09-21 10:00"))
    assert reply.ok, reply.plain()
    doc = reply.attachments[0]
    assert doc.filename == "bericht_2018-09-21.pdf" and doc.mime == "application/pdf"
    assert doc.data.startswith(b"%PDF-") and b"%%EOF" in doc.data[-64:]
    assert dispatch(state, "/bericht pdf xlsx", operator, at("2018-09-21 10:00")).status == "usage"


def test_trend_compares_chosen_areas(data_state: State, operator: Caller) -> None:
    from commands.report import indicator_panel

    deliver(data_state, "more.csv", [(QUOTE.id, "Karthause-Nord", "2017", 14.0, "", 1),
                                     (QUOTE.id, "", "2017", 12.0, "", 2)], office="Amt 12")
    reply = dispatch(data_state, "/trend M33 SGB-II-Quote Mitte,karthause nord", operator, at("2018-09-25 10:00"))
    assert reply.ok, reply.plain()
    assert reply.plain().endswith("; Gebiete: Mitte, Karthause-Nord")
    assert png_size(reply.attachments[0].data) == (1200, 675)
    panel = indicator_panel(data_state, QUOTE, ["Mitte", "Karthause-Nord"])
    assert [line.label for line in panel.lines] == ["Mitte", "Karthause-Nord"]
    # The whole city by name, an indicator named by several words before the areas.
    reply = dispatch(data_state, "/trend M33 Beispiel: SGB-II-Quote Gesamtstadt, Altstadt", operator,
                     at("2018-09-25 10:00"))
    assert reply.ok, reply.plain()
    assert reply.plain().endswith("; Gebiete: Gesamtstadt, Altstadt")
    unknown = dispatch(data_state, "/trend M33 SGB-II-Quote Mitte,Atlantis", operator, at("2018-09-25 10:00"))
    assert unknown.status == "usage" and not unknown.attachments
    assert unknown.plain().startswith("Das Gebiet „Atlantis“ kommt bei „Beispiel: SGB-II-Quote“ nicht vor; "
                                      "geliefert sind: Gesamtstadt, Altstadt, Karthause-Nord, Mitte.")


def test_xlsx_prints_landscape_one_page_wide_with_repeated_header(data_state: State) -> None:
    wb = load_workbook(io.BytesIO(render_xlsx(build_report(data_state, date(2018, 9, 25)))))
    assert wb.sheetnames[0] == "Übersicht"
    for ws in wb.worksheets:
        setup = ws.page_setup
        assert setup.orientation == "landscape" and setup.paperSize in (9, "9"), ws.title
        # fitToWidth left out means 1, its default in the file format (XlsxWriter writes it only otherwise).
        assert ws.sheet_properties.pageSetUpPr.fitToPage and setup.fitToWidth in (None, 1) and setup.fitToHeight == 0
        assert ws.print_title_rows == "$1:$1"
        assert ws.oddFooter.right.text == "Seite &P von &N" and ws.oddFooter.left.text == "Stand: 25. September 2018"
        header = list(ws[1])
        assert all(c.alignment.wrap_text for c in header if c.value)
        # Wide text columns wrap; no column is wider than a landscape page holds comfortably.
        widths = [ws.column_dimensions[c.column_letter].width for c in header]
        assert max(widths) <= 80 and sum(widths) <= 260, ws.title
    overview = wb["Übersicht"]
    assert [c.value for c in overview[1]][:3] == ["Handlungsfeld", "Maßnahme", "Kurzbezeichnung"]
    assert overview["B2"].value == "M 11" and overview["A2"].value == "Pflege"
    texts = [c.value for c in overview["A"] if isinstance(c.value, str)]
    assert "Für den Ausschuss:" in texts


def test_markdown_tables_are_laid_out_exactly_as_tabulate_lays_them_out() -> None:
    headers = ["Maßnahme", "Wert", "", "Ein sehr langer Kopf"]
    rows = [["M 11", "1.234,5", "", "x"], ["", "−3", "✓ aktuell", ""],
            ["M 21, „Es werden …“", "", "a \\| b", "*kursiv*"]]
    align = ["left", "right", "left", "right"]
    expected = tabulate(rows, headers=headers, tablefmt="pipe", disable_numparse=True, colalign=align)
    assert pipe_table(headers, rows, align) == expected
