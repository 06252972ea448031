"""worker_scaling_2_vs_1 and warm_flow_runs_vs_cold: packet builds per minute on the scale-out set.

One run of the set `make scaleout` starts (PostgreSQL, a Prefect server on it, SeaweedFS: scaleout/),
four phases on the same batch size of distinct copies of one example case, each on fresh workers
(`--limit 1`, a warm-up build each first):
  cold-1, cold-2   every flow run a new `python -m prefect.engine` (Prefect's process worker as is)
  warm-1, warm-2   every flow run forked from the worker's warm fork server (workflows/forkrun.py)
Throughput = builds / (last end - first submission). Where a build's time goes, per flow run from
Prefect's state history: worker pick-up (Scheduled -> Pending), start-up (Pending -> Running: new
process, imports, engine), work (Running -> final); and, in a child process, one build run in-process:
the CPU of LibreOffice (its children) against the Python side, and a bare `import prefect.engine,
workflows.flows` in a new interpreter (the start-up every cold flow run pays).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any
from uuid import UUID

from bench.common import PY, cores
from bench.harness import Figure

EXAMPLE = "fr-asylum-visa-couple"


def _cases(stack: Any, root: Path, n: int) -> list[str]:
    """n imported copies of one example with distinct fictional names (scaleout.batch), their case ids."""
    from scaleout.batch import make_case
    from scaleout.run import import_cases

    planned = [make_case(500 + i, EXAMPLE, root / f"c{i:03d}", ready=True) for i in range(n)]
    import_cases(stack, planned)
    return [c.case_id for c in planned]


def _history(client: Any, run_id: str) -> dict[str, float]:
    """Seconds of each step of one flow run from its state history."""
    states = client.read_flow_run_states(UUID(run_id))
    at: dict[str, float] = {}
    for s in states:
        at.setdefault(str(s.type.value), s.timestamp.timestamp())
    final = max(s.timestamp.timestamp() for s in states)
    return {
        "pickup": at.get("PENDING", 0) - at.get("SCHEDULED", 0),
        "startup": at.get("RUNNING", 0) - at.get("PENDING", 0),
        "work": final - at.get("RUNNING", 0),
        "end": final,
        "completed": float(states[-1].type.value == "COMPLETED"),
    }


def _phase(stack: Any, workers: int, case_ids: list[str]) -> dict[str, Any]:
    from prefect.client.orchestration import get_client

    from workflows.submit import submit, wait_for

    procs = [stack.add_worker() for _ in range(workers)]
    try:
        stack.wait_for_workers()
        with stack.api():
            warmup = submit("build-packet/build", [{"case_id": c} for c in case_ids[:workers]])
            wait_for(warmup, timeout=900, poll=0.25)
            start = time.time()
            ids = submit("build-packet/build", [{"case_id": c} for c in case_ids[workers:]])
            states = wait_for(ids, timeout=1800, poll=0.25)
            with get_client(sync_client=True) as client:
                steps = [_history(client, rid) for rid in ids]
    finally:
        for w in procs:
            w.stop()
        stack.workers = [w for w in stack.workers if w not in procs]
    assert all(s == "Completed" for s in states.values()), states
    seconds = max(s["end"] for s in steps) - start
    med = {k: statistics.median(s[k] for s in steps) for k in ("pickup", "startup", "work")}
    return {"builds": len(ids), "seconds": seconds, "builds_per_min": 60 * len(ids) / seconds, "median_s": med}


_INPROCESS = """
import json, resource, sys, time
from workflows.local import run_local
def cpu(who):
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime
s0, c0, t0 = cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
run_local("build", {"case_id": sys.argv[1]})
print(json.dumps({"wall": time.perf_counter() - t0, "python_cpu": cpu(resource.RUSAGE_SELF) - s0,
                  "libreoffice_cpu": cpu(resource.RUSAGE_CHILDREN) - c0}))
"""

_IMPORTS = """
import json, resource, time
t = time.perf_counter()
import prefect.engine, workflows.flows
r = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"wall": time.perf_counter() - t, "cpu": r.ru_utime + r.ru_stime}))
"""


def _child_json(stack: Any, script: str, *args: str) -> dict[str, float]:
    env = stack.office_env()
    done = subprocess.run(
        [str(PY), "-c", script, *args], env=env, cwd=stack.release, capture_output=True, text=True, check=True
    )
    data: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return data


def _where_time_goes(stack: Any, case_id: str) -> dict[str, Any]:
    """One build in-process (CPU of LibreOffice vs Python) and the bare start-up of a flow-run interpreter."""
    _child_json(stack, _INPROCESS, case_id)  # warm the page cache and LibreOffice's files
    build = _child_json(stack, _INPROCESS, case_id)
    started = time.perf_counter()
    imports = _child_json(stack, _IMPORTS)
    imports["process_wall"] = time.perf_counter() - started
    return {"inprocess_build": build, "interpreter_start": imports}


def measure(ctx: Any) -> list[Figure]:
    from scaleout.stack import running_stack

    n = 2 if ctx.quick else 6
    with running_stack(workers=0, web=False, warm=False) as stack:
        ids = _cases(stack, stack.root / "cases", 4 * (n + 2) + 1)
        chunks = [ids[i * (n + 2) : (i + 1) * (n + 2)] for i in range(4)]
        cold1 = _phase(stack, 1, chunks[0][: n + 1])
        cold2 = _phase(stack, 2, chunks[1])
        stack.deploy_flows(warm=True)
        warm1 = _phase(stack, 1, chunks[2][: n + 1])
        warm2 = _phase(stack, 2, chunks[3])
        where = _where_time_goes(stack, ids[-1])
    c = cores()
    lo = where["inprocess_build"]
    common = {"cores": c, "where": where, "cold1": cold1, "cold2": cold2, "warm1": warm1, "warm2": warm2}
    scale_note = (
        f"PostgreSQL; {n} builds per phase; cold 1 worker {cold1['builds_per_min']:.1f}/min, 2 workers "
        f"{cold2['builds_per_min']:.1f}/min; warm 1 worker {warm1['builds_per_min']:.1f}/min, 2 workers "
        f"{warm2['builds_per_min']:.1f}/min; per run (cold): start-up {cold2['median_s']['startup']:.1f} s, "
        f"work {cold2['median_s']['work']:.1f} s; one build in-process: LibreOffice CPU "
        f"{lo['libreoffice_cpu']:.1f} s, Python CPU {lo['python_cpu']:.1f} s, wall {lo['wall']:.1f} s; "
        f"bare interpreter + imports {where['interpreter_start']['process_wall']:.1f} s"
    )
    return [
        Figure(
            "worker_scaling_2_vs_1",
            warm2["builds_per_min"],
            warm1["builds_per_min"],
            "builds/min",
            "ratio >= 1.7 (where the machine allows)",
            warm2["builds_per_min"] / warm1["builds_per_min"] >= 1.7,
            scale_note + f"; {c['usable']} usable of {c['cpu_count']} CPUs",
            extra=common,
        ),
        Figure(
            "warm_flow_runs_vs_cold",
            warm2["builds_per_min"],
            cold2["builds_per_min"],
            "builds/min",
            "warm fork server faster than a new interpreter per flow run (ratio > 1)",
            warm2["builds_per_min"] > cold2["builds_per_min"],
            f"2 workers; start-up per run cold {cold2['median_s']['startup']:.1f} s, warm "
            f"{warm2['median_s']['startup']:.1f} s",
            extra=common,
        ),
    ]
