"""Builds on a work pool, the parts that need no server: settings refused clearly, the outcome record read
back as written, a worker's failure message turned back into the error it was. The runs themselves, on a
Prefect server with workers, are in tests/test_scaleout.py (CLI and case desk)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from core.errors import DomainFailure, EvidenceRejected, NotFound, NotReady, StorageUnavailable, remote_error
from tests.clirun import dossier
from workflows.pool import outcome_from_rows, outcome_rows


def test_a_pool_without_a_prefect_server_is_refused_before_anything_runs(tmp_path: Path) -> None:
    env = {"DOSSIER_HOME": str(tmp_path / "home"), "DOSSIER_WORK_POOL": "dossier"}
    assert dossier("init", env={"DOSSIER_HOME": env["DOSSIER_HOME"]}).code == 0
    done = dossier("build", "K7Q2-M9XD", env=env)
    assert done.code == 2
    assert "DOSSIER_WORK_POOL=dossier is set but PREFECT_API_URL is not" in done.stderr
    assert "Traceback" not in done.stderr


def test_deploy_needs_a_prefect_server(tmp_path: Path) -> None:
    done = dossier("deploy", "--pool", "dossier", env={"DOSSIER_HOME": str(tmp_path)})
    assert done.code == 2
    assert "PREFECT_API_URL is not set" in done.stderr


@pytest.mark.parametrize(
    ("kind", "outcome"),
    [
        ("build", {"case_id": "K7Q2-M9XD", "packet_id": "P-0123456789AB", "object_key": "k", "stage": "s", "pages": 3}),
        ("advance", {"case_id": "K7Q2-M9XD", "packet_id": "P-0123456789AB", "from_stage": "a", "to_stage": None}),
        (
            "group",
            {
                "group_id": "G-0123456789AB",
                "object_key": "groups/G-0123456789AB.age",
                "pages": 40,
                "members": {"K7Q2-M9XD": "P-0123456789AB", "R2D4-8HJK": "P-BA9876543210"},
            },
        ),
    ],
)
def test_the_outcome_record_reads_back_as_the_flow_returned_it(kind: str, outcome: dict[str, object]) -> None:
    rows = outcome_rows(kind, outcome)
    assert all(not isinstance(v, dict | list) for row in rows for v in row.values())  # a flat table for the UI
    assert outcome_from_rows(kind, rows) == outcome


def test_a_workers_failure_message_becomes_the_error_it_was() -> None:
    refusal = remote_error("Flow run encountered an exception: NotReady: case K7Q2-M9XD: not ready (fix it)", "run")
    assert type(refusal) is NotReady and str(refusal) == "case K7Q2-M9XD: not ready (fix it)"
    rejected = remote_error("Flow run encountered an exception: EvidenceRejected: case K7Q2-M9XD: 1 ...", "run")
    assert type(rejected) is EvidenceRejected and rejected.exit_code == 2
    # The class named first wins, not one quoted later in the text.
    first = remote_error("...: StorageUnavailable: store down; NotFound: x", "run")
    assert type(first) is StorageUnavailable
    assert type(remote_error("...: NotFound: no such case", "run")) is NotFound
    other = remote_error("Flow run encountered an exception: KeyError: 'x'", "flow run 42")
    assert type(other) is DomainFailure and "flow run 42 failed on its worker" in str(other)


def test_a_prefect_server_that_does_not_answer_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = {"DOSSIER_HOME": str(tmp_path / "home")}
    assert dossier("init", env=home).code == 0
    env = home | {
        "DOSSIER_WORK_POOL": "dossier",
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_CLIENT_MAX_RETRIES": "0",
        "PREFECT_HOME": str(tmp_path / "prefect"),
    }
    done = dossier("build", "K7Q2-M9XD", env=env, timeout=120)
    assert done.code == 1, done.stderr
    assert f"the Prefect server at http://127.0.0.1:{port}/api did not answer" in done.stderr
    assert "nothing was started" in done.stderr and "Traceback" not in done.stderr
