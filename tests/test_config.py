"""Settings: defaults, types, the environment on top, every problem with file, line, key, value and form."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from bot.workspace import problem_text
from storage.config import SETTINGS_TEMPLATE, load_settings


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "sozialmonitor.toml").write_text(text, encoding="utf-8")
    return tmp_path


def test_template_is_clean_and_has_the_defaults(tmp_path: Path) -> None:
    settings, problems = load_settings(write(tmp_path, SETTINGS_TEMPLATE), env={})
    assert problems == []
    assert settings.language == "de" and settings.timezone == "Europe/Berlin"
    assert settings.reminders.meeting_days_before == (7, 1)
    assert settings.inbox == tmp_path / "ablage" / "eingang"


def test_environment_overrides_token_and_api_url(tmp_path: Path) -> None:
    text = SETTINGS_TEMPLATE.replace('token = ""', 'token = "from-file"')
    settings, _ = load_settings(write(tmp_path, text), env={"SOZIALMONITOR_TELEGRAM_TOKEN": "123:env",
                                                             "SOZIALMONITOR_TELEGRAM_API_URL": "http://127.0.0.1:9/bot"})
    assert settings.telegram.token == "123:env"
    assert settings.telegram.api_url == "http://127.0.0.1:9/bot"
    assert "123:env" not in repr(settings)


CHANNELS = """
[email]
host = "smtp.stadt.koblenz.de"
port = 587
security = "starttls"
user = "sozialmonitor"
absender = "Sozialmonitor <sozialmonitor@stadt.koblenz.de>"

[matrix]
homeserver = "https://matrix.stadt.koblenz.de"
user_id = "@sozialmonitor:stadt.koblenz.de"
rooms = ["!abcdef:stadt.koblenz.de"]
"""


def test_the_contract_channel_sections_are_valid_and_secrets_come_from_the_environment(tmp_path: Path) -> None:
    env = {"SOZIALMONITOR_SMTP_PASSWORD": "smtp-geheim", "SOZIALMONITOR_MATRIX_TOKEN": "syt_geheim"}
    settings, problems = load_settings(write(tmp_path, SETTINGS_TEMPLATE + CHANNELS), env=env)
    assert problems == []
    assert settings.email.host == "smtp.stadt.koblenz.de" and settings.email.port == 587
    assert settings.email.sender == "Sozialmonitor <sozialmonitor@stadt.koblenz.de>"
    assert settings.matrix.rooms == ("!abcdef:stadt.koblenz.de",)
    assert settings.email.password == "smtp-geheim" and settings.matrix.token == "syt_geheim"
    assert "geheim" not in repr(settings)


def test_a_password_in_the_file_is_refused_and_not_repeated(tmp_path: Path) -> None:
    text = SETTINGS_TEMPLATE + CHANNELS.replace('user = "sozialmonitor"', 'user = "sozialmonitor"\npassword = "pw1"')
    _, problems = load_settings(write(tmp_path, text), env={})
    (problem,) = problems
    message = problem_text(problem, "de")
    assert problem.code == "set_secret" and "SOZIALMONITOR_SMTP_PASSWORD" in message
    assert "pw1" not in message
    assert text.splitlines()[problem.line - 1] == 'password = "pw1"'


def test_missing_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    settings, problems = load_settings(tmp_path, env={})
    assert [p.code for p in problems] == ["file_missing"]
    assert settings.language == "de"


def test_bad_values_fall_back_to_the_defaults_meanwhile(tmp_path: Path) -> None:
    text = SETTINGS_TEMPLATE.replace("poll_interval = 2.0", "poll_interval = 0").replace(
        "max_rows = 200000", "max_rows = -5").replace('language = "de"', 'language = "fr"')
    settings, problems = load_settings(write(tmp_path, text), env={})
    assert {p.params["key"] for p in problems} == {"watcher.poll_interval", "watcher.max_rows", "language"}
    assert settings.watcher.poll_interval == 2.0 and settings.watcher.max_rows == 200_000
    assert settings.language == "de"


# ---------------------------------------------------------------- the table of bad settings
@dataclass(frozen=True)
class Bad:
    """One bad edit of the template: `old` -> `new`; the problem must name `key` and show `found`."""

    name: str
    old: str
    new: str
    key: str  # "" for a TOML syntax error (no key; the line is shown instead)
    found: str
    code: str

    def text(self) -> str:
        if self.old == "":
            return self.new + SETTINGS_TEMPLATE if self.new.endswith("\n") else SETTINGS_TEMPLATE + self.new
        assert SETTINGS_TEMPLATE.count(self.old) == 1, self.old
        return SETTINGS_TEMPLATE.replace(self.old, self.new)

    def line(self) -> int:
        """The line of the edit: the first line of `new` holding `found` (or the key)."""
        marker = self.found if self.found != "***" else self.key.rsplit(".", 1)[-1]
        lines = self.text().splitlines()
        first = len(SETTINGS_TEMPLATE[: SETTINGS_TEMPLATE.index(self.old)].splitlines()) if self.old else 0
        if self.old == "" and not self.new.endswith("\n"):
            first = len(SETTINGS_TEMPLATE.splitlines())
        return next(n for n, line in enumerate(lines, 1) if n > first and marker in line)


EMAIL = "\n[email]\nhost = \"smtp.stadt.koblenz.de\"\n"
MATRIX = "\n[matrix]\nhomeserver = \"https://matrix.stadt.koblenz.de\"\n"

BAD = [
    Bad("negative max_rows", "max_rows = 200000", "max_rows = -5", "watcher.max_rows", "-5", "set_positive"),
    Bad("hours without minutes", 'hours = "08:00-17:00"', 'hours = "8-17"', "reminders.hours", '"8-17"', "set_hours"),
    Bad("hours backwards", 'hours = "08:00-17:00"', 'hours = "18:00-08:00"', "reminders.hours", '"18:00-08:00"',
        "set_hours"),
    Bad("unknown timezone", 'timezone = "Europe/Berlin"', 'timezone = "Mars/Olympus"', "timezone", '"Mars/Olympus"',
        "set_timezone"),
    Bad("unknown language", 'language = "de"', 'language = "fr"', "language", '"fr"', "set_choice"),
    Bad("language not text", 'language = "de"', "language = 1", "language", "1", "set_type_text"),
    Bad("unknown key", "backups = 5 ", "backupz = 5 ", "store.backupz", "backupz", "set_unknown"),
    Bad("unknown top-level key", "", 'sprache = "de"\n', "sprache", '"de"', "set_unknown"),
    Bad("unknown section", "", "\n[watcher2]\nx = 1\n", "watcher2", "watcher2", "set_unknown_section"),
    Bad("section given as a value", "", "matrix = 5\n", "matrix", "5", "set_not_section"),
    Bad("bool as text", "polling = false", 'polling = "ja"', "watcher.polling", '"ja"', "set_type_bool"),
    Bad("port as text", "webhook_port = 8443", 'webhook_port = "8443"', "telegram.webhook_port", '"8443"',
        "set_type_int"),
    Bad("port zero", "webhook_port = 8443", "webhook_port = 0", "telegram.webhook_port", "0", "set_range"),
    Bad("interval zero", "poll_interval = 2.0", "poll_interval = 0", "watcher.poll_interval", "0", "set_positive"),
    Bad("size as text", "max_file_mb = 20 ", 'max_file_mb = "20" ', "watcher.max_file_mb", '"20"',
        "set_type_number"),
    Bad("nan interval", "check_minutes = 5 ", "check_minutes = nan ", "reminders.check_minutes", "nan",
        "set_type_number"),
    Bad("text in a number list", "meeting_days_before = [7, 1]", 'meeting_days_before = [7, "1"]',
        "reminders.meeting_days_before", '[7, "1"]', "set_type_int_list"),
    Bad("negative day in a list", "meeting_days_before = [7, 1]", "meeting_days_before = [7, -1]",
        "reminders.meeting_days_before", "-1", "set_not_negative"),
    Bad("weekday six", "weekly_weekday = 1 ", "weekly_weekday = 6 ", "reminders.weekly_weekday", "6", "set_range"),
    Bad("unknown state", 'state = "RP"', 'state = "XY"', "reminders.state", '"XY"', "set_choice"),
    Bad("unknown mode", 'mode = "polling"', 'mode = "push"', "telegram.mode", '"push"', "set_choice"),
    Bad("webhook without url", 'mode = "polling"', 'mode = "webhook"', "telegram.webhook_url", '""',
        "set_webhook_url"),
    Bad("chat list as text", "group_chats = []", 'group_chats = "-100123"', "access.group_chats", '"-100123"',
        "set_type_int_list"),
    Bad("chat id as fraction", "admin_chat = 0 ", "admin_chat = 1.5 ", "access.admin_chat", "1.5", "set_type_int"),
    Bad("no backups", "backups = 5 ", "backups = 0 ", "store.backups", "0", "set_positive"),
    Bad("api url without scheme", 'api_url = ""', 'api_url = "127.0.0.1:8081/bot"', "telegram.api_url",
        '"127.0.0.1:8081/bot"', "set_url"),
    Bad("empty path", 'ablage = "ablage"', 'ablage = ""', "paths.ablage", '""', "set_empty"),
    Bad("misspelt token", 'token = ""', 'tokn = "123:GEHEIM"', "telegram.tokn", "***", "set_unknown"),
    Bad("smtp port too big", "", EMAIL + "port = 70000\n", "email.port", "70000", "set_range"),
    Bad("smtp security", "", EMAIL + 'security = "tls"\n', "email.security", '"tls"', "set_choice"),
    Bad("sender without address", "", EMAIL + 'absender = "Sozialmonitor"\n', "email.absender", '"Sozialmonitor"',
        "set_address"),
    Bad("homeserver without scheme", "", "\n[matrix]\nhomeserver = \"matrix.koblenz.de\"\n", "matrix.homeserver",
        '"matrix.koblenz.de"', "set_url"),
    Bad("matrix user without server", "", MATRIX + 'user_id = "sozialmonitor"\n', "matrix.user_id",
        '"sozialmonitor"', "set_matrix_user"),
    Bad("room alias instead of id", "", MATRIX + 'rooms = ["#team:koblenz.de"]\n', "matrix.rooms",
        '"#team:koblenz.de"', "set_matrix_room"),
    Bad("whole section of the wrong type", "", 'email = "smtp.stadt.koblenz.de"\n', "email",
        '"smtp.stadt.koblenz.de"', "set_not_section"),
    Bad("TOML syntax: open header", "[store]", "[store", "", "[store", "toml_syntax"),
    Bad("TOML syntax: text without quotes", 'state = "RP"', "state = RP", "", "state = RP", "toml_syntax"),
    Bad("TOML syntax: key twice", "", 'language = "en"\n', "", 'language = "de"', "toml_syntax"),
]


@pytest.mark.parametrize("bad", BAD, ids=[b.name for b in BAD])
def test_every_bad_setting_names_file_line_key_value_and_the_form_expected(tmp_path: Path, bad: Bad) -> None:
    text = bad.text()
    settings, problems = load_settings(write(tmp_path, text), env={})
    assert problems, "not reported"
    problem = problems[0]
    assert problem.code == bad.code, problems
    line = bad.line()
    assert problem.line == line, (problem, text.splitlines()[(problem.line or 1) - 1])
    for lang in ("de", "en"):
        message = problem_text(problem, lang)
        assert message.startswith(f"{tmp_path / 'sozialmonitor.toml'}:{line}: ")
        assert bad.key in message and bad.found in message
        assert re.search(r"erwartet|erlaubt|gehört" if lang == "de" else r"expect|allowed|belongs", message,
                         re.IGNORECASE), message
    assert "GEHEIM" not in problem_text(problem, "de")
    assert settings.language in ("de", "en")  # the rest of the file still applies


def test_the_table_covers_at_least_twenty_bad_settings() -> None:
    assert len(BAD) >= 20
    assert len({b.code for b in BAD}) >= 15


# ---------------------------------------------------------------- nothing in the file crashes the reader
_SCALARS = st.one_of(st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=True),
                     st.text(max_size=20), st.just(""))
_VALUES = st.one_of(_SCALARS, st.lists(_SCALARS, max_size=4), st.dictionaries(st.sampled_from("abc"), _SCALARS,
                                                                               max_size=2))


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if value != value else ("inf" if value > 0 else "-inf") if value in (
            float("inf"), float("-inf")) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    assert isinstance(value, dict)
    return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"


_KEYS = [(None, "language"), (None, "timezone"), ("paths", "daten"), ("telegram", "mode"),
         ("telegram", "webhook_port"), ("access", "group_chats"), ("watcher", "polling"), ("watcher", "max_rows"),
         ("reminders", "hours"), ("reminders", "meeting_days_before"), ("store", "backups"), ("email", "port"),
         ("email", "absender"), ("matrix", "rooms"), ("matrix", "user_id"), ("watcher", "frei_erfunden"),
         (None, "frei_erfunden")]


@hsettings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(_KEYS), value=_VALUES)
def test_no_value_of_any_setting_crashes_the_reader(tmp_path: Path, key: tuple[str | None, str],
                                                    value: object) -> None:
    section, name = key
    body = f"{name} = {_toml(value)}\n"
    text = body if section is None else f"[{section}]\n{body}"
    _, problems = load_settings(write(tmp_path, text), env={})
    for problem in problems:
        for lang in ("de", "en"):
            assert problem_text(problem, lang)
        assert problem.line is not None


def test_a_windows_editor_bom_is_fine_and_another_encoding_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "sozialmonitor.toml").write_bytes(b"\xef\xbb\xbf" + SETTINGS_TEMPLATE.encode("utf-8"))
    assert load_settings(tmp_path, env={})[1] == []
    text = 'language = "de"\n\n[reminders]\nstate = "RP"  # Rheinland-Pfälzer Feiertage\n'
    (tmp_path / "sozialmonitor.toml").write_bytes(text.encode("cp1252"))
    settings, problems = load_settings(tmp_path, env={})
    (problem,) = problems
    assert problem.code == "file_encoding" and problem.line == 4
    assert "0xE4" in problem_text(problem, "de") and "UTF-8" in problem_text(problem, "de")
    assert settings.language == "de"
