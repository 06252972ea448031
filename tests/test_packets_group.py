"""Group submissions: member packets, a group cover letter and a group index in one BagIt 1.0 bag."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import bagit
import pypdf
import pytest

from core.errors import BadInput
from packets import GroupMember, LetterConverter, build_group, build_packet, load_group_file, read_bag_zip
from tests.fixtures_packets import inputs_for, make_case, text_pdf


def _member(case_id: str, converter: LetterConverter) -> GroupMember:
    entries = [{"id": "ev-a", "kind": "identity.internal_passport", "file": "evidence/a.pdf"}]
    inputs = inputs_for(make_case(entries, case_id=case_id), {"ev-a": text_pdf(case_id)})
    return GroupMember(inputs, build_packet(inputs, converter=converter))


@pytest.fixture(scope="module")
def group(letter_converter: LetterConverter):
    members = [_member("K7Q2-AAAA", letter_converter), _member("K7Q2-BBBB", letter_converter)]
    return members, build_group(members, builder="test-caseworker", tool_version="0.1.0", converter=letter_converter)


def test_group_bag_holds_every_member_packet_and_validates(group, tmp_path: Path) -> None:
    members, built = group
    with zipfile.ZipFile(io.BytesIO(built.bag_zip)) as zf:
        zf.extractall(tmp_path)
    bag = bagit.Bag(str(tmp_path / built.group_id))
    bag.validate()
    assert bag.version_info == (1, 0)
    _, files = read_bag_zip(built.bag_zip)
    for m in members:
        assert files[f"members/{m.packet.packet_id}/packet.pdf"] == m.packet.packet_pdf
        assert f"members/{m.packet.packet_id}/manifest.json" in files
    assert {"group.pdf", "manifest.json", "letters/group_cover_letter.docx"} <= set(files)
    assert [r["packet_id"] for r in built.manifest["members"]] == [m.packet.packet_id for m in members]


def test_group_pdf_has_cover_letter_and_index_of_members(group) -> None:
    members, built = group
    _, files = read_bag_zip(built.bag_zip)
    reader = pypdf.PdfReader(io.BytesIO(files["group.pdf"]))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "demande groupée" in text and "2 dossiers, 4 personnes" in text
    index = reader.pages[-1].extract_text()
    assert "Bordereau de la demande groupée" in index
    for m in members:
        assert m.packet.packet_id in index and m.inputs.case.case_id in index
    assert all(f"page {n} / {len(reader.pages)}" in p.extract_text() for n, p in enumerate(reader.pages, 1))


def test_group_id_is_reproducible_and_order_free(group, letter_converter: LetterConverter) -> None:
    members, built = group
    again = build_group(members, builder="test-caseworker", tool_version="0.1.0", converter=letter_converter)
    assert again.bag_zip == built.bag_zip
    swapped = build_group(members[::-1], builder="x", tool_version="0.1.0", converter=letter_converter)
    assert swapped.group_id == built.group_id


def test_a_group_needs_two_distinct_members(group) -> None:
    members, _ = group
    with pytest.raises(BadInput):
        build_group(members[:1], builder="x", tool_version="0.1.0")
    with pytest.raises(BadInput):
        build_group([members[0], members[0]], builder="x", tool_version="0.1.0")


def test_group_file_as_yaml_list_or_plain_lines(tmp_path: Path) -> None:
    listed = tmp_path / "g.yaml"
    listed.write_text("- K7Q2-AAAA\n- cases/two\n")
    assert load_group_file(listed) == ["K7Q2-AAAA", "cases/two"]
    plain = tmp_path / "g.txt"
    plain.write_text("# the seeds' group\nK7Q2-AAAA\ncases/two\n")
    assert load_group_file(plain) == ["K7Q2-AAAA", "cases/two"]
    dup = tmp_path / "d.txt"
    dup.write_text("K7Q2-AAAA\nK7Q2-AAAA\n")
    with pytest.raises(BadInput, match="twice"):
        load_group_file(dup)
