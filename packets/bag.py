"""BagIt 1.0 (RFC 8493) bags, written directly and zipped byte-reproducibly.

bagit-python writes version 0.97, so the bag is written here; the tests validate it with
bagit-python as an independent checker. Manifests and tag manifests use SHA-256 and SHA-512.
"""

from __future__ import annotations

import hashlib
import io
import re
import shutil
import zipfile
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import BinaryIO

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
    with _open_zip(io.BytesIO(data)) as zf:
        name = _check_bag(zf)
        prefix = f"{name}/data/"
        payload = {i.filename[len(prefix) :]: zf.read(i) for i in zf.infolist() if i.filename.startswith(prefix)}
    return name, payload


def _open_zip(source: BinaryIO | Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(source)
    except zipfile.BadZipFile:
        raise AuditError("packet is not a readable ZIP file") from None


def _digests(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> dict[str, str]:
    """Every manifest algorithm's digest of one member, read in chunks (a bag may be gigabytes)."""
    hashers = {a: hashlib.new(a) for a in ALGORITHMS}
    with zf.open(info) as fh:
        while block := fh.read(1024 * 1024):
            for h in hashers.values():
                h.update(block)
    return {a: h.hexdigest() for a, h in hashers.items()}


def _check_bag(zf: zipfile.ZipFile) -> str:
    """Check paths, bagit.txt and every (tag) manifest entry by streaming each member once; the bag's name."""
    infos = [i for i in zf.infolist() if not i.is_dir()]
    for info in infos:
        parts = info.filename.split("/")
        if info.filename.startswith("/") or "\\" in info.filename or ".." in parts or "" in parts[1:]:
            raise AuditError("packet ZIP holds a member path that could leave its folder; refused")
    tops = {i.filename.split("/", 1)[0] for i in infos}
    if len(tops) != 1:
        raise AuditError("packet ZIP must hold exactly one bag folder")
    name = tops.pop()
    rel = {i.filename.split("/", 1)[1]: i for i in infos if "/" in i.filename}
    if "bagit.txt" not in rel or zf.read(rel["bagit.txt"]) != BAGIT_TXT:
        raise AuditError(f"bag {name}: bagit.txt is missing or is not BagIt 1.0")
    digests = {path: _digests(zf, info) for path, info in rel.items()}
    for prefix in ("manifest", "tagmanifest"):
        for algorithm in ALGORITHMS:
            manifest = rel.get(f"{prefix}-{algorithm}.txt")
            if manifest is None:
                raise AuditError(f"bag {name}: {prefix}-{algorithm}.txt is missing")
            listed = set()
            for line in zf.read(manifest).decode().splitlines():
                digest, path = line.split(None, 1)
                listed.add(path)
                if path not in rel or digests[path][algorithm] != digest:
                    raise AuditError(f"bag {name}: {path} does not match {prefix}-{algorithm}.txt")
            if prefix == "manifest" and listed != {p for p in rel if p.startswith("data/")}:
                raise AuditError(f"bag {name}: payload files and manifest-{algorithm}.txt differ")
    return name


def check_bag_zip(data: bytes | Path, *, expect_name: str | None = None) -> str:
    """Check a zipped bag (every manifest, and that it is the bag expected) without writing anything; its name."""
    with _open_zip(io.BytesIO(data) if isinstance(data, bytes) else data) as zf:
        name = _check_bag(zf)
    _expect(name, expect_name)
    return name


def _expect(name: str, expect_name: str | None) -> None:
    if expect_name is not None and name != expect_name:
        raise AuditError(
            f"the archived object for {expect_name} holds bag {name}: it is not the packet asked for",
            hint="run `dossier audit verify` and report the finding; do not use this packet",
        )


def unpack_bag_zip(data: bytes | Path, output: Path, *, expect_name: str | None = None) -> Path:
    """Check a zipped bag (every manifest), then write the whole bag (tag files and data/) under output.

    `data` may be the zip's bytes or a path to it (streamed: memory stays bounded for large bags).
    Returns the bag folder, which bagit-python validates. Nothing is written if a check fails (also when
    the bag is not the one expected), and no member may leave the bag folder.
    """
    with _open_zip(io.BytesIO(data) if isinstance(data, bytes) else data) as zf:
        name = _check_bag(zf)  # raises AuditError before anything is written
        _expect(name, expect_name)
        target = (output / name).resolve()
        members = [info for info in zf.infolist() if not info.is_dir()]
        for info in members:
            if not (output / info.filename).resolve().is_relative_to(target):
                raise AuditError(f"bag {name}: a member would leave the bag folder; refused")
        for info in members:
            dest = (output / info.filename).resolve()
            dest.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, dest.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
    return target
