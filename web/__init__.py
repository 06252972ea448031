"""The case desk: a server-rendered web app over the service layer (SPEC section 11)."""

from web.app import create_app

__all__ = ["create_app"]
