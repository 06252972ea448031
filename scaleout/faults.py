"""Faults across machines, injected while a batch runs: a worker dying mid-build, PostgreSQL restarting,
the object store unreachable for a while. Each acts once and says what it did."""

from __future__ import annotations

import time

from scaleout.run import Fault, Snapshot


def kill_worker_mid_build(after_running: float = 2.0) -> Fault:
    """SIGKILL a worker (and the flow run it is executing) once a run has been running `after_running` s;
    a replacement worker starts, as an administrator would restart the machine."""
    first_seen: dict[str, float] = {}

    def fault(snap: Snapshot) -> str | None:
        now = time.monotonic()
        for run_id, fr in snap.raw.items():
            if fr.state is None or fr.state.name != "Running" or not fr.infrastructure_pid:
                continue
            if now - first_seen.setdefault(run_id, now) < after_running:
                continue
            pid = int(str(fr.infrastructure_pid).rsplit(":", 1)[-1])
            for worker in snap.stack.workers:
                if worker.alive() and pid in worker.descendants():
                    worker.kill()
                    spare = snap.stack.add_worker()
                    return f"killed {worker.name} mid-build (SIGKILL, flow run included); started {spare.name}"
        return None

    return fault


def restart_postgres(after_completed: int = 2, down_for: float = 3.0) -> Fault:
    """Stop PostgreSQL (fast shutdown: every session cut) while runs are going, start it again."""

    def fault(snap: Snapshot) -> str | None:
        if snap.count("Completed", "Failed") < after_completed or snap.count("Running") == 0:
            return None
        assert snap.stack.pg is not None
        seconds = snap.stack.pg.restart(down_for=down_for)
        return f"restarted PostgreSQL ({seconds:.1f} s without it)"

    return fault


def store_outage(after_completed: int = 1, down_for: float = 20.0) -> Fault:
    """Stop SeaweedFS while runs are going, keep it down `down_for` s, start it again on the same port."""

    def fault(snap: Snapshot) -> str | None:
        if snap.count("Completed", "Failed") < after_completed or snap.count("Running") == 0:
            return None
        seconds = snap.stack.restart_store(down_for)
        return f"object store unreachable for {seconds:.1f} s (SeaweedFS stopped and started again)"

    return fault
