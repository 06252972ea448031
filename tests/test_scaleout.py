"""`make scaleout`, short: PostgreSQL, a Prefect server on it, two process workers, SeaweedFS and the case
desk started on this machine; a few cases built through the deployments, one more built (and one refused)
from the case desk on the same work pool; archive, audit and leaks checked; everything stopped afterwards."""

from __future__ import annotations

import os
import re
from pathlib import Path

from scaleout.batch import plan_batch
from scaleout.desk import flow_run_pool
from scaleout.run import run_batch
from scaleout.stack import POOL, Stack, running_stack
from tests.clirun import dossier


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _job_variables(stack: Stack, deployment: str) -> dict[str, object]:
    from prefect.client.orchestration import get_client

    with stack.api(), get_client(sync_client=True) as client:
        return dict(client.read_deployment_by_name(deployment).job_variables or {})


def _newest_state(stack: Stack, case_id: str) -> str:
    """The state of the newest flow run created for a case's build deployment (named once it runs)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import FlowRunSort

    with stack.api(), get_client(sync_client=True) as client:
        (run,) = client.read_flow_runs(sort=FlowRunSort.EXPECTED_START_TIME_DESC, limit=1)
        assert run.parameters.get("case_id") == case_id
        return str(run.state.name if run.state else "")


def test_two_workers_on_postgresql_build_a_batch_without_leaks() -> None:
    with running_stack(workers=2) as stack:
        assert stack.pg is not None and stack.server is not None and stack.store is not None
        pids = [stack.pg.process.pid, stack.server.process.pid, stack.store.server.pid]  # type: ignore[union-attr]
        pids += [w.process.pid for w in stack.workers]
        if stack.web is not None:
            pids.append(stack.web.pid)
        roots = [stack.root, stack.pg.root]
        cases = plan_batch(stack.root / "cases", 4, not_ready_every=4)  # a group of two, one single, one not ready
        outcome = run_batch(stack, cases, stack.root / "cases", timeout=600)
        print(outcome.line())
        assert outcome.problems == [], outcome.problems
        assert outcome.leaks == [], outcome.leaks
        assert outcome.builds >= 1 and outcome.workers == 2
        assert (stack.root / "prefect-pg_dump.sql").stat().st_size > 10_000  # the dump that was searched is real
        assert any(c.checked_ready is False for c in cases)  # the refused case was refused, not skipped
        # The CLI face with the same setting: `dossier build` runs on the pool too; a refusal is retold in full.
        pool_env = stack.office_env() | {"DOSSIER_WORK_POOL": POOL}
        single = next(c for c in cases if c.checked_ready and not c.group)
        built = dossier("build", single.case_id, env=pool_env, timeout=600)
        assert built.code == 0, built.stderr
        assert re.search(r"P-[0-9A-Z]{12}", built.stdout), built.stdout
        assert flow_run_pool(stack, single.case_id) == POOL  # Prefect recorded the run on the pool, not local
        refused = next(c for c in cases if not c.checked_ready)
        no = dossier("build", refused.case_id, env=pool_env, timeout=600)
        assert no.code == 1, no.stderr
        assert f"case {refused.case_id}: not ready" in no.stderr and "identity-document is missing" in no.stderr
        wrong = dossier("build", single.case_id, env=pool_env | {"DOSSIER_WORK_POOL": "no-such-pool"})
        assert wrong.code == 2 and "dossier deploy --pool no-such-pool" in wrong.stderr, wrong.stderr
        missing = dossier("deploy", "--pool", "no-such-pool", env=pool_env)
        assert missing.code == 2 and "prefect work-pool create no-such-pool" in missing.stderr, missing.stderr
        # Deployed again cold: the runs' command is Prefect's own again (warm: the fork-server client).
        assert "forkrun.py" in str(_job_variables(stack, "build-packet/build"))
        cold = dossier("deploy", "--pool", POOL, "--source", str(stack.release), "--cold", env=pool_env)
        assert cold.code == 0 and "cold starts" in cold.stdout, cold.stderr
        assert "forkrun.py" not in str(_job_variables(stack, "build-packet/build"))
        # No worker left: a build waits DOSSIER_POOL_WAIT seconds, then its run is cancelled and it says so.
        for worker in stack.workers:
            worker.stop()
        waited = dossier("build", single.case_id, env=pool_env | {"DOSSIER_POOL_WAIT": "3"}, timeout=300)
        assert waited.code == 1, waited.stderr
        assert f"no worker of work pool {POOL} took the build within 3 s; nothing was archived" in waited.stderr
        assert _newest_state(stack, single.case_id) == "Cancelled"
    assert [p for p in pids if _alive(p)] == []
    assert [r for r in roots if r.exists()] == []
