"""Folders and files only their owner can read: what holds keys, encrypted objects or Prefect's database."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["make_private_dir", "make_private_file"]


def make_private_dir(path: Path) -> Path:
    """Create `path` and every missing parent with mode 0700 (mkdir(parents=True) gives parents 0755)."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask
    return path


def make_private_file(path: Path) -> None:
    """Restrict an existing file to its owner (0600)."""
    if path.exists():
        os.chmod(path, 0o600)
