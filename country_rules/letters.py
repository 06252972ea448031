"""What the letters of a stage can say: the docxtpl context built from a case and its checklist.

`letter_context(case, checklist, packet_id=..., today=...)` returns a dict whose keys are
exactly `LETTER_VARIABLES`; `dossier rules lint` checks every template against them.
Letters go inside the packet, so names are fine here (never in logs or errors).
Every word is in the destination's language (the country's `language`: fr, de, en or ru):
dates as that language writes them ("1er mai 2024", "1. Mai 2024", "1 May 2024", "1 мая 2024 г."),
countries and languages as words from CLDR (babel), person-dependent words agreed with `sex`.
`*_iso` twins hold YYYY-MM-DD. Missing optional values are empty strings, never None.

Top-level variables (use them as {{ name }} or {{ name.field }} in a DOCX template):

- case_id, packet_id: opaque ids.
- country ("fr"), language ("fr"|"de"|"en"|"ru"), country_name (in that language).
- procedure, procedure_title (in the country's language), stage, stage_title (same).
- today, today_iso: the build date. submission_date, submission_date_iso: the date the
  checklist was evaluated for (planned submission, else today).
- addressee: list of address lines for the office the stage writes to (from the rules).
- applicant: a person (see below).
- household: every household member (persons); accompanying: those who travel;
  persons: applicant followed by the accompanying persons.
  A person has: person_id, relation, relation_label (agreed: "épouse", "Ehefrau"), salutation
  (Monsieur/Madame, Herr/Frau, Mr/Ms or ""), given_name, family_name, full_name, given_name_native,
  family_name_native, full_name_native, birth_date, birth_date_iso, birth_place, citizenship (the
  country as a word: "Russie"), citizenship_code ("RU"), sex (M/F/X or ""), accompanying (bool),
  words: agreed words from labels.yaml `grammar` (born, pronoun, pronoun_object, pronoun_dative,
  possessive, accompanied, national, concerned, left, e).
- office: the organisation that writes (DOSSIER_HOME/office.toml, see core/office.py): name,
  address (lines), address_line, email, phone, website, city, signatory, role, configured (bool),
  has_signature, has_stamp. signature, stamp: the office's images (empty text without them).
- ngo: name, caseworker, address, email (from the case); contact: postal_address, email, phone.
- location: country (as a word), country_code, city, status, status_expires, status_expires_iso.
- military: service, service_label (in the letter's language), rank (translated when labels.yaml
  `ranks` knows it), rank_as_entered, unit, role (as entered), left_service_date,
  left_service_date_iso, left_service_how, left_service_how_label, deployed: list of {from, to, area}.
- prosecution: list of {article, code (the criminal code's name), opened, opened_iso, wanted (bool)}.
- evidence: original documents in packet order, each {number (1..n), exhibit ("Pièce 3"), id, kind,
  kind_label, section, title (kind_label in the letter's language), person, person_name,
  person_relation_label, issued, issued_iso, expires, expires_iso, language (code), language_name,
  translations: list of {id, number ("3.1"), language, language_name, sworn (bool), title}}.
- evidence_count: len(evidence).
- items: checklist items, each {requirement, title, person, person_name, status,
  status_label, evidence (ids joined by ", "), reason}; missing: the items not met (same shape).
- ready (bool), rules_version, blocks: list of {code, reason}, warnings: list of text.
- legal_bases: short formal references in the letter's language (labels.yaml `legal_bases`).
- deadlines: the case's legal deadlines, each {due, due_iso, what, source}.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _babel_date

from casefile.kinds import SECTION_ORDER, section_of
from casefile.model import Case, Person
from core.errors import RulesError
from core.office import Office, load_office
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
        "legal_bases",
        "office",
        "signature",
        "stamp",
        "deadlines",
    }
)

# The group cover letter's variables (packets/group.py builds them from the members' contexts).
GROUP_LETTER_VARIABLES: frozenset[str] = frozenset(
    {
        "group_id",
        "today",
        "today_iso",
        "member_count",
        "person_count",
        "addressee",
        "ngo",
        "office",
        "signature",
        "stamp",
        "members",
    }
)

LANGUAGES: tuple[str, ...] = ("fr", "de", "en", "ru")  # languages labels.yaml covers; a letter may use any


@cache
def labels() -> dict[str, Any]:
    """The shared wording table (country_rules/labels.yaml)."""
    text = (Path(__file__).resolve().parent / "labels.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = load_yaml_text(text, "country_rules/labels.yaml")
    return data


@cache
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        raise RulesError(
            f"letter language {language!r} is not a known locale", hint="use an ISO 639-1 code such as fr, de, en, ru"
        ) from None


def territory_name(code: str | None, language: str) -> str:
    """A country as a word in a language ('RU' -> 'Russie'), from CLDR via babel; '' for none."""
    if not code:
        return ""
    return str(_locale(language).territories.get(code.upper(), code))


def language_name(code: str | None, language: str) -> str:
    """A language as a word in a language ('ru' -> 'russe'), from CLDR via babel; '' for none."""
    if not code:
        return ""
    return str(_locale(language).languages.get(code.lower(), code))


def format_date(day: date | None, language: str) -> str:
    """A date written the way a letter in that language writes it; '' for no date."""
    if day is None:
        return ""
    if language == "fr" and day.day == 1:
        return "1er " + _babel_date(day, "MMMM y", locale="fr")
    if language == "de":
        return _babel_date(day, "d. MMMM y", locale="de")
    if language in ("fr", "en"):
        return _babel_date(day, "d MMMM y", locale=language)
    return _babel_date(day, "long", locale=_locale(language))


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


def _pick(entry: Any, language: str, sex: str | None) -> str:
    """One language's word of an entry: a string, or {M, F, X} agreed with the person's sex."""
    if isinstance(entry, dict) and language in entry:
        entry = entry[language]
    elif isinstance(entry, dict) and not {"M", "F", "X"} & set(entry):
        entry = entry.get("en", "")
    if isinstance(entry, dict):
        return str(entry.get(sex or "X", entry.get("X", entry.get("M", ""))))
    return str(entry or "")


def _word(group: str, key: str, language: str, sex: str | None = None) -> str:
    """A label from labels.yaml; an entry left empty on purpose stays empty, an unknown key prints as is."""
    table = labels()[group]
    if key not in table:
        return key
    return _pick(table[key], language, sex)


def _rank(rank: Any, language: str) -> str:
    """A rank in the letter's language when labels.yaml `ranks` knows it, else as the case gives it."""
    text = str(rank or "").strip()
    entry = (labels().get("ranks") or {}).get(text.lower())
    return _pick(entry, language, None) if entry else text


def grammar_words(sex: str | None, language: str) -> dict[str, str]:
    """Every person-dependent word of labels.yaml `grammar`, agreed with sex ('M', 'F', else unknown)."""
    return {key: _pick(entry, language, sex) for key, entry in labels()["grammar"].items()}


def legal_bases(country: str, procedure: str, stage: str, language: str) -> list[str]:
    """The short formal references a stage's letters cite, from labels.yaml (stage entry first)."""
    table = labels().get("legal_bases") or {}
    entry = table.get(f"{country}/{procedure}/{stage}") or table.get(f"{country}/{procedure}") or {}
    return [str(x) for x in entry.get(language, [])]


def _person(p: Person, language: str) -> dict[str, Any]:
    full_native = " ".join(x for x in (p.given_name_native, p.family_name_native) if x)
    sex = p.sex or ""
    return {
        "person_id": p.person_id,
        "relation": p.relation,
        "relation_label": _word("relations", p.relation, language, sex),
        "salutation": _word("salutations", sex, language) if sex else "",
        "given_name": p.given_name,
        "family_name": p.family_name,
        "full_name": f"{p.given_name} {p.family_name}",
        "given_name_native": p.given_name_native or "",
        "family_name_native": p.family_name_native or "",
        "full_name_native": full_native,
        "birth_date": format_date(p.birth_date, language),
        "birth_date_iso": p.birth_date.isoformat() if p.birth_date else "",
        "birth_place": p.birth_place or "",
        "citizenship": territory_name(p.citizenship, language),
        "citizenship_code": p.citizenship or "",
        "sex": sex,
        "accompanying": p.accompanying,
        "words": grammar_words(sex, language),
    }


def _fields(mapping: dict[str, Any] | None, names: tuple[str, ...]) -> dict[str, str]:
    mapping = mapping or {}
    return {n: str(mapping.get(n, "") or "") for n in names}


def office_context(office: Office, language: str) -> dict[str, Any]:
    """The `office` variable; an unconfigured office says so in the letter's language."""
    ctx = office.to_context(language)
    if not office.configured:
        note = _pick(labels().get("unconfigured", {}), language, None)
        ctx.update(name=note, address=[note], address_line=note, signatory=note)
    return ctx


def exhibit_word(language: str) -> str:
    """'Pièce', 'Anlage', 'Exhibit' or 'Приложение': how the letter and the bundle call an evidence number."""
    return {"fr": "Pièce", "de": "Anlage", "en": "Exhibit", "ru": "Приложение"}.get(language, "Exhibit")


def letter_context(
    case: Case, checklist: Checklist, *, packet_id: str, today: date, office: Office | None = None
) -> dict[str, Any]:
    """Every variable a stage's letters may use (see the module docstring); keys == LETTER_VARIABLES."""
    from country_rules.deadlines import deadlines
    from country_rules.loading import country_rules, find_stage

    rules = country_rules(checklist.country)
    lang = rules.language
    procedure, stage = find_stage(checklist.country, checklist.procedure, checklist.stage)
    data = case.data
    exhibit = exhibit_word(lang)

    def name_of(person_id: str) -> str:
        p = case.person(person_id)
        return f"{p.given_name} {p.family_name}" if p else person_id

    def relation_of(person_id: str) -> str:
        p = case.person(person_id)
        return _word("relations", p.relation, lang, p.sex) if p else ""

    evidence: list[dict[str, Any]] = []
    originals = [e for e in case.evidence if not e.is_translation]
    originals.sort(key=lambda e: SECTION_ORDER.index(section_of(e.kind)))
    for n, e in enumerate(originals, start=1):
        label = kind_label(e.kind, lang, checklist.country)
        translations = []
        for sub, t in enumerate(case.translations_of(e.id), start=1):
            word = _word("kinds", "translation", lang)
            sworn = {"fr": "assermentée", "de": "beglaubigt", "en": "certified", "ru": "заверенный"}.get(lang, "")
            tname = language_name(t.language, lang)
            translations.append(
                {
                    "id": t.id,
                    "number": f"{n}.{sub}",
                    "language": t.language or "",
                    "language_name": tname,
                    "sworn": t.sworn,
                    "title": f"{word} ({tname}{', ' + sworn if t.sworn and sworn else ''})" if tname else word,
                }
            )
        evidence.append(
            {
                "number": n,
                "exhibit": f"{exhibit} {n}",
                "id": e.id,
                "kind": e.kind,
                "kind_label": label,
                "section": section_of(e.kind),
                "title": label,
                "person": e.person,
                "person_name": name_of(e.person),
                "person_relation_label": relation_of(e.person),
                "issued": format_date(e.issued, lang),
                "issued_iso": e.issued.isoformat() if e.issued else "",
                "expires": format_date(e.expires, lang),
                "expires_iso": e.expires.isoformat() if e.expires else "",
                "language": e.language or "",
                "language_name": language_name(e.language, lang),
                "translations": translations,
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
    military = dict(data.get("military") or {})
    left = military.get("left_service") or {}
    location = data.get("location") or {}
    submission = checklist.evaluated_for
    code_name = _pick(labels().get("criminal_code", {}), lang, None)
    return {
        "case_id": case.case_id,
        "packet_id": packet_id,
        "country": checklist.country,
        "country_name": territory_name(checklist.country.upper(), lang) if len(checklist.country) == 2 else rules.name,
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
        "office": office_context(office if office is not None else load_office(), lang),
        "signature": "",  # the renderer puts the office's signature image here when configured
        "stamp": "",
        "ngo": _fields(data.get("ngo"), ("name", "caseworker", "address", "email")),
        "contact": _fields(data.get("contact"), ("postal_address", "email", "phone")),
        "location": {
            **_fields(location, ("city", "status")),
            "country": territory_name(location.get("country"), lang),
            "country_code": str(location.get("country", "") or ""),
            "status_expires": format_date(_iso_date(location.get("status_expires")), lang),
            "status_expires_iso": str(location.get("status_expires", "") or ""),
        },
        "military": {
            **_fields(military, ("service", "unit", "role")),
            "rank": _rank(military.get("rank"), lang),
            "rank_as_entered": str(military.get("rank", "") or ""),
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
                "code": code_name,
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
        "legal_bases": legal_bases(checklist.country, procedure.id, stage.id, lang),
        "deadlines": [
            {"due": format_date(d.due, lang), "due_iso": d.due.isoformat(), "what": d.what, "source": d.source}
            for d in deadlines(case)
        ],
    }
