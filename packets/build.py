"""build_packet: pre-flight, letters, bundle, manifest and bag, from inputs to a reproducible BagIt zip."""

from __future__ import annotations

import contextlib
import re
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable, Iterator
from datetime import date
from importlib import metadata
from typing import Any

from casefile.kinds import section_of
from casefile.model import APPLICANT, Case
from core.errors import EvidenceRejected, FieldProblem, RulesError
from core.hashing import canonical_json, pretty_json, sha256_hex
from packets.bag import bag_zip
from packets.bundle import BundleDoc, BundleLetter, BundleMeta, assemble, bundle_title
from packets.images import image_to_pdf
from packets.labels import word
from packets.letters import LetterConverter, render_letter
from packets.model import (
    BuiltPacket,
    LetterSpec,
    PacketInputs,
    context_evidence,
    effective_letters,
    evidence_order,
    input_hashes,
    office_of,
    packet_id_for,
)
from packets.pdfcheck import reopen_pdf, sanitise_pdf
from packets.pdfnorm import save_deterministic
from packets.preflight import Checked, check_all, problems_of, warnings_of
from packets.signing import sign_pdf
from packets.sniff import PDF
from packets.zipfixed import zip_time

Progress = Callable[[str, float], None]
_LANGUAGE_OF_COUNTRY = {"fr": "fr", "de": "de"}
_OUTPUT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def packet_language(inputs: PacketInputs) -> str:
    """The language the bundle's own words are printed in (the letters' language)."""
    lang = inputs.letter_context.get("language")
    return str(lang) if lang else _LANGUAGE_OF_COUNTRY.get(inputs.case.country, "en")


def packet_day(inputs: PacketInputs) -> date | None:
    """The one date a build stamps into files: the date the checklist was evaluated for."""
    value = inputs.checklist.get("evaluated_for")
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return date.fromisoformat(value)
    return inputs.case.submission_date


@contextlib.contextmanager
def _converter(given: LetterConverter | None) -> Iterator[LetterConverter]:
    if given is not None:
        yield given
    else:
        with LetterConverter() as own:
            yield own


def _normalise(checked: Checked, data: bytes, sanitise: bool) -> tuple[bytes, list[str], list[str]]:
    """PDF bytes for the bundle, the sanitisation changes made and any conversion notes."""
    if checked.ctype == PDF:
        report = checked.pdf
        assert report is not None
        if not (sanitise and checked.fixable) and not report.repaired:
            return data, [], []
        with reopen_pdf(data, report) as doc:  # only files that are rewritten are opened again
            if sanitise and checked.fixable:
                changes = sanitise_pdf(doc)
                return save_deterministic(doc), changes, []
            return save_deterministic(doc), [], ["damaged cross-reference table repaired"]
    assert checked.ctype is not None
    pdf, notes = image_to_pdf(data, checked.ctype)
    return pdf, [], notes


def _person_label(case: Case, person_id: str, entry: dict[str, Any] | None) -> str:
    if person_id == APPLICANT:
        return ""
    if entry and entry.get("person_name"):
        rel = entry.get("person_relation_label")
        return f"{entry['person_name']} ({rel})" if rel else str(entry["person_name"])
    p = case.person(person_id)
    return f"{p.given_name} {p.family_name}" if p else person_id


def _docs(inputs: PacketInputs, pdfs: dict[str, bytes], lang: str) -> list[BundleDoc]:
    case = inputs.case
    ctx = context_evidence(inputs.letter_context)
    docs: list[BundleDoc] = []
    number = 0
    sub = 0
    section = "other"
    for eid in evidence_order(case):
        e = case.evidence_by_id(eid)
        assert e is not None
        entry = ctx.get(eid)
        if e.is_translation and e.translation_of:
            sub += 1
            label = f"{number}.{sub}"
            fallback = f"{word('sworn_translation' if e.sworn else 'translation', lang)} ({e.language or '?'})"
            title = str((entry or {}).get("title") or e.title or fallback)
            original = case.evidence_by_id(e.translation_of)
            person = _person_label(case, original.person if original else e.person, ctx.get(e.translation_of))
        else:
            number += 1
            sub = 0
            label = str(number)
            section = section_of(e.kind)
            title = str((entry or {}).get("title") or e.title or e.kind)
            person = _person_label(case, e.person, entry)
        docs.append(BundleDoc(eid, pdfs[eid], section, label, title, person, e.is_translation))
    return docs


def template_title(spec: LetterSpec, lang: str) -> str:
    """A letter's title in the index and bookmarks: the template's own title (File > Properties in Word)."""
    with contextlib.suppress(OSError, KeyError, zipfile.BadZipFile, ET.ParseError):
        with zipfile.ZipFile(spec.template) as zf:
            core = ET.fromstring(zf.read("docProps/core.xml"))  # noqa: S314 - a template from the rules tree
        title = core.findtext("{http://purl.org/dc/elements/1.1/}title")
        if title and title.strip():
            return title.strip()
    return word("letter", lang)


def _software() -> dict[str, str]:
    out = {}
    for dist in ("pikepdf", "img2pdf", "docxtpl", "pillow", "pypdf", "babel", "pyhanko"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[dist] = metadata.version(dist)
    return out


def build_packet(
    inputs: PacketInputs, *, converter: LetterConverter | None = None, progress: Progress | None = None
) -> BuiltPacket:
    """Build the packet of a case's stage; raises EvidenceRejected (exit 2) naming every bad evidence id."""

    def report(step: str, fraction: float) -> None:
        if progress:
            progress(step, fraction)

    case = inputs.case
    report("pre-flight", 0.0)
    checked = check_all(case, inputs.files, max_image_pixels=inputs.max_image_pixels)
    problems = problems_of(checked, sanitise=inputs.sanitise)
    if problems:
        for c in checked:
            if c.pdf is not None and c.pdf.pdf is not None:
                c.pdf.pdf.close()
        raise EvidenceRejected(case.case_id, problems)
    specs = effective_letters(inputs)
    for spec in specs:
        if not _OUTPUT_NAME.match(spec.output_name):
            raise RulesError(f"letter output name {spec.output_name!r} must be letters, digits, '.', '_' or '-'")
    warnings = warnings_of(checked)
    packet_id = packet_id_for(inputs)
    day = packet_day(inputs)
    lang = packet_language(inputs)

    report("evidence", 0.1)
    pdfs: dict[str, bytes] = {}
    evidence_meta: dict[str, dict[str, Any]] = {}
    sanitisation: list[dict[str, str]] = []
    failed: list[FieldProblem] = []
    for c in checked:
        eid = c.evidence.id
        data = inputs.files[eid]
        try:
            pdf, changes, notes = _normalise(c, data, inputs.sanitise)
        except Exception as exc:  # noqa: BLE001 - whatever the cause, this file cannot enter the packet
            failed.append(FieldProblem(eid, f"could not be converted to PDF ({type(exc).__name__}): export it again"))
            continue
        pdfs[eid] = pdf
        sanitisation.extend({"evidence": eid, "change": ch} for ch in changes)
        evidence_meta[eid] = {
            "id": eid,
            "kind": c.evidence.kind,
            "person": c.evidence.person,
            "translation_of": c.evidence.translation_of,
            "content_type": c.ctype,
            "bytes": len(data),
            "sha256": sha256_hex(data),
            "bundled_sha256": sha256_hex(pdf),
            "sanitised": changes,
            "notes": notes,
        }

    if failed:
        raise EvidenceRejected(case.case_id, failed)

    report("letters", 0.3)
    context = {**inputs.letter_context}
    context.setdefault("packet_id", packet_id)
    context.setdefault("case_id", case.case_id)
    when = zip_time(day)
    office = office_of(inputs)
    images = {"signature": office.signature_image, "stamp": office.stamp_image}
    docx = {spec.output_name: render_letter(spec, context, when=when, images=images) for spec in specs}
    with _converter(converter) as conv:
        letter_pdfs = conv.convert(docx)
        converted_by = conv.producer

    report("bundle", 0.5)
    letters = [
        BundleLetter(spec.output_name, template_title(spec, lang), letter_pdfs[spec.output_name]) for spec in specs
    ]
    docs = _docs(inputs, pdfs, lang)
    meta = BundleMeta(
        case_id=case.case_id,
        packet_id=packet_id,
        language=lang,
        day=day,
        producer=f"Dossier {inputs.tool_version}",
        duplex=inputs.duplex,
    )
    bundle = assemble(letters, docs, meta, progress=lambda s, f: report(s, 0.5 + 0.35 * f))
    packet_pdf = bundle.pdf
    signed_by = None
    if inputs.sign and office.signing is not None:
        packet_pdf, signed_by = sign_pdf(packet_pdf, office.signing, day=day, reason=bundle_title(meta), office=office)

    report("bag", 0.9)
    hashes = input_hashes(inputs)
    placed = {p.key: p for p in bundle.parts}
    for eid, em in evidence_meta.items():
        part = placed[f"evidence:{eid}"]
        em["packet_pages"] = [part.first, part.last]
        em["number"] = part.number
    submission = case.submission_date or day
    manifest: dict[str, Any] = {
        "format": "dossier-packet/1",
        "packet_id": packet_id,
        "case_id": case.case_id,
        "country": case.country,
        "procedure": inputs.checklist.get("procedure", case.procedure),
        "stage": inputs.checklist.get("stage", case.stage),
        "submission_date": submission.isoformat() if submission else None,
        "evaluated_for": day.isoformat() if day else None,
        "ready": inputs.checklist.get("ready"),
        "case_snapshot_sha256": hashes["case_snapshot_sha256"],
        "checklist_sha256": hashes["checklist_sha256"],
        "evidence": [evidence_meta[eid] for eid in evidence_order(case)],
        "templates": hashes["templates"],
        "letters": [
            {
                "name": spec.output_name,
                "docx": f"letters/{spec.output_name}.docx",
                "docx_sha256": sha256_hex(docx[spec.output_name]),
                "packet_pages": [placed[f"letter:{spec.output_name}"].first, placed[f"letter:{spec.output_name}"].last],
            }
            for spec in specs
        ],
        "rules": {"version": inputs.rules_version, "in_force": inputs.rules_in_force},
        "sanitisation": sanitisation,
        "warnings": warnings,
        "options": hashes["options"],
        "bundle": {
            "pages": bundle.pages,
            "sha256": sha256_hex(packet_pdf),
            "language": lang,
            "pdfa": "2b",
            "signed_by": signed_by,
        },
        "inputs_sha256": sha256_hex(canonical_json(hashes)),
        "tool_version": inputs.tool_version,
        "builder": inputs.builder,
        "software": {**_software(), "letters_converted_by": converted_by},
    }
    payload = {
        "packet.pdf": packet_pdf,
        "checklist.json": pretty_json(inputs.checklist),
        "manifest.json": pretty_json(manifest),
        **{f"letters/{name}.docx": data for name, data in docx.items()},
    }
    info = [
        ("Bag-Software-Agent", f"Dossier {inputs.tool_version}"),
        ("Bagging-Date", day.isoformat() if day else "1980-01-01"),
        ("External-Identifier", packet_id),
        ("Internal-Sender-Identifier", case.case_id),
    ]
    zipped = bag_zip(packet_id, payload, info, day)
    report("done", 1.0)
    return BuiltPacket(
        packet_id=packet_id,
        bag_zip=zipped,
        manifest=manifest,
        pages=bundle.pages,
        packet_pdf=packet_pdf,
        warnings=tuple(warnings),
    )
