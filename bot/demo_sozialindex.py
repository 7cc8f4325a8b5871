"""Example data for the social index in the demo workspace: four M 33 index indicators for the 30 Stadtteile,
2021–2025, invented (seeded random numbers) and labelled „Beispiel“ — no real Koblenz figures."""

from __future__ import annotations

import random
from datetime import datetime
from typing import TYPE_CHECKING

from storage.models import IndexConfig, Indicator

if TYPE_CHECKING:
    from .workspace import Monitor

__all__ = ["AREAS", "CONFIG", "INDICATORS", "example_files", "record_history"]

AREAS = (
    "Altstadt", "Arenberg", "Arzheim", "Asterstein", "Bubenheim", "Ehrenbreitstein", "Goldgrube", "Güls",
    "Horchheim", "Horchheimer Höhe", "Immendorf", "Karthause Flugfeld", "Karthause Nord", "Karthäuserhofgelände",
    "Kesselheim", "Lay", "Lützel", "Metternich", "Mitte", "Moselweiß", "Neuendorf", "Niederberg", "Oberwerth",
    "Pfaffendorf", "Pfaffendorfer Höhe", "Rauental", "Rübenach", "Stolzenfels", "Süd", "Wallersheim",
)
OFFICE = "Amt 12"
_IND = (
    ("M33-sgb2", "Beispiel: Transferbezug SGB II/XII (nicht arbeitslos), Anteil an den Einwohnern"),
    ("M33-arbeitslose", "Beispiel: Arbeitslosigkeit, Anteil an den 15- bis unter 65-Jährigen"),
    ("M33-langzeitarbeitslose", "Beispiel: Langzeitarbeitslosigkeit, Anteil an den 15- bis unter 65-Jährigen"),
    ("M33-kinderarmut", "Beispiel: Kinderarmut, Anteil der unter 15-Jährigen in SGB-II-Bedarfsgemeinschaften"),
)
INDICATORS = [Indicator(iid, "M33", name, "%", "jährlich", 60, OFFICE) for iid, name in _IND]
CONFIG = IndexConfig(tuple(iid for iid, _ in _IND))
YEARS = (2021, 2022, 2023, 2024, 2025)
# A small district whose child-poverty share is withheld in the last year (too few cases): "nicht bewertbar".
_WITHHELD = ("M33-kinderarmut", "Stolzenfels", 2025)
# indicator -> (base share, spread with the district's burden, yearly drift factor)
_SHAPE = {"M33-sgb2": (2.5, 11.0, 0.5), "M33-arbeitslose": (2.0, 8.0, 0.35),
          "M33-langzeitarbeitslose": (0.6, 3.2, 0.15), "M33-kinderarmut": (4.0, 34.0, 1.4)}


def _values() -> dict[tuple[str, str, int], float]:
    """indicator, area, year -> share in %; seeded, so every demo workspace holds the same example figures."""
    rng = random.Random(33)
    out = {}
    for area in AREAS:
        burden = rng.random() ** 1.6  # most districts little burdened, a few strongly
        drift = rng.uniform(-0.35, 0.45)  # how the district develops per year
        for iid, (base, spread, factor) in _SHAPE.items():
            level = base + spread * burden * rng.uniform(0.85, 1.15)
            for k, year in enumerate(YEARS):
                value = level + factor * drift * k + rng.uniform(-0.06, 0.06) * spread / 10
                out[iid, area, year] = round(max(value, 0.1), 1)
    return out


def _csv(rows: list[tuple[str, ...]]) -> bytes:
    # As Excel saves "CSV (Trennzeichen-getrennt)": ; and decimal comma, Windows-1252.
    lines = ["Maßnahme;Indikator;Zeitraum;Gebiet;Wert;Einheit;Amt;Bemerkung", *(";".join(r) for r in rows)]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def example_files() -> dict[str, bytes]:
    """Two example deliveries (2021–2024, then 2025), so the demo has a previous computation to compare with."""
    values = _values()

    def rows(years: tuple[int, ...]) -> list[tuple[str, ...]]:
        out: list[tuple[str, ...]] = []
        for iid, _ in _IND:
            for area in AREAS:
                for year in years:
                    if (iid, area, year) == _WITHHELD:
                        out.append(("M33", iid, str(year), area, "-", "%", OFFICE,
                                    "Beispiel: Fallzahl zu klein, aus Datenschutzgründen nicht ausgewiesen"))
                        continue
                    value = f"{values[iid, area, year]:.1f}".replace(".", ",")
                    out.append(("M33", iid, str(year), area, value, "%", OFFICE, "Beispielwert"))
        return out

    return {
        "Beispiel_M33_Sozialindex_2021-2024.csv": _csv(rows(YEARS[:-1])),
        "Beispiel_M33_Sozialindex_2025.csv": _csv(rows(YEARS[-1:])),
    }


def record_history(monitor: Monitor, now: datetime | None = None) -> None:
    """After the demo import: keep the index of the year before and of the latest year as the stored
    computations, as if the monitor had computed each when its year's delivery came in."""
    from commands.sozialindex import index_result, record

    state = monitor.state
    latest = index_result(state)
    if latest is None or latest.year is None:
        return
    when = now or monitor.now()
    if latest.year - 1 in latest.years:
        earlier = index_result(state, latest.year - 1)
        assert earlier is not None
        record(state, earlier, when)
    record(state, latest, when)
