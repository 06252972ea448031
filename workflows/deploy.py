"""The flows as Prefect deployments: served from this process (`dossier serve`) or sent to a work pool."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from core.errors import BadInput, ConfigError
from workflows.flows import advance_case, build_group_packet, build_packet, revalidate

REPO = Path(__file__).resolve().parent.parent
TAGS = ["dossier"]

_DESCRIPTIONS = {
    "build": "Build and archive the packet for a case's current stage. Enter the case id only (e.g. K7Q2-M9XD).",
    "advance": "Build and archive the current stage's packet, then move the case to its next stage.",
    "revalidate": "Re-check every stored case against the current rules; lists the cases whose status changed.",
    "group": "Build every member's packet, then one group submission. Enter the members' case ids only.",
}
_FLOWS: dict[str, Any] = {
    "build": build_packet,
    "advance": advance_case,
    "revalidate": revalidate,
    "group": build_group_packet,
}
ENTRYPOINTS = {
    "build": "workflows/flows.py:build_packet",
    "advance": "workflows/flows.py:advance_case",
    "revalidate": "workflows/flows.py:revalidate",
    "group": "workflows/flows.py:build_group_packet",
}


def _require_pool(pool: str) -> None:
    """A clear error, not Prefect's 404, when the work pool does not exist yet."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            raise ConfigError(
                f"the Prefect server has no work pool {pool}",
                hint=f"create it once: prefect work-pool create {pool} --type process",
            ) from None


def served_deployments() -> list[Any]:
    """Deployments for `serve`: runs execute in subprocesses of the serving process."""
    return [flow.to_deployment(name=name, description=_DESCRIPTIONS[name], tags=TAGS) for name, flow in _FLOWS.items()]


def serve_flows(limit: int = 2) -> None:
    """Serve build, advance and revalidate so caseworkers can start them from the Prefect UI form."""
    from prefect import serve

    serve(*served_deployments(), limit=limit, print_starting_message=True)


def warm_command(source: Path = REPO) -> str:
    """The flow-run command of a warm worker: a stdlib-only client of the worker's fork server."""
    return f"{sys.executable} -S {source / 'workflows' / 'forkrun.py'}"


def deploy_to_pool(pool: str, *, source: Path | None = None, warm: bool = True) -> dict[str, str]:
    """Register the flows on a process work pool; any worker that sees `source` and the store can run them.

    With `warm`, each flow run starts through workflows/forkrun.py (a fork of an already-imported
    Python, see workflows/forkserver.py) instead of a new `python -m prefect.engine`; the Python at
    sys.executable and `source` must be at the same paths on every worker (e.g. /opt/dossier).
    """
    from prefect import flow as prefect_flow

    if not os.environ.get("PREFECT_API_URL"):
        raise ConfigError(
            "PREFECT_API_URL is not set", hint="point it at the Prefect server, e.g. http://server:4200/api"
        )
    source = (source or REPO).resolve()
    if not (source / "workflows" / "flows.py").is_file():
        raise BadInput(f"{source} is not a Dossier checkout", hint="give --source the folder holding workflows/")
    _require_pool(pool)
    job_variables = {"command": warm_command(source)} if warm else {}
    ids: dict[str, str] = {}
    for name, entrypoint in ENTRYPOINTS.items():
        remote = prefect_flow.from_source(source=str(source), entrypoint=entrypoint)
        deployment_id = remote.deploy(  # type: ignore[union-attr]
            name=name,
            work_pool_name=pool,
            description=_DESCRIPTIONS[name],
            tags=TAGS,
            print_next_steps=False,
            job_variables=job_variables,
        )
        ids[name] = str(deployment_id)
    return ids
