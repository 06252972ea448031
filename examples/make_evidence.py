"""Generate the fictional evidence files of every example case (they are not committed as binaries).

Usage: .venv/bin/python examples/make_evidence.py [--overwrite]
"""

from __future__ import annotations

import sys
from pathlib import Path

from casefile.specimens import write_specimens


def main(argv: list[str]) -> int:
    """Write specimens for every examples/*/case.yaml."""
    here = Path(__file__).resolve().parent
    for folder in sorted(p.parent for p in here.glob("*/case.yaml")):
        written = write_specimens(folder, overwrite="--overwrite" in argv)
        print(f"{folder.name}: {len(written)} file(s) written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
