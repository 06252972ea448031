"""`make scaleout`, short: PostgreSQL, a Prefect server on it, two process workers, SeaweedFS and the case
desk started on this machine; a few cases built through the deployments; archive, audit and leaks checked;
everything stopped afterwards."""

from __future__ import annotations

import os
from pathlib import Path

from scaleout.batch import plan_batch
from scaleout.run import run_batch
from scaleout.stack import running_stack


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"


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
    assert [p for p in pids if _alive(p)] == []
    assert [r for r in roots if r.exists()] == []
