"""Settings (sozialmonitor.toml): read, defaulted, checked, with the environment on top."""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import time
from pathlib import Path
from typing import Any

from .catalogue import CatalogueProblem

__all__ = [
    "SETTINGS_FILE",
    "SETTINGS_TEMPLATE",
    "AccessSettings",
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
class Settings:
    workspace: Path = Path("arbeitsbereich")
    language: str = "de"
    timezone: str = "Europe/Berlin"
    telegram: TelegramSettings = TelegramSettings()
    access: AccessSettings = AccessSettings()
    watcher: WatcherSettings = WatcherSettings()
    reminders: ReminderSettings = ReminderSettings()
    store: StoreSettings = StoreSettings()
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
"""

_SECTIONS = {
    "telegram": TelegramSettings,
    "access": AccessSettings,
    "watcher": WatcherSettings,
    "reminders": ReminderSettings,
    "store": StoreSettings,
}


def _line_of(text: str, section: str | None, key: str) -> int | None:
    current = None
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("[") and not stripped.startswith("[["):
            current = stripped.strip("[]").strip()
        elif current == section and re.match(rf"{re.escape(key)}\s*=", stripped):
            return n
    return None


def _coerce(cls: type, key: str, value: Any) -> Any:
    default = next(f.default for f in fields(cls) if f.name == key)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise TypeError("bool")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError("int")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TypeError("float")
        return float(value)
    if isinstance(default, tuple):
        if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise TypeError("list[int]")
        return tuple(value)
    if not isinstance(value, str):
        raise TypeError("str")
    return value


def load_settings(workspace: Path, env: dict[str, str] | None = None) -> tuple[Settings, list[CatalogueProblem]]:
    """Read the workspace settings; unknown keys and wrong types are problems, defaults fill the gaps."""
    env = os.environ if env is None else env
    path = workspace / SETTINGS_FILE
    problems: list[CatalogueProblem] = []
    settings = Settings(workspace=workspace)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except FileNotFoundError:
        problems.append(CatalogueProblem(str(path), None, "file_missing", {"path": str(path)}))
        data, text = {}, ""
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(CatalogueProblem(str(path), None, "file_unreadable", {"path": str(path), "detail": str(exc)}))
        data, text = {}, ""
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        problems.append(CatalogueProblem(str(path), int(line.group(1)) if line else None, "toml_syntax",
                                         {"detail": str(exc)}))
        data, text = {}, ""

    def bad(section: str | None, key: str, code: str, **params: Any) -> None:
        problems.append(CatalogueProblem(str(path), _line_of(text, section, key), code,
                                         {"key": f"{section}.{key}" if section else key, **params}))

    top: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("language", "timezone"):
            if not isinstance(value, str):
                bad(None, key, "set_type", expected="Text")
            else:
                top[key] = value
        elif key == "paths" and isinstance(value, dict):
            for pkey, pval in value.items():
                if pkey not in ("ablage", "daten") or not isinstance(pval, str):
                    bad("paths", pkey, "set_unknown")
                else:
                    top[pkey] = Path(pval)
        elif key in _SECTIONS and isinstance(value, dict):
            cls = _SECTIONS[key]
            known = {f.name for f in fields(cls)}
            values = {}
            for skey, sval in value.items():
                if skey not in known:
                    bad(key, skey, "set_unknown")
                    continue
                try:
                    values[skey] = _coerce(cls, skey, sval)
                except TypeError as exc:
                    bad(key, skey, "set_type", expected=str(exc))
            top[key] = cls(**values)
        else:
            bad(None, key, "set_unknown")
    settings = replace(settings, **top)

    if settings.language not in ("de", "en"):
        bad(None, "language", "set_choice", found=settings.language, expected="de, en")
        settings = replace(settings, language="de")
    try:
        from zoneinfo import ZoneInfo

        ZoneInfo(settings.timezone)
    except Exception:
        bad(None, "timezone", "set_choice", found=settings.timezone, expected="Europe/Berlin")
        settings = replace(settings, timezone="Europe/Berlin")
    try:
        start, end = settings.reminders.window
        if start >= end:
            raise ValueError
    except ValueError:
        bad("reminders", "hours", "set_choice", found=settings.reminders.hours, expected="08:00-17:00")
        settings = replace(settings, reminders=replace(settings.reminders, hours="08:00-17:00"))
    if settings.telegram.mode not in ("polling", "webhook"):
        bad("telegram", "mode", "set_choice", found=settings.telegram.mode, expected="polling, webhook")

    # Numbers that must be positive: 0 would make a loop spin or reject every file. Bad ones get the default.
    for section, names in (("watcher", ("poll_interval", "rescan_minutes", "max_file_mb", "max_rows",
                                        "max_unpacked_mb")),
                           ("reminders", ("check_minutes", "protocol_every"))):
        current = getattr(settings, section)
        fixed = {}
        for name in names:
            if getattr(current, name) <= 0:
                bad(section, name, "set_positive", found=getattr(current, name))
                fixed[name] = next(f.default for f in fields(type(current)) if f.name == name)
        if fixed:
            settings = replace(settings, **{section: replace(current, **fixed)})

    telegram = settings.telegram
    if env.get(ENV_TOKEN):
        telegram = replace(telegram, token=env[ENV_TOKEN].strip())
    if env.get(ENV_API_URL):
        telegram = replace(telegram, api_url=env[ENV_API_URL].strip())
    return replace(settings, telegram=telegram), problems
