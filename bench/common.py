"""What the benchmarks share: a work folder, the 30-evidence example case, subprocess runs, a SeaweedFS.

Heavy measurements run in child processes (`python -m bench.<module> ...`) so each starts from a clean
environment (its own DOSSIER_HOME, PREFECT_HOME) and its peak memory is its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
PY = REPO / ".venv" / "bin" / "python"
DOSSIER = REPO / ".venv" / "bin" / "dossier"
EXAMPLES = REPO / "examples"
BUILD_CASE = "fr-asylum-visa-couple"  # 30 evidence files
OTHER_CASE = "de-work-visa-family"
ACTOR = "bench"


@dataclass
class Context:
    """One `python -m bench` run: options, a scratch folder, lazily prepared inputs and servers."""

    quick: bool
    work: Path
    profile: bool = False
    _folders: dict[str, Path] = field(default_factory=dict)
    _seaweed: Any = None

    def case_folder(self, name: str = BUILD_CASE) -> Path:
        """An example case folder with its specimen evidence generated (once per run)."""
        if name not in self._folders:
            from casefile.specimens import write_specimens

            dest = self.work / "cases" / name
            shutil.copytree(EXAMPLES / name, dest, ignore=shutil.ignore_patterns("evidence"))
            write_specimens(dest)
            self._folders[name] = dest
        return self._folders[name]

    def seaweed(self) -> Any:
        """A SeaweedFS (`weed mini`) on loopback for this run, started on first use (storage/seaweed.py)."""
        if self._seaweed is None:
            from storage.seaweed import S3Identity, start_seaweed

            root = Path(tempfile.mkdtemp(prefix="dossier-bench-s3-"))
            self._seaweed = start_seaweed(root, identities=[S3Identity.generate("bench")])
        return self._seaweed

    def close(self) -> None:
        if self._seaweed is not None:
            data_dir = self._seaweed.data_dir
            self._seaweed.stop(grace=15)
            shutil.rmtree(data_dir, ignore_errors=True)
            self._seaweed = None


def clean_env(**more: str) -> dict[str, str]:
    """This process's environment without any DOSSIER_/PREFECT_ setting, plus `more`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "PREFECT_"))}
    env |= {"PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DOSSIER_ACTOR": ACTOR, "COLUMNS": "200"}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env | more


@dataclass
class Timed:
    code: int
    seconds: float
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        lines = [ln.strip() for ln in self.stdout.splitlines() if ln.strip()]
        return lines[-1] if lines else ""


def timed(cmd: list[str], env: dict[str, str], *, timeout: float = 900, check: bool = True) -> Timed:
    """Run a command to its end (output in files, so a server it leaves behind cannot block us); wall time."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=err, start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        result = Timed(
            proc.returncode, seconds, out.read().decode(errors="replace"), err.read().decode(errors="replace")
        )
    if check and result.code != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} failed (exit {result.code}):\n{result.stderr[-3000:]}")
    return result


def child(module: str, *args: str, env: dict[str, str], timeout: float = 900) -> dict[str, Any]:
    """Run `python -m bench.<module> ARGS` and return the JSON object it prints last."""
    res = timed([str(PY), "-m", f"bench.{module}", *args], env, timeout=timeout)
    return json.loads(res.last_line)


def emit(data: dict[str, Any]) -> None:
    """A child's answer: one JSON line on standard output."""
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


# --- in a child: cases in a store --------------------------------------------------------------


def load_folder(folder: Path) -> Any:
    import country_rules
    from casefile import load_case_folder

    return load_case_folder(folder, extra_kinds=country_rules.known_kinds())


def import_copies(vault: Any, folders: list[Path], n: int) -> list[str]:
    """Import n copies of the given case folders (cycled), each under a fresh case id."""
    from casefile import LoadedCase
    from casefile.model import new_case_id

    loaded = [load_folder(f) for f in folders]
    ids = []
    for i in range(n):
        base = loaded[i % len(loaded)]
        case_id = new_case_id()
        data = dict(base.case.data)
        if "case_id" in data:
            data["case_id"] = case_id
        copy = LoadedCase(case=replace(base.case, case_id=case_id, data=data), files=base.files)
        ids.append(vault.import_case(copy, ACTOR))
    return ids


def file_vault(home: Path) -> Any:
    """An initialised vault with the embedded file store under home."""
    from core.settings import Settings
    from storage import Vault

    vault = Vault(Settings(home=home, store_url=(home / "store").resolve().as_uri(), actor=ACTOR))
    vault.init()
    return vault


# --- the CLI's flow daemon -------------------------------------------------------------------


def short_runtime_dir(key: str) -> Path:
    """A private XDG_RUNTIME_DIR for one benchmark's daemon (short: Unix socket paths are limited)."""
    folder = Path(tempfile.gettempdir()) / f"dbench-{hashlib.sha256(key.encode()).hexdigest()[:10]}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def ask_daemons_to_stop(runtime_dir: Path, timeout: float = 120.0) -> None:
    """Ask each flow daemon under runtime_dir to stop; each answers once its current flow is done."""
    for sock_path in (runtime_dir / "dossier").glob("flows-*.sock"):
        with contextlib.suppress(OSError), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(sock_path))
            sock.sendall(b'{"flow": "stop"}\n')
            sock.recv(100)


def kill_processes_of_home(home: Path) -> list[int]:
    """SIGKILL every process still alive with this DOSSIER_HOME in its environment; their pids."""
    marker = f"DOSSIER_HOME={home}".encode()
    killed = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if marker in environ:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(proc.name), signal.SIGKILL)
                killed.append(int(proc.name))
    return killed


def stop_daemons(runtime_dir: Path, home: Path) -> None:
    """Stop the flow daemon(s) under runtime_dir, then SIGKILL any process left with this DOSSIER_HOME."""
    ask_daemons_to_stop(runtime_dir)
    time.sleep(0.5)
    kill_processes_of_home(home)
    shutil.rmtree(runtime_dir, ignore_errors=True)


def cores() -> dict[str, int]:
    """Logical CPUs of the machine and those this process may use."""
    return {"cpu_count": os.cpu_count() or 0, "usable": len(os.sched_getaffinity(0))}


def import_main(argv: list[str]) -> None:
    """Child: python -m bench.common import HOME N FOLDER... -> {"case_ids": [...]}"""
    home, n, folders = Path(argv[0]), int(argv[1]), [Path(p) for p in argv[2:]]
    emit({"case_ids": import_copies(file_vault(home), folders, n)})


if __name__ == "__main__":
    if sys.argv[1] == "import":
        import_main(sys.argv[2:])
