"""Prefect flows that read like the process: fetch, check, assemble, archive, advance.

Flows take opaque ids only. Tasks are thin wrappers over workflows.pipeline and storage, never
persist or cache their results (they hold case data), and turn unexpected exceptions into
id-only messages so nothing personal reaches Prefect's database or logs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import cache
from typing import Annotated, Any, ParamSpec, TypeVar

from pydantic import Field

from workflows.prefect_env import configure_prefect

configure_prefect()

from prefect import flow, get_run_logger, task  # noqa: E402
from prefect.artifacts import create_table_artifact  # noqa: E402
from prefect.cache_policies import NO_CACHE  # noqa: E402
from prefect.task_runners import ThreadPoolTaskRunner  # noqa: E402
from prefect.utilities.annotations import unmapped  # noqa: E402

import country_rules  # noqa: E402
from casefile import LoadedCase  # noqa: E402
from core.errors import DossierError, StorageUnavailable  # noqa: E402
from core.ids import CASE_ID_PATTERN, check_case_id  # noqa: E402
from core.settings import load_settings  # noqa: E402
from packets import BuiltGroup, BuiltPacket, GroupMember  # noqa: E402
from storage import Vault  # noqa: E402
from workflows import pipeline, pool  # noqa: E402
from workflows.pipeline import BuildOutcome  # noqa: E402
from workflows.progress import report  # noqa: E402

# A case id as a flow parameter: its pattern is in the deployment's parameter schema, so a name or a
# mistyped id typed into the Prefect UI is refused when the run is created, before anything is stored.
CaseId = Annotated[str, Field(pattern=CASE_ID_PATTERN, description="The opaque case id, e.g. K7Q2-M9XD")]

P = ParamSpec("P")
R = TypeVar("R")

# A store restart (SeaweedFS takes 3-12 s to stop) plus a 20 s outage must be carried by the flows alone.
_NETWORK_RETRY_DELAYS = [2, 8, 30]
# Cases per revalidation task: one task per case made Prefect's bookkeeping (~40 ms a task run on
# SQLite) cost more than the evaluation itself (~1.5 ms a case).
REVALIDATE_BATCH = 10


def _retry_on_unavailable(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only when the store (or converter) was unreachable, never on a domain refusal."""
    try:
        state.result()
    except StorageUnavailable:
        return True
    except Exception:  # noqa: BLE001 - any other failure is final
        return False
    return False


@cache
def vault() -> Vault:
    """One vault per process, from DOSSIER_HOME / DOSSIER_STORE."""
    return Vault.from_env()


@contextmanager
def id_only_errors(step: str, case_id: str) -> Iterator[None]:
    """Re-raise unexpected exceptions with the case id and step only: their text may hold case data.

    Our own errors go on with their free-form ids (evidence, person) replaced by positions: Prefect
    stores every exception text, and the faces retell refusals with the caseworker's ids.
    """
    try:
        yield
    except DossierError as exc:
        safe = exc.for_logs()
        if safe is exc:
            raise
        raise safe from None
    except Exception as exc:  # noqa: BLE001 - the point is to catch everything unexpected
        raise DossierError(
            f"case {case_id}: internal error during {step} ({type(exc).__name__})",
            hint="re-run with DOSSIER_DEBUG=1 outside Prefect to see details, and report it",
        ) from None


def _task(name: str, *, network: bool = False) -> Callable[[Callable[P, R]], Any]:
    """Our task defaults: no cache, no persisted result, retries only for network/converter steps."""
    options: dict[str, Any] = {"name": name, "cache_policy": NO_CACHE, "persist_result": False}
    if network:
        options |= {
            "retries": len(_NETWORK_RETRY_DELAYS),
            "retry_delay_seconds": _NETWORK_RETRY_DELAYS,
            "retry_condition_fn": _retry_on_unavailable,
        }
    return task(**options)


@_task("fetch-case", network=True)
def fetch_case(case_id: str) -> LoadedCase:
    """Load and decrypt the case from the store."""
    with id_only_errors("fetch", case_id):
        report("fetch case", 0.05)
        return vault().load_case(case_id)


@_task("check-case")
def check_case(loaded: LoadedCase, today: date) -> country_rules.Checklist:
    """Evaluate the country rules for the case's current stage."""
    with id_only_errors("check", loaded.case.case_id):
        report("check rules", 0.15)
        return pipeline.evaluate_case(loaded, today)


@_task("assemble-packet", network=True)
def assemble_packet(loaded: LoadedCase, checklist: country_rules.Checklist, actor: str, today: date) -> BuiltPacket:
    """Pre-flight, letters, bundle and bag, all in memory."""
    with id_only_errors("assemble", loaded.case.case_id):
        return pipeline.assemble(loaded, checklist, actor=actor, today=today)


@_task("archive-packet", network=True)
def archive_packet(case_id: str, built: BuiltPacket, actor: str) -> str:
    """Encrypt and store the bag, then append it to the audit chain (idempotent)."""
    with id_only_errors("archive", case_id):
        report("archive", 0.9)
        return vault().archive_packet(case_id, built.packet_id, built.bag_zip, actor)


@_task("move-stage", network=True)
def move_stage(case_id: str, stage: str, actor: str) -> None:
    """Record the case's new stage (and the move in the audit log)."""
    with id_only_errors("advance", case_id):
        vault().set_stage(case_id, stage, actor)


def publish_outcome(kind: str, outcome: dict[str, Any]) -> None:
    """The outcome (ids only) as the run's table artifact: shown on the run in the Prefect UI, and read
    back by a face that started the run on a work pool (flow results are not persisted)."""
    create_table_artifact(table=pool.outcome_rows(kind, outcome), description=pool.OUTCOME_DESCRIPTION)


def _actor(requested_by: str | None) -> str:
    return requested_by or load_settings().actor


@flow(name="build-packet", flow_run_name="build-{case_id}", validate_parameters=True)
def build_packet(case_id: CaseId, requested_by: str | None = None, today: date | None = None) -> BuildOutcome:
    """Build and archive the packet for a case's current stage.

    Args:
        case_id: The opaque case id printed by `dossier case import`, e.g. K7Q2-M9XD. Never a name.
        requested_by: Staff id recorded in the audit log and manifest (default: the worker's login).
        today: Evaluate validity windows as of this date instead of today (the case's submission date wins).
    """
    check_case_id(case_id)
    logger = get_run_logger()
    actor = _actor(requested_by)
    on = today or date.today()
    loaded = fetch_case(case_id)
    checklist = check_case(loaded, on)
    built = assemble_packet(loaded, checklist, actor, on)
    key = archive_packet(case_id, built, actor)
    stage = checklist.to_json()["stage"]
    logger.info("case %s: packet %s archived for stage %s (%d pages)", case_id, built.packet_id, stage, built.pages)
    outcome = BuildOutcome(case_id=case_id, packet_id=built.packet_id, object_key=key, stage=stage, pages=built.pages)
    publish_outcome("build", dataclasses.asdict(outcome))
    report("done", 1.0)
    return outcome


@flow(name="advance-case", flow_run_name="advance-{case_id}", validate_parameters=True)
def advance_case(case_id: CaseId, requested_by: str | None = None, today: date | None = None) -> dict[str, str | None]:
    """Build and archive the current stage's packet, then move the case to its next stage.

    Args:
        case_id: The opaque case id, e.g. K7Q2-M9XD. Refused with the reasons when the checklist is not met.
        requested_by: Staff id recorded in the audit log (default: the worker's login).
        today: Evaluate as of this date instead of today.
    """
    check_case_id(case_id)
    logger = get_run_logger()
    actor = _actor(requested_by)
    outcome = build_packet(case_id, requested_by=actor, today=today)
    case = fetch_case(case_id).case
    following = country_rules.next_stage(case.country, case.procedure, outcome.stage)
    if following is None:
        logger.info("case %s: stage %s is the last of its procedure; packet archived", case_id, outcome.stage)
    else:
        move_stage(case_id, following, actor)
        logger.info("case %s advanced from %s to %s", case_id, outcome.stage, following)
    moved = {"case_id": case_id, "packet_id": outcome.packet_id, "from_stage": outcome.stage, "to_stage": following}
    publish_outcome("advance", moved)
    return moved


# --- revalidation: "this rule changed: whom does it affect?" -------------------------------


@_task("list-cases", network=True)
def list_case_ids(country: str | None, procedure: str | None) -> list[str]:
    """Ids of the stored cases matching the filter (the listing holds no personal data)."""
    return [
        c["case_id"]
        for c in vault().list_cases()
        if (country is None or c["country"] == country) and (procedure is None or c["procedure"] == procedure)
    ]


@_task("revalidate-cases", network=True)
def revalidate_batch(case_ids: list[str], today: date, actor: str) -> list[dict[str, Any]]:
    """Re-evaluate a few cases under the current rules and record whose status changed."""
    results = []
    for case_id in case_ids:
        with id_only_errors("revalidate", case_id):
            results.append(pipeline.revalidate_case(vault(), case_id, today, actor))
    return results


def batches(ids: list[str], size: int = REVALIDATE_BATCH) -> list[list[str]]:
    """Consecutive slices of at most `size` ids (one task each: fewer task runs for Prefect to record)."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]


@flow(
    name="revalidate",
    flow_run_name="revalidate",
    validate_parameters=True,
    task_runner=ThreadPoolTaskRunner(max_workers=4),  # type: ignore[arg-type]
)
def revalidate(
    country: str | None = None,
    procedure: str | None = None,
    today: date | None = None,
    requested_by: str | None = None,
) -> dict[str, Any]:
    """Re-evaluate every stored case against the current rules and report whose status changed.

    Args:
        country: Only cases of this country rules package (fr, de, us...); all when empty.
        procedure: Only cases of this procedure (e.g. asylum-visa); all when empty.
        today: Evaluate as of this date instead of today.
        requested_by: Staff id recorded in the audit log (default: the worker's login).
    """
    logger = get_run_logger()
    on = today or date.today()
    actor = _actor(requested_by)
    ids = list_case_ids(country, procedure)
    batched = revalidate_batch.map(batches(ids), today=unmapped(on), actor=unmapped(actor))
    results = [r for f in batched for r in f.result()]
    changed = [r for r in results if r["changed"]]
    logger.info("revalidated %d case(s): %d changed status", len(results), len(changed))
    return {"checked": len(results), "changed": changed, "ready": sum(1 for r in results if r["after"]["ready"])}


# --- group submissions: several cases submitted together as one -----------------------------


@_task("assemble-member", network=True)
def assemble_member(loaded: LoadedCase, checklist: country_rules.Checklist, actor: str, today: date) -> GroupMember:
    """One member's packet, keeping its inputs for the group letter."""
    with id_only_errors("assemble", loaded.case.case_id):
        return pipeline.assemble_member(loaded, checklist, actor=actor, today=today)


@_task("assemble-group", network=True)
def assemble_group(members: list[GroupMember], actor: str) -> BuiltGroup:
    """The group letter and index over the member packets."""
    with id_only_errors("group", ",".join(m.inputs.case.case_id for m in members)):
        return pipeline.assemble_group(members, actor=actor)


@_task("archive-group", network=True)
def archive_group(group: BuiltGroup, case_ids: list[str], actor: str) -> str:
    """Encrypt and store the group bag for its members and record it in the audit chain."""
    with id_only_errors("archive", group.group_id):
        return vault().archive_group(group.group_id, case_ids, group.bag_zip, actor)


@flow(name="build-group", flow_run_name="build-group", validate_parameters=True)
def build_group_packet(
    case_ids: list[CaseId], requested_by: str | None = None, today: date | None = None
) -> dict[str, Any]:
    """Build every member's packet, then one group submission (group letter + index), archived as one.

    Args:
        case_ids: The opaque case ids of the members, e.g. ["K7Q2-M9XD", "R2D4-8HJK"].
        requested_by: Staff id recorded in the audit log (default: the worker's login).
        today: Evaluate as of this date instead of today.
    """
    for case_id in case_ids:
        check_case_id(case_id)
    logger = get_run_logger()
    actor = _actor(requested_by)
    on = today or date.today()
    members = []
    for n, case_id in enumerate(case_ids):
        report(f"member {n + 1}/{len(case_ids)}", 0.8 * n / len(case_ids))
        loaded = fetch_case(case_id)
        member = assemble_member(loaded, check_case(loaded, on), actor, on)
        archive_packet(case_id, member.packet, actor)
        members.append(member)
    group = assemble_group(members, actor)
    key = archive_group(group, case_ids, actor)
    logger.info("group %s archived with %d member packet(s)", group.group_id, len(members))
    outcome = {
        "group_id": group.group_id,
        "object_key": key,
        "pages": group.pages,
        "members": {m.inputs.case.case_id: m.packet.packet_id for m in members},
    }
    publish_outcome("group", outcome)
    report("done", 1.0)
    return outcome
