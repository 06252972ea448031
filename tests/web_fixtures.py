"""A real case desk for the web tests: `dossier init`, accounts and cases made with the CLI, `dossier web` served.

One server per test session (started on first use, stopped by PID at the end): the browser and the
HTTP tests share it. Its log, its DOSSIER_HOME, PREFECT_HOME and TMPDIR are kept apart so the leak
test can search every file it wrote.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import yaml

from casefile.specimens import write_specimens
from tests.clirun import dossier
from tests.conftest import DOSSIER, EXAMPLES, REPO

PASSWORD = "correct horse battery staple"
ROLES = {"carla": "caseworker", "adam": "adviser", "audrey": "auditor", "root": "admin"}


@dataclass
class Desk:
    """The running case desk as tests see it."""

    url: str
    root: Path
    env: dict[str, str]
    log: Path
    case_ids: dict[str, str]  # example folder name -> case id
    names: list[str] = field(default_factory=list)  # every personal value of the imported cases

    def roots_written(self) -> list[Path]:
        """Every folder the server and the CLI wrote to (DOSSIER_HOME, PREFECT_HOME, TMPDIR)."""
        return [Path(self.env["DOSSIER_HOME"]), Path(self.env["PREFECT_HOME"]), Path(self.env["TMPDIR"])]


def personal_values(case_yaml: Path) -> list[str]:
    """Names, native names, birth dates and places of everyone in a case.yaml (what must never leak)."""
    data = yaml.safe_load(case_yaml.read_text())
    people = [data["applicant"], *data.get("household", [])]
    keys = ("given_name", "family_name", "given_name_native", "family_name_native", "birth_date", "birth_place")
    return sorted({str(p[k]) for p in people for k in keys if p.get(k)})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dossier web exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"dossier web did not answer within 60 s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """Accounts for every role and two example cases (a French couple, a German family) behind `dossier web`."""
    root = tmp_path_factory.mktemp("desk")
    env = {
        "DOSSIER_HOME": str(root / "home"),
        "PREFECT_HOME": str(root / "prefect"),
        "TMPDIR": str(root / "tmp"),
        "DOSSIER_ACTOR": "desk-setup",
        "DOSSIER_DAEMON": "off",
    }
    (root / "tmp").mkdir()
    assert dossier("init", env=env).code == 0
    for user, role in ROLES.items():
        full = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "PREFECT_"))} | env
        made = subprocess.run(
            [str(DOSSIER), "user", "add", user, "--role", role, "--password-stdin"],
            input=PASSWORD + "\n",
            env=full,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
        )
        assert made.returncode == 0, made.stderr
    case_ids: dict[str, str] = {}
    names: list[str] = []
    sources = root / "sources"  # the caseworker's plaintext folders: outside every folder the desk writes
    for name in ("fr-asylum-visa-couple", "de-work-visa-family"):
        folder = sources / name
        shutil.copytree(EXAMPLES / name, folder, ignore=shutil.ignore_patterns("evidence"))
        write_specimens(folder)
        before = set(case_ids.values())
        assert dossier("case", "import", str(folder), env=env).code == 0
        listed = dossier("case", "list", "--json", env=env)
        ids = {row["case_id"] for row in json.loads(listed.stdout)} - before
        case_ids[name] = ids.pop()
        names += personal_values(folder / "case.yaml")
    # Two variants of the French couple under other (invented) names: one complete (a second member for a
    # group submission), one without the applicant's passport (not ready whatever the date).
    variants = {
        "fr-second": (("Timur", "Belov", "Тимур", "Белов", "1996-01-09", "Omsk"), ()),
        "fr-incomplete": (("Gleb", "Sokolov", "Глеб", "Соколов", "1994-04-21", "Perm"), ("ev-id", "ev-id-fr")),
    }
    base = yaml.safe_load((EXAMPLES / "fr-asylum-visa-couple" / "case.yaml").read_text())
    for variant, (person, dropped) in variants.items():
        data = json.loads(json.dumps(base, default=str))
        keys = ("given_name", "family_name", "given_name_native", "family_name_native", "birth_date", "birth_place")
        data["applicant"].update(dict(zip(keys, person, strict=True)))
        data["evidence"] = [e for e in data["evidence"] if e["id"] not in dropped]
        folder = sources / variant
        folder.mkdir(parents=True)
        (folder / "case.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
        write_specimens(folder)
        before = set(case_ids.values())
        assert dossier("case", "import", str(folder), env=env).code == 0
        listed = dossier("case", "list", "--json", env=env)
        case_ids[variant] = ({row["case_id"] for row in json.loads(listed.stdout)} - before).pop()
        names += personal_values(folder / "case.yaml")
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "PREFECT_"))} | env
    full_env["DOSSIER_ACTOR"] = "nobody"  # the web app must record the signed-in user, never this
    log = root / "server.log"
    with served_desk(full_env, log, "--proxy-headers") as url:
        yield Desk(url=url, root=root, env=env, log=log, case_ids=case_ids, names=sorted(set(names)))


@contextmanager
def served_desk(env: dict[str, str], log: Path, *args: str) -> Iterator[str]:
    """`dossier web` on a free loopback port with this environment, its output in `log`; stopped after."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = env | {"PYTHONUNBUFFERED": "1"}  # the log file is complete when a leak test reads it
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(DOSSIER), "web", "--port", str(port), *args],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
        )
    try:
        _wait_ready(url, proc, log)
        yield url
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def form_token(html: str) -> str:
    """The per-session form token of a desk page (every POST needs it)."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no form token"
    return match.group(1)


def sign_in_at(url: str, user: str, **client_options: object) -> httpx.Client:
    """A client holding a fresh session of `user` on the desk at `url` (through the real login form)."""
    client = httpx.Client(base_url=url, timeout=120, **client_options)  # type: ignore[arg-type]
    form = client.get("/login")
    answer = client.post("/login", data={"csrf_token": form_token(form.text), "username": user, "password": PASSWORD})
    assert answer.status_code == 303, answer.text
    return client


# Debian's Chromium as root on a machine with no network but loopback: Playwright's own download cannot work.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
