"""Flow runs on a work pool: with DOSSIER_WORK_POOL and PREFECT_API_URL set, builds run on the pool's workers.

The face (CLI or case desk) creates a flow run of the deployment `deploy_to_pool` registered, follows
its state and task runs for progress, and reads the outcome back from the run's table artifact (ids
only: flow results are never persisted, they hold case data). A refusal comes back as the flow's
failure message, already free of personal data; the caller retells it with the caseworker's own ids.
Nothing is held only in this process: the run lives on the Prefect server and its packet in the store.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

from core.errors import ConfigError, DomainFailure, DossierError, StorageUnavailable, remote_error

__all__ = ["DEPLOYMENTS", "OUTCOME_DESCRIPTION", "configured", "describe", "outcome_from_rows", "outcome_rows", "run"]

Show = Callable[[str, float], None]

# The deployments `workflows.deploy.deploy_to_pool` registers, by flow name and deployment name.
DEPLOYMENTS = {
    "build": "build-packet/build",
    "advance": "advance-case/advance",
    "group": "build-group/group",
}
OUTCOME_DESCRIPTION = "Outcome of the run (ids only)"
# What a running task means for the person waiting (task names from workflows.flows).
_STEPS = {
    "fetch-case": ("fetch case", 0.05),
    "check-case": ("check rules", 0.15),
    "assemble-packet": ("assemble", 0.3),
    "assemble-member": ("assemble member packet", 0.3),
    "archive-packet": ("archive", 0.9),
    "assemble-group": ("assemble group letter", 0.8),
    "archive-group": ("archive group", 0.9),
    "move-stage": ("move to the next stage", 0.95),
}
POLL_SECONDS = 0.5


def configured() -> str | None:
    """The work pool builds go to, or None to run them here (or in the warm daemon)."""
    pool = os.environ.get("DOSSIER_WORK_POOL", "").strip()
    if not pool:
        return None
    if not os.environ.get("PREFECT_API_URL"):
        raise ConfigError(
            f"DOSSIER_WORK_POOL={pool} is set but PREFECT_API_URL is not",
            hint="set PREFECT_API_URL to the pool's Prefect server (deploy/dossier.env), or unset DOSSIER_WORK_POOL",
        )
    return pool


def _wait_limit(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a number of seconds", hint=f"e.g. {name}={default:.0f}") from None


def describe() -> str:
    """Where builds run, checked: the pool's deployments exist and how many of its workers are online."""
    from prefect.client.orchestration import get_client

    pool = configured()
    if pool is None:
        return "builds run in this process (no DOSSIER_WORK_POOL)"
    with get_client(sync_client=True) as client:
        for name in DEPLOYMENTS:
            _deployment(client, name, pool)
        online = _online(client, pool)
    return f"builds run on work pool {pool} ({online} worker(s) online)"


def _online(client: Any, pool: str) -> int:
    return sum(1 for w in client.read_workers_for_work_pool(pool) if str(w.status).upper().endswith("ONLINE"))


# --- the outcome, as a table artifact --------------------------------------------------------------


def outcome_rows(kind: str, outcome: dict[str, Any]) -> list[dict[str, Any]]:
    """A flow's outcome as flat table rows (one per member for a group), as the Prefect UI shows them."""
    if kind != "group":
        return [{k: v for k, v in outcome.items() if isinstance(v, str | int | None)}]
    return [
        {
            "group_id": outcome["group_id"],
            "case_id": case_id,
            "packet_id": packet_id,
            "pages": outcome["pages"],
            "object_key": outcome["object_key"],
        }
        for case_id, packet_id in outcome["members"].items()
    ]


def outcome_from_rows(kind: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The flow's outcome again, from its table rows."""
    if kind != "group":
        return dict(rows[0])
    first = rows[0]
    members = {r["case_id"]: r["packet_id"] for r in rows}
    keep = ("group_id", "object_key", "pages")
    return {k: first[k] for k in keep} | {"members": members}


# --- running on the pool ---------------------------------------------------------------------------


def run(name: str, params: dict[str, Any], show: Show) -> dict[str, Any]:
    """Create a flow run on the pool's deployment, follow it to its end, and return its outcome."""
    import httpx
    from prefect.client.orchestration import get_client
    from prefect.exceptions import PrefectHTTPStatusError

    pool = configured()
    if pool is None:
        raise ConfigError("no work pool configured", hint="set DOSSIER_WORK_POOL")
    if name not in DEPLOYMENTS:
        raise ConfigError(f"flow {name!r} does not run on a work pool", hint="unset DOSSIER_WORK_POOL for it")
    flow_run = None
    try:
        with get_client(sync_client=True) as client:
            deployment = _deployment(client, name, pool)
            flow_run = client.create_flow_run_from_deployment(deployment.id, parameters=params)
            show(f"queued on work pool {pool}", 0.01)
            return _follow(client, flow_run.id, name, pool, show)
    except (httpx.HTTPError, PrefectHTTPStatusError) as exc:
        where = os.environ.get("PREFECT_API_URL", "")
        if flow_run is None:
            raise StorageUnavailable(
                f"the Prefect server at {where} did not answer ({type(exc).__name__}); nothing was started",
                hint="check that the server runs and PREFECT_API_URL is right, then build again",
            ) from None
        raise StorageUnavailable(
            f"lost the Prefect server at {where} while following flow run {flow_run.id} ({type(exc).__name__})",
            hint="the build may still finish on its worker: look at the case's packets before building again",
        ) from None


def _deployment(client: Any, name: str, pool: str) -> Any:
    from prefect.exceptions import ObjectNotFound

    deploy_hint = f"register the flows on the pool once: dossier deploy --pool {pool}"
    try:
        deployment = client.read_deployment_by_name(DEPLOYMENTS[name])
    except ObjectNotFound:
        raise ConfigError(f"the Prefect server has no deployment {DEPLOYMENTS[name]}", hint=deploy_hint) from None
    if deployment.work_pool_name != pool:
        raise ConfigError(
            f"deployment {DEPLOYMENTS[name]} runs on {deployment.work_pool_name or 'no work pool'}, not on {pool}",
            hint=deploy_hint,
        )
    return deployment


def _follow(client: Any, run_id: UUID, name: str, pool: str, show: Show) -> dict[str, Any]:
    """Poll the run until it ends; a run no worker takes within DOSSIER_POOL_WAIT seconds is cancelled."""
    wait = _wait_limit("DOSSIER_POOL_WAIT", 600.0)
    limit = _wait_limit("DOSSIER_POOL_TIMEOUT", 3600.0)
    began = time.monotonic()
    last = ("", -1.0)
    while True:
        flow_run = client.read_flow_run(run_id)
        state = flow_run.state
        if state is not None and state.is_final():
            return _outcome(client, flow_run, name)
        elapsed = time.monotonic() - began
        if state is None or state.is_scheduled() or state.is_pending():
            if elapsed > wait and (state is None or state.is_scheduled()):
                _cancel(client, run_id, f"no worker of pool {pool} took the run within {wait:.0f} s")
                raise DomainFailure(
                    f"no worker of work pool {pool} took the build within {wait:.0f} s; nothing was archived",
                    hint=f"start a worker (prefect worker start --pool {pool}) and build again",
                )
            step = _waiting_step(client, pool, state)
        else:
            step = _running_step(client, run_id)
        if elapsed > limit:
            raise DomainFailure(
                f"the build on work pool {pool} did not end within {limit:.0f} s (flow run {run_id})",
                hint="see the run in the Prefect UI; building again is safe",
            )
        if step != last and step[1] >= last[1]:  # between two tasks the bar never goes back
            show(*step)
            last = step
        time.sleep(POLL_SECONDS)


def _waiting_step(client: Any, pool: str, state: Any) -> tuple[str, float]:
    if state is not None and state.is_pending():
        return (f"starting on a worker of {pool}", 0.03)
    if not _online(client, pool):
        return (f"waiting for a worker: none of work pool {pool} is online", 0.01)
    return (f"waiting for a free worker of {pool}", 0.02)


def _running_step(client: Any, run_id: UUID) -> tuple[str, float]:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
    # A task run is named after its task plus a counter ("archive-packet-0").
    running = [t.name.rsplit("-", 1)[0] for t in tasks if t.state is not None and t.state.is_running()]
    known = [_STEPS[n] for n in running if n in _STEPS]
    return max(known, key=lambda s: s[1]) if known else ("running on a worker", 0.04)


def _cancel(client: Any, run_id: UUID, why: str) -> None:
    from prefect.states import Cancelled

    client.set_flow_run_state(run_id, Cancelled(message=why), force=True)


def _outcome(client: Any, flow_run: Any, name: str) -> dict[str, Any]:
    """A completed run's outcome; a failed run's error (a refusal as its own class); a crash says so."""
    state = flow_run.state
    if state.is_completed():
        from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run.id]))
        )
        tables = [a for a in found if a.type == "table" and a.description == OUTCOME_DESCRIPTION]
        if not tables:
            raise DossierError(
                f"flow run {flow_run.id} completed without its outcome record",
                hint="the workers may run an older Dossier: update them and deploy the flows again",
            )
        import json

        data = tables[0].data
        return outcome_from_rows(name, json.loads(data) if isinstance(data, str) else data)
    if state.is_failed():
        raise remote_error(state.message or "", f"flow run {flow_run.id}")
    raise DomainFailure(
        f"flow run {flow_run.id} ended {state.name} on its worker; nothing half-written was kept",
        hint="build again: a re-run is safe (see the run in the Prefect UI for the worker's log)",
    )
