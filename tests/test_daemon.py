"""The warm flow daemon: started ahead of need by init and import, reused by build, and tidy when killed."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tests.clirun import dossier, grep_tree
from tests.conftest import DOSSIER, EXAMPLE_SECRETS


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _wait_for(check: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


def test_prewarmed_daemon_builds_and_its_server_does_not_outlive_a_sigkill(example_case, tmp_path: Path) -> None:
    # A socket path must fit in ~100 bytes: a short private runtime folder, not pytest's tmp path.
    runtime = Path(tempfile.gettempdir()) / f"dxd-{hashlib.sha256(str(tmp_path).encode()).hexdigest()[:10]}"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {
        "DOSSIER_HOME": str(tmp_path / "home"),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "DOSSIER_ACTOR": "test-caseworker",
        "DOSSIER_DAEMON": "on",
        "DOSSIER_DAEMON_IDLE": "120",
        "XDG_RUNTIME_DIR": str(runtime),
    }
    sockets = runtime / "dossier"
    server: int | None = None
    try:
        init = dossier("init", env=env)
        assert init.code == 0, init.stderr
        assert "prefect: created database" in init.stdout  # from the migrated template, not by migrating
        assert "daemon started in the background" in init.stdout
        case_id = dossier("case", "import", str(example_case("fr-asylum-visa-couple")), env=env).last_line
        built = dossier("build", case_id, env=env)
        assert built.code == 0, built.stderr
        assert built.last_line.startswith("P-")
        assert "running in this process" not in built.stderr  # the daemon did the build
        log = (tmp_path / "home" / "run" / "daemon.log").read_text()
        assert "warm-up: flows imported" in log
        assert grep_tree(tmp_path / "prefect", EXAMPLE_SECRETS) == []

        records = list(sockets.glob("flows-*.pids"))
        assert len(records) == 1, records
        pids = json.loads(records[0].read_text())
        servers = [p for p in pids["children"] if b"prefect.server" in _cmdline(p)]
        assert len(servers) == 1, pids
        server = servers[0]
        os.kill(pids["daemon"], signal.SIGKILL)
        assert _wait_for(lambda: b"workflows.daemon" not in _cmdline(pids["daemon"]), 10)
        time.sleep(1.0)
        assert b"prefect.server" in _cmdline(server)  # orphaned: nobody else would stop it

        stopped = dossier("daemon-stop", env=env)
        assert stopped.code == 0, stopped.stderr
        assert _wait_for(lambda: b"prefect.server" not in _cmdline(server), 20), "orphaned server still running"
        assert list(sockets.glob("flows-*.pids")) == []
    finally:
        dossier("daemon-stop", env=env)
        if server is not None and b"prefect.server" in _cmdline(server):
            os.kill(server, signal.SIGKILL)
        for sock in sockets.glob("*"):
            sock.unlink(missing_ok=True)


def test_a_killed_in_process_build_leaves_no_prefect_server(example_case, tmp_path: Path) -> None:
    runtime = Path(tempfile.gettempdir()) / f"dxi-{hashlib.sha256(str(tmp_path).encode()).hexdigest()[:10]}"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = {
        "DOSSIER_HOME": str(tmp_path / "home"),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "DOSSIER_DAEMON": "off",
        "XDG_RUNTIME_DIR": str(runtime),
    }
    assert dossier("init", env=env).code == 0
    case_id = dossier("case", "import", str(example_case("fr-asylum-visa-couple")), env=env).last_line
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "PREFECT_"))} | env
    proc = subprocess.Popen(
        [str(DOSSIER), "build", case_id], env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    server: int | None = None
    try:
        record = runtime / "dossier" / f"inproc-{proc.pid}.pids"
        assert _wait_for(record.exists, 120), "the in-process run never recorded its Prefect server"
        servers = [p for p in json.loads(record.read_text())["children"] if b"prefect.server" in _cmdline(p)]
        assert len(servers) == 1
        server = servers[0]
        proc.kill()  # SIGKILL: no atexit, no finally
        proc.wait()
        time.sleep(1.0)
        assert b"prefect.server" in _cmdline(server)  # orphaned for now
        assert dossier("daemon-stop", env=env).code == 0  # sweeps what killed runs left
        assert _wait_for(lambda: b"prefect.server" not in _cmdline(server), 20), "orphaned server still running"
    finally:
        if proc.poll() is None:
            proc.kill()
        if server is not None and b"prefect.server" in _cmdline(server):
            os.kill(server, signal.SIGKILL)
