"""BagIt 1.0 (RFC 8493) bags, written directly and zipped byte-reproducibly.

bagit-python writes version 0.97, so the bag is written here; the tests validate it with
bagit-python as an independent checker. Manifests and tag manifests use SHA-256 and SHA-512.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from core.errors import AuditError
from packets.zipfixed import write_zip, zip_time

ALGORITHMS = ("sha256", "sha512")
BAGIT_TXT = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
_SAFE_PATH = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*$")


def _manifest(files: Sequence[tuple[str, bytes]], algorithm: str) -> bytes:
    lines = [f"{hashlib.new(algorithm, data).hexdigest()}  {path}\n" for path, data in sorted(files)]
    return "".join(lines).encode()


def bag_files(payload: Mapping[str, bytes], info: Sequence[tuple[str, str]]) -> list[tuple[str, bytes]]:
    """The bag's files (tag files first, then data/...), paths relative to the bag's top folder."""
    for path in payload:
        if not _SAFE_PATH.match(path):
            raise ValueError(f"unsafe payload path in a bag: {path!r}")
    data_files = [(f"data/{path}", payload[path]) for path in sorted(payload)]
    oxum = f"{sum(len(d) for _, d in data_files)}.{len(data_files)}"
    info_lines = [*info, ("Payload-Oxum", oxum)]
    bag_info = "".join(f"{k}: {v}\n" for k, v in info_lines).encode()
    tags: list[tuple[str, bytes]] = [("bagit.txt", BAGIT_TXT), ("bag-info.txt", bag_info)]
    tags += [(f"manifest-{a}.txt", _manifest(data_files, a)) for a in ALGORITHMS]
    tagmanifests = [(f"tagmanifest-{a}.txt", _manifest(tags, a)) for a in ALGORITHMS]
    return [*tags, *tagmanifests, *data_files]


def bag_zip(name: str, payload: Mapping[str, bytes], info: Sequence[tuple[str, str]], day: date | None) -> bytes:
    """A zipped BagIt 1.0 bag whose single top folder is `name`; same arguments, same bytes."""
    if not _SAFE_PATH.match(name) or "/" in name:
        raise ValueError(f"unsafe bag name: {name!r}")
    return write_zip(((f"{name}/{path}", data) for path, data in bag_files(payload, info)), when=zip_time(day))


def read_bag_zip(data: bytes) -> tuple[str, dict[str, bytes]]:
    """The bag's name and payload (paths under data/), after checking every manifest; raises AuditError."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            files = {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}
    except zipfile.BadZipFile:
        raise AuditError("packet is not a readable ZIP file") from None
    for path in files:
        parts = path.split("/")
        if path.startswith("/") or "\\" in path or ".." in parts or "" in parts[1:]:
            raise AuditError("packet ZIP holds a member path that could leave its folder; refused")
    tops = {path.split("/", 1)[0] for path in files}
    if len(tops) != 1:
        raise AuditError("packet ZIP must hold exactly one bag folder")
    name = tops.pop()
    rel = {path.split("/", 1)[1]: content for path, content in files.items() if "/" in path}
    if rel.get("bagit.txt") != BAGIT_TXT:
        raise AuditError(f"bag {name}: bagit.txt is missing or is not BagIt 1.0")
    for prefix in ("manifest", "tagmanifest"):
        for algorithm in ALGORITHMS:
            manifest = rel.get(f"{prefix}-{algorithm}.txt")
            if manifest is None:
                raise AuditError(f"bag {name}: {prefix}-{algorithm}.txt is missing")
            listed = set()
            for line in manifest.decode().splitlines():
                digest, path = line.split(None, 1)
                listed.add(path)
                if path not in rel or hashlib.new(algorithm, rel[path]).hexdigest() != digest:
                    raise AuditError(f"bag {name}: {path} does not match {prefix}-{algorithm}.txt")
            if prefix == "manifest" and listed != {p for p in rel if p.startswith("data/")}:
                raise AuditError(f"bag {name}: payload files and manifest-{algorithm}.txt differ")
    return name, {p[len("data/") :]: c for p, c in rel.items() if p.startswith("data/")}


def unpack_bag_zip(data: bytes, output: Path) -> Path:
    """Check a zipped bag (every manifest), then write the whole bag (tag files and data/) under output.

    Returns the bag folder, which bagit-python validates. Nothing is written if a check fails,
    and no member may leave the bag folder.
    """
    name, _ = read_bag_zip(data)  # raises AuditError before anything is written
    target = (output / name).resolve()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = [(info, zf.read(info)) for info in zf.infolist() if not info.is_dir()]
    for info, _content in members:
        if not (output / info.filename).resolve().is_relative_to(target):
            raise AuditError(f"bag {name}: member {info.filename!r} would leave the bag folder; refused")
    for info, content in members:
        dest = (output / info.filename).resolve()
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(content)
    return target
