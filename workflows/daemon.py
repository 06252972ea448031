"""The warm flow daemon: keeps Prefect (and its server) up between CLI calls, runs one flow at a time.

Started by workflows.daemon_client; listens on a private Unix socket; speaks one JSON line per
message. Flow results are sent back as JSON; errors keep their DossierError type and exit code.
Run by hand for debugging: python -m workflows.daemon /tmp/dossier-0/flows-test.sock
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from core.errors import DossierError
from workflows.daemon_client import code_fingerprint, record_children, sweep_orphans
from workflows.local import FLOW_NAMES, flow_for, run_local

IDLE_SECONDS = float(os.environ.get("DOSSIER_DAEMON_IDLE", "900"))


def warm_up() -> None:
    """Import Prefect and the flows and start Prefect's server now, before the first request needs them.

    The server (a child process importing Prefect's web stack, about 6 s) starts first, in a thread,
    so the flows and the packet libraries are imported on the other core meanwhile.
    """
    from workflows.prefect_env import prepare_prefect_home

    started = time.monotonic()
    prepare_prefect_home()
    server: threading.Thread | None = None
    if not os.environ.get("PREFECT_API_URL"):
        from prefect.client.orchestration import get_client

        def start_server() -> None:
            with get_client(sync_client=True) as client:  # starts the ephemeral server, kept for this process
                client.api_healthcheck()

        server = threading.Thread(target=start_server, name="prefect-server-start", daemon=True)
        server.start()
    flow_for("build")
    import packets.build  # noqa: F401 - pypdf, docxtpl, img2pdf: the first build would import them

    imported = time.monotonic() - started
    if server is not None:
        server.join()
    print(f"warm-up: flows imported in {imported:.1f} s, ready in {time.monotonic() - started:.1f} s", flush=True)


def _params(raw: dict[str, Any]) -> dict[str, Any]:
    params = dict(raw)
    if isinstance(params.get("today"), str):
        params["today"] = date.fromisoformat(params["today"])
    return params


class Daemon:
    """One listening socket, one flow at a time, exit when idle or when the code changed."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fingerprint = code_fingerprint()
        self.lock = threading.Lock()

    def serve(self) -> None:
        """Accept requests until idle for IDLE_SECONDS, asked to stop, or stale."""
        from workflows.progress import subscribe

        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o177)
        try:
            server.bind(str(self.path))
        finally:
            os.umask(old_umask)
        server.listen(8)
        server.settimeout(IDLE_SECONDS)
        try:
            # Listening first, warming up second: a CLI that connects meanwhile waits in the backlog
            # instead of starting a second daemon.
            sweep_orphans(self.path.parent)
            warm_up()
            record_children(self.path)
            while True:
                try:
                    conn, _ = server.accept()
                except TimeoutError:
                    return
                with conn, conn.makefile("rwb") as stream:
                    line = stream.readline()
                    if not line:
                        continue
                    request = json.loads(line)
                    if request.get("flow") == "stop":
                        stream.write(b'{"stopped": true}\n')
                        stream.flush()
                        return
                    if request.get("fingerprint") != self.fingerprint:
                        stream.write(b'{"stale": true}\n')
                        stream.flush()
                        return
                    unsubscribe = subscribe(self._progress_sender(stream))
                    try:
                        self._send(stream, self._run(request))
                    finally:
                        unsubscribe()
        finally:
            server.close()
            self.path.unlink(missing_ok=True)
            self.path.with_suffix(".pids").unlink(missing_ok=True)

    def _progress_sender(self, stream: Any) -> Callable[[str, float], None]:
        def send(step: str, fraction: float) -> None:
            self._send(stream, {"progress": [step, fraction]})

        return send

    def _send(self, stream: Any, message: dict[str, Any]) -> None:
        try:
            stream.write(json.dumps(message, default=str).encode() + b"\n")
            stream.flush()
        except OSError:
            pass  # the CLI went away (Ctrl-C); the flow itself goes on and stays idempotent

    def _run(self, request: dict[str, Any]) -> dict[str, Any]:
        name = request.get("flow", "")
        if name not in FLOW_NAMES:
            return {"error": {"type": "BadInput", "message": f"unknown flow {request.get('flow')!r}", "exit_code": 2}}
        with self.lock:
            try:
                return {"result": run_local(name, _params(request.get("params", {})))}
            except DossierError as exc:
                return {
                    "error": {
                        "type": type(exc).__name__,
                        "message": exc.message,
                        "hint": exc.hint,
                        "exit_code": exc.exit_code,
                    }
                }
            except Exception as exc:  # noqa: BLE001 - reported as an internal error, id-free
                return {"error": {"type": "DossierError", "message": f"internal error ({type(exc).__name__})"}}


def main(argv: list[str]) -> int:
    """Serve on the socket path given as the only argument."""
    if len(argv) != 1:
        print("usage: python -m workflows.daemon SOCKET_PATH", file=sys.stderr)
        return 2
    Daemon(Path(argv[0])).serve()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
