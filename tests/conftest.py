"""Shared fixtures: isolated homes, example case folders with generated specimen evidence."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from casefile import LoadedCase
from casefile.specimens import write_specimens

pytest_plugins = ["tests.fixtures_packets", "tests.fixtures_s3", "tests.web_fixtures"]

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
DOSSIER = REPO / ".venv" / "bin" / "dossier"

# Personal data of the example cases: none of it may appear outside encrypted objects.
EXAMPLE_SECRETS = ["Pavel", "Orlov", "1998-03-14", "Tomsk", "Vera", "Marchenko", "1991-11-05", "Samara", "Sofia"]

# Prefect must never touch the developer's own ~/.prefect from the tests.
_SESSION_HOME = Path(os.environ.setdefault("DOSSIER_TEST_ROOT", "/tmp/dossier-tests")) / f"s{os.getpid()}"
os.environ["PREFECT_HOME"] = str(_SESSION_HOME / "prefect")
os.environ["DOSSIER_DAEMON"] = "off"
(_SESSION_HOME / "prefect").mkdir(parents=True, exist_ok=True)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh DOSSIER_HOME with the embedded file store."""
    h = tmp_path / "home"
    monkeypatch.setenv("DOSSIER_HOME", str(h))
    monkeypatch.delenv("DOSSIER_STORE", raising=False)
    monkeypatch.setenv("DOSSIER_ACTOR", "test-caseworker")
    return h


@pytest.fixture
def example_case(tmp_path: Path) -> Callable[[str], Path]:
    """Copy an example case folder into tmp and generate its specimen evidence."""

    made: list[Path] = []

    def make(name: str) -> Path:
        dest = tmp_path / "cases" / str(len(made)) / name
        made.append(dest)
        shutil.copytree(EXAMPLES / name, dest, ignore=shutil.ignore_patterns("evidence"))
        write_specimens(dest)
        return dest

    return make


@pytest.fixture
def loaded(example_case: Callable[[str], Path]) -> LoadedCase:
    """The French example case loaded from its folder, specimen evidence included."""
    import country_rules
    from casefile import load_case_folder

    return load_case_folder(example_case("fr-asylum-visa-couple"), extra_kinds=country_rules.known_kinds())


@pytest.fixture(scope="session", autouse=True)
def session_root() -> Iterator[Path]:
    """A per-session scratch folder (Prefect's home lives here), removed at the end."""
    yield _SESSION_HOME
    shutil.rmtree(_SESSION_HOME, ignore_errors=True)
