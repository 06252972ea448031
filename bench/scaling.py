"""worker_scaling_2_vs_1: packet builds per minute with two Prefect process workers / with one.

A local Prefect server (workflows.server), the flows deployed to a process work pool
(workflows.deploy), builds of distinct case copies submitted at once (workflows.submit); each worker
runs one flow at a time (--limit 1). Throughput = builds / (last completion - submission).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from bench.common import PY, REPO, Context, child, clean_env, cores, timed
from bench.harness import Figure

PREFECT = REPO / ".venv" / "bin" / "prefect"
POOL = "dossier-bench"


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as fh:
        return subprocess.Popen(
            [str(PREFECT), "worker", "start", "--pool", POOL, "--type", "process", "--limit", "1"],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )


def _stop_worker(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)  # a process worker ignores SIGTERM for seconds; SIGINT stops it
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _phase(workers: int, case_ids: list[str], env: dict[str, str], logs: Path) -> dict[str, float]:
    procs = [_start_worker(env, logs / f"worker-{workers}-{i}.log") for i in range(workers)]
    try:
        time.sleep(4)  # workers register and start polling
        script = (
            "import json,sys,time; from workflows.submit import submit, wait_for;"
            "t=time.time(); ids=submit('build-packet/build', [{'case_id': c} for c in sys.argv[1:]]);"
            "s=time.time(); states=wait_for(ids, timeout=900, poll=0.25);"
            "print(json.dumps({'start': t, 'submitted': s, 'end': time.time(), 'states': list(states.values())}))"
        )
        res = timed([str(PY), "-c", script, *case_ids], env, timeout=1000)
        data = json.loads(res.last_line)
        assert all(s == "Completed" for s in data["states"]), data["states"]
        seconds = data["end"] - data["start"]
        return {"seconds": seconds, "builds_per_min": 60 * len(case_ids) / seconds}
    finally:
        for p in procs:
            _stop_worker(p)


def measure(ctx: Context) -> list[Figure]:
    from workflows.server import start_server

    n = 2 if ctx.quick else 6
    root = ctx.work / "scaling"
    prefect_home = root / "prefect"
    home = root / "home"
    root.mkdir(parents=True, exist_ok=True)
    ids = child("common", "import", str(home), str(2 * n + 2), str(ctx.case_folder()), env=clean_env())["case_ids"]
    server = start_server(prefect_home)
    try:
        env = clean_env(
            DOSSIER_HOME=str(home),
            PREFECT_HOME=str(prefect_home),
            PREFECT_API_URL=server.api_url,
            DOSSIER_DAEMON="off",
            PREFECT_WORKER_QUERY_SECONDS="1",
            PREFECT_WORKER_PREFETCH_SECONDS="5",
        )
        timed([str(PREFECT), "work-pool", "create", POOL, "--type", "process"], env)
        timed([str(PY), "-c", f"from workflows.deploy import deploy_to_pool; deploy_to_pool({POOL!r})"], env)
        _phase(1, ids[:2], env, root)  # warm-up: first runs pay for cold caches
        one = _phase(1, ids[2 : 2 + n], env, root)
        two = _phase(2, ids[2 + n : 2 + 2 * n], env, root)
    finally:
        server.stop()
    ratio = two["builds_per_min"] / one["builds_per_min"]
    c = cores()
    return [
        Figure(
            "worker_scaling_2_vs_1",
            two["builds_per_min"],
            one["builds_per_min"],
            "builds/min",
            "ratio >= 1.7 (where the machine allows)",
            ratio >= 1.7,
            f"{n} builds per phase on {c['usable']} usable of {c['cpu_count']} CPUs; each flow run is a new "
            f"Python process; 1 worker {one['seconds']:.1f} s, 2 workers {two['seconds']:.1f} s",
            extra={"one_worker": one, "two_workers": two, "cores": c, "builds": n},
        )
    ]
