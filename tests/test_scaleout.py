"""Scale-out path: a Prefect server and a process worker on this machine build cases from a work pool."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from storage import Vault
from tests.clirun import dossier, grep_tree
from tests.conftest import EXAMPLE_SECRETS, REPO
from workflows.server import start_server

PY = str(REPO / ".venv" / "bin" / "python")
PREFECT = str(REPO / ".venv" / "bin" / "prefect")


@pytest.mark.slow
def test_server_and_worker_build_the_example_cases(tmp_path: Path, example_case) -> None:
    prefect_home = tmp_path / "prefect"
    server = start_server(prefect_home)
    worker = None
    try:
        env = {
            "DOSSIER_HOME": str(tmp_path / "home"),
            "PREFECT_HOME": str(prefect_home),
            "PREFECT_API_URL": server.api_url,
            "DOSSIER_ACTOR": "scaleout-test",
        }
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "PREFECT_"))} | env
        assert dossier("init", env=env).code == 0
        case_ids = []
        for name in ("fr-asylum-visa-couple", "de-work-visa-family"):
            res = dossier("case", "import", str(example_case(name)), env=env)
            assert res.code == 0, res.stderr
            case_ids.append(res.last_line)

        subprocess.run(
            [PREFECT, "work-pool", "create", "dossier-test", "--type", "process"],
            env=full_env,
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [PY, "-c", "from workflows.deploy import deploy_to_pool; print(deploy_to_pool('dossier-test'))"],
            env=full_env,
            check=True,
            capture_output=True,
            cwd=REPO,
        )
        worker_env = full_env | {"PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_PREFETCH_SECONDS": "5"}
        worker_log = (tmp_path / "worker.log").open("wb")
        worker = subprocess.Popen(
            [PREFECT, "worker", "start", "--pool", "dossier-test", "--type", "process", "--limit", "2"],
            env=worker_env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )
        script = (
            "import json,sys; from workflows.submit import submit, wait_for;"
            "ids = submit('build-packet/build', [{'case_id': c} for c in sys.argv[1:]]);"
            "print(json.dumps(wait_for(ids, timeout=420)))"
        )
        started = time.monotonic()
        done = subprocess.run(
            [PY, "-c", script, *case_ids], env=full_env, capture_output=True, text=True, cwd=REPO, timeout=480
        )
        assert done.returncode == 0, done.stderr[-2000:] + (tmp_path / "worker.log").read_text()[-3000:]
        assert '"Completed"' in done.stdout and "Failed" not in done.stdout, done.stdout
        print(f"2 builds through server + worker in {time.monotonic() - started:.1f} s")

        os.environ["DOSSIER_HOME"] = env["DOSSIER_HOME"]
        try:
            vault = Vault.from_env()
            for cid in case_ids:
                assert len(vault.packets_of(cid)) == 1
            assert vault.audit.verify().ok
        finally:
            del os.environ["DOSSIER_HOME"]
        assert grep_tree(prefect_home, EXAMPLE_SECRETS) == []
    finally:
        if worker is not None and worker.poll() is None:
            os.killpg(worker.pid, signal.SIGINT)
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        server.stop()
