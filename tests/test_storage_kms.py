"""Optional AWS KMS wrapping of case keys: the real boto3 KMS client, against a local fake KMS.

No real KMS endpoint is reachable from here, so KMS itself is a small HTTP double speaking KMS's
JSON protocol (AES-GCM with the encryption context as associated data). Everything on our side is
real: boto3's client, request signing, retries, our wrapping and error handling.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import country_rules
from casefile import LoadedCase, load_case_folder
from core.errors import KeyMissing
from core.hashing import canonical_json
from storage import Vault


class FakeKms:
    """One symmetric key; records the operations and whether requests were signed."""

    def __init__(self) -> None:
        self.key = AESGCM.generate_key(bit_length=256)
        self.enabled = True
        self.calls: list[dict[str, Any]] = []

    def handle(self, target: str, body: dict[str, Any], signed: bool) -> tuple[int, dict[str, Any]]:
        op = target.rsplit(".", 1)[-1]
        self.calls.append({"op": op, "signed": signed, "context": body.get("EncryptionContext")})
        if not self.enabled:
            return 400, {"__type": "DisabledException", "message": "key is disabled"}
        aad = canonical_json(body.get("EncryptionContext") or {})
        if op == "Encrypt":
            nonce = os.urandom(12)
            blob = nonce + AESGCM(self.key).encrypt(nonce, base64.b64decode(body["Plaintext"]), aad)
            return 200, {"CiphertextBlob": base64.b64encode(blob).decode(), "KeyId": body["KeyId"]}
        if op == "Decrypt":
            blob = base64.b64decode(body["CiphertextBlob"])
            try:
                plain = AESGCM(self.key).decrypt(blob[:12], blob[12:], aad)
            except Exception:  # noqa: BLE001
                return 400, {"__type": "InvalidCiphertextException", "message": "bad ciphertext or context"}
            return 200, {"Plaintext": base64.b64encode(plain).decode(), "KeyId": body.get("KeyId", "k")}
        return 400, {"__type": "UnsupportedOperationException", "message": op}


@pytest.fixture
def fake_kms(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeKms]:
    kms = FakeKms()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            signed = self.headers.get("Authorization", "").startswith("AWS4-HMAC-SHA256")
            status, reply = kms.handle(self.headers.get("X-Amz-Target", ""), body, signed)
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/x-amz-json-1.1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("DOSSIER_KMS_KEY_ID", "alias/dossier-test")
    monkeypatch.setenv("DOSSIER_KMS_ENDPOINT", f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "example-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    try:
        yield kms
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def loaded(example_case: Callable[[str], Path]) -> LoadedCase:
    return load_case_folder(example_case("de-work-visa-family"), extra_kinds=country_rules.known_kinds())


def test_case_key_is_wrapped_by_kms_and_opened_through_it(home: Path, fake_kms: FakeKms, loaded: LoadedCase) -> None:
    v = Vault.from_env()
    v.init()
    case_id = v.import_case(loaded, "cw")
    assert v.store.list("keys/") == [f"keys/{case_id}.kms"]
    assert [c["op"] for c in fake_kms.calls] == ["Encrypt"]
    assert all(c["signed"] for c in fake_kms.calls)
    assert fake_kms.calls[0]["context"] == {"dossier": "case-key", "case_id": case_id}
    assert Vault.from_env().load_case(case_id).files == loaded.files
    assert fake_kms.calls[-1]["op"] == "Decrypt"
    assert v.audit.verify().ok

    fake_kms.enabled = False  # the KMS key is disabled: every case locks at once
    with pytest.raises(KeyMissing) as err:
        Vault.from_env().load_case(case_id)
    assert case_id in err.value.message and "KMS" in err.value.message and "DisabledException" in err.value.message


def test_kms_wrapped_key_needs_kms_configured_and_shreds_like_any_key(
    home: Path, fake_kms: FakeKms, loaded: LoadedCase, monkeypatch: pytest.MonkeyPatch
) -> None:
    v = Vault.from_env()
    v.init()
    case_id = v.import_case(loaded, "cw")
    monkeypatch.delenv("DOSSIER_KMS_KEY_ID")
    with pytest.raises(KeyMissing, match="no KMS key is configured"):
        Vault.from_env().load_case(case_id)
    assert Vault.from_env().shred_case(case_id, "cw")
    assert v.store.list("keys/") == []
    assert v.audit.entries(case_id)[-1]["object_key"] == f"keys/{case_id}.kms"
