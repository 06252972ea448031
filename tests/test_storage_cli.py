"""The storage commands through the real CLI: checkpoint, verify --since, export, shred, storage serve,
and the whole caseworker path on a real SeaweedFS with authentication."""

from __future__ import annotations

import csv
import json
import os
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.clirun import dossier, grep_tree
from tests.conftest import DOSSIER, EXAMPLE_SECRETS, REPO
from tests.fixtures_s3 import S3Service


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"DOSSIER_HOME": str(tmp_path / "home"), "PREFECT_HOME": str(tmp_path / "prefect"), "DOSSIER_ACTOR": "cw-1"}


def _import(env: dict[str, str], folder: Path) -> str:
    assert dossier("init", env=env).code == 0
    res = dossier("case", "import", str(folder), env=env)
    assert res.code == 0, res.stderr
    return res.last_line


def test_checkpoint_then_rollback_is_caught_by_verify_since(
    env: dict[str, str], example_case: Callable[[str], Path], tmp_path: Path
) -> None:
    _import(env, example_case("de-work-visa-family"))
    cp = tmp_path / "cp.json"
    res = dossier("audit", "checkpoint", "-o", str(cp), env=env)
    assert res.code == 0 and res.last_line == str(cp), res.stderr
    pub = Path(env["DOSSIER_HOME"]) / "keys" / "checkpoint-signing.pub"
    assert dossier("audit", "verify", "--since", str(cp), env=env).code == 0
    # Roll the store back by one entry and its object (a restored old backup), forgetting this machine's witness.
    store = Path(env["DOSSIER_HOME"]) / "store"
    last = sorted((store / "audit").iterdir())[-1]
    last.unlink()
    (Path(env["DOSSIER_HOME"]) / "audit-witness.json").unlink()
    seq = int(last.stem)
    res = dossier("audit", "verify", "--since", str(cp), "--json", env=env)
    assert res.code == 1 and "Traceback" not in res.stderr
    problems = json.loads(res.stdout)["problems"]
    assert any(p["seq"] == seq and "rolled back" in p["message"] for p in problems), problems
    assert pub.exists()


def test_export_writes_csv_and_html_without_personal_data(
    env: dict[str, str], example_case: Callable[[str], Path], tmp_path: Path
) -> None:
    case_id = _import(env, example_case("fr-asylum-visa-couple"))
    out = tmp_path / "report"
    res = dossier("audit", "export", "-o", str(out), env=env)
    assert res.code == 0, res.stderr
    assert "verified" in res.stdout
    rows = list(csv.DictReader((out / "audit.csv").open()))
    log = dossier("audit", "log", "--json", env=env)
    entries = json.loads(log.stdout)
    assert [int(r["seq"]) for r in rows] == [e["seq"] for e in entries]
    assert rows[-1]["hash"] == entries[-1]["hash"]
    assert rows[0]["action"] == "create-org-secret" and rows[0]["case_id"] == ""  # the fingerprint secret, made once
    assert {r["case_id"] for r in rows[1:]} == {case_id}
    page = (out / "audit.html").read_text()
    assert "Verified" in page and case_id in page and "<table>" in page
    assert grep_tree(out, EXAMPLE_SECRETS) == []
    res = dossier("audit", "export", "-o", str(out), "--case", case_id, env=env)
    assert res.code == 0 and (out / f"audit-{case_id}.html").exists()


def test_shred_asks_for_confirmation_then_makes_the_case_unreadable(
    env: dict[str, str], example_case: Callable[[str], Path]
) -> None:
    case_id = _import(env, example_case("de-work-visa-family"))
    res = dossier("case", "shred", case_id, env=env)  # no terminal, no --yes
    assert res.code == 2 and "--yes" in res.stderr
    assert dossier("case", "show", case_id, env=env).code == 0
    res = dossier("case", "shred", case_id, "--yes", env=env)
    assert res.code == 0, res.stderr
    shown = dossier("case", "show", case_id, env=env)
    assert shown.code == 1 and "shredded" in shown.stderr and "Traceback" not in shown.stderr
    assert dossier("case", "shred", "ZZZZ-ZZZZ", "--yes", env=env).code == 2
    log = dossier("audit", "log", "--case", case_id, "--json", env=env)
    assert '"shred-case"' in log.stdout
    assert dossier("audit", "verify", env=env).code == 0


@pytest.mark.s3
@pytest.mark.slow
def test_caseworker_path_on_real_s3_then_tamper_then_shred(
    s3_service: S3Service, env: dict[str, str], example_case: Callable[[str], Path], tmp_path: Path
) -> None:
    bucket = s3_service.new_bucket()
    env = env | s3_service.env() | {"DOSSIER_STORE": s3_service.url(bucket, retries=2)}
    init = dossier("init", env=env)
    assert init.code == 0 and "created bucket" in init.stdout, init.stdout + init.stderr
    case_id = _import(env, example_case("fr-asylum-visa-couple"))
    built = dossier("build", case_id, env=env)
    assert built.code == 0, built.stderr
    packet_id = built.last_line
    assert dossier("packet", "get", packet_id, "-o", str(tmp_path / "out"), env=env).code == 0
    assert dossier("audit", "verify", env=env).code == 0
    raw = s3_service.client()
    keys = [o["Key"] for o in raw.list_objects_v2(Bucket=bucket)["Contents"]]
    assert not [k for k in keys if any(s.lower() in k.lower() for s in EXAMPLE_SECRETS)]
    assert grep_tree(s3_service.data_dir, EXAMPLE_SECRETS) == []
    record = next(k for k in keys if "/record/" in k)
    raw.put_object(Bucket=bucket, Key=record, Body=b"overwritten through S3")
    bad = dossier("audit", "verify", env=env)
    assert bad.code == 1 and record in bad.stdout and "Traceback" not in bad.stderr
    assert dossier("case", "shred", case_id, "--yes", env=env).code == 0
    got = dossier("packet", "get", packet_id, "-o", str(tmp_path / "again"), env=env)
    assert got.code == 1 and "shredded" in got.stderr and "Traceback" not in got.stderr


def test_storage_serve_runs_a_private_s3_and_stops_cleanly(
    env: dict[str, str], example_case: Callable[[str], Path], tmp_path: Path
) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    full = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "AWS_"))} | env
    data = tmp_path / "weed"
    proc = subprocess.Popen(
        [str(DOSSIER), "storage", "serve", "--dir", str(data), "--port", str(port)],
        cwd=REPO,
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("DOSSIER_STORE="):
                break
        text = "".join(lines)
        assert f"DOSSIER_STORE=s3://dossier?endpoint=http://127.0.0.1:{port}" in text, text
        exports = dict(
            shlex.split(line)[1].split("=", 1) for line in text.split("Auditor")[0].splitlines() if "export " in line
        )
        assert set(exports) >= {"DOSSIER_STORE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}
        use = env | exports
        case_id = _import(use, example_case("de-work-visa-family"))
        assert dossier("audit", "verify", env=use).code == 0
        assert dossier("case", "show", case_id, env=use).code == 0
        wrong = use | {"AWS_SECRET_ACCESS_KEY": "guessed"}
        res = dossier("case", "list", env=wrong)
        assert res.code == 1 and "refused" in res.stderr
        weed_pid = int(re.search(r"PID (\d+)", text).group(1))  # type: ignore[union-attr]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    assert proc.returncode == 0
    time.sleep(0.2)
    with pytest.raises(ProcessLookupError):
        os.kill(weed_pid, 0)
    # Credentials were kept for the next start.
    assert (data / "s3-identities.json").stat().st_mode & 0o777 == 0o600
    assert exports["AWS_SECRET_ACCESS_KEY"] in (data / "s3-identities.json").read_text()
