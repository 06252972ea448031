"""The warm side of workflows/forkrun.py: Prefect and the flows imported once, one fork per flow run.

python -m workflows.forkserver SOCKET      (started by forkrun.py; one per worker; exits when idle)

The server is single-threaded and never talks to Prefect itself, so forking it is safe: each child
sets up its own session, stdio (the worker's, passed over the socket), folder and environment, then
runs Prefect's own `prefect.engine` entry point for the flow run named in that environment. Closing
the client (the worker killed it) stops the child's process group; so does a signal it forwards.
"""

from __future__ import annotations

import contextlib
import json
import os
import runpy
import selectors
import signal
import socket
import sys
import time

IDLE_SECONDS = float(os.environ.get("DOSSIER_FORKSERVER_IDLE", "900"))
GRACE_SECONDS = 10.0


def _child(request: dict[str, object], fds: list[int]) -> None:
    """In the forked child: become the flow-run process the worker asked for, then exit."""
    code = 1
    try:
        os.setsid()
        for target, fd in enumerate(fds[:3]):
            os.dup2(fd, target)
        for fd in fds:
            os.close(fd)
        os.chdir(str(request["cwd"]))
        env = request["env"]
        assert isinstance(env, dict)
        os.environ.clear()
        os.environ.update({str(k): str(v) for k, v in env.items()})
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sys.argv = ["prefect.engine"]
        runpy.run_module("prefect.engine", run_name="__main__", alter_sys=True)
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:  # noqa: BLE001 - the engine reports its own failures to Prefect
        code = 1
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _receive(conn: socket.socket) -> tuple[dict[str, object], list[int]]:
    head, fds, _flags, _addr = socket.recv_fds(conn, 8, 3)
    size = int.from_bytes(head, "big")
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return json.loads(data), fds


def serve(path: str) -> None:
    """Accept flow runs until idle for IDLE_SECONDS; one forked child per run."""
    import prefect.engine  # noqa: F401 - the point: imported once, before any fork

    import workflows.flows  # noqa: F401

    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    os.chmod(path, 0o600)
    listener.listen(8)
    with open(path + ".pid", "w") as fh:
        fh.write(str(os.getpid()))
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    children: dict[socket.socket, int] = {}
    last_busy = time.monotonic()
    print(f"fork server {os.getpid()} ready on {path}", flush=True)
    try:
        while children or time.monotonic() - last_busy < IDLE_SECONDS:
            for key, _ in selector.select(timeout=0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                if sock is listener:
                    conn, _ = listener.accept()
                    try:
                        request, fds = _receive(conn)
                    except (OSError, ValueError):
                        conn.close()
                        continue
                    pid = os.fork()
                    if pid == 0:
                        listener.close()
                        conn.close()
                        _child(request, fds)
                    for fd in fds:
                        os.close(fd)
                    children[conn] = pid
                    selector.register(conn, selectors.EVENT_READ)
                    continue
                message = b""
                with contextlib.suppress(OSError):
                    message = sock.recv(64)
                pid = children[sock]
                if not message:  # the client was killed: so is its flow run
                    _stop(pid, signal.SIGKILL)
                elif message.startswith(b"signal "):
                    with contextlib.suppress(ValueError):
                        _stop(pid, int(message.split()[1]))
            for conn, pid in list(children.items()):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    with contextlib.suppress(OSError):
                        conn.sendall(f"exit {os.waitstatus_to_exitcode(status)}\n".encode())
                    selector.unregister(conn)
                    conn.close()
                    del children[conn]
                    last_busy = time.monotonic()
    finally:
        for pid in children.values():
            _stop(pid, signal.SIGKILL)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path + ".pid")


def _stop(pid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signum)


if __name__ == "__main__":
    serve(sys.argv[1])
