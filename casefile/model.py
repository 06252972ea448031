"""The case as typed, immutable values, built from a schema-valid case.yaml mapping."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

APPLICANT = "applicant"


def new_case_id() -> str:
    """A random opaque case id (40 bits, Crockford base32, XXXX-XXXX): never derived from a person."""
    chars = "".join(secrets.choice(_CROCKFORD) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


@dataclass(frozen=True)
class Person:
    """The applicant or a household member."""

    person_id: str
    relation: str  # applicant | spouse | partner | child | parent
    given_name: str
    family_name: str
    birth_date: date | None
    accompanying: bool
    given_name_native: str | None = None
    family_name_native: str | None = None
    citizenship: str | None = None
    sex: str | None = None
    birth_place: str | None = None

    def age_on(self, day: date) -> int | None:
        """Age in whole years on a day, or None when the birth date is unknown."""
        if self.birth_date is None:
            return None
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))


@dataclass(frozen=True)
class Evidence:
    """One document attached to the case."""

    id: str
    kind: str
    person: str
    file: str
    language: str | None = None
    issued: date | None = None
    expires: date | None = None
    translation_of: str | None = None
    sworn: bool = False
    title: str | None = None

    @property
    def is_translation(self) -> bool:
        return self.kind == "translation"


@dataclass(frozen=True)
class Case:
    """A validated case; `data` keeps the full mapping for predicates and letters."""

    case_id: str
    country: str
    procedure: str
    stage: str | None
    applicant: Person
    household: tuple[Person, ...]
    evidence: tuple[Evidence, ...]
    submission_date: date | None
    data: dict[str, Any] = field(repr=False, compare=False, hash=False)

    @property
    def persons(self) -> tuple[Person, ...]:
        """The applicant followed by every household member."""
        return (self.applicant, *self.household)

    @property
    def accompanying(self) -> tuple[Person, ...]:
        """Household members who travel with the applicant."""
        return tuple(p for p in self.household if p.accompanying)

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.persons if p.person_id == person_id), None)

    def evidence_by_id(self, evidence_id: str) -> Evidence | None:
        return next((e for e in self.evidence if e.id == evidence_id), None)

    def translations_of(self, evidence_id: str) -> tuple[Evidence, ...]:
        return tuple(e for e in self.evidence if e.translation_of == evidence_id)

    def redact_ids(self, text: str) -> str:
        """The text with the caseworker's free-form evidence and person ids replaced by positions.

        Ids like `ev-orlova-recit` may carry a name: a message bound for Prefect's database or a log
        says `evidence #4` / `person #2` instead; the faces show the caseworker's own ids.
        """
        names = [(e.id, f"evidence #{i + 1}") for i, e in enumerate(self.evidence)]
        names += [(p.person_id, f"person #{i + 2}") for i, p in enumerate(self.household)]
        for value, token in sorted(names, key=lambda x: -len(x[0])):
            text = re.sub(rf"(?<![\w-]){re.escape(value)}(?![\w-])", token, text)
        return text

    def effective_date(self, today: date) -> date:
        """The date validity windows are checked against: the planned submission, else today."""
        return self.submission_date or today


def case_from_mapping(data: dict[str, Any], case_id: str) -> Case:
    """Build the typed case from a schema-valid mapping (dates as ISO strings)."""
    a = data["applicant"]
    applicant = Person(
        person_id=APPLICANT,
        relation=APPLICANT,
        given_name=a["given_name"],
        family_name=a["family_name"],
        birth_date=_date(a.get("birth_date")),
        accompanying=True,
        given_name_native=a.get("given_name_native"),
        family_name_native=a.get("family_name_native"),
        citizenship=a.get("citizenship"),
        sex=a.get("sex"),
        birth_place=a.get("birth_place"),
    )
    household = tuple(
        Person(
            person_id=h["person_id"],
            relation=h["relation"],
            given_name=h["given_name"],
            family_name=h["family_name"],
            birth_date=_date(h.get("birth_date")),
            accompanying=bool(h.get("accompanying", False)),
            given_name_native=h.get("given_name_native"),
            family_name_native=h.get("family_name_native"),
            citizenship=h.get("citizenship"),
            sex=h.get("sex"),
            birth_place=h.get("birth_place"),
        )
        for h in data.get("household", [])
    )
    evidence = tuple(
        Evidence(
            id=e["id"],
            kind=e["kind"],
            person=e.get("person", APPLICANT),
            file=e["file"],
            language=e.get("language"),
            issued=_date(e.get("issued")),
            expires=_date(e.get("expires")),
            translation_of=e.get("translation_of"),
            sworn=bool(e.get("sworn", False)),
            title=e.get("title"),
        )
        for e in data.get("evidence", [])
    )
    return Case(
        case_id=case_id,
        country=data["country"],
        procedure=data["procedure"],
        stage=data.get("stage"),
        applicant=applicant,
        household=household,
        evidence=evidence,
        submission_date=_date(data.get("submission_date")),
        data=data,
    )
