"""The audit chain: every kind of tampering is detected and named; checkpoints catch rollbacks;
verification needs no decryption key; two writer processes never fork the chain."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from core.errors import AuditError
from core.settings import load_settings
from storage import Vault
from storage.audit import GENESIS, entry_key
from storage.checkpoint import new_signing_key_pem
from tests.conftest import REPO


@pytest.fixture
def vault(home: Path) -> Vault:
    v = Vault.from_env()
    v.init()
    return v


def _fill(v: Vault, n: int = 6) -> None:
    """A small log with objects: n entries without objects, plus one stored object."""
    for i in range(n):
        v.audit.append("note", "tester", f"CASE-{i % 2}", None, None)
    v.store.put_if_absent("packets/P-1/CASE-0.age", b"ciphertext")
    v.audit.append("archive-packet", "tester", "CASE-0", "packets/P-1/CASE-0.age", _sha(b"ciphertext"))


def _sha(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


def _raw(v: Vault, seq: int) -> dict:
    return json.loads(v.store.get(entry_key(seq)))


def _messages(v: Vault, **kw: object) -> list[str]:
    report = v.audit.verify(**kw)  # type: ignore[arg-type]
    assert not report.ok
    return [str(p) for p in report.problems]


def test_chain_links_and_clean_log_verifies(vault: Vault) -> None:
    _fill(vault)
    entries = vault.audit.entries()
    assert [e["seq"] for e in entries] == list(range(1, 8))
    assert entries[0]["prev"] == GENESIS
    assert all(entries[i]["prev"] == entries[i - 1]["hash"] for i in range(1, len(entries)))
    assert [e["seq"] for e in vault.audit.entries(case_id="CASE-1")] == [2, 4, 6]
    report = vault.audit.verify()
    assert report.ok, report.lines()
    assert report.entries == 7 and report.objects_checked == 1
    assert "OK" in report.lines()[0]


def test_changed_entry_is_named(vault: Vault) -> None:
    _fill(vault)
    e = _raw(vault, 3)
    e["actor"] = "someone-else"
    vault.store.put(entry_key(3), json.dumps(e).encode())
    msgs = _messages(vault)
    assert any(m.startswith("entry 3:") and "changed" in m for m in msgs), msgs


def test_rehashed_changed_entry_breaks_the_next_link(vault: Vault) -> None:
    from storage.audit import entry_hash

    _fill(vault)
    e = _raw(vault, 3)
    e["actor"] = "someone-else"
    e["hash"] = entry_hash(e)  # a careful forger recomputes the hash...
    vault.store.put(entry_key(3), json.dumps(e).encode())
    msgs = _messages(vault)
    assert any(m.startswith("entry 4:") and "does not chain" in m for m in msgs), msgs  # ...the link to 4 breaks


def test_deleted_entry_is_named(vault: Vault) -> None:
    _fill(vault)
    vault.store.delete(entry_key(4))
    msgs = _messages(vault)
    assert any(m.startswith("entry 4:") and "missing" in m for m in msgs), msgs


def test_reordered_entries_are_named(vault: Vault) -> None:
    _fill(vault)
    a, b = vault.store.get(entry_key(2)), vault.store.get(entry_key(5))
    vault.store.put(entry_key(2), b)
    vault.store.put(entry_key(5), a)
    msgs = _messages(vault)
    assert any(m.startswith("entry 2:") and "reordered" in m for m in msgs), msgs
    assert any(m.startswith("entry 5:") and "reordered" in m for m in msgs), msgs


def test_truncated_entry_file_is_named(vault: Vault) -> None:
    _fill(vault)
    raw = vault.store.get(entry_key(6))
    vault.store.put(entry_key(6), raw[: len(raw) // 2])
    msgs = _messages(vault)
    assert any(m.startswith("entry 6:") and "unreadable" in m for m in msgs), msgs
    with pytest.raises(AuditError, match="entry 6"):
        # Appending after a damaged tail would be building on sand.
        vault.store.delete(entry_key(7))
        Vault.from_env().audit.append("note", "x", None, None, None)


def test_log_cut_at_the_end_is_detected_by_the_witness(vault: Vault) -> None:
    _fill(vault)
    vault.store.delete(entry_key(7))  # the tail entry recording the packet
    report = vault.audit.verify()
    assert not report.ok
    assert any(p.seq == 7 and "cut off" in p.message for p in report.problems), report.lines()
    assert any("packets/P-1/CASE-0.age" in n and "in no audit entry" in n for n in report.notes), report.notes


def test_without_witness_a_cut_log_is_noted_and_a_checkpoint_catches_it(vault: Vault, tmp_path: Path) -> None:
    _fill(vault)
    _, cp = vault.checkpoint(tmp_path / "cp.json")
    vault.store.delete(entry_key(7))
    (vault.settings.home / "audit-witness.json").unlink()
    report = vault.audit.verify()
    # An unrecorded object alone is what an interrupted write leaves: a note, not a failure...
    assert report.ok and any("packets/P-1/CASE-0.age" in n and "after entry 6" in n for n in report.notes)
    msgs = _messages(vault, since_checkpoint=cp)  # ...the signed checkpoint is what proves the cut
    assert any(m.startswith("entry 7:") and "rolled back" in m for m in msgs), msgs


def test_changed_and_missing_objects_are_named_with_their_entry(vault: Vault) -> None:
    _fill(vault)
    vault.store.put("packets/P-1/CASE-0.age", b"ciphertexT")
    msgs = _messages(vault)
    assert msgs == [
        "entry 7: archive-packet: object packets/P-1/CASE-0.age was changed after it was recorded (sha256 differs)"
    ]
    vault.store.delete("packets/P-1/CASE-0.age")
    msgs = _messages(vault)
    assert msgs == ["entry 7: archive-packet: object packets/P-1/CASE-0.age is missing from the store"]


def test_planted_or_unrecorded_object_is_reported(vault: Vault) -> None:
    _fill(vault)
    vault.store.put("cases/ZZZZ-ZZZZ/blobs/planted.age", b"x")
    report = vault.audit.verify()
    assert any("cases/ZZZZ-ZZZZ/blobs/planted.age" in n for n in report.notes), report.lines()
    assert any("cases/ZZZZ-ZZZZ/blobs/planted.age" in line for line in report.lines())


def test_a_shredded_key_that_reappears_is_a_problem(vault: Vault) -> None:
    _fill(vault)
    vault.store.put_if_absent("keys/ABCD-EFGH.age", b"wrapped")
    vault.audit.append("create-case-key", "t", "ABCD-EFGH", "keys/ABCD-EFGH.age", _sha(b"wrapped"))
    vault.store.delete("keys/ABCD-EFGH.age")
    vault.audit.append("shred-case", "t", "ABCD-EFGH", "keys/ABCD-EFGH.age", None)
    assert vault.audit.verify().ok
    vault.store.put("keys/ABCD-EFGH.age", b"wrapped")  # restored from a backup
    msgs = _messages(vault)
    assert msgs == ["entry 9: object keys/ABCD-EFGH.age was recorded as deleted but is in the store again"]


def test_checkpoint_detects_rollback_with_public_key_only(vault: Vault, tmp_path: Path) -> None:
    _fill(vault)
    cp, path = vault.checkpoint(tmp_path / "cp.json")
    assert cp["seq"] == 7
    pub = vault.keys.public_key_file
    assert vault.audit.verify(since_checkpoint=path, public_key=pub).ok
    vault.audit.append("note", "tester", None, None, None)
    assert vault.audit.verify(since_checkpoint=path, public_key=pub).ok  # growth is fine
    # Roll the store back to before the checkpoint (two entries removed, witness forgotten).
    vault.store.delete(entry_key(8))
    vault.store.delete(entry_key(7))
    vault.store.delete("packets/P-1/CASE-0.age")
    (vault.settings.home / "audit-witness.json").unlink()
    msgs = _messages(vault, since_checkpoint=path, public_key=pub)
    assert any(m.startswith("entry 7:") and "rolled back" in m for m in msgs), msgs


def test_checkpoint_detects_a_rewritten_history(vault: Vault, tmp_path: Path) -> None:
    _fill(vault)
    _, path = vault.checkpoint(tmp_path / "cp.json")
    # Rewrite the whole log consistently (a valid chain, different content): only the checkpoint notices.
    for seq in range(1, 8):
        vault.store.delete(entry_key(seq))
    (vault.settings.home / "audit-witness.json").unlink()
    fresh = Vault.from_env()
    for i in range(6):
        fresh.audit.append("note", "forger", f"CASE-{i % 2}", None, None)
    fresh.audit.append("archive-packet", "forger", "CASE-0", "packets/P-1/CASE-0.age", _sha(b"ciphertext"))
    assert fresh.audit.verify().ok  # self-consistent...
    msgs = _messages(fresh, since_checkpoint=path)
    assert any(m.startswith("entry 7:") and "rewritten" in m for m in msgs), msgs  # ...but not the signed past


def test_checkpoint_signed_by_another_key_or_altered_is_refused(vault: Vault, tmp_path: Path) -> None:
    _fill(vault)
    _, path = vault.checkpoint(tmp_path / "cp.json")
    other_pub = tmp_path / "other.pub"
    other_pub.write_bytes(new_signing_key_pem()[1])
    msgs = _messages(vault, since_checkpoint=path, public_key=other_pub)
    assert any("not by the trusted key" in m for m in msgs), msgs
    data = json.loads(path.read_text())
    data["seq"] = 3
    path.write_text(json.dumps(data))
    msgs = _messages(vault, since_checkpoint=path)
    assert any("signature is invalid" in m for m in msgs), msgs


def test_no_checkpoint_is_signed_over_a_broken_chain(vault: Vault, tmp_path: Path) -> None:
    _fill(vault)
    vault.store.delete(entry_key(2))
    with pytest.raises(AuditError, match="entry 2"):
        vault.checkpoint(tmp_path / "cp.json")
    assert not (tmp_path / "cp.json").exists()


def test_verify_needs_no_decryption_key(vault: Vault) -> None:
    _fill(vault)
    keys = vault.settings.keys_dir
    for f in keys.iterdir():
        f.unlink()
    report = Vault.from_env().audit.verify()
    assert report.ok and report.objects_checked == 1


_WRITER = """
import sys, time
from pathlib import Path
from storage import open_store
from storage.audit import AuditLog
store = open_store(sys.argv[1])
log = AuditLog(store)
go = Path(sys.argv[3])
while not go.exists():
    time.sleep(0.005)
for i in range(int(sys.argv[4])):
    log.append("note", sys.argv[2], None, None, None)
"""


def run_two_writers(url: str, tmp_path: Path, n: int, env: dict[str, str] | None = None) -> float:
    """Two processes append n entries each, starting together; the seconds they took."""
    import os

    go = tmp_path / "go"
    full_env = os.environ | (env or {})
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, url, f"writer-{w}", str(go), str(n)], cwd=REPO, env=full_env)
        for w in "ab"
    ]
    time.sleep(1.5)  # both processes imported and waiting
    started = time.monotonic()
    go.touch()
    for p in procs:
        assert p.wait(timeout=300) == 0
    return time.monotonic() - started


def assert_one_unforked_chain(v: Vault, n: int) -> None:
    entries = v.audit.entries()
    assert [e["seq"] for e in entries] == list(range(1, 2 * n + 1))
    assert all(entries[i]["prev"] == entries[i - 1]["hash"] for i in range(1, len(entries)))
    by_actor = {a: sum(1 for e in entries if e["actor"] == a) for a in ("writer-a", "writer-b")}
    assert by_actor == {"writer-a": n, "writer-b": n}
    assert v.audit.verify().ok


def test_two_writer_processes_never_fork_the_chain_file(vault: Vault, tmp_path: Path) -> None:
    seconds = run_two_writers(load_settings().store_url, tmp_path, 200)
    print(f"file store: 2 x 200 concurrent appends in {seconds:.2f} s")
    assert_one_unforked_chain(vault, 200)
