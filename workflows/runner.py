"""How a face starts a flow: through the warm daemon when there is one, else in this process.

The result is plain JSON data either way; progress arrives through `show(step, fraction)`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

Show = Callable[[str, float], None]


def _quiet(step: str, fraction: float) -> None:
    return None


def run_flow(
    name: str,
    params: dict[str, Any],
    *,
    show: Show | None = None,
    in_process: bool = False,
    note: Show | None = None,
) -> Any:
    """Run one flow (build, advance, revalidate, group); `note` hears why the daemon was not used.

    With a work pool configured (DOSSIER_WORK_POOL and PREFECT_API_URL), builds run on its workers;
    revalidation, a batch over every case, runs where it is started.
    """
    from workflows import daemon_client, pool

    show = show or _quiet
    if name in pool.DEPLOYMENTS and pool.configured():
        return pool.run(name, params, show)
    if daemon_client.enabled() and not in_process:
        try:
            return daemon_client.run(name, params, show)
        except daemon_client.DaemonUnavailable as exc:
            if note is not None:
                note(f"flow daemon unavailable ({exc}); running in this process", 0.0)
    return run_here(name, params, show)


def start_local_server() -> None:
    """Start Prefect's temporary server now and record it, so a kill of this process cannot orphan it.

    Prefect starts the server as a child process; if this process is killed outright the server would
    live on (about 190 MB, parent 1). Its pid is recorded beside the daemons' records, and the next
    daemon, in-process run or `dossier daemon-stop` stops it.
    """
    import os

    from workflows import daemon_client
    from workflows.prefect_env import prepare_prefect_home

    try:
        daemon_client.sweep_orphans()
    except daemon_client.DaemonUnavailable:
        return  # no private runtime folder: nothing recorded, nothing to sweep
    if os.environ.get("PREFECT_API_URL") or _recorded[0]:
        return
    prepare_prefect_home()
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        client.api_healthcheck()
    daemon_client.record_in_process_children()
    _recorded[0] = True


_recorded = [False]


def stop_local_server() -> None:
    """Stop the temporary Prefect server `start_local_server` started (a web app's shutdown calls this)."""
    from workflows import daemon_client

    if _recorded[0]:
        with contextlib.suppress(daemon_client.DaemonUnavailable):
            daemon_client.stop_own_children()
        _recorded[0] = False


def run_here(name: str, params: dict[str, Any], show: Show | None = None) -> Any:
    """Run one flow inside this process (the web app keeps Prefect warm this way)."""
    from workflows.local import run_local
    from workflows.progress import subscribe

    start_local_server()
    unsubscribe = subscribe(show or _quiet)
    try:
        return run_local(name, params)
    finally:
        unsubscribe()
