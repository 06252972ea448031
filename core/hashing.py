"""Hashes and canonical JSON, so that the same inputs always give the same bytes."""

from __future__ import annotations

import hashlib
import json
from typing import Any

JsonValue = Any


def sha256_hex(data: bytes) -> str:
    """SHA-256 of bytes as lowercase hex, the hash used everywhere in manifests and the audit log."""
    return hashlib.sha256(data).hexdigest()


def canonical_json(value: JsonValue) -> bytes:
    """Stable JSON encoding (sorted keys, no spaces, UTF-8) so hashes of documents are reproducible."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def pretty_json(value: JsonValue) -> bytes:
    """Readable yet stable JSON for files people open (checklist.json, manifest.json)."""
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False, default=str) + "\n").encode()
