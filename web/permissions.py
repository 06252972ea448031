"""Who may do what: every permission is a named action checked in one place (`require`)."""

from __future__ import annotations

from workflows.accounts import Session

__all__ = ["ACTIONS", "allowed", "home_for", "require"]

_READERS = frozenset({"caseworker", "adviser"})
_CASEWORKER = frozenset({"caseworker"})
_AUDITOR = frozenset({"auditor"})

ACTIONS: dict[str, frozenset[str]] = {
    "case-list": _READERS,
    "case-view": _READERS,  # decrypts personal data: auditors and admins never
    "case-search": _READERS,
    "case-import": _CASEWORKER,
    "case-build": _CASEWORKER,  # build, advance and group submissions
    "packet-download": _READERS,
    "deadlines": _READERS,
    "rules-view": frozenset({"adviser"}),
    "rules-test": frozenset({"adviser"}),
    "audit-view": _AUDITOR,
    "audit-verify": _AUDITOR,
    "audit-export": _AUDITOR,
    "audit-checkpoint": _AUDITOR,
    "accounts": frozenset({"admin"}),
}


def allowed(user: Session, action: str) -> bool:
    """Whether the signed-in user's role may perform the action (unknown actions: never)."""
    return user.role in ACTIONS.get(action, frozenset())


def require(user: Session, action: str) -> None:
    """Raise the one 403 page when the user's role may not perform the action."""
    from web.errors import Forbidden

    if not allowed(user, action):
        raise Forbidden(action)


def home_for(user: Session) -> str:
    """Where a role lands after signing in."""
    return {"auditor": "/audit", "admin": "/accounts"}.get(user.role, "/cases")
