"""Renew the example pages in docs/: the demo workspace's report as the committee gets it, one page per format.

Usage: python docs/bilder.py   (needs pdftoppm and Chromium; the workbook page also LibreOffice, else it is kept)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.workspace import Monitor, create_workspace  # noqa: E402
from commands import Caller, dispatch  # noqa: E402
from commands.render_report import render_html, render_markdown, render_pdf, render_xlsx  # noqa: E402
from commands.report import build_report  # noqa: E402

DOCS = ROOT / "docs"
MOMENT = datetime(2026, 11, 25, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def page_png(pdf: Path, target: Path, dpi: int = 100) -> None:
    """Page 1 of `pdf` as `target` (PNG)."""
    subprocess.run(["pdftoppm", "-f", "1", "-l", "1", "-r", str(dpi), "-png", "-singlefile", str(pdf),
                    str(target.with_suffix(""))], check=True)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        create_workspace(work / "demo", demo_data=True, today=MOMENT.date())
        monitor = Monitor.open(work / "demo", env={})
        try:
            state = monitor.state
            report = build_report(state, MOMENT)
            (DOCS / "bericht-markdown.md").write_text(render_markdown(build_report(state, MOMENT, charts=False)),
                                                      encoding="utf-8")
            pdf = work / "bericht.pdf"
            pdf.write_bytes(render_pdf(report))
            page_png(pdf, DOCS / "bericht-pdf-seite1.png")
            html_file = work / "bericht.html"
            html_file.write_text(render_html(report), encoding="utf-8")
            browser = shutil.which("chromium") or shutil.which("chromium-browser") or "google-chrome"
            subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                            "--disable-background-networking", "--no-first-run", f"--user-data-dir={work / 'p'}",
                            "--window-size=1000,1300", f"--screenshot={DOCS / 'bericht-html.png'}",
                            html_file.as_uri()], check=True, capture_output=True)
            xlsx = work / "bericht.xlsx"
            xlsx.write_bytes(render_xlsx(build_report(state, MOMENT, charts=False)))
            if shutil.which("soffice"):
                profile = f"-env:UserInstallation={(work / 'lo').as_uri()}"
                subprocess.run(["soffice", "--headless", "--norestore", profile, "--convert-to", "pdf", "--outdir",
                                str(work / "xlsx"), str(xlsx)], check=True, capture_output=True)
                page_png(work / "xlsx" / "bericht.pdf", DOCS / "bericht-xlsx.png", dpi=90)
            else:
                print("soffice fehlt: docs/bericht-xlsx.png bleibt, wie es ist", file=sys.stderr)
            chart = dispatch(state, "/trend M21", Caller(operator=True), MOMENT).attachments[0]
            (DOCS / "trend-chat.png").write_bytes(chart.data)
        finally:
            monitor.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
