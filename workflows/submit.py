"""Submit builds to deployments on a Prefect server and wait for them: for scale-out runs and benchmarks."""

from __future__ import annotations

import time
from typing import Any

from workflows.prefect_env import configure_prefect

configure_prefect()

from prefect.client.orchestration import get_client  # noqa: E402
from prefect.deployments import run_deployment  # noqa: E402

from core.errors import DossierError  # noqa: E402


def submit(deployment: str, parameter_sets: list[dict[str, Any]]) -> list[str]:
    """Create one flow run per parameter set without waiting (a worker or `serve` picks them up)."""
    runs = [run_deployment(name=deployment, parameters=params, timeout=0) for params in parameter_sets]
    return [str(r.id) for r in runs]  # type: ignore[union-attr]


def wait_for(run_ids: list[str], *, timeout: float = 600.0, poll: float = 0.5) -> dict[str, str]:
    """Wait until every run is final; returns run id -> final state name (Completed, Failed, ...)."""
    from uuid import UUID

    deadline = time.monotonic() + timeout
    final: dict[str, str] = {}
    with get_client(sync_client=True) as client:
        while time.monotonic() < deadline:
            for rid in run_ids:
                if rid in final:
                    continue
                run = client.read_flow_run(UUID(rid))
                if run.state is not None and run.state.is_final():
                    final[rid] = str(run.state.name)
            if len(final) == len(run_ids):
                return final
            time.sleep(poll)
    missing = len(run_ids) - len(final)
    raise DossierError(f"{missing} flow run(s) not finished within {timeout:.0f} s", hint="is a worker running?")
