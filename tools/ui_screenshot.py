"""Screenshot of the Prefect UI run form for the `build` deployment, for the README.

Starts `dossier serve` in scratch homes, finds the deployment, and has headless Chromium (Debian
packages chromium + chromium-driver) render the "custom run" form to docs/prefect-ui-build-form.png.
Usage: .venv/bin/python tools/ui_screenshot.py
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "prefect-ui-build-form.png"


def _get(url: str, body: dict[str, object] | None = None) -> object:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})  # noqa: S310
    with urllib.request.urlopen(req, timeout=5) as resp:  # noqa: S310 - loopback only
        return json.loads(resp.read())


def main() -> int:
    """Serve, wait for the build deployment, render its run form, stop everything."""
    chromium = shutil.which("chromium")
    if chromium is None:
        print("install Debian's chromium first: apt-get install chromium chromium-driver", file=sys.stderr)
        return 2
    scratch = Path(tempfile.mkdtemp(prefix="dossier-ui-"))
    port = 4231
    env = dict(os.environ, DOSSIER_HOME=str(scratch / "home"), PREFECT_HOME=str(scratch / "prefect"))
    env.pop("PREFECT_API_URL", None)
    serve = subprocess.Popen(
        [str(REPO / ".venv/bin/dossier"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(scratch / "serve.log").open("wb"),
        start_new_session=True,
    )
    api = f"http://127.0.0.1:{port}/api"
    try:
        deployment_id = None
        for _ in range(240):
            try:
                found = _get(f"{api}/deployments/filter", {"deployments": {"name": {"any_": ["build"]}}})
                if isinstance(found, list) and found:
                    deployment_id = found[0]["id"]
                    break
            except OSError:
                pass
            time.sleep(0.5)
        if deployment_id is None:
            print(f"the build deployment did not appear; see {scratch / 'serve.log'}", file=sys.stderr)
            return 1
        OUT.parent.mkdir(exist_ok=True)
        subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={scratch / 'chrome'}",
                "--hide-scrollbars",
                "--window-size=1400,1000",
                "--virtual-time-budget=20000",
                f"--screenshot={OUT}",
                f"http://127.0.0.1:{port}/deployments/deployment/{deployment_id}/run",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        print(OUT)
        return 0
    finally:
        os.killpg(serve.pid, signal.SIGINT)
        try:
            serve.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(serve.pid, signal.SIGKILL)
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
