"""A local Prefect server in a child process: for `dossier serve`, the scale-out test and benchmarks."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from core.errors import DossierError


def free_port() -> int:
    """An unused TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _prefect_bin() -> str:
    return str(Path(sys.executable).with_name("prefect"))


@dataclass
class LocalServer:
    """A running `prefect server start` bound to loopback."""

    process: subprocess.Popen[bytes]
    api_url: str
    log_file: Path

    @property
    def ui_url(self) -> str:
        return self.api_url.removesuffix("/api")

    def stop(self) -> None:
        """Stop the server (SIGINT first: Prefect shuts down cleanly on it), then make sure it is gone."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_server(
    prefect_home: Path,
    *,
    port: int | None = None,
    timeout: float = 120.0,
    database_url: str | None = None,
    extra_env: dict[str, str] | None = None,
) -> LocalServer:
    """Start a Prefect server on 127.0.0.1 and wait for /api/health.

    Its database is SQLite under prefect_home, or PostgreSQL when database_url is given
    (postgresql+asyncpg://user:password@host:port/db; Prefect migrates it at start).
    """
    port = port or free_port()
    prefect_home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.update(
        PREFECT_HOME=str(prefect_home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        PREFECT_UI_API_URL=f"http://127.0.0.1:{port}/api",
    )
    env.pop("PREFECT_API_URL", None)
    if database_url:
        env["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = database_url
    env.update(extra_env or {})
    log_file = prefect_home / "server.log"
    with log_file.open("ab") as log:
        proc = subprocess.Popen(
            [_prefect_bin(), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = LocalServer(proc, f"http://127.0.0.1:{port}/api", log_file)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DossierError(
                f"the Prefect server exited at start-up (code {proc.returncode})", hint=f"see {log_file}"
            )
        try:
            with urllib.request.urlopen(f"{server.api_url}/health", timeout=2) as resp:  # noqa: S310 - loopback
                if resp.status == 200:
                    return server
        except OSError:
            time.sleep(0.3)
    server.stop()
    raise DossierError(f"the Prefect server did not answer within {timeout:.0f} s", hint=f"see {log_file}")
