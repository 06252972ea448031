"""Case records: version n of a case (its validated case.yaml, evidence index and state) under one key each.

Versions are never overwritten: an update writes version n+1 with a conditional put, so two writers
never both write the same version, and an interrupted run's version is adopted into the audit log.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from typing import Any

from core.errors import NotFound, StorageError
from core.hashing import canonical_json, sha256_hex
from storage.audit import AuditLog, _now
from storage.base import ObjectStore
from storage.casekeys import CaseKeys
from storage.crypto import decrypt, encrypt

__all__ = ["RECORD_KEY", "CaseRecords", "check_id"]

RECORD_KEY = re.compile(r"/record/(\d{6})\.age$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def check_id(kind: str, value: str) -> str:
    """An id safe to put in an object key; NotFound (never quoting it) otherwise."""
    if not isinstance(value, str) or not _ID.match(value):
        raise NotFound(f"that {kind} is not a valid {kind}", hint=f"copy the {kind} exactly as it was printed")
    return value


class CaseRecords:
    """Read, write and update the versioned, encrypted records of cases."""

    def __init__(self, store: ObjectStore, audit: AuditLog, keys: CaseKeys) -> None:
        self.store = store
        self.audit = audit
        self.keys = keys

    def key(self, case_id: str, n: int) -> str:
        return f"cases/{case_id}/record/{n:06d}.age"

    def versions(self, case_id: str) -> list[str]:
        """The object keys of every stored version, oldest first."""
        return [k for k in self.store.list(f"cases/{case_id}/record/") if RECORD_KEY.search(k)]

    def latest(self, case_id: str) -> tuple[int, dict[str, Any]] | None:
        """(n, record) of the newest version, decrypted; None when there is none."""
        records = self.versions(case_id)
        if not records:
            return None
        key = records[-1]
        m = RECORD_KEY.search(key)
        assert m is not None
        record = json.loads(decrypt(self.store.get(key), [self.keys.get(case_id)], f"case {case_id} record"))
        return int(m.group(1)), record

    def require(self, case_id: str) -> tuple[int, dict[str, Any]]:
        """latest(), or KeyMissing (shredded), NotFound (unknown, or an import interrupted before its record)."""
        check_id("case id", case_id)
        latest = self.latest(case_id)
        if latest is None:
            self.keys.get(case_id)  # raises KeyMissing (shredded) or NotFound (unknown)
            raise NotFound(
                f"case {case_id}: its import was interrupted before the case record was stored",
                hint="import the case folder again (it picks up where it stopped), or shred it",
            )
        return latest

    def write(self, case_id: str, n: int, record: dict[str, Any], action: str, actor: str) -> bool:
        """Store version n if nobody else did, and record it; False when it was taken."""
        key = self.key(case_id, n)
        blob = encrypt(canonical_json(record), [self.keys.get(case_id).to_public()])
        if not self.store.put_if_absent(key, blob):
            return False
        self.audit.append(action, actor, case_id, key, sha256_hex(blob))
        return True

    def recorded(self, case_id: str, key: str, n: int) -> bool:
        """Whether an entry records `key`, looking back only to the entry of record version n (or older)."""
        prefix = f"cases/{case_id}/record/"

        def older_record(e: dict[str, Any]) -> bool:
            k = e.get("object_key") or ""
            return e.get("case_id") == case_id and k.startswith(prefix) and k != key and k < f"{prefix}{n:06d}.age~"

        return self.audit.find_back(lambda e: e.get("object_key") == key, older_record) is not None

    def adopt(self, case_id: str, n: int, action: str, actor: str) -> None:
        """Log version n if an interrupted run stored it without its audit entry."""
        key = self.key(case_id, n)
        if self.recorded(case_id, key, n - 1):
            return
        digest = self.store.sha256(key)
        if digest is not None:
            self.audit.append(action, actor, case_id, key, digest)

    def update(
        self, case_id: str, action: str, actor: str, change: Callable[[dict[str, Any]], dict[str, Any] | None]
    ) -> dict[str, Any]:
        """Optimistic update: apply `change` to the latest record and write it as the next version."""
        for _attempt in range(50):
            n, record = self.require(case_id)
            new = change(copy.deepcopy(record))
            if new is None:
                self.adopt(case_id, n, action, actor)
                return record
            new["state"]["updated"] = _now()
            if self.write(case_id, n + 1, new, action, actor):
                return new
        raise StorageError(f"case {case_id}: too many concurrent updates; try again")
