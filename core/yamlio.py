"""Strict YAML reading for files people edit by hand: duplicate keys are errors, dates stay text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

from core.errors import BadInput, DossierError

# libyaml's parser when PyYAML was built with it (rules files are read often): same results, ~5x faster.
_BaseLoader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StrictLoader(_BaseLoader):
    """SafeLoader that refuses duplicate keys and leaves ISO dates as strings for JSON Schema."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first at line {seen[key] + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


# Timestamps stay strings: the schema checks their format, the model parses them.
StrictLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_text_file(path: Path, shown: str, error: type[DossierError] = BadInput) -> str:
    """A hand-edited file's text; `error` naming the file when it is missing or not UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{shown}: file not found") from None
    except UnicodeDecodeError:
        raise error(f"{shown}: not UTF-8 text", hint="save the file as UTF-8") from None


def yaml_error(exc: yaml.YAMLError, shown: str, error: type[DossierError] = BadInput) -> DossierError:
    """A YAML syntax error as our error, naming the file and the line to fix."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"{shown}, line {mark.line + 1}" if mark else shown
        return error(f"{where}: {exc.problem or exc}", hint="fix the YAML syntax there")
    return error(f"{shown}: not valid YAML ({exc})")


def load_yaml_text(text: str, source: str) -> Any:
    """Parse YAML text strictly; errors name the source and line."""
    try:
        return yaml.load(text, Loader=StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise yaml_error(exc, source) from None


def load_yaml_file(path: Path) -> Any:
    """Read and parse a YAML file strictly."""
    return load_yaml_text(read_text_file(path, str(path)), str(path))
