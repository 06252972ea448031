"""The organisation's identity in the letters, its own support letter, and the preview."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path

import pikepdf
import pytest
from PIL import Image

from casefile import LoadedCase
from core.errors import ConfigError
from core.office import PLACEHOLDER, load_office
from country_rules.letters import office_context
from packets import LetterConverter, LetterSpec, build_packet, render_letter
from tests.fixtures_packets import COVER_LETTER, context_for, inputs_for, make_case, text_pdf
from workflows.preview import preview

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SUPPORT_LETTER = TEMPLATES / "fr" / "support_letter.docx"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (300, 100), "navy").save(out, format="PNG")
    return out.getvalue()


def test_without_office_toml_the_letters_say_the_office_is_not_configured(tmp_path: Path) -> None:
    assert load_office(tmp_path) is PLACEHOLDER
    ctx = office_context(PLACEHOLDER, "de")
    assert ctx["name"] == "(Organisation nicht eingerichtet: office.toml)" and not ctx["configured"]


def test_office_toml_gives_letterhead_signatory_and_role_per_language(tmp_path: Path) -> None:
    (tmp_path / "sig.png").write_bytes(_png())
    (tmp_path / "office.toml").write_text(
        "[office]\n"
        'name = "Exemple Libertés"\n'
        'address = ["1 rue de l\'Exemple", "75000 Paris"]\n'
        'email = "contact@example.org"\n'
        'city = "Paris"\n'
        'signatory = "Marie Exemple"\n'
        'role = {fr = "Présidente", de = "Vorsitzende"}\n'
        'signature_image = "sig.png"\n',
        encoding="utf-8",
    )
    office = load_office(tmp_path)
    assert office.configured and office.signing is None and office.signature_image == _png()
    assert office_context(office, "de")["role"] == "Vorsitzende"
    assert office_context(office, "fr")["address"] == ["1 rue de l'Exemple", "75000 Paris"]


def test_config_toml_office_table_is_read_when_there_is_no_office_toml(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text('[office]\nname = "Autre ONG"\n', encoding="utf-8")
    assert load_office(tmp_path).name == "Autre ONG"


def test_a_missing_signature_image_is_a_config_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "office.toml").write_text('[office]\nname = "X"\nsignature_image = "nope.png"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"signature_image 'nope.png'") as info:
        load_office(tmp_path)
    assert info.value.exit_code == 2


def test_the_signature_image_is_placed_in_the_letter(tmp_path: Path) -> None:
    case = make_case([{"id": "ev-a", "kind": "identity.internal_passport", "file": "evidence/a.pdf"}])
    docx = render_letter(
        LetterSpec(COVER_LETTER, "cover_letter"), context_for(case) | {"packet_id": "P-1"}, images={"signature": _png()}
    )
    with zipfile.ZipFile(io.BytesIO(docx)) as zf:
        media = [n for n in zf.namelist() if n.startswith("word/media/")]
    assert len(media) == 1


def test_the_ngos_own_support_letter_replaces_the_generated_one(letter_converter: LetterConverter) -> None:
    letters = [LetterSpec(COVER_LETTER, "cover_letter"), LetterSpec(SUPPORT_LETTER, "support_letter")]
    plain = [{"id": "ev-a", "kind": "identity.internal_passport", "file": "evidence/a.pdf"}]
    own = [*plain, {"id": "ev-ngo", "kind": "support.ngo_letter", "file": "evidence/ngo.pdf", "language": "fr"}]
    files = {"ev-a": text_pdf("ev-a"), "ev-ngo": text_pdf("ev-ngo")}
    generated = build_packet(inputs_for(make_case(plain), files, letters=letters), converter=letter_converter)
    uploaded = build_packet(inputs_for(make_case(own), files, letters=letters), converter=letter_converter)
    assert [x["name"] for x in generated.manifest["letters"]] == ["cover_letter", "support_letter"]
    assert [x["name"] for x in uploaded.manifest["letters"]] == ["cover_letter"]
    assert [t["output_name"] for t in uploaded.manifest["templates"]] == ["cover_letter"]
    assert "ev-ngo" in [e["id"] for e in uploaded.manifest["evidence"]]


def test_preview_renders_letters_and_first_pages_without_archiving(
    loaded: LoadedCase, home: Path, tmp_path: Path, letter_converter: LetterConverter
) -> None:
    out = tmp_path / "preview"
    result = preview(loaded, out, today=date(2026, 12, 15), pages=2, converter=letter_converter)
    assert result.ready and result.not_ready == ""
    assert [p.name for p in result.letters] == ["cover_letter.pdf"]  # the NGO uploaded its own support letter
    with pikepdf.open(result.first_pages) as pdf:
        shown = len(pdf.pages)
    with pikepdf.open(result.letters[0]) as pdf:
        letter_pages = len(pdf.pages)
    assert letter_pages + 1 + 2 == shown < result.pages  # letters, the index page, two evidence pages
    assert len(result.images) == shown and all(p.stat().st_mode & 0o077 == 0 for p in result.images)
    assert out.stat().st_mode & 0o077 == 0
    assert not (home / "store").exists()  # nothing archived, no store created
