"""The packet bag: BagIt 1.0 validated by bagit-python, manifest.json lists every input hash."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path

import bagit
import pytest

from core.errors import AuditError
from core.hashing import canonical_json, sha256_hex
from packets import BuiltPacket, LetterConverter, build_packet, packet_id_for, read_bag_zip, unpack_bag_zip
from tests.fixtures_packets import COVER_LETTER, PACKET_SECRETS, inputs_for, make_case, standard_evidence


@pytest.fixture(scope="module")
def built(letter_converter: LetterConverter) -> tuple[BuiltPacket, object]:
    entries, files = standard_evidence()
    case = make_case(entries)
    inputs = inputs_for(case, files)
    return build_packet(inputs, converter=letter_converter), inputs


def _unzip(data: bytes, dest: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        zf.extractall(dest)
    (bag,) = dest.iterdir()
    return bag


def test_bag_is_bagit_1_0_and_validates_with_bagit_python(built, tmp_path: Path) -> None:
    packet, _ = built
    bag_dir = _unzip(packet.bag_zip, tmp_path)
    assert bag_dir.name == packet.packet_id
    assert (bag_dir / "bagit.txt").read_text().splitlines()[0] == "BagIt-Version: 1.0"
    bag = bagit.Bag(str(bag_dir))
    bag.validate()  # full validation: every hash, both algorithms
    assert bag.version_info == (1, 0)
    assert set(bag.algorithms) == {"sha256", "sha512"}
    for name in ("tagmanifest-sha256.txt", "tagmanifest-sha512.txt"):
        assert (bag_dir / name).is_file()
    payload = sorted(str(p.relative_to(bag_dir / "data")) for p in (bag_dir / "data").rglob("*") if p.is_file())
    assert payload == ["checklist.json", "letters/cover_letter.docx", "manifest.json", "packet.pdf"]
    assert bag.info["External-Identifier"] == packet.packet_id


def test_bagit_python_notices_a_changed_payload_byte(built, tmp_path: Path) -> None:
    packet, _ = built
    bag_dir = _unzip(packet.bag_zip, tmp_path)
    target = bag_dir / "data" / "checklist.json"
    target.write_bytes(target.read_bytes().replace(b"met", b"mot", 1))
    with pytest.raises(bagit.BagValidationError):
        bagit.Bag(str(bag_dir)).validate()


def test_unpack_writes_a_whole_bag_that_bagit_python_validates(built, tmp_path: Path) -> None:
    packet, _ = built
    bag_dir = unpack_bag_zip(packet.bag_zip, tmp_path / "out")
    assert bag_dir == (tmp_path / "out" / packet.packet_id).resolve()
    bagit.Bag(str(bag_dir)).validate()
    assert (bag_dir / "data" / "packet.pdf").read_bytes() == packet.packet_pdf


def test_read_bag_zip_checks_every_manifest(built) -> None:
    packet, _ = built
    name, files = read_bag_zip(packet.bag_zip)
    assert name == packet.packet_id and files["packet.pdf"] == packet.packet_pdf
    src = zipfile.ZipFile(io.BytesIO(packet.bag_zip))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("data/manifest.json"):
                data = data.replace(b"test-caseworker", b"someone-else")
            dst.writestr(info, data)
    with pytest.raises(AuditError, match=r"manifest\.json"):
        read_bag_zip(out.getvalue())
    escaping = io.BytesIO()
    with zipfile.ZipFile(escaping, "w") as dst:
        dst.writestr(f"{packet.packet_id}/data/../../evil.txt", b"x")
    with pytest.raises(AuditError, match="leave"):
        read_bag_zip(escaping.getvalue())


def test_manifest_lists_every_input_hash(built) -> None:
    packet, inputs = built
    _, files = read_bag_zip(packet.bag_zip)
    manifest = json.loads(files["manifest.json"])
    assert manifest == json.loads(json.dumps(packet.manifest))
    assert manifest["packet_id"] == packet.packet_id == packet_id_for(inputs)
    assert manifest["case_id"] == "K7Q2-M9XD"
    assert manifest["case_snapshot_sha256"] == sha256_hex(canonical_json(inputs.case.data))
    assert {e["id"]: e["sha256"] for e in manifest["evidence"]} == {k: sha256_hex(v) for k, v in inputs.files.items()}
    assert manifest["templates"][0]["sha256"] == hashlib.sha256(COVER_LETTER.read_bytes()).hexdigest()
    assert manifest["rules"] == {"version": "fr-test-1", "in_force": inputs.rules_in_force}
    assert (manifest["procedure"], manifest["stage"]) == ("asylum-visa", "consular-submission")
    assert manifest["submission_date"] == "2026-12-15"
    assert manifest["tool_version"] == "0.1.0" and manifest["builder"] == "test-caseworker"
    assert manifest["bundle"]["sha256"] == sha256_hex(files["packet.pdf"])
    assert manifest["checklist_sha256"] == sha256_hex(canonical_json(json.loads(files["checklist.json"])))
    assert manifest["letters"][0]["docx_sha256"] == sha256_hex(files["letters/cover_letter.docx"])
    assert manifest["software"]["letters_converted_by"].startswith("LibreOffice")
    text = files["manifest.json"].decode()
    for secret in PACKET_SECRETS:
        assert secret not in text


def test_letter_docx_in_the_bag_is_the_rendered_letter(built) -> None:
    packet, _ = built
    _, files = read_bag_zip(packet.bag_zip)
    with zipfile.ZipFile(io.BytesIO(files["letters/cover_letter.docx"])) as zf:
        body = zf.read("word/document.xml").decode()
        dates = {info.date_time for info in zf.infolist()}
    assert "Ivan Sidorov" in body and "{{" not in body and "{%" not in body
    assert packet.packet_id in body
    assert dates == {(2026, 12, 15, 0, 0, 0)}
