"""Who may use the case desk: accounts (argon2id), roles, sign-in with throttling and lock-out, sessions.

Everything lives in the object store (storage/accounts.py), so several web instances sharing one
store share accounts, lock-outs and sessions. Account changes and sign-ins are audit entries; the
account object's hash is recorded, so `dossier audit verify` notices an account edited behind our back.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from core.errors import BadInput, DomainFailure, NotFound
from core.hashing import sha256_hex
from storage.accounts import AccountStore
from storage.crypto import decrypt, encrypt
from workflows.cases import actor_or_default, vault

__all__ = [
    "ROLES",
    "Account",
    "Session",
    "SignInRefused",
    "add_user",
    "disable_user",
    "list_users",
    "session",
    "sign_in",
    "sign_out",
]

ROLES = ("caseworker", "adviser", "auditor", "admin")
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,39}$")
MIN_PASSWORD = 12
MAX_FAILURES = 5  # then the account is locked for LOCK_SECONDS
LOCK_SECONDS = 15 * 60
_TOUCH_EVERY = 60.0  # seconds between writes of a session's last-seen time


class SignInRefused(DomainFailure):
    """Wrong username, password or code, or a locked or disabled account (one message for all)."""


@dataclass(frozen=True)
class Account:
    """A person who signs in to the case desk (no personal data of applicants)."""

    username: str
    role: str
    disabled: bool
    created: str
    totp: bool

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Account:
        return cls(
            username=data["username"],
            role=data["role"],
            disabled=bool(data.get("disabled")),
            created=data.get("created", ""),
            totp=bool(data.get("totp")),
        )


@dataclass(frozen=True)
class Session:
    """A signed-in browser: the account and the form token that proves a POST came from our own pages."""

    username: str
    role: str
    csrf: str
    token_hash: str


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id, RFC 9106 low-memory profile


@cache
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_hex(16))


def idle_seconds() -> float:
    """How long a session may stay unused (DOSSIER_WEB_IDLE_MINUTES, default 30)."""
    return float(os.environ.get("DOSSIER_WEB_IDLE_MINUTES") or 30) * 60


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _store() -> AccountStore:
    return AccountStore(vault().store)


def check_username(username: str) -> str:
    """A username of 2-40 lower-case letters, digits, dot, dash, underscore, starting with a letter."""
    if not _USERNAME.match(username or ""):
        raise BadInput(
            "the username is not valid",
            hint="use 2-40 lower-case letters, digits, '.', '-' or '_', starting with a letter (e.g. anna.k)",
        )
    return username


def check_role(role: str) -> str:
    """One of the four roles."""
    if role not in ROLES:
        raise BadInput(f"unknown role {role!r}", hint=f"use one of: {', '.join(ROLES)}")
    return role


def _audit(action: str, actor: str, key: str | None = None, sha: str | None = None) -> None:
    vault().audit.append(action, actor, None, key, sha)


def add_user(
    username: str, role: str, password: str, actor: str | None = None, *, totp: bool = False
) -> tuple[Account, str | None]:
    """Create an account; with `totp`, also the provisioning URI for an authenticator app."""
    check_username(username)
    check_role(role)
    if len(password) < MIN_PASSWORD:
        raise BadInput("the password is too short", hint=f"use at least {MIN_PASSWORD} characters")
    data: dict[str, Any] = {
        "v": 1,
        "username": username,
        "role": role,
        "hash": _hasher().hash(password),
        "disabled": False,
        "created": _now(),
        "totp": None,
    }
    uri = None
    if totp:
        secret = pyotp.random_base32()
        data["totp"] = encrypt(secret.encode(), vault().keys.recipients()).hex()
        uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="Dossier case desk")
    written = _store().put_user(data, new=True)
    if written is None:
        raise BadInput(f"account {username} already exists", hint="pick another username, or disable the old one")
    _audit("add-account", actor_or_default(actor), *written)
    return Account.from_json(data), uri


def list_users() -> list[Account]:
    """Every account (usernames and roles; no hashes)."""
    return [Account.from_json(u) for u in _store().users()]


def get_user(username: str) -> Account:
    """One account; NotFound naming what to do."""
    data = _store().user(check_username(username))
    if data is None:
        raise NotFound(f"no account {username}", hint="see `dossier user list`")
    return Account.from_json(data)


def disable_user(username: str, actor: str | None = None) -> bool:
    """Disable an account and end its sessions; False if it was already disabled."""
    st = _store()
    data = st.user(check_username(username))
    if data is None:
        raise NotFound(f"no account {username}", hint="see `dossier user list`")
    changed = not data.get("disabled")
    if changed:
        data["disabled"] = True
        written = st.put_user(data)
        assert written is not None
        _audit("disable-account", actor_or_default(actor), *written)
    for token_hash, (_at, cached) in list(_recent.items()):
        if cached.username == username:
            _recent.pop(token_hash, None)
    for key in st.session_keys():
        sess = st.session_at(key)
        if sess is not None and sess.get("username") == username:
            st.delete(key)
    return changed


def _check_totp(data: dict[str, Any], code: str) -> bool:
    secret = decrypt(bytes.fromhex(data["totp"]), vault().keys.identities(), "an account's second-factor secret")
    return pyotp.TOTP(secret.decode()).verify(code.strip(), valid_window=1)


def sign_in(username: str, password: str, code: str = "") -> tuple[str, Session]:
    """Check a password (and code), slowing and locking after failures; the new session's cookie token."""
    st = _store()
    name = (username or "").strip().lower()
    throttle = st.throttle(name) if _USERNAME.match(name) else {"failures": 0, "locked_until": 0.0}
    now = time.time()
    if throttle.get("locked_until", 0) > now:
        raise SignInRefused(
            "this account is locked after too many failed sign-ins",
            hint=f"wait {int((throttle['locked_until'] - now) // 60) + 1} minutes or ask an administrator",
        )
    data = st.user(name) if _USERNAME.match(name) else None
    ok = False
    try:
        ok = _hasher().verify(data["hash"] if data else _dummy_hash(), password or "") and data is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    if ok and data is not None and data.get("totp"):
        ok = bool(code) and _check_totp(data, code)
    if not ok or data is None or data.get("disabled"):
        failures = int(throttle.get("failures", 0)) + 1
        if _USERNAME.match(name):
            locked = now + LOCK_SECONDS if failures >= MAX_FAILURES else 0.0
            st.put_throttle(name, {"failures": 0 if locked else failures, "locked_until": locked})
            if locked and data is not None:
                _audit("lock-account", name)
        time.sleep(min(0.2 * 2 ** (failures - 1), 2.0))  # slows guessing even before the lock-out
        raise SignInRefused("wrong username, password or code, or the account is disabled", hint="try again")
    if throttle.get("failures"):
        st.put_throttle(name, {"failures": 0, "locked_until": 0.0})
    token = secrets.token_urlsafe(32)
    token_hash = sha256_hex(token.encode())
    csrf = secrets.token_urlsafe(32)
    sess: dict[str, Any] = {"username": name, "csrf": csrf, "created": now, "seen": now}
    st.put_session(token_hash, sess)
    _audit("sign-in", name)
    return token, Session(username=name, role=data["role"], csrf=csrf, token_hash=token_hash)


_recent: dict[str, tuple[float, Session]] = {}  # token hash -> (checked at, session), this process only
_RECHECK = 5.0  # seconds a checked session is trusted before the store is read again


def session(token: str | None) -> Session | None:
    """The session a cookie token opens, or None (unknown, signed out, idle too long, account disabled).

    A session checked in the last few seconds is not read again (a page's progress polling would
    otherwise read the store several times a second, slowing the build it watches); a sign-out or a
    disabling in this process takes effect at once, in another instance within _RECHECK seconds.
    """
    if not token or len(token) > 100:
        return None
    token_hash = sha256_hex(token.encode())
    hit = _recent.get(token_hash)
    if hit is not None and time.monotonic() - hit[0] < _RECHECK:
        return hit[1]
    found = _session(token_hash)
    if found is None:
        _recent.pop(token_hash, None)
    else:
        _recent[token_hash] = (time.monotonic(), found)
    return found


def _session(token_hash: str) -> Session | None:
    st = _store()
    sess = st.session(token_hash)
    if sess is None:
        return None
    now = time.time()
    if now - float(sess.get("seen", 0)) > idle_seconds():
        st.end_session(token_hash)
        return None
    data = st.user(sess["username"])
    if data is None or data.get("disabled"):
        st.end_session(token_hash)
        return None
    if now - float(sess["seen"]) > _TOUCH_EVERY:
        sess["seen"] = now
        st.put_session(token_hash, sess)
    return Session(username=sess["username"], role=data["role"], csrf=sess["csrf"], token_hash=token_hash)


def sign_out(sess: Session) -> None:
    """End a session everywhere (the store forgets it; the cookie opens nothing)."""
    _recent.pop(sess.token_hash, None)
    _store().end_session(sess.token_hash)
    _audit("sign-out", sess.username)
