"""A worker's flow-run command that starts in milliseconds: it hands the run to a warm fork server.

A process worker starts every flow run as a new `python -m prefect.engine`: ~3-5 s of Python start-up
and imports (Prefect, our flows, rules, templates) per build before any work, more on a busy machine.
The work pool's `command` runs this file instead (with `python -S`: stdlib only, no site-packages).
It sends its environment, working folder and stdio to a fork server kept warm per worker
(workflows/forkserver.py), which forks an already-imported child that runs the same
`prefect.engine` entry point; this process waits for it and exits with its exit code, so the worker
sees a normal flow-run process (pid, exit code, output, SIGTERM/SIGKILL). When no server answers,
it starts one in the background and runs this flow run itself, cold, as Prefect would.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal
import socket
import subprocess
import sys


def socket_path(env: dict[str, str]) -> str:
    """One server per worker: next to the worker's PREFECT_HOME (its own on every worker)."""
    return os.path.join(env.get("PREFECT_HOME") or os.path.expanduser("~/.prefect"), "forkserver.sock")


def _start_server(path: str) -> None:
    """Start the fork server in the background (one at a time, lock file), for the next runs."""
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    with open(path + ".lock", "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return  # another run is starting it
        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT__")}  # no run-specific values
        with open(os.path.join(folder, "forkserver.log"), "ab") as log:
            subprocess.Popen(
                [sys.executable, "-m", "workflows.forkserver", path],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                pass_fds=(lock.fileno(),),  # the server holds the lock while it lives
            )


def _run_cold() -> None:
    os.execv(sys.executable, [sys.executable, "-m", "prefect.engine"])  # noqa: S606 - fixed argv, no shell


def main() -> int:
    path = socket_path(dict(os.environ))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        if os.environ.get("DOSSIER_FORKSERVER", "on") != "off":
            _start_server(path)
        _run_cold()
        return 1  # not reached
    request = json.dumps({"env": dict(os.environ), "cwd": os.getcwd()}).encode()
    socket.send_fds(sock, [len(request).to_bytes(8, "big") + request], [0, 1, 2])

    def forward(signum: int, frame: object) -> None:
        sock.sendall(f"signal {signum}\n".encode())

    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, forward)
    answer = b""
    while not answer.endswith(b"\n"):
        chunk = sock.recv(64)
        if not chunk:
            return 1  # the server died: the run is lost, like a crashed process
        answer += chunk
    words = answer.decode().split()
    return int(words[1]) if len(words) == 2 and words[0] == "exit" else 1


if __name__ == "__main__":
    sys.exit(main())
