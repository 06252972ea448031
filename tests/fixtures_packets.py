"""Fixtures for the packet tests: one warm LibreOffice converter per session, cases and evidence made in tmp.

Register with `pytest_plugins = ["tests.fixtures_packets"]` in tests/conftest.py.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import img2pdf
import pikepdf
import pytest
from PIL import Image

from casefile import case_from_mapping, validate_mapping
from casefile.model import Case
from casefile.specimens import specimen_image, specimen_pdf
from core.office import PLACEHOLDER
from country_rules.letters import grammar_words, office_context
from packets import LetterConverter, LetterSpec, PacketInputs

REPO = Path(__file__).resolve().parent.parent
COVER_LETTER = REPO / "templates" / "fr" / "cover_letter.docx"
CASE_ID = "K7Q2-M9XD"
# Fictional personal data of the packet test cases: it must never appear in errors or warnings.
PACKET_SECRETS = ["Ivan", "Sidorov", "1997-04-21", "Kursk", "Anna", "Sidorova"]


@pytest.fixture(scope="session")
def letter_converter() -> Iterator[LetterConverter]:
    """One LibreOffice converter (one private profile) shared by every packet test."""
    with LetterConverter() as conv:
        yield conv


# --- evidence files -------------------------------------------------------------------------


def text_pdf(label: str, pages: int = 1) -> bytes:
    """A PDF with a real text layer naming its label on every page."""
    return specimen_pdf([f"Evidence id: {label}", "SPECIMEN"], pages=pages)


def jpeg(label: str, size: tuple[int, int] = (600, 800), orientation: int | None = None) -> bytes:
    """A JPEG photo-like image, optionally with an EXIF orientation tag."""
    data = specimen_image([f"Evidence id: {label}"], "JPEG", size)
    if orientation is None:
        return data
    im = Image.open(io.BytesIO(data))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif, quality=85)
    return out.getvalue()


def png(label: str, size: tuple[int, int] = (900, 600)) -> bytes:
    return specimen_image([f"Evidence id: {label}"], "PNG", size)


def scanned_pdf(label: str) -> bytes:
    """A PDF made of an image only (no text layer), like a scanner's output."""
    result = img2pdf.convert(jpeg(label), nodate=True)
    assert isinstance(result, bytes)
    return _with_root(result, lambda pdf: None)  # img2pdf writes a random /ID


def _with_root(data: bytes, mutate: Callable[[pikepdf.Pdf], None]) -> bytes:
    pdf = pikepdf.open(io.BytesIO(data))
    mutate(pdf)
    if "/ID" in pdf.trailer:
        del pdf.trailer["/ID"]
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True)
    return out.getvalue()


def js_open_action_pdf(label: str) -> bytes:
    """A PDF that runs JavaScript when opened (OpenAction)."""

    def add(pdf: pikepdf.Pdf) -> None:
        pdf.Root.OpenAction = pdf.make_indirect(
            pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS=pikepdf.String("app.alert('x');"))
        )

    return _with_root(text_pdf(label), add)


def launch_annotation_pdf(label: str) -> bytes:
    """A PDF whose page has a link annotation that launches a program."""

    def add(pdf: pikepdf.Pdf) -> None:
        action = pikepdf.Dictionary(S=pikepdf.Name.Launch, F=pikepdf.String("calc.exe"))
        annot = pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[0, 0, 50, 50], A=action)
        pdf.pages[0].obj.Annots = pikepdf.Array([pdf.make_indirect(annot)])

    return _with_root(text_pdf(label), add)


def embedded_file_pdf(label: str) -> bytes:
    """A PDF carrying an attached file."""

    def add(pdf: pikepdf.Pdf) -> None:
        pdf.attachments["payload.exe"] = pikepdf.AttachedFileSpec(pdf, b"MZ not really a program")

    return _with_root(text_pdf(label), add)


def encrypted_pdf(label: str, user_password: str = "secret") -> bytes:
    """An encrypted PDF (user password, or owner-only restrictions when user_password is '')."""
    pdf = pikepdf.open(io.BytesIO(text_pdf(label)))
    out = io.BytesIO()
    pdf.save(out, encryption=pikepdf.Encryption(owner="owner-pw", user=user_password, R=6))
    return out.getvalue()


def truncated_pdf(label: str) -> bytes:
    data = text_pdf(label, pages=3)
    return data[: len(data) * 2 // 3]


def bad_stream_pdf(label: str) -> bytes:
    """A PDF whose second page's content stream does not decompress."""

    def spoil(pdf: pikepdf.Pdf) -> None:
        pdf.pages[1].obj.Contents = pikepdf.Stream(pdf, b"x\x9c not flate data", Filter=pikepdf.Name.FlateDecode)

    return _with_root(text_pdf(label, pages=2), spoil)


def huge_png_header(width: int = 60_000, height: int = 60_000) -> bytes:
    """A tiny PNG file whose header declares a huge image (decompression bomb shape)."""
    raw = io.BytesIO()
    Image.new("L", (8, 8)).save(raw, "PNG")
    data = bytearray(raw.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


# --- cases ------------------------------------------------------------------------------------


def make_case(evidence: list[dict[str, Any]], *, household: bool = True, case_id: str = CASE_ID) -> Case:
    """A schema-valid fictional case with the given evidence entries."""
    data: dict[str, Any] = {
        "case_id": case_id,
        "country": "fr",
        "procedure": "asylum-visa",
        "stage": "consular-submission",
        "applicant": {
            "given_name": "Ivan",
            "family_name": "Sidorov",
            "given_name_native": "Иван",
            "family_name_native": "Сидоров",
            "birth_date": "1997-04-21",
            "birth_place": "Kursk",
            "citizenship": "RU",
            "sex": "M",
        },
        "submission_date": "2026-12-15",
        "evidence": evidence,
    }
    if household:
        data["household"] = [
            {
                "person_id": "p2",
                "relation": "partner",
                "given_name": "Anna",
                "family_name": "Sidorova",
                "birth_date": "1999-02-03",
                "citizenship": "RU",
                "sex": "F",
                "accompanying": True,
            }
        ]
    return case_from_mapping(validate_mapping(data, case_id), case_id)


def checklist_for(case: Case, *, ready: bool = True) -> dict[str, Any]:
    """A checklist in the shape country_rules writes (one met item per original document)."""
    items = [
        {
            "requirement": f"req-{e.kind}",
            "title": e.kind,
            "kinds": [e.kind],
            "person": e.person,
            "status": "met",
            "evidence": [e.id],
            "translations": [t.id for t in case.translations_of(e.id)],
            "reason": "",
            "source": {"title": "CESEDA", "url": "https://www.legifrance.gouv.fr/", "article": "L312-1"},
            "valid_from": "2020-01-01",
            "valid_to": None,
            "last_reviewed": "2026-11-01",
            "note": "",
        }
        for e in case.evidence
        if not e.is_translation
    ]
    return {
        "case_id": case.case_id,
        "country": case.country,
        "procedure": case.procedure,
        "stage": case.stage,
        "evaluated_for": "2026-12-15",
        "rules_version": "fr-test-1",
        "ready": ready,
        "items": items,
        "blocks": [],
        "warnings": [],
    }


def _person(p: Any) -> dict[str, Any]:
    return {
        "person_id": p.person_id,
        "relation": p.relation,
        "relation_label": {"applicant": "demandeur", "partner": "partenaire"}.get(p.relation, p.relation),
        "salutation": "Monsieur" if p.sex == "M" else "Madame",
        "given_name": p.given_name,
        "family_name": p.family_name,
        "full_name": f"{p.given_name} {p.family_name}",
        "full_name_native": " ".join(x for x in (p.given_name_native, p.family_name_native) if x),
        "birth_date": p.birth_date.isoformat() if p.birth_date else "",
        "birth_place": p.birth_place or "",
        "citizenship": {"RU": "Russie"}.get(p.citizenship or "", p.citizenship or ""),
        "sex": p.sex or "",
        "accompanying": p.accompanying,
        "words": grammar_words(p.sex, "fr"),
    }


def context_for(case: Case) -> dict[str, Any]:
    """A letter context with the variable names of country_rules/letters.py (enough for the cover letter)."""
    names = {p.person_id: f"{p.given_name} {p.family_name}" for p in case.persons}
    originals = [e for e in case.evidence if not e.is_translation]
    return {
        "case_id": case.case_id,
        "language": "fr",
        "procedure_title": "Visa au titre de l'asile",
        "stage_title": "Dépôt au consulat",
        "today": "15 décembre 2026",
        "submission_date": "15 décembre 2026",
        "addressee": ["Consulat général de France", "Astana"],
        "applicant": _person(case.applicant),
        "accompanying": [_person(p) for p in case.accompanying],
        "ngo": {"name": "Exemple Libertés", "caseworker": "Caseworker A", "address": "", "email": ""},
        "contact": {"postal_address": "", "email": "office@example.org", "phone": ""},
        "location": {
            "country": "Kazakhstan",
            "country_code": "KZ",
            "city": "Astana",
            "status": "",
            "status_expires": "",
        },
        "military": {
            "service": "contract",
            "rank": "lieutenant",
            "unit": "",
            "role": "",
            "left_service_date": "30 août 2022",
            "left_service_how": "desertion",
            "service_label": "militaire sous contrat",
            "left_service_how_label": "désertion",
        },
        "prosecution": [
            {"article": "337", "code": "Code pénal de la Fédération de Russie", "opened": "", "wanted": True}
        ],
        "evidence": [
            {
                "number": n,
                "id": e.id,
                "title": e.title or e.kind,
                "person": e.person,
                "person_name": names[e.person],
                "person_relation_label": "partenaire" if e.person != "applicant" else "demandeur",
                "translations": [
                    {"id": t.id, "language": t.language or "", "sworn": t.sworn, "title": t.title or "Traduction"}
                    for t in case.translations_of(e.id)
                ],
            }
            for n, e in enumerate(originals, start=1)
        ],
        "evidence_count": len(originals),
        "missing": [],
        "legal_bases": ["CESEDA, art. R. 521-5"],
        "office": office_context(PLACEHOLDER, "fr"),
        "signature": "",
        "stamp": "",
    }


def inputs_for(case: Case, files: dict[str, bytes], **options: Any) -> PacketInputs:
    """Packet inputs around a case, with the shipped French cover letter."""
    return PacketInputs(
        case=case,
        files=files,
        checklist=checklist_for(case),
        letters=options.pop("letters", [LetterSpec(COVER_LETTER, "cover_letter")]),
        letter_context=context_for(case),
        rules_version="fr-test-1",
        rules_in_force=[{"requirement": "req-identity", "title": "Identité", "valid_from": "2020-01-01"}],
        builder="test-caseworker",
        tool_version="0.1.0",
        **options,
    )


def standard_evidence() -> tuple[list[dict[str, Any]], dict[str, bytes]]:
    """A realistic mix: text PDFs with translations, a scan, photos (one EXIF-rotated), a PNG screenshot."""
    entries: list[dict[str, Any]] = [
        {"id": "ev-wanted", "kind": "prosecution.wanted_notice", "file": "evidence/wanted.png", "language": "ru"},
        {
            "id": "ev-wanted-fr",
            "kind": "translation",
            "translation_of": "ev-wanted",
            "language": "fr",
            "sworn": True,
            "file": "evidence/wanted.fr.pdf",
        },
        {
            "id": "ev-id",
            "kind": "identity.internal_passport",
            "file": "evidence/passport.pdf",
            "language": "ru",
            "title": "Internal passport",
        },
        {
            "id": "ev-id-fr",
            "kind": "translation",
            "translation_of": "ev-id",
            "language": "fr",
            "sworn": True,
            "file": "evidence/passport.fr.pdf",
            "title": "Traduction assermentée : passeport intérieur",
        },
        {"id": "ev-photo", "kind": "identity.photo", "file": "evidence/photo.jpg"},
        {"id": "ev-milid", "kind": "military.id_card", "file": "evidence/military-id.pdf", "language": "ru"},
        {"id": "ev-statement", "kind": "statement.personal", "file": "evidence/statement.pdf", "language": "fr"},
        {"id": "ev-rotated", "kind": "military.orders", "file": "evidence/orders.jpg", "language": "ru"},
        {
            "id": "ev-p2-id",
            "kind": "identity.internal_passport",
            "person": "p2",
            "file": "evidence/p2.pdf",
            "language": "ru",
        },
        {
            "id": "ev-p2-id-fr",
            "kind": "translation",
            "translation_of": "ev-p2-id",
            "language": "fr",
            "sworn": True,
            "file": "evidence/p2.fr.pdf",
        },
        {"id": "ev-scan", "kind": "vetting.report", "file": "evidence/vetting.pdf", "language": "en"},
    ]
    files = {
        "ev-wanted": png("ev-wanted"),
        "ev-wanted-fr": text_pdf("ev-wanted-fr"),
        "ev-id": text_pdf("ev-id", pages=2),
        "ev-id-fr": text_pdf("ev-id-fr", pages=2),
        "ev-photo": jpeg("ev-photo", (413, 531)),
        "ev-milid": text_pdf("ev-milid"),
        "ev-statement": text_pdf("ev-statement", pages=3),
        "ev-rotated": jpeg("ev-rotated", (1200, 900), orientation=6),
        "ev-p2-id": text_pdf("ev-p2-id"),
        "ev-p2-id-fr": text_pdf("ev-p2-id-fr"),
        "ev-scan": scanned_pdf("ev-scan"),
    }
    return entries, files
