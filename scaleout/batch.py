"""A batch of fictional cases for the scale-out run: varied names, two countries, some not ready, one group.

Each case is an example folder (examples/) copied with new fictional names, birth dates and a document
number in an evidence title, and its specimen evidence generated (casefile.specimens). What makes a
case personal (names, birth dates, document numbers) is kept as `needles` for the leak check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from casefile.specimens import write_specimens
from core.yamlio import load_yaml_file

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = ("fr-asylum-visa-couple", "de-work-visa-family")

# Invented names, each long enough (>= 6 letters) that finding it in a dump is never a coincidence.
_MEN = [
    ("Yaroslav", "Ярослав"),
    ("Vsevolod", "Всеволод"),
    ("Miroslav", "Мирослав"),
    ("Arseniy", "Арсений"),
    ("Rostislav", "Ростислав"),
    ("Timofey", "Тимофей"),
    ("Leontiy", "Леонтий"),
    ("Filimon", "Филимон"),
]
_WOMEN = [("Snezhana", "Снежана"), ("Miroslava", "Мирослава"), ("Yaroslava", "Ярослава"), ("Vasilisa", "Василиса")]
_CHILDREN = [("Ulyana", "Ульяна"), ("Varvara", "Варвара"), ("Evdokiya", "Евдокия")]
_FAMILIES = [
    ("Belozerov", "Белозёров"),
    ("Chernyshov", "Чернышов"),
    ("Dorofeev", "Дорофеев"),
    ("Gorbunkov", "Горбунков"),
    ("Molchanov", "Молчанов"),
    ("Shelestov", "Шелестов"),
    ("Tikhomirov", "Тихомиров"),
]


@dataclass
class PlannedCase:
    """One generated case folder and what the run expects of it."""

    folder: Path
    country: str
    ready: bool
    group: bool
    needles: list[str] = field(default_factory=list)
    case_id: str = ""
    checked_ready: bool = False  # what `dossier check` says under the rules of the release being run


def _person(person: dict[str, Any], given: tuple[str, str], family: tuple[str, str], born: date) -> list[str]:
    person["given_name"], person["given_name_native"] = given
    person["family_name"], person["family_name_native"] = family
    person["birth_date"] = born.isoformat()
    return [given[0], given[1], family[0], family[1], born.isoformat()]


def make_case(n: int, example: str, dest: Path, *, ready: bool, group: bool = False) -> PlannedCase:
    """Copy an example with the n-th set of fictional names; drop the identity papers when not ready."""
    data = load_yaml_file(REPO / "examples" / example / "case.yaml")
    assert isinstance(data, dict)
    family = _FAMILIES[n % len(_FAMILIES)]
    feminine = (family[0] + "a", family[1] + "а")
    born = date(1965, 1, 1) + timedelta(days=(397 * n + 11) % 12000)  # 1965-1997, never in the future
    needles = _person(data["applicant"], _MEN[n % len(_MEN)], family, born)
    for k, member in enumerate(data.get("household", [])):
        child = member.get("relation") == "child"
        given = _CHILDREN[(n + k) % len(_CHILDREN)] if child else _WOMEN[(n + k) % len(_WOMEN)]
        member_born = date(2019 if child else 1975, 1, 1) + timedelta(days=((37 if child else 211) * n + 29 * k) % 1800)
        needles += _person(member, given, feminine, member_born)
    number = f"{40 + n % 50:02d} {10 + n % 80:02d} {730000 + n:06d}"  # an internal-passport-like number
    needles.append(number)
    evidence = data["evidence"]
    for entry in evidence:
        if entry["id"] == "ev-id":
            entry["title"] = f"Internal passport No. {number} (main pages)"
    if not ready:  # the applicant's identity papers are missing: the checklist refuses the build
        gone = {
            e["id"]
            for e in evidence
            if e["kind"].startswith("identity.") and e.get("person", "applicant") == "applicant"
        }
        data["evidence"] = [e for e in evidence if e["id"] not in gone and e.get("translation_of") not in gone]
    dest.mkdir(parents=True)
    (dest / "case.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    write_specimens(dest)
    return PlannedCase(dest, data["country"], ready, group, sorted(set(needles)))


def plan_batch(
    root: Path, total: int, *, first: int = 0, not_ready_every: int = 8, group: bool = True
) -> list[PlannedCase]:
    """`total` cases alternating France and Germany (names from the `first`-th set on); every
    `not_ready_every`-th one not ready; with `group`, the first two French ones form a group submission
    (built by the group flow, not one by one)."""
    cases = []
    for k in range(total):
        n = first + k
        example = EXAMPLES[k % len(EXAMPLES)]
        ready = k % not_ready_every != not_ready_every - 1
        cases.append(make_case(n, example, root / f"case-{n:03d}", ready=ready, group=group and k in (0, 2)))
    return cases
