"""The audit log as auditors use it: read, verify, checkpoint and export, without any decryption key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.ids import check_case_id
from storage import VerifyReport
from storage.export import AuditExport, export_audit
from workflows.cases import vault

__all__ = ["checkpoint", "entries", "export", "verify"]


def entries(case_id: str | None = None) -> list[dict[str, Any]]:
    """Every audit entry in order, or one case's (ids, actions, actors, object keys, hashes: no names)."""
    return vault().audit.entries(case_id=check_case_id(case_id) if case_id else None)


def verify(since: Path | None = None, public_key: Path | None = None) -> VerifyReport:
    """Re-hash every entry and archived object; check a checkpoint (rollback) and unauthorised deletions."""
    return vault().audit.verify(since_checkpoint=since, public_key=public_key)


def checkpoint(output: Path | None = None) -> tuple[dict[str, Any], Path]:
    """Sign the head of the chain with the organisation's checkpoint key and write it to a file."""
    return vault().checkpoint(output)


def export(
    output: Path, case_id: str | None = None, since: Path | None = None, public_key: Path | None = None
) -> AuditExport:
    """The log as CSV and a readable HTML report with the verification verdict."""
    return export_audit(
        vault().audit,
        output,
        case_id=check_case_id(case_id) if case_id else None,
        since_checkpoint=since,
        public_key=public_key,
    )
