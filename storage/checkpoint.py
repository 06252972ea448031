"""Ed25519-signed checkpoints of the audit chain head, like a transparency log's signed tree head.

A checkpoint says "entry N of this log had hash H". Kept outside the store, it lets an auditor
with the public key detect a later rollback or rewrite of anything up to entry N.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from core.errors import AuditError, BadInput
from core.hashing import canonical_json, sha256_hex

__all__ = [
    "CHECKPOINT_FORMAT",
    "key_id",
    "load_checkpoint",
    "load_private_key",
    "load_public_key",
    "new_signing_key_pem",
    "sign_checkpoint",
    "verify_checkpoint_signature",
]

CHECKPOINT_FORMAT = "dossier-audit-checkpoint/1"


def new_signing_key_pem() -> tuple[bytes, bytes]:
    """A fresh Ed25519 key pair as (private PKCS8 PEM, public SubjectPublicKeyInfo PEM)."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The checkpoint signing key from its PEM file."""
    try:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except FileNotFoundError:
        raise BadInput(f"checkpoint signing key {path} not found", hint="run `dossier init` to create it") from None
    except ValueError:
        raise BadInput(f"{path}: not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BadInput(f"{path}: not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """A checkpoint verification key from its PEM file."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except FileNotFoundError:
        raise BadInput(f"public key {path} not found") from None
    except ValueError:
        raise BadInput(f"{path}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise BadInput(f"{path}: not an Ed25519 public key")
    return key


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(key: Ed25519PublicKey) -> str:
    """A short fingerprint of a public key, printed so people can compare keys by eye."""
    return sha256_hex(_raw_public(key))[:16]


def sign_checkpoint(
    signing_key: Ed25519PrivateKey, *, store: str, seq: int, head: str, time: str, entries: int
) -> dict[str, Any]:
    """A signed statement that the log's entry `seq` had hash `head`."""
    public = signing_key.public_key()
    body: dict[str, Any] = {
        "format": CHECKPOINT_FORMAT,
        "store": store,
        "seq": seq,
        "head": head,
        "entries": entries,
        "time": time,
        "key_id": key_id(public),
        "public_key": base64.b64encode(_raw_public(public)).decode(),
    }
    body["signature"] = base64.b64encode(signing_key.sign(canonical_json(body))).decode()
    return body


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint file; BadInput naming the file when it is not one."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise BadInput(f"checkpoint {path} not found") from None
    except (ValueError, UnicodeDecodeError):
        raise BadInput(f"checkpoint {path}: not JSON") from None
    needed = {"format", "seq", "head", "public_key", "signature"}
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT or not needed <= data.keys():
        raise BadInput(f"checkpoint {path}: not a {CHECKPOINT_FORMAT} file")
    return data


def verify_checkpoint_signature(checkpoint: dict[str, Any], trusted: Ed25519PublicKey | None) -> str:
    """Check the signature (with the trusted key when given); the key id used. AuditError when it fails."""
    carried = Ed25519PublicKey.from_public_bytes(base64.b64decode(checkpoint["public_key"]))
    if trusted is not None and _raw_public(trusted) != _raw_public(carried):
        raise AuditError(
            f"checkpoint at entry {checkpoint['seq']} was signed by key {key_id(carried)}, "
            f"not by the trusted key {key_id(trusted)}",
            hint="a checkpoint signed by another key proves nothing about this log",
        )
    body = {k: v for k, v in checkpoint.items() if k != "signature"}
    try:
        carried.verify(base64.b64decode(checkpoint["signature"]), canonical_json(body))
    except (InvalidSignature, ValueError):
        raise AuditError(
            f"checkpoint at entry {checkpoint['seq']}: signature is invalid (the file was altered)"
        ) from None
    return key_id(carried)
