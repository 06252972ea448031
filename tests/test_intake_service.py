"""Intake without YAML, through the service layer: form -> case, slots, evidence, drafts, history, zips."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from core.errors import CaseInvalid, EvidenceRejected, NotFound
from storage import Vault
from tests.fixtures_packets import encrypted_pdf, js_open_action_pdf, text_pdf
from workflows import cases, intake

TODAY = date(2026, 12, 3)

FORM = {
    "country": "fr",
    "procedure": "asylum-visa",
    "submission_date": "15.12.2026",
    "applicant.given_name": "Anton",
    "applicant.family_name": "Zorin",
    "applicant.given_name_native": "Антон",
    "applicant.family_name_native": "Зорин",
    "applicant.birth_date": "1994-06-21",
    "applicant.citizenship": "ru",
    "applicant.sex": "M",
    "location.country": "AM",
    "location.city": "Yerevan",
    "military.service": "mobilised",
    "prosecution[0].article": "338",
    "prosecution[0].wanted": "on",
    "vetting[0].by": "Partner bureau (fictional)",
    "vetting[0].date": "2026-10-01",
    "vetting[0].outcome": "cleared",
    "household[0].given_name": "",
}
SECRETS = ["Anton", "Zorin", "1994-06-21", "Антон"]


@pytest.fixture
def vault(home: Path) -> Vault:
    v = Vault.from_env()
    v.init()
    return v


def _created() -> str:
    mapping, errors = intake.read_form(FORM)
    assert errors == {}
    return intake.create_case(mapping, "alice").case_id


def test_form_creates_a_case_at_the_first_stage_with_person_ids_and_iso_dates(vault: Vault) -> None:
    mapping, errors = intake.read_form(
        {
            **FORM,
            "household[0].given_name": "Lena",
            "household[0].family_name": "Zorina",
            "household[0].relation": "spouse",
            "household[0].birth_date": "02.03.1996",
        }
    )
    assert errors == {}
    assert mapping["submission_date"] == "2026-12-15"
    assert mapping["household"][0]["person_id"] == "p2"
    assert mapping["household"][0]["birth_date"] == "1996-03-02"
    result = intake.create_case(mapping, "alice")
    assert result.created and result.stage == "consular-submission"
    view = cases.open_case(result.case_id, "alice")
    assert view.case.applicant.family_name == "Zorin" and view.case.household[0].relation == "spouse"


def test_a_bad_date_and_a_missing_name_are_reported_at_their_fields(vault: Vault) -> None:
    bad = {**FORM, "applicant.birth_date": "1994-02-30", "applicant.family_name": ""}
    _mapping, errors = intake.read_form(bad)
    assert errors["applicant.birth_date"] == ["must be a real date written YYYY-MM-DD"]
    assert errors["applicant.family_name"] == ["is required but missing"]
    assert not any("1994" in m for msgs in errors.values() for m in msgs)


def test_a_procedure_of_another_country_is_refused_at_the_procedure_field(vault: Vault) -> None:
    _mapping, errors = intake.read_form({**FORM, "procedure": "bamf"})
    assert list(errors) == ["procedure"] and "asylum-visa" in errors["procedure"][0]


def test_drafts_are_encrypted_listed_per_user_resumed_and_deleted_on_create(vault: Vault) -> None:
    store = intake.drafts()
    draft_id = store.save("alice", dict(FORM))
    assert [d.draft_id for d in store.list("alice")] == [draft_id]
    assert store.list("bob") == []
    with pytest.raises(NotFound):
        store.load("bob", draft_id)
    assert store.load("alice", draft_id).values["applicant.family_name"] == "Zorin"
    raw = b"".join(p.read_bytes() for p in Path(vault.settings.home, "store").rglob("*") if p.is_file())
    assert not any(s.encode() in raw for s in SECRETS)
    assert b"alice" not in b"".join(str(p).encode() for p in Path(vault.settings.home, "store").rglob("*"))
    mapping, _ = intake.read_form(store.load("alice", draft_id).values)
    intake.create_case(mapping, "alice", draft_id=draft_id)
    assert store.list("alice") == []


def test_second_intake_of_the_same_person_names_the_first_case(vault: Vault) -> None:
    first = _created()
    again, _ = intake.read_form({**FORM, "applicant.family_name": " zorin ", "procedure": "ofpra"})
    assert intake.duplicates_of(again, "bob") == [first]
    other, _ = intake.read_form({**FORM, "applicant.birth_date": "1994-06-22"})
    assert intake.duplicates_of(other, "bob") == []


def test_slots_follow_the_rules_and_an_upload_turns_missing_into_met(vault: Vault) -> None:
    case_id = _created()
    _checklist, slots = intake.slots(case_id, TODAY)
    statement = next(s for s in slots if s.requirement == "personal-statement" and s.person == "applicant")
    assert statement.status == "missing" and statement.uploadable
    kind = statement.kinds[0][0]
    added = intake.add_evidence(
        case_id,
        kind=kind,
        person="applicant",
        file_name="recit.pdf",
        data=text_pdf("st"),
        language="fr",
        issued="2026-11-01",
        actor="alice",
    )
    evidence_id, result = added.evidence_id, added.result
    assert result.record_version == 2 and not result.created
    _checklist, slots = intake.slots(case_id, TODAY)
    after = next(s for s in slots if s.slot_id == statement.slot_id)
    assert after.status == "met" and evidence_id in after.evidence


def test_an_untranslated_document_asks_for_a_translation_linked_to_it(vault: Vault) -> None:
    case_id = _created()
    _c, slots = intake.slots(case_id, TODAY)
    notice = next(s for s in slots if s.requirement == "prosecution-documents")
    ev = intake.add_evidence(
        case_id,
        kind=notice.kinds[0][0],
        person="applicant",
        file_name="n.pdf",
        data=text_pdf("n"),
        language="ru",
        issued="2026-01-10",
    ).evidence_id
    _c, slots = intake.slots(case_id, TODAY)
    again = next(s for s in slots if s.slot_id == notice.slot_id)
    assert again.status == "untranslated" and again.translation_of == ev and again.ask_language
    tr = intake.add_evidence(
        case_id,
        kind="translation",
        person="applicant",
        file_name="n.fr.pdf",
        data=text_pdf("nfr"),
        language="fr",
        translation_of=ev,
        sworn=True,
    ).evidence_id
    _c, slots = intake.slots(case_id, TODAY)
    assert next(s for s in slots if s.slot_id == notice.slot_id).status == "met"
    assert tr == f"{ev}-fr"


@pytest.mark.parametrize(
    ("data", "name", "words"),
    [
        (encrypted_pdf("x"), "x.pdf", "encrypted"),
        (js_open_action_pdf("x"), "x.pdf", "JavaScript"),
        (text_pdf("x"), "x.jpg", "name says"),
        (b"PK\x03\x04 not a pdf at all", "x.pdf", "not a PDF"),
    ],
)
def test_a_refused_upload_says_why_and_stores_nothing(vault: Vault, data: bytes, name: str, words: str) -> None:
    case_id = _created()
    before = vault.state(case_id).record_version
    with pytest.raises(EvidenceRejected) as err:
        intake.add_evidence(case_id, kind="statement.personal", person="applicant", file_name=name, data=data)
    assert words.lower() in str(err.value).lower()
    assert vault.state(case_id).record_version == before


def test_a_bad_document_date_is_refused_naming_the_field(vault: Vault) -> None:
    case_id = _created()
    with pytest.raises(CaseInvalid) as err:
        intake.add_evidence(
            case_id,
            kind="statement.personal",
            person="applicant",
            file_name="s.pdf",
            data=text_pdf("s"),
            issued="2026-13-01",
        )
    assert [(p.where, p.what) for p in err.value.problems] == [
        ("ev-statement-personal-applicant.issued", "must be a real date written YYYY-MM-DD")
    ]


def test_editing_stores_a_version_and_history_names_fields_not_values(vault: Vault) -> None:
    case_id = _created()
    intake.add_evidence(
        case_id, kind="statement.personal", person="applicant", file_name="s.pdf", data=text_pdf("s"), actor="alice"
    )
    values = intake.case_values(case_id, "bob")
    values["location.city"] = "Gyumri"
    mapping, errors = intake.read_form(values)
    assert errors == {}
    result = intake.edit_case(case_id, mapping, "bob")
    assert result.record_version == 3
    versions = intake.history(case_id)
    assert [v.number for v in versions] == [3, 2, 1]
    assert versions[0].actor == "bob" and versions[0].changed == ("location.city",)
    assert versions[1].actor == "alice" and versions[1].changed[0].startswith("evidence ev-statement")
    assert versions[2].changed == ("created",)
    text = repr(versions)
    assert "Gyumri" not in text and "Yerevan" not in text
    assert cases.open_case(case_id).case.evidence[0].kind == "statement.personal"  # evidence kept by the edit
    assert [v["actor"] for v in intake.views(case_id)][:2] == ["test-caseworker", "bob"]


def test_zip_export_then_import_moves_a_case_with_its_files(
    vault: Vault, home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    case_id = _created()
    intake.add_evidence(case_id, kind="statement.personal", person="applicant", file_name="s.pdf", data=text_pdf("s"))
    data = intake.export_zip(case_id, "alice")
    assert intake.export_zip(case_id, "alice") == data  # reproducible
    assert any(e["action"] == "export-case" and e["actor"] == "alice" for e in vault.audit.entries(case_id))
    monkeypatch.setenv("DOSSIER_HOME", str(tmp_path / "other-office"))
    Vault.from_env().init()
    result = intake.import_zip(data, "carol")
    assert result.created and result.case_id == case_id
    moved = cases.load_ref(case_id)
    assert moved.files[moved.case.evidence[0].id] == text_pdf("s")
    assert intake.import_zip(data, "carol").changed is False
    leftovers = [p for p in Path(os.environ.get("TMPDIR", "/tmp")).glob("*") if p.is_file() and _holds(p, b"Zorin")]
    assert leftovers == []


def _holds(path: Path, needle: bytes) -> bool:
    try:
        return needle in path.read_bytes()
    except OSError:
        return False


def test_evidence_references_are_picked_from_the_case_documents_and_kept_by_an_edit(vault: Vault) -> None:
    from casefile.forms import walk_fields

    new_form = {f.path: f for f in walk_fields(intake.intake_form())}
    assert new_form["vetting.evidence"].kind == "evidence" and new_form["vetting.evidence"].choices == ()
    case_id = _created()
    ev = intake.add_evidence(
        case_id, kind="vetting.report", person="applicant", file_name="v.pdf", data=text_pdf("v"), language="fr"
    ).evidence_id
    fields = {f.path: f for f in walk_fields(intake.intake_form(case_id))}
    assert fields["vetting.evidence"].choices == ((ev, f"{ev} (NGO vetting report)"),)
    values = intake.case_values(case_id, "alice")
    values["vetting[0].evidence"] = ev
    mapping, errors = intake.read_form(values, case_id)
    assert errors == {}
    intake.edit_case(case_id, mapping, "alice")
    values = intake.case_values(case_id, "alice")
    values["location.city"] = "Vanadzor"
    intake.edit_case(case_id, intake.read_form(values, case_id)[0], "alice")
    assert cases.open_case(case_id).case.data["vetting"][0]["evidence"] == ev
