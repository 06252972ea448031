"""Prefect's local SQLite database, created from a migrated template instead of migrating every new home.

A fresh PREFECT_HOME costs Prefect about 5 s of schema migrations at its first start (measured:
first flow in a fresh process 14.9 s on an empty home, 9.5 s on a migrated one). The template is made
once per installed Prefect version (by `make setup`, or by the first `dossier init` that needs it)
inside the virtual environment, and copied into each new home. It holds Prefect's empty schema only.
Run by hand: python -m workflows.prefect_db   (prints where the template is)
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from importlib.metadata import version
from pathlib import Path

from core.errors import ConfigError
from core.private import make_private_dir, make_private_file

DB_NAME = "prefect.db"
# Any of these means Prefect uses another database or another server: nothing to prepare here.
_ELSEWHERE = ("PREFECT_API_URL", "PREFECT_SERVER_DATABASE_CONNECTION_URL", "PREFECT_API_DATABASE_CONNECTION_URL")


def template_path() -> Path:
    """Where the migrated empty database of the installed Prefect version is kept."""
    return Path(sys.prefix) / "share" / "dossier" / f"prefect-{version('prefect')}.db"


def local_database(prefect_home: Path) -> Path | None:
    """The SQLite file Prefect will use under prefect_home, or None when it is configured elsewhere."""
    if any(os.environ.get(k) for k in _ELSEWHERE):
        return None
    return prefect_home / DB_NAME


def ensure_template() -> Path:
    """Make the template by running Prefect's own migrations in a scratch home (about 8 s, once)."""
    target = template_path()
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="prefect-template-", dir=target.parent) as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}  # _ELSEWHERE included
        env |= {"PREFECT_HOME": scratch, "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
        prefect = Path(sys.executable).with_name("prefect")
        done = subprocess.run(
            [str(prefect), "server", "database", "upgrade", "-y"], env=env, capture_output=True, text=True
        )
        made = Path(scratch) / DB_NAME
        if done.returncode != 0 or not made.exists():
            raise ConfigError(
                f"could not prepare Prefect's database (prefect server database upgrade exited {done.returncode})",
                hint=done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "run `make setup` again",
            )
        os.replace(made, target)  # atomic: a concurrent maker loses nothing, the file is whole
    return target


def prepare(prefect_home: Path) -> str:
    """Give a new PREFECT_HOME a migrated database; one line saying what was done."""
    db = local_database(prefect_home)
    if db is None:
        return "prefect: database configured elsewhere (PREFECT_API_URL or a connection URL): nothing to prepare"
    if db.exists():
        make_private_file(db)
        return f"prefect: kept database {db}"
    template = ensure_template()
    make_private_dir(prefect_home)
    partial = db.with_name(f".{DB_NAME}.{os.getpid()}")
    shutil.copyfile(template, partial)
    os.chmod(partial, 0o600)  # run names and logs are id-only, but the database is nobody else's business
    try:
        os.link(partial, db)  # never replaces a database that appeared meanwhile
    except FileExistsError:
        return f"prefect: kept database {db}"
    finally:
        partial.unlink(missing_ok=True)
    return f"prefect: created database {db} (migrated template of Prefect {version('prefect')})"


if __name__ == "__main__":
    print(ensure_template())
