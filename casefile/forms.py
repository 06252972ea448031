"""Case forms generated from the case JSON Schema: one source of truth for fields, labels, choices and errors.

A form field is named by the same path the schema errors use (`applicant.birth_date`,
`household[1].relation`), so every problem lands next to the field it concerns. Posted form data
(flat name -> text) becomes a case mapping and back; values are never put into messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from jsonschema import Draft202012Validator

from casefile.validate import case_schema, consistency_problems, json_path, schema_problems

__all__ = [
    "EVIDENCE_IDS",
    "Choice",
    "FormField",
    "FormGroup",
    "case_form",
    "field_errors",
    "form_values",
    "mapping_from_form",
    "walk_fields",
]

Choice = tuple[str, str]  # (value, label)
EVIDENCE_IDS = "(evidence ids)"  # the key of `choices` listing the case's documents, for evidence references

# Top-level parts of case.yaml that intake does not ask in the form: evidence comes by requirement slot,
# the id is the store's, and review decisions are a senior adviser's (edited in case.yaml by them).
SKIPPED = frozenset({"case_id", "evidence", "review"})
# Parts a caseworker fills first, in this order; the rest follow in schema order.
FIRST = ("country", "procedure", "stage", "submission_date", "applicant", "household", "location", "military")
_TOKEN = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[(\d+)\])?")
_DOTTED_DATE = re.compile(r"^\s*(\d{1,2})[./](\d{1,2})[./](\d{4})\s*$")


@dataclass(frozen=True)
class FormField:
    """One input: its path (the form name), what the person reads, and what the schema allows."""

    path: str
    label: str
    help: str
    kind: str  # text | date | choice | bool | integer | evidence (a pick of the case's documents)
    required: bool
    choices: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class FormGroup:
    """A nested object (applicant, location) or one row of a list (household[0]); rows repeat."""

    path: str
    label: str
    help: str
    required: bool
    repeated: bool
    members: tuple[FormField | FormGroup, ...]

    def row(self, index: int) -> FormGroup:
        """This list's group renamed for row `index` (household -> household[2])."""
        base = f"{self.path}[{index}]"
        return _renamed(self, self.path, base)


def _renamed(group: FormGroup, old: str, new: str) -> FormGroup:
    members: list[FormField | FormGroup] = []
    for m in group.members:
        path = new + m.path[len(old) :]
        if isinstance(m, FormGroup):
            members.append(_renamed(m, m.path, path))
        else:
            members.append(FormField(path, m.label, m.help, m.kind, m.required, m.choices))
    return FormGroup(new, group.label, group.help, group.required, False, tuple(members))


def _resolve(node: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A schema node with its $ref merged in (own keys first, so household's person_id leads)."""
    ref = node.get("$ref")
    if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
        return node
    target = _resolve(schema["$defs"][ref.split("/")[-1]], schema)
    merged = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    merged["properties"] = {**node.get("properties", {}), **target.get("properties", {})}
    merged["required"] = [*target.get("required", []), *node.get("required", [])]
    if node.get("description") or target.get("description"):
        merged["description"] = node.get("description") or target.get("description")
    return merged


def _label(name: str, node: dict[str, Any]) -> str:
    title = node.get("title")
    if isinstance(title, str) and title:
        return title
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _kind(node: dict[str, Any]) -> str:
    if "enum" in node:
        return "choice"
    if node.get("format") == "date":
        return "date"
    t = node.get("type")
    if t == "boolean":
        return "bool"
    if t == "integer":
        return "integer"
    return "text"


def _members(
    prefix: str, node: dict[str, Any], schema: dict[str, Any], choices: Mapping[str, Sequence[Choice]]
) -> tuple[FormField | FormGroup, ...]:
    required = set(node.get("required", []))
    out: list[FormField | FormGroup] = []
    for name, raw in node.get("properties", {}).items():
        sub = _resolve(raw, schema)
        path = f"{prefix}.{name}" if prefix else name
        out.append(_member(path, name, sub, name in required, schema, choices))
    return tuple(out)


def _member(
    path: str,
    name: str,
    node: dict[str, Any],
    required: bool,
    schema: dict[str, Any],
    choices: Mapping[str, Sequence[Choice]],
) -> FormField | FormGroup:
    help_text = str(node.get("description", ""))
    if node.get("type") == "object":
        return FormGroup(path, _label(name, node), help_text, required, False, _members(path, node, schema, choices))
    if node.get("type") == "array" and isinstance(node.get("items"), dict):
        item = _resolve(node["items"], schema)
        if item.get("type") == "object":
            return FormGroup(path, _label(name, node), help_text, required, True, _members(path, item, schema, choices))
    kind = _kind(node)
    generic = re.sub(r"\[\d+\]", "", path)
    options: tuple[Choice, ...] = tuple(choices.get(generic, ()))
    if name == "evidence" and kind == "text":  # a reference to one of the case's documents: pick, never type
        return FormField(
            path,
            "Document",
            help_text or "one of this case's documents",
            "evidence",
            required,
            tuple(choices.get(EVIDENCE_IDS, ())),
        )
    if not options and kind == "choice":
        options = tuple((str(v), str(v)) for v in node["enum"])
    if options:
        kind = "choice"
    if kind == "date":
        help_text = (help_text + "; " if help_text else "") + "YYYY-MM-DD (DD.MM.YYYY is also understood)"
    return FormField(path, _label(name, node), help_text, kind, required, options)


def case_form(choices: Mapping[str, Sequence[Choice]] | None = None) -> tuple[FormField | FormGroup, ...]:
    """The intake form for case.yaml, from the shipped schema; `choices` adds lists from the rules (country...)."""
    schema = case_schema()
    props = {k: v for k, v in schema["properties"].items() if k not in SKIPPED}
    order = [k for k in FIRST if k in props] + [k for k in props if k not in FIRST]
    node = {"properties": {k: props[k] for k in order}, "required": schema.get("required", [])}
    return _members("", node, schema, choices or {})


def walk_fields(members: Iterable[FormField | FormGroup]) -> Iterable[FormField]:
    """Every field of a form, nested groups included (lists: the generic row, without an index)."""
    for m in members:
        if isinstance(m, FormGroup):
            yield from walk_fields(m.members)
        else:
            yield m


# --- posted data -> mapping -------------------------------------------------------------------------


def _tokens(name: str) -> list[str | int] | None:
    out: list[str | int] = []
    for part in name.split("."):
        m = _TOKEN.fullmatch(part)
        if m is None:
            return None
        out.append(m.group(1))
        if m.group(2) is not None:
            out.append(int(m.group(2)))
    return out


def _field_kinds(members: Iterable[FormField | FormGroup]) -> dict[str, FormField]:
    return {f.path: f for f in walk_fields(members)}


def _normalise(value: str, f: FormField, schema_node: dict[str, Any] | None) -> Any:
    text = value.strip()
    if f.kind == "bool":
        return text.lower() in ("on", "true", "yes", "1")
    if f.kind == "integer":
        return int(text) if re.fullmatch(r"-?\d+", text) else text  # a non-number stays text: the schema says so
    if f.kind == "date":
        m = _DOTTED_DATE.match(text)
        if m:
            day, month, year = (int(g) for g in m.groups())
            try:
                return date(year, month, day).isoformat()
            except ValueError:
                return text
        return text
    pattern = (schema_node or {}).get("pattern", "")
    if pattern == "^[A-Z]{2}$":
        return text.upper()
    if pattern == "^[a-z]{2}$":
        return text.lower()
    return text


def _schema_node(path: str) -> dict[str, Any] | None:
    schema = case_schema()
    node: dict[str, Any] = schema
    for part in path.split("."):
        node = _resolve(node, schema)
        if node.get("type") == "array":
            node = _resolve(node["items"], schema)
        props = node.get("properties", {})
        if part not in props:
            return None
        node = _resolve(props[part], schema)
    return node


def _set(target: dict[str, Any], tokens: list[str | int], value: Any) -> None:
    here: Any = target
    for i, tok in enumerate(tokens):
        last = i == len(tokens) - 1
        nxt = None if last else tokens[i + 1]
        if isinstance(tok, int):
            while len(here) <= tok:
                here.append(None)
            if last:
                here[tok] = value
            else:
                if here[tok] is None:
                    here[tok] = [] if isinstance(nxt, int) else {}
                here = here[tok]
        else:
            if last:
                here[tok] = value
            else:
                if tok not in here:
                    here[tok] = [] if isinstance(nxt, int) else {}
                here = here[tok]


def _prune(value: Any) -> Any:
    """Drop empty texts, empty objects and empty list rows (a blank spare row is not a person)."""
    if isinstance(value, dict):
        out = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None} or None
    if isinstance(value, list):
        rows = [r for r in (_prune(v) for v in value) if r is not None]
        return rows or None
    return None if value == "" else value


def _row_is_blank(row: Any) -> bool:
    return isinstance(row, dict) and all(v is False for v in row.values())


def mapping_from_form(form: Mapping[str, str], choices: Mapping[str, Sequence[Choice]] | None = None) -> dict[str, Any]:
    """A case mapping from posted fields (unknown names ignored, blanks dropped, DD.MM.YYYY dates made ISO)."""
    fields = _field_kinds(case_form(choices))
    data: dict[str, Any] = {}
    for name, raw in form.items():
        tokens = _tokens(name)
        if tokens is None or not isinstance(raw, str) or not raw.strip():
            continue
        generic = ".".join(str(t) for t in tokens if isinstance(t, str))
        f = fields.get(generic)
        if f is None:
            continue
        value = _normalise(raw, f, _schema_node(generic))
        _set(data, tokens, value)
    pruned = _drop_blank_rows(_prune(data) or {})
    _number_household(pruned)
    return pruned


def _number_household(data: dict[str, Any]) -> None:
    """Give household rows without a person id the next free one (p2, p3...): nobody should invent ids."""
    rows = data.get("household")
    if not isinstance(rows, list):
        return
    taken = {r.get("person_id") for r in rows if isinstance(r, dict)}
    n = 2
    for row in rows:
        if isinstance(row, dict) and not row.get("person_id"):
            while f"p{n}" in taken:
                n += 1
            row["person_id"] = f"p{n}"
            taken.add(row["person_id"])


def _drop_blank_rows(value: Any) -> Any:
    if isinstance(value, dict):
        out = {k: _drop_blank_rows(v) for k, v in value.items()}
        out = {k: v for k, v in out.items() if v not in (None, [], {})}
        return out
    if isinstance(value, list):
        return [_drop_blank_rows(v) for v in value if not _row_is_blank(v)]
    return value


# --- mapping -> form values, errors -------------------------------------------------------------------


def form_values(mapping: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """Flat form values for a mapping (the inverse of mapping_from_form), to show a draft or a case again."""
    out: dict[str, str] = {}
    for key, value in mapping.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(form_values(value, path))
        elif isinstance(value, list):
            for i, row in enumerate(value):
                if isinstance(row, dict):
                    out.update(form_values(row, f"{path}[{i}]"))
                else:
                    out[f"{path}[{i}]"] = str(row)
        elif isinstance(value, bool):
            out[path] = "on" if value else ""
        else:
            out[path] = str(value)
    return out


def field_errors(mapping: Mapping[str, Any], extra_kinds: Iterable[str] = ()) -> dict[str, list[str]]:
    """Schema, then cross-field problems, keyed by field path (`applicant.birth_date`), in words, no values."""
    data = dict(mapping)
    data.setdefault("evidence", [])
    problems = schema_problems(data)
    if not problems:
        problems = consistency_problems(data, extra_kinds)
    out: dict[str, list[str]] = {}
    for p in problems:
        out.setdefault(p.where, []).append(p.what)
    for where, messages in out.items():  # a bad date breaks both its pattern and its format: say it once
        if DATE_WORDS in messages:
            out[where] = [m for m in messages if not m.startswith("has the wrong form")]
    for where in _all_missing(data):  # the schema names one missing field per object; a form shows them all
        if where not in out:
            out[where] = [MISSING]
    return out


MISSING = "is required but missing"
DATE_WORDS = "must be a real date written YYYY-MM-DD"


def _all_missing(data: dict[str, Any]) -> list[str]:
    validator = Draft202012Validator(case_schema())
    out: list[str] = []
    for error in validator.iter_errors(data):
        if error.validator == "required" and isinstance(error.instance, dict):
            out.extend(json_path([*error.absolute_path, n]) for n in error.validator_value if n not in error.instance)
    return out


@dataclass
class FormState:
    """What a form page shows: the values and the problems per field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
