"""A throw-away PostgreSQL cluster from Debian's `postgresql`: a temp folder, a loopback port, a password.

PostgreSQL refuses to run as root; when we are root the cluster is owned and run by the `postgres`
system user that Debian's package creates (any other unprivileged user works: DOSSIER_PG_USER).
The postmaster is our child (its own session), so stopping it, restarting it and cleaning up on
failure all go by its PID.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError, DossierError

DB_NAME = "prefect"
DB_USER = "prefect"


def pg_bindir() -> Path:
    """The folder of initdb/postgres/pg_dump: pg_config's answer, else Debian's newest version."""
    found = shutil.which("pg_config")
    if found:
        done = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False)
        candidate = Path(done.stdout.strip())
        if done.returncode == 0 and (candidate / "initdb").exists():
            return candidate
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name))
    if versions:
        return versions[-1].parent
    raise ConfigError(
        "PostgreSQL's server programs (initdb, postgres) were not found",
        hint="install Debian's `postgresql` package (tools/ensure-system-deps does it)",
    )


def _run_as() -> pwd.struct_passwd | None:
    """The unprivileged account to run PostgreSQL as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get("DOSSIER_PG_USER", "postgres")
    try:
        return pwd.getpwnam(name)
    except KeyError:
        raise ConfigError(
            f"running as root, and there is no `{name}` user to run PostgreSQL as",
            hint="install Debian's `postgresql` (it creates the user) or set DOSSIER_PG_USER to an unprivileged user",
        ) from None


@dataclass
class PgCluster:
    """A running cluster; `url` is what Prefect's server connects with."""

    root: Path
    port: int
    password: str
    bindir: Path
    account: pwd.struct_passwd | None
    process: subprocess.Popen[bytes] | None = None

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://{DB_USER}:{self.password}@127.0.0.1:{self.port}/{DB_NAME}"

    def _user_args(self) -> dict[str, object]:
        if self.account is None:
            return {}
        return {"user": self.account.pw_uid, "group": self.account.pw_gid, "extra_groups": []}

    def _client_env(self) -> dict[str, str]:
        return {**os.environ, "PGPASSWORD": self.password, "PGCONNECT_TIMEOUT": "5"}

    def start(self, timeout: float = 60.0) -> None:
        """Start the postmaster on 127.0.0.1:port (no Unix socket outside our folder) and wait for it."""
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(  # type: ignore[call-overload]
                [
                    str(self.bindir / "postgres"),
                    "-D",
                    str(self.data_dir),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.root),
                    "-c",
                    "max_connections=100",
                    "-c",
                    "fsync=off",  # a throw-away cluster: durability is not what it is for
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                **self._user_args(),
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise DossierError(
                    f"PostgreSQL exited at start (code {self.process.returncode})", hint=f"see {self.log_file}"
                )
            ready = subprocess.run(
                [str(self.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-d", DB_NAME],
                capture_output=True,
                check=False,
                env=self._client_env(),
            )
            if ready.returncode == 0:
                return
            time.sleep(0.2)
        raise DossierError(f"PostgreSQL did not accept connections within {timeout:.0f} s", hint=f"see {self.log_file}")

    def stop(self, timeout: float = 30.0) -> None:
        """Fast shutdown (SIGINT: sessions are cut, data is kept), SIGKILL if it lingers."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def restart(self, down_for: float = 0.0) -> float:
        """Stop, stay down `down_for` seconds, start on the same port; seconds it was unreachable."""
        began = time.monotonic()
        self.stop()
        time.sleep(down_for)
        self.start()
        return time.monotonic() - began

    def dump(self, target: Path) -> Path:
        """pg_dump of Prefect's database (plain SQL), for the leak check and as the backup example."""
        with target.open("wb") as out:
            done = subprocess.run(
                [
                    str(self.bindir / "pg_dump"),
                    "-h",
                    "127.0.0.1",
                    "-p",
                    str(self.port),
                    "-U",
                    DB_USER,
                    "--no-owner",
                    DB_NAME,
                ],
                stdout=out,
                stderr=subprocess.PIPE,
                env=self._client_env(),
                check=False,
            )
        if done.returncode != 0:
            raise DossierError(
                f"pg_dump failed (exit {done.returncode})", hint=done.stderr.decode(errors="replace")[-300:]
            )
        return target

    def remove(self) -> None:
        """Stop and delete the cluster's folder."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def create_cluster(port: int) -> PgCluster:
    """initdb a new cluster in a new temp folder owned by the PostgreSQL account; start it; create the database.

    The folder sits directly under the system temp folder: the account must be able to reach it.
    """
    bindir = pg_bindir()
    account = _run_as()
    root = Path(tempfile.mkdtemp(prefix="dossier-pg-"))
    password = secrets.token_urlsafe(24)
    pwfile = root / "pwfile"
    fd = os.open(pwfile, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(password + "\n")
    if account is not None:
        os.chown(root, account.pw_uid, account.pw_gid)
        os.chown(pwfile, account.pw_uid, account.pw_gid)
    cluster = PgCluster(root, port, password, bindir, account)
    try:
        done = subprocess.run(  # type: ignore[call-overload]
            [
                str(bindir / "initdb"),
                "-D",
                str(cluster.data_dir),
                "-U",
                DB_USER,
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--no-sync",
            ],
            capture_output=True,
            check=False,
            cwd=root,
            **cluster._user_args(),
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if done.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise DossierError(
            f"initdb failed (exit {done.returncode})", hint=done.stderr.decode(errors="replace").strip()[-300:]
        )
    try:
        cluster.start()
        made = subprocess.run(
            [str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", DB_USER, DB_NAME],
            capture_output=True,
            check=False,
            env=cluster._client_env(),
        )
        if made.returncode != 0:
            raise DossierError("createdb failed", hint=made.stderr.decode(errors="replace").strip()[-300:])
    except BaseException:
        cluster.remove()
        raise
    return cluster
