"""The checklist: what a stage requires of a case, per person, with a status and its legal source.

`Checklist.to_json()` is the shape packets store as checklist.json (keep it stable).
Reasons and warnings never contain names or birth dates: only evidence ids, kinds,
document dates and field paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from country_rules.model import RuleText

Status = Literal["met", "missing", "expired", "untranslated"]
STATUSES: tuple[Status, ...] = ("met", "missing", "expired", "untranslated")


@dataclass(frozen=True)
class ChecklistItem:
    """One requirement for one person, and whether the case meets it."""

    requirement: str
    person: str
    status: Status
    reason: str
    text: RuleText
    evidence: tuple[str, ...] = ()
    translations: tuple[str, ...] = ()

    @property
    def met(self) -> bool:
        return self.status == "met"

    @property
    def blocking(self) -> bool:
        """Whether an unmet item keeps the case from being ready (practice items only warn)."""
        return self.text.blocking

    def to_json(self) -> dict[str, Any]:
        t = self.text
        return {
            "requirement": self.requirement,
            "title": t.title,
            "kinds": list(t.kinds),
            "person": self.person,
            "status": self.status,
            "evidence": list(self.evidence),
            "translations": list(self.translations),
            "reason": self.reason,
            "source": t.source.to_json(),
            "valid_from": t.valid_from.isoformat(),
            "valid_to": t.valid_to.isoformat() if t.valid_to else None,
            "last_reviewed": t.last_reviewed.isoformat(),
            "note": t.note,
            "basis": t.basis,
            "blocking": t.blocking,
        }


@dataclass(frozen=True)
class Block:
    """A reason the case must not go forward until a senior review decides (screening)."""

    code: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "reason": self.reason}


@dataclass(frozen=True)
class Checklist:
    """The evaluated stage of one case on one date."""

    case_id: str
    country: str
    procedure: str
    stage: str
    evaluated_for: date
    rules_version: str
    items: tuple[ChecklistItem, ...]
    blocks: tuple[Block, ...] = ()
    warnings: tuple[str, ...] = ()
    texts: tuple[RuleText, ...] = field(default=(), repr=False)
    suspensions: tuple[dict[str, Any], ...] = ()

    @property
    def ready(self) -> bool:
        """Every blocking item met and nothing blocks the case."""
        return not self.blocks and all(i.met for i in self.items if i.blocking)

    @property
    def open_items(self) -> tuple[ChecklistItem, ...]:
        """Blocking items not met, in checklist order (unmet practice items are warnings)."""
        return tuple(i for i in self.items if not i.met and i.blocking)

    def summary(self) -> str:
        """One line for logs and errors: counts only, no personal data."""
        counts = {s: sum(1 for i in self.items if i.status == s and i.blocking) for s in STATUSES}
        parts = ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        blocked = f", {len(self.blocks)} block(s)" if self.blocks else ""
        state = "ready" if self.ready else "not ready"
        return f"case {self.case_id} {self.country}/{self.procedure}/{self.stage}: {state} ({parts}{blocked})"

    def to_json(self) -> dict[str, Any]:
        """The contract shape of checklist.json."""
        return {
            "case_id": self.case_id,
            "country": self.country,
            "procedure": self.procedure,
            "stage": self.stage,
            "evaluated_for": self.evaluated_for.isoformat(),
            "rules_version": self.rules_version,
            "ready": self.ready,
            "items": [i.to_json() for i in self.items],
            "blocks": [b.to_json() for b in self.blocks],
            "warnings": list(self.warnings),
            "suspensions": list(self.suspensions),
        }
