"""What every view needs: the signed-in user, the posted form, today's date."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs

from starlette.requests import Request

from web.errors import SignInNeeded
from web.permissions import require
from workflows.accounts import Session

__all__ = ["field", "form", "signed_in", "today"]


def signed_in(request: Request, action: str | None = None) -> Session:
    """The session's user (else a redirect to /login), allowed to perform `action` (else the 403 page)."""
    user = request.scope.get("state", {}).get("user")
    if user is None:
        raise SignInNeeded()
    if action is not None:
        require(user, action)
    return user


def form(request: Request) -> dict[str, list[str]]:
    """The urlencoded form the security middleware already read and checked (field -> values)."""
    body: bytes = request.scope.get("state", {}).get("body", b"")
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=2000)


def field(values: dict[str, list[str]], name: str) -> str:
    """One form field's first value ('' when absent)."""
    return (values.get(name) or [""])[0]


def today() -> date:
    """The date checklists are evaluated for."""
    return date.today()
