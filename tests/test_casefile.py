"""case.yaml validation through the public loader: every bad field is named, values never quoted."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from casefile import load_case_folder
from core.errors import BadInput, CaseInvalid


def _rewrite(folder: Path, mutate) -> None:
    data = yaml.safe_load((folder / "case.yaml").read_text())
    mutate(data)
    (folder / "case.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))


def test_examples_load_with_every_evidence_file(example_case) -> None:
    loaded = load_case_folder(example_case("fr-asylum-visa-couple"))
    assert loaded.case.country == "fr"
    assert len(loaded.files) == len(loaded.case.evidence) == 30
    assert loaded.files["ev-id"].startswith(b"%PDF")
    assert loaded.case.accompanying[0].person_id == "p2"
    assert [e.id for e in loaded.case.translations_of("ev-id")] == ["ev-id-fr"]


def test_every_bad_field_is_named_by_path_without_its_value(example_case) -> None:
    folder = example_case("fr-asylum-visa-couple")

    def mutate(d: dict) -> None:
        d["applicant"]["birth_date"] = "14.03.1998"
        d["applicant"].pop("family_name")
        d["household"][0]["relation"] = "cousin"
        d["evidence"][2]["colour"] = "blue"
        d["submission_date"] = "2026-02-30"

    _rewrite(folder, mutate)
    with pytest.raises(CaseInvalid) as info:
        load_case_folder(folder)
    wheres = {p.where for p in info.value.problems}
    assert {
        "applicant.birth_date",
        "applicant.family_name",
        "household[0].relation",
        "submission_date",
    } <= wheres
    assert any(w.startswith("evidence[2] (id ") and w.endswith(").colour") for w in wheres), wheres
    assert info.value.exit_code == 2
    text = str(info.value)
    assert "14.03.1998" not in text and "Orlov" not in text and "cousin" not in text


def test_cross_references_must_resolve(example_case) -> None:
    folder = example_case("fr-asylum-visa-couple")

    def mutate(d: dict) -> None:
        d["evidence"][1]["translation_of"] = "ev-nowhere"
        d["evidence"][3]["id"] = d["evidence"][0]["id"]
        d["evidence"][4]["person"] = "p9"
        d["evidence"][5]["kind"] = "military.medal"

    _rewrite(folder, mutate)
    with pytest.raises(CaseInvalid) as info:
        load_case_folder(folder)
    got = {str(p) for p in info.value.problems}
    assert "evidence[1] (id ev-id-fr).translation_of: names no original evidence id in this case" in got
    assert "evidence[3].id: duplicates evidence[0].id" in got
    assert any(p.startswith("evidence[4] (id ") and ").person" in p for p in got)
    assert any(p.startswith("evidence[5] (id ") and ").kind" in p for p in got)


@pytest.mark.parametrize("path", ["../../../etc/passwd", "/etc/passwd", "evidence/../../outside.pdf"])
def test_evidence_path_escapes_are_refused_naming_the_id(example_case, path: str) -> None:
    folder = example_case("fr-asylum-visa-couple")
    (folder.parent / "outside.pdf").write_bytes(b"%PDF-1.4 outside")

    def mutate(d: dict) -> None:
        d["evidence"][0]["file"] = path

    _rewrite(folder, mutate)
    with pytest.raises(CaseInvalid) as info:
        load_case_folder(folder)
    assert any("id ev-id" in p.where and "case folder" in p.what for p in info.value.problems)


def test_symlink_out_of_the_folder_is_refused(example_case, tmp_path: Path) -> None:
    folder = example_case("fr-asylum-visa-couple")
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"%PDF-1.4 secret")
    link = folder / "evidence" / "internal-passport.pdf"
    link.unlink()
    link.symlink_to(secret)
    with pytest.raises(CaseInvalid) as info:
        load_case_folder(folder)
    assert any("through a link" in p.what for p in info.value.problems)


def test_duplicate_yaml_key_names_the_line(example_case) -> None:
    folder = example_case("de-work-visa-family")
    text = (folder / "case.yaml").read_text()
    (folder / "case.yaml").write_text(text.replace("country: de\n", "country: de\ncountry: fr\n", 1))
    with pytest.raises(BadInput) as info:
        load_case_folder(folder)
    assert "duplicate key 'country'" in str(info.value) and "line" in str(info.value)


def test_nul_byte_in_evidence_path_is_a_clear_error(example_case) -> None:
    folder = example_case("fr-asylum-visa-couple")

    def mutate(d: dict) -> None:
        d["evidence"][0]["file"] = "evidence/a\x00b.pdf"

    _rewrite(folder, mutate)
    with pytest.raises(CaseInvalid) as info:
        load_case_folder(folder)
    assert any("control characters" in p.what for p in info.value.problems)
