"""Screenshots of the case desk's main pages for the README (docs/desk-*.png).

Runs the real-browser tests (tests/test_web_browser.py: a fresh store, accounts and example cases,
`dossier web`, Debian's chromium through Playwright) with DOSSIER_SCREENSHOTS pointing at docs/.
Usage: .venv/bin/python tools/web_screenshots.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    env = os.environ | {"DOSSIER_SCREENSHOTS": str(REPO / "docs")}
    cmd = [str(REPO / ".venv" / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    done = subprocess.run([*cmd, "tests/test_web_browser.py"], cwd=REPO, env=env, check=False)
    for shot in sorted((REPO / "docs").glob("desk-*.png")):
        print(shot.relative_to(REPO))
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
