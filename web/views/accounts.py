"""The administrator's page: accounts only (add, list, disable); never cases, packets or the audit log."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from core.errors import DossierError
from web.render import page
from web.views.common import field, form, signed_in
from workflows import accounts

router = APIRouter()


def _accounts_page(request: Request, **extra: object) -> Response:
    signed_in(request, "accounts")
    context = {"users": accounts.list_users(), "roles": accounts.ROLES, **extra}
    return page(request, "accounts.html", context, 400 if extra.get("error") else 200)


@router.get("/accounts")
def accounts_page(request: Request) -> Response:
    """Every account with its role and whether it is disabled."""
    return _accounts_page(request)


@router.post("/accounts/add")
def add_account(request: Request) -> Response:
    """Create an account (argon2id hash; the password is never stored or logged)."""
    admin = signed_in(request, "accounts")
    values = form(request)
    try:
        account, uri = accounts.add_user(
            field(values, "username"),
            field(values, "role"),
            field(values, "password"),
            admin.username,
            totp=field(values, "totp") == "on",
        )
    except DossierError as exc:
        return _accounts_page(request, error=str(exc))
    return _accounts_page(request, added=account.username, totp_uri=uri)


@router.post("/accounts/disable")
def disable_account(request: Request) -> Response:
    """Disable an account and end its sessions on every instance."""
    admin = signed_in(request, "accounts")
    username = field(form(request), "username")
    try:
        accounts.disable_user(username, admin.username)
    except DossierError as exc:
        return _accounts_page(request, error=str(exc))
    return _accounts_page(request, disabled=username)
