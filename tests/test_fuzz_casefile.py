"""Fuzzing case.yaml: any input gives a valid case or a clear BadInput (exit 2), never a crash.

`make test` runs a small sample; a nightly-size run: DOSSIER_FUZZ_EXAMPLES=10000 make pytest.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casefile import load_case_folder, validate_mapping
from core.errors import BadInput
from core.yamlio import load_yaml_file, load_yaml_text

EXAMPLES = int(os.environ.get("DOSSIER_FUZZ_EXAMPLES", "150"))
BASE: dict[str, Any] = load_yaml_file(
    Path(__file__).resolve().parent.parent / "examples/fr-asylum-visa-couple/case.yaml"
)

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(["2024-02-30", "1998-03-14", "../../etc/passwd", "", "applicant", "translation", "fr", "a\x00b"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


ALL_PATHS = [p for p in _paths(BASE) if p]


@st.composite
def mutated_cases(draw: st.DrawFn) -> Any:
    data = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent: Any = data
        try:
            for part in path[:-1]:
                parent = parent[part]
            action = draw(st.sampled_from(["replace", "delete", "add"]))
            if action == "delete" and isinstance(parent, dict):
                parent.pop(path[-1], None)
            elif action == "add" and isinstance(parent, dict):
                parent[draw(st.text(max_size=10))] = draw(values)
            else:
                parent[path[-1]] = draw(values)
        except (KeyError, IndexError, TypeError):
            continue
    return data


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_cases())
def test_mutated_mappings_are_valid_or_bad_input(data: Any) -> None:
    try:
        validate_mapping(data, "FUZZ-CASE")
    except BadInput as exc:
        assert exc.exit_code == 2
        assert "FUZZ-CASE" in str(exc)
        assert "Orlov" not in str(exc) and "1998-03-14" not in str(exc)


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.text(max_size=300))
def test_arbitrary_yaml_text_never_crashes_the_parser(text: str) -> None:
    try:
        data = load_yaml_text(text, "case.yaml")
        validate_mapping(data, "FUZZ-CASE")
    except BadInput as exc:
        assert exc.exit_code == 2


@settings(
    max_examples=max(20, EXAMPLES // 10), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(mutated_cases())
def test_mutated_case_folders_load_or_fail_cleanly(tmp_path_factory, data: Any) -> None:
    folder = tmp_path_factory.mktemp("fuzz")
    try:
        (folder / "case.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    except yaml.YAMLError:
        return
    try:
        load_case_folder(folder)
    except BadInput as exc:
        assert exc.exit_code == 2
