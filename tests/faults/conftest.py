"""Fixtures of the fault tests: the 30-evidence example case and a template office holding it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from casefile.specimens import write_specimens
from tests.conftest import EXAMPLES
from tests.faults.support import CASE_NAME, Office, copy_office, new_office, run_driver, store_problems


@pytest.fixture(scope="session")
def fault_case_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """fr-asylum-visa-couple (30 evidence files) with its specimen evidence generated."""
    dest = tmp_path_factory.mktemp("fault-case") / CASE_NAME
    shutil.copytree(EXAMPLES / CASE_NAME, dest, ignore=shutil.ignore_patterns("evidence"))
    write_specimens(dest)
    return dest


@pytest.fixture(scope="session")
def template_office(tmp_path_factory: pytest.TempPathFactory, fault_case_folder: Path) -> Office:
    """An initialised file-store office with the case imported; copy it, never change it."""
    return new_office(tmp_path_factory.mktemp("fault-template") / "home", fault_case_folder)


@pytest.fixture
def office(template_office: Office, tmp_path: Path) -> Office:
    """A private copy of the template office."""
    return copy_office(template_office, tmp_path / "home")


@pytest.fixture(scope="session")
def calibration(template_office: Office, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One uninterrupted plain build on a copy: its packet id, timeline and writes."""
    root = tmp_path_factory.mktemp("calibration")
    office = copy_office(template_office, root / "home")
    trace = root / "trace.json"
    done = run_driver(office, trace=trace)
    assert done.code == 0, done.stderr[-3000:]
    data = json.loads(trace.read_text())
    data["packet_id"] = done.last_line
    data["seconds"] = done.seconds
    assert data["packet_id"].startswith("P-")
    assert data["writes"] >= 4, data  # packet object, audit entry, record, audit entry at least
    assert store_problems(office) == []
    assert office.store_root is not None
    data["packet_bytes"] = sum(p.stat().st_size for p in (office.store_root / "packets").rglob("*.age"))
    return data


@pytest.fixture(scope="session")
def fault_prefect_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One PREFECT_HOME for every CLI run of the fault tests (its database is migrated once)."""
    return tmp_path_factory.mktemp("fault-prefect")
