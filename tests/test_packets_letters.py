"""Letters: docxtpl rendering (strict variables, stable bytes) and one LibreOffice run per build."""

from __future__ import annotations

import io
import time
import zipfile
from datetime import date
from pathlib import Path

import pypdf
import pytest
from docx import Document
from docxtpl import DocxTemplate

from core.errors import ConfigError, DossierError, RulesError
from core.office import PLACEHOLDER
from country_rules.engine import evaluate
from country_rules.letters import LETTER_VARIABLES, letter_context
from packets import LetterConverter, LetterSpec, build_packet, render_letter
from tests.fixtures_packets import COVER_LETTER, context_for, inputs_for, make_case, text_pdf


def _template(tmp_path: Path, text: str, name: str = "t.docx") -> Path:
    doc = Document()
    doc.add_paragraph(text)
    path = tmp_path / name
    doc.save(str(path))
    return path


def _case():
    entries = [{"id": "ev-a", "kind": "identity.internal_passport", "file": "evidence/a.pdf"}]
    return make_case(entries), {"ev-a": text_pdf("ev-a")}


def test_cover_letter_uses_only_documented_context_variables() -> None:
    used = DocxTemplate(str(COVER_LETTER)).get_undeclared_template_variables()
    assert used <= LETTER_VARIABLES
    assert {"applicant", "office", "signature", "legal_bases", "packet_id", "case_id"} <= used
    assert "sources" not in used and "evidence" not in used  # research notes stay in the rules; one index


def test_missing_variable_is_an_error_naming_it(tmp_path: Path) -> None:
    spec = LetterSpec(_template(tmp_path, "Hello {{ applicant.full_name }} {{ no_such_variable }}"), "x")
    case, _ = _case()
    with pytest.raises(RulesError, match="no_such_variable") as info:
        render_letter(spec, context_for(case))
    assert "Ivan" not in str(info.value)


def test_rendered_docx_is_byte_stable_and_escapes_xml(tmp_path: Path) -> None:
    spec = LetterSpec(_template(tmp_path, "Pour {{ ngo.name }}"), "x")
    ctx = {"ngo": {"name": "Droits & <Libertés>"}}
    first = render_letter(spec, ctx, when=(2026, 12, 15, 0, 0, 0))
    assert first == render_letter(spec, ctx, when=(2026, 12, 15, 0, 0, 0))
    with zipfile.ZipFile(io.BytesIO(first)) as zf:
        assert "Droits &amp; &lt;Libertés&gt;" in zf.read("word/document.xml").decode()
        assert {i.date_time for i in zf.infolist()} == {(2026, 12, 15, 0, 0, 0)}


def test_all_letters_of_a_build_are_converted_by_one_soffice_run(
    letter_converter: LetterConverter, tmp_path: Path
) -> None:
    extra = LetterSpec(_template(tmp_path, "Annexe pour le dossier {{ case_id }} / {{ packet_id }}"), "annex")
    case, files = _case()
    inputs = inputs_for(case, files, letters=[LetterSpec(COVER_LETTER, "cover_letter"), extra])
    before = letter_converter.runs
    packet = build_packet(inputs, converter=letter_converter)
    assert letter_converter.runs == before + 1
    assert [entry["name"] for entry in packet.manifest["letters"]] == ["cover_letter", "annex"]
    reader = pypdf.PdfReader(io.BytesIO(packet.packet_pdf))
    annex_page = packet.manifest["letters"][1]["packet_pages"][0]
    assert f"Annexe pour le dossier K7Q2-M9XD / {packet.packet_id}" in reader.pages[annex_page - 1].extract_text()
    titles = [item.title for item in reader.outline if not isinstance(item, list)]
    assert titles[:2] == ["Courriers", "Bordereau des pièces"]
    nested = reader.outline[1]
    children = [item.title for item in nested if not isinstance(item, list)] if isinstance(nested, list) else []
    assert children[:1] == ["Courrier d'accompagnement"]  # the template's own title (File > Properties)


def test_missing_soffice_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOSSIER_SOFFICE", "/nonexistent/soffice")
    case, files = _case()
    with pytest.raises(ConfigError, match="LibreOffice") as info:
        build_packet(inputs_for(case, files))
    assert info.value.exit_code == 2


def _processes_mentioning(text: str) -> list[str]:
    """Live processes whose command line holds text (zombies have none)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text.encode() in cmdline.read_bytes():
                found.append(cmdline.parent.name)
        except OSError:
            continue
    return found


def test_timeout_kills_soffice_and_says_so(tmp_path: Path) -> None:
    spec = LetterSpec(COVER_LETTER, "cover_letter")
    case, _ = _case()
    docx = render_letter(spec, context_for(case) | {"packet_id": "P-0000000000000"})
    conv = LetterConverter(timeout=0.05)
    with conv:
        profile = conv._ensure_root().as_uri()
        with pytest.raises(DossierError, match="did not finish"):
            conv.convert({"cover_letter": docx})
        deadline = time.monotonic() + 5
        while (alive := _processes_mentioning(profile)) and time.monotonic() < deadline:
            time.sleep(0.05)  # SIGKILL is delivered asynchronously
        assert alive == []


def test_context_from_the_rules_renders_the_cover_letter(letter_converter: LetterConverter) -> None:
    """The real context of country_rules.letters renders the shipped French cover letter."""
    case, _ = _case()
    checklist = evaluate(case, date(2026, 12, 1))
    ctx = letter_context(case, checklist, packet_id="P-0000000000000", today=date(2026, 12, 1), office=PLACEHOLDER)
    docx = render_letter(LetterSpec(COVER_LETTER, "cover_letter"), ctx)
    pdf = letter_converter.convert({"cover_letter": docx})["cover_letter"]
    text = " ".join(" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "Ivan Sidorov" in text and "P-0000000000000" in text
    assert "Nationalité : Russie" in text and "RU" not in text.split()
    assert "organisation non configurée" in text  # an unconfigured office says so, in the letter's language
