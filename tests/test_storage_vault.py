"""The vault on the embedded file store: encrypted cases and packets, keys, shredding, no plaintext at rest."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import country_rules
from casefile import LoadedCase, load_case_folder
from core.errors import KeyMissing, NotFound, StorageError
from storage import Vault
from storage.crypto import identity_file_text, new_identity
from tests.clirun import grep_tree
from tests.conftest import EXAMPLE_SECRETS, REPO


@pytest.fixture
def vault(home: Path) -> Vault:
    v = Vault.from_env()
    v.init()
    return v


def test_init_is_idempotent_private_and_never_overwrites_the_identity(home: Path) -> None:
    v = Vault.from_env()
    first = v.init().lines()
    idf = v.settings.org_identity_file
    before = idf.read_bytes()
    assert stat.S_IMODE(idf.stat().st_mode) == 0o600
    assert stat.S_IMODE(v.settings.keys_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(v.keys.signing_key_file.stat().st_mode) == 0o600
    assert any("created" in line and "org-identity" in line for line in first)
    again = Vault.from_env().init().lines()
    assert idf.read_bytes() == before
    assert any("kept" in line and "org-identity" in line for line in again)
    assert again[-1] == f"DOSSIER_STORE={(home / 'store').resolve().as_uri()}"


def test_import_load_round_trip_and_opaque_keys(vault: Vault, loaded: LoadedCase) -> None:
    case_id = vault.import_case(loaded, "caseworker-1")
    assert case_id == loaded.case.case_id
    back = vault.load_case(case_id)
    assert back.files == loaded.files
    assert back.case.data == loaded.case.data
    keys = vault.store.list("")
    assert f"keys/{case_id}.age" in keys
    assert sum(k.startswith(f"cases/{case_id}/blobs/") for k in keys) == len(loaded.files)
    for key in keys:  # ids and random names only
        assert not any(s.lower() in key.lower() for s in EXAMPLE_SECRETS), key
        assert not any(e in key for e in loaded.files), key  # not even evidence ids
    state = vault.case_state(case_id)
    assert state["country"] == "fr" and state["procedure"] == "asylum-visa" and state["packets"] == []
    assert [c["case_id"] for c in vault.list_cases()] == [case_id]
    assert grep_tree(vault.settings.home, EXAMPLE_SECRETS) == []


def test_reimport_is_a_new_version_and_reuses_unchanged_evidence(vault: Vault, loaded: LoadedCase) -> None:
    case_id = vault.import_case(loaded, "caseworker-1")
    blobs = vault.store.list(f"cases/{case_id}/blobs/")
    vault.import_case(loaded, "caseworker-2")
    assert vault.store.list(f"cases/{case_id}/blobs/") == blobs
    assert vault.case_state(case_id)["record_version"] == 2
    actions = [e["action"] for e in vault.audit.entries(case_id)]
    assert actions.count("import-case") == 1 and actions.count("update-case") == 1
    assert vault.audit.verify().ok


def test_stage_status_and_packets_are_recorded(vault: Vault, loaded: LoadedCase) -> None:
    case_id = vault.import_case(loaded, "cw")
    vault.set_stage(case_id, "visa-interview", "cw")
    assert vault.case_state(case_id)["stage"] == "visa-interview"
    assert vault.load_case(case_id).case.stage == "visa-interview"
    assert vault.last_status(case_id) is None
    vault.record_status(case_id, {"ready": True, "not_met": []}, "cw")
    assert vault.last_status(case_id) == {"ready": True, "not_met": []}
    bag = os.urandom(50_000)
    key = vault.archive_packet(case_id, "P-0123456789AB", bag, "cw")
    n_entries = len(vault.audit.entries())
    assert vault.archive_packet(case_id, "P-0123456789AB", bag, "cw") == key  # idempotent
    assert len(vault.audit.entries()) == n_entries
    assert len(vault.store.list("packets/")) == 1
    with pytest.raises(StorageError, match="different content"):
        vault.archive_packet(case_id, "P-0123456789AB", bag + b"x", "cw")
    assert vault.get_packet("P-0123456789AB") == bag
    [row] = vault.packets_of(case_id)
    assert row["packet_id"] == "P-0123456789AB" and row["stage"] == "visa-interview" and row["object_key"] == key
    actions = [e["action"] for e in vault.audit.entries(case_id)]
    assert {"set-stage", "record-status", "archive-packet", "record-packet"} <= set(actions)
    assert vault.audit.verify().ok


def test_archive_recovers_after_a_crash_between_store_and_log(vault: Vault, loaded: LoadedCase) -> None:
    case_id = vault.import_case(loaded, "cw")
    bag = os.urandom(10_000)
    real_append = vault.audit.append

    def crash(action: str, *args: object) -> dict:
        if action == "archive-packet":
            raise KeyboardInterrupt  # killed right after the object was stored
        return real_append(action, *args)  # type: ignore[arg-type]

    vault.audit.append = crash  # type: ignore[method-assign,assignment]
    with pytest.raises(KeyboardInterrupt):
        vault.archive_packet(case_id, "P-AAAA", bag, "cw")
    vault.audit.append = real_append  # type: ignore[method-assign]
    report = vault.audit.verify()
    assert any("packets/P-AAAA/" in n for n in report.notes)  # an unrecorded object: visible
    vault.archive_packet(case_id, "P-AAAA", bag, "cw")  # the re-run adopts it
    report = vault.audit.verify()
    assert report.ok and report.notes == []
    assert [e["action"] for e in vault.audit.entries(case_id)].count("archive-packet") == 1
    assert vault.get_packet("P-AAAA") == bag


def test_archive_rerun_logs_a_record_version_stored_before_a_crash(vault: Vault, loaded: LoadedCase) -> None:
    case_id = vault.import_case(loaded, "cw")
    for _ in range(70):  # other work in between, so the look-back spans more than one batch
        vault.audit.append("note", "other", "OTHR-CASE", None, None)
    bag = os.urandom(10_000)
    real_append = vault.audit.append

    def crash(action: str, *args: object) -> dict:
        if action == "record-packet":
            raise KeyboardInterrupt  # killed after the new record version was stored
        return real_append(action, *args)  # type: ignore[arg-type]

    vault.audit.append = crash  # type: ignore[method-assign,assignment]
    with pytest.raises(KeyboardInterrupt):
        vault.archive_packet(case_id, "P-BBBB", bag, "cw")
    vault.audit.append = real_append  # type: ignore[method-assign]
    record = vault.store.list(f"cases/{case_id}/record/")[-1]
    assert any(record in n for n in vault.audit.verify().notes)
    vault.archive_packet(case_id, "P-BBBB", bag, "cw")  # the re-run
    report = vault.audit.verify()
    assert report.ok and report.notes == [], report.lines()
    assert [e["object_key"] for e in vault.audit.entries(case_id)].count(record) == 1
    vault.archive_packet(case_id, "P-BBBB", bag, "cw")
    assert [e["object_key"] for e in vault.audit.entries(case_id)].count(record) == 1


def test_unknown_ids_are_not_found(vault: Vault) -> None:
    with pytest.raises(NotFound, match="ZZZZ-ZZZZ"):
        vault.load_case("ZZZZ-ZZZZ")
    with pytest.raises(NotFound, match="P-NOPE"):
        vault.get_packet("P-NOPE")
    with pytest.raises(NotFound):
        vault.load_case("../../etc")


def test_shred_makes_case_and_packets_unreadable_but_verifiable(vault: Vault, loaded: LoadedCase) -> None:
    case_id = vault.import_case(loaded, "cw")
    vault.archive_packet(case_id, "P-SHRED", b"bag", "cw")
    assert vault.shred_case(case_id, "cw") is True
    assert vault.store.list("keys/") == []
    fresh = Vault.from_env()  # no cached key
    for call in (lambda: fresh.load_case(case_id), lambda: fresh.get_packet("P-SHRED")):
        with pytest.raises(KeyMissing) as err:
            call()
        assert case_id in str(err.value) and "shredded" in str(err.value)
        assert err.value.exit_code == 1
    assert fresh.list_cases() == []
    assert fresh.audit.entries(case_id)[-1]["action"] == "shred-case"
    assert fresh.audit.verify().ok  # the hashes of what remains still check out
    assert fresh.shred_case(case_id, "cw") is False
    with pytest.raises(KeyMissing, match="shredded"):
        fresh.import_case(loaded, "cw")


def test_a_second_recipient_can_open_cases_and_a_stranger_cannot(
    vault: Vault, loaded: LoadedCase, tmp_path: Path
) -> None:
    adviser = new_identity()
    with vault.settings.recipients_file.open("a") as fh:
        fh.write(f"{adviser.to_public()}  # legal adviser\n")
    v = Vault.from_env()
    case_id = v.import_case(loaded, "cw")
    vault.settings.org_identity_file.write_text(identity_file_text(adviser, "adviser"))
    assert Vault.from_env().load_case(case_id).files == loaded.files
    vault.settings.org_identity_file.write_text(identity_file_text(new_identity(), "stranger"))
    with pytest.raises(KeyMissing, match=f"case {case_id} key"):
        Vault.from_env().load_case(case_id)


def test_auditor_decrypts_a_packet_with_the_age_tool_alone(vault: Vault, loaded: LoadedCase, tmp_path: Path) -> None:
    case_id = vault.import_case(loaded, "cw")
    bag = os.urandom(300_000)
    key = vault.archive_packet(case_id, "P-AGECLI", bag, "cw")
    store = vault.settings.home / "store"
    org = vault.settings.org_identity_file
    case_key = tmp_path / "case.key"
    out = tmp_path / "packet.zip"
    subprocess.run(
        ["age", "-d", "-i", str(org), "-o", str(case_key), str(store / "keys" / f"{case_id}.age")], check=True
    )
    subprocess.run(["age", "-d", "-i", str(case_key), "-o", str(out), str(store / key)], check=True)
    assert out.read_bytes() == bag
    # The org identity alone cannot open the packet: it is encrypted to the case key only.
    direct = subprocess.run(["age", "-d", "-i", str(org), str(store / key)], capture_output=True)
    assert direct.returncode != 0


_BIG = """
import os, resource, sys
from pathlib import Path
from storage import Vault
v = Vault.from_env()
path = Path(sys.argv[1])
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
v.archive_packet_file(sys.argv[2], "P-BIG", path, "cw")
with open(os.devnull, "wb") as sink:
    v.get_packet_to("P-BIG", sink)
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) // 1024)
"""


def test_large_packets_stream_with_bounded_memory(vault: Vault, loaded: LoadedCase, tmp_path: Path) -> None:
    case_id = vault.import_case(loaded, "cw")
    big = tmp_path / "big.zip"
    with big.open("wb") as fh:
        for _ in range(256):
            fh.write(os.urandom(1024 * 1024))
    res = subprocess.run(
        [sys.executable, "-c", _BIG, str(big), case_id], cwd=REPO, capture_output=True, text=True, check=True
    )
    grown_mb = int(res.stdout.strip())
    print(f"256 MiB packet archived and read back; peak memory grew by {grown_mb} MiB")
    assert grown_mb < 64
    assert vault.audit.verify().ok
    assert vault.store.sha256(vault.packets_of(case_id)[0]["object_key"]) == vault.packets_of(case_id)[0]["sha256"]


def test_group_submission_has_its_own_key_and_dies_with_any_member(
    vault: Vault, example_case: Callable[[str], Path]
) -> None:
    kinds = country_rules.known_kinds()
    a = vault.import_case(load_case_folder(example_case("fr-asylum-visa-couple"), extra_kinds=kinds), "cw")
    b = vault.import_case(load_case_folder(example_case("de-work-visa-family"), extra_kinds=kinds), "cw")
    bag = os.urandom(20_000)
    key = vault.archive_group("G-0123456789AB", [a, b], bag, "cw")
    assert key == "packets/G-0123456789AB/G-0123456789AB.age"
    n = len(vault.audit.entries())
    assert vault.archive_group("G-0123456789AB", [a, b], bag, "cw") == key  # idempotent
    assert len(vault.audit.entries()) == n
    assert vault.get_packet("G-0123456789AB") == bag
    assert [g["group_id"] for g in vault.case_state(b)["groups"]] == ["G-0123456789AB"]
    assert vault.audit.verify().ok
    vault.shred_case(a, "cw")
    with pytest.raises(KeyMissing, match="G-0123456789AB"):
        Vault.from_env().get_packet("G-0123456789AB")
    assert Vault.from_env().load_case(b).case.case_id == b  # the other member is untouched
    assert vault.audit.verify().ok


def test_rewrap_gives_a_new_recipient_access_to_existing_cases(vault: Vault, loaded: LoadedCase) -> None:
    case_id = vault.import_case(loaded, "cw")
    recovery = new_identity()
    with vault.settings.recipients_file.open("a") as fh:
        fh.write(f"{recovery.to_public()}  # offline recovery\n")
    original = vault.settings.org_identity_file.read_text()
    vault.settings.org_identity_file.write_text(identity_file_text(recovery, "recovery"))
    with pytest.raises(KeyMissing):  # wrapped before the recovery key was listed
        Vault.from_env().load_case(case_id)
    vault.settings.org_identity_file.write_text(original)
    assert Vault.from_env().rewrap_keys("admin") == 1
    vault.settings.org_identity_file.write_text(identity_file_text(recovery, "recovery"))
    assert Vault.from_env().load_case(case_id).files == loaded.files
    assert vault.audit.verify().ok
