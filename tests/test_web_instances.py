"""Two case desks on one store, as behind a load balancer: a session, a build and a disabled account are seen
by both, because nothing is held only in one process (accounts, sessions and runs live in the store)."""

from __future__ import annotations

import io
import os
import re
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import bagit
import httpx
import pytest

from tests.clirun import grep_tree
from tests.web_fixtures import PASSWORD, Desk, form_token, served_desk, sign_in_at


@pytest.fixture(scope="module")
def second(desk: Desk) -> Iterator[tuple[str, Path, Path]]:
    """A second `dossier web` on the same DOSSIER_HOME and store, with a Prefect home and log of its own."""
    root = Path(tempfile.mkdtemp(prefix="desk-b-", dir=desk.root))
    (root / "tmp").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "PREFECT_"))} | desk.env
    env |= {"PREFECT_HOME": str(root / "prefect"), "TMPDIR": str(root / "tmp")}
    env["DOSSIER_ACTOR"] = "nobody"
    log = root / "server.log"
    with served_desk(env, log) as url:
        yield url, root, log


def test_a_session_and_a_build_started_on_one_desk_are_seen_on_the_other(
    desk: Desk, second: tuple[str, Path, Path]
) -> None:
    url_b, root_b, log_b = second
    case_id = desk.case_ids["fr-asylum-visa-couple"]
    with closing(sign_in_at(desk.url, "carla")) as on_a, httpx.Client(base_url=url_b, timeout=120) as on_b:
        on_b.cookies = on_a.cookies  # the proxy sent the same browser to the other instance
        assert on_b.get("/cases").status_code == 200  # the session is in the store, not in instance A
        page = on_a.get(f"/cases/{case_id}")
        started = on_a.post(f"/cases/{case_id}/build", data={"csrf_token": form_token(page.text)})
        run_url = started.headers["location"]
        assert started.status_code == 303 and run_url.startswith("/runs/R-")
        seen = on_b.get(f"{run_url}.json").json()  # instance B did not start it, yet knows it
        assert seen["state"] in ("running", "done")
        deadline = time.monotonic() + 300
        while seen["state"] == "running" and time.monotonic() < deadline:
            time.sleep(0.7)
            seen = on_b.get(f"{run_url}.json").json()
        assert seen["state"] == "done", seen
        result = on_b.get(run_url).text
        packet = re.search(r'href="/packets/(P-[0-9A-Z]{12})/download"', result)
        assert packet, result
        bag = on_b.get(f"/packets/{packet.group(1)}/download")
        assert bag.status_code == 200
        with tempfile.TemporaryDirectory(dir=root_b) as scratch:
            zipfile.ZipFile(io.BytesIO(bag.content)).extractall(scratch)
            (folder,) = list(Path(scratch).iterdir())
            bagit.Bag(str(folder)).validate()
        assert packet.group(1) in on_b.get(f"/cases/{case_id}").text
    # Instance B opened the case and served its packet: its own log and Prefect home hold no name.
    assert case_id.encode() in log_b.read_bytes()
    assert grep_tree(root_b, desk.names) == []


def test_an_account_disabled_on_one_desk_is_signed_out_on_the_other(desk: Desk, second: tuple[str, Path, Path]) -> None:
    url_b, _root, _log = second
    with closing(sign_in_at(url_b, "root")) as admin_b:
        page = admin_b.get("/accounts")
        made = admin_b.post(
            "/accounts/add",
            data={"csrf_token": form_token(page.text), "username": "dora", "role": "caseworker", "password": PASSWORD},
        )
        assert "dora" in made.text
        with closing(sign_in_at(desk.url, "dora")) as dora_a:  # the account made on B signs in on A
            assert dora_a.get("/cases").status_code == 200
            off = admin_b.post("/accounts/disable", data={"csrf_token": form_token(made.text), "username": "dora"})
            assert off.status_code == 200
            # Instance A trusts a session it checked for at most 5 s (workflows/accounts.py _RECHECK), then
            # reads the store again and finds the account disabled and its sessions gone.
            deadline = time.monotonic() + 8
            gone = dora_a.get("/cases")
            while gone.status_code == 200 and time.monotonic() < deadline:
                time.sleep(0.5)
                gone = dora_a.get("/cases")
            assert (gone.status_code, gone.headers.get("location")) == (303, "/login")
