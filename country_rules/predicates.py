"""The named conditions rules may use in `when:`; each is a small typed function of the facts.

A rule writes `when: [has_prosecution, not is_minor]`: every name must hold (`not ` negates).
Case predicates look at the whole case; person predicates at the person the requirement is
being checked for. Add a predicate here (with a docstring a legal adviser can read) and it
becomes usable in every country's rules; `dossier rules lint` rejects names not listed here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from casefile.model import Case, Person
from core.errors import RulesError

_PASSPORT = "identity.international_passport"
_HOST_PERMIT_STATUSES = frozenset(
    {"stay-extension", "temporary-residence", "refugee-claim", "asylum-seeker", "refugee"}
)
_HOST_ASYLUM_STATUSES = frozenset({"refugee-claim", "asylum-seeker", "refugee"})


@dataclass(frozen=True)
class Facts:
    """What a predicate may look at: the case, the person being checked, and the submission date."""

    case: Case
    person: Person
    on: date

    @property
    def data(self) -> dict[str, Any]:
        return self.case.data


Predicate = Callable[[Facts], bool]
PREDICATES: dict[str, Predicate] = {}


def predicate(fn: Predicate) -> Predicate:
    """Register a function under its own name so rules can name it."""
    PREDICATES[fn.__name__] = fn
    return fn


def check(expression: str, facts: Facts) -> bool:
    """Evaluate one `when:` entry ('name' or 'not name'); RulesError for an unknown name."""
    negate = expression.startswith("not ")
    name = expression[4:] if negate else expression
    if name not in PREDICATES:
        raise RulesError(
            f"unknown predicate {name!r} in a rule's `when:`",
            hint="run `dossier rules lint` to find it and fix the rule",
        )
    value = PREDICATES[name](facts)
    return not value if negate else value


def predicate_name(expression: str) -> str:
    """The predicate a `when:` entry names, without its `not `."""
    return expression[4:] if expression.startswith("not ") else expression


# --- the case -------------------------------------------------------------------------


@predicate
def has_prosecution(f: Facts) -> bool:
    """A criminal case has been opened against the applicant (any entry under `prosecution`)."""
    return bool(f.data.get("prosecution"))


@predicate
def is_wanted(f: Facts) -> bool:
    """The applicant is on a wanted list (a prosecution entry with `wanted: true`)."""
    return any(p.get("wanted") for p in f.data.get("prosecution", []))


@predicate
def served_in_military(f: Facts) -> bool:
    """The applicant served (any `military.service` other than none)."""
    return (f.data.get("military") or {}).get("service", "none") != "none"


@predicate
def was_deployed(f: Facts) -> bool:
    """The applicant was deployed to the war zone at least once (`military.deployed`)."""
    return bool((f.data.get("military") or {}).get("deployed"))


@predicate
def was_mobilised(f: Facts) -> bool:
    """The applicant was mobilised (service: mobilised), the group CNDA case law of July 2023 covers."""
    return (f.data.get("military") or {}).get("service") == "mobilised"


@predicate
def deserted(f: Facts) -> bool:
    """The applicant left by desertion or absence without leave (`military.left_service.how`)."""
    how = ((f.data.get("military") or {}).get("left_service") or {}).get("how")
    return how in ("desertion", "absence-without-leave")


@predicate
def has_host_status(f: Facts) -> bool:
    """The applicant holds a stay status in the host country that a document proves."""
    return (f.data.get("location") or {}).get("status") in _HOST_PERMIT_STATUSES


@predicate
def has_host_asylum_claim(f: Facts) -> bool:
    """The applicant claimed asylum or refugee status in the host country."""
    return (f.data.get("location") or {}).get("status") in _HOST_ASYLUM_STATUSES


@predicate
def has_accompanying_persons(f: Facts) -> bool:
    """Someone in the household travels with the applicant."""
    return bool(f.case.accompanying)


@predicate
def has_accompanying_partner(f: Facts) -> bool:
    """A spouse or partner travels with the applicant."""
    return any(p.relation in ("spouse", "partner") for p in f.case.accompanying)


@predicate
def has_accompanying_child(f: Facts) -> bool:
    """A child travels with the applicant."""
    return any(p.relation == "child" for p in f.case.accompanying)


@predicate
def has_admission_declaration(f: Facts) -> bool:
    """The case records a German admission declaration (§ 22 AufenthG): `admission_declaration` or its evidence."""
    if f.data.get("admission_declaration"):
        return True
    return any(e.kind == "humanitarian.admission_declaration" for e in f.case.evidence)


@predicate
def has_decision_notified(f: Facts) -> bool:
    """A decision has been notified (`events.decision_notified` is set)."""
    return bool((f.data.get("events") or {}).get("decision_notified"))


# --- the person being checked ---------------------------------------------------------


def _valid_passports(f: Facts) -> list[Any]:
    return [
        e
        for e in f.case.evidence
        if e.kind == _PASSPORT and e.person == f.person.person_id and (e.expires is None or e.expires >= f.on)
    ]


@predicate
def has_valid_passport(f: Facts) -> bool:
    """The person has an international passport not expired on the submission date."""
    return bool(_valid_passports(f))


@predicate
def has_no_valid_passport(f: Facts) -> bool:
    """The person has no international passport valid on the submission date (most deserters)."""
    return not _valid_passports(f)


@predicate
def is_applicant(f: Facts) -> bool:
    """The person is the applicant."""
    return f.person.relation == "applicant"


@predicate
def is_spouse(f: Facts) -> bool:
    """The person is the applicant's spouse (married)."""
    return f.person.relation == "spouse"


@predicate
def is_partner(f: Facts) -> bool:
    """The person is the applicant's unmarried partner."""
    return f.person.relation == "partner"


@predicate
def is_child(f: Facts) -> bool:
    """The person is the applicant's child (of any age)."""
    return f.person.relation == "child"


@predicate
def is_minor(f: Facts) -> bool:
    """The person is under 18 on the submission date (unknown birth date: not a minor)."""
    age = f.person.age_on(f.on)
    return age is not None and age < 18


@predicate
def is_adult(f: Facts) -> bool:
    """The person is 18 or older on the submission date (unknown birth date: adult)."""
    return not is_minor(f)


@predicate
def is_14_or_older(f: Facts) -> bool:
    """The person is 14 or older (Russian internal passport; fingerprints in German asylum law)."""
    age = f.person.age_on(f.on)
    return age is None or age >= 14


@predicate
def is_under_14(f: Facts) -> bool:
    """The person is under 14 on the submission date."""
    return not is_14_or_older(f)


@predicate
def is_russian_citizen(f: Facts) -> bool:
    """The person's citizenship is recorded as RU."""
    return f.person.citizenship == "RU"
