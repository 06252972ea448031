"""Case-desk accounts, sessions and build runs kept in the object store, so every web instance sees them.

Keys are hashes (never a username or a session token): `accounts/users/<sha256(username)>.json` holds
the username, role, argon2id hash and an age-encrypted TOTP secret; `accounts/throttle/...` counts
failed sign-ins; `accounts/sessions/<sha256(token)>.json` is one signed-in browser (the cookie holds
the token, the store only its hash); `accounts/runs/<run id>.json` is a build started from the web
(ids, step names and outcome words only).
"""

from __future__ import annotations

import json
from typing import Any

from core.hashing import sha256_hex
from storage.base import ObjectMissing, ObjectStore

__all__ = ["AccountStore", "user_key"]

_USERS = "accounts/users/"
_THROTTLE = "accounts/throttle/"
_SESSIONS = "accounts/sessions/"
_RUNS = "accounts/runs/"


def user_key(username: str) -> str:
    """The object key of an account: a hash of the lower-cased username (keys never carry a name)."""
    return f"{_USERS}{sha256_hex(username.strip().lower().encode())}.json"


def _dump(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()


class AccountStore:
    """Small JSON objects for the case desk, in the same store as the cases."""

    def __init__(self, store: ObjectStore) -> None:
        self.store = store

    def _get(self, key: str) -> dict[str, Any] | None:
        try:
            data: dict[str, Any] = json.loads(self.store.get(key))
        except ObjectMissing:
            return None
        return data

    # --- accounts -------------------------------------------------------------------------

    def user(self, username: str) -> dict[str, Any] | None:
        """The stored account, or None."""
        return self._get(user_key(username))

    def put_user(self, data: dict[str, Any], *, new: bool = False) -> tuple[str, str] | None:
        """Store an account; (key, sha256) for the audit log, or None when `new` and it already exists."""
        key = user_key(data["username"])
        blob = _dump(data)
        if new:
            if not self.store.put_if_absent(key, blob):
                return None
        else:
            self.store.put(key, blob)
        return key, sha256_hex(blob)

    def users(self) -> list[dict[str, Any]]:
        """Every account, sorted by username."""
        out = [self._get(k) for k in self.store.list(_USERS)]
        return sorted((u for u in out if u is not None), key=lambda u: str(u["username"]))

    # --- failed sign-ins --------------------------------------------------------------------

    def throttle(self, username: str) -> dict[str, Any]:
        """Failed sign-in count and lock-out time of a username (existing or not)."""
        return self._get(_THROTTLE + user_key(username).removeprefix(_USERS)) or {"failures": 0, "locked_until": 0.0}

    def put_throttle(self, username: str, data: dict[str, Any]) -> None:
        """Remember failed sign-ins (shared by every instance)."""
        self.store.put(_THROTTLE + user_key(username).removeprefix(_USERS), _dump(data))

    # --- sessions ---------------------------------------------------------------------------

    def session(self, token_hash: str) -> dict[str, Any] | None:
        """A signed-in session by the hash of its cookie token."""
        return self._get(f"{_SESSIONS}{token_hash}.json")

    def put_session(self, token_hash: str, data: dict[str, Any]) -> None:
        """Create or refresh a session."""
        self.store.put(f"{_SESSIONS}{token_hash}.json", _dump(data))

    def end_session(self, token_hash: str) -> None:
        """Sign a session out (its cookie no longer opens anything)."""
        self.store.delete(f"{_SESSIONS}{token_hash}.json")

    def session_keys(self) -> list[str]:
        """Every session object's key (to end a disabled user's sessions)."""
        return self.store.list(_SESSIONS)

    def session_at(self, key: str) -> dict[str, Any] | None:
        """A session by its object key."""
        return self._get(key)

    def delete(self, key: str) -> None:
        """Remove a session or run object."""
        self.store.delete(key)

    # --- build runs -------------------------------------------------------------------------

    def run(self, run_id: str) -> dict[str, Any] | None:
        """A build started from the web: who, which case, step, fraction, outcome (ids only)."""
        return self._get(f"{_RUNS}{run_id}.json")

    def put_run(self, run_id: str, data: dict[str, Any]) -> None:
        """Record a run's progress or outcome."""
        self.store.put(f"{_RUNS}{run_id}.json", _dump(data))
