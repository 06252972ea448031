"""Signing in and out, the landing redirect and the health check."""

from __future__ import annotations

import secrets

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from core.errors import DossierError
from web.permissions import home_for
from web.render import page
from web.security import COOKIE, LOGIN_COOKIE, cookie_secure
from web.views.common import field, form
from workflows import accounts

router = APIRouter()


def _login_page(request: Request, error: str = "", status: int = 200) -> Response:
    token = secrets.token_urlsafe(32)
    response = page(request, "login.html", {"login_token": token, "error": error}, status)
    response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", secure=cookie_secure(request.scope))
    return response


@router.get("/login")
def login_form(request: Request) -> Response:
    """The sign-in page (fields Username and Password, button Sign in)."""
    return _login_page(request)


@router.post("/login")
def login(request: Request) -> Response:
    """Check the password (and code); start a session and go to the role's first page."""
    values = form(request)
    try:
        token, sess = accounts.sign_in(field(values, "username"), field(values, "password"), field(values, "code"))
    except DossierError as exc:
        return _login_page(request, str(exc), 401)
    response = RedirectResponse(home_for(sess), status_code=303)
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", secure=cookie_secure(request.scope), path="/")
    response.delete_cookie(LOGIN_COOKIE)
    return response


@router.post("/logout")
def logout(request: Request) -> Response:
    """End the session everywhere."""
    user = request.scope.get("state", {}).get("user")
    if user is not None:
        accounts.sign_out(user)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@router.get("/")
def home(request: Request) -> Response:
    """The role's first page, or the sign-in page."""
    user = request.scope.get("state", {}).get("user")
    return RedirectResponse(home_for(user) if user else "/login", status_code=303)


@router.get("/healthz")
def healthz() -> Response:
    """Liveness for a proxy or supervisor: the process answers (no store access, no data)."""
    return JSONResponse({"ok": True})
