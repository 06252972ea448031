"""Hostile and mistaken inputs through the real CLI: each gets a clear error, and nothing leaks or is lost.

Covers issue "No path leaks a person or loses the record": markup in values, impossible dates,
mistyped stores, a silent S3 port, forged deletions in the audit log, a swapped packet object,
an interrupted import, folder and database permissions.
"""

from __future__ import annotations

import json
import socket
import stat
import threading
import time
from pathlib import Path

import pytest

from tests.clirun import Result, dossier

CASE = "fr-asylum-visa-couple"


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = {
        "DOSSIER_HOME": str(tmp_path / "home"),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "DOSSIER_ACTOR": "caseworker-3",
    }
    assert dossier("init", env=e).code == 0
    return e


def _clear_error(result: Result, code: int = 2) -> str:
    assert result.code == code, (result.code, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    return result.stderr


def _edit(folder: Path, old: str, new: str) -> None:
    text = (folder / "case.yaml").read_text(encoding="utf-8")
    assert old in text, old
    (folder / "case.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")


def test_markup_in_ids_and_values_is_printed_as_text(env, example_case) -> None:
    _clear_error(dossier("case", "show", "[/]", env=env))
    _clear_error(dossier("packet", "get", "[/x]", "-o", "out", env=env))
    _clear_error(dossier("check", "[bold]x[/bold]", env=env))
    folder = example_case(CASE)
    _edit(folder, "family_name: Orlov\n", "family_name: '[/]Orlov[red]'\n")
    imported = dossier("case", "import", str(folder), env=env)
    assert imported.code == 0, imported.stderr
    shown = dossier("case", "show", imported.last_line, env=env)
    assert shown.code == 0, shown.stderr
    assert "[/]Orlov[red]" in shown.stdout


def test_impossible_dates_and_bad_paths_are_named_by_field(env, example_case) -> None:
    folder = example_case(CASE)
    _edit(folder, "birth_date: 1998-03-14", "birth_date: 2098-03-14")
    _edit(folder, "file: evidence/photo.jpg", "file: .")
    _edit(folder, "kind: military.id_card", "kind: military.idcard")
    message = _clear_error(dossier("case", "import", str(folder), env=env))
    assert "applicant.birth_date: is in the future" in message
    assert "(id ev-photo).file: must name a file" in message
    assert "(id ev-milid).kind" in message and "did you mean military.id_card" in message
    assert "2098" not in message  # values are never quoted back


def test_unknown_stage_is_refused_at_import_with_the_valid_ones(env, example_case) -> None:
    folder = example_case(CASE)
    _edit(folder, "procedure: asylum-visa\n", "procedure: asylum-visa\nstage: consular-submision\n")
    message = _clear_error(dossier("case", "import", str(folder), env=env))
    assert "consular-submission" in message


def test_a_mistyped_store_is_an_error_not_an_empty_store(env, tmp_path: Path) -> None:
    typo = env | {"DOSSIER_STORE": (tmp_path / "typo" / "store").as_uri()}
    for args in (("audit", "verify"), ("case", "list"), ("audit", "log")):
        message = _clear_error(dossier(*args, env=typo))
        assert "does not exist" in message and "DOSSIER_STORE" in message
    assert not (tmp_path / "typo").exists()


def test_a_silent_s3_port_fails_clearly_within_30_seconds(env) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept_and_say_nothing() -> None:
        listener.settimeout(0.5)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept_and_say_nothing, daemon=True)
    thread.start()
    port = listener.getsockname()[1]
    silent = env | {
        "DOSSIER_STORE": f"s3://dossier?endpoint=http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "k",
        "AWS_SECRET_ACCESS_KEY": "s",
    }
    try:
        started = time.monotonic()
        result = dossier("case", "list", env=silent, timeout=120)
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()
    message = _clear_error(result, code=1)
    assert "cannot be reached" in message or "failed" in message
    assert elapsed < 30, elapsed


def _vault_with_packet(env: dict[str, str], loaded_case) -> tuple[object, str, str]:
    """A vault (in this process, for the attacker's view) holding one archived packet."""
    from storage import Vault

    vault = Vault.from_env()
    case_id = vault.import_case(loaded_case, "caseworker-3")
    vault.archive_packet(case_id, "P-0123456789AB", b"a stand-in bag: only its hash matters here", "builder")
    return vault, case_id, "packets/P-0123456789AB/" + case_id + ".age"


def test_a_deleted_packet_with_a_forged_deletion_entry_fails_verify(env, loaded, monkeypatch, tmp_path) -> None:
    for key in ("DOSSIER_HOME", "DOSSIER_ACTOR"):
        monkeypatch.setenv(key, env[key])
    vault, case_id, key = _vault_with_packet(env, loaded)
    cp = dossier("audit", "checkpoint", "-o", str(tmp_path / "cp.json"), env=env)
    assert cp.code == 0, cp.stderr
    pub = Path(env["DOSSIER_HOME"]) / "keys" / "checkpoint-signing.pub"
    assert dossier("audit", "verify", "--since", str(tmp_path / "cp.json"), "--public-key", str(pub), env=env).code == 0
    # Someone below the S3 gateway deletes the packet and logs it as if it were allowed.
    vault.store.delete(key)  # type: ignore[attr-defined]
    vault.audit.append("delete-object", "intruder", case_id, key, None)  # type: ignore[attr-defined]
    result = dossier("audit", "verify", "--since", str(tmp_path / "cp.json"), "--public-key", str(pub), env=env)
    assert result.code == 1
    assert f"records the deletion of {key}" in result.stdout


def test_a_rolled_back_case_record_fails_verify(env, loaded, monkeypatch) -> None:
    for key in ("DOSSIER_HOME", "DOSSIER_ACTOR"):
        monkeypatch.setenv(key, env[key])
    vault, case_id, _ = _vault_with_packet(env, loaded)
    records = sorted(vault.store.list(f"cases/{case_id}/record/"))  # type: ignore[attr-defined]
    assert len(records) >= 2
    vault.store.delete(records[-1])  # type: ignore[attr-defined]
    vault.audit.append("delete-object", "intruder", case_id, records[-1], None)  # type: ignore[attr-defined]
    result = dossier("audit", "verify", env=env)
    assert result.code == 1 and records[-1] in result.stdout


def test_packet_get_refuses_an_object_that_is_not_the_recorded_one(env, loaded, monkeypatch, tmp_path) -> None:
    for key in ("DOSSIER_HOME", "DOSSIER_ACTOR"):
        monkeypatch.setenv(key, env[key])
    vault, case_id, key = _vault_with_packet(env, loaded)
    vault.archive_packet(case_id, "P-ZZZZZZZZZZZZ", b"another packet", "builder")  # type: ignore[attr-defined]
    other = vault.store.get(f"packets/P-ZZZZZZZZZZZZ/{case_id}.age")  # type: ignore[attr-defined]
    vault.store.put(key, other)  # type: ignore[attr-defined]  # swapped below the gateway
    result = dossier("packet", "get", "P-0123456789AB", "-o", str(tmp_path / "out"), env=env)
    assert result.code == 1 and "differs from what the audit log recorded" in result.stderr
    assert not (tmp_path / "out" / "P-0123456789AB").exists()


def test_an_interrupted_import_is_listed_and_can_be_shredded(env, monkeypatch) -> None:
    monkeypatch.setenv("DOSSIER_HOME", env["DOSSIER_HOME"])
    from storage import Vault

    vault = Vault.from_env()
    vault.case_keys.ensure("Q1Q1-Q1Q1", "caseworker-3", "create-case-key")  # the key, then the disk filled up
    listed = dossier("case", "list", env=env)
    assert listed.code == 0 and "Q1Q1-Q1Q1" in listed.stdout and "interrupted" in listed.stdout
    shred = dossier("case", "shred", "Q1Q1-Q1Q1", "--yes", env=env)
    assert shred.code == 0, shred.stderr
    assert "Q1Q1-Q1Q1" not in dossier("case", "list", env=env).stdout


def test_store_folders_and_prefects_database_are_private(env, example_case) -> None:
    assert dossier("case", "import", str(example_case(CASE)), env=env).code == 0
    home = Path(env["DOSSIER_HOME"])
    for folder in [home, *(p for p in (home / "store").rglob("*") if p.is_dir())]:
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    db = Path(env["PREFECT_HOME"]) / "prefect.db"
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_case_ids_in_audit_entries_and_listing_hold_no_names(env, example_case) -> None:
    assert dossier("case", "import", str(example_case(CASE)), env=env).code == 0
    log = json.loads(dossier("audit", "log", "--json", env=env).stdout)
    assert {e["action"] for e in log} >= {"create-case-key", "store-evidence", "import-case"}
    text = json.dumps(log) + dossier("case", "list", "--json", env=env).stdout
    for secret in ("Pavel", "Orlov", "1998-03-14"):
        assert secret not in text
