"""What a packet build takes and gives: the inputs, the built packet, and its id derived from the inputs."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from casefile.model import Case
from core.hashing import canonical_json, sha256_hex
from core.office import Office, load_office

# A generated letter of this name is left out when the case holds the organisation's own (uploaded) one.
NGO_LETTER_KIND = "support.ngo_letter"
GENERATED_SUPPORT_LETTER = "support_letter"

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

# Images above this many pixels are refused (decompression bombs); a 600 dpi A4 scan is ~35 Mpx.
DEFAULT_MAX_IMAGE_PIXELS = 120_000_000


@dataclass(frozen=True)
class LetterSpec:
    """One letter of a stage: its DOCX template and the name of the rendered file (no extension)."""

    template: Path
    output_name: str


@dataclass(frozen=True)
class PacketInputs:
    """Everything a packet is built from; the same inputs always give the same bytes.

    `letter_context` may be built after `packet_id_for(inputs)` (it contains the packet id):
    the id is derived from the other inputs, never from the context.
    """

    case: Case
    files: dict[str, bytes]
    checklist: dict[str, Any]
    letters: list[LetterSpec]
    letter_context: dict[str, Any]
    rules_version: str
    rules_in_force: list[dict[str, Any]]
    builder: str
    tool_version: str
    sanitise: bool = False
    duplex: bool = False
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
    office: Office | None = None  # None: DOSSIER_HOME/office.toml (core.office.load_office)
    sign: bool = True  # PAdES-sign packet.pdf when the office configures a certificate


@dataclass(frozen=True)
class BuiltPacket:
    """A finished packet: its id, the zipped BagIt bag, the manifest inside it and the bundle's page count."""

    packet_id: str
    bag_zip: bytes
    manifest: dict[str, Any]
    pages: int
    packet_pdf: bytes = field(default=b"", repr=False, compare=False)
    warnings: tuple[str, ...] = ()


def crockford_id(prefix: str, digest: bytes, chars: int = 12) -> str:
    """An opaque id such as P-0F3K9X2M7QAB from the first bits of a digest."""
    number = int.from_bytes(digest[:8], "big") >> (64 - 5 * chars)
    text = "".join(_CROCKFORD[(number >> (5 * (chars - 1 - i))) & 31] for i in range(chars))
    return f"{prefix}{text}"


@cache
def _file_sha256(path: Path, mtime_ns: int, size: int) -> str:
    return sha256_hex(path.read_bytes())


def template_sha256(path: Path) -> str:
    """SHA-256 of a template file (cached per path, modification time and size)."""
    st = path.stat()
    return _file_sha256(path.resolve(), st.st_mtime_ns, st.st_size)


def office_of(inputs: PacketInputs) -> Office:
    """The organisation a build writes for: the inputs' office, else DOSSIER_HOME/office.toml."""
    return inputs.office if inputs.office is not None else load_office()


def effective_letters(inputs: PacketInputs) -> list[LetterSpec]:
    """The stage's letters, without the generated support letter when the NGO uploaded its own."""
    if any(e.kind == NGO_LETTER_KIND for e in inputs.case.evidence):
        return [s for s in inputs.letters if s.output_name != GENERATED_SUPPORT_LETTER]
    return list(inputs.letters)


def _office_hash(office: Office, sign: bool) -> dict[str, Any]:
    ctx = office.to_context()
    out: dict[str, Any] = {
        "identity_sha256": sha256_hex(canonical_json(ctx)),
        "signature_image_sha256": sha256_hex(office.signature_image) if office.signature_image else None,
        "stamp_image_sha256": sha256_hex(office.stamp_image) if office.stamp_image else None,
    }
    if sign and office.signing is not None:
        out["signing_pkcs12_sha256"] = sha256_hex(office.signing.pkcs12.read_bytes())
    return out


def input_hashes(inputs: PacketInputs) -> dict[str, Any]:
    """Every input of a build as hashes and values: what the packet id and the manifest are made of."""
    case = inputs.case
    return {
        "case_id": case.case_id,
        "case_snapshot_sha256": sha256_hex(canonical_json(case.data)),
        "evidence_sha256": {eid: sha256_hex(inputs.files[eid]) for eid in sorted(inputs.files)},
        "checklist_sha256": sha256_hex(canonical_json(inputs.checklist)),
        "templates": [
            {"output_name": spec.output_name, "template": spec.template.name, "sha256": template_sha256(spec.template)}
            for spec in effective_letters(inputs)
        ],
        "office": _office_hash(office_of(inputs), inputs.sign),
        "rules_version": inputs.rules_version,
        "rules_in_force_sha256": sha256_hex(canonical_json(inputs.rules_in_force)),
        "tool_version": inputs.tool_version,
        "options": {
            "sanitise": inputs.sanitise,
            "duplex": inputs.duplex,
            "max_image_pixels": inputs.max_image_pixels,
        },
    }


def packet_id_for(inputs: PacketInputs) -> str:
    """The packet id: 'P-' and 12 Crockford base32 characters of the hash of every input.

    The builder is an input too: the manifest records who built the packet, so two people building
    the same case get two packets (each reproducible) instead of a conflict at archiving.
    """
    basis = {"inputs": input_hashes(inputs), "builder": inputs.builder}
    digest = hashlib.sha256(canonical_json(basis)).digest()
    return crockford_id("P-", digest)


def evidence_order(case: Case) -> list[str]:
    """Ids of the evidence in bundle order: sections in SECTION_ORDER, each original then its translations."""
    from casefile.kinds import SECTION_ORDER, section_of

    originals = [e for e in case.evidence if not e.is_translation]
    originals.sort(key=lambda e: SECTION_ORDER.index(section_of(e.kind)))
    order: list[str] = []
    for e in originals:
        order.append(e.id)
        order.extend(t.id for t in case.translations_of(e.id))
    known = set(order)
    order.extend(e.id for e in case.evidence if e.id not in known)  # orphans: never silently dropped
    return order


def context_evidence(context: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The letter context's evidence entries by id (titles, numbers, person names), translations included."""
    out: dict[str, dict[str, Any]] = {}
    for entry in context.get("evidence") or []:
        if isinstance(entry, Mapping) and "id" in entry:
            out[str(entry["id"])] = dict(entry)
            for t in entry.get("translations") or []:
                if isinstance(t, Mapping) and "id" in t:
                    out[str(t["id"])] = {**dict(t), "original": entry["id"], "number": entry.get("number")}
    return out
