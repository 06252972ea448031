"""Legal deadlines of a case, from the rules data, plus documents and host stays that expire."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta

from casefile.model import Case
from country_rules.model import DeadlineRule, in_force


@dataclass(frozen=True)
class Deadline:
    """A date by which something must happen; `what` never names a person."""

    case_id: str
    due: date
    what: str
    source: str

    def to_json(self) -> dict[str, Any]:
        return {"case_id": self.case_id, "due": self.due.isoformat(), "what": self.what, "source": self.source}


def due_date(rule: DeadlineRule, start: date) -> date:
    """The last day of a time limit counted from its starting event (months as calendar months)."""
    return start + relativedelta(months=rule.months, weeks=rule.weeks, days=rule.days)


def _source_words(rule: DeadlineRule) -> str:
    s = rule.source
    return " - ".join(x for x in (s.title, s.article, s.url) if x)


def deadlines(case: Case) -> list[Deadline]:
    """Every deadline of a case, sorted by date: legal time limits, expiring documents and host stay."""
    from country_rules.loading import procedure_of
    from country_rules.predicates import Facts, check

    out: list[Deadline] = []
    procedure = procedure_of(case.country, case.procedure)
    stage = case.stage or procedure.stages[0].id
    events = dict(case.data.get("events") or {})
    arrived = (case.data.get("location") or {}).get("arrived")
    if arrived and "host_arrival" not in events:
        events["host_arrival"] = arrived
    for rule in procedure.deadlines:
        start_text = events.get(rule.event)
        if not start_text or (rule.stages and stage not in rule.stages):
            continue
        start = date.fromisoformat(str(start_text))
        if not in_force(rule.valid_from, rule.valid_to, start):
            continue
        facts = Facts(case=case, person=case.applicant, on=start)
        if not all(check(expr, facts) for expr in rule.when):
            continue
        out.append(Deadline(case.case_id, due_date(rule, start), rule.what, _source_words(rule)))
    for e in case.evidence:
        if e.expires and not e.is_translation:
            out.append(Deadline(case.case_id, e.expires, f"evidence {e.id} ({e.kind}) expires", "evidence.expires"))
    expires = (case.data.get("location") or {}).get("status_expires")
    if expires:
        out.append(
            Deadline(
                case.case_id, date.fromisoformat(expires), "host-country stay status expires", "location.status_expires"
            )
        )
    out.sort(key=lambda d: (d.due, d.what))
    return out
