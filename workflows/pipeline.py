"""The build pipeline as plain functions: what the Prefect flows call, and what tests call directly."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import country_rules
from casefile import LoadedCase
from core.errors import BadInput, EvidenceRejected, NotReady
from core.settings import TOOL_VERSION
from country_rules.letters import letter_context
from packets import (
    BuiltGroup,
    BuiltPacket,
    GroupMember,
    LetterConverter,
    LetterSpec,
    PacketInputs,
    build_group,
    build_packet,
    packet_id_for,
    preflight,
)
from packets import text_layer_warnings as _text_layer_warnings
from workflows.progress import report

if TYPE_CHECKING:
    from storage import Vault

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"


@dataclass(frozen=True)
class BuildOutcome:
    """What one build produced (ids and hashes only: safe to log and to return from a flow)."""

    case_id: str
    packet_id: str
    object_key: str
    stage: str
    pages: int


def evaluate_case(loaded: LoadedCase, today: date) -> country_rules.Checklist:
    """The checklist for the case's current stage, with scan warnings from the evidence itself."""
    checklist = country_rules.evaluate(loaded.case, today)
    scans = tuple(_text_layer_warnings(loaded.case, loaded.files))
    return replace(checklist, warnings=checklist.warnings + scans) if scans else checklist


def status_summary(checklist: country_rules.Checklist) -> dict[str, object]:
    """The part of a checklist that decides readiness: ids and statuses only, no personal data."""
    data = checklist.to_json()
    return {
        "stage": data["stage"],
        "ready": data["ready"],
        "rules_version": data["rules_version"],
        "blocks": sorted(b["code"] for b in data["blocks"]),
        "not_met": sorted(
            f"{i['person']}:{i['requirement']}:{i['status']}"
            for i in data["items"]
            if i["status"] != "met" and i.get("blocking", True)
        ),
    }


def status_key(summary: dict[str, object]) -> tuple[object, ...]:
    """What counts as a change of status (a new rules version alone is not one)."""
    return (summary["stage"], summary["ready"], summary["blocks"], summary["not_met"])


def revalidate_case(vault: Vault, case_id: str, today: date, actor: str) -> dict[str, Any]:
    """Re-evaluate one stored case under the current rules; record its status when new or changed.

    Only the case record is decrypted: readiness depends on the case's facts and the rules, not on
    the evidence bytes (scan warnings are not part of the status), so 200 cases take seconds.
    """
    case, before = vault.case_and_status(case_id)
    try:
        status = status_summary(country_rules.evaluate(case, today))
    except BadInput as exc:  # e.g. no rule in force on its date: reported for this case, the others go on
        status = {"stage": case.stage, "ready": False, "rules_version": "", "blocks": ["rules.error"], "not_met": []}
        status["error"] = exc.message
    changed = before is not None and status_key(before) != status_key(status)
    if before is None or changed:
        vault.record_status(case_id, status, actor)
    return {"case_id": case_id, "changed": changed, "first_check": before is None, "before": before, "after": status}


def ensure_buildable(loaded: LoadedCase, checklist: country_rules.Checklist) -> None:
    """Refuse bad evidence (exit 2) before an unmet checklist (exit 1), listing every problem."""
    problems = preflight(loaded.case, loaded.files)
    error: EvidenceRejected | NotReady | None = None
    if problems:
        error = EvidenceRejected(loaded.case.case_id, problems)
    elif not checklist.ready:
        error = NotReady(not_ready_message(checklist), hint="run `dossier check` for the full checklist")
    if error is not None:
        error.redacted = loaded.case.redact_ids(error.message)
        raise error


def block_label(code: str) -> str:
    """How a block reads: a suspended route is not a matter for senior review."""
    return "route suspended" if code.startswith("rules.") else "blocked for senior review"


def not_ready_message(checklist: country_rules.Checklist) -> str:
    """One readable paragraph saying why a case cannot be built or advanced (ids and kinds only)."""
    data = checklist.to_json()
    lines = [f"case {data['case_id']}: not ready for stage {data['stage']}:"]
    lines += [f"  - {block_label(b['code'])}: {b['reason']}" for b in data["blocks"]]
    for item in data["items"]:
        if item["status"] != "met" and item.get("blocking", True):
            lines.append(f"  - {item['person']}: {item['requirement']} is {item['status']}: {item['reason']}")
    return "\n".join(lines)


def packet_inputs(loaded: LoadedCase, checklist: country_rules.Checklist, *, actor: str, today: date) -> PacketInputs:
    """Everything a packet is made from; the packet id is derived from these inputs."""
    case = loaded.case
    data = checklist.to_json()
    on = case.effective_date(today)
    letters = [
        LetterSpec(template=TEMPLATES_DIR / rel, output_name=Path(rel).stem)
        for rel in country_rules.stage_letters(case.country, case.procedure, data["stage"], on)
    ]
    inputs = PacketInputs(
        case=case,
        files=loaded.files,
        checklist=data,
        letters=letters,
        letter_context={},
        rules_version=country_rules.rules_version(case.country),
        rules_in_force=country_rules.rules_in_force(case.country, case.procedure, data["stage"], on),
        builder=actor,
        tool_version=TOOL_VERSION,
    )
    # Letters are dated by the evaluation date (the planned submission date when set), not the wall clock,
    # so the same inputs give the same bytes on any day.
    context = letter_context(case, checklist, packet_id=packet_id_for(inputs), today=checklist.evaluated_for)
    return replace(inputs, letter_context=context)


def assemble(
    loaded: LoadedCase,
    checklist: country_rules.Checklist,
    *,
    actor: str,
    today: date,
    converter: LetterConverter | None = None,
) -> BuiltPacket:
    """Pre-flight, then render letters and bundle the packet (nothing is stored here)."""
    return assemble_member(loaded, checklist, actor=actor, today=today, converter=converter).packet


def assemble_member(
    loaded: LoadedCase,
    checklist: country_rules.Checklist,
    *,
    actor: str,
    today: date,
    converter: LetterConverter | None = None,
) -> GroupMember:
    """Like assemble, keeping the inputs beside the packet (a group letter needs both)."""
    ensure_buildable(loaded, checklist)
    report("letters and bundle", 0.3)
    inputs = packet_inputs(loaded, checklist, actor=actor, today=today)
    return GroupMember(inputs=inputs, packet=build_packet(inputs, converter=converter))


def assemble_group(members: list[GroupMember], *, actor: str) -> BuiltGroup:
    """The group cover letter and index over already built member packets (one submission)."""
    report("group letter and index", 0.85)
    return build_group(members, builder=actor, tool_version=TOOL_VERSION)
