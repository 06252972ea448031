"""Shared pieces of the fault tests: an office (home + store + one imported case), runs that can be killed, checks."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench.common import ask_daemons_to_stop, kill_processes_of_home
from casefile import load_case_folder
from core.errors import DossierError
from core.settings import Settings
from packets import read_bag_zip
from storage import Vault
from storage.crypto import decrypt
from tests.conftest import DOSSIER, REPO

PY = REPO / ".venv" / "bin" / "python"
HOOK_DIR = Path(__file__).resolve().parent / "hook"
CASE_NAME = "fr-asylum-visa-couple"
ACTOR = "fault-tester"


@dataclass(frozen=True)
class Office:
    """One organisation's DOSSIER_HOME and store, holding one imported case."""

    home: Path
    store_url: str
    case_id: str
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self, **more: str) -> dict[str, str]:
        """The environment of a subprocess working for this office (nothing inherited from DOSSIER_/PREFECT_)."""
        base = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "PREFECT_"))}
        return base | {
            "DOSSIER_HOME": str(self.home),
            "DOSSIER_STORE": self.store_url,
            "DOSSIER_ACTOR": ACTOR,
            "COLUMNS": "200",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            **self.extra_env,
            **more,
        }

    def vault(self) -> Vault:
        """A vault on this office, in this process (S3 credentials must be in os.environ for s3 stores)."""
        return Vault(Settings(home=self.home, store_url=self.store_url, actor="fault-check"))

    @property
    def store_root(self) -> Path | None:
        return self.home / "store" if self.store_url.startswith("file://") else None


def new_office(home: Path, case_folder: Path, *, store_url: str | None = None, **extra_env: str) -> Office:
    """Initialise an office and import the case folder into it (in process, through the Vault API)."""
    import country_rules

    url = store_url or (home / "store").resolve().as_uri()
    office = Office(home=home, store_url=url, case_id="", extra_env=dict(extra_env))
    vault = office.vault()
    vault.init()
    loaded = load_case_folder(case_folder, extra_kinds=country_rules.known_kinds())
    case_id = vault.import_case(loaded, ACTOR)
    return replace(office, case_id=case_id)


def copy_office(office: Office, dest: Path) -> Office:
    """An independent copy of a file-store office (home, keys, store, audit witness)."""
    assert office.store_root is not None
    shutil.copytree(office.home, dest, symlinks=True)
    return replace(office, home=dest, store_url=(dest / "store").resolve().as_uri())


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def killed(self) -> bool:
        return self.code == -signal.SIGKILL

    @property
    def last_line(self) -> str:
        lines = [ln.strip() for ln in self.stdout.splitlines() if ln.strip()]
        return lines[-1] if lines else ""


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run(
    cmd: list[str],
    env: dict[str, str],
    *,
    kill_after: float | None = None,
    timeout: float = 240.0,
) -> Run:
    """Run a command in its own process group; SIGKILL the group after kill_after seconds if still running.

    Output goes to files, not pipes: a child left behind (a server the process started) must not keep
    the caller waiting for an end of file.
    """
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=err, start_new_session=True)
        timed_out = False
        try:
            proc.wait(timeout=kill_after if kill_after is not None else timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc.pid)
            proc.wait(timeout=60)
        finally:
            _kill_group(proc.pid)  # whatever the process left behind in its group
        out.seek(0)
        err.seek(0)
        result = Run(proc.returncode, out.read().decode(errors="replace"), err.read().decode(errors="replace"), 0.0)
    result.seconds = time.monotonic() - started
    if timed_out and kill_after is None:
        raise AssertionError(f"{cmd[:3]} did not finish within {timeout:.0f} s: {result.stderr[-2000:]}")
    return result


def run_driver(
    office: Office,
    *,
    kill_at_write: int | None = None,
    kill_after: float | None = None,
    trace: Path | None = None,
    pause_at_upload: Path | None = None,
    env: dict[str, str] | None = None,
) -> Run:
    """The plain build (tests/faults/build_driver.py) for the office's case."""
    cmd = [str(PY), "-m", "tests.faults.build_driver", office.case_id]
    if kill_at_write is not None:
        cmd += ["--kill-at-write", str(kill_at_write)]
    if trace is not None:
        cmd += ["--trace", str(trace)]
    if pause_at_upload is not None:
        cmd += ["--pause-at-upload", str(pause_at_upload)]
    return run(cmd, env or office.env(), kill_after=kill_after)


def run_cli(
    office: Office,
    *args: str,
    prefect_home: Path,
    kill_at_write: int | None = None,
    kill_after: float | None = None,
    timeout: float = 240.0,
) -> Run:
    """The real `dossier` command; kill_at_write makes it SIGKILL itself before its Nth store write."""
    more = {
        "PREFECT_HOME": str(prefect_home),
        "XDG_RUNTIME_DIR": str(private_runtime_dir(office)),  # this office's flow daemon socket lives here
        "DOSSIER_DAEMON_IDLE": "120",
    }
    if kill_at_write is not None:
        more |= {
            "DOSSIER_FAULT_KILL_AT_WRITE": str(kill_at_write),
            "PYTHONPATH": os.pathsep.join([str(HOOK_DIR), str(REPO)]),
        }
    return run([str(DOSSIER), *args], office.env(**more), kill_after=kill_after, timeout=timeout)


def private_runtime_dir(office: Office) -> Path:
    """A runtime folder of the office's own, so its flow daemon is not shared with anyone else's runs.

    Short on purpose: a Unix socket path must fit in 107 bytes, and pytest's tmp paths do not.
    """
    digest = hashlib.sha256(str(office.home).encode()).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"dxdg-{digest}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def stop_daemons(office: Office, timeout: float = 180.0) -> None:
    """Wait for the office's flow daemon to finish what it runs and stop it; then kill what it left behind.

    A daemon answers a stop request only after its current flow, so this also waits for a build
    that goes on after the CLI that asked for it was killed.
    """
    ask_daemons_to_stop(private_runtime_dir(office), timeout)
    time.sleep(0.5)
    kill_leftovers(office)
    shutil.rmtree(private_runtime_dir(office), ignore_errors=True)


def kill_leftovers(office: Office) -> list[int]:
    """SIGKILL every process this office's runs started that is still alive (found by its DOSSIER_HOME)."""
    return kill_processes_of_home(office.home)


def store_problems(office: Office) -> list[str]:
    """Every visible packet object must decrypt to a bag whose manifests check; the audit log must verify."""
    vault = office.vault()
    problems: list[str] = []
    for key in vault.store.list("packets/"):
        packet_id, owner = key.split("/")[1], key.rsplit("/", 1)[1].removesuffix(".age")
        try:
            # Decrypted directly: an object a kill left before its audit entry is adopted by the re-run,
            # and `packet get` (which wants that entry) refuses it meanwhile; it must still be whole.
            read_bag_zip(decrypt(vault.store.get(key), [vault.case_keys.get(owner)], f"packet {packet_id}"))
        except DossierError as exc:
            problems.append(f"visible packet object {key} is not an intact bag: {exc.message}")
    report = vault.audit.verify()
    problems += [f"audit verify: {p}" for p in report.problems]
    return problems


def archived_packets(office: Office) -> list[str]:
    """Packet ids the case record lists."""
    return [str(p["packet_id"]) for p in office.vault().packets_of(office.case_id)]


def with_scratch(office: Office, folder: Path) -> Office:
    """The office with LibreOffice's working folders in a folder of its own (to see what a kill leaves)."""
    folder.mkdir(parents=True, exist_ok=True)
    return replace(office, extra_env={**office.extra_env, "DOSSIER_SCRATCH": str(folder)})


def scratch_left(office: Office, wait: float = 5.0) -> list[str]:
    """What is still in the office's scratch folder after `wait` seconds (rendered letters must not be)."""
    folder = Path(office.extra_env["DOSSIER_SCRATCH"])
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline and any(folder.iterdir()):
        time.sleep(0.05)
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))[:10]


def tree_digest(root: Path) -> dict[str, str]:
    """relative path -> sha256 of every file under root (to prove nothing was overwritten)."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            out[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out
