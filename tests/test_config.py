"""Settings: defaults, types, the environment on top, problems with their line."""

from __future__ import annotations

from pathlib import Path

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


def test_wrong_values_are_problems_with_lines(tmp_path: Path) -> None:
    text = SETTINGS_TEMPLATE.replace('language = "de"', 'language = "fr"').replace(
        "polling = false", 'polling = "ja"').replace('hours = "08:00-17:00"', 'hours = "18:00-08:00"')
    text += "\n[watcher2]\nx = 1\n"
    settings, problems = load_settings(write(tmp_path, text), env={})
    by_code = {(p.code, p.params.get("key")): p for p in problems}
    lines = text.splitlines()
    assert lines[by_code[("set_choice", "language")].line - 1].startswith("language")
    assert lines[by_code[("set_type", "watcher.polling")].line - 1].startswith("polling")
    assert ("set_choice", "reminders.hours") in by_code
    assert ("set_unknown", "watcher2") in by_code
    assert settings.language == "de" and settings.watcher.polling is False


def test_missing_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    settings, problems = load_settings(tmp_path, env={})
    assert [p.code for p in problems] == ["file_missing"]
    assert settings.language == "de"


def test_numbers_that_must_be_positive(tmp_path: Path) -> None:
    text = SETTINGS_TEMPLATE.replace("poll_interval = 2.0", "poll_interval = 0").replace(
        "max_rows = 200000", "max_rows = -5")
    settings, problems = load_settings(write(tmp_path, text), env={})
    assert {p.params["key"] for p in problems if p.code == "set_positive"} == {"watcher.poll_interval",
                                                                             "watcher.max_rows"}
    assert settings.watcher.poll_interval == 2.0 and settings.watcher.max_rows == 200_000
    lines = text.splitlines()
    assert all(lines[p.line - 1].lstrip().startswith(p.params["key"].split(".")[1]) for p in problems)
