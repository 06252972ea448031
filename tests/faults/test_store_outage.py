"""SeaweedFS stopped while a packet is being uploaded: a clear error (exit 1) or a retry to success; nothing lost.

The build (tests/faults/build_driver.py on an s3 store) pauses just before the HTTP request that
uploads the packet; the test crashes `weed mini` (SIGTERM then SIGKILL at once), optionally restarts
it on the same port and data, then lets the upload go on.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage.seaweed import S3Identity, SeaweedServer, start_seaweed
from tests.faults.support import Office, Run, new_office, run_driver, store_problems


@dataclass
class Weed:
    """A SeaweedFS of this module's own, which the tests stop and restart."""

    data_dir: Path
    admin: S3Identity
    server: SeaweedServer

    @property
    def port(self) -> int:
        return self.server.ports["s3.port"]

    def crash(self) -> None:
        self.server.stop(grace=0.0)  # SIGTERM, then SIGKILL without waiting: a crash, not a clean stop

    def restart(self) -> None:
        self.server = start_seaweed(self.data_dir, identities=[self.admin], s3_port=self.port)

    def env(self) -> dict[str, str]:
        return self.admin.env() | {"AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture
def weed() -> Iterator[Weed]:
    root = Path(tempfile.mkdtemp(prefix="dossier-fault-s3-"))
    admin = S3Identity.generate("admin")
    w = Weed(root, admin, start_seaweed(root, identities=[admin]))
    try:
        yield w
    finally:
        w.server.stop(grace=5)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def s3_office(weed: Weed, fault_case_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Office:
    for key, value in weed.env().items():
        monkeypatch.setenv(key, value)
    url = weed.server.store_url("fault-outage") + "&retries=2"
    return new_office(tmp_path / "home", fault_case_folder, store_url=url, **weed.env())


def _objects(office: Office) -> dict[str, str | None]:
    store = office.vault().store
    return {key: store.sha256(key) for prefix in ("keys/", "cases/", "audit/") for key in store.list(prefix)}


def _paused_build(office: Office, flag: Path) -> tuple[ThreadPoolExecutor, Future[Run]]:
    pool = ThreadPoolExecutor(1)
    future = pool.submit(run_driver, office, pause_at_upload=flag)
    deadline = time.monotonic() + 120
    while not Path(f"{flag}.paused").exists():
        assert time.monotonic() < deadline, "the build never reached the packet upload"
        assert not future.done(), future.result().stderr[-2000:]
        time.sleep(0.05)
    return pool, future


@pytest.mark.slow
def test_store_down_mid_upload_fails_clearly_and_loses_nothing(s3_office: Office, weed: Weed, tmp_path: Path) -> None:
    before = _objects(s3_office)
    flag = tmp_path / "upload"
    pool, future = _paused_build(s3_office, flag)
    weed.crash()
    Path(f"{flag}.go").touch()
    failed = future.result(timeout=180)
    pool.shutdown()

    assert failed.code == 1, f"exit {failed.code}: {failed.stderr[-3000:]}"
    assert "Traceback" not in failed.stderr
    assert "cannot be reached" in failed.stderr or "retry later" in failed.stderr, failed.stderr
    assert failed.stderr.startswith("error:"), failed.stderr

    weed.restart()
    after = _objects(s3_office)
    assert {k: v for k, v in after.items() if k in before} == before, "objects stored before the outage changed"
    assert store_problems(s3_office) == []

    again = run_driver(s3_office)
    assert again.code == 0, again.stderr[-3000:]
    assert store_problems(s3_office) == []
    assert [p["packet_id"] for p in s3_office.vault().packets_of(s3_office.case_id)] == [again.last_line]


@pytest.mark.slow
def test_store_restarted_during_the_upload_retries_to_success(s3_office: Office, weed: Weed, tmp_path: Path) -> None:
    before = _objects(s3_office)
    flag = tmp_path / "upload"
    pool, future = _paused_build(s3_office, flag)
    weed.crash()
    weed.restart()
    Path(f"{flag}.go").touch()  # the upload now goes to a connection the crash has broken: boto3 retries
    done = future.result(timeout=180)
    pool.shutdown()

    assert done.code == 0, f"exit {done.code}: {done.stderr[-3000:]}"
    assert done.last_line.startswith("P-")
    after = _objects(s3_office)
    assert {k: v for k, v in after.items() if k in before} == before
    assert store_problems(s3_office) == []
    assert [p["packet_id"] for p in s3_office.vault().packets_of(s3_office.case_id)] == [done.last_line]
