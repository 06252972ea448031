"""What falls due across all stored cases, as a table and as an iCalendar file caseworkers import."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

import icalendar

import country_rules
from core.hashing import sha256_hex

if TYPE_CHECKING:
    from storage import Vault


@dataclass(frozen=True)
class Due:
    """One dated obligation of one case; `what` and `source` carry no personal data."""

    case_id: str
    due: date
    what: str
    source: str
    person_label: str | None = None  # filled only when names were asked for explicitly

    def to_json(self) -> dict[str, str | None]:
        return {
            "case_id": self.case_id,
            "due": self.due.isoformat(),
            "what": self.what,
            "source": self.source,
            "person": self.person_label,
        }


def collect(vault: Vault | None = None, *, with_names: bool = False, horizon_from: date | None = None) -> list[Due]:
    """Deadlines of every stored case, soonest first; names only when explicitly requested.

    Only case records are decrypted (dates and facts), never evidence files.
    """
    from workflows.cases import vault as default_vault

    items: list[Due] = []
    for case, _state, _fp in (vault or default_vault()).records():
        label = f"{case.applicant.given_name} {case.applicant.family_name}" if with_names else None
        for d in country_rules.deadlines(case):
            if horizon_from is None or d.due >= horizon_from:
                items.append(Due(case.case_id, d.due, d.what, d.source, label))
    return sorted(items, key=lambda d: (d.due, d.case_id, d.what))


def to_ics(items: list[Due], *, stamp: datetime | None = None) -> bytes:
    """An iCalendar file with one all-day event per deadline; titles use case ids unless names were asked for."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Dossier//deadlines//EN")
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Dossier deadlines")
    now = stamp or datetime.now(UTC)
    for item in items:
        event = icalendar.Event()
        who = item.person_label or f"case {item.case_id}"
        event.add("summary", f"{who}: {item.what}")
        event.add("dtstart", item.due)
        event.add("dtend", item.due + timedelta(days=1))
        event.add("dtstamp", now)
        event.add("description", f"Case {item.case_id}. Legal basis: {item.source}")
        # Stable across runs, so re-importing the file updates events instead of duplicating them.
        event.add("uid", f"{item.case_id}-{sha256_hex(item.what.encode())[:12]}@dossier")
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"case {item.case_id}: {item.what}")
        alarm.add("trigger", timedelta(days=-3))
        event.add_component(alarm)
        cal.add_component(event)
    return cal.to_ical()
