"""The organisation key missing or wrong: a clear error (exit 1, no traceback) and nothing overwritten."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.crypto import identity_file_text, new_identity
from tests.faults.support import Office, Run, run_cli, stop_daemons, store_problems, tree_digest

HOME_FILES_THAT_MAY_CHANGE = ("run/", "audit-witness")  # the daemon's log, the witness lock


def _state(office: Office) -> dict[str, str]:
    """Digest of everything under DOSSIER_HOME (keys and store) except logs."""
    return {k: v for k, v in tree_digest(office.home).items() if not k.startswith(HOME_FILES_THAT_MAY_CHANGE)}


def _assert_clear_failure(res: Run, *needles: str) -> None:
    assert res.code == 1, f"exit {res.code}: {res.stderr[-2000:]}"
    assert "Traceback" not in res.stdout + res.stderr
    assert "internal error" not in res.stderr
    assert res.stderr.startswith("error:") or "\nerror:" in res.stderr, res.stderr
    for needle in needles:
        assert needle in res.stderr, res.stderr


@pytest.mark.slow
def test_missing_org_identity_is_a_clear_error_and_nothing_changes(
    office: Office, fault_prefect_home: Path, tmp_path: Path
) -> None:
    identity = office.home / "keys" / "org-identity.txt"
    backup = tmp_path / "backup-identity.txt"
    identity.rename(backup)
    before = _state(office)
    try:
        for args in (("case", "show", office.case_id), ("check", office.case_id), ("build", office.case_id)):
            res = run_cli(office, *args, prefect_home=fault_prefect_home)
            _assert_clear_failure(res, "org-identity.txt", "restore")
        assert _state(office) == before
        backup.rename(identity)  # restored from the offline backup: everything works again
        res = run_cli(office, "build", office.case_id, prefect_home=fault_prefect_home)
        assert res.code == 0 and res.last_line.startswith("P-"), res.stderr[-2000:]
    finally:
        stop_daemons(office)
    assert store_problems(office) == []


def test_wrong_org_identity_is_a_clear_error_and_nothing_changes(office: Office, fault_prefect_home: Path) -> None:
    identity = office.home / "keys" / "org-identity.txt"
    identity.write_text(identity_file_text(new_identity(), "another organisation"))
    before = _state(office)
    for args in (("case", "show", office.case_id), ("check", office.case_id)):
        res = run_cli(office, *args, prefect_home=fault_prefect_home)
        _assert_clear_failure(res, office.case_id, "cannot be decrypted")
    assert _state(office) == before


def test_missing_recipients_file_refuses_an_import_and_writes_nothing(
    office: Office, fault_case_folder: Path, fault_prefect_home: Path
) -> None:
    (office.home / "keys" / "recipients.txt").unlink()
    before = _state(office)
    res = run_cli(office, "case", "import", str(fault_case_folder), prefect_home=fault_prefect_home)
    _assert_clear_failure(res, "recipients")
    assert _state(office) == before


def test_init_does_not_replace_a_lost_identity_of_an_organisation_that_has_cases(
    office: Office, fault_prefect_home: Path
) -> None:
    """Known bug: init then makes a new identity that no stored key (nor recipients.txt) knows.

    Every case stays unreadable, recipients.txt still names the lost key, so new imports are
    unreadable too, and the message of the missing key even suggests running init.
    """
    keys = office.home / "keys"
    (keys / "org-identity.txt").unlink()
    before = _state(office)
    res = run_cli(office, "init", prefect_home=fault_prefect_home)
    _assert_clear_failure(res, "org-identity.txt")
    assert not (keys / "org-identity.txt").exists()
    assert _state(office) == before
