"""The catalogue (katalog.toml): measures, indicators, offices and persons, read and checked."""

from __future__ import annotations

import difflib
import itertools
import json
import math
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .models import ADMIN, MEMBER, Indicator, Measure, Office, Person
from .seed import FIELDS, MEASURES
from .sozialindex import DEFAULT_DYNAMICS_LIMITS, DEFAULT_SPAN, DEFAULT_STATUS_LIMITS, IndexConfig

__all__ = [
    "FREQUENCIES",
    "Catalogue",
    "CatalogueProblem",
    "load_catalogue",
    "normalize_measure",
    "parse_catalogue",
    "render_catalogue",
    "render_sozialindex",
]

FREQUENCIES = ("monatlich", "vierteljährlich", "halbjährlich", "jährlich")
_MEASURE_RE = re.compile(r"^\s*m?\s*(\d{2})\s*$", re.IGNORECASE)


def normalize_measure(text: str) -> str | None:
    """'M21', 'M 21', 'm21' and '21' -> 'M21'; None if it is no measure id at all."""
    match = _MEASURE_RE.match(str(text))
    return f"M{match.group(1)}" if match else None


@dataclass(frozen=True)
class CatalogueProblem:
    """One problem in the catalogue, with where it is; `code` names the message, `params` fill it."""

    file: str
    line: int | None
    code: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Catalogue:
    offices: dict[str, Office]
    measures: dict[str, Measure]
    indicators: dict[str, Indicator]
    persons: tuple[Person, ...]
    sozialindex: IndexConfig | None = None  # [sozialindex]; None when absent or unusable

    def measure(self, text: str) -> Measure | None:
        mid = normalize_measure(text)
        return self.measures.get(mid) if mid else None

    def indicators_of(self, measure: str) -> list[Indicator]:
        return [i for i in self.indicators.values() if i.measure == measure]

    def find_indicator(self, measure: str | None, text: str) -> Indicator | None:
        """By id or by name, case-insensitively, optionally limited to one measure."""
        key = " ".join(str(text).split()).casefold()
        for ind in self.indicators.values():
            if measure and ind.measure != measure:
                continue
            if ind.id.casefold() == key or ind.name.casefold() == key:
                return ind
        return None

    def person_by_telegram(self, telegram_id: int | None) -> Person | None:
        if telegram_id is None:
            return None
        return next((p for p in self.persons if p.telegram_id == telegram_id), None)

    def person(self, name: str) -> Person | None:
        return next((p for p in self.persons if p.name == name), None)

    def participants(self, measure: str) -> list[Person]:
        return [p for p in self.persons if measure in p.measures]

    def office_persons(self, office: str) -> list[Person]:
        return [p for p in self.persons if p.office == office]

    @property
    def admins(self) -> list[Person]:
        return [p for p in self.persons if p.role == ADMIN]

    def measures_by_field(self) -> dict[str, list[Measure]]:
        out: dict[str, list[Measure]] = {f: [] for f in FIELDS.values()}
        for m in self.measures.values():
            out.setdefault(m.field, []).append(m)
        return out


def _entry_lines(text: str, kind: str) -> list[int]:
    """Line numbers (1-based) of each `[[kind]]` header, so problems can point at their entry."""
    pattern = re.compile(rf"^\s*\[\[\s*{re.escape(kind)}\s*\]\]")
    return [n for n, line in enumerate(text.splitlines(), 1) if pattern.match(line)]


def parse_catalogue(text: str, filename: str = "katalog.toml") -> tuple[Catalogue | None, list[CatalogueProblem]]:
    """Parse and check a catalogue; every problem is reported, not just the first."""
    problems: list[CatalogueProblem] = []

    def problem(line: int | None, code: str, **params: object) -> None:
        problems.append(CatalogueProblem(filename, line, code, params))

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        problem(int(line.group(1)) if line else None, "toml_syntax", detail=str(exc))
        return None, problems

    def entries(kind: str) -> Iterable[tuple[int | None, dict]]:
        raw = data.get(kind, [])
        lines = _entry_lines(text, kind)
        if not isinstance(raw, list):
            problem(None, "cat_not_list", kind=kind)
            return []
        return [(lines[i] if i < len(lines) else None, e) for i, e in enumerate(raw) if isinstance(e, dict)]

    offices: dict[str, Office] = {}
    for line, e in entries("amt"):
        oid = str(e.get("id", "")).strip()
        if not oid:
            problem(line, "cat_missing", kind="amt", key="id")
            continue
        if oid in offices:
            problem(line, "cat_duplicate", kind="amt", id=oid)
        offices[oid] = Office(oid, str(e.get("name", "")))

    measures: dict[str, Measure] = {}
    for line, e in entries("massnahme"):
        mid = normalize_measure(str(e.get("id", "")))
        if not mid:
            problem(line, "cat_bad_measure_id", found=e.get("id", ""))
            continue
        if mid in measures:
            problem(line, "cat_duplicate", kind="massnahme", id=mid)
        fld = str(e.get("feld", FIELDS.get(mid[1], "")))
        if fld not in FIELDS.values():
            problem(line, "cat_bad_field", id=mid, found=fld, expected=", ".join(FIELDS.values()))
        phase = e.get("phase", 1)
        if phase not in (1, 2):
            problem(line, "cat_bad_phase", id=mid, found=phase)
            phase = 1
        lead = tuple(str(x) for x in e.get("federfuehrung", []) or [])
        for office in lead:
            if offices and office not in offices:
                problem(line, "cat_unknown_office", id=mid, office=office)
        measures[mid] = Measure(
            id=mid, field=fld, title=str(e.get("titel", "")), lead_offices=lead, phase=phase,
            external=tuple(str(x) for x in e.get("externe_stellen", []) or []), hint=str(e.get("hinweis", "")),
        )

    indicators: dict[str, Indicator] = {}
    for line, e in entries("indikator"):
        iid = str(e.get("id", "")).strip()
        mid = normalize_measure(str(e.get("massnahme", "")))
        if not iid:
            problem(line, "cat_missing", kind="indikator", key="id")
            continue
        if iid in indicators:
            problem(line, "cat_duplicate", kind="indikator", id=iid)
        if not mid or mid not in measures:
            problem(line, "cat_unknown_measure", id=iid, found=e.get("massnahme", ""))
            continue
        freq = str(e.get("turnus", "jährlich"))
        if freq not in FREQUENCIES:
            problem(line, "cat_bad_frequency", id=iid, found=freq, expected=", ".join(FREQUENCIES))
            freq = "jährlich"
        due = e.get("frist_tage", 60)
        if not isinstance(due, int) or isinstance(due, bool) or due < 0:
            problem(line, "cat_bad_due", id=iid, found=due)
            due = 60
        office = str(e.get("amt", ""))
        if office and offices and office not in offices:
            problem(line, "cat_unknown_office", id=iid, office=office)
        indicators[iid] = Indicator(id=iid, measure=mid, name=str(e.get("name", iid)), unit=str(e.get("einheit", "")),
                                    frequency=freq, due_days=due, office=office)

    persons: list[Person] = []
    seen_ids: set[int] = set()
    seen_names: set[str] = set()
    for line, e in entries("person"):
        name = str(e.get("name", "")).strip()
        if not name:
            problem(line, "cat_missing", kind="person", key="name")
            continue
        if name in seen_names:
            # Signatures and reminders are kept by name: two people of one name would share them.
            problem(line, "cat_duplicate", kind="person", id=name)
        seen_names.add(name)
        tid = e.get("telegram_id")
        if tid is not None and (not isinstance(tid, int) or isinstance(tid, bool)):
            problem(line, "cat_bad_telegram_id", name=name, found=tid)
            tid = None
        if tid is not None:
            if tid in seen_ids:
                problem(line, "cat_duplicate", kind="telegram_id", id=tid)
            seen_ids.add(tid)
        role = str(e.get("rolle", MEMBER))
        if role not in (ADMIN, MEMBER):
            problem(line, "cat_bad_role", name=name, found=role)
            role = MEMBER
        pm = []
        for raw in e.get("massnahmen", []) or []:
            mid = normalize_measure(str(raw))
            if not mid or mid not in measures:
                problem(line, "cat_unknown_measure", id=name, found=raw)
            else:
                pm.append(mid)
        office = str(e.get("amt", ""))
        if office and offices and office not in offices:
            problem(line, "cat_unknown_office", id=name, office=office)
        persons.append(Person(name=name, office=office, telegram_id=tid, role=role, measures=tuple(pm)))

    ordered = dict(sorted(measures.items()))
    sozialindex = _parse_sozialindex(data, text, indicators, problem)
    return Catalogue(offices, ordered, indicators, tuple(persons), sozialindex), problems


def load_catalogue(path: Path) -> tuple[Catalogue | None, list[CatalogueProblem]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [CatalogueProblem(str(path), None, "file_missing", {"path": str(path)})]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [CatalogueProblem(str(path), None, "file_unreadable", {"path": str(path), "detail": str(exc)})]
    return parse_catalogue(text, str(path))


def _toml_str(value: str) -> str:
    # A JSON string literal is a valid TOML basic string (same escapes).
    return json.dumps(value, ensure_ascii=False)


def _toml_list(values: Iterable[object]) -> str:
    return "[" + ", ".join(_toml_str(v) if isinstance(v, str) else str(v) for v in values) + "]"


def render_catalogue(
    measures: Iterable[Measure] | None = None,
    offices: Iterable[Office] = (),
    indicators: Iterable[Indicator] = (),
    persons: Iterable[Person] = (),
    header: str = "",
    sozialindex: IndexConfig | None = None,
) -> str:
    """Write a catalogue as commented TOML (used by `init`)."""
    if measures is None:
        measures = [Measure(mid, FIELDS[mid[1]], title, hint=hint) for mid, (title, hint) in MEASURES.items()]
    out = [header] if header else []
    offices = list(offices)
    if offices:
        out.append("# Ämter und Stellen: die Kurznamen werden unten überall verwendet.")
    for o in offices:
        out += ["[[amt]]", f"id = {_toml_str(o.id)}", f"name = {_toml_str(o.name)}", ""]
    out.append("# Die 14 Maßnahmen (Handlungsempfehlungen), Titel wörtlich aus der Dokumentation vom 21.09.2018.")
    out.append("# feld: Pflege | Wohnen | Soziale Lage | Bildung;")
    out.append("# phase: 1 = verwaltungsintern, 2 = mit externen Stellen")
    for m in measures:
        out += [
            "[[massnahme]]",
            f"id = {_toml_str(m.id)}",
            f"feld = {_toml_str(m.field)}",
            f"titel = {_toml_str(m.title)}",
            f"federfuehrung = {_toml_list(m.lead_offices)}",
            f"phase = {m.phase}",
            f"externe_stellen = {_toml_list(m.external)}",
            f"hinweis = {_toml_str(m.hint)}",
            "",
        ]
    indicators = list(indicators)
    out.append("# Indikatoren: turnus monatlich | vierteljährlich | halbjährlich | jährlich;")
    out.append("# frist_tage: die Lieferung ist so viele Tage nach Ende des Zeitraums fällig.")
    for i in indicators:
        out += [
            "[[indikator]]",
            f"id = {_toml_str(i.id)}",
            f"massnahme = {_toml_str(i.measure)}",
            f"name = {_toml_str(i.name)}",
            f"einheit = {_toml_str(i.unit)}",
            f"turnus = {_toml_str(i.frequency)}",
            f"frist_tage = {i.due_days}",
            f"amt = {_toml_str(i.office)}",
            "",
        ]
    persons = list(persons)
    out.append("# Personen: rolle admin | mitglied; massnahmen = an deren Besprechungen sie teilnehmen und deren")
    out.append("# Protokolle sie unterschreiben; telegram_id bekommt man mit /start vom Bot.")
    for p in persons:
        out += ["[[person]]", f"name = {_toml_str(p.name)}", f"amt = {_toml_str(p.office)}"]
        if p.telegram_id is not None:
            out.append(f"telegram_id = {p.telegram_id}")
        out += [f"rolle = {_toml_str(p.role)}", f"massnahmen = {_toml_list(p.measures)}", ""]
    if out and out[-1]:
        out.append("")
    out.append(render_sozialindex(sozialindex))  # active with a config, else the commented example
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------- [sozialindex] (the social burden index)
_SI_TABLE = "sozialindex"
_SI_KEYS = ("indikatoren", "umgekehrt", "bezugsjahr", "dynamik_jahre", "status_grenzen", "dynamik_grenzen")
_SI_MAX_SPAN = 20


def _table_line(text: str, name: str) -> int | None:
    pattern = re.compile(rf"^\s*\[\s*{re.escape(name)}\s*\]")
    return next((n for n, line in enumerate(text.splitlines(), 1) if pattern.match(line)), None)


def _key_line(text: str, start: int | None, key: str) -> int | None:
    """The line assigning `key` inside the table that starts at line `start` (before the next header)."""
    if start is None:
        return None
    pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for n, line in enumerate(text.splitlines()[start:], start + 1):
        if line.lstrip().startswith("["):
            return None
        if pattern.match(line):
            return n
    return None


def _parse_sozialindex(data: dict, text: str, indicators: dict[str, Indicator],
                       problem: Callable[..., None]) -> IndexConfig | None:
    """`[sozialindex]` checked; None when absent, or when its indicators cannot be used (check says why).

    A wrong optional value (year, span, class limits) is reported and replaced by its default, so the index
    stays available while the Fachstelle corrects it.
    """
    if _SI_TABLE not in data:
        return None
    raw = data[_SI_TABLE]
    head = _table_line(text, _SI_TABLE)

    def line(key: str) -> int | None:
        return _key_line(text, head, key) or head

    if not isinstance(raw, dict):
        problem(head, "si_not_table")
        return None
    for key in raw:
        if key not in _SI_KEYS:
            problem(line(key), "si_unknown_key", key=key, known=", ".join(_SI_KEYS))
    ids = raw.get("indikatoren")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i.strip() for i in ids):
        problem(line("indikatoren"), "si_no_indicators")
        return None
    usable = True
    chosen: list[str] = []
    for iid in (i.strip() for i in ids):
        if iid in chosen:
            problem(line("indikatoren"), "si_duplicate_indicator", id=iid)
            continue
        chosen.append(iid)
        if iid not in indicators:
            usable = False
            near = difflib.get_close_matches(iid, list(indicators), n=1)
            if near:
                problem(line("indikatoren"), "si_unknown_indicator_near", id=iid, closest=near[0])
            else:
                problem(line("indikatoren"), "si_unknown_indicator", id=iid)
    reversed_ids = raw.get("umgekehrt", [])
    if not isinstance(reversed_ids, list) or not all(isinstance(i, str) for i in reversed_ids):
        problem(line("umgekehrt"), "si_bad_reversed")
        reversed_ids = []
    for iid in reversed_ids:
        if iid.strip() not in chosen:
            problem(line("umgekehrt"), "si_reversed_not_index", id=iid)
    year = raw.get("bezugsjahr")
    if year is not None and (not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 2199):
        problem(line("bezugsjahr"), "si_bad_year", found=year)
        year = None
    span = raw.get("dynamik_jahre", DEFAULT_SPAN)
    if not isinstance(span, int) or isinstance(span, bool) or not 1 <= span <= _SI_MAX_SPAN:
        problem(line("dynamik_jahre"), "si_bad_span", found=span, most=_SI_MAX_SPAN)
        span = DEFAULT_SPAN

    def limits(key: str, default: tuple[float, ...]) -> tuple[float, ...]:
        value = raw.get(key, list(default))
        ok = (isinstance(value, list) and len(value) == len(default)
              and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value)
              and all(a < b for a, b in itertools.pairwise(value)))
        if not ok:
            problem(line(key), "si_bad_limits", key=key, n=len(default), found=value,
                    default=_toml_list(default))
            return default
        return tuple(float(v) for v in value)

    status_limits = limits("status_grenzen", DEFAULT_STATUS_LIMITS)
    dynamics_limits = limits("dynamik_grenzen", DEFAULT_DYNAMICS_LIMITS)
    if not usable:
        return None
    return IndexConfig(tuple(chosen), tuple(i.strip() for i in reversed_ids if i.strip() in chosen), year, span,
                       status_limits, dynamics_limits)  # type: ignore[arg-type]


# The example `init` writes (commented out): the four MSS index indicators as M 33 would deliver them.
_SI_EXAMPLE_INDICATORS = (
    ("M33-sgb2", "Transferbezug: Anteil Leistungsberechtigte SGB II/XII (nicht arbeitslos) an den Einwohnern"),
    ("M33-arbeitslose", "Arbeitslosigkeit: Anteil Arbeitslose (SGB II und III) an den 15- bis unter 65-Jährigen"),
    ("M33-langzeitarbeitslose", "Langzeitarbeitslosigkeit: Anteil Langzeitarbeitslose an den 15- bis unter "
                                "65-Jährigen"),
    ("M33-kinderarmut", "Kinderarmut: Anteil unter 15-Jährige in Bedarfsgemeinschaften nach SGB II"),
)


def render_sozialindex(config: IndexConfig | None = None) -> str:
    """The `[sozialindex]` block of katalog.toml: active for `config`, else a commented example using M 33."""
    intro = [
        "# Sozialindex (Monitoring der sozialen Belastung, nach dem Berliner „Monitoring Soziale Stadtentwicklung“):",
        "# Anteile je Stadtteil werden über alle Stadtteile z-standardisiert und zu einem Status- und einem",
        "# Dynamikindex zusammengefasst (/sozialindex). umgekehrt: Indikatoren, bei denen ein höherer Wert weniger",
        "# Belastung bedeutet; bezugsjahr: ohne Angabe das letzte Jahr mit Werten aller Indikatoren;",
        "# dynamik_jahre: die Dynamik vergleicht mit so vielen Jahren davor; Klassengrenzen in Standardabweichungen",
        "# des Index: status_grenzen trennt hoch | mittel | niedrig | sehr niedrig, dynamik_grenzen positiv |",
        "# stabil | negativ.",
    ]
    if config is not None:
        return "\n".join([*intro, f"[{_SI_TABLE}]", f"indikatoren = {_toml_list(config.indicators)}",
                          f"umgekehrt = {_toml_list(config.reversed)}",
                          *([f"bezugsjahr = {config.reference_year}"] if config.reference_year is not None else []),
                          f"dynamik_jahre = {config.span}", f"status_grenzen = {_toml_list(config.status_limits)}",
                          f"dynamik_grenzen = {_toml_list(config.dynamics_limits)}", ""])
    out = [*intro, "# Zum Einschalten die Indikatoren anlegen (Beispiel: die vier Index-Indikatoren zu M 33) und",
           "# die Zeilen ohne das führende „# “ übernehmen:", "#"]
    for iid, name in _SI_EXAMPLE_INDICATORS:
        out += ["# [[indikator]]", f"# id = {_toml_str(iid)}", '# massnahme = "M33"', f"# name = {_toml_str(name)}",
                '# einheit = "%"', '# turnus = "jährlich"', "# frist_tage = 90", '# amt = ""', "#"]
    ids = _toml_list(i for i, _ in _SI_EXAMPLE_INDICATORS)
    out += [f"# [{_SI_TABLE}]", f"# indikatoren = {ids}  # Kennungen, Werte je Stadtteil",
            "# umgekehrt = []                     # höherer Wert = weniger Belastung",
            "# bezugsjahr = 2018                  # ohne Angabe: das letzte Jahr mit Werten aller Indikatoren",
            "# dynamik_jahre = 2                  # die Dynamik vergleicht mit so vielen Jahren davor",
            f"# status_grenzen = {_toml_list(DEFAULT_STATUS_LIMITS)}  # hoch | mittel | niedrig | sehr niedrig",
            f"# dynamik_grenzen = {_toml_list(DEFAULT_DYNAMICS_LIMITS)}      # positiv | stabil | negativ", ""]
    return "\n".join(out)
