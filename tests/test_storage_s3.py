"""The s3 backend against a real SeaweedFS with authentication (started by tests/fixtures_s3.py)."""

from __future__ import annotations

import os
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from casefile import LoadedCase
from core.errors import KeyMissing, StorageError, StorageUnavailable
from core.hashing import sha256_hex
from storage import Vault, open_store
from storage.s3store import S3Store
from tests.clirun import grep_tree
from tests.conftest import EXAMPLE_SECRETS
from tests.fixtures_s3 import S3Service
from tests.test_storage_audit import assert_one_unforked_chain, run_two_writers

pytestmark = pytest.mark.s3


@pytest.fixture
def vault(s3_url: str) -> Vault:
    v = Vault.from_env()
    v.init()
    return v


def test_unsigned_and_wrongly_signed_requests_are_refused(s3_service: S3Service, vault: Vault) -> None:
    from botocore import UNSIGNED

    vault.store.put("cases/X/blobs/a.age", b"x")
    bucket = vault.store.options.bucket  # type: ignore[attr-defined]
    unsigned = s3_service.client(signature_version=UNSIGNED)
    with pytest.raises(ClientError) as err:
        unsigned.get_object(Bucket=bucket, Key="cases/X/blobs/a.age")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as err:
        unsigned.put_object(Bucket=bucket, Key="cases/X/blobs/b.age", Body=b"x")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    from storage.seaweed import S3Identity

    forged = S3Identity("admin", s3_service.admin.access_key, "not-the-secret", ())
    with pytest.raises(ClientError) as err:
        s3_service.client(forged).list_objects_v2(Bucket=bucket)
    assert err.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_wrong_credentials_give_a_clear_error(
    s3_service: S3Service, vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    with pytest.raises(StorageError) as err:
        Vault.from_env().audit.verify()
    assert "refused" in err.value.message and "AWS_SECRET_ACCESS_KEY" in str(err.value)


def test_init_creates_a_versioned_bucket_with_object_lock(s3_service: S3Service, vault: Vault) -> None:
    bucket = vault.store.options.bucket  # type: ignore[attr-defined]
    raw = s3_service.client()
    assert raw.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    conf = raw.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
    assert conf["ObjectLockEnabled"] == "Enabled"
    lines = vault.init().lines()
    assert any("kept bucket" in line for line in lines)


def test_case_on_s3_leaves_no_personal_data_in_the_raw_data_folder(
    s3_service: S3Service, vault: Vault, loaded: LoadedCase
) -> None:
    case_id = vault.import_case(loaded, "cw")
    vault.archive_packet(case_id, "P-S3LEAK", b"PK" + os.urandom(2000), "cw")
    assert vault.load_case(case_id).files == loaded.files
    # Control: plaintext written straight through S3 *is* findable in the raw files, so the search works.
    canary = "plaintext-canary-" + os.urandom(6).hex()
    canary_bucket = s3_service.new_bucket()
    raw = s3_service.client()
    raw.create_bucket(Bucket=canary_bucket)
    raw.put_object(Bucket=canary_bucket, Key="c", Body=canary.encode())
    deadline = time.monotonic() + 10
    while not grep_tree(s3_service.data_dir, [canary]) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert grep_tree(s3_service.data_dir, [canary]), "the raw-data search cannot see plaintext: the test is blind"
    hits = grep_tree(s3_service.data_dir, EXAMPLE_SECRETS)
    assert hits == [], hits
    keys = vault.store.list("")
    assert keys and not [k for k in keys if any(s.lower() in k.lower() for s in EXAMPLE_SECRETS)]
    head = s3_service.client().head_object(Bucket=vault.store.options.bucket, Key=keys[0])  # type: ignore[attr-defined]
    assert head.get("Metadata", {}) == {}
    assert grep_tree(vault.settings.home, EXAMPLE_SECRETS) == []


def test_verify_passes_then_fails_after_an_overwrite_through_s3(
    s3_service: S3Service, vault: Vault, loaded: LoadedCase
) -> None:
    case_id = vault.import_case(loaded, "cw")
    key = vault.archive_packet(case_id, "P-TAMPER", os.urandom(5000), "cw")
    report = vault.audit.verify()
    assert report.ok, report.lines()
    blob = vault.store.list(f"cases/{case_id}/blobs/")[0]
    s3_service.client().put_object(Bucket=vault.store.options.bucket, Key=blob, Body=b"overwritten")  # type: ignore[attr-defined]
    report = vault.audit.verify()
    assert not report.ok
    [problem] = report.problems
    assert blob in problem.message and "changed" in problem.message and problem.seq is not None
    assert vault.audit.entries()[problem.seq - 1]["object_key"] == blob
    # An archived packet is under COMPLIANCE retention: its recorded version cannot be deleted.
    raw = s3_service.client()
    bucket = vault.store.options.bucket  # type: ignore[attr-defined]
    retention = raw.get_object_retention(Bucket=bucket, Key=key)["Retention"]
    assert retention["Mode"] == "COMPLIANCE" and retention["RetainUntilDate"] > datetime.now(UTC)
    [version] = raw.list_object_versions(Bucket=bucket, Prefix=key)["Versions"]
    with pytest.raises(ClientError):
        raw.delete_object(Bucket=bucket, Key=key, VersionId=version["VersionId"])


def test_auditor_with_read_only_credentials_verifies_but_cannot_write(
    s3_service: S3Service, vault: Vault, loaded: LoadedCase, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    case_id = vault.import_case(loaded, "cw")
    vault.archive_packet(case_id, "P-AUDIT", os.urandom(3000), "cw")
    _, checkpoint = vault.checkpoint(tmp_path / "cp.json")
    public = vault.keys.public_key_file
    for key, value in s3_service.env(s3_service.auditor).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DOSSIER_HOME", str(tmp_path / "auditor-home"))  # no keys at all
    auditor = Vault.from_env()
    report = auditor.audit.verify(since_checkpoint=checkpoint, public_key=public)
    assert report.ok, report.lines()
    assert report.objects_checked > 30
    with pytest.raises(StorageError, match="refused"):
        auditor.store.put("cases/X/blobs/evil.age", b"x")
    with pytest.raises(KeyMissing):
        auditor.load_case(case_id)


def test_delete_removes_every_version(s3_service: S3Service, vault: Vault) -> None:
    store = vault.store
    assert isinstance(store, S3Store)
    for n in range(3):
        store.put("keys/ABCD-EFGH.age", f"version {n}".encode())
    store.put("keys/ABCD-EFGH.agex", b"neighbour")  # a longer key with the same prefix must survive
    assert len(store.versions("keys/ABCD-EFGH.age")) == 3
    store.delete("keys/ABCD-EFGH.age")
    assert store.versions("keys/ABCD-EFGH.age") == []
    assert not store.exists("keys/ABCD-EFGH.age")
    assert store.get("keys/ABCD-EFGH.agex") == b"neighbour"


def test_shred_on_s3_deletes_all_key_versions(s3_service: S3Service, vault: Vault, loaded: LoadedCase) -> None:
    case_id = vault.import_case(loaded, "cw")
    vault.archive_packet(case_id, "P-GONE", b"bag", "cw")
    store = vault.store
    assert isinstance(store, S3Store)
    key = f"keys/{case_id}.age"
    # An admin re-uploaded the key once: two versions exist, both must go.
    store.put(key, store.get(key))
    assert len(store.versions(key)) == 2
    vault.shred_case(case_id, "cw")
    assert store.versions(key) == []
    with pytest.raises(KeyMissing, match="shredded"):
        Vault.from_env().get_packet("P-GONE")
    assert vault.audit.entries(case_id)[-1]["action"] == "shred-case"


@pytest.mark.parametrize("sse", ["s3", "c"])
def test_server_side_encryption_is_an_extra_layer(
    s3_service: S3Service, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sse: str
) -> None:
    for key, value in s3_service.env().items():
        monkeypatch.setenv(key, value)
    key_file = tmp_path / "sse-c.key"
    url = s3_service.url(s3_service.new_bucket(), sse=sse, sse_c_key=key_file, retries=2)
    store = open_store(url)
    lines = store.ensure()
    assert any("SSE" in line for line in lines)
    store.put("packets/P/x.age", b"payload")
    assert store.get("packets/P/x.age") == b"payload"
    assert store.sha256("packets/P/x.age") == sha256_hex(b"payload")
    head = s3_service.client().head_object
    bucket = url.split("//")[1].split("?")[0]
    if sse == "s3":
        assert head(Bucket=bucket, Key="packets/P/x.age")["ServerSideEncryption"] == "AES256"
    else:
        assert (key_file.stat().st_mode & 0o777) == 0o600
        with pytest.raises(ClientError):  # without the customer key the service will not serve it
            s3_service.client().get_object(Bucket=bucket, Key="packets/P/x.age")


def test_large_object_goes_up_in_parts(s3_service: S3Service, vault: Vault, tmp_path: Path) -> None:
    import hashlib
    import io

    data = os.urandom(40 * 1024 * 1024)
    store = vault.store
    assert isinstance(store, S3Store)
    started = time.monotonic()
    digest = store.put_stream("packets/P-BIG/X.age", io.BytesIO(data))
    up = time.monotonic() - started
    assert digest == hashlib.sha256(data).hexdigest() == store.sha256("packets/P-BIG/X.age")
    etag = s3_service.client().head_object(Bucket=store.options.bucket, Key="packets/P-BIG/X.age")["ETag"]
    assert "-" in etag, etag  # a multipart ETag ends in -<number of parts>
    print(f"40 MiB multipart PUT: {40 / up:.0f} MB/s")


def test_encryption_failing_mid_upload_leaves_no_object_on_s3(vault: Vault) -> None:
    from pyrage import x25519

    from storage.crypto import EncryptingReader
    from tests.test_storage_filestore import _FailingSource

    store = vault.store
    assert isinstance(store, S3Store)
    recipient = x25519.Identity.generate().to_public()
    # 40 MiB read before the fault: two 16 MiB parts are already uploaded when it happens.
    with pytest.raises(StorageError), EncryptingReader(_FailingSource(40 * 1024 * 1024), [recipient]) as src:
        store.put_stream("packets/P-HALF/X.age", src)  # type: ignore[arg-type]
    assert not store.exists("packets/P-HALF/X.age")
    uploads = store.client.list_multipart_uploads(Bucket=store.options.bucket).get("Uploads", [])
    assert [u["Key"] for u in uploads if "P-HALF" in u["Key"]] == []  # the multipart upload was aborted


def test_service_down_is_a_clear_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, s3_service: S3Service
) -> None:
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there
    for key, value in s3_service.env().items():
        monkeypatch.setenv(key, value)
    store = open_store(f"s3://dossier-down?endpoint=http://127.0.0.1:{port}&retries=2")
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as err:
        store.get("audit/000000000001.json")
    assert "cannot be reached" in err.value.message and f"127.0.0.1:{port}" in err.value.message
    assert time.monotonic() - started < 15
    env = {
        "DOSSIER_HOME": str(tmp_path / "h"),
        "DOSSIER_STORE": f"s3://dossier-down?endpoint=http://127.0.0.1:{port}&retries=1",
        **s3_service.env(),
    }
    from tests.clirun import dossier

    res = dossier("audit", "verify", env=env)
    assert res.code == 1 and "cannot be reached" in res.stderr and "Traceback" not in res.stderr


def test_two_writer_processes_never_fork_the_chain_s3(
    s3_service: S3Service, vault: Vault, s3_url: str, tmp_path: Path
) -> None:
    seconds = run_two_writers(s3_url, tmp_path, 200, env=s3_service.env())
    print(f"s3 store: 2 x 200 concurrent appends in {seconds:.2f} s")
    assert_one_unforked_chain(vault, 200)


def test_weed_leaves_no_listener_beyond_loopback(s3_service: S3Service) -> None:
    out = subprocess.run(["ss", "-ltnpH"], capture_output=True, text=True).stdout
    mine = [line for line in out.splitlines() if f"pid={s3_service.server.pid}," in line]
    assert mine, out
    assert all(" 127.0.0.1:" in line for line in mine), mine
