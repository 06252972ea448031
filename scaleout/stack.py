"""The several-offices set on one machine: PostgreSQL, a Prefect server on it, a process work pool with
workers, a SeaweedFS store and the case desk; each piece stopped by PID, in reverse order, whatever happens.

Each worker plays a machine of its own: its own DOSSIER_HOME holding a copy of the organisation identity,
its own PREFECT_HOME, its own log file. The office home (where cases are imported) and the auditor
(read-only S3 credentials) are separate environments too.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from core.errors import DossierError
from scaleout.postgres import PgCluster, create_cluster
from storage.office import OfficeStore, start_office_store
from workflows.server import LocalServer, free_port, start_server

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
POOL = "dossier-offices"

# Settings every Prefect process of the set gets (server, workers, flow runs, the submitting client).
PREFECT_COMMON = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "PREFECT_LOGGING_LEVEL": "INFO",  # the leak check reads the full logs, not a quiet version of them
    # A PostgreSQL restart turns into a few 500/503 answers: clients wait and retry instead of crashing a run.
    "PREFECT_CLIENT_MAX_RETRIES": "12",
    "PREFECT_CLIENT_RETRY_EXTRA_CODES": "500",
    "PREFECT_CLIENT_RETRY_JITTER_FACTOR": "0.2",
}
# botocore's own retries with backoff on every S3 call (connection refused included), under the flows'
# task retries: together they ride out a store restart (STACK.md: a SeaweedFS stop alone takes 3-12 s).
STORE_OPTIONS = "&retries=10&retry_mode=standard"
WORKER_SETTINGS = {
    "PREFECT_WORKER_QUERY_SECONDS": "1",  # default ~10 s between polls: seconds of idle per run
    "PREFECT_WORKER_PREFETCH_SECONDS": "5",
    "PREFECT_WORKER_HEARTBEAT_SECONDS": "10",
    "DOSSIER_DAEMON": "off",  # a flow run is already a process of its own
}


_NOT_RELEASED = (".venv", ".git", "*_cache", "__pycache__", "out", "build", "*.egg-info", "node_modules")


def make_release(target: Path) -> Path:
    """A copy of this checkout that every process of the set runs from (as an installed release would be):
    edits made to the working tree while a batch runs cannot reach half of its flow runs."""
    shutil.copytree(REPO, target, ignore=shutil.ignore_patterns(*_NOT_RELEASED), symlinks=True)
    return target


def _base_env(release: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "PREFECT_", "AWS_", "PYTHONPATH"))}
    env["PYTHONPATH"] = str(release)
    env["COLUMNS"] = "200"
    return env


def _stop_group(proc: subprocess.Popen[bytes], first: int = signal.SIGINT, grace: float = 20.0) -> None:
    """Signal a child's whole process group (a worker and its flow runs), then SIGKILL what is left."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, first)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # flow-run children that outlived their worker
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=10)


@dataclass
class Worker:
    """One process worker (a machine of its own: its own homes and log)."""

    name: str
    home: Path
    prefect_home: Path
    log_file: Path
    process: subprocess.Popen[bytes]

    def alive(self) -> bool:
        return self.process.poll() is None

    def descendants(self) -> list[int]:
        """PIDs of the worker's children and their children (its flow runs), from /proc."""
        parents: dict[int, list[int]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
        found, todo = [], [self.process.pid]
        while todo:
            pid = todo.pop()
            for child in parents.get(pid, []):
                found.append(child)
                todo.append(child)
        return found

    def forkserver_pid(self) -> int | None:
        """The worker's warm fork server (workflows/forkserver.py), if one is running."""
        try:
            pid = int((self.prefect_home / "forkserver.sock.pid").read_text())
        except (OSError, ValueError):
            return None
        return pid if Path(f"/proc/{pid}").exists() else None

    def _kill_forkserver(self, signum: int) -> None:
        pid = self.forkserver_pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signum)  # the server and the flow runs it forked (each its own group)
                os.kill(pid, signum)

    def kill(self) -> None:
        """SIGKILL the worker and every flow run it started: a machine that died mid-build."""
        self._kill_forkserver(signal.SIGKILL)
        victims = [self.process.pid, *self.descendants()]
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        _stop_group(self.process, signal.SIGINT)  # a process worker ignores SIGTERM for seconds; SIGINT stops it
        self._kill_forkserver(signal.SIGKILL)


@dataclass
class Stack:
    """Everything `make scaleout` runs; `close()` stops all of it (also from signal handlers and finally)."""

    root: Path
    keep: bool = False
    pg: PgCluster | None = None
    server: LocalServer | None = None
    store: OfficeStore | None = None
    workers: list[Worker] = field(default_factory=list)
    web: subprocess.Popen[bytes] | None = None
    web_url: str | None = None
    _stops: list[Callable[[], None]] = field(default_factory=list)
    _worker_count: int = 0

    # --- environments -------------------------------------------------------------------------

    @property
    def release(self) -> Path:
        return self.root / "release"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def office_home(self) -> Path:
        return self.root / "office"

    def prefect_env(self, prefect_home: Path) -> dict[str, str]:
        assert self.server is not None
        return PREFECT_COMMON | {"PREFECT_API_URL": self.server.api_url, "PREFECT_HOME": str(prefect_home)}

    def office_env(self, *, auditor: bool = False) -> dict[str, str]:
        """A caseworker's shell at the office (or, read-only, an auditor's)."""
        assert self.store is not None
        env = _base_env(self.release) | self.store.env(auditor=auditor)
        env["DOSSIER_STORE"] += STORE_OPTIONS
        env |= {"DOSSIER_HOME": str(self.office_home), "DOSSIER_ACTOR": "office-caseworker", "DOSSIER_DAEMON": "off"}
        if self.server is not None:
            env |= self.prefect_env(self.root / "office-prefect")
        return env

    def worker_env(self, name: str) -> dict[str, str]:
        """A worker machine: the shared store, its own homes, the organisation identity copied in."""
        assert self.store is not None
        home = self.root / name / "home"
        env = (
            _base_env(self.release)
            | self.store.env()
            | self.prefect_env(self.root / name / "prefect")
            | WORKER_SETTINGS
        )
        env["DOSSIER_STORE"] += STORE_OPTIONS
        return env | {"DOSSIER_HOME": str(home), "DOSSIER_ACTOR": name}

    # --- start ----------------------------------------------------------------------------------

    def run_command(
        self, args: list[str], env: dict[str, str], what: str, timeout: float = 300, stdin: str | None = None
    ) -> str:
        """Run a command of the release as one of the set's machines; its output, or a clear error."""
        done = subprocess.run(
            args, env=env, cwd=self.release, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise DossierError(f"scale-out: {what} failed (exit {done.returncode})", hint=done.stderr[-600:])
        return done.stdout

    def start_postgres(self) -> None:
        self.pg = create_cluster(free_port())
        self._stops.append(self.pg.stop if self.keep else self.pg.remove)

    def start_prefect(self) -> None:
        assert self.pg is not None
        extra = PREFECT_COMMON | {"PREFECT_LOGGING_SERVER_LEVEL": "INFO"}
        self.server = start_server(self.root / "server-prefect", database_url=self.pg.url, extra_env=extra)
        self._stops.append(self.server.stop)

    def start_store(self) -> None:
        self.store = start_office_store(self.root / "s3", port=free_port())
        self._stops.append(lambda: self.store.server.stop(grace=15) if self.store else None)

    def restart_store(self, down_for: float) -> float:
        """Stop SeaweedFS, keep it down `down_for` seconds, start it again on the same port and data."""
        assert self.store is not None
        began = time.monotonic()
        port = self.store.server.ports["s3.port"]
        self.store.server.stop(grace=15)
        time.sleep(max(0.0, down_for - (time.monotonic() - began)))
        self.store = start_office_store(self.store.server.data_dir, port=port)
        return time.monotonic() - began

    def init_office(self) -> None:
        """`dossier init` at the office (organisation identity, store, bucket), then copy the keys to workers."""
        self.run_command([str(BIN / "dossier"), "init"], self.office_env(), "dossier init")

    def create_pool(self, *, warm: bool = True) -> None:
        """A process work pool and the flows deployed to it (from the release, which every worker sees)."""
        env = _base_env(self.release) | self.prefect_env(self.root / "office-prefect")
        command = [str(BIN / "prefect"), "work-pool", "create", POOL, "--type", "process"]
        self.run_command(command, env, "work-pool create")
        self.deploy_flows(warm=warm)

    def deploy_flows(self, *, warm: bool = True) -> None:
        """(Re)deploy the flows to the pool: warm = flow runs forked from each worker's fork server."""
        env = _base_env(self.release) | self.prefect_env(self.root / "office-prefect")
        command = [str(BIN / "dossier"), "deploy", "--pool", POOL, "--source", str(self.release)]
        self.run_command(command + ([] if warm else ["--cold"]), env, "deploying the flows")

    def add_worker(self) -> Worker:
        """Start one more process worker (one flow run at a time: a 2-core machine runs two of them)."""
        self._worker_count += 1
        name = f"worker-{self._worker_count}"
        env = self.worker_env(name)
        home = Path(env["DOSSIER_HOME"])
        keys = home / "keys"
        if not keys.exists():
            shutil.copytree(self.office_home / "keys", keys)  # organisation identity: on workers only
        self.logs.mkdir(parents=True, exist_ok=True)
        log_file = self.logs / f"{name}.log"
        command = [str(BIN / "prefect"), "worker", "start", "--pool", POOL, "--type", "process"]
        with log_file.open("ab") as log:
            proc = subprocess.Popen(
                [*command, "--limit", "1", "--name", name],
                env=env,
                cwd=self.release,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        worker = Worker(name, home, Path(env["PREFECT_HOME"]), log_file, proc)
        self.workers.append(worker)
        self._stops.append(worker.stop)
        return worker

    def start_web(self, timeout: float = 60.0) -> bool:
        """`dossier web` on loopback, its builds on the pool's workers, checked on /healthz; False when this
        checkout has no web app yet."""
        env = self.office_env() | {"DOSSIER_WORK_POOL": POOL}
        probe = subprocess.run(
            [str(BIN / "dossier"), "web", "--help"], env=env, cwd=self.release, capture_output=True, check=False
        )
        if probe.returncode != 0:
            return False
        port = free_port()
        self.logs.mkdir(parents=True, exist_ok=True)
        with (self.logs / "web.log").open("ab") as log:
            self.web = subprocess.Popen(
                [str(BIN / "dossier"), "web", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                cwd=self.release,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        web = self.web
        self._stops.append(lambda: _stop_group(web, signal.SIGTERM, 10))
        self.web_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if web.poll() is not None:
                raise DossierError(f"dossier web exited at start (code {web.returncode})", hint="see logs/web.log")
            try:
                with urllib.request.urlopen(f"{self.web_url}/healthz", timeout=2) as resp:  # noqa: S310 - loopback
                    if resp.status == 200:
                        return True
            except OSError:
                time.sleep(0.3)
        raise DossierError(f"dossier web did not answer /healthz within {timeout:.0f} s", hint="see logs/web.log")

    def wait_for_workers(self, timeout: float = 60.0) -> None:
        """Until every started worker is registered with the pool (or one has died)."""
        from prefect.client.orchestration import get_client

        deadline = time.monotonic() + timeout
        with self.api(), get_client(sync_client=True) as client:
            while time.monotonic() < deadline:
                for w in self.workers:
                    if not w.alive():
                        raise DossierError(f"{w.name} exited at start", hint=f"see {w.log_file}")
                names = {w.name for w in client.read_workers_for_work_pool(POOL)}
                if all(w.name in names for w in self.workers):
                    return
                time.sleep(0.5)
        raise DossierError(f"workers did not register within {timeout:.0f} s", hint=f"see {self.logs}")

    @contextlib.contextmanager
    def api(self) -> Iterator[None]:
        """Prefect client calls in this process go to the set's server."""
        from prefect.settings import (
            PREFECT_API_URL,
            PREFECT_CLIENT_MAX_RETRIES,
            PREFECT_CLIENT_RETRY_EXTRA_CODES,
            temporary_settings,
        )

        assert self.server is not None
        updates: dict[Any, Any] = {
            PREFECT_API_URL: self.server.api_url,
            PREFECT_CLIENT_MAX_RETRIES: 12,
            PREFECT_CLIENT_RETRY_EXTRA_CODES: {500},
        }
        with temporary_settings(updates=updates):
            yield

    # --- stop -----------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop everything started, newest first; never raises; removes the scratch folder unless kept."""
        while self._stops:
            stop = self._stops.pop()
            with contextlib.suppress(Exception):
                stop()
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@contextlib.contextmanager
def running_stack(*, workers: int = 2, web: bool = True, keep: bool = False, warm: bool = True) -> Iterator[Stack]:
    """Start the whole set; whatever happens inside (failure, Ctrl-C, SIGTERM, SIGHUP) it is stopped after."""
    stack = Stack(Path(tempfile.mkdtemp(prefix="dossier-scaleout-")), keep=keep)
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGHUP)}
    for s in previous:
        signal.signal(s, _raise_interrupt)
    try:
        make_release(stack.release)
        stack.start_postgres()
        stack.start_store()
        stack.start_prefect()
        stack.init_office()
        stack.create_pool(warm=warm)
        for _ in range(workers):
            stack.add_worker()
        if web:
            stack.start_web()
        stack.wait_for_workers()
        yield stack
    finally:
        stack.close()
        for s, handler in previous.items():
            signal.signal(s, handler)
