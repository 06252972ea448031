"""`kill <pid>` of the case desk (SIGTERM to the web process alone, as a supervisor without cgroups sends it)
stops Prefect's temporary server too: uvicorn re-raises the signal after its shutdown, so Prefect's own atexit
handler never runs, and the server (~200 MB) would live on without a parent."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests.clirun import dossier
from tests.conftest import DOSSIER, REPO
from tests.web_fixtures import _free_port


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(p) for p in task.read_text().split()]
        except OSError:
            continue
    return found


def _is_prefect_server(pid: int) -> bool:
    try:
        return b"prefect.server" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def test_sigterm_to_the_web_process_stops_its_prefect_server(tmp_path: Path) -> None:
    runtime = Path(tempfile.mkdtemp(dir="/tmp"))  # short: the daemon's socket path must fit
    env = {
        "DOSSIER_HOME": str(tmp_path / "home"),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "XDG_RUNTIME_DIR": str(runtime),
        "DOSSIER_DAEMON": "off",
    }
    assert dossier("init", env=env).code == 0
    full = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "PREFECT_"))} | env
    with (tmp_path / "web.log").open("wb") as log:
        web = subprocess.Popen(
            [str(DOSSIER), "web", "--port", str(_free_port())],
            env=full,
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = None
    try:
        deadline = time.monotonic() + 120
        while server is None and time.monotonic() < deadline and web.poll() is None:
            server = next((p for p in _children(web.pid) if _is_prefect_server(p)), None)
            time.sleep(0.2)
        assert server is not None, (tmp_path / "web.log").read_text()[-2000:]  # the warm-up started it
        os.kill(web.pid, signal.SIGTERM)  # the web process alone, not its group
        web.wait(timeout=60)
        gone = time.monotonic() + 10
        while _is_prefect_server(server) and time.monotonic() < gone:
            time.sleep(0.1)
        assert not _is_prefect_server(server), "Prefect's temporary server outlived the case desk"
        assert "Application shutdown complete" in (tmp_path / "web.log").read_text()
    finally:
        if web.poll() is None:
            os.killpg(web.pid, signal.SIGKILL)
            web.wait(timeout=10)
        if server is not None and _is_prefect_server(server):
            os.kill(server, signal.SIGKILL)
