"""Pre-flight: bad evidence is refused by content, all problems at once, each naming its evidence id."""

from __future__ import annotations

import hashlib
import io
import pickle
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pikepdf
import pytest

from casefile import load_case_folder
from core.errors import CaseInvalid, EvidenceRejected
from packets import LetterConverter, build_packet, inspection, preflight, text_layer_warnings
from packets.pdfcheck import inspect_pdf
from packets.sniff import PDF, content_type
from tests.conftest import EXAMPLE_SECRETS
from tests.fixtures_packets import (
    PACKET_SECRETS,
    bad_stream_pdf,
    embedded_file_pdf,
    encrypted_pdf,
    huge_png_header,
    inputs_for,
    jpeg,
    js_open_action_pdf,
    launch_annotation_pdf,
    make_case,
    png,
    scanned_pdf,
    text_pdf,
    truncated_pdf,
)


def _entry(eid: str, file: str, kind: str = "military.orders") -> dict[str, str]:
    return {"id": eid, "kind": kind, "file": f"evidence/{file}"}


BAD = {
    "ev-png-as-pdf": ("notice.pdf", png("x")),
    "ev-js": ("js.pdf", js_open_action_pdf("ev-js")),
    "ev-truncated": ("cut.pdf", truncated_pdf("ev-truncated")),
    "ev-locked": ("locked.pdf", encrypted_pdf("ev-locked")),
    "ev-owner-locked": ("owner.pdf", encrypted_pdf("ev-owner-locked", user_password="")),
    "ev-launch": ("launch.pdf", launch_annotation_pdf("ev-launch")),
    "ev-attached": ("attached.pdf", embedded_file_pdf("ev-attached")),
    "ev-bomb": ("bomb.png", huge_png_header()),
    "ev-docx": ("letter.pdf", b"PK\x03\x04" + b"\x00" * 200),
    "ev-garbage": ("x.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 50),
    "ev-jpeg-cut": ("photo.jpg", jpeg("cut")[:3000]),
    "ev-bad-stream": ("stream.pdf", bad_stream_pdf("ev-bad-stream")),
}
GOOD = {
    "ev-ok-pdf": ("ok.pdf", text_pdf("ev-ok-pdf")),
    "ev-ok-jpg": ("ok.jpeg", jpeg("ev-ok-jpg")),
    "ev-ok-noext": ("scan", scanned_pdf("ev-ok-noext")),
}
EXPECTED_REASON = {
    "ev-png-as-pdf": "content is PNG, name says PDF",
    "ev-js": "JavaScript (run on opening, OpenAction)",
    "ev-truncated": "truncated",
    "ev-locked": "encrypted with a password",
    "ev-owner-locked": "encrypted (owner password",
    "ev-launch": "launch action",
    "ev-attached": "embedded file",
    "ev-bomb": "decompression bomb",
    "ev-docx": "content is a ZIP archive",
    "ev-garbage": "damaged",
    "ev-jpeg-cut": "damaged or truncated",
    "ev-bad-stream": "content of page 2 cannot be read",
}


@pytest.fixture(scope="module")
def mixed() -> tuple[object, dict[str, bytes]]:
    entries = [_entry(eid, name) for eid, (name, _) in {**BAD, **GOOD}.items()]
    files = {eid: data for eid, (_, data) in {**BAD, **GOOD}.items()}
    return make_case(entries, household=False), files


def test_preflight_names_every_bad_evidence_id_with_its_reason(mixed) -> None:
    case, files = mixed
    problems = preflight(case, files)
    by_id: dict[str, list[str]] = {}
    for p in problems:
        by_id.setdefault(p.where, []).append(p.what)
    assert set(by_id) == set(BAD)
    for eid, reason in EXPECTED_REASON.items():
        assert any(reason in what for what in by_id[eid]), (eid, by_id[eid])


def test_build_refuses_with_exit_2_listing_all_ids_and_no_personal_data(mixed, tmp_path: Path) -> None:
    case, files = mixed
    with pytest.raises(EvidenceRejected) as info:
        build_packet(inputs_for(case, files), converter=LetterConverter(soffice="/nonexistent/soffice"))
    err = info.value
    assert err.exit_code == 2
    text = str(err)
    for eid in BAD:
        assert eid in text
    for eid in GOOD:
        assert eid not in text
    for secret in PACKET_SECRETS:
        assert secret not in text


def test_the_three_issue_cases_are_named_together() -> None:
    entries = [_entry("ev-a", "a.pdf"), _entry("ev-b", "b.pdf"), _entry("ev-c", "c.pdf"), _entry("ev-d", "d.pdf")]
    files = {"ev-a": png("a"), "ev-b": js_open_action_pdf("b"), "ev-c": truncated_pdf("c"), "ev-d": text_pdf("d")}
    ids = {p.where for p in preflight(make_case(entries, household=False), files)}
    assert ids == {"ev-a", "ev-b", "ev-c"}


def test_pixel_limit_is_configurable_and_checked_before_decoding() -> None:
    entries = [_entry("ev-img", "img.jpg")]
    files = {"ev-img": jpeg("img", (600, 800))}
    case = make_case(entries, household=False)
    assert preflight(case, files) == []
    problems = preflight(case, files, max_image_pixels=100_000)
    assert [p.where for p in problems] == ["ev-img"] and "600 x 800 pixels" in problems[0].what


def test_pdf_with_a_huge_image_object_is_refused() -> None:
    pdf = pikepdf.open(io.BytesIO(text_pdf("x")))
    image = pdf.make_stream(
        b"\x00" * 10,
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Image,
        Width=90_000,
        Height=90_000,
        ColorSpace=pikepdf.Name.DeviceGray,
        BitsPerComponent=8,
    )
    pdf.pages[0].Resources.XObject = pikepdf.Dictionary(Im0=image)
    out = io.BytesIO()
    pdf.save(out)
    report = inspect_pdf(out.getvalue(), 120_000_000)
    assert any("decompression bomb" in p for p in report.problems)


def test_sanitise_removes_active_content_and_records_it(letter_converter: LetterConverter) -> None:
    entries = [
        _entry("ev-js", "js.pdf"),
        _entry("ev-launch", "l.pdf"),
        _entry("ev-owner", "o.pdf"),
        _entry("ev-truncated", "t.pdf"),
    ]
    files = {
        "ev-js": js_open_action_pdf("ev-js"),
        "ev-launch": launch_annotation_pdf("ev-launch"),
        "ev-owner": encrypted_pdf("ev-owner", user_password=""),
        "ev-truncated": truncated_pdf("t"),
    }
    case = make_case(entries, household=False)
    problems = preflight(case, files, sanitise=True)
    assert {p.where for p in problems} == {"ev-truncated"}  # damage cannot be sanitised away
    del files["ev-truncated"]
    case = make_case(entries[:3], household=False)
    packet = build_packet(inputs_for(case, files, sanitise=True), converter=letter_converter)
    changed = {c["evidence"] for c in packet.manifest["sanitisation"]}
    assert changed == {"ev-js", "ev-launch", "ev-owner"}
    assert any("open action" in c["change"] for c in packet.manifest["sanitisation"] if c["evidence"] == "ev-js")
    report = inspect_pdf(packet.packet_pdf, 120_000_000)
    assert report.problems == [] and report.fixable == [] and report.findings == []
    by_id = {e["id"]: e for e in packet.manifest["evidence"]}
    assert by_id["ev-js"]["sanitised"] and by_id["ev-js"]["sha256"] != by_id["ev-js"]["bundled_sha256"]


def test_text_layer_warnings_flag_scans_but_not_text_pdfs_or_photos() -> None:
    entries = [
        _entry("ev-text", "t.pdf"),
        _entry("ev-scan", "s.pdf"),
        _entry("ev-img", "i.png"),
        _entry("ev-photo", "p.jpg", kind="identity.photo"),
    ]
    files = {"ev-text": text_pdf("t"), "ev-scan": scanned_pdf("s"), "ev-img": png("i"), "ev-photo": jpeg("p")}
    warnings = text_layer_warnings(make_case(entries, household=False), files)
    flagged = sorted(w.split(":")[0] for w in warnings)
    assert flagged == ["evidence ev-img", "evidence ev-scan"]
    assert all("text layer" in w for w in warnings)


def test_missing_bytes_and_escaping_paths_are_refused_by_id() -> None:
    entries = [_entry("ev-gone", "gone.pdf"), {"id": "ev-up", "kind": "military.orders", "file": "../../../etc/x.pdf"}]
    problems = preflight(make_case(entries, household=False), {"ev-up": text_pdf("x")})
    assert {p.where: p.what for p in problems}.keys() == {"ev-gone", "ev-up"}
    assert "leaves the case folder" in next(p.what for p in problems if p.where == "ev-up")


def _folder(tmp_path: Path, file_ref: str) -> Path:
    folder = tmp_path / "case"
    (folder / "evidence").mkdir(parents=True)
    (folder / "case.yaml").write_text(
        "country: fr\nprocedure: asylum-visa\n"
        "applicant: {given_name: Ivan, family_name: Sidorov, birth_date: 1997-04-21, citizenship: RU}\n"
        f"evidence:\n  - {{id: ev-escape, kind: military.orders, file: '{file_ref}'}}\n"
    )
    return folder


@pytest.mark.parametrize("how", ["dotdot", "symlink"])
def test_case_folder_refuses_paths_that_escape_it(tmp_path: Path, how: str) -> None:
    outside = tmp_path / "outside.pdf"
    outside.write_bytes(text_pdf("outside"))
    if how == "dotdot":
        folder = _folder(tmp_path, "../../../outside.pdf")
    else:
        folder = _folder(tmp_path, "evidence/link.pdf")
        (folder / "evidence" / "link.pdf").symlink_to(outside)
    with pytest.raises(CaseInvalid) as info:
        load_case_folder(folder)
    assert info.value.exit_code == 2
    assert "ev-escape" in str(info.value) and "leaves the case folder" in str(info.value)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_build_inspects_each_evidence_file_once_for_checklist_preflight_and_bundle(
    loaded, letter_converter: LetterConverter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checklist warnings, pre-flight and the packet build share one inspection per file (issue 11, item 6)."""
    from workflows import pipeline

    inspection.CACHE.clear()
    pdf_walks: Counter[str] = Counter()
    image_decodes: Counter[str] = Counter()
    opens: Counter[str] = Counter()
    real_inspect_pdf, real_inspect_image, real_open = inspection.inspect_pdf, inspection.inspect_image, pikepdf.open

    def counting_inspect_pdf(data: bytes, max_pixels: int) -> Any:
        pdf_walks[_sha(data)] += 1
        return real_inspect_pdf(data, max_pixels)

    def counting_inspect_image(data: bytes, ctype: str, max_pixels: int) -> list[str]:
        image_decodes[_sha(data)] += 1
        return real_inspect_image(data, ctype, max_pixels)

    def counting_open(source: Any, *args: Any, **kwargs: Any) -> pikepdf.Pdf:
        if isinstance(source, io.BytesIO):
            opens[_sha(source.getvalue())] += 1
        return real_open(source, *args, **kwargs)

    monkeypatch.setattr(inspection, "inspect_pdf", counting_inspect_pdf)
    monkeypatch.setattr(inspection, "inspect_image", counting_inspect_image)
    monkeypatch.setattr(pikepdf, "open", counting_open)

    today = date.today()
    checklist = pipeline.evaluate_case(loaded, today)  # scan warnings: the first look at every file
    built = pipeline.assemble(loaded, checklist, actor="t", today=today, converter=letter_converter)
    assert built.pages > 0

    files = {_sha(data): data for data in loaded.files.values()}
    pdfs = {d for d, data in files.items() if content_type(data) == PDF}
    assert len(files) >= 20 and pdfs and set(files) - pdfs, "the example case should have PDFs and images"
    assert dict(pdf_walks) == dict.fromkeys(pdfs, 1)
    assert dict(image_decodes) == dict.fromkeys(set(files) - pdfs, 1)
    assert inspection.CACHE.parses == len(files)
    assert inspection.CACHE.hits == 2 * len(files)  # pre-flight and build_packet
    # Per PDF: opened as found and as the bundle reads it (inside the one inspection), then by the bundle.
    # Before the shared inspection this was 7 (3 inspections x 2 opens + the bundle).
    assert {d: opens[d] for d in pdfs} == dict.fromkeys(pdfs, 3)


def test_the_inspection_cache_keeps_no_document_content(loaded) -> None:
    inspection.CACHE.clear()
    assert preflight(loaded.case, loaded.files) == []
    kept = pickle.dumps(inspection.CACHE.results())
    assert len(inspection.CACHE.results()) == len(set(loaded.files.values()))
    for secret in EXAMPLE_SECRETS:
        assert secret.encode() not in kept
    assert not any(data[:200] in kept for data in loaded.files.values())
