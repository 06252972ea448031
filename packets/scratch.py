"""LibreOffice's private working folder: in memory when possible, gone on every exit path, even SIGKILL.

Rendered letters hold names, birth places and document numbers, and LibreOffice needs them as
files. They live only in a 0700 folder named `dossier-lo-<pid>-<start>-<random>` under /dev/shm
(memory) when it is usable, else under the temp folder ($DOSSIER_SCRATCH overrides both).
Three things remove it:

- the converter itself when it is closed (or garbage-collected, or at interpreter exit);
- a watchdog: a tiny process in its own session, started before the folder is made, that holds
  the read end of a pipe whose write end only the building process has. When the builder dies for
  any reason (SIGKILL included) the pipe closes without a "done"; the watchdog then kills the
  LibreOffice processes working in the builder's folders (named by its pid and start time) and
  removes them;
- a sweep at the next converter start: folders whose owner process is gone (the watchdog was
  killed too, or the machine stopped) are removed, and any LibreOffice still using them killed.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PREFIX = "dossier-lo-"
# Folders of the first converter versions carry no owner in their name: removed once this old.
LEGACY_GRACE_S = 3600.0
_OWNED = re.compile(rf"^{re.escape(PREFIX)}(\d+)-(\d+)-")
_PROC = Path("/proc")

# Runs with `python -I -S`: standard library only, nothing of the project imported (fast, small).
_WATCHDOG = r"""
import os, shutil, signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGHUP, signal.SIG_IGN)
owner = sys.argv[1]  # "dossier-lo-<pid>-<start ticks>-": every folder of the building process
bases = sys.argv[2:]
groups = set()
done = False
buf = b""
while True:
    try:
        chunk = os.read(0, 4096)
    except InterruptedError:
        continue
    except OSError:
        break
    if not chunk:
        break
    buf += chunk
    *lines, buf = buf.split(b"\n")
    for line in lines:
        word, _, arg = line.partition(b" ")
        if word == b"done":
            done = True
        elif arg.isdigit():
            (groups.add if word == b"start" else groups.discard)(int(arg))
if done:  # the folder was removed by its owner, which closed us normally
    sys.exit(0)


def folders():
    found = []
    for base in bases:
        try:
            found += [os.path.join(base, e) for e in os.listdir(base) if e.startswith(owner)]
        except OSError:
            pass
    return found


# The builder died (it never said "done"): its LibreOffice groups and every process naming one of its
# folders are killed, and the folders removed, until two rounds in a row find nothing (a LibreOffice
# forked while a round read /proc would otherwise live on and write a folder again).
quiet = 0
for attempt in range(100):
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except OSError:
            pass
    roots = folders()
    names = [os.path.basename(r).encode() for r in roots]
    hits = 0
    for entry in os.listdir("/proc") if os.path.isdir("/proc") and names else []:
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    line = f.read()
                if any(n in line for n in names):
                    os.kill(int(entry), signal.SIGKILL)
                    hits += 1
            except OSError:
                pass
    for root in roots:
        shutil.rmtree(root, ignore_errors=True)
    quiet = quiet + 1 if not hits and not folders() else 0
    if quiet >= 2:
        break
    time.sleep(0.05)
"""


def scratch_bases() -> list[Path]:
    """Where working folders go, preferred first: $DOSSIER_SCRATCH when set, else /dev/shm (memory), else TMPDIR."""
    explicit = os.environ.get("DOSSIER_SCRATCH")
    if explicit:
        return [Path(explicit)]
    bases: list[Path] = []
    shm = Path("/dev/shm")  # noqa: S108 - the folder itself is made by mkdtemp (0700, random name)
    if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
        bases.append(shm)
    tmp = Path(tempfile.gettempdir())
    if tmp not in bases:
        bases.append(tmp)
    return bases


def _start_ticks(pid: int) -> int | None:
    """When a process started (clock ticks since boot, from /proc), or None when unknown or gone."""
    try:
        stat = (_PROC / str(pid) / "stat").read_bytes()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2 :].split()
    try:
        return int(fields[19])  # field 22 of stat(5); fields here start at field 3
    except (IndexError, ValueError):
        return None


def _alive(pid: int, ticks: int) -> bool:
    if _PROC.is_dir():
        return _start_ticks(pid) == ticks if ticks else _start_ticks(pid) is not None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner_of(folder: Path) -> tuple[int, int] | None:
    """(pid, start ticks) of the process a working folder belongs to, from its name."""
    m = _OWNED.match(folder.name)
    return (int(m.group(1)), int(m.group(2))) if m else None


def kill_users_of(folder: Path) -> list[int]:
    """SIGKILL every process whose command line names the folder (a LibreOffice left working in it)."""
    if not _PROC.is_dir():
        return []
    name = folder.name.encode()
    killed = []
    for entry in _PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if name in (entry / "cmdline").read_bytes():
                os.kill(int(entry.name), signal.SIGKILL)
                killed.append(int(entry.name))
        except OSError:
            continue
    return killed


def sweep_stale(bases: list[Path] | None = None) -> list[Path]:
    """Remove this user's working folders whose owner process is gone; the folders removed."""
    removed: list[Path] = []
    uid = os.getuid()
    for base in bases if bases is not None else scratch_bases():
        try:
            entries = [e for e in base.iterdir() if e.name.startswith(PREFIX)]
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.lstat()
            except OSError:
                continue
            if not entry.is_dir() or entry.is_symlink() or st.st_uid != uid:
                continue
            owner = owner_of(entry)
            if owner is not None and _alive(*owner):
                continue
            if owner is None and time.time() - st.st_mtime < LEGACY_GRACE_S:
                continue
            kill_users_of(entry)
            shutil.rmtree(entry, ignore_errors=True)
            if not entry.exists():
                removed.append(entry)
    return removed


class ScratchDir:
    """A private working folder watched by a process that removes it when this process dies."""

    def __init__(self) -> None:
        sweep_stale()
        pid = os.getpid()
        prefix = f"{PREFIX}{pid}-{_start_ticks(pid) or 0}-"
        bases = scratch_bases()
        # The watchdog starts before the folder exists and knows the folders by their owner part, so a
        # kill between creating the folder and starting the watchdog cannot leave a folder unwatched.
        read_end, self._pipe = os.pipe()  # both ends close-on-exec: LibreOffice never inherits the write end
        try:
            self._watchdog: subprocess.Popen[bytes] | None = subprocess.Popen(  # fixed argument list, no shell
                [sys.executable, "-I", "-S", "-c", _WATCHDOG, prefix, *map(str, bases)],
                stdin=read_end,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,  # a kill of the builder's process group does not reach it
                env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},  # not a process "of" DOSSIER_HOME
                cwd="/",
            )
        except OSError:
            self._watchdog = None  # the sweep at the next start is then the only guard after a kill
        finally:
            os.close(read_end)
        for n, base in enumerate(bases):
            try:
                self.path = Path(tempfile.mkdtemp(prefix=prefix, dir=base))
                break
            except OSError:  # memory full or not writable after all: the next place
                if n == len(bases) - 1:
                    self._release()
                    raise
        os.chmod(self.path, 0o700)

    @property
    def watchdog_pid(self) -> int | None:
        """The watchdog's process id (None when it could not be started)."""
        return self._watchdog.pid if self._watchdog is not None else None

    def started(self, pgid: int) -> None:
        """Tell the watchdog a LibreOffice process group works here (killed if this process dies)."""
        self._tell(f"start {pgid}\n")

    def ended(self, pgid: int) -> None:
        """Tell the watchdog that process group is finished."""
        self._tell(f"end {pgid}\n")

    def _tell(self, line: str) -> None:
        if self._pipe >= 0 and self._watchdog is not None:
            with contextlib.suppress(OSError):
                os.write(self._pipe, line.encode())

    def remove(self) -> None:
        """Remove the folder now and let the watchdog go."""
        shutil.rmtree(self.path, ignore_errors=True)
        self._release()

    def _release(self) -> None:
        """Tell the watchdog all is cleaned up ("done"), close its pipe and wait for it to exit."""
        if self._pipe >= 0:
            self._tell("done\n")
            os.close(self._pipe)
            self._pipe = -1
        if self._watchdog is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._watchdog.wait(timeout=10)
            self._watchdog = None
