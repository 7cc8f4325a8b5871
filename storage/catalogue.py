"""The catalogue (katalog.toml): measures, indicators, offices and persons, read and checked."""

from __future__ import annotations

import itertools
import json
import math
import re
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from .models import (
    ADMIN,
    DEFAULT_DYNAMICS_LIMITS,
    DEFAULT_SPAN,
    DEFAULT_STATUS_LIMITS,
    MEMBER,
    Area,
    Delivery,
    IndexConfig,
    Indicator,
    Measure,
    Meeting,
    Office,
    Person,
    Step,
)
from .models import Protocol as MeetingProtocol
from .seed import FIELDS, MEASURES, STADTTEILE, WHOLE_CITY_AREA

__all__ = [
    "CHANNELS",
    "FREQUENCIES",
    "SEED_AREAS",
    "Catalogue",
    "CatalogueProblem",
    "StoreView",
    "StoredData",
    "area_key",
    "check_against_store",
    "is_email_address",
    "is_matrix_user",
    "load_catalogue",
    "normalize_measure",
    "parse_catalogue",
    "read_text_file",
    "render_catalogue",
    "render_sozialindex",
    "stored_data",
    "toml_problem",
]

FREQUENCIES = ("monatlich", "vierteljährlich", "halbjährlich", "jährlich")
CHANNELS = ("telegram", "matrix", "email")  # a person's preferred channel (`kanal`)
_MEASURE_RE = re.compile(r"^\s*m?\s*(\d{2})\s*$", re.IGNORECASE)


def normalize_measure(text: str) -> str | None:
    """'M21', 'M 21', 'm21' and '21' -> 'M21'; None if it is no measure id at all."""
    match = _MEASURE_RE.match(str(text))
    return f"M{match.group(1)}" if match else None


_AREA_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_AREA_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015_.]+")


def area_key(text: str) -> str:
    """'Karthause-Nord', 'karthause nord' and 'KARTHAUSE NORD' are one area (Luetzel = Lützel)."""
    return _AREA_SEPARATORS.sub("", str(text).casefold().translate(_AREA_UMLAUTS))


# Names of the whole city: a [[gebiet]] entry of one of these names stands for values without an area.
WHOLE_CITY_KEYS = frozenset(area_key(name) for name in (WHOLE_CITY_AREA, "Gesamtstadt", "gesamt", "insgesamt",
                                                        "Stadt Koblenz", "Koblenz", "whole city", "city"))
# What `init` lists under [[gebiet]]: the whole city and the 30 Stadtteile.
SEED_AREAS = (Area(WHOLE_CITY_AREA, whole_city=True), *(Area(name) for name in STADTTEILE))


@dataclass(frozen=True)
class CatalogueProblem:
    """One problem in the catalogue, with where it is; `code` names the message, `params` fill it."""

    file: str
    line: int | None
    code: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalogue:
    offices: dict[str, Office]
    measures: dict[str, Measure]
    indicators: dict[str, Indicator]
    persons: tuple[Person, ...]
    areas: dict[str, Area] = field(default_factory=dict)  # [[gebiet]] by id; empty: areas are free text
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

    def meeting_participants(self, meeting: Meeting) -> list[str]:
        """The meeting's own list, or by default the persons of that measure."""
        if meeting.participants:
            return list(meeting.participants)
        return [p.name for p in self.participants(meeting.measure)]

    def office_persons(self, office: str) -> list[Person]:
        return [p for p in self.persons if p.office == office]

    @property
    def admins(self) -> list[Person]:
        return [p for p in self.persons if p.role == ADMIN]

    @cached_property
    def _area_index(self) -> dict[str, Area]:
        index: dict[str, Area] = {}
        for area in self.areas.values():
            for name in (area.id, area.name, *area.aliases):
                if name:
                    index.setdefault(area_key(name), area)
        return index

    def area(self, text: str) -> Area | None:
        """The [[gebiet]] entry named by id, name or alias, case-, space- and hyphen-insensitively."""
        return self._area_index.get(area_key(text))

    def closest_area(self, text: str) -> Area | None:
        """The entry an unknown area text most likely means: 'Koblenz-Lützel' -> Lützel."""
        key = area_key(text)
        import difflib  # only for the suggestion in a rejection

        index = {k: a for k, a in self._area_index.items() if k and not a.whole_city}
        # A near-identical spelling first; then a known name inside the text (a city prefix, an addition:
        # the longest one); then any similar spelling.
        match = difflib.get_close_matches(key, list(index), n=1, cutoff=0.8)
        if not match:
            inside = [k for k in index if k in key]
            match = [max(inside, key=len)] if inside else difflib.get_close_matches(key, list(index), n=1, cutoff=0.6)
        return index[match[0]] if match else None

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
        problems.append(toml_problem(exc, text, filename))
        return None, problems

    def entries(kind: str) -> Iterable[tuple[int | None, dict[str, Any]]]:
        raw = data.get(kind, [])
        lines = _entry_lines(text, kind)
        if not isinstance(raw, list):
            problem(None, "cat_not_list", kind=kind)
            return []
        for i, e in enumerate(raw):
            if not isinstance(e, dict):
                problem(lines[i] if i < len(lines) else None, "cat_not_list", kind=kind)
        return [(lines[i] if i < len(lines) else None, e) for i, e in enumerate(raw) if isinstance(e, dict)]

    def names(line: int | None, owner: object, e: dict[str, Any], key: str) -> list[object]:
        # A list of names; a single text or a number instead is a problem, not a crash (or a list of letters).
        raw = e.get(key, [])
        if raw is None:
            return []
        if not isinstance(raw, list):
            problem(line, "cat_bad_list", id=owner, key=key, found=raw)
            return []
        return raw

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
        lead = tuple(str(x) for x in names(line, mid, e, "federfuehrung"))
        for office in lead:
            if offices and office not in offices:
                problem(line, "cat_unknown_office", id=mid, office=office)
        measures[mid] = Measure(
            id=mid, field=fld, title=str(e.get("titel", "")), lead_offices=lead, phase=phase,
            external=tuple(str(x) for x in names(line, mid, e, "externe_stellen")), hint=str(e.get("hinweis", "")),
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
        negative = e.get("negativ_erlaubt", False)
        if not isinstance(negative, bool):
            problem(line, "cat_bad_negative", id=iid, found=negative)
            negative = False
        indicators[iid] = Indicator(id=iid, measure=mid, name=str(e.get("name", iid)), unit=str(e.get("einheit", "")),
                                    frequency=freq, due_days=due, office=office, negative_allowed=negative)

    persons: list[Person] = []
    seen_ids: set[int] = set()
    seen_names: set[str] = set()
    seen_matrix: set[str] = set()
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
        for raw in names(line, name, e, "massnahmen"):
            mid = normalize_measure(str(raw))
            if not mid or mid not in measures:
                problem(line, "cat_unknown_measure", id=name, found=raw)
            else:
                pm.append(mid)
        office = str(e.get("amt", ""))
        if office and offices and office not in offices:
            problem(line, "cat_unknown_office", id=name, office=office)
        email = e.get("email", "")
        if not isinstance(email, str) or (email and not is_email_address(email)):
            problem(line, "cat_bad_email", name=name, found=email)
            email = ""
        matrix_id = e.get("matrix_id", "")
        if not isinstance(matrix_id, str) or (matrix_id and not is_matrix_user(matrix_id)):
            problem(line, "cat_bad_matrix_id", name=name, found=matrix_id)
            matrix_id = ""
        if matrix_id:
            if matrix_id in seen_matrix:
                problem(line, "cat_duplicate", kind="matrix_id", id=matrix_id)
            seen_matrix.add(matrix_id)
        channel = e.get("kanal", "")
        if channel not in ("", *CHANNELS):
            problem(line, "cat_bad_channel", name=name, found=channel, expected=", ".join(CHANNELS))
            channel = ""
        elif (channel == "email" and not email) or (channel == "matrix" and not matrix_id):
            # A preferred channel without its address would silently reach nobody.
            problem(line, "cat_channel_address", name=name, channel=channel,
                    key="email" if channel == "email" else "matrix_id")
            channel = ""
        persons.append(Person(name=name, office=office, telegram_id=tid, role=role, measures=tuple(pm),
                              email=email, matrix_id=matrix_id, channel=channel))

    areas = _parse_areas(entries("gebiet"), problem)
    ordered = dict(sorted(measures.items()))
    sozialindex = _parse_sozialindex(data, text, indicators, problem)
    return Catalogue(offices, ordered, indicators, tuple(persons), areas, sozialindex), problems


def _parse_areas(entries: Iterable[tuple[int | None, dict[str, Any]]],
                 problem: Callable[..., None]) -> dict[str, Area]:
    """The [[gebiet]] entries; no two may share an id, name or alias (compared like areas in files)."""
    areas: dict[str, Area] = {}
    owner: dict[str, str] = {}  # area_key of every id, name and alias -> the entry's id
    for line, e in entries:
        raw = e.get("id", "")
        if not isinstance(raw, str):
            problem(line, "cat_area_bad_id", found=raw)
            continue
        aid = " ".join(raw.split())
        if not area_key(aid):
            problem(line, "cat_missing", kind="gebiet", key="id")
            continue
        name = e.get("name", "")
        if not isinstance(name, str):
            problem(line, "cat_area_bad_name", id=aid, found=name)
            name = ""
        aliases = e.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) and area_key(a) for a in aliases):
            problem(line, "cat_area_bad_aliases", id=aid, found=aliases)
            aliases = [a for a in aliases if isinstance(a, str) and area_key(a)] if isinstance(aliases, list) else []
        kept: list[str] = []
        for label, text in (("id", aid), ("name", name), *(("alias", a) for a in aliases)):
            key = area_key(text)
            if not key:
                continue
            other = owner.get(key)
            if other is None:
                owner[key] = aid
            elif label == "id":
                if other == aid:
                    problem(line, "cat_duplicate", kind="gebiet", id=aid)
                else:
                    problem(line, "cat_area_duplicate", id=aid, found=aid, other=other)
                break  # the first entry of that name stays
            elif other != aid:
                problem(line, "cat_area_duplicate", id=aid, found=" ".join(text.split()), other=other)
                continue
            if label == "alias":
                kept.append(" ".join(text.split()))
        else:
            areas[aid] = Area(aid, " ".join(name.split()), tuple(kept), whole_city=area_key(aid) in WHOLE_CITY_KEYS)
    return areas


def load_catalogue(path: Path) -> tuple[Catalogue | None, list[CatalogueProblem]]:
    text, problem = read_text_file(path)
    if text is None:
        return None, [problem] if problem else []
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
    areas: Iterable[Area] | None = None,
    sozialindex: IndexConfig | None = None,
) -> str:
    """Write a catalogue as commented TOML (used by `init`); `areas` None lists Koblenz' Stadtteile, () none."""
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
    out.append("# frist_tage: die Lieferung ist so viele Tage nach Ende des Zeitraums fällig;")
    out.append("# negativ_erlaubt = true: negative Werte sind richtig (sonst bei Anzahl, Personen, ha … abgelehnt).")
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
            *(["negativ_erlaubt = true"] if i.negative_allowed else []),
            "",
        ]
    areas = list(SEED_AREAS if areas is None else areas)
    if areas:
        out.append("# Gebiete: Dateien dürfen nur diese Gebiete nennen (leer = Stadt gesamt). Groß-/Kleinschreibung,")
        out.append("# Leerzeichen und Bindestriche zählen nicht („Karthause-Nord“ = „Karthause Nord“); andere")
        out.append("# Schreibweisen als aliases eintragen, z. B. aliases = [\"Koblenz-Lützel\"]. Werte werden unter id")
        out.append("# gespeichert. Ohne [[gebiet]]-Einträge ist jedes Gebiet erlaubt.")
    for a in areas:
        out += ["[[gebiet]]", f"id = {_toml_str(a.id)}"]
        if a.name:
            out.append(f"name = {_toml_str(a.name)}")
        out += [f"aliases = {_toml_list(a.aliases)}", ""]
    persons = list(persons)
    out.append("# Personen: rolle admin | mitglied; massnahmen = an deren Besprechungen sie teilnehmen und deren")
    out.append("# Protokolle sie unterschreiben; telegram_id bekommt man mit /start vom Bot.")
    for p in persons:
        out += ["[[person]]", f"name = {_toml_str(p.name)}", f"amt = {_toml_str(p.office)}"]
        if p.telegram_id is not None:
            out.append(f"telegram_id = {p.telegram_id}")
        out += [f"{key} = {_toml_str(value)}" for key, value in
                (("matrix_id", p.matrix_id), ("email", p.email), ("kanal", p.channel)) if value]
        out += [f"rolle = {_toml_str(p.role)}", f"massnahmen = {_toml_list(p.measures)}", ""]
    if out and out[-1]:
        out.append("")
    out.append(render_sozialindex(sozialindex))  # active with a config, else the commented example
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------- value forms shared with the settings
def is_email_address(value: str) -> bool:
    """'name@host.tld', optionally with a display name: 'Sozialmonitor <name@host.tld>'."""
    from email.utils import parseaddr  # the e-mail package: only for a catalogue that names addresses

    _, address = parseaddr(value)
    return bool(re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>.]+", address))


def is_matrix_user(value: str) -> bool:
    """A Matrix user id: '@localpart:server', the server a host name with an optional port."""
    return bool(re.fullmatch(r"@[^\s:@]+:[A-Za-z0-9.\-\[\]]+(:\d{1,5})?", value))


def read_text_file(path: Path) -> tuple[str | None, CatalogueProblem | None]:
    """A hand-edited file as text: UTF-8, with or without the BOM some Windows editors write; else a problem."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None, CatalogueProblem(str(path), None, "file_missing", {"path": str(path)})
    except OSError as exc:
        return None, CatalogueProblem(str(path), None, "file_unreadable",
                                      {"path": str(path), "detail": exc.strerror or str(exc)})
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        return None, CatalogueProblem(str(path), raw[: exc.start].count(b"\n") + 1, "file_encoding",
                                      {"path": str(path), "found": f"0x{raw[exc.start]:02X}"})


def toml_problem(exc: tomllib.TOMLDecodeError, text: str, filename: str) -> CatalogueProblem:
    """A TOML syntax error as a problem: its line, the line as written, and the parser's reason."""
    message = str(exc)
    where = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", message)
    line = int(where.group(1)) if where else None
    if where is None and "end of document" in message:
        line = max(1, len(text.splitlines()))
    detail = message[: where.start()] if where else re.sub(r"\s*\(at end of document\)\s*$", "", message)
    lines = text.splitlines()
    source = lines[line - 1].strip() if line and line <= len(lines) else ""
    if len(source) > 80:
        source = source[:77] + "…"
    return CatalogueProblem(filename, line, "toml_syntax", {"detail": detail, "source": source})


# ---------------------------------------------------------------- the catalogue against the store
ADMINS_META = "katalog_admins"  # store meta: the admins of the last catalogue taken over
HELD_KINDS = ("meetings", "protocols", "steps", "deliveries")


class StoreView(Protocol):
    """What the check needs of the store: the records that name measures and indicators."""

    def meetings(self, measure: str | None = None) -> list[Meeting]: ...
    def protocols(self, measure: str | None = None) -> list[MeetingProtocol]: ...
    def steps(self, measure: str | None = None, *, include_done: bool = False) -> list[Step]: ...
    def deliveries(self) -> list[Delivery]: ...
    def periods(self, indicator: str) -> set[str]: ...
    def meta(self, key: str, default: Any = None) -> Any: ...


@dataclass(frozen=True)
class StoredData:
    """What the store holds per measure and indicator, and who the admins were: what a catalogue must keep."""

    measures: dict[str, dict[str, int]]  # measure -> {kind in HELD_KINDS: count}
    indicators: dict[str, int]  # indicator -> number of periods with values
    admins: tuple[str, ...] = ()


def stored_data(store: StoreView) -> StoredData:
    """Count the store's records by measure and indicator (reads indexes, no rows)."""
    measures: dict[str, dict[str, int]] = {}

    def add(measure: str, kind: str) -> None:
        if measure:  # "" = a step for all measures
            measures.setdefault(measure, dict.fromkeys(HELD_KINDS, 0))[kind] += 1

    for meeting in store.meetings():
        add(meeting.measure, "meetings")
    for protocol in store.protocols():
        add(protocol.measure, "protocols")
    for step in store.steps(include_done=True):
        add(step.measure, "steps")
    delivered: set[str] = set()
    for delivery in store.deliveries():
        for measure in delivery.measures:
            add(measure, "deliveries")
        delivered.update(delivery.indicators)
    indicators = {i: n for i in sorted(delivered) if (n := len(store.periods(i)))}
    admins = store.meta(ADMINS_META, [])
    return StoredData(dict(sorted(measures.items())), indicators,
                      tuple(str(a) for a in admins) if isinstance(admins, list) else ())


def check_against_store(catalogue: Catalogue, held: StoredData, filename: str = "katalog.toml",
                        ) -> list[CatalogueProblem]:
    """What taking over `catalogue` would drop: measures with data, indicators with values, the last admin.

    A catalogue that parses can still empty the monitor (an emptied file is valid TOML): such a catalogue is
    refused as a whole, so files are not rejected and reminders not lost because of an editing slip.
    """
    problems = [CatalogueProblem(filename, None, "cat_drops_measure", {"id": mid, **counts})
                for mid, counts in held.measures.items() if mid not in catalogue.measures]
    problems += [CatalogueProblem(filename, None, "cat_drops_indicator", {"id": iid, "periods": n})
                 for iid, n in held.indicators.items() if iid not in catalogue.indicators]
    if held.admins and not catalogue.admins:
        problems.append(CatalogueProblem(filename, None, "cat_drops_admins", {"names": ", ".join(held.admins)}))
    return problems
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


def _parse_sozialindex(data: dict[str, Any], text: str, indicators: dict[str, Indicator],
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
            from difflib import get_close_matches

            near = get_close_matches(iid, list(indicators), n=1)
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
