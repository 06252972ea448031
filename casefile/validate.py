"""Check a case.yaml mapping against the shipped JSON Schema and the cross-field rules.

Every problem names its field path and what is wrong, never the offending value:
messages may travel to logs, and values are personal data.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from datetime import date
from functools import cache
from importlib import resources
from typing import Any

import jsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from casefile.kinds import CONTRACT_KINDS
from core.errors import FieldProblem

_SCHEMA_DESCRIPTIONS = {
    "date": "a date as YYYY-MM-DD",
    "case_id": "an opaque id like K7Q2-M9XD (digits and capitals, no I, L, O, U)",
}


@cache
def case_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) for case.yaml, as shipped in casefile/schema/."""
    text = resources.files("casefile").joinpath("schema/case.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(case_schema(), format_checker=jsonschema.FormatChecker())


def json_path(parts: Iterable[Any]) -> str:
    """Render a jsonschema path as applicant.birth_date or evidence[2].file."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(error: ValidationError) -> tuple[str, str]:
    """Path and a value-free explanation for one schema error."""
    path = json_path(error.absolute_path)
    v = error.validator
    schema = error.schema if isinstance(error.schema, dict) else {}
    if v == "required":
        missing = [m for m in error.validator_value if isinstance(error.instance, dict) and m not in error.instance]
        name = missing[0] if missing else "?"
        return json_path([*error.absolute_path, name]), "is required but missing"
    if v in ("additionalProperties", "unevaluatedProperties"):
        allowed = set(schema.get("properties", {}))
        extra = sorted(k for k in error.instance if k not in allowed) if isinstance(error.instance, dict) else []
        if extra:
            return json_path([*error.absolute_path, extra[0]]), "is not a known field (check the spelling)"
        return path, "has fields that are not allowed here"
    if v == "type":
        return path, f"must be {_type_words(error.validator_value)}"
    if v == "enum":
        return path, "must be one of: " + ", ".join(str(x) for x in error.validator_value)
    if v in ("pattern", "format"):
        ref = _ref_name(error)
        if v == "format" and error.validator_value == "date":
            return path, "must be a real date written YYYY-MM-DD"
        return path, f"has the wrong form (expected {_SCHEMA_DESCRIPTIONS.get(ref, 'the documented format')})"
    if v == "minLength":
        return path, "must not be empty"
    if v == "maxLength":
        return path, f"is too long (at most {error.validator_value} characters)"
    if v == "not":
        return path, "uses a reserved value"
    return path, f"is not valid ({v})"


def _with_evidence_id(data: Any, where: str) -> str:
    """Name evidence by the id the caseworker wrote as well as by position."""
    m = re.match(r"^evidence\[(\d+)\]", where)
    return evidence_path(data, int(m.group(1))) + where[m.end() :] if m else where


def _ref_name(error: ValidationError) -> str:
    for part in reversed(list(error.absolute_schema_path)):
        if isinstance(part, str) and part in _SCHEMA_DESCRIPTIONS:
            return part
    return ""


def _type_words(t: Any) -> str:
    names = {
        "object": "a mapping (key: value)",
        "array": "a list",
        "string": "text",
        "boolean": "true or false",
        "integer": "a whole number",
        "number": "a number",
    }
    if isinstance(t, list):
        return " or ".join(names.get(str(x), str(x)) for x in t)
    return names.get(t, str(t))


def evidence_path(data: Any, index: int) -> str:
    """`evidence[3] (id ev-milid)`: the position and the id the caseworker wrote, when it has one."""
    try:
        eid = data["evidence"][index]["id"]
    except (KeyError, IndexError, TypeError):
        return f"evidence[{index}]"
    return f"evidence[{index}] (id {eid})" if isinstance(eid, str) and eid else f"evidence[{index}]"


def _closest(value: str, valid: Iterable[str]) -> str:
    """'; did you mean: a, b?' for the nearest valid names, else a pointer to where they are listed."""
    near = difflib.get_close_matches(str(value), sorted(valid), n=3, cutoff=0.6)
    if near:
        return f"; did you mean {' or '.join(near)}?"
    return " (see the list of kinds with `dossier rules show COUNTRY`)"


def date_problems(data: dict[str, Any], today: date | None = None) -> list[FieldProblem]:
    """Impossible dates: a birth in the future, or evidence issued after the planned submission date."""
    day = today or date.today()
    problems: list[FieldProblem] = []
    people = [("applicant", data.get("applicant", {}))]
    people += [(f"household[{i}]", h) for i, h in enumerate(data.get("household", []))]
    for where, person in people:
        born = _parse_day(person.get("birth_date"))
        if born is not None and born > day:
            problems.append(FieldProblem(f"{where}.birth_date", "is in the future: check the year"))
    submission = _parse_day(data.get("submission_date"))
    for i, e in enumerate(data.get("evidence", [])):
        issued = _parse_day(e.get("issued"))
        if issued is not None and issued > max(day, submission or day):
            problems.append(FieldProblem(f"{evidence_path(data, i)}.issued", "is in the future: check the date"))
        elif submission is not None and issued is not None and issued > submission:
            problems.append(
                FieldProblem(
                    f"{evidence_path(data, i)}.issued",
                    "is after the planned submission_date: a document cannot be submitted before it exists",
                )
            )
    return problems


def _parse_day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def schema_problems(data: Any) -> list[FieldProblem]:
    """Every schema violation, one per field path, in document order."""
    if not isinstance(data, dict):
        return [FieldProblem("(top level)", "case.yaml must be a mapping of fields, see examples/")]
    seen: set[tuple[str, str]] = set()
    problems: list[FieldProblem] = []
    errors = sorted(_validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        where, what = _describe(error)
        where = _with_evidence_id(data, where)
        if (where, what) not in seen:
            seen.add((where, what))
            problems.append(FieldProblem(where, what))
    return problems


def consistency_problems(data: dict[str, Any], extra_kinds: Iterable[str] = ()) -> list[FieldProblem]:
    """Cross-field rules the schema cannot say: unique ids, references that resolve, known kinds."""
    problems: list[FieldProblem] = []
    kinds = CONTRACT_KINDS | set(extra_kinds)
    person_ids = {"applicant"}
    for i, h in enumerate(data.get("household", [])):
        if h["person_id"] in person_ids:
            problems.append(FieldProblem(f"household[{i}].person_id", "is used twice; person ids must be unique"))
        person_ids.add(h["person_id"])
    evidence = data.get("evidence", [])
    first_index: dict[str, int] = {}
    for i, e in enumerate(evidence):
        if e["id"] in first_index:
            problems.append(FieldProblem(f"evidence[{i}].id", f"duplicates evidence[{first_index[e['id']]}].id"))
        else:
            first_index[e["id"]] = i
    originals = {e["id"] for e in evidence if e["kind"] != "translation"}
    for i, e in enumerate(evidence):
        here = evidence_path(data, i)
        if e["kind"] not in kinds:
            problems.append(FieldProblem(f"{here}.kind", f"is not a known evidence kind{_closest(e['kind'], kinds)}"))
        if e.get("person", "applicant") not in person_ids:
            problems.append(FieldProblem(f"{here}.person", "names no person: use applicant or a household person_id"))
        if e["kind"] == "translation":
            if "translation_of" not in e:
                problems.append(FieldProblem(f"{here}.translation_of", "is required for a translation"))
            elif e["translation_of"] not in originals:
                problems.append(FieldProblem(f"{here}.translation_of", "names no original evidence id in this case"))
            if "language" not in e:
                problems.append(FieldProblem(f"{here}.language", "is required for a translation"))
        elif "translation_of" in e:
            problems.append(FieldProblem(f"{here}.translation_of", "only evidence of kind translation may have it"))
        if e.get("issued") and e.get("expires") and e["expires"] < e["issued"]:
            problems.append(FieldProblem(f"{here}.expires", "is before the issue date"))
    problems += date_problems(data)
    for field_name in ("vetting", "prosecution"):
        for i, item in enumerate(data.get(field_name, [])):
            ref = item.get("evidence")
            if ref is not None and ref not in first_index:
                problems.append(FieldProblem(f"{field_name}[{i}].evidence", "names no evidence id in this case"))
    return problems
