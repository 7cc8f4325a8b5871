"""The catalogue: parsing, measure ids, every problem with its line."""

from __future__ import annotations

from storage.catalogue import normalize_measure, parse_catalogue, render_catalogue
from storage.models import Indicator, Office, Person


def test_measure_ids_in_every_accepted_spelling() -> None:
    for text in ("M21", "M 21", "m21", "21", " m 21 "):
        assert normalize_measure(text) == "M21"
    for text in ("M2", "Mx1", "210", "", "M 21 b"):
        assert normalize_measure(text) is None


def test_rendered_catalogue_round_trips() -> None:
    text = render_catalogue(
        offices=[Office("Amt 61", 'Amt "Stadtentwicklung"\\Bau')],
        indicators=[Indicator("M21-x", "M21", "Sozialwohnungen", "Anzahl", "vierteljährlich", 30, "Amt 61")],
        persons=[Person("Erika Muster", "Amt 61", 123, "admin", ("M21", "M24"))],
    )
    catalogue, problems = parse_catalogue(text)
    assert problems == []
    assert catalogue is not None
    assert catalogue.offices["Amt 61"].name == 'Amt "Stadtentwicklung"\\Bau'
    assert catalogue.indicators["M21-x"].frequency == "vierteljährlich"
    assert catalogue.person_by_telegram(123).measures == ("M21", "M24")
    assert catalogue.find_indicator("M21", "SOZIALWOHNUNGEN").id == "M21-x"
    assert catalogue.find_indicator("M22", "Sozialwohnungen") is None
    assert [p.name for p in catalogue.participants("M24")] == ["Erika Muster"]


def test_every_problem_is_reported_with_its_line() -> None:
    text = render_catalogue(
        indicators=[Indicator("M21-x", "M21", "X", frequency="wöchentlich"),
                    Indicator("M99-y", "M99", "Y")],
        persons=[Person("A", telegram_id=1, role="chef"), Person("B", telegram_id=1)],
    )
    catalogue, problems = parse_catalogue(text, "katalog.toml")
    codes = [p.code for p in problems]
    assert codes == ["cat_bad_frequency", "cat_unknown_measure", "cat_bad_role", "cat_duplicate"]
    lines = text.splitlines()
    for problem in problems:
        assert problem.file == "katalog.toml"
        assert lines[problem.line - 1].startswith("[[")
    assert catalogue is not None  # still usable: bad entries are corrected or skipped


def test_toml_syntax_error_names_the_line() -> None:
    catalogue, problems = parse_catalogue('[[massnahme]]\nid = "M21\n')
    assert catalogue is None
    assert problems[0].code == "toml_syntax" and problems[0].line == 2


def test_two_persons_of_one_name_are_a_problem() -> None:
    text = render_catalogue(persons=[Person("Erika Muster", telegram_id=1), Person("Erika Muster", telegram_id=2)])
    _, problems = parse_catalogue(text)
    assert [(p.code, p.params.get("id")) for p in problems] == [("cat_duplicate", "Erika Muster")]
