"""Adviser tools: lint finds what is broken (with file and line), show cites sources, YAML tests run."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from docx import Document

import country_rules
from core.errors import RulesError
from country_rules.adviser import lint_rules, show_rules, suspensions_in_force, template_variables
from country_rules.letters import LETTER_VARIABLES, format_date, letter_context
from country_rules.loading import RULES_ROOT, TEMPLATES_ROOT
from country_rules.predicates import PREDICATES
from country_rules.ruletests import build_case_mapping, load_fixtures, load_tests, run_rule_tests
from tests.fixtures_rules import de_work_mapping, fr_visa_mapping, make_case

VISA = Path("france") / "procedures" / "asylum-visa.yaml"


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    """A private copy of the shipped rules that a test may break."""
    root = tmp_path / "rules"
    shutil.copytree(RULES_ROOT, root, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return root


def _edit(path: Path, old: str, new: str) -> int:
    """Replace the first occurrence of old with new; return the 1-based line where it was."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line


def test_shipped_rules_lint_clean() -> None:
    assert lint_rules(today=date(2026, 12, 2)) == []


def test_lint_catches_unknown_predicate_with_file_and_line(rules_copy: Path) -> None:
    line = _edit(rules_copy / VISA, "when: [has_prosecution]", "when: [has_prosecutoin]")
    problems = lint_rules(rules_copy, today=date(2026, 12, 2))
    hit = [p for p in problems if "unknown predicate 'has_prosecutoin'" in p]
    assert len(hit) == 1
    assert "asylum-visa.yaml, line" in hit[0]
    reported = int(hit[0].split(", line ")[1].split(":")[0])
    assert reported <= line  # the requirement that holds the bad `when:`


def test_lint_catches_unknown_evidence_kind(rules_copy: Path) -> None:
    _edit(rules_copy / VISA, "kinds: [record.no_criminal_record]", "kinds: [record.no_criminal_recrd]")
    problems = lint_rules(rules_copy, today=date(2026, 12, 2))
    assert any("unknown evidence kind 'record.no_criminal_recrd'" in p for p in problems)


def test_lint_catches_missing_template(rules_copy: Path) -> None:
    line = _edit(rules_copy / VISA, "- fr/support_letter.docx", "- fr/suport_letter.docx")
    problems = lint_rules(rules_copy, today=date(2026, 12, 2))
    assert f"asylum-visa.yaml, line {line}: template 'fr/suport_letter.docx' not found under templates/" in "\n".join(
        problems
    )


def test_lint_catches_template_variable_the_stage_does_not_provide(rules_copy: Path, tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_ROOT, templates)
    doc = Document()
    doc.add_paragraph("{{ applicant.full_name }} {{ secret_codename }}")
    doc.save(str(templates / "fr" / "support_letter.docx"))
    problems = lint_rules(rules_copy, templates, today=date(2026, 12, 2))
    assert any("fr/support_letter.docx" in p and "secret_codename" in p and "applicant" not in p for p in problems)


def test_lint_catches_duplicate_key_with_line(rules_copy: Path) -> None:
    text = (rules_copy / VISA).read_text(encoding="utf-8")
    first = text.index("        title: Certificate of no criminal record (recent)")
    line = text[:first].count("\n") + 2
    text = text.replace(
        "        title: Certificate of no criminal record (recent)\n",
        "        title: Certificate of no criminal record (recent)\n        title: again\n",
        1,
    )
    (rules_copy / VISA).write_text(text, encoding="utf-8")
    problems = "\n".join(lint_rules(rules_copy, today=date(2026, 12, 2)))
    assert f"asylum-visa.yaml, line {line}: duplicate key 'title'" in problems


def test_lint_catches_unknown_key_with_line(rules_copy: Path) -> None:
    line = _edit(rules_copy / VISA, "        validity: {max_age_months: 6", "        valdity: {max_age_months: 6")
    problems = "\n".join(lint_rules(rules_copy, today=date(2026, 12, 2)))
    assert f"asylum-visa.yaml, line {line}: " in problems and "unknown key 'valdity'" in problems


def test_lint_catches_unknown_key_in_a_yaml_test_naming_the_test(rules_copy: Path) -> None:
    tests_file = rules_copy / "france" / "tests" / "asylum-visa.yaml"
    _edit(
        tests_file,
        "    base: fr-visa-complete\n    without: [ev-record, ev-milid-fr]",
        "    base: fr-visa-complete\n    witout: [ev-record, ev-milid-fr]",
    )
    with pytest.raises(RulesError) as exc:
        load_tests(tests_file)
    assert "asylum-visa.yaml, line" in exc.value.message
    assert "Without the criminal-record certificate" in exc.value.message and "'witout'" in exc.value.message
    assert any("witout" in p for p in lint_rules(rules_copy, today=date(2026, 12, 2)))


def test_show_fr_asylum_visa_cites_at_least_five_sources() -> None:
    rows = show_rules("fr", "asylum-visa")
    sources = {r["source"] for r in rows}
    assert len(sources) >= 5
    for r in rows:
        assert r["source_url"] or r["source_article"]
        assert r["valid_from"] and r["last_reviewed"]
    crim = next(r for r in rows if r["requirement"] == "criminal-record")
    assert "6 months" in crim["validity"] and "UNVERIFIED" in crim["note"] and "90" in crim["note"]


def test_show_filters_texts_by_date() -> None:
    all_rows = [r for r in show_rules("de", "work-visa") if r["requirement"] == "job-offer"]
    on_rows = [r for r in show_rules("de", "work-visa", on=date(2024, 1, 1)) if r["requirement"] == "job-offer"]
    assert len(all_rows) == 3 and len(on_rows) == 1 and "18g" in on_rows[0]["source"]


def test_all_yaml_rule_tests_pass_and_every_country_ships_them_dated_after_the_pact() -> None:
    results = run_rule_tests()
    assert results and all(r.passed for r in results), [(r.test.name, r.failures) for r in results if not r.passed]
    countries = {r.test.file.parent.parent.name for r in results}
    assert countries == {"am", "france", "germany", "kz", "usa"}
    pact = date(2026, 6, 12)
    for name in countries:
        fixtures = load_fixtures(RULES_ROOT / name)
        dated_after = []
        for r in results:
            if r.test.file.parent.parent.name != name:
                continue
            data = build_case_mapping(r.test, fixtures)
            when = r.test.raw.get("today") or data.get("submission_date")
            dated_after.append(date.fromisoformat(str(when)) >= pact)
        assert any(dated_after), name


def test_show_on_each_side_of_the_pact() -> None:
    def ofpra_form(on: date) -> dict[str, Any]:
        rows = show_rules("fr", "ofpra", on=on)
        return next(r for r in rows if r["requirement"] == "ofpra-form")

    assert "R. 531-3" in ofpra_form(date(2026, 6, 11))["source"]
    assert "2024/1348" not in ofpra_form(date(2026, 6, 11))["source"]
    after = ofpra_form(date(2026, 6, 12))
    assert "2024/1348" in after["source"] and "R. 531-3" in after["source"]
    assert "UNVERIFIED" in after["note"] and after["valid_from"] == "2026-06-12"
    bamf = [r for r in show_rules("de", "bamf", on=date(2026, 6, 12)) if r["requirement"] == "arrival-certificate"]
    assert len(bamf) == 1 and "2024/1348" in bamf[0]["source"] and "GEAS" in bamf[0]["source_article"]
    visa = next(r for r in show_rules("fr", "asylum-visa") if r["requirement"] == "vetting-report")
    assert (visa["basis"], visa["blocking"]) == ("practice", False)


def test_show_lists_suspensions_in_force() -> None:
    rows = suspensions_in_force("de", "humanitarian-22", date(2026, 12, 15))
    assert len(rows) == 1 and rows[0]["since"] == "2025-07-23" and rows[0]["unless"] == ["has_admission_declaration"]
    assert suspensions_in_force("de", "humanitarian-22", date(2025, 7, 22)) == []


def test_an_expectation_naming_an_unknown_requirement_or_person_is_an_error_with_file_and_line(
    rules_copy: Path,
) -> None:
    tests_file = rules_copy / "usa" / "tests" / "parole.yaml"
    line = _edit(tests_file, "form-i134/p2: missing", "form-i134/p3: missing, form-i999: absent")
    results = [r for r in run_rule_tests("us", rules_copy) if not r.passed]
    assert len(results) == 1
    failures = results[0].failures
    assert any(
        f.startswith("error: ") and f"parole.yaml, line {line}" in f and "unknown person 'p3'" in f for f in failures
    )
    assert any("unknown requirement 'form-i999'" in f and "did you mean 'form-i134'" in f for f in failures)
    problems = lint_rules(rules_copy, today=date(2026, 12, 2))
    assert any(f"parole.yaml, line {line}" in p and "unknown requirement 'form-i999'" in p for p in problems)
    assert any("unknown person 'p3'" in p for p in problems)


def test_a_wrong_expectation_makes_a_yaml_test_fail(rules_copy: Path) -> None:
    tests_file = rules_copy / "usa" / "tests" / "parole.yaml"
    _edit(tests_file, "statuses: {prosecution-documents: untranslated}", "statuses: {prosecution-documents: met}")
    failed = [r for r in run_rule_tests("us", rules_copy) if not r.passed]
    assert len(failed) == 1
    assert "prosecution-documents: expected met, got untranslated" in failed[0].failures[0]


def test_every_predicate_is_documented() -> None:
    for name, fn in PREDICATES.items():
        assert fn.__doc__ and len(fn.__doc__) > 20, name


def test_letter_context_provides_exactly_the_documented_variables() -> None:
    case = make_case(de_work_mapping())
    ctx = letter_context(
        case, country_rules.evaluate(case, date(2024, 5, 1)), packet_id="PKT-1", today=date(2024, 5, 2)
    )
    assert set(ctx) == LETTER_VARIABLES
    assert ctx["language"] == "de" and ctx["today"] == "2. Mai 2024"
    assert [p["person_id"] for p in ctx["persons"]] == ["applicant", "p2", "c1"]
    assert ctx["evidence"][0]["number"] == 1 and ctx["evidence_count"] == len(ctx["evidence"])
    assert all(e["kind"] != "translation" for e in ctx["evidence"])
    assert ctx["military"]["service_label"] == "mobilisierter Reservist"


def test_dates_in_the_letter_language() -> None:
    assert format_date(date(2024, 5, 1), "fr") == "1er mai 2024"
    assert format_date(date(2024, 3, 15), "de") == "15. März 2024"
    assert format_date(date(2024, 3, 15), "en") == "15 March 2024"


@pytest.mark.parametrize(
    ("mapping", "procedure", "stage"),
    [
        (fr_visa_mapping, "asylum-visa", None),
        (fr_visa_mapping, "ofpra", "ofpra-application"),
        (fr_visa_mapping, "cnda", None),
        (de_work_mapping, "work-visa", None),
        (de_work_mapping, "bamf", "court-action"),
        (de_work_mapping, "humanitarian-22", None),
    ],
)
def test_every_stage_letter_renders_with_the_case(
    mapping: Callable[[], dict[str, Any]], procedure: str, stage: str | None, tmp_path: Path
) -> None:
    from docxtpl import DocxTemplate

    data = {**mapping(), "procedure": procedure}
    if stage:
        data["stage"] = stage
    case = make_case(data)
    checklist = country_rules.evaluate(case, date(2024, 5, 1))
    ctx = letter_context(case, checklist, packet_id="PKT-1", today=date(2024, 5, 2))
    for rel in country_rules.stage_letters(case.country, procedure, checklist.stage, date(2024, 5, 15)):
        path = TEMPLATES_ROOT / rel
        assert template_variables(path) <= LETTER_VARIABLES, rel
        tpl = DocxTemplate(str(path))
        tpl.render(ctx)
        out = tmp_path / rel.replace("/", "_")
        tpl.save(str(out))
        text = "\n".join(p.text for p in Document(str(out)).paragraphs)
        text += "\n".join(c.text for t in Document(str(out)).tables for r in t.rows for c in r.cells)
        assert "{{" not in text and "{%" not in text, rel
        assert case.case_id in text or case.applicant.family_name in text, rel


def test_pytest_collects_the_yaml_rule_tests_by_their_sentences() -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "country_rules"],
        cwd=RULES_ROOT.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    collected = [ln for ln in proc.stdout.splitlines() if "::" in ln]
    assert len(collected) == len(run_rule_tests())
    assert any("asylum-visa.yaml::A certificate of no criminal record issued two years" in ln for ln in collected)


def test_no_yaml_test_case_puts_a_name_or_birth_date_into_reasons_blocks_or_warnings() -> None:
    from casefile.folder import validate_mapping
    from casefile.model import case_from_mapping
    from core.errors import BadInput
    from country_rules.ruletests import TEST_CASE_ID, collect

    checked = 0
    for test, fixtures in collect():
        data = build_case_mapping(test, fixtures)
        case = case_from_mapping(validate_mapping(data, TEST_CASE_ID, country_rules.known_kinds()), TEST_CASE_ID)
        secrets: set[str] = set()
        for person in case.persons:
            names = (person.given_name, person.family_name, person.given_name_native, person.family_name_native)
            secrets |= {n for n in names if n}
            if person.birth_date:
                secrets.add(person.birth_date.isoformat())
        try:
            doc = country_rules.evaluate(
                case, date.fromisoformat(str(test.raw.get("today") or data["submission_date"]))
            )
        except BadInput:
            continue
        words = json.dumps(
            [[i["reason"] for i in doc.to_json()["items"]], doc.to_json()["blocks"], list(doc.warnings)],
            ensure_ascii=False,
        )
        leaked = [s for s in secrets if s in words]
        assert not leaked, (test.where, leaked)
        checked += 1
    assert checked >= 60
