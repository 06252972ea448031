"""The DOCX templates are the advisers' sources: every one renders, reads in its language, and lint checks them."""

from __future__ import annotations

import io
import re
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pypdf
import pytest
from docx import Document
from docx.shared import Inches

from casefile import case_from_mapping, validate_mapping
from casefile.model import Case
from core.office import PLACEHOLDER, Office
from country_rules import known_kinds
from country_rules.engine import evaluate
from country_rules.letters import LETTER_VARIABLES, format_date, letter_context, territory_name
from country_rules.loading import TEMPLATES_ROOT, country_rules
from country_rules.templatecheck import lint_templates, template_problems
from packets import LetterConverter, LetterSpec, build_packet, render_letter
from tests.fixtures_packets import inputs_for, make_case, text_pdf

ON = date(2026, 12, 15)
STAGES = {  # one stage per template folder that names every shipped template at least once
    "fr": [("asylum-visa", "consular-submission"), ("ofpra", "ofpra-application"), ("cnda", "appeal")],
    "de": [("humanitarian-22", "admission-request"), ("bamf", "interview"), ("bamf", "court-action")],
    "us": [("humanitarian-parole", "filing")],
}


def _case(country: str, procedure: str, stage: str, *, sex: str = "F") -> Case:
    """A fictional applicant of the given sex with a partner of the other, wanted in Russia, staying in Kazakhstan."""
    data: dict[str, Any] = {
        "case_id": "T3ST-0001",
        "country": country,
        "procedure": procedure,
        "stage": stage,
        "applicant": {
            "given_name": "Olga" if sex == "F" else "Oleg",
            "family_name": "Petrova" if sex == "F" else "Petrov",
            "birth_date": "1995-05-01",
            "birth_place": "Omsk",
            "citizenship": "RU",
            "sex": sex,
        },
        "household": [
            {
                "person_id": "p2",
                "relation": "spouse",
                "given_name": "Ivan" if sex == "F" else "Irina",
                "family_name": "Petrov" if sex == "F" else "Petrova",
                "birth_date": "1994-01-02",
                "citizenship": "RU",
                "sex": "M" if sex == "F" else "F",
                "accompanying": True,
            }
        ],
        "location": {"country": "KZ", "city": "Almaty", "status": "stay-extension", "status_expires": "2027-03-01"},
        "contact": {"postal_address": "c/o NGO office, Almaty", "email": "case@example.org"},
        "military": {
            "service": "contract",
            "rank": "sergeant",
            "left_service": {"date": "2022-09-01", "how": "desertion"},
        },
        "prosecution": [{"article": "337", "opened": "2022-11-10", "wanted": True}],
        "submission_date": ON.isoformat(),
        "evidence": [
            {"id": "ev-id", "kind": "identity.internal_passport", "file": "evidence/id.pdf", "language": "ru"},
        ],
    }
    return case_from_mapping(validate_mapping(data, "T3ST-0001", known_kinds()), "T3ST-0001")


def _context(case: Case, office: Office = PLACEHOLDER) -> dict[str, Any]:
    return letter_context(case, evaluate(case, ON), packet_id="P-0000000000TT", today=ON, office=office)


def _text(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)


@pytest.fixture(scope="module")
def rendered(letter_converter: LetterConverter) -> dict[str, tuple[str, str]]:
    """Every template a stage names, rendered for a woman's case and converted: {template: (language, text)}."""
    docs: dict[str, bytes] = {}
    langs: dict[str, str] = {}
    for country, stages in STAGES.items():
        for procedure, stage in stages:
            case = _case(country, procedure, stage)
            ctx = _context(case)
            found = country_rules(country).procedures[procedure].stage(stage)
            assert found is not None, f"{country}/{procedure}/{stage}"
            for letter in found.letters:
                spec = LetterSpec(TEMPLATES_ROOT / letter.template, Path(letter.template).stem)
                docs[letter.template] = render_letter(spec, ctx)
                langs[letter.template] = ctx["language"]
    pdfs = letter_converter.convert(docs)
    return {name: (langs[name], _text(pdf)) for name, pdf in pdfs.items()}


def test_every_shipped_template_is_named_by_a_stage_and_renders(rendered: dict[str, tuple[str, str]]) -> None:
    shipped = {f"{p.parent.name}/{p.name}" for p in TEMPLATES_ROOT.glob("*/*.docx")}
    unnamed = shipped - set(rendered) - {"shared/group_cover_letter_fr.docx", "ru/cover_letter.docx"}
    assert unnamed == set(), "rendered elsewhere: group letter in test_packets_group, ru in the test below"
    for name, (_, text) in rendered.items():
        assert "{{" not in text and "{%" not in text, name
        assert "T3ST-0001" in text or "Petrova" in text, name


def test_letters_agree_with_a_woman_and_name_countries_in_words(rendered: dict[str, tuple[str, str]]) -> None:
    fr = rendered["fr/cover_letter.docx"][1]
    assert "Madame Olga Petrova" in fr and "Nationalité : Russie" in fr and "Almaty, Kazakhstan" in fr
    assert "contre elle" in fr and "inscrite sur la liste" in fr and "l'intéressée" in fr
    assert "Monsieur Ivan Petrov, époux, né le 2 janvier 1994" in fr
    assert "né(e)" not in fr and "lui/elle" not in fr
    assert "1er mai 1995" in fr and "15 décembre 2026" in fr
    de = rendered["de/cover_letter.docx"][1]
    assert "Staatsangehörigkeit: Russland" in de and "Gegen sie wird" in de and "Frau Olga Petrova" in de
    assert "Herr Ivan Petrov, Ehemann" in de and "1. Mai 1995" in de
    assert "Klägerin" in rendered["de/court_letter.docx"][1]
    assert "Requérante" in rendered["fr/cnda_appeal.docx"][1]
    us = rendered["us/cover_letter.docx"][1]
    assert "Citizenship: Russia" in us and "against her" in us


@pytest.mark.parametrize("language", ["fr", "de"])
def test_french_and_german_letters_hold_no_english_and_no_country_codes(
    rendered: dict[str, tuple[str, str]], language: str
) -> None:
    english = re.compile(r"\b(the|and|with|of|letter|support|evidence|index|please)\b", re.I)
    for name, (lang, text) in rendered.items():
        if lang != language:
            continue
        assert not english.findall(text), f"{name}: {english.findall(text)}"
        assert not re.search(r"(nationalité|Staatsangehörigkeit)\s*:?\s*[A-Z]{2}\b", text, re.I), name
        assert "(KZ)" not in text and "(RU)" not in text, name


def test_legal_bases_are_short_references_never_research_notes(rendered: dict[str, tuple[str, str]]) -> None:
    fr = rendered["fr/cover_letter.docx"][1]
    assert "Fondements juridiques : Directive 2011/95/UE" in fr
    assert "R. 521-5" not in fr  # GUDA registration, not the consular file (LAW-REVIEW-2026-12)
    for _, text in rendered.values():
        assert "stored copy" not in text and "Press reports" not in text and "not verified" not in text


def test_russian_letter_for_a_kazakh_authority(letter_converter: LetterConverter) -> None:
    """The mechanism for `ru` letters: a country whose language is ru gets Russian words, dates and agreement."""
    case = _case("kz", "refugee-status", "claim")
    ctx = _context(case)
    assert ctx["language"] == "ru" and ctx["applicant"]["citizenship"] == "Россия"
    spec = LetterSpec(TEMPLATES_ROOT / "ru" / "cover_letter.docx", "cover_letter")
    text = _text(letter_converter.convert({"x": render_letter(spec, ctx)})["x"])
    assert "Гражданство: Россия" in text and "В отношении неё" in text and "объявлена в розыск" in text
    assert "1 мая 1995 г." in text


def test_dates_and_territories_come_from_cldr() -> None:
    assert format_date(date(2024, 5, 1), "fr") == "1er mai 2024"
    assert format_date(date(2024, 3, 15), "de") == "15. März 2024"
    assert format_date(date(2024, 3, 15), "ru") == "15 марта 2024\u202fг."  # CLDR: narrow no-break space
    assert territory_name("AM", "fr") == "Arménie" and territory_name("KZ", "de") == "Kasachstan"


def test_shipped_templates_pass_lint() -> None:
    root = Path(__file__).resolve().parent.parent / "country_rules"
    assert lint_templates(root, TEMPLATES_ROOT) == []


def _word_file(tmp_path: Path, text: str, *, letter_size: bool, lang: str | None) -> Path:
    doc = Document()
    if letter_size:
        doc.sections[0].page_width, doc.sections[0].page_height = Inches(8.5), Inches(11)
    doc.add_paragraph(text)
    doc.core_properties.title = "Courrier"
    path = tmp_path / "fr" / "x.docx"
    path.parent.mkdir(exist_ok=True)
    doc.save(str(path))
    return path


def test_lint_names_letter_size_foreign_words_unknown_variables_and_placeholders(tmp_path: Path) -> None:
    path = _word_file(
        tmp_path,
        "Dear Sir, please find the enclosed letter of support for {{ applicant.full_name }} {{ sources }} [date]",
        letter_size=True,
        lang=None,
    )
    found = "\n".join(template_problems(path, "fr", LETTER_VARIABLES))
    assert "not A4" in found
    assert "language" in found and "'en'" in found
    assert "sources" in found
    assert "placeholder" in found and "[date]" in found


def test_an_advisers_edit_in_word_appears_in_the_next_packet(tmp_path: Path, letter_converter: LetterConverter) -> None:
    """Edit a copy of the shipped cover letter as Word would, build, and read the change in packet.pdf."""
    template = tmp_path / "fr" / "cover_letter.docx"
    template.parent.mkdir()
    shutil.copy(TEMPLATES_ROOT / "fr" / "cover_letter.docx", template)
    doc = Document(str(template))
    greeting = next(p for p in doc.paragraphs if p.text == "Madame, Monsieur,")
    for run in greeting.runs[1:]:
        run.text = ""
    greeting.runs[0].text = "Madame la Consule générale, Monsieur le Consul général,"
    doc.save(str(template))
    assert template_problems(template, "fr", LETTER_VARIABLES) == []
    case = make_case([{"id": "ev-a", "kind": "identity.internal_passport", "file": "evidence/a.pdf"}])
    inputs = inputs_for(case, {"ev-a": text_pdf("ev-a")}, letters=[LetterSpec(template, "cover_letter")])
    packet = build_packet(inputs, converter=letter_converter)
    first = packet.manifest["letters"][0]["packet_pages"][0]
    page = pypdf.PdfReader(io.BytesIO(packet.packet_pdf)).pages[first - 1].extract_text()
    assert "Madame la Consule générale, Monsieur le Consul général," in " ".join(page.split())
    assert packet.manifest["templates"][0]["sha256"] != _sha(TEMPLATES_ROOT / "fr" / "cover_letter.docx")


def _sha(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_no_code_in_the_repository_writes_the_templates() -> None:
    repo = Path(__file__).resolve().parent.parent
    assert not (repo / "packets" / "make_templates.py").exists()
    assert not (repo / "country_rules" / "lettertemplates.py").exists()
    writers = []
    for py in repo.glob("*/**/*.py"):
        if ".venv" in py.parts or py.parts[-2] == "tests":
            continue
        source = py.read_text(encoding="utf-8")
        if "templates" in source and re.search(r"\.save\(\s*str\(\s*(TEMPLATES|template)", source):
            writers.append(str(py.relative_to(repo)))
    assert writers == []
