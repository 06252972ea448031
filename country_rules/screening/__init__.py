"""Screening for every country: no case goes forward without vetting and a look at the concern list.

A case is blocked for senior review when its vetting is missing or its latest vetting is not
`cleared`, when that vetting answers the exclusion question (Refugee Convention art. 1F,
AsylG § 3(2), the US persecutor bar) "yes" or "unknown", or when military.role /
military.unit matches the concern list (concerns.yaml here). No answer at all is a warning.
Only a `review` entry with decision `proceed`, dated on or after the latest vetting, lifts
the blocks; a later `hold` or `refuse` blocks the case itself. Reasons name field paths and
concern-list ids, never the case's own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from casefile.model import Case
from country_rules.checklist import Block
from country_rules.model import Source
from country_rules.yamlsource import check_schema, load_located

CONCERNS_FILE = Path(__file__).resolve().parent / "concerns.yaml"
_WORD = re.compile(r"\w+", re.UNICODE)
_NUMBER = re.compile(r"(?<!\d)\d{4,6}(?!\d)")


@dataclass(frozen=True)
class Concern:
    """One entry of the concern list."""

    id: str
    group: str  # roles | units
    match: tuple[tuple[str, ...], ...]
    numbers: frozenset[str]
    reason: str
    source: Source
    last_reviewed: date

    def matches(self, text: str) -> bool:
        """Whether a role or unit text hits this entry (word prefixes, or a unit number)."""
        words = [w.lower() for w in _WORD.findall(text)]
        for phrase in self.match:
            if phrase and all(any(w.startswith(p) for w in words) for p in phrase):
                return True
        return bool(self.numbers & set(_NUMBER.findall(text)))


def load_concerns(file: Path = CONCERNS_FILE) -> tuple[Concern, ...]:
    """Read the concern list strictly (unknown or duplicate keys fail with file and line)."""
    doc = load_located(file)
    check_schema(doc, "concerns_file")
    out: list[Concern] = []
    for group in ("roles", "units"):
        for raw in doc.data[group]:
            src = raw["source"]
            out.append(
                Concern(
                    id=raw["id"],
                    group=group,
                    match=tuple(tuple(w.lower() for w in _WORD.findall(m)) for m in raw.get("match", [])),
                    numbers=frozenset(raw.get("numbers", [])),
                    reason=raw["reason"],
                    source=Source(src["title"], src.get("url", ""), src.get("article", "")),
                    last_reviewed=date.fromisoformat(raw["last_reviewed"]),
                )
            )
    return tuple(out)


@cache
def concerns() -> tuple[Concern, ...]:
    """The shipped concern list (cached)."""
    return load_concerns()


def _latest(entries: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The entry with the latest date; on a tie the one written last."""
    best: dict[str, Any] | None = None
    for e in entries:
        if best is None or e["date"] >= best["date"]:
            best = e
    return best


def screen(case: Case) -> tuple[list[Block], list[str]]:
    """Screening blocks of a case, and warnings (e.g. blocks lifted by a senior review)."""
    data = case.data
    blocks: list[Block] = []
    vetting = _latest(list(data.get("vetting", [])))
    if vetting is None:
        blocks.append(
            Block(
                "screening.vetting-missing",
                "no vetting is recorded (case.yaml `vetting` is empty): an NGO must vet the person before any "
                "submission; blocked for senior review",
            )
        )
    elif vetting["outcome"] != "cleared":
        blocks.append(
            Block(
                "screening.vetting-not-cleared",
                f"the latest vetting (dated {vetting['date']}) has outcome {vetting['outcome']!r}, not 'cleared'; "
                "blocked for senior review",
            )
        )
    warnings: list[str] = []
    if vetting is not None:
        answer = (vetting.get("exclusion") or {}).get("answer")
        if answer in ("yes", "unknown"):
            blocks.append(
                Block(
                    "screening.exclusion",
                    f"the latest vetting (dated {vetting['date']}) answers the exclusion question "
                    f"{answer!r} (vetting[].exclusion.answer; Refugee Convention art. 1F, AsylG § 3(2), "
                    "US persecutor bar INA § 208(b)(2)(A)(i)); blocked for senior review",
                )
            )
        elif answer is None:
            warnings.append(
                f"screening: the latest vetting (dated {vetting['date']}) records no answer to the exclusion "
                "question (vetting[].exclusion.answer: no, yes or unknown); ask the vetting NGO"
            )
    military = data.get("military") or {}
    for concern in concerns():
        field = "role" if concern.group == "roles" else "unit"
        text = military.get(field)
        if isinstance(text, str) and text and concern.matches(text):
            blocks.append(
                Block(
                    f"screening.concern-{field}",
                    f"military.{field} matches the concern list entry {concern.id!r} ({concern.reason}); "
                    "blocked for senior review (see country_rules/screening/concerns.yaml)",
                )
            )
    since = vetting["date"] if vetting else ""
    review = _latest([r for r in data.get("review", []) if r["date"] >= since])
    if review is not None:
        if review["decision"] == "proceed":
            if blocks:
                codes = ", ".join(b.code for b in blocks)
                warnings.append(f"screening: senior review of {review['date']} decided to proceed; lifted: {codes}")
            blocks = []
        else:
            blocks.append(
                Block(
                    f"screening.review-{review['decision']}",
                    f"the senior review of {review['date']} decided {review['decision']!r}; "
                    "only a later review deciding 'proceed' lets the case go forward",
                )
            )
    return blocks, warnings
