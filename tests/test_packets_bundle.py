"""packet.pdf: letters, linked index with page ranges, sections and bookmarks, stamps on every page."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pikepdf
import pypdf
import pytest
from PIL import Image

from casefile.kinds import SECTION_ORDER, section_of
from packets import BuiltPacket, LetterConverter, build_packet
from tests.fixtures_packets import inputs_for, make_case, standard_evidence, text_pdf

STAMP = re.compile(r"Dossier K7Q2-M9XD · Paquet (P-[0-9A-Z]{12}) ·\s+(?:Pièce ([0-9.]+) ·\s+)?page (\d+) / (\d+)")


@pytest.fixture(scope="module")
def built(letter_converter: LetterConverter) -> tuple[BuiltPacket, object]:
    entries, files = standard_evidence()
    case = make_case(entries)
    return build_packet(inputs_for(case, files), converter=letter_converter), case


def _reader(packet: BuiltPacket) -> pypdf.PdfReader:
    return pypdf.PdfReader(io.BytesIO(packet.packet_pdf))


def _outline(reader: pypdf.PdfReader) -> list[tuple[int, str, int]]:
    out: list[tuple[int, str, int]] = []

    def walk(items: list, depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                page = reader.get_destination_page_number(item)
                assert page is not None
                out.append((depth, item.title, page + 1))

    walk(reader.outline, 0)
    return out


def test_every_page_is_stamped_with_case_packet_and_page_number(built) -> None:
    packet, _ = built
    reader = _reader(packet)
    assert len(reader.pages) == packet.pages
    for n, page in enumerate(reader.pages, start=1):
        match = STAMP.search(page.extract_text())
        assert match, f"page {n} has no stamp"
        assert (match.group(1), match.group(3), match.group(4)) == (packet.packet_id, str(n), str(packet.pages))


def test_every_evidence_page_carries_its_exhibit_number_beside_the_stamp(built) -> None:
    packet, _ = built
    reader = _reader(packet)
    expected: dict[int, str] = {}
    for entry in packet.manifest["evidence"]:
        first, last = entry["packet_pages"]
        expected.update(dict.fromkeys(range(first, last + 1), entry["number"]))
    assert expected, "the fixture has evidence"
    for n, page in enumerate(reader.pages, start=1):
        match = STAMP.search(page.extract_text())
        assert match is not None
        assert match.group(2) == expected.get(n), f"page {n}: exhibit label {match.group(2)!r}"


def test_stamp_is_one_shared_form_xobject(built) -> None:
    packet, _ = built
    with pikepdf.open(io.BytesIO(packet.packet_pdf)) as pdf:
        stamps = {page.Resources.XObject["/DossierStamp"].objgen for page in pdf.pages}
    assert len(stamps) == 1


def test_one_bookmark_per_evidence_document_nested_in_sections(built) -> None:
    packet, case = built
    outline = _outline(_reader(packet))
    docs = [(title, page) for depth, title, page in outline if depth == 1]
    assert len(docs) == len(case.evidence)
    sections = [title for depth, title, _ in outline if depth == 0][2:]  # after the letter and the index
    assert sections == [
        "Identité et état civil",
        "Service militaire",
        "Poursuites pénales et casier judiciaire",
        "Vérification par l'association",
        "Récit personnel",
    ]
    top = [title for depth, title, _ in outline if depth == 0][:2]
    assert top == ["Courrier d'accompagnement", "Bordereau des pièces"]  # the template's title, then the one index


def test_sections_follow_section_order_and_translation_follows_original(built) -> None:
    packet, case = built
    order = [e["id"] for e in packet.manifest["evidence"]]
    by_id = {e.id: e for e in case.evidence}
    ranks = []
    for eid in order:
        e = by_id[eid]
        original = by_id[e.translation_of] if e.translation_of else e
        ranks.append(SECTION_ORDER.index(section_of(original.kind)))
    assert ranks == sorted(ranks)
    for i, eid in enumerate(order):
        if by_id[eid].translation_of:
            prev = order[i - 1]
            assert prev == by_id[eid].translation_of or by_id[prev].translation_of == by_id[eid].translation_of
    pages = {e["id"]: e["packet_pages"] for e in packet.manifest["evidence"]}
    assert pages["ev-id-fr"][0] == pages["ev-id"][1] + 1


def test_index_page_ranges_point_at_the_right_pages(built) -> None:
    packet, _ = built
    reader = _reader(packet)
    index_page = next(i for i, p in enumerate(reader.pages) if "Bordereau des pièces" in p.extract_text())
    index_text = reader.pages[index_page].extract_text()
    assert f"8 pièces, {packet.pages} pages" in index_text
    for entry in packet.manifest["evidence"]:
        first, last = entry["packet_pages"]
        label = str(first) if first == last else f"{first}–{last}"
        assert re.search(rf"(^|\n){re.escape(entry['number'])} .*{label}(\n|$)", index_text), entry["id"]
        if entry["content_type"] == "PDF" and entry["id"] != "ev-scan":
            for page in range(first, last + 1):
                assert f"Evidence id: {entry['id']}" in reader.pages[page - 1].extract_text()
    assert reader.pages[packet.manifest["letters"][0]["packet_pages"][0] - 1].extract_text().count("Madame, Monsieur")


def test_index_entries_link_to_the_first_page_of_each_document(built) -> None:
    packet, _ = built
    with pikepdf.open(io.BytesIO(packet.packet_pdf)) as pdf:
        page_index = {p.obj.objgen: n for n, p in enumerate(pdf.pages, start=1)}
        targets = []
        for page in pdf.pages:
            for annot in page.obj.get("/Annots", []):
                if annot.get("/Subtype") == "/Link":
                    targets.append(page_index[annot.Dest[0].objgen])
    letter_first = packet.manifest["letters"][0]["packet_pages"][0]
    assert targets == [letter_first] + [e["packet_pages"][0] for e in packet.manifest["evidence"]]


def test_jpeg_is_embedded_unchanged_and_exif_rotation_applied(built) -> None:
    packet, _ = built
    _, files = standard_evidence()
    entry = next(e for e in packet.manifest["evidence"] if e["id"] == "ev-rotated")
    with pikepdf.open(io.BytesIO(packet.packet_pdf)) as pdf:
        page = pdf.pages[entry["packet_pages"][0] - 1]
        assert int(page.obj.get("/Rotate", 0)) == 90
        images = [v for v in page.Resources.XObject.values() if v.get("/Subtype") == "/Image"]
        assert images[0].read_raw_bytes() == files["ev-rotated"]
        box = [float(v) for v in page.MediaBox]
        assert sorted((round(box[2] - box[0]), round(box[3] - box[1]))) == [595, 842]  # A4


def test_stamp_sits_upright_at_the_displayed_foot_of_a_rotated_page(built, tmp_path: Path) -> None:
    packet, _ = built
    page_no = next(e for e in packet.manifest["evidence"] if e["id"] == "ev-rotated")["packet_pages"][0]
    pdf_path = tmp_path / "p.pdf"
    pdf_path.write_bytes(packet.packet_pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "40",
            "-gray",
            "-png",
            "-f",
            str(page_no),
            "-l",
            str(page_no),
            str(pdf_path),
            str(tmp_path / "r"),
        ],
        check=True,
    )
    img = Image.open(next(tmp_path.glob("r*.png"))).convert("L")
    w, h = img.size
    assert h > w  # displayed portrait: the EXIF orientation was honoured

    def dark(box: tuple[int, int, int, int]) -> int:
        return sum(1 for v in img.crop(box).get_flattened_data() if isinstance(v, int) and v < 128)

    foot = dark((0, h - max(3, h // 40), w, h))
    left_edge = dark((0, 0, max(3, w // 40), h))
    right_edge = dark((w - max(3, w // 40), 0, w, h))
    assert foot > 0 and left_edge == 0 and right_edge == 0


def test_duplex_padding_starts_every_part_on_an_odd_page(letter_converter: LetterConverter) -> None:
    entries = [
        {"id": "ev-a", "kind": "identity.internal_passport", "file": "evidence/a.pdf"},
        {"id": "ev-a-fr", "kind": "translation", "translation_of": "ev-a", "language": "fr", "file": "evidence/b.pdf"},
        {"id": "ev-c", "kind": "military.id_card", "file": "evidence/c.pdf"},
    ]
    files = {"ev-a": text_pdf("ev-a", 3), "ev-a-fr": text_pdf("ev-a-fr", 2), "ev-c": text_pdf("ev-c", 1)}
    case = make_case(entries, household=False)
    packet = build_packet(inputs_for(case, files, duplex=True), converter=letter_converter)
    firsts = [e["packet_pages"][0] for e in packet.manifest["evidence"]]
    assert all(p % 2 == 1 for p in firsts)
    assert packet.pages % 2 == 0
    reader = _reader(packet)
    blanks = [n for n, p in enumerate(reader.pages, start=1) if "Page laissée blanche" in p.extract_text()]
    assert blanks and all(STAMP.search(reader.pages[n - 1].extract_text()) for n in blanks)
    plain = build_packet(inputs_for(case, files), converter=letter_converter)
    assert plain.pages < packet.pages and plain.packet_id != packet.packet_id


def test_a_packet_as_evidence_keeps_its_own_stamp_and_gets_the_new_one(
    built, letter_converter: LetterConverter
) -> None:
    packet, _ = built
    entries = [{"id": "ev-old", "kind": "support.ngo_letter", "file": "evidence/old-packet.pdf"}]
    case = make_case(entries, household=False, case_id="K7Q2-M9XE")
    again = build_packet(inputs_for(case, {"ev-old": packet.packet_pdf}), converter=letter_converter)
    reader = _reader(again)
    first = again.manifest["evidence"][0]["packet_pages"][0]
    text = reader.pages[first - 1].extract_text()
    assert f"Paquet {packet.packet_id}" in text and f"Paquet {again.packet_id}" in text
    assert f"page {first} / {again.pages}" in text


def test_a_russian_bundle_prints_its_index_and_stamp_in_russian_with_embedded_fonts() -> None:
    """The bundle's own words use embedded Unicode fonts: Cyrillic prints, and PDF/A finds every font embedded."""
    from datetime import date

    from packets.bundle import BundleDoc, BundleMeta, assemble

    docs = [
        BundleDoc("ev-a", text_pdf("ev-a", pages=2), "military", "1", "Военный билет"),
        BundleDoc("ev-a-tr", text_pdf("ev-a-tr"), "military", "1.1", "Перевод", is_translation=True),
    ]
    meta = BundleMeta(
        case_id="K7Q2-M9XD", packet_id="P-0000000000KZ", language="ru", day=date(2026, 12, 15), producer="t"
    )
    bundle = assemble([], docs, meta)
    reader = pypdf.PdfReader(io.BytesIO(bundle.pdf))
    index = " ".join(reader.pages[0].extract_text().split())
    assert "Опись документов" in index and "Военная служба" in index and "Военный билет" in index
    evidence_page = " ".join(reader.pages[1].extract_text().split())
    assert "Дело K7Q2-M9XD · Пакет P-0000000000KZ · Приложение 1 · стр. 2 / 4" in evidence_page
    with pikepdf.open(io.BytesIO(bundle.pdf)) as pdf:
        index_fonts = pdf.pages[0].Resources.Font
        for name in index_fonts.keys():
            descendant = index_fonts[name].DescendantFonts[0]
            assert "/FontFile2" in descendant.FontDescriptor, f"{name} is not embedded"
