"""The case form comes from the JSON Schema: fields, labels, choices, posted values and errors by path."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from casefile.forms import FormGroup, case_form, field_errors, form_values, mapping_from_form, walk_fields


def _schema_leaf_paths() -> set[str]:
    """Every leaf path of case.schema.json below the parts intake asks (evidence, case_id, review skipped)."""
    schema = json.loads(resources.files("casefile").joinpath("schema/case.schema.json").read_text())
    defs = schema["$defs"]

    def resolve(node: dict[str, Any]) -> dict[str, Any]:
        if "$ref" in node:
            target = resolve(defs[node["$ref"].split("/")[-1]])
            merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            if "properties" in target or "properties" in node:
                merged["properties"] = {**target.get("properties", {}), **node.get("properties", {})}
            return merged
        return node

    out: set[str] = set()

    def walk(prefix: str, node: dict[str, Any]) -> None:
        node = resolve(node)
        if node.get("type") == "array":
            node = resolve(node["items"])
        if node.get("type") == "object" or "properties" in node:
            for k, v in node.get("properties", {}).items():
                walk(f"{prefix}.{k}" if prefix else k, v)
        else:
            out.add(prefix)

    for k, v in schema["properties"].items():
        if k not in ("evidence", "case_id", "review"):
            walk(k, v)
    return out


def test_every_schema_field_has_exactly_one_form_field() -> None:
    paths = [f.path for f in walk_fields(case_form())]
    assert len(paths) == len(set(paths))
    assert set(paths) == _schema_leaf_paths()


def test_kinds_follow_the_schema_and_rule_choices_replace_free_text() -> None:
    fields = {f.path: f for f in walk_fields(case_form({"country": [("fr", "France (fr)")]}))}
    assert fields["applicant.birth_date"].kind == "date" and fields["applicant.birth_date"].required
    assert fields["applicant.birth_date"].label == "Birth date"
    assert fields["household.relation"].choices == (
        ("spouse", "spouse"),
        ("partner", "partner"),
        ("child", "child"),
        ("parent", "parent"),
    )
    assert fields["household.accompanying"].kind == "bool"
    described = json.loads(resources.files("casefile").joinpath("schema/case.schema.json").read_text())
    assert fields["stage"].help == described["properties"]["stage"]["description"]  # the schema's words
    assert fields["country"].choices == (("fr", "France (fr)"),)
    assert fields["applicant.given_name"].kind == "text" and not fields["applicant.given_name_native"].required


def test_lists_render_as_numbered_rows_named_like_schema_paths() -> None:
    household = next(m for m in case_form() if isinstance(m, FormGroup) and m.path == "household")
    assert household.repeated
    assert [f.path for f in walk_fields(household.row(2).members)][:2] == [
        "household[2].person_id",
        "household[2].relation",
    ]
    military = next(m for m in case_form() if isinstance(m, FormGroup) and m.path == "military")
    deployed = next(m for m in military.members if isinstance(m, FormGroup) and m.path == "military.deployed")
    assert deployed.repeated and deployed.row(0).members[0].path == "military.deployed[0].from"


def test_posted_values_become_a_mapping_and_back() -> None:
    posted = {
        "country": "fr",
        "applicant.given_name": "  Ivan ",
        "applicant.birth_date": "7.3.1990",
        "applicant.citizenship": "ru",
        "household[0].given_name": "Olga",
        "household[0].accompanying": "on",
        "household[1].given_name": "",
        "location.country": "kz",
        "military.deployed[0].from": "2023-01-01",
        "csrf_token": "ignored",
        "_rows.household": "3",
    }
    mapping = mapping_from_form(posted)
    assert mapping == {
        "country": "fr",
        "applicant": {"given_name": "Ivan", "birth_date": "1990-03-07", "citizenship": "RU"},
        "household": [{"given_name": "Olga", "accompanying": True, "person_id": "p2"}],
        "location": {"country": "KZ"},
        "military": {"deployed": [{"from": "2023-01-01"}]},
    }
    assert mapping_from_form(form_values(mapping)) == mapping


def test_errors_are_keyed_by_the_field_path_and_list_every_missing_field() -> None:
    mapping = mapping_from_form(
        {
            "country": "fr",
            "procedure": "asylum-visa",
            "applicant.given_name": "Ivan",
            "applicant.birth_date": "31.02.1990",
            "applicant.citizenship": "RU",
            "household[0].given_name": "Olga",
            "location.country": "Kazakhstan",
        }
    )
    errors = field_errors(mapping)
    assert errors["applicant.birth_date"] == ["must be a real date written YYYY-MM-DD"]
    assert errors["applicant.family_name"] == ["is required but missing"]
    assert errors["location.country"] == ["has the wrong form (expected the documented format)"]
    assert {"household[0].relation", "household[0].family_name", "household[0].birth_date"} <= set(errors)
    assert not any("Ivan" in m or "1990" in m for msgs in errors.values() for m in msgs)
