"""Strict YAML with line numbers, so every rules error can say which file and line to fix."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from jsonschema import Draft202012Validator
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from core.errors import RulesError
from core.yamlio import StrictLoader, read_text_file, yaml_error

PathKey = tuple[str | int, ...]


@dataclass(frozen=True)
class Located:
    """A parsed YAML document and the 1-based line of every key and list item in it."""

    data: Any
    file: Path
    lines: dict[PathKey, int]

    def line(self, path: PathKey) -> int:
        """The line of the nearest located ancestor of a path (1 when nothing matches)."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return 1

    def where(self, path: PathKey) -> str:
        """'file, line N' for a path inside this document."""
        return f"{display_path(self.file)}, line {self.line(path)}"


def display_path(path: Path) -> str:
    """A path relative to the repository when possible (short and stable in messages)."""
    here = Path(__file__).resolve().parent.parent
    try:
        return str(path.resolve().relative_to(here))
    except ValueError:
        return str(path)


def _walk(node: Node, path: PathKey) -> Iterator[tuple[PathKey, int]]:
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode):
                child = (*path, str(key_node.value))
                yield child, key_node.start_mark.line + 1
                yield from _walk(value_node, child)
    elif isinstance(node, SequenceNode):
        for i, item in enumerate(node.value):
            child = (*path, i)
            yield child, item.start_mark.line + 1
            yield from _walk(item, child)


def load_located(file: Path) -> Located:
    """Read a YAML file strictly (duplicate keys fail with file and line) and map paths to lines."""
    shown = display_path(file)
    loader = StrictLoader(read_text_file(file, shown, RulesError))
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise yaml_error(exc, shown, RulesError) from None
    finally:
        loader.dispose()
    lines = dict(_walk(node, ())) if node is not None else {}
    return Located(data=data, file=file, lines=lines)


@cache
def _schema() -> dict[str, Any]:
    import json

    text = (Path(__file__).resolve().parent / "schema" / "rules.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator(definition: str) -> Draft202012Validator:
    schema = dict(_schema())
    schema["$ref"] = f"#/$defs/{definition}"
    return Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _path_words(path: PathKey) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def schema_problems(doc: Located, definition: str) -> list[str]:
    """Every schema violation of a rules document, each as 'file, line N: path: what is wrong'."""
    problems: list[str] = []
    for error in sorted(_validator(definition).iter_errors(doc.data), key=lambda e: doc.line(e.absolute_path)):
        path: PathKey = tuple(error.absolute_path)
        v = error.validator
        if v in ("additionalProperties", "unevaluatedProperties") and isinstance(error.instance, dict):
            allowed = set((error.schema or {}).get("properties", {})) if isinstance(error.schema, dict) else set()
            for extra in sorted(k for k in error.instance if k not in allowed):
                where = doc.where((*path, extra))
                problems.append(f"{where}: {_path_words((*path, extra))}: unknown key {extra!r} (check the spelling)")
            continue
        if v == "required":
            missing = [m for m in error.validator_value if isinstance(error.instance, dict) and m not in error.instance]
            what = f"{missing[0] if missing else '?'!s} is required here"
        elif v == "enum":
            what = "must be one of: " + ", ".join(str(x) for x in error.validator_value)
        elif v == "pattern" and "propertyNames" in error.absolute_schema_path:
            what = f"key {error.instance!r} has the wrong form ({_describe_pattern(error.validator_value)})"
        elif v == "pattern":
            what = f"has the wrong form ({_describe_pattern(error.validator_value)})"
        elif v == "format" and error.validator_value == "date":
            what = "must be a real date written YYYY-MM-DD"
        elif v == "type":
            what = f"must be of type {error.validator_value}"
        elif v in ("oneOf", "anyOf", "not"):
            what = str((error.schema or {}).get("description", "mixes keys that do not go together"))
        else:
            what = error.message
        line = f"{doc.where(path)}: {_path_words(path)}: {what}"
        if line not in problems:
            problems.append(line)
    return problems


def _describe_pattern(pattern: str) -> str:
    if "[0-9]{4}-" in pattern:
        return "a date written YYYY-MM-DD"
    return f"expected to match {pattern}"


def check_schema(doc: Located, definition: str) -> None:
    """Raise RulesError listing every schema problem of a rules document."""
    problems = schema_problems(doc, definition)
    if problems:
        raise RulesError(
            f"{len(problems)} problem(s) in {display_path(doc.file)}:\n" + "\n".join(f"  - {p}" for p in problems),
            hint="fix the named lines; `dossier rules lint` lists every problem",
        )
