"""Strict YAML reading for files people edit by hand: duplicate keys are errors, dates stay text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

from core.errors import BadInput


class _StrictLoader(yaml.SafeLoader):
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
        return super().construct_mapping(node, deep=deep)


# Timestamps stay strings: the schema checks their format, the model parses them.
_StrictLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml_text(text: str, source: str) -> Any:
    """Parse YAML text strictly; errors name the source and line."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}, line {mark.line + 1}" if mark else source
        raise BadInput(f"{where}: {exc.problem or exc}", hint="fix the YAML syntax there") from None
    except yaml.YAMLError as exc:
        raise BadInput(f"{source}: not valid YAML ({exc})") from None


def load_yaml_file(path: Path) -> Any:
    """Read and parse a YAML file strictly."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise BadInput(f"{path}: not UTF-8 text", hint="save the file as UTF-8") from None
    return load_yaml_text(text, str(path))
