"""Country rules: which evidence each stage of each procedure requires, since when, under which law.

Rules are YAML data (country_rules/<country>/procedures/*.yaml) plus the named predicates in
`country_rules.predicates`; this package evaluates them into checklists, lists deadlines and
letters, and gives legal advisers `show`, `test` and `lint` tools.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from casefile.kinds import CONTRACT_KINDS
from core.errors import RulesError
from country_rules.checklist import STATUSES, Block, Checklist, ChecklistItem
from country_rules.deadlines import Deadline, deadlines
from country_rules.engine import evaluate
from country_rules.loading import countries as _countries
from country_rules.loading import country_rules, find_stage, procedure_of, rules_version
from country_rules.model import in_force

__all__ = [
    "STATUSES",
    "Block",
    "Checklist",
    "ChecklistItem",
    "Deadline",
    "RulesError",
    "countries",
    "deadlines",
    "evaluate",
    "first_stage",
    "known_kinds",
    "next_stage",
    "procedures",
    "rules_in_force",
    "rules_version",
    "stage_letters",
]


def countries() -> list[str]:
    """Ids of the shipped country packages (fr, de, us...), sorted."""
    return _countries()


def procedures(country: str) -> list[str]:
    """Procedure ids of a country, sorted; RulesError for an unknown country."""
    return sorted(country_rules(country).procedures)


def first_stage(country: str, procedure: str) -> str:
    """The stage a case starts in when case.yaml names none."""
    return procedure_of(country, procedure).stages[0].id


def next_stage(country: str, procedure: str, stage: str) -> str | None:
    """The stage after `stage`, or None when it is the last one."""
    proc, current = find_stage(country, procedure, stage)
    ids = proc.stage_ids
    i = ids.index(current.id)
    return ids[i + 1] if i + 1 < len(ids) else None


def stage_letters(country: str, procedure: str, stage: str, on: date) -> list[str]:
    """Template paths (relative to templates/) of the letters a stage's packet holds on a date."""
    _, st = find_stage(country, procedure, stage)
    return [x.template for x in st.letters if in_force(x.valid_from, x.valid_to, on)]


def rules_in_force(country: str, procedure: str, stage: str, on: date) -> list[dict[str, Any]]:
    """The rule texts a stage uses on a date, as JSON for the packet manifest."""
    _, st = find_stage(country, procedure, stage)
    out = []
    for req in st.requirements:
        text = req.text_on(on)
        if text is not None:
            out.append(text.to_json())
    return out


def known_kinds() -> frozenset[str]:
    """Every evidence kind a case may use: the contract kinds plus those the countries add."""
    kinds = set(CONTRACT_KINDS)
    for c in _countries():
        kinds.update(country_rules(c).kind_labels)
    return frozenset(kinds)
