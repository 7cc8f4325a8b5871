"""The catalogue: parsing, measure ids, every problem with its line."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

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


def test_toml_syntax_error_shows_the_line_as_written() -> None:
    _, problems = parse_catalogue('[[massnahme]]\nid = M21\n', "katalog.toml")
    (problem,) = problems
    assert problem.line == 2 and problem.params["source"] == "id = M21"


def test_further_channels_of_a_person_are_read_and_written() -> None:
    person = Person("Erika Muster", "Amt 61", 123, "admin", ("M21",), email="erika.muster@stadt.koblenz.de",
                    matrix_id="@erika.muster:koblenz.de", channel="matrix")
    text = render_catalogue(offices=[Office("Amt 61")], persons=[person])
    catalogue, problems = parse_catalogue(text)
    assert problems == []
    assert catalogue is not None and catalogue.persons == (person,)


def test_bad_channel_fields_are_problems_with_their_line() -> None:
    text = render_catalogue(persons=[Person("A"), Person("B"), Person("C"), Person("D"), Person("E")])
    text = text.replace('name = "A"', 'name = "A"\nemail = "erika.muster"')
    text = text.replace('name = "B"', 'name = "B"\nmatrix_id = "erika:koblenz.de"')
    text = text.replace('name = "C"', 'name = "C"\nkanal = "fax"')
    text = text.replace('name = "D"', 'name = "D"\nkanal = "email"')
    text = text.replace('name = "E"', 'name = "E"\nmatrix_id = "@e:koblenz.de"\nkanal = "matrix"')
    catalogue, problems = parse_catalogue(text, "katalog.toml")
    assert [(p.code, p.params["name"]) for p in problems] == [
        ("cat_bad_email", "A"), ("cat_bad_matrix_id", "B"), ("cat_bad_channel", "C"), ("cat_channel_address", "D")]
    lines = text.splitlines()
    assert all(lines[p.line - 1] == "[[person]]" for p in problems)
    assert catalogue is not None
    assert catalogue.person("A").email == "" and catalogue.person("E").channel == "matrix"


def test_two_persons_with_one_matrix_id_are_a_problem() -> None:
    text = render_catalogue(persons=[Person("A", matrix_id="@x:koblenz.de"), Person("B", matrix_id="@x:koblenz.de")])
    _, problems = parse_catalogue(text)
    assert [(p.code, p.params.get("id")) for p in problems] == [("cat_duplicate", "@x:koblenz.de")]


def test_a_single_name_where_a_list_belongs_is_a_problem_not_letters() -> None:
    text = render_catalogue(offices=[Office("Amt 61")], persons=[Person("A", measures=("M21",))])
    text = text.replace('federfuehrung = []', 'federfuehrung = "Amt 61"', 1).replace(
        'massnahmen = ["M21"]', "massnahmen = 21")
    catalogue, problems = parse_catalogue(text)
    assert [(p.code, p.params["key"]) for p in problems] == [("cat_bad_list", "federfuehrung"),
                                                            ("cat_bad_list", "massnahmen")]
    assert catalogue is not None and catalogue.measures["M11"].lead_offices == ()


_ANY = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8),
                 st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=3))
_FIELDS = {"massnahme": ["id", "feld", "titel", "federfuehrung", "phase", "externe_stellen", "hinweis"],
           "indikator": ["id", "massnahme", "name", "einheit", "turnus", "frist_tage", "amt"],
           "person": ["name", "amt", "telegram_id", "matrix_id", "email", "kanal", "rolle", "massnahmen"],
           "amt": ["id", "name"]}


@settings(max_examples=300, deadline=None)
@given(kind=st.sampled_from(sorted(_FIELDS)), data=st.data())
def test_no_value_in_any_entry_crashes_the_check(kind: str, data: st.DataObject) -> None:
    entry = {key: data.draw(_ANY) for key in data.draw(st.lists(st.sampled_from(_FIELDS[kind]), unique=True))}
    body = "".join(f"{key} = {json.dumps(value)}\n" for key, value in entry.items() if value is not None)
    text = render_catalogue(offices=[Office("Amt 61")]) + f"\n[[{kind}]]\n" + body.replace("NaN", "nan")
    catalogue, problems = parse_catalogue(text)
    assert catalogue is not None or problems
    for problem in problems:
        assert text_of(problem.code, problem.params)


def text_of(code: str, params: dict) -> str:
    from commands.texts import text

    return text("de", code, **params) + text("en", code, **params)
