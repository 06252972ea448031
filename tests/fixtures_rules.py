"""Case mappings for the rules tests: complete French and German cases, built like case.yaml.

Plain builders (import them) plus pytest fixtures; every name here is fictional.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from casefile import Case, case_from_mapping, validate_mapping

RULES_SECRETS = ["Pavel", "Orlov", "1998-03-14", "Ilia", "Marchenko", "1991-11-05", "Sofiia", "2019-06-30"]

_DESERTER: dict[str, Any] = {
    "case_id": "K7Q2-M9XD",
    "country": "fr",
    "procedure": "asylum-visa",
    "applicant": {
        "given_name": "Pavel",
        "family_name": "Orlov",
        "given_name_native": "Павел",
        "family_name_native": "Орлов",
        "birth_date": "1998-03-14",
        "citizenship": "RU",
        "sex": "M",
    },
    "location": {"country": "KZ", "city": "Astana", "status": "stay-extension", "status_expires": "2024-09-01"},
    "contact": {"postal_address": "c/o partner NGO, Astana"},
    "ngo": {"name": "Example NGO", "caseworker": "Caseworker A"},
    "military": {
        "service": "contract",
        "rank": "lieutenant",
        "unit": "military unit 12345",
        "role": "communications",
        "deployed": [{"from": "2022-02-24", "to": "2022-08-20"}],
        "left_service": {"date": "2022-08-30", "how": "desertion"},
    },
    "prosecution": [{"article": "337", "opened": "2022-11-10", "wanted": True}],
    "vetting": [{"by": "Example vetting NGO", "date": "2024-02-01", "outcome": "cleared"}],
    "submission_date": "2024-05-15",
}


def _ev(id_: str, kind: str, *, person: str = "applicant", **extra: Any) -> dict[str, Any]:
    return {"id": id_, "kind": kind, "person": person, "file": f"evidence/{id_}.pdf", **extra}


def _tr(of: str, language: str) -> dict[str, Any]:
    return {
        "id": f"{of}-{language}",
        "kind": "translation",
        "translation_of": of,
        "language": language,
        "sworn": True,
        "file": f"evidence/{of}.{language}.pdf",
    }


def fr_visa_mapping() -> dict[str, Any]:
    """A complete French asylum-visa case: deserter with passport-less internal ID and sworn translations."""
    data = copy.deepcopy(_DESERTER)
    data["evidence"] = [
        _ev("ev-id", "identity.internal_passport", language="ru", issued="2018-05-01", expires="2043-03-14"),
        _tr("ev-id", "fr"),
        _ev("ev-photo", "identity.photo"),
        _ev("ev-milid", "military.id_card", language="ru", issued="2019-09-01"),
        _tr("ev-milid", "fr"),
        _ev("ev-wanted", "prosecution.wanted_notice", language="ru", issued="2023-01-20"),
        _tr("ev-wanted", "fr"),
        _ev("ev-record", "record.no_criminal_record", language="ru", issued="2024-04-01"),
        _tr("ev-record", "fr"),
        _ev("ev-vetting", "vetting.report", language="en", issued="2024-02-01"),
        _ev("ev-statement", "statement.personal", language="fr"),
        _ev("ev-ngo", "support.ngo_letter", language="fr"),
        _ev("ev-permit", "residence.host_permit", language="ru", issued="2024-03-01", expires="2024-09-01"),
        _tr("ev-permit", "fr"),
    ]
    return data


def de_work_mapping() -> dict[str, Any]:
    """A complete German work-visa case: mobilised man, job offer, diploma, wife and a 4-year-old child."""
    data = copy.deepcopy(_DESERTER)
    data.update(
        {
            "case_id": "D3WK-7V5A",
            "country": "de",
            "procedure": "work-visa",
            "submission_date": "2024-05-15",
            "location": {"country": "AM", "city": "Yerevan", "status": "visa-free"},
            "prosecution": [{"article": "328", "opened": "2023-02-01"}],
            "household": [
                {
                    "person_id": "p2",
                    "relation": "spouse",
                    "given_name": "Anna",
                    "family_name": "Marchenko",
                    "birth_date": "1993-02-17",
                    "citizenship": "RU",
                    "accompanying": True,
                },
                {
                    "person_id": "c1",
                    "relation": "child",
                    "given_name": "Sofiia",
                    "family_name": "Marchenko",
                    "birth_date": "2019-06-30",
                    "citizenship": "RU",
                    "accompanying": True,
                },
            ],
        }
    )
    data["applicant"] = {
        "given_name": "Ilia",
        "family_name": "Marchenko",
        "given_name_native": "Илья",
        "family_name_native": "Марченко",
        "birth_date": "1991-11-05",
        "citizenship": "RU",
        "sex": "M",
    }
    data["military"] = {
        "service": "mobilised",
        "unit": "military unit 54321",
        "role": "driver",
        "left_service": {"date": "2022-10-02", "how": "evaded-mobilisation"},
    }
    data["evidence"] = [
        _ev("ev-id", "identity.internal_passport", language="ru", issued="2016-12-01", expires="2036-11-05"),
        _tr("ev-id", "de"),
        _ev("ev-photo", "identity.photo"),
        _ev("ev-orders", "military.orders", language="ru", issued="2022-09-28"),
        _tr("ev-orders", "de"),
        _ev("ev-notice", "prosecution.case_notice", language="ru", issued="2023-02-01"),
        _tr("ev-notice", "de"),
        _ev("ev-offer", "employment.job_offer", language="de", issued="2023-10-01"),
        _ev("ev-contract", "employment.contract", language="de", issued="2023-10-15"),
        _ev("ev-diploma", "education.diploma", language="ru", issued="2013-06-25"),
        _tr("ev-diploma", "de"),
        _ev("ev-p2-id", "identity.internal_passport", person="p2", language="ru", expires="2038-02-17"),
        _tr("ev-p2-id", "de"),
        _ev("ev-p2-photo", "identity.photo", person="p2"),
        _ev("ev-marriage", "family.marriage_certificate", person="p2", language="ru"),
        _tr("ev-marriage", "de"),
        _ev("ev-c1-birth", "family.birth_certificate", person="c1", language="ru"),
        _tr("ev-c1-birth", "de"),
        _ev("ev-c1-photo", "identity.photo", person="c1"),
    ]
    return data


def make_case(data: dict[str, Any]) -> Case:
    """Validate a mapping like `dossier case import` does and build the typed case."""
    import country_rules

    valid = validate_mapping(data, data.get("case_id", "TEST"), country_rules.known_kinds())
    return case_from_mapping(valid, valid.get("case_id", "TEST-CASE"))


def without(data: dict[str, Any], *evidence_ids: str) -> dict[str, Any]:
    """The mapping with the named evidence removed."""
    out = copy.deepcopy(data)
    out["evidence"] = [e for e in out["evidence"] if e["id"] not in evidence_ids]
    return out


@pytest.fixture
def fr_visa() -> dict[str, Any]:
    """A fresh complete French asylum-visa mapping."""
    return fr_visa_mapping()


@pytest.fixture
def de_work() -> dict[str, Any]:
    """A fresh complete German work-visa mapping."""
    return de_work_mapping()
