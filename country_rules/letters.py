"""What the letters of a stage can say: the docxtpl context built from a case and its checklist.

`letter_context(case, checklist, packet_id=..., today=...)` returns a dict whose keys are
exactly `LETTER_VARIABLES`; `dossier rules lint` checks every template against them.
Letters go inside the packet, so names are fine here (never in logs or errors).
Dates are formatted in the country's language ("15 mai 2024", "15. Mai 2024", "15 May 2024");
`*_iso` twins hold YYYY-MM-DD. Missing optional values are empty strings, never None.

Top-level variables (use them as {{ name }} or {{ name.field }} in a DOCX template):

- case_id, packet_id: opaque ids.
- country ("fr"), language ("fr"|"de"|"en"), country_name (in that language).
- procedure, procedure_title (in the country's language), stage, stage_title (same).
- today, today_iso: the build date. submission_date, submission_date_iso: the date the
  checklist was evaluated for (planned submission, else today).
- addressee: list of address lines for the office the stage writes to (from the rules).
- applicant: a person (see below).
- household: every household member (persons); accompanying: those who travel;
  persons: applicant followed by the accompanying persons.
  A person has: person_id, relation, relation_label, salutation (Monsieur/Herr/Mr or ""),
  given_name, family_name, full_name, given_name_native, family_name_native, full_name_native,
  birth_date, birth_date_iso, birth_place, citizenship, sex, accompanying (bool).
- ngo: name, caseworker, address, email.
- contact: postal_address, email, phone.
- location: country, city, status, status_expires, status_expires_iso.
- military: service, service_label (in the letter's language), rank, unit, role, left_service_date,
  left_service_date_iso, left_service_how, left_service_how_label, deployed: list of {from, to, area}.
- prosecution: list of {article, opened, opened_iso, wanted (bool)}.
- evidence: original documents in packet order, each {number (1..n), id, kind, kind_label,
  section, title (evidence.title or kind_label), person, person_name, person_relation_label,
  issued, issued_iso, expires, expires_iso, language, translations: list of {id, language,
  sworn (bool), title}}.
- evidence_count: len(evidence).
- items: checklist items, each {requirement, title, person, person_name, status,
  status_label, evidence (ids joined by ", "), reason}.
- missing: the items not met (same shape as items).
- ready (bool), rules_version, blocks: list of {code, reason}, warnings: list of text.
- sources: distinct legal sources of the stage, each {title, url, article}.
- deadlines: the case's legal deadlines, each {due, due_iso, what, source}.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from casefile.kinds import section_of
from casefile.model import Case, Person
from core.yamlio import load_yaml_text

if TYPE_CHECKING:
    from country_rules.checklist import Checklist

LETTER_VARIABLES: frozenset[str] = frozenset(
    {
        "case_id",
        "packet_id",
        "country",
        "country_name",
        "language",
        "procedure",
        "procedure_title",
        "stage",
        "stage_title",
        "today",
        "today_iso",
        "submission_date",
        "submission_date_iso",
        "addressee",
        "applicant",
        "household",
        "accompanying",
        "persons",
        "ngo",
        "contact",
        "location",
        "military",
        "prosecution",
        "evidence",
        "evidence_count",
        "items",
        "missing",
        "ready",
        "rules_version",
        "blocks",
        "warnings",
        "sources",
        "deadlines",
    }
)

_COUNTRY_NAMES = {
    "fr": {"fr": "France", "de": "Frankreich", "en": "France"},
    "de": {"fr": "Allemagne", "de": "Deutschland", "en": "Germany"},
    "us": {"fr": "États-Unis", "de": "Vereinigte Staaten", "en": "United States"},
}


@cache
def labels() -> dict[str, Any]:
    """The shared wording table (country_rules/labels.yaml)."""
    text = (Path(__file__).resolve().parent / "labels.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = load_yaml_text(text, "country_rules/labels.yaml")
    return data


def format_date(day: date | None, language: str) -> str:
    """A date written the way a letter in that language writes it; '' for no date."""
    if day is None:
        return ""
    months = labels()["months"].get(language) or labels()["months"]["en"]
    month = months[day.month - 1]
    if language == "fr":
        return f"{'1er' if day.day == 1 else day.day} {month} {day.year}"
    if language == "de":
        return f"{day.day}. {month} {day.year}"
    return f"{day.day} {month} {day.year}"


def _iso_date(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def kind_label(kind: str, language: str, country: str | None = None) -> str:
    """The name of an evidence kind in a language (country-added kinds come from country.yaml)."""
    table: dict[str, dict[str, str]] = dict(labels()["kinds"])
    if country:
        from country_rules.loading import country_rules

        table.update(country_rules(country).kind_labels)
    words = table.get(kind, {})
    return words.get(language) or words.get("en") or kind


def _word(group: str, key: str, language: str) -> str:
    """A label from labels.yaml; an entry left empty on purpose stays empty, an unknown key prints as is."""
    table = labels()[group]
    if key not in table:
        return key
    words = table[key]
    return str(words[language] if language in words else words.get("en", ""))


def _person(p: Person, language: str) -> dict[str, Any]:
    full_native = " ".join(x for x in (p.given_name_native, p.family_name_native) if x)
    return {
        "person_id": p.person_id,
        "relation": p.relation,
        "relation_label": _word("relations", p.relation, language),
        "salutation": _word("salutations", p.sex, language) if p.sex else "",
        "given_name": p.given_name,
        "family_name": p.family_name,
        "full_name": f"{p.given_name} {p.family_name}",
        "given_name_native": p.given_name_native or "",
        "family_name_native": p.family_name_native or "",
        "full_name_native": full_native,
        "birth_date": format_date(p.birth_date, language),
        "birth_date_iso": p.birth_date.isoformat() if p.birth_date else "",
        "birth_place": p.birth_place or "",
        "citizenship": p.citizenship or "",
        "sex": p.sex or "",
        "accompanying": p.accompanying,
    }


def _fields(mapping: dict[str, Any] | None, names: tuple[str, ...]) -> dict[str, str]:
    mapping = mapping or {}
    return {n: str(mapping.get(n, "") or "") for n in names}


def letter_context(case: Case, checklist: Checklist, *, packet_id: str, today: date) -> dict[str, Any]:
    """Every variable a stage's letters may use (see the module docstring); keys == LETTER_VARIABLES."""
    from country_rules.deadlines import deadlines
    from country_rules.loading import country_rules, find_stage

    rules = country_rules(checklist.country)
    lang = rules.language
    procedure, stage = find_stage(checklist.country, checklist.procedure, checklist.stage)
    data = case.data

    def name_of(person_id: str) -> str:
        p = case.person(person_id)
        return f"{p.given_name} {p.family_name}" if p else person_id

    def relation_of(person_id: str) -> str:
        p = case.person(person_id)
        return _word("relations", p.relation, lang) if p else ""

    evidence: list[dict[str, Any]] = []
    originals = [e for e in case.evidence if not e.is_translation]
    from casefile.kinds import SECTION_ORDER

    originals.sort(key=lambda e: SECTION_ORDER.index(section_of(e.kind)))
    for n, e in enumerate(originals, start=1):
        label = kind_label(e.kind, lang, checklist.country)
        evidence.append(
            {
                "number": n,
                "id": e.id,
                "kind": e.kind,
                "kind_label": label,
                "section": section_of(e.kind),
                "title": e.title or label,
                "person": e.person,
                "person_name": name_of(e.person),
                "person_relation_label": relation_of(e.person),
                "issued": format_date(e.issued, lang),
                "issued_iso": e.issued.isoformat() if e.issued else "",
                "expires": format_date(e.expires, lang),
                "expires_iso": e.expires.isoformat() if e.expires else "",
                "language": e.language or "",
                "translations": [
                    {
                        "id": t.id,
                        "language": t.language or "",
                        "sworn": t.sworn,
                        "title": t.title or f"{_word_kind_translation(lang)} ({t.language or '?'})",
                    }
                    for t in case.translations_of(e.id)
                ],
            }
        )

    items = [
        {
            "requirement": i.requirement,
            "title": i.text.title,
            "person": i.person,
            "person_name": name_of(i.person),
            "status": i.status,
            "status_label": _word("statuses", i.status, lang),
            "evidence": ", ".join(i.evidence),
            "reason": i.reason,
        }
        for i in checklist.items
    ]
    sources: list[dict[str, str]] = []
    for t in checklist.texts:
        s = t.source.to_json()
        if s not in sources:
            sources.append(s)

    military = dict(data.get("military") or {})
    left = military.get("left_service") or {}
    location = data.get("location") or {}
    submission = checklist.evaluated_for
    return {
        "case_id": case.case_id,
        "packet_id": packet_id,
        "country": checklist.country,
        "country_name": _COUNTRY_NAMES.get(checklist.country, {}).get(lang, rules.name),
        "language": lang,
        "procedure": procedure.id,
        "procedure_title": procedure.title_local,
        "stage": stage.id,
        "stage_title": stage.title_local,
        "today": format_date(today, lang),
        "today_iso": today.isoformat(),
        "submission_date": format_date(submission, lang),
        "submission_date_iso": submission.isoformat(),
        "addressee": list(stage.addressee),
        "applicant": _person(case.applicant, lang),
        "household": [_person(p, lang) for p in case.household],
        "accompanying": [_person(p, lang) for p in case.accompanying],
        "persons": [_person(p, lang) for p in (case.applicant, *case.accompanying)],
        "ngo": _fields(data.get("ngo"), ("name", "caseworker", "address", "email")),
        "contact": _fields(data.get("contact"), ("postal_address", "email", "phone")),
        "location": {
            **_fields(location, ("country", "city", "status")),
            "status_expires": format_date(_iso_date(location.get("status_expires")), lang),
            "status_expires_iso": str(location.get("status_expires", "") or ""),
        },
        "military": {
            **_fields(military, ("service", "rank", "unit", "role")),
            "service_label": _word("services", military["service"], lang) if military.get("service") else "",
            "left_service_date": format_date(_iso_date(left.get("date")), lang),
            "left_service_date_iso": str(left.get("date", "") or ""),
            "left_service_how": str(left.get("how", "") or ""),
            "left_service_how_label": _word("departures", left["how"], lang) if left.get("how") else "",
            "deployed": [
                {
                    "from": format_date(_iso_date(d.get("from")), lang),
                    "to": format_date(_iso_date(d.get("to")), lang),
                    "area": str(d.get("area", "") or ""),
                }
                for d in military.get("deployed", [])
            ],
        },
        "prosecution": [
            {
                "article": str(p.get("article", "")),
                "opened": format_date(_iso_date(p.get("opened")), lang),
                "opened_iso": str(p.get("opened", "") or ""),
                "wanted": bool(p.get("wanted", False)),
            }
            for p in data.get("prosecution", [])
        ],
        "evidence": evidence,
        "evidence_count": len(evidence),
        "items": items,
        "missing": [i for i in items if i["status"] != "met"],
        "ready": checklist.ready,
        "rules_version": checklist.rules_version,
        "blocks": [b.to_json() for b in checklist.blocks],
        "warnings": list(checklist.warnings),
        "sources": sources,
        "deadlines": [
            {"due": format_date(d.due, lang), "due_iso": d.due.isoformat(), "what": d.what, "source": d.source}
            for d in deadlines(case)
        ],
    }


def _word_kind_translation(language: str) -> str:
    return kind_label("translation", language)
