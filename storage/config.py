"""Settings (sozialmonitor.toml): read, defaulted, checked, with the environment on top."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .catalogue import CatalogueProblem, is_email_address, is_matrix_user, read_text_file, toml_problem

__all__ = [
    "SETTINGS_FILE",
    "SETTINGS_TEMPLATE",
    "AccessSettings",
    "EmailSettings",
    "MatrixSettings",
    "ReminderSettings",
    "Settings",
    "StoreSettings",
    "TelegramSettings",
    "WatcherSettings",
    "load_settings",
]

SETTINGS_FILE = "sozialmonitor.toml"
CATALOGUE_FILE = "katalog.toml"
ENV_TOKEN = "SOZIALMONITOR_TELEGRAM_TOKEN"
ENV_API_URL = "SOZIALMONITOR_TELEGRAM_API_URL"
ENV_SMTP_PASSWORD = "SOZIALMONITOR_SMTP_PASSWORD"
ENV_MATRIX_TOKEN = "SOZIALMONITOR_MATRIX_TOKEN"

# The German states as the holiday calendar knows them (holidays' subdivisions of DE).
STATES = ("BB", "BE", "BW", "BY", "HB", "HE", "HH", "MV", "NI", "NW", "RP", "SH", "SL", "SN", "ST", "TH")


def _secret(env: str) -> Any:
    # Secrets come from the environment only and never show in a repr or a log line.
    return field(default="", repr=False, metadata={"env": env})


@dataclass(frozen=True)
class TelegramSettings:
    token: str = field(default="", repr=False)
    api_url: str = ""
    mode: str = "polling"  # polling | webhook
    webhook_url: str = ""
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443


@dataclass(frozen=True)
class AccessSettings:
    group_chats: tuple[int, ...] = ()
    admin_chat: int = 0


@dataclass(frozen=True)
class WatcherSettings:
    polling: bool = False
    poll_interval: float = 2.0
    stable_seconds: float = 1.0
    rescan_minutes: float = 5.0
    max_file_mb: float = 20.0
    max_rows: int = 200_000
    max_unpacked_mb: float = 200.0


@dataclass(frozen=True)
class ReminderSettings:
    hours: str = "08:00-17:00"
    state: str = "RP"
    meeting_days_before: tuple[int, ...] = (7, 1)
    protocol_first_after: int = 3
    protocol_every: int = 3
    protocol_escalate_after: int = 10
    delivery_days_before: int = 7
    weekly_weekday: int = 1  # 1 = Monday
    check_minutes: float = 5.0

    @property
    def window(self) -> tuple[time, time]:
        start, _, end = self.hours.partition("-")
        return time.fromisoformat(start.strip()), time.fromisoformat(end.strip())


@dataclass(frozen=True)
class StoreSettings:
    backups: int = 5
    backup_minutes: float = 10.0


@dataclass(frozen=True)
class EmailSettings:
    """[email]: the SMTP server reminders may be sent through; the password comes from the environment."""

    host: str = ""
    port: int = 587
    security: str = "starttls"  # starttls | ssl | none
    user: str = ""
    sender: str = field(default="", metadata={"key": "absender"})
    password: str = _secret(ENV_SMTP_PASSWORD)


@dataclass(frozen=True)
class MatrixSettings:
    """[matrix]: the Matrix account of the bot and the rooms it answers in; the token comes from the environment."""

    homeserver: str = ""
    user_id: str = ""
    rooms: tuple[str, ...] = ()
    token: str = _secret(ENV_MATRIX_TOKEN)


@dataclass(frozen=True)
class Settings:
    workspace: Path = Path("arbeitsbereich")
    language: str = "de"
    timezone: str = "Europe/Berlin"
    telegram: TelegramSettings = TelegramSettings()
    access: AccessSettings = AccessSettings()
    watcher: WatcherSettings = WatcherSettings()
    reminders: ReminderSettings = ReminderSettings()
    store: StoreSettings = StoreSettings()
    email: EmailSettings = EmailSettings()
    matrix: MatrixSettings = MatrixSettings()
    ablage: Path = Path("ablage")
    daten: Path = Path("daten")

    @property
    def settings_file(self) -> Path:
        return self.workspace / SETTINGS_FILE

    @property
    def catalogue_file(self) -> Path:
        return self.workspace / CATALOGUE_FILE

    @property
    def share(self) -> Path:
        return self.ablage if self.ablage.is_absolute() else self.workspace / self.ablage

    @property
    def inbox(self) -> Path:
        return self.share / "eingang"

    @property
    def processed(self) -> Path:
        return self.share / "verarbeitet"

    @property
    def rejected(self) -> Path:
        return self.share / "abgelehnt"

    @property
    def protocols(self) -> Path:
        return self.share / "protokolle"

    @property
    def data(self) -> Path:
        return self.daten if self.daten.is_absolute() else self.workspace / self.daten

    @property
    def store_file(self) -> Path:
        return self.data / "sozialmonitor.json"


SETTINGS_TEMPLATE = """\
# Sozialmonitor – Einstellungen dieses Arbeitsbereichs.
# Änderungen wirken beim nächsten Start; `sozialmonitor check` prüft diese Datei und den Katalog.

language = "de"                 # de | en: Sprache der Chat-Antworten und Fehlerberichte
timezone = "Europe/Berlin"

[telegram]
token = ""                      # Bot-Token von @BotFather; besser als Umgebungsvariable SOZIALMONITOR_TELEGRAM_TOKEN
api_url = ""                    # eigener Bot-API-Server, z. B. "http://127.0.0.1:8081/bot" (leer = Telegram)
mode = "polling"                # polling | webhook
webhook_url = ""                # nur für mode = "webhook": öffentliche HTTPS-Adresse
webhook_listen = "127.0.0.1"
webhook_port = 8443

[access]
group_chats = []                # Chat-IDs der Teamgruppen, die den Bot nutzen dürfen
admin_chat = 0                  # Chat für Betriebsmeldungen (0 = an alle Admins aus dem Katalog)

[paths]
ablage = "ablage"               # die gemeinsame Ablage; auch ein eingebundenes Netzlaufwerk (absoluter Pfad)
daten = "daten"                 # Datenbank und Sicherungen

[watcher]
polling = false                 # true für Netzlaufwerke (SMB/CIFS/NFS melden keine Dateiereignisse)
poll_interval = 2.0             # Sekunden zwischen zwei Blicken in die Ablage (nur polling)
stable_seconds = 1.0            # so lange müssen Größe und Änderungszeit unverändert sein
rescan_minutes = 5              # vollständiger Abgleich als Sicherheitsnetz
max_file_mb = 20                # größere Dateien werden abgelehnt
max_rows = 200000
max_unpacked_mb = 200           # entpackte Größe von XLSX/ODS (Schutz vor Zip-Bomben)

[reminders]
hours = "08:00-17:00"           # Erinnerungen nur werktags in diesem Zeitfenster (Ortszeit)
state = "RP"                    # Feiertage dieses Bundeslands (Rheinland-Pfalz)
meeting_days_before = [7, 1]    # Erinnerung an Besprechungen so viele Tage vorher
protocol_first_after = 3        # Arbeitstage nach Versand bis zur ersten Unterschriften-Erinnerung
protocol_every = 3              # danach alle so viele Arbeitstage
protocol_escalate_after = 10    # nach so vielen Tagen erfahren auch die Admins, wer fehlt
delivery_days_before = 7        # Hinweis an das liefernde Amt so viele Tage vor Fälligkeit
weekly_weekday = 1              # Wochenübersicht für die Admins: 1 = Montag … 5 = Freitag
check_minutes = 5               # wie oft geprüft wird

[store]
backups = 5                     # so viele Sicherungen der Datenbank werden behalten
backup_minutes = 10             # höchstens eine neue Sicherung in diesem Abstand

# Weitere Kanäle: E-Mail und Matrix; zum Einrichten die Zeichen „# “ am Zeilenanfang entfernen.
# [email]
# host = "smtp.stadt.koblenz.de"
# port = 587                      # 1–65535
# security = "starttls"           # starttls | ssl | none
# user = "sozialmonitor"          # das Passwort kommt aus der Umgebungsvariable SOZIALMONITOR_SMTP_PASSWORD
# absender = "Sozialmonitor <sozialmonitor@stadt.koblenz.de>"
#
# [matrix]
# homeserver = "https://matrix.stadt.koblenz.de"
# user_id = "@sozialmonitor:stadt.koblenz.de"   # das Zugangstoken kommt aus SOZIALMONITOR_MATRIX_TOKEN
# rooms = ["!abcdef:stadt.koblenz.de"]           # Räume, in denen der Bot antwortet; der erste: Fachstelle
"""


_SECTIONS: dict[str, type] = {
    "telegram": TelegramSettings,
    "access": AccessSettings,
    "watcher": WatcherSettings,
    "reminders": ReminderSettings,
    "store": StoreSettings,
    "email": EmailSettings,
    "matrix": MatrixSettings,
}
_TOP_KEYS = ("language", "timezone")
_PATH_KEYS = ("ablage", "daten")
_SECRET_WORDS = ("token", "password", "passwort", "secret", "geheim")
_TOKEN_LIKE = re.compile(r"\d{5,}:[\w-]{20,}")  # the form of a Telegram bot token

# A check returns None when the value is fine, else the problem's code and the parameters beyond key and found.
Check = Callable[[Any], tuple[str, dict[str, Any]] | None]


def _key_name(f: Field[Any]) -> str:
    return str(f.metadata.get("key", f.name))


def _file_fields(cls: type) -> dict[str, Field[Any]]:
    """The settings of a section as they are spelled in the file (secrets from the environment are not)."""
    return {_key_name(f): f for f in fields(cls) if "env" not in f.metadata}


def _literal(value: Any) -> str:
    """A value the way it would be written in TOML, shortened: the user recognises what they wrote."""
    if isinstance(value, bool):
        out = "true" if value else "false"
    elif isinstance(value, str):
        out = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, int | float):
        out = repr(value)
    elif isinstance(value, datetime | date | time):
        out = value.isoformat()
    elif isinstance(value, list):
        out = "[" + ", ".join(_literal(v) for v in value) + "]"
    elif isinstance(value, dict):
        out = "{ " + ", ".join(f"{k} = {_literal(v)}" for k, v in value.items()) + " }"
    else:
        out = str(value)
    return out if len(out) <= 60 else out[:57] + "…"


def _found(key: str, value: Any, *, unknown: bool = False) -> str:
    # A secret, even under a misspelt key ("tokn") or looking like a bot token, must not end up on the screen.
    from difflib import get_close_matches  # only when a problem is shown

    name = key.rsplit(".", 1)[-1].lower()
    secret = any(word in name for word in _SECRET_WORDS) or (
        unknown and get_close_matches(name, _SECRET_WORDS, cutoff=0.7))
    if (secret and value not in ("", 0)) or (isinstance(value, str) and _TOKEN_LIKE.search(value)):
        return "***"
    return _literal(value)


# ---------------------------------------------------------------- checks of single values
def _choice(*allowed: str) -> Check:
    def check(value: Any) -> tuple[str, dict[str, Any]] | None:
        return None if value in allowed else ("set_choice", {"expected": ", ".join(allowed)})
    return check


def _positive(value: Any) -> tuple[str, dict[str, Any]] | None:
    return None if value > 0 else ("set_positive", {})


def _not_negative(value: Any) -> tuple[str, dict[str, Any]] | None:
    return None if value >= 0 else ("set_not_negative", {})


def _between(low: int, high: int) -> Check:
    def check(value: Any) -> tuple[str, dict[str, Any]] | None:
        return None if low <= value <= high else ("set_range", {"min": low, "max": high})
    return check


def _not_empty(value: Any) -> tuple[str, dict[str, Any]] | None:
    return None if value.strip() else ("set_empty", {})


def _timezone(value: Any) -> tuple[str, dict[str, Any]] | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return "set_timezone", {}
    return None


def _hours(value: Any) -> tuple[str, dict[str, Any]] | None:
    if not re.fullmatch(r"\s*\d{2}:\d{2}\s*-\s*\d{2}:\d{2}\s*", value):
        return "set_hours", {}
    try:
        start, end = ReminderSettings(hours=value).window
    except ValueError:
        return "set_hours", {}
    return None if start < end else ("set_hours", {})


def _url(*schemes: str) -> Check:
    def check(value: Any) -> tuple[str, dict[str, Any]] | None:
        if value == "":
            return None  # not configured
        try:
            parts = urlsplit(value)
        except ValueError:
            parts = None
        if parts is None or parts.scheme not in schemes or not parts.hostname or " " in value:
            return "set_url", {"expected": ", ".join(f"{s}://…" for s in schemes)}
        return None
    return check


def _address(value: Any) -> tuple[str, dict[str, Any]] | None:
    return None if value == "" or is_email_address(value) else ("set_address", {})


def _matrix_user(value: Any) -> tuple[str, dict[str, Any]] | None:
    return None if value == "" or is_matrix_user(value) else ("set_matrix_user", {})


def _matrix_rooms(value: Any) -> tuple[str, dict[str, Any]] | None:
    for room in value:
        # Room version 12 ids carry no server part ("!abc"); older ones do ("!abc:stadt.koblenz.de").
        if not re.fullmatch(r"![^\s:]+(:[A-Za-z0-9.\-\[\]]+(:\d{1,5})?)?", room):
            return "set_matrix_room", {"found": _literal(room)}
    return None


def _each_not_negative(value: Any) -> tuple[str, dict[str, Any]] | None:
    for item in value:
        if item < 0:
            return "set_not_negative", {"found": _literal(item)}
    return None


_PORT = _between(1, 65535)
_CHECKS: dict[tuple[str | None, str], Check] = {
    (None, "language"): _choice("de", "en"),
    (None, "timezone"): _timezone,
    ("paths", "ablage"): _not_empty,
    ("paths", "daten"): _not_empty,
    ("telegram", "api_url"): _url("https", "http"),
    ("telegram", "mode"): _choice("polling", "webhook"),
    ("telegram", "webhook_url"): _url("https"),
    ("telegram", "webhook_listen"): _not_empty,
    ("telegram", "webhook_port"): _PORT,
    ("watcher", "poll_interval"): _positive,
    ("watcher", "stable_seconds"): _not_negative,
    ("watcher", "rescan_minutes"): _positive,
    ("watcher", "max_file_mb"): _positive,
    ("watcher", "max_rows"): _positive,
    ("watcher", "max_unpacked_mb"): _positive,
    ("reminders", "hours"): _hours,
    ("reminders", "state"): _choice(*STATES),
    ("reminders", "meeting_days_before"): _each_not_negative,
    ("reminders", "protocol_first_after"): _not_negative,
    ("reminders", "protocol_every"): _positive,
    ("reminders", "protocol_escalate_after"): _not_negative,
    ("reminders", "delivery_days_before"): _not_negative,
    ("reminders", "weekly_weekday"): _between(1, 5),
    ("reminders", "check_minutes"): _positive,
    ("store", "backups"): _positive,
    ("store", "backup_minutes"): _not_negative,
    ("email", "port"): _PORT,
    ("email", "security"): _choice("starttls", "ssl", "none"),
    ("email", "absender"): _address,
    ("matrix", "homeserver"): _url("https", "http"),
    ("matrix", "user_id"): _matrix_user,
    ("matrix", "rooms"): _matrix_rooms,
}


class _WrongType(Exception):
    """The value is not of the setting's type; the code names the expected form."""


def _coerce(kind: str, value: Any) -> Any:
    if kind == "bool":
        if not isinstance(value, bool):
            raise _WrongType("set_type_bool")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, int):
            raise _WrongType("set_type_int")
        return value
    if kind == "float":
        # nan and inf are valid TOML but no sensible interval or size.
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value or value in (
                float("inf"), float("-inf")):
            raise _WrongType("set_type_number")
        return float(value)
    if kind == "tuple[int, ...]":
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise _WrongType("set_type_int_list")
        return tuple(value)
    if kind == "tuple[str, ...]":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise _WrongType("set_type_text_list")
        return tuple(value)
    if not isinstance(value, str):
        raise _WrongType("set_type_text")
    return value


def _example(default: Any) -> str:
    return _literal(list(default) if isinstance(default, tuple) else default)


# ---------------------------------------------------------------- where a key is written
_HEADER = re.compile(r"^\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")


def _locate(lines: list[str], section: str | None, key: str | None) -> int | None:
    """The line of `key` in `[section]` (the header itself when key is None), also in dotted or inline form."""
    names = {n.strip().strip("\"'") for n in ([section] if section else [])}
    current: str | None = None
    key_re = re.compile(rf"^\s*([\"']?){re.escape(key)}\1\s*=") if key else None
    for n, line in enumerate(lines, 1):
        header = _HEADER.match(line)
        if header:
            current = ".".join(part.strip().strip("\"'") for part in header.group(1).split("."))
            if key is None and current in names:
                return n
            if section and key and current == f"{section}.{key}":
                return n
            continue
        if line.lstrip().startswith("[["):
            current = "[["
            continue
        if key_re and ((current in names) or (section is None and current is None)) and key_re.match(line):
            return n
    # Dotted (`watcher.polling = true`) or inline (`watcher = { polling = true }`) at the top of the file.
    if section:
        for n, line in enumerate(lines, 1):
            if re.match(rf"^\s*{re.escape(section)}\s*(\.\s*{re.escape(key)}\s*)?=" if key else
                        rf"^\s*{re.escape(section)}\s*[.=]", line):
                return n
        return _locate(lines, section, None) if key else None
    return None


# ---------------------------------------------------------------- reading the file
def load_settings(workspace: Path, env: Mapping[str, str] | None = None) -> tuple[Settings, list[CatalogueProblem]]:
    """Read the workspace settings; every problem names its line, key, the value found and the form expected.

    Never raises for anything in the file: a bad value is reported and its default used meanwhile, so `check`
    can go on to the catalogue. The commands that work with the settings refuse to start while problems remain.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    path = workspace / SETTINGS_FILE
    problems: list[CatalogueProblem] = []
    settings = Settings(workspace=workspace)
    data: dict[str, Any] = {}
    text = ""
    read, problem = read_text_file(path)
    if problem is not None:
        problems.append(problem)
    try:
        text = read or ""
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        problems.append(toml_problem(exc, text, str(path)))
    lines = text.splitlines()

    def bad(section: str | None, key: str, code: str, value: Any = None, **params: Any) -> None:
        dotted = f"{section}.{key}" if section else key
        params.setdefault("found", _found(dotted, value, unknown=code == "set_unknown"))
        # A whole table is found by its header (or its dotted/inline form), a value by its key.
        line = _locate(lines, key, None) if isinstance(value, dict) and section is None else _locate(lines, section, key)
        problems.append(CatalogueProblem(str(path), line, code, {"key": dotted, **params}))

    def checked(section: str | None, key: str, kind: str, value: Any, default: Any) -> Any:
        """The value if it has the right type and passes its check, else the default (after reporting)."""
        try:
            value = _coerce(kind, value)
        except _WrongType as exc:
            bad(section, key, str(exc), value, example=_example(default))
            return default
        verdict = _CHECKS.get((section, key))
        result = verdict(value) if verdict else None
        if result is not None:
            code, params = result
            bad(section, key, code, value, example=_example(default), **params)
            return default
        return value

    top: dict[str, Any] = {}
    for key, value in data.items():
        if key in _TOP_KEYS:
            top[key] = checked(None, key, "str", value, getattr(settings, key))
        elif key == "paths" or key in _SECTIONS:
            if not isinstance(value, dict):
                bad(None, key, "set_not_section", value)
                continue
            if key == "paths":
                for pkey, pval in value.items():
                    if pkey not in _PATH_KEYS:
                        bad("paths", pkey, "set_unknown", pval, expected=", ".join(_PATH_KEYS))
                    else:
                        top[pkey] = Path(checked("paths", pkey, "str", pval, str(getattr(settings, pkey))))
                continue
            cls = _SECTIONS[key]
            known = _file_fields(cls)
            values: dict[str, Any] = {}
            for skey, sval in value.items():
                f = known.get(skey)
                if f is None:
                    secret = next((s for s in fields(cls) if s.name == skey and "env" in s.metadata), None)
                    if secret is not None:
                        bad(key, skey, "set_secret", sval, env=secret.metadata["env"])
                    else:
                        bad(key, skey, "set_unknown", sval, expected=", ".join(known))
                    continue
                values[f.name] = checked(key, skey, str(f.type), sval, f.default)
            top[key] = cls(**values)
        elif isinstance(value, dict):
            bad(None, key, "set_unknown_section", value,
                expected=", ".join(f"[{s}]" for s in ("paths", *_SECTIONS)))
        else:
            bad(None, key, "set_unknown", value, expected=", ".join(_TOP_KEYS))
    settings = replace(settings, **top)

    if settings.telegram.mode == "webhook" and not settings.telegram.webhook_url:
        bad("telegram", "webhook_url", "set_webhook_url", "")

    telegram = settings.telegram
    if environ.get(ENV_TOKEN):
        telegram = replace(telegram, token=environ[ENV_TOKEN].strip())
    if environ.get(ENV_API_URL):
        telegram = replace(telegram, api_url=environ[ENV_API_URL].strip())
    email = replace(settings.email, password=environ.get(ENV_SMTP_PASSWORD, ""))
    matrix = replace(settings.matrix, token=environ.get(ENV_MATRIX_TOKEN, "").strip())
    return replace(settings, telegram=telegram, email=email, matrix=matrix), problems
