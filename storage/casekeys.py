"""Case (and group) keys: one age identity per owner, wrapped to the organisation, shredded by deletion.

A long-running process (the flow daemon, `dossier serve`, the web app) caches unwrapped keys, so
every use re-checks that the wrapped key still exists in the store: a shred in any process revokes
the key in every process at once, at the cost of one stat or HEAD request per use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from core.errors import KeyMissing
from core.hashing import sha256_hex
from storage.audit import AuditLog
from storage.base import ObjectMissing, ObjectStore
from storage.crypto import Identity, new_identity
from storage.keys import OrgKeys

__all__ = ["KEY_SUFFIXES", "CaseKeys", "owner_of_key"]

KEY_SUFFIXES = (".age", ".kms")


def owner_of_key(key: str) -> tuple[str, str] | None:
    """(owner id, suffix) of a keys/ object, or None when it is not a wrapped key."""
    name = key[len("keys/") :] if key.startswith("keys/") else ""
    owner, dot, ext = name.rpartition(".")
    if not dot or f".{ext}" not in KEY_SUFFIXES or "/" in owner:
        return None
    return owner, f".{ext}"


class CaseKeys:
    """Wrap, unwrap, cache and shred the per-owner keys; `missing` says why an owner has no key."""

    def __init__(self, store: ObjectStore, org: OrgKeys, audit: AuditLog, missing: Callable[[str], Exception]) -> None:
        self.store = store
        self.org = org
        self.audit = audit
        self._missing = missing
        self._cache: dict[str, tuple[str, Identity]] = {}
        self._lock = threading.Lock()

    def objects(self, owner_id: str) -> list[str]:
        """Every stored wrapped key of an owner (normally one)."""
        prefix = f"keys/{owner_id}."
        return [k for k in self.store.list(prefix) if (o := owner_of_key(k)) and o[0] == owner_id]

    def owners(self) -> list[str]:
        """Every owner (case or group) that still has a key."""
        return sorted({o[0] for k in self.store.list("keys/") if (o := owner_of_key(k))})

    def get(self, owner_id: str) -> Identity:
        """The owner's identity; raises `missing(owner_id)` when it has none (shredded or unknown)."""
        with self._lock:
            cached = self._cache.get(owner_id)
        if cached is not None:
            if self.store.exists(cached[0]):
                return cached[1]
            self.forget(owner_id)  # shredded by another process since it was cached
        found = self.objects(owner_id)
        if not found:
            raise self._missing(owner_id)
        key = found[0]
        try:
            data = self.store.get(key)
        except ObjectMissing:
            raise KeyMissing(f"{owner_id}: its key was removed while reading it (shredded?)") from None
        identity = self.org.unwrap_case_key(data, owner_id, owner_of_key(key)[1])  # type: ignore[index]
        with self._lock:
            self._cache[owner_id] = (key, identity)
        return identity

    def ensure(self, owner_id: str, actor: str, action: str) -> Identity:
        """The owner's identity, created (and recorded) when it has none yet."""
        if self.objects(owner_id):
            return self.get(owner_id)
        identity = new_identity()
        wrapped = self.org.wrap_case_key(identity, owner_id)
        key = f"keys/{owner_id}{self.org.wrapped_suffix}"
        if not self.store.put_if_absent(key, wrapped):
            return self.get(owner_id)  # another process created it first: use theirs
        self.audit.append(action, actor, owner_id, key, sha256_hex(wrapped))
        with self._lock:
            self._cache[owner_id] = (key, identity)
        return identity

    def forget(self, owner_id: str) -> None:
        with self._lock:
            self._cache.pop(owner_id, None)

    def shred(self, owner_id: str, actor: str, action: str) -> int:
        """Delete every version of the owner's key and record it; how many key objects went."""
        keys = self.objects(owner_id)
        self.forget(owner_id)
        for key in keys:
            self.store.delete(key)
            self.audit.append(action, actor, owner_id, key, None)
        self.forget(owner_id)
        return len(keys)

    def rewrap_all(self, actor: str) -> int:
        """Re-encrypt every key to the current recipients; how many were rewrapped."""
        count = 0
        for key in self.store.list("keys/"):
            parsed = owner_of_key(key)
            if parsed is None:
                continue
            owner, suffix = parsed
            identity = self.org.unwrap_case_key(self.store.get(key), owner, suffix)
            wrapped = self.org.wrap_case_key(identity, owner)
            target = f"keys/{owner}{self.org.wrapped_suffix}"
            self.store.put(target, wrapped)
            self.audit.append("rewrap-key", actor, owner, target, sha256_hex(wrapped))
            if target != key:
                self.store.delete(key)
                self.audit.append("delete-object", actor, owner, key, None)
            self.forget(owner)
            count += 1
        return count
