"""The rules engine through its public functions, with real case mappings validated like case.yaml."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

import country_rules
from core.errors import BadInput, RulesError
from tests.fixtures_rules import RULES_SECRETS, de_work_mapping, fr_visa_mapping, make_case, without

TODAY = date(2024, 5, 1)


def _statuses(checklist: country_rules.Checklist) -> dict[tuple[str, str], str]:
    return {(i.requirement, i.person): i.status for i in checklist.items}


def test_complete_german_work_visa_with_accompanying_child_is_ready() -> None:
    checklist = country_rules.evaluate(make_case(de_work_mapping()), TODAY)
    assert checklist.ready, checklist.to_json()
    got = _statuses(checklist)
    assert got[("identity-child", "c1")] == "met"
    assert got[("child-birth-certificate", "c1")] == "met"
    assert got[("photos", "c1")] == "met"
    assert got[("passport-unobtainable", "applicant")] == "met"
    assert ("identity-document", "c1") not in got  # a 4-year-old has no internal passport


def test_child_without_photo_makes_german_case_not_ready() -> None:
    checklist = country_rules.evaluate(make_case(without(de_work_mapping(), "ev-c1-photo")), TODAY)
    assert not checklist.ready
    assert _statuses(checklist)[("photos", "c1")] == "missing"


def test_french_case_missing_record_and_one_translation_names_both() -> None:
    data = without(fr_visa_mapping(), "ev-record", "ev-record-fr", "ev-milid-fr")
    checklist = country_rules.evaluate(make_case(data), TODAY)
    assert not checklist.ready
    open_items = {(i.requirement, i.status): i.reason for i in checklist.open_items}
    assert set(open_items) == {("military-service", "untranslated")}
    record = next(i for i in checklist.items if i.requirement == "criminal-record")
    assert (record.status, record.blocking, record.text.basis) == ("missing", False, "practice")
    assert any("criminal-record is missing (practice, not law" in w for w in checklist.warnings)
    assert "record.no_criminal_record" in record.reason
    assert "ev-milid" in open_items[("military-service", "untranslated")]
    assert "sworn translation into fr" in open_items[("military-service", "untranslated")]


def test_complete_french_case_is_ready() -> None:
    checklist = country_rules.evaluate(make_case(fr_visa_mapping()), TODAY)
    assert checklist.ready, [i.to_json() for i in checklist.open_items]


def test_two_year_old_certificate_is_too_old() -> None:
    data = fr_visa_mapping()
    next(e for e in data["evidence"] if e["id"] == "ev-record")["issued"] = "2022-05-01"
    checklist = country_rules.evaluate(make_case(data), TODAY)
    item = next(i for i in checklist.items if i.requirement == "criminal-record")
    assert item.status == "expired"
    assert item.reason == (
        "too old: evidence ev-record issued 2022-05-01, more than 6 months before the submission date 2024-05-15"
    )
    assert checklist.ready  # the 6-month limit has no legal source: a warning (LAW-REVIEW-2026-12)
    assert any("criminal-record is expired" in w for w in checklist.warnings)


def test_expired_document_at_submission_date() -> None:
    data = fr_visa_mapping()
    next(e for e in data["evidence"] if e["id"] == "ev-permit")["expires"] = "2024-05-14"
    item = next(
        i for i in country_rules.evaluate(make_case(data), TODAY).items if i.requirement == "host-country-status"
    )
    assert item.status == "expired"
    assert "expired 2024-05-14, before the submission date 2024-05-15" in item.reason


def test_assault_role_with_pending_vetting_is_blocked_and_review_lifts_it() -> None:
    data = fr_visa_mapping()
    data["military"]["role"] = "assault platoon (shturmovik)"
    data["vetting"] = [{"by": "Example vetting NGO", "date": "2024-02-01", "outcome": "pending"}]
    blocked = country_rules.evaluate(make_case(data), TODAY)
    assert not blocked.ready
    codes = {b.code for b in blocked.blocks}
    assert codes == {"screening.concern-role", "screening.vetting-not-cleared"}
    assert all("senior review" in b.reason for b in blocked.blocks)
    assert blocked.to_json()["ready"] is False

    data["review"] = [{"by": "Senior reviewer", "date": "2024-02-10", "decision": "proceed", "reason": "checked"}]
    lifted = country_rules.evaluate(make_case(data), TODAY)
    assert lifted.blocks == ()
    assert lifted.ready
    assert any("decided to proceed" in w for w in lifted.warnings)


def test_review_before_the_latest_vetting_does_not_lift_and_hold_blocks() -> None:
    data = fr_visa_mapping()
    data["vetting"] = [{"by": "X", "date": "2024-03-01", "outcome": "concerns"}]
    data["review"] = [{"by": "S", "date": "2024-02-01", "decision": "proceed", "reason": "older decision"}]
    assert {b.code for b in country_rules.evaluate(make_case(data), TODAY).blocks} == {"screening.vetting-not-cleared"}
    data = fr_visa_mapping()
    data["review"] = [{"by": "S", "date": "2024-03-01", "decision": "hold", "reason": "need a second interview"}]
    assert {b.code for b in country_rules.evaluate(make_case(data), TODAY).blocks} == {"screening.review-hold"}


def test_missing_vetting_blocks() -> None:
    data = fr_visa_mapping()
    del data["vetting"]
    checklist = country_rules.evaluate(make_case(data), TODAY)
    assert [b.code for b in checklist.blocks] == ["screening.vetting-missing"]


def test_rule_text_switches_with_the_submission_date() -> None:
    data = de_work_mapping()
    before = country_rules.evaluate(make_case({**data, "submission_date": "2023-11-17"}), TODAY)
    after = country_rules.evaluate(make_case({**data, "submission_date": "2023-11-18"}), TODAY)
    src_before = next(i for i in before.items if i.requirement == "job-offer").text.source
    src_after = next(i for i in after.items if i.requirement == "job-offer").text.source
    assert "§ 18b" in src_before.title and src_before.url.endswith("__18b.html")
    assert "§ 18g" in src_after.title
    in_force_before = country_rules.rules_in_force("de", "work-visa", "visa-application", date(2023, 11, 17))
    in_force_after = country_rules.rules_in_force("de", "work-visa", "visa-application", date(2023, 11, 18))
    job_before = next(r for r in in_force_before if r["requirement"] == "job-offer")
    job_after = next(r for r in in_force_after if r["requirement"] == "job-offer")
    assert (job_before["valid_to"], job_after["valid_from"]) == ("2023-11-17", "2023-11-18")


def test_france_ofpra_texts_follow_the_2021_recodification() -> None:
    old = country_rules.rules_in_force("fr", "ofpra", "ofpra-application", date(2021, 4, 30))
    new = country_rules.rules_in_force("fr", "ofpra", "ofpra-application", date(2021, 5, 1))
    form_old = next(r for r in old if r["requirement"] == "ofpra-form")
    form_new = next(r for r in new if r["requirement"] == "ofpra-form")
    assert "R. 723-1" in form_old["source"]["title"] and "R. 531-3" in form_new["source"]["title"]


def test_checklist_json_has_the_contract_shape() -> None:
    doc = country_rules.evaluate(make_case(fr_visa_mapping()), TODAY).to_json()
    assert set(doc) == {
        "case_id",
        "country",
        "procedure",
        "stage",
        "evaluated_for",
        "rules_version",
        "ready",
        "items",
        "blocks",
        "warnings",
        "suspensions",
    }
    assert doc["stage"] == "consular-submission" and doc["evaluated_for"] == "2024-05-15"
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", doc["rules_version"])
    for item in doc["items"]:
        assert set(item) == {
            "requirement",
            "title",
            "kinds",
            "person",
            "status",
            "evidence",
            "translations",
            "reason",
            "source",
            "valid_from",
            "valid_to",
            "last_reviewed",
            "note",
            "basis",
            "blocking",
        }
        assert set(item["source"]) == {"title", "url", "article"}
        assert item["status"] in country_rules.STATUSES
    assert {i["person"] for i in doc["items"]} == {"applicant"}
    json.dumps(doc)


def test_items_per_accompanying_person() -> None:
    checklist = country_rules.evaluate(make_case(de_work_mapping()), TODAY)
    persons = {i.person for i in checklist.items if i.requirement == "photos"}
    assert persons == {"applicant", "p2", "c1"}


def test_no_personal_data_in_reasons_blocks_or_warnings() -> None:
    data = fr_visa_mapping()
    data["applicant"]["given_name"] = "Pawel"  # differs from the ICAO transliteration
    data["vetting"] = []
    data = without(data, "ev-record", "ev-record-fr", "ev-milid-fr")
    checklist = country_rules.evaluate(make_case(data), TODAY)
    doc = checklist.to_json()
    words = json.dumps(
        {"reasons": [i["reason"] for i in doc["items"]], "blocks": doc["blocks"], "warnings": doc["warnings"]},
        ensure_ascii=False,
    )
    for secret in [*RULES_SECRETS, "Pawel", "Павел", "Орлов"]:
        assert secret not in words
    assert "applicant: given name differs from the ICAO 9303 transliteration of given_name_native" in words


def test_unknown_country_procedure_and_stage_list_the_valid_ones() -> None:
    with pytest.raises(RulesError) as exc:
        country_rules.first_stage("xx", "asylum-visa")
    assert "xx" in str(exc.value) and "fr" in str(exc.value) and exc.value.exit_code == 2
    with pytest.raises(RulesError, match="known procedures: asylum-visa, cnda, ofpra, visa-refusal"):
        country_rules.procedures("fr") and country_rules.first_stage("fr", "asylum")
    data = fr_visa_mapping()
    data["stage"] = "nope"
    with pytest.raises(RulesError, match="stages in order: consular-submission, arrival"):
        country_rules.evaluate(make_case(data), TODAY)


def test_stage_navigation_and_letters() -> None:
    assert country_rules.countries() == ["am", "de", "fr", "kz", "us"]
    assert country_rules.first_stage("fr", "asylum-visa") == "consular-submission"
    assert country_rules.next_stage("fr", "asylum-visa", "consular-submission") == "arrival"
    assert country_rules.next_stage("fr", "asylum-visa", "arrival") is None
    assert country_rules.next_stage("de", "bamf", "asylum-application") == "interview"
    letters = country_rules.stage_letters("fr", "asylum-visa", "consular-submission", date(2024, 5, 15))
    assert letters[0] == "fr/cover_letter.docx" and "fr/support_letter.docx" in letters
    assert "fr/personal_account.docx" in country_rules.stage_letters("fr", "ofpra", "ofpra-application", TODAY)


def test_known_kinds_add_country_kinds_to_the_contract() -> None:
    kinds = country_rules.known_kinds()
    assert {
        "identity.internal_passport",
        "asylum.ofpra_form",
        "identity.passport_unobtainable",
        "parole.travel_application",
    } <= kinds


def test_deadlines_from_rules_data() -> None:
    ofpra = make_case({**fr_visa_mapping(), "procedure": "ofpra", "events": {"registration": "2024-06-03"}})
    due = {d.what.split(" (")[0]: d.due for d in country_rules.deadlines(ofpra)}
    assert due["file the complete asylum application with OFPRA"] == date(2024, 6, 24)
    cnda = make_case({**fr_visa_mapping(), "procedure": "cnda", "events": {"decision_notified": "2024-01-31"}})
    cnda_dates = {d.due for d in country_rules.deadlines(cnda) if "CNDA" in d.what}
    assert date(2024, 2, 29) in cnda_dates  # one calendar month, clipped to the month's end
    bamf = make_case({**de_work_mapping(), "procedure": "bamf", "events": {"decision_notified": "2024-03-04"}})
    assert date(2024, 3, 18) in {d.due for d in country_rules.deadlines(bamf)}
    for d in country_rules.deadlines(bamf):
        assert not any(s in d.what for s in RULES_SECRETS)


def test_visa_refusal_deadline_changed_on_1_january_2023() -> None:
    def crrv(notified: str) -> date:
        case = make_case({**fr_visa_mapping(), "events": {"decision_notified": notified}})
        return next(d.due for d in country_rules.deadlines(case) if "Commission de recours" in d.what)

    assert crrv("2022-12-01") == date(2023, 2, 1)  # two months
    assert crrv("2023-01-02") == date(2023, 2, 1)  # 30 days


def test_expiring_documents_and_host_stay_are_deadlines() -> None:
    whats = {d.what: d.due for d in country_rules.deadlines(make_case(fr_visa_mapping()))}
    assert whats["host-country stay status expires"] == date(2024, 9, 1)
    assert whats["evidence ev-permit (residence.host_permit) expires"] == date(2024, 9, 1)


def test_review_age_warns_by_default_and_fails_in_strict_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOSSIER_RULES_MAX_REVIEW_AGE_DAYS", "30")
    later = date(2027, 6, 1)
    checklist = country_rules.evaluate(make_case(fr_visa_mapping()), later)
    assert any("last reviewed 2026-11-23, more than 30 days ago" in w for w in checklist.warnings)
    with pytest.raises(RulesError, match="past their review date"):
        country_rules.evaluate(make_case(fr_visa_mapping()), later, strict_review=True)
    monkeypatch.setenv("DOSSIER_RULES_STRICT_REVIEW", "1")
    with pytest.raises(RulesError, match="past their review date"):
        country_rules.evaluate(make_case(fr_visa_mapping()), later)
    monkeypatch.setenv("DOSSIER_RULES_MAX_REVIEW_AGE_DAYS", "3650")
    assert country_rules.evaluate(make_case(fr_visa_mapping()), later, strict_review=True).ready


def test_section_22_suspension_blocks_from_july_2025_unless_an_admission_declaration_is_recorded() -> None:
    data = {**fr_visa_mapping(), "country": "de", "procedure": "humanitarian-22"}
    before = country_rules.evaluate(make_case({**data, "submission_date": "2025-07-22"}), TODAY)
    after = country_rules.evaluate(make_case({**data, "submission_date": "2025-07-23"}), TODAY)
    assert "rules.suspended" not in {b.code for b in before.blocks} and before.suspensions == ()
    block = next(b for b in after.blocks if b.code == "rules.suspended")
    assert "humanitarian-22 is suspended since 2025-07-23" in block.reason
    assert "admission declaration" in block.reason and not after.ready
    state = after.to_json()["suspensions"][0]
    assert (state["since"], state["exception_recorded"], state["unless"]) == (
        "2025-07-23",
        False,
        ["has_admission_declaration"],
    )
    opened = country_rules.evaluate(
        make_case({**data, "submission_date": "2025-07-23", "admission_declaration": {"date": "2025-07-01"}}), TODAY
    )
    assert "rules.suspended" not in {b.code for b in opened.blocks}
    assert opened.to_json()["suspensions"][0]["exception_recorded"] is True
    assert any("records the exception" in w for w in opened.warnings)


def test_rules_version_is_stable_and_per_country() -> None:
    v = country_rules.rules_version("fr")
    assert v == country_rules.rules_version("fr") and v != country_rules.rules_version("de")


def test_unknown_country_and_procedure_suggest_the_closest_names() -> None:
    with pytest.raises(RulesError, match=r"unknown country 'fx' \(did you mean 'fr'"):
        country_rules.first_stage("fx", "asylum-visa")
    with pytest.raises(
        RulesError, match=r"unknown procedure 'asylum-vis' for country fr \(did you mean 'asylum-visa'\?\)"
    ):
        country_rules.first_stage("fr", "asylum-vis")
    with pytest.raises(RulesError, match=r"did you mean 'humanitarian-22'"):
        country_rules.first_stage("de", "humanitarian22")


def test_a_date_without_rules_is_refused_naming_the_procedure_and_the_first_date() -> None:
    data = {**fr_visa_mapping(), "procedure": "cnda", "submission_date": "2010-01-01"}
    data["vetting"] = [{"by": "Example vetting NGO", "date": "2009-12-01", "outcome": "cleared"}]
    data["evidence"] = []
    with pytest.raises(BadInput) as exc:
        country_rules.evaluate(make_case(data), date(2010, 1, 1))
    message = exc.value.message
    assert exc.value.exit_code == 2
    assert "fr/cnda/appeal" in message and "2010-01-01" in message
    assert "the first date with rules is 2015-06-05" in message


def test_every_document_in_the_packet_needs_a_translation_not_only_the_one_that_meets_the_requirement() -> None:
    data = without(fr_visa_mapping(), "ev-milid-fr")
    data["evidence"] += [
        {"id": "ev-contract", "kind": "military.contract", "file": "e/contract.pdf", "language": "ru"},
        {
            "id": "ev-contract-fr",
            "kind": "translation",
            "translation_of": "ev-contract",
            "language": "fr",
            "sworn": True,
            "file": "e/contract.fr.pdf",
        },
    ]
    checklist = country_rules.evaluate(make_case(data), TODAY)
    assert not checklist.ready
    service = next(i for i in checklist.items if i.requirement == "military-service")
    assert service.status == "met" and service.evidence[0] == "ev-contract"
    extra = [i for i in checklist.open_items if i.requirement == "packet-translation"]
    assert [(i.evidence, i.status) for i in extra] == [(("ev-milid",), "untranslated")]
    assert "evidence ev-milid (military.id_card)" in extra[0].reason and "sworn translation into fr" in extra[0].reason
    assert extra[0].to_json()["source"]["title"].startswith("CNDA")  # the rule that covers the kind


def test_new_deadlines_appear_for_their_events() -> None:
    def whats(data: dict[str, object]) -> dict[str, date]:
        return {d.what: d.due for d in country_rules.deadlines(make_case(data))}

    refusal = whats(
        {
            **fr_visa_mapping(),
            "procedure": "visa-refusal",
            "events": {"decision_notified": "2026-11-02", "appeal_filed": "2026-11-20"},
        }
    )
    assert any("Commission de recours" in w and d == date(2026, 12, 2) for w, d in refusal.items())
    assert any("implicitly rejected" in w and d == date(2027, 1, 20) for w, d in refusal.items())
    assert any(
        "Nantes administrative court after the CRRV's implicit" in w and d == date(2027, 3, 20)
        for w, d in refusal.items()
    )
    bamf = whats(
        {
            **de_work_mapping(),
            "procedure": "bamf",
            "stage": "court-action",
            "events": {"decision_notified": "2026-09-01", "urgent_decision_notified": "2026-09-01"},
        }
    )
    assert bamf["state the facts and evidence supporting the court action (late submissions may be rejected)"] == date(
        2026, 10, 1
    )
    assert any("urgent application under § 80(5) VwGO" in w and d == date(2026, 9, 8) for w, d in bamf.items())
    parole = whats(
        {
            **fr_visa_mapping(),
            "country": "us",
            "procedure": "humanitarian-parole",
            "events": {"parole_arrival": "2026-03-10"},
        }
    )
    assert any("I-589" in w and d == date(2027, 3, 10) for w, d in parole.items())
    ofpra = whats({**fr_visa_mapping(), "procedure": "ofpra", "events": {"france_asile_registration": "2026-10-05"}})
    assert any("pôle France Asile" in w and d == date(2026, 10, 5) for w, d in ofpra.items())
    kz = whats(
        {
            **fr_visa_mapping(),
            "country": "kz",
            "procedure": "refugee-status",
            "location": {"country": "KZ", "arrived": "2026-12-10"},
        }
    )
    assert any("refugee status in Kazakhstan" in w and d == date(2026, 12, 15) for w, d in kz.items())
    stay = whats({**fr_visa_mapping(), "country": "kz", "procedure": "stay", "events": {"host_arrival": "2026-12-10"}})
    assert any("90-day stay" in w and d == date(2027, 3, 10) for w, d in stay.items())


def test_ofpra_deadline_cites_the_asylum_procedure_regulation_from_12_june_2026() -> None:
    def source(registered: str) -> str:
        case = make_case({**fr_visa_mapping(), "procedure": "ofpra", "events": {"registration": registered}})
        return next(d.source for d in country_rules.deadlines(case) if "OFPRA" in d.what)

    assert "R. 531-2" in source("2026-06-11") and "2024/1348" not in source("2026-06-11")
    assert "2024/1348" in source("2026-06-12")


def test_exclusion_question_blocks_on_yes_or_unknown_and_warns_when_unanswered() -> None:
    data = fr_visa_mapping()
    unanswered = country_rules.evaluate(make_case(data), TODAY)
    assert any("no answer to the exclusion question" in w for w in unanswered.warnings)
    for answer in ("yes", "unknown"):
        data["vetting"] = [{**data["vetting"][0], "exclusion": {"answer": answer}}]
        checklist = country_rules.evaluate(make_case(data), TODAY)
        block = next(b for b in checklist.blocks if b.code == "screening.exclusion")
        assert f"{answer!r}" in block.reason and "art. 1F" in block.reason and not checklist.ready
    data["vetting"] = [{**data["vetting"][0], "exclusion": {"answer": "no"}}]
    clear = country_rules.evaluate(make_case(data), TODAY)
    assert clear.ready and not any("exclusion" in w for w in clear.warnings)
