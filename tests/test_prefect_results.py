"""Failed flow runs leave nothing in Prefect's result storage (issue 12, item 8).

Prefect's flow engine writes a failed run's exception to PREFECT_HOME/storage whatever persist_result
says; the exception's message can name evidence, people or a mistyped path. workflows.prefect_env
points result storage where nothing can be written. The flows run as the CLI and the daemon run them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import yaml

import country_rules
from casefile import load_case_folder
from core.errors import NotFound, NotReady
from storage import Vault
from workflows import flows
from workflows.local import run_local

TODAY = date(2026, 11, 23)


def _result_files() -> set[Path]:
    """Files in PREFECT_HOME/storage and wherever Prefect's settings put local results."""
    from prefect.settings import get_current_settings

    folders = {Path(os.environ["PREFECT_HOME"]) / "storage", Path(get_current_settings().results.local_storage_path)}
    return {p for folder in folders if folder.is_dir() for p in folder.rglob("*") if p.is_file()}


def test_failed_flow_runs_write_no_result_files(home: Path, example_case: Callable[[str], Path]) -> None:
    flows.vault.cache_clear()
    vault = Vault.from_env()
    vault.init()
    before = _result_files()

    with pytest.raises(NotFound):
        run_local("build", {"case_id": "ZZZZ-ZZZZ", "today": TODAY})  # no such case: the flow run fails

    folder = example_case("fr-asylum-visa-couple")
    data = yaml.safe_load((folder / "case.yaml").read_text())
    kept = {"ev-wanted", "ev-vetting"}  # named by prosecution and vetting; everything else is missing
    data["evidence"] = [e for e in data["evidence"] if e["id"] in kept]
    (folder / "case.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    case_id = vault.import_case(load_case_folder(folder, country_rules.known_kinds()), "test-caseworker")
    with pytest.raises(NotReady):  # refused, naming people and requirements in its message
        run_local("build", {"case_id": case_id, "today": TODAY})

    assert _result_files() - before == set(), "a failed flow run left its exception in PREFECT_HOME/storage"
