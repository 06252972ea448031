"""The country rules as typed, immutable values, built from the YAML files legal advisers edit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def in_force(valid_from: date | None, valid_to: date | None, on: date) -> bool:
    """True when `on` lies in [valid_from, valid_to]; both ends inclusive, open when absent."""
    return (valid_from is None or valid_from <= on) and (valid_to is None or on <= valid_to)


@dataclass(frozen=True)
class Source:
    """Where a rule comes from: a title plus a URL and/or an article."""

    title: str
    url: str = ""
    article: str = ""

    def to_json(self) -> dict[str, str]:
        return {"title": self.title, "url": self.url, "article": self.article}


@dataclass(frozen=True)
class Validity:
    """How old or how current a document may be at the submission date."""

    max_age_days: int | None = None
    max_age_months: int | None = None
    not_expired: bool = False
    warn_age_days: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in ("max_age_days", "max_age_months", "warn_age_days"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.not_expired:
            out["not_expired"] = True
        return out


@dataclass(frozen=True)
class Translation:
    """Languages a document may be in; otherwise a (sworn, when required) translation into one of them."""

    accepted: tuple[str, ...]
    sworn: bool = True
    required: bool = True

    def to_json(self) -> dict[str, Any]:
        return {"accepted": list(self.accepted), "sworn": self.sworn, "required": self.required}


@dataclass(frozen=True)
class RuleText:
    """One dated wording of a requirement: what the law asked for between valid_from and valid_to."""

    requirement: str
    title: str
    kinds: tuple[str, ...]
    applies_to: str
    when: tuple[str, ...]
    validity: Validity | None
    translation: Translation | None
    field: str | None
    source: Source
    valid_from: date
    valid_to: date | None
    last_reviewed: date
    note: str
    file: Path
    line: int
    basis: str = "law"
    blocking: bool = True

    def in_force(self, on: date) -> bool:
        """Whether this wording applies on a day (valid_to inclusive)."""
        return in_force(self.valid_from, self.valid_to, on)

    def to_json(self) -> dict[str, Any]:
        """The rule text as recorded in checklists and packet manifests."""
        return {
            "requirement": self.requirement,
            "title": self.title,
            "kinds": list(self.kinds),
            "field": self.field,
            "applies_to": self.applies_to,
            "when": list(self.when),
            "validity": self.validity.to_json() if self.validity else None,
            "translation": self.translation.to_json() if self.translation else None,
            "source": self.source.to_json(),
            "valid_from": _iso(self.valid_from),
            "valid_to": _iso(self.valid_to),
            "last_reviewed": _iso(self.last_reviewed),
            "note": self.note,
            "basis": self.basis,
            "blocking": self.blocking,
        }


@dataclass(frozen=True)
class Requirement:
    """A requirement with all its dated wordings, oldest first."""

    id: str
    texts: tuple[RuleText, ...]
    line: int

    def text_on(self, on: date) -> RuleText | None:
        """The wording in force on a day, or None when the requirement did not exist then."""
        return next((t for t in self.texts if t.in_force(on)), None)


@dataclass(frozen=True)
class Letter:
    """A DOCX template a stage's packet contains, path relative to templates/."""

    template: str
    valid_from: date | None = None
    valid_to: date | None = None
    line: int = 0


@dataclass(frozen=True)
class Notice:
    """A dated fact about a whole procedure (e.g. a suspension) shown as a checklist warning."""

    text: str
    source: Source
    valid_from: date | None
    valid_to: date | None
    last_reviewed: date
    line: int = 0


@dataclass(frozen=True)
class Suspension:
    """A procedure or stage suspended from a date: never ready unless the case shows the exception."""

    since: date
    until: date | None
    reason: str
    source: Source
    last_reviewed: date
    unless: tuple[str, ...]
    exception: str
    note: str
    line: int = 0

    def in_force(self, on: date) -> bool:
        """Whether the suspension applies on a day (until inclusive)."""
        return in_force(self.since, self.until, on)

    def to_json(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat(),
            "until": _iso(self.until),
            "reason": self.reason,
            "source": self.source.to_json(),
            "last_reviewed": self.last_reviewed.isoformat(),
            "unless": list(self.unless),
            "exception": self.exception,
            "note": self.note,
        }


@dataclass(frozen=True)
class DeadlineRule:
    """A legal time limit that starts at a case event (events.<event>)."""

    id: str
    event: str
    days: int
    weeks: int
    months: int
    what: str
    source: Source
    stages: tuple[str, ...]
    valid_from: date | None
    valid_to: date | None
    note: str
    line: int = 0
    when: tuple[str, ...] = ()


@dataclass(frozen=True)
class Stage:
    """One step of a procedure: its requirements and the letters its packet contains."""

    id: str
    title: str
    title_local: str
    requirements: tuple[Requirement, ...]
    letters: tuple[Letter, ...]
    addressee: tuple[str, ...]
    note: str
    line: int = 0
    suspensions: tuple[Suspension, ...] = ()


@dataclass(frozen=True)
class Procedure:
    """An ordered list of stages, plus the deadlines and notices that go with it."""

    id: str
    title: str
    title_local: str
    stages: tuple[Stage, ...]
    deadlines: tuple[DeadlineRule, ...]
    notices: tuple[Notice, ...]
    file: Path
    suspensions: tuple[Suspension, ...] = ()

    def stage(self, stage_id: str) -> Stage | None:
        return next((s for s in self.stages if s.id == stage_id), None)

    @property
    def stage_ids(self) -> list[str]:
        return [s.id for s in self.stages]


@dataclass(frozen=True)
class PacketTranslation:
    """The languages a destination accepts for any document in the packet, and the law that says so."""

    accepted: tuple[str, ...]
    source: Source
    valid_from: date
    last_reviewed: date
    note: str
    sworn: bool = True


@dataclass(frozen=True)
class CountryRules:
    """Everything one country package defines."""

    id: str
    name: str
    language: str
    directory: Path
    procedures: dict[str, Procedure]
    kind_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    files: tuple[Path, ...] = ()
    translation: PacketTranslation | None = None
