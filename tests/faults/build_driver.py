"""A build without Prefect, for fault injection: load the stored case, plain pipeline, Vault.archive_packet.

    python -m tests.faults.build_driver CASE_ID [--today YYYY-MM-DD] [--kill-at-write N] [--trace FILE]
                                        [--pause-at-upload FILE]

--kill-at-write N SIGKILLs this very process just before its Nth write to the store or to DOSSIER_HOME
(file opened for writing, link, rename, remove: Python audit events), so every step of archiving can be
interrupted deterministically. --trace writes the timeline (phase times and the number of writes seen)
as JSON, which the tests use to spread kill points. --pause-at-upload FILE stops just before the HTTP
request that uploads the packet to an S3 store: it creates FILE.paused and waits for FILE.go (the test
stops the object store in between). Exit codes follow the CLI: 0, 1 domain, 2 bad input;
3 means an unexpected exception (a bug: its traceback is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import traceback
from datetime import date
from pathlib import Path
from typing import Any

_STARTED = time.monotonic()
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_PATH_EVENTS = {"os.link": 1, "os.rename": 0, "os.remove": 0, "os.rmdir": 0, "os.truncate": 0}


class WriteWatch:
    """Counts writes under the watched folders and kills the process at the chosen one."""

    def __init__(self, roots: list[Path], kill_at: int | None) -> None:
        self.roots = [str(r.resolve()) + os.sep for r in roots]
        self.kill_at = kill_at
        self.count = 0
        self.events: list[tuple[float, str, str]] = []

    def _watched(self, path: object) -> str | None:
        if isinstance(path, bytes):
            path = path.decode(errors="replace")
        if not isinstance(path, str | os.PathLike):
            return None
        full = os.path.abspath(os.fspath(path))
        return full if any(full.startswith(r) for r in self.roots) else None

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        path: str | None = None
        if event == "open" and len(args) >= 3:
            target, mode, flags = args[0], args[1], args[2]
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                mode is None and isinstance(flags, int) and flags & _WRITE_FLAGS
            )
            path = self._watched(target) if writing else None
        elif event in _PATH_EVENTS and args:
            path = self._watched(args[_PATH_EVENTS[event]])
        if path is None:
            return
        self.count += 1
        self.events.append((round(time.monotonic() - _STARTED, 4), event, path))
        if self.kill_at is not None and self.count >= self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)


class UploadPause:
    """Blocks the first HTTP send of a PUT under packets/ until the test says go."""

    def __init__(self, flag: Path) -> None:
        self.flag = flag
        self.done = False

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if self.done or event != "http.client.send" or len(args) < 2:
            return
        data = args[1]
        if isinstance(data, bytes | bytearray) and data.startswith(b"PUT ") and b"/packets/" in data[:300]:
            self.done = True
            Path(f"{self.flag}.paused").touch()
            go = Path(f"{self.flag}.go")
            deadline = time.monotonic() + 120
            while not go.exists() and time.monotonic() < deadline:
                time.sleep(0.05)


def watched_roots() -> list[Path]:
    """DOSSIER_HOME and, for a file store, the store's folder (where a build writes)."""
    from urllib.parse import unquote, urlsplit

    from core.settings import load_settings

    settings = load_settings()
    roots = [settings.home]
    if settings.store_url.startswith("file://"):
        roots.append(Path(unquote(urlsplit(settings.store_url).path)))
    return roots


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case_id")
    parser.add_argument("--today", default=None)
    parser.add_argument("--kill-at-write", type=int, default=None)
    parser.add_argument("--trace", type=Path, default=None)
    parser.add_argument("--pause-at-upload", type=Path, default=None)
    args = parser.parse_args(argv)

    from core.errors import DossierError
    from core.settings import load_settings

    settings = load_settings()
    watch = WriteWatch(watched_roots(), args.kill_at_write)
    sys.addaudithook(watch)
    if args.pause_at_upload is not None:
        sys.addaudithook(UploadPause(args.pause_at_upload))
    phases: dict[str, float] = {"start": 0.0}

    def mark(name: str) -> None:
        phases[name] = round(time.monotonic() - _STARTED, 4)

    code = 0
    try:
        from storage import Vault
        from workflows import pipeline

        mark("imported")
        today = date.fromisoformat(args.today) if args.today else date.today()
        vault = Vault(settings)
        loaded = vault.load_case(args.case_id)
        mark("loaded")
        checklist = pipeline.evaluate_case(loaded, today)
        built = pipeline.assemble(loaded, checklist, actor=settings.actor, today=today)
        mark("assembled")
        vault.archive_packet(args.case_id, built.packet_id, built.bag_zip, settings.actor)
        mark("archived")
        print(built.packet_id)
    except DossierError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"what to do: {exc.hint}", file=sys.stderr)
        code = exc.exit_code
    except Exception:  # noqa: BLE001 - an unexpected exception is exactly what the tests look for
        traceback.print_exc()
        code = 3
    if args.trace is not None:
        args.trace.write_text(json.dumps({"phases": phases, "writes": watch.count, "events": watch.events}))
    return code


if __name__ == "__main__":
    sys.exit(main())
