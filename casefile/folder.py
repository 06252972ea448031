"""Read a case folder (case.yaml + evidence/) into a validated case and its evidence bytes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from casefile.model import Case, case_from_mapping, new_case_id
from casefile.validate import consistency_problems, evidence_path, schema_problems
from core.errors import CaseInvalid, FieldProblem, NotFound
from core.yamlio import load_yaml_file

MAX_EVIDENCE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class LoadedCase:
    """A case with the bytes of every evidence file, keyed by evidence id."""

    case: Case
    files: dict[str, bytes]


def validate_mapping(data: Any, case_ref: str, extra_kinds: Iterable[str] = ()) -> dict[str, Any]:
    """Raise CaseInvalid listing every problem; return the mapping when it is valid."""
    problems = schema_problems(data)
    if not problems:
        problems = consistency_problems(data, extra_kinds)
    if problems:
        raise CaseInvalid(case_ref, problems)
    assert isinstance(data, dict)
    return data


def evidence_path_problem(folder: Path, relative: str) -> str | None:
    """Why an evidence path cannot be used (escape, absolute, missing), or None when it is fine."""
    if "\x00" in relative or any(ord(ch) < 32 for ch in relative):
        return "file path contains control characters"
    pure = PurePosixPath(relative)
    if not pure.parts or pure.parts == (".",) or relative.endswith("/"):
        return "must name a file inside the case folder, e.g. evidence/passport.pdf"
    if pure.is_absolute() or relative.startswith(("/", "\\")) or ":" in pure.parts[0]:
        return "file path must be relative to the case folder"
    if ".." in pure.parts:
        return "file path leaves the case folder ('..' is not allowed)"
    root = folder.resolve()
    target = (folder / relative).resolve()
    if not target.is_relative_to(root):
        return "file path leaves the case folder (through a link)"
    if not target.exists():
        return "file not found in the case folder"
    if not target.is_file():
        return "is not a regular file"
    if target.stat().st_size > MAX_EVIDENCE_BYTES:
        return f"file is larger than {MAX_EVIDENCE_BYTES // (1024 * 1024)} MiB"
    if target.stat().st_size == 0:
        return "file is empty"
    return None


def load_case_folder(folder: Path, extra_kinds: Iterable[str] = ()) -> LoadedCase:
    """Validate case.yaml and read every evidence file; all problems are reported together."""
    if not folder.is_dir():
        raise NotFound(f"{folder}: no such case folder", hint="give the folder that holds case.yaml")
    case_file = folder / "case.yaml"
    if not case_file.is_file():
        raise NotFound(f"{folder}: no case.yaml in this folder", hint="see examples/ for a case folder")
    data = load_yaml_file(case_file)
    given_id = data.get("case_id") if isinstance(data, dict) else None
    ref = given_id if isinstance(given_id, str) else str(folder)
    problems: list[FieldProblem] = []
    try:
        data = validate_mapping(data, ref, extra_kinds)
    except CaseInvalid as exc:
        problems = list(exc.problems)
    listed = data.get("evidence") if isinstance(data, dict) else None
    for i, e in enumerate(listed if isinstance(listed, list) else []):
        relative = e.get("file") if isinstance(e, dict) else None
        why = evidence_path_problem(folder, relative) if isinstance(relative, str) else None
        if why:
            problems.append(FieldProblem(f"{evidence_path(data, i)}.file", why))
    if problems:  # every problem at once: schema, cross-field and files
        raise CaseInvalid(ref, problems)
    case = case_from_mapping(data, data.get("case_id") or new_case_id())
    files = {e.id: (folder / e.file).read_bytes() for e in case.evidence}
    return LoadedCase(case=case, files=files)
