"""Who signs the letters: the organisation's identity, read from DOSSIER_HOME/office.toml.

office.toml (or an [office] table in DOSSIER_HOME/config.toml):

    [office]
    name = "Exemple Libertés"
    address = ["1 rue de l'Exemple", "75000 Paris", "France"]   # or one string with newlines
    email = "contact@example.org"
    phone = "+33 1 23 45 67 89"
    website = "https://example.org"
    city = "Paris"                        # "Fait à Paris, le ..."
    signatory = "Marie Exemple"
    role = "Présidente"                   # the signatory's role under the name; or a table per
                                          # letter language: role = {fr = "Présidente", de = "Vorsitzende"}
    signature_image = "signature.png"     # optional, PNG/JPEG, relative to DOSSIER_HOME
    stamp_image = "stamp.png"             # optional: the organisation's stamp beside the signature

    [signing]                             # optional: PAdES-sign packet.pdf
    pkcs12 = "keys/office.p12"            # relative to DOSSIER_HOME
    passphrase_file = "keys/office.p12.pass"   # or passphrase_env = "DOSSIER_SIGNING_PASSPHRASE"

Without a file, letters carry a placeholder identity that says it is not configured.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ConfigError

UNCONFIGURED = "office.toml?"  # printed where a missing field would be: visible, never mistaken for a value


@dataclass(frozen=True)
class Signing:
    """Where the organisation's PKCS#12 certificate and its passphrase are."""

    pkcs12: Path
    passphrase: bytes | None


@dataclass(frozen=True)
class Office:
    """The organisation as its letters present it."""

    name: str
    address: tuple[str, ...] = ()
    email: str = ""
    phone: str = ""
    website: str = ""
    city: str = ""
    signatory: str = ""
    role: str = ""
    roles: tuple[tuple[str, str], ...] = ()  # the role per letter language, when office.toml gives a table
    signature_image: bytes = field(default=b"", repr=False)
    stamp_image: bytes = field(default=b"", repr=False)
    configured: bool = True
    signing: Signing | None = None

    def to_context(self, language: str = "") -> dict[str, Any]:
        """The `office` letter variable (images are added by the renderer, not here)."""
        role = dict(self.roles).get(language, self.role)
        return {
            "name": self.name,
            "address": list(self.address),
            "address_line": ", ".join(self.address),
            "email": self.email,
            "phone": self.phone,
            "website": self.website,
            "city": self.city,
            "signatory": self.signatory,
            "role": role,
            "configured": self.configured,
            "has_signature": bool(self.signature_image),
            "has_stamp": bool(self.stamp_image),
        }


PLACEHOLDER = Office(
    name=f"[{UNCONFIGURED}]",
    address=(f"[{UNCONFIGURED}]",),
    signatory=f"[{UNCONFIGURED}]",
    configured=False,
)


def _home() -> Path:
    from core.settings import load_settings

    return load_settings().home


def office_file(home: Path | None = None) -> Path:
    """The office identity file: DOSSIER_HOME/office.toml."""
    return (home or _home()) / "office.toml"


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})", hint="fix the file; see core/office.py") from None


def _text(table: dict[str, Any], key: str, where: str) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise ConfigError(f"{where}: office.{key} must be text", hint="put the value in quotes")
    return value.strip()


def _file(home: Path, table: dict[str, Any], key: str, where: str) -> Path | None:
    value = _text(table, key, where)
    if not value:
        return None
    path = (home / value).expanduser()
    if not path.is_file():
        raise ConfigError(f"{where}: {key} {value!r} is not a file", hint="give a path relative to DOSSIER_HOME")
    return path


def load_office(home: Path | None = None) -> Office:
    """The office identity from DOSSIER_HOME/office.toml (or config.toml [office]); a placeholder if none."""
    home = home or _home()
    path = office_file(home)
    if path.is_file():
        data = _read(path)
    elif (home / "config.toml").is_file():
        path = home / "config.toml"
        data = _read(path)
    else:
        return PLACEHOLDER
    table = data.get("office")
    if not isinstance(table, dict):
        return PLACEHOLDER
    where = str(path)
    address = table.get("address", [])
    if isinstance(address, str):
        address = [line.strip() for line in address.splitlines() if line.strip()]
    if not isinstance(address, list) or not all(isinstance(a, str) for a in address):
        raise ConfigError(
            f"{where}: office.address must be a list of lines", hint='e.g. address = ["1 rue X", "Paris"]'
        )
    name = _text(table, "name", where)
    if not name:
        raise ConfigError(f"{where}: office.name is missing", hint="the organisation's name heads every letter")
    images = {k: _file(home, table, k, where) for k in ("signature_image", "stamp_image")}
    raw_role = table.get("role", "")
    roles: tuple[tuple[str, str], ...] = ()
    if isinstance(raw_role, dict):  # [office.role] fr = "Présidente", de = "Vorsitzende"
        roles = tuple(sorted((str(k), str(v).strip()) for k, v in raw_role.items()))
        role = roles[0][1] if roles else ""
    else:
        role = _text(table, "role", where)
    return Office(
        name=name,
        address=tuple(address),
        email=_text(table, "email", where),
        phone=_text(table, "phone", where),
        website=_text(table, "website", where),
        city=_text(table, "city", where),
        signatory=_text(table, "signatory", where) or f"[{UNCONFIGURED}]",
        role=role,
        roles=roles,
        signature_image=images["signature_image"].read_bytes() if images["signature_image"] else b"",
        stamp_image=images["stamp_image"].read_bytes() if images["stamp_image"] else b"",
        signing=_signing(home, data.get("signing"), where),
    )


def _signing(home: Path, table: Any, where: str) -> Signing | None:
    if not isinstance(table, dict) or not table.get("pkcs12"):
        return None
    p12 = _file(home, table, "pkcs12", f"{where} [signing]")
    assert p12 is not None
    passphrase: bytes | None = None
    pass_file = _file(home, table, "passphrase_file", f"{where} [signing]")
    env = _text(table, "passphrase_env", where)
    if pass_file is not None:
        passphrase = pass_file.read_bytes().strip()
    elif env:
        value = os.environ.get(env)
        if value is None:
            raise ConfigError(f"{where}: [signing] passphrase_env names {env}, which is not set", hint=f"export {env}")
        passphrase = value.encode()
    return Signing(pkcs12=p12, passphrase=passphrase)
