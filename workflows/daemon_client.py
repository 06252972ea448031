"""The CLI side of the warm flow daemon: stdlib only, so `dossier build` starts in a tenth of a second.

Like a build tool's daemon, the first call starts a background process (workflows.daemon) that
keeps Prefect imported and its server up; later calls hand it the flow and stream its progress.
`dossier init` and `case import` start it ahead of need (prewarm), so a first build finds it warm.
One daemon per environment (DOSSIER_HOME, DOSSIER_STORE, PREFECT_HOME/API_URL, AWS settings); it
exits after DOSSIER_DAEMON_IDLE seconds without work (default 900) or when the code it runs
changed. DOSSIER_DAEMON=off runs flows in the calling process instead.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from core.errors import DossierError

_ENV_KEYS = ("DOSSIER_HOME", "DOSSIER_STORE", "PREFECT_HOME", "PREFECT_API_URL")
_REPO = Path(__file__).resolve().parent.parent
_WATCHED = ("core", "casefile", "country_rules", "packets", "storage", "workflows", "templates")
START_TIMEOUT = 180.0


class DaemonUnavailable(Exception):
    """The daemon could not be reached or started; the caller runs the flow in-process instead."""


def enabled() -> bool:
    """Whether flows go through the daemon (DOSSIER_DAEMON=off disables it)."""
    return os.environ.get("DOSSIER_DAEMON", "auto").lower() not in ("off", "0", "no", "false")


def environment_key() -> str:
    """Which daemon serves this environment: a hash, so no path or secret appears in the socket name."""
    from core.settings import load_settings

    settings = load_settings()
    parts = {k: os.environ.get(k, "") for k in _ENV_KEYS}
    parts["home"] = str(settings.home.resolve())
    parts["store"] = settings.store_url
    parts |= {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:20]


def code_fingerprint() -> str:
    """Changes whenever code, rules or templates change, so a daemon never runs stale rules."""
    h = hashlib.sha256()
    for top in _WATCHED:
        for path in sorted((_REPO / top).rglob("*")):
            if path.suffix in (".py", ".yaml", ".json", ".docx") and "__pycache__" not in path.parts:
                st = path.stat()
                h.update(f"{path}:{st.st_mtime_ns}:{st.st_size}".encode())
    return h.hexdigest()[:20]


def runtime_dir() -> Path:
    """A private folder for sockets (0700): XDG_RUNTIME_DIR, else /tmp/dossier-UID."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    folder = Path(base) / "dossier" if base else Path(tempfile.gettempdir()) / f"dossier-{os.getuid()}"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    if folder.stat().st_uid != os.getuid() or folder.stat().st_mode & 0o077:
        raise DaemonUnavailable(f"{folder} is not private to this user")
    return folder


def socket_path() -> Path:
    """The daemon's socket; Unix socket paths are limited to about 100 bytes."""
    path = runtime_dir() / f"flows-{environment_key()}.sock"
    if len(str(path).encode()) > 100:
        raise DaemonUnavailable("the runtime folder path is too long for a Unix socket")
    return path


def _connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        raise
    return sock


def _start(path: Path) -> None:
    """Start the daemon for this environment (one at a time, guarded by a lock file); at once if one listens."""
    from core.settings import load_settings

    log_dir = load_settings().home / "run"
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            _connect(path).close()
            return  # another CLI started it while we waited for the lock
        except OSError:
            path.unlink(missing_ok=True)
        with (log_dir / "daemon.log").open("ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "workflows.daemon", str(path)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=str(_REPO),
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise DaemonUnavailable(f"the flow daemon exited at start (see {log_dir}/daemon.log)")
            try:
                _connect(path).close()
                return
            except OSError:
                time.sleep(0.1)
    raise DaemonUnavailable(f"the flow daemon did not start within {START_TIMEOUT:.0f} s (see {log_dir}/daemon.log)")


def run(flow: str, params: dict[str, Any], on_progress: Callable[[str, float], None] | None = None) -> Any:
    """Run a flow in the daemon (starting it when needed) and return its JSON result."""
    path = socket_path()
    request = {"flow": flow, "params": params, "fingerprint": code_fingerprint()}
    for _attempt in range(3):
        try:
            sock = _connect(path)
        except OSError:
            _start(path)
            continue
        with sock, sock.makefile("rwb") as stream:
            stream.write(json.dumps(request, default=str).encode() + b"\n")
            stream.flush()
            for raw in stream:
                msg = json.loads(raw)
                if "progress" in msg and on_progress is not None:
                    on_progress(*msg["progress"])
                elif "stale" in msg:
                    break  # it runs older code: it is exiting; start a fresh one
                elif "error" in msg:
                    raise _rebuild_error(msg["error"])
                elif "result" in msg:
                    return msg["result"]
            else:
                raise DaemonUnavailable("the flow daemon closed the connection without an answer")
        time.sleep(0.2)
    raise DaemonUnavailable("the flow daemon kept refusing the request")


def prewarm() -> bool:
    """Start this environment's daemon in the background if it is not running; True when one is up.

    Called by `dossier init` and `case import`: Prefect's start-up (about 8 s) then overlaps the
    caseworker's next steps instead of adding to the first `dossier build`. Never fails the caller.
    """
    if not enabled():
        return False
    try:
        _start(socket_path())  # returns at once if one listens, else once the new one listens (it warms up alone)
        return True
    except (DaemonUnavailable, OSError):
        return False


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _start_time(pid: int) -> str:
    """The kernel's start time of a process (field 22 of /proc/PID/stat): tells a reused pid apart."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return ""


def record_children(path: Path) -> None:
    """Write this process's pid, start time and child processes (Prefect's server) to `path` (.pids)."""
    me = os.getpid()
    children: list[int] = []
    for task in Path(f"/proc/{me}/task").iterdir():
        try:
            children += [int(p) for p in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    record = {"daemon": me, "started": _start_time(me), "children": sorted(set(children))}
    path.with_suffix(".pids").write_text(json.dumps(record))


def record_in_process_children() -> Path:
    """record_children for a CLI running flows in its own process; the record to remove on a clean exit."""
    path = runtime_dir() / f"inproc-{os.getpid()}.pids"
    record_children(path)
    return path


def _stop_servers(pids: list[int]) -> list[int]:
    """SIGTERM those of the recorded pids that are still Prefect's server (never a process that reused one)."""
    stopped = []
    for pid in pids:
        if b"prefect.server" in _cmdline(pid):
            try:
                os.kill(pid, signal.SIGTERM)
                stopped.append(pid)
            except OSError:
                continue
    return stopped


def stop_own_children(timeout: float = 10.0) -> list[int]:
    """Stop the Prefect server this process recorded as its child, and forget the record; the pids stopped.

    For a process that is ending but cannot count on atexit: uvicorn re-raises SIGTERM after its
    shutdown, so `kill <web pid>` would otherwise leave Prefect's temporary server without a parent.
    """
    record = runtime_dir() / f"inproc-{os.getpid()}.pids"
    try:
        children = [int(p) for p in json.loads(record.read_text())["children"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    stopped = _stop_servers(children)
    deadline = time.monotonic() + timeout
    for pid in stopped:
        while time.monotonic() < deadline and b"prefect.server" in _cmdline(pid):
            with contextlib.suppress(ChildProcessError, OSError):
                os.waitpid(pid, os.WNOHANG)  # our own child: reap it, or it lingers as a zombie
            time.sleep(0.05)
    record.unlink(missing_ok=True)
    return stopped


def sweep_orphans(folder: Path | None = None) -> list[int]:
    """Stop the Prefect servers of daemons that were killed outright; the pids stopped.

    A daemon stopped normally takes its server with it; one killed with SIGKILL leaves the server
    (about 230 MB) running with no parent. Each daemon records its children beside its socket, and
    the next daemon (or `dossier daemon-stop`) stops those whose daemon is gone. A pid is only
    signalled while its command line still names Prefect's server, never a process that reused it.
    """
    stopped: list[int] = []
    where = folder or runtime_dir()
    for record in [*where.glob("flows-*.pids"), *where.glob("inproc-*.pids")]:
        try:
            data = json.loads(record.read_text())
            daemon, children = int(data["daemon"]), [int(p) for p in data["children"]]
        except (OSError, ValueError, KeyError, TypeError):
            record.unlink(missing_ok=True)
            continue
        if _cmdline(daemon) and _start_time(daemon) == data.get("started", _start_time(daemon)):
            continue  # still running: its children are its own business
        stopped += _stop_servers(children)
        record.unlink(missing_ok=True)
    return stopped


def _ask_to_stop(path: Path) -> bool:
    try:
        with _connect(path) as sock:
            sock.sendall(b'{"flow": "stop"}\n')
            sock.recv(100)
            return True
    except OSError:
        path.unlink(missing_ok=True)
        return False


def stop_current() -> int:
    """Stop only the daemon serving this environment (DOSSIER_HOME, store, Prefect settings); 0 or 1."""
    sweep_orphans()
    path = socket_path()
    return int(path.exists() and _ask_to_stop(path))


def stop_all() -> int:
    """Ask every daemon of this user to exit, then stop servers orphaned by killed ones; how many answered."""
    sweep_orphans()
    return sum(_ask_to_stop(path) for path in runtime_dir().glob("flows-*.sock"))


def _rebuild_error(err: dict[str, Any]) -> DossierError:
    """The daemon's error as the same DossierError family, so the CLI exit code is unchanged."""
    from core import errors

    cls = getattr(errors, err.get("type", ""), None)
    if not (isinstance(cls, type) and issubclass(cls, DossierError)):
        cls = DossierError
    exc = DossierError.__new__(cls)
    DossierError.__init__(exc, err["message"], hint=err.get("hint", ""))
    exc.exit_code = int(err.get("exit_code", 1))
    return exc
