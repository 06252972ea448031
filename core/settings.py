"""Where Dossier keeps its things, from the environment (SPEC section 9)."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

TOOL_VERSION = "0.1.0"


@dataclass(frozen=True)
class Settings:
    """The resolved environment of one process."""

    home: Path
    store_url: str
    actor: str

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @property
    def org_identity_file(self) -> Path:
        return self.keys_dir / "org-identity.txt"

    @property
    def recipients_file(self) -> Path:
        return self.keys_dir / "recipients.txt"

    @property
    def config_file(self) -> Path:
        return self.home / "config.toml"


def load_settings() -> Settings:
    """Read DOSSIER_HOME, DOSSIER_STORE and DOSSIER_ACTOR, with the documented defaults."""
    home = Path(os.environ.get("DOSSIER_HOME") or platformdirs.user_data_dir("dossier")).expanduser()
    store = os.environ.get("DOSSIER_STORE") or (home / "store").resolve().as_uri()
    actor = os.environ.get("DOSSIER_ACTOR") or _login_name()
    return Settings(home=home, store_url=store, actor=actor)


def _login_name() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid-{os.getuid()}"
