"""The case desk of the set, used as a caseworker would: sign in, build a case and see a refusal, with the
builds running on the pool's workers (DOSSIER_WORK_POOL), never in the web process.

Plain HTTP (httpx) with the desk's own forms and tokens: the browser walk is tests/test_web_browser.py's job;
here the point is where the build runs and that its outcome and refusal come back through Prefect.
"""

from __future__ import annotations

import io
import re
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from core.errors import DossierError
from scaleout.batch import PlannedCase
from scaleout.stack import BIN, POOL, Stack

USER = "desk-carla"
PASSWORD = "scale-out desk password 7"  # noqa: S105 - a throw-away account of a throw-away set


@dataclass
class DeskRun:
    """One build started from the case desk and how it ended."""

    case_id: str
    state: str  # done, refused, failed
    packet_id: str = ""
    page: str = ""


def add_caseworker(stack: Stack) -> None:
    """`dossier user add` at the office, as the admin would."""
    command = [str(BIN / "dossier"), "user", "add", USER, "--role", "caseworker", "--password-stdin"]
    stack.run_command(command, stack.office_env(), "adding the desk's caseworker", 120, stdin=PASSWORD + "\n")


def _token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    if found is None:
        raise DossierError("the desk's page has no form token")
    return found.group(1)


def sign_in(stack: Stack) -> httpx.Client:
    """A signed-in session of the desk's caseworker."""
    assert stack.web_url is not None
    client = httpx.Client(base_url=stack.web_url, timeout=60)
    form = client.get("/login")
    answer = client.post("/login", data={"csrf_token": _token(form.text), "username": USER, "password": PASSWORD})
    if answer.status_code != 303:
        raise DossierError(f"signing in to the desk failed ({answer.status_code})")
    return client


def build(client: httpx.Client, case_id: str, timeout: float = 600) -> DeskRun:
    """Press "Build packet" on the case page and wait on the run page until it ends."""
    page = client.get(f"/cases/{case_id}")
    if page.status_code != 200:
        raise DossierError(f"case page {case_id}: {page.status_code}")
    started = client.post(f"/cases/{case_id}/build", data={"csrf_token": _token(page.text)})
    run_url = started.headers.get("location", "")
    if started.status_code != 303 or not run_url.startswith("/runs/R-"):
        raise DossierError(f"starting a build of {case_id} from the desk failed ({started.status_code})")
    deadline = time.monotonic() + timeout
    state: dict[str, Any] = {"state": "running"}
    while state.get("state") == "running":
        if time.monotonic() > deadline:
            raise DossierError(f"the desk's build of {case_id} did not end within {timeout:.0f} s")
        time.sleep(0.5)
        state = client.get(f"{run_url}.json").json()
    text = client.get(run_url).text
    packet = re.search(r'href="/packets/(P-[^/"]+)/download"', text)
    return DeskRun(case_id, str(state["state"]), packet.group(1) if packet else "", page=text)


def valid_bag(client: httpx.Client, packet_id: str) -> bool:
    """Download the packet's BagIt zip from the desk and validate it with bagit-python."""
    import bagit

    answer = client.get(f"/packets/{packet_id}/download")
    if answer.status_code != 200:
        return False
    with tempfile.TemporaryDirectory(prefix="dossier-desk-bag-") as scratch:
        with zipfile.ZipFile(io.BytesIO(answer.content)) as zf:
            zf.extractall(scratch)
        (folder,) = list(Path(scratch).iterdir())
        try:
            bagit.Bag(str(folder)).validate()
        except bagit.BagError:
            return False
    return True


def flow_run_pool(stack: Stack, case_id: str) -> str:
    """The work pool of the newest build-packet flow run for the case, as Prefect's server recorded it."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    with stack.api(), get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[f"build-{case_id}"])),
            sort=FlowRunSort.EXPECTED_START_TIME_DESC,
            limit=1,
        )
    return str(runs[0].work_pool_name or "") if runs else ""


def web_children(stack: Stack) -> list[str]:
    """Command lines of the web process's children: a build run in it would leave Prefect's server there."""
    assert stack.web is not None
    found = []
    for task in Path(f"/proc/{stack.web.pid}/task").glob("*/children"):
        for pid in task.read_text().split():
            try:
                found.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120])
            except OSError:
                continue
    return found


def check_desk(stack: Stack, ready: PlannedCase, refused: PlannedCase | None) -> list[str]:
    """Build a ready case and a not-ready one from the desk; the problems found (none when all is well)."""
    problems: list[str] = []
    client = sign_in(stack)
    try:
        built = build(client, ready.case_id)
        if built.state != "done" or not built.packet_id:
            problems.append(f"desk build of {ready.case_id}: {built.state}, no packet")
        elif not valid_bag(client, built.packet_id):
            problems.append(f"desk build of {ready.case_id}: the downloaded bag does not validate")
        if flow_run_pool(stack, ready.case_id) != POOL:
            problems.append(f"desk build of {ready.case_id} did not run on work pool {POOL}")
        if refused is not None:
            no = build(client, refused.case_id)
            shown = 'table class="checklist' in no.page and "Traceback" not in no.page
            if no.state != "refused" or not shown:
                problems.append(f"desk build of not-ready {refused.case_id}: {no.state}, not shown as the checklist")
    finally:
        client.close()
    started = web_children(stack)
    if started:
        problems.append(f"the web process started processes of its own: {started}")
    return problems
