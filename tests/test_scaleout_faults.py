"""Faults across machines during a batch on the scale-out set: a worker killed mid-build, PostgreSQL
restarted, the object store unreachable for 20 s. After each, every packet is archived exactly once,
the audit chain verifies and nothing personal leaked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scaleout import faults
from scaleout.batch import plan_batch
from scaleout.run import Fault, Outcome, run_batch
from scaleout.stack import Stack, running_stack

pytestmark = [pytest.mark.slow, pytest.mark.long]


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with running_stack(workers=2, web=False) as running:
        yield running


def _batch(stack: Stack, first: int, fault: Fault) -> Outcome:
    cases_root = stack.root / "cases"  # every batch's source folders: the only place names may be
    cases = plan_batch(cases_root / str(first), 4, first=first, not_ready_every=4, group=False)
    outcome = run_batch(stack, cases, cases_root, faults=[fault], timeout=900)
    print(outcome.line(), *outcome.events, sep="\n  ")
    assert outcome.problems == [], outcome.problems
    assert outcome.leaks == [], outcome.leaks
    return outcome


def test_worker_killed_mid_build_is_marked_crashed_and_rerun(stack: Stack) -> None:
    outcome = _batch(stack, 100, faults.kill_worker_mid_build(after_running=2.0))
    assert any(e.startswith("killed worker-") for e in outcome.events), outcome.events
    assert outcome.reruns >= 1 and any("marked Crashed" in e for e in outcome.events), outcome.events


def test_postgresql_restart_during_a_batch_loses_no_run(stack: Stack) -> None:
    outcome = _batch(stack, 200, faults.restart_postgres(after_completed=1, down_for=3.0))
    assert any(e.startswith("restarted PostgreSQL") for e in outcome.events), outcome.events


def test_store_unreachable_for_20_s_is_carried_by_the_network_retries(stack: Stack) -> None:
    outcome = _batch(stack, 300, faults.store_outage(after_completed=1, down_for=20.0))
    assert any(e.startswith("object store unreachable") for e in outcome.events), outcome.events
    assert outcome.reruns == 0  # the flows' own retries carried it: nothing had to be re-run
