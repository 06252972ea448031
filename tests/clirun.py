"""Run the real `dossier` command in a subprocess, as a caseworker would."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import DOSSIER, REPO


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def last_line(self) -> str:
        lines = [ln for ln in self.stdout.splitlines() if ln.strip()]
        return lines[-1].strip() if lines else ""


def dossier(*args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 300) -> Result:
    """Invoke .venv/bin/dossier with an explicit environment; never raises on a non-zero exit."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("DOSSIER_", "PREFECT_"))}
    full_env.update(env)
    full_env.setdefault("COLUMNS", "200")
    full_env.setdefault("DOSSIER_DAEMON", "off")  # tests that want the warm daemon ask for it and stop it
    proc = subprocess.run(
        [str(DOSSIER), *args], cwd=cwd or REPO, env=full_env, capture_output=True, text=True, timeout=timeout
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def grep_tree(root: Path, needles: list[str]) -> list[tuple[str, str]]:
    """Every (file, needle) where a needle appears in a file's raw bytes under root (UTF-8 and UTF-16)."""
    hits = []
    for path in root.rglob("*"):
        if not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        for needle in needles:
            if needle.encode() in data or needle.encode("utf-16-le") in data:
                hits.append((str(path.relative_to(root)), needle))
    return hits
