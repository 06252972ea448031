"""A case folder as a zip, handled in memory: import from a partner's zip, export to move a case between offices.

The same checks as a folder on disk (path escapes, sizes, schema, every evidence file present),
and nothing is written to disk on the way: the plaintext lives only in this process's memory.
"""

from __future__ import annotations

import io
import stat
import zipfile
from collections.abc import Iterable
from pathlib import PurePosixPath
from typing import Any

import yaml

from casefile.folder import MAX_EVIDENCE_BYTES, LoadedCase, validate_mapping
from casefile.model import case_from_mapping, new_case_id
from core.errors import BadInput, CaseInvalid, FieldProblem
from core.yamlio import StrictLoader

__all__ = ["MAX_ZIP_BYTES", "case_zip", "load_case_zip"]

MAX_ZIP_BYTES = 512 * 1024 * 1024  # everything unpacked together
MAX_MEMBERS = 2000
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a zip entry cannot be part of a case folder (escapes, links, devices, sizes), or None."""
    name = info.filename
    if "\x00" in name or any(ord(ch) < 32 for ch in name) or "\\" in name:
        return "has a name with control characters or backslashes"
    pure = PurePosixPath(name)
    if name.startswith("/") or (pure.parts and ":" in pure.parts[0]):
        return "is an absolute path"
    if ".." in pure.parts:
        return "leaves the case folder ('..' is not allowed)"
    mode = info.external_attr >> 16
    if mode and (stat.S_ISLNK(mode) or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))):
        return "is a link or a special file, not a regular file"
    if info.file_size > MAX_EVIDENCE_BYTES:
        return f"is larger than {MAX_EVIDENCE_BYTES // (1024 * 1024)} MiB"
    if info.flag_bits & 0x1:
        return "is encrypted inside the zip (export the folder again without a zip password)"
    return None


def _root_of(names: list[str]) -> str:
    """'' when case.yaml is at the top, 'folder/' when the zip holds one folder (as 'Compress folder' makes)."""
    if "case.yaml" in names:
        return ""
    roots = {n.split("/", 1)[0] for n in names if "/" in n}
    if len(roots) == 1:
        root = f"{roots.pop()}/"
        if f"{root}case.yaml" in names:
            return root
    raise BadInput(
        "the zip holds no case.yaml (at its top or in one folder)",
        hint="zip the case folder itself: case.yaml and evidence/ inside it",
    )


def _read_capped(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """The entry's bytes, refusing more than its declared size (a zip bomb lies about it)."""
    with zf.open(info) as fh:
        data = fh.read(info.file_size + 1)
    if len(data) != info.file_size:
        raise BadInput(f"zip entry {info.filename}: its size does not match the zip directory (damaged zip?)")
    return data


def load_case_zip(data: bytes, extra_kinds: Iterable[str] = ()) -> LoadedCase:
    """Validate a zipped case folder in memory; all problems are reported together, as for a folder."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise BadInput("the upload is not a zip file", hint="zip the case folder (case.yaml + evidence/)") from None
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if len(infos) > MAX_MEMBERS:
            raise BadInput(
                f"the zip holds more than {MAX_MEMBERS} files", hint="a case folder holds case.yaml and evidence/"
            )
        if sum(i.file_size for i in infos) > MAX_ZIP_BYTES:
            raise BadInput(f"the zip unpacks to more than {MAX_ZIP_BYTES // (1024 * 1024)} MiB")
        bad = [FieldProblem(f"zip entry {i.filename}", why) for i in infos if (why := _member_problem(i))]
        if bad:
            raise CaseInvalid("(zip upload)", bad, hint="zip the case folder again with plain files only")
        by_name = {i.filename: i for i in infos}
        root = _root_of(list(by_name))
        try:
            text = _read_capped(zf, by_name[f"{root}case.yaml"]).decode("utf-8")
        except UnicodeDecodeError:
            raise BadInput("case.yaml in the zip is not UTF-8 text", hint="save it as UTF-8") from None
        try:
            mapping = yaml.load(text, Loader=StrictLoader)  # noqa: S506 - StrictLoader is a SafeLoader
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f", line {mark.line + 1}" if mark else ""
            raise BadInput(f"case.yaml in the zip{where}: not valid YAML", hint="fix the YAML syntax there") from None
        given = mapping.get("case_id") if isinstance(mapping, dict) else None
        ref = given if isinstance(given, str) else "(zip upload)"
        mapping = validate_mapping(mapping, ref, extra_kinds)
        problems: list[FieldProblem] = []
        files: dict[str, bytes] = {}
        for i, e in enumerate(mapping["evidence"]):
            where = f"evidence[{i}].file (id {e['id']})"
            rel = PurePosixPath(e["file"])
            if rel.is_absolute() or ".." in rel.parts or "\\" in e["file"]:
                problems.append(FieldProblem(where, "file path must stay inside the case folder"))
                continue
            info = by_name.get(f"{root}{rel.as_posix()}")
            if info is None:
                problems.append(FieldProblem(where, "file not found in the zip"))
            elif info.file_size == 0:
                problems.append(FieldProblem(where, "file is empty"))
            else:
                files[e["id"]] = _read_capped(zf, info)
        if problems:
            raise CaseInvalid(ref, problems)
    case = case_from_mapping(mapping, mapping.get("case_id") or new_case_id())
    return LoadedCase(case=case, files=files)


def case_zip(loaded: LoadedCase) -> bytes:
    """The case as a zipped folder (case.yaml with its case_id, evidence/ files), byte-identical for the same case."""
    case = loaded.case
    mapping: dict[str, Any] = {"case_id": case.case_id, **{k: v for k, v in case.data.items() if k != "case_id"}}
    if case.stage:
        mapping["stage"] = case.stage  # the stage the case has reached, which may be past case.yaml's
    text = yaml.safe_dump(mapping, allow_unicode=True, sort_keys=False, default_flow_style=False)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        _write(zf, "case.yaml", text.encode("utf-8"))
        for e in sorted(case.evidence, key=lambda x: x.file):
            _write(zf, PurePosixPath(e.file).as_posix(), loaded.files[e.id])
    return out.getvalue()


def _write(zf: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
    info.external_attr = (stat.S_IFREG | 0o600) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, data)
