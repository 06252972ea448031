"""Setting up and looking after an office's installation: init, key rewrapping, a local S3 store, the demo."""

from __future__ import annotations

from pathlib import Path

from core.settings import load_settings
from storage import InitReport
from storage.office import OfficeStore, start_office_store
from workflows.cases import actor_or_default, vault

__all__ = ["init", "rewrap_keys", "serve_store", "write_example_evidence"]


def init() -> tuple[InitReport, str]:
    """Configuration, organisation keys, the store and Prefect's database (idempotent); what was done."""
    from workflows.prefect_env import prepare_prefect_home

    report = vault(must_exist=False).init()
    return report, prepare_prefect_home()


def rewrap_keys(actor: str | None = None) -> int:
    """Re-encrypt every case key to the recipients now listed in DOSSIER_HOME/keys/recipients.txt."""
    return vault().rewrap_keys(actor_or_default(actor))


def serve_store(data_dir: Path | None, port: int, bucket: str) -> OfficeStore:
    """Start a local SeaweedFS S3 store on loopback (credentials made once, kept in its folder)."""
    return start_office_store(data_dir or load_settings().home / "seaweedfs", port=port, bucket=bucket)


def write_example_evidence(folder: Path) -> None:
    """Generate the fictional example evidence files of a case folder (nothing personal is real)."""
    from casefile.specimens import write_specimens

    write_specimens(folder)
