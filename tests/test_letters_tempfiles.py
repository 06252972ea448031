"""Rendered letters (names, birth places, document numbers) never outlive their conversion (issue 12, item 2).

Real builds with real LibreOffice, killed with SIGKILL while LibreOffice converts: the private working
folder (and the LibreOffice still running in it) must be gone within seconds, whether the watchdog
removes it or, when the watchdog was killed too, the next converter's sweep.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import docx
import pytest

from packets import LetterConverter
from packets.scratch import PREFIX, scratch_bases
from tests.conftest import REPO

Builder = tuple[subprocess.Popen[bytes], Path]

# A build that never ends: the same packet again and again with one converter, until it is killed.
BUILD_FOREVER = """
from packets import LetterConverter, build_packet
from tests.fixtures_packets import inputs_for, make_case, standard_evidence
entries, files = standard_evidence()
with LetterConverter() as conv:
    while True:
        build_packet(inputs_for(make_case(entries), files), converter=conv)
"""


def _docx(text: str) -> bytes:
    document = docx.Document()
    document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _folders_of(pid: int, bases: list[Path]) -> list[Path]:
    return [p for base in bases for p in base.glob(f"{PREFIX}{pid}-*")]


def _processes_naming(folder_name: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if folder_name.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _owner(folder: Path) -> str:
    """The owner part of a working folder's name ("dossier-lo-<pid>-<start>-"): the watchdog's argument."""
    return folder.name[: folder.name.rindex("-") + 1]


def _diagnosis(folder: Path) -> str:
    """What is left of a working folder and who still names it (for a failure message)."""
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []
    procs = []
    for pid in _processes_naming(_owner(folder)):
        try:
            procs.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:200].decode(errors="replace"))
        except OSError:
            continue
    return f"files {files[:20]}, processes {procs}"


def _wait(condition: Callable[[], object], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())


@pytest.fixture
def builder(tmp_path: Path) -> Iterator[Builder]:
    """A real build loop in a child process, with a TMPDIR of its own; killed (group and all) at the end."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp)}
    env.pop("DOSSIER_SCRATCH", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", BUILD_FOREVER], cwd=REPO, env=env, start_new_session=True, stderr=subprocess.PIPE
    )
    try:
        yield proc, tmp
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait(timeout=30)


def _converting(proc: subprocess.Popen[bytes], bases: list[Path]) -> Path:
    """The child's working folder, once a rendered letter is in it (LibreOffice is converting)."""

    def letter_there() -> bool:
        return any(f.glob("run-*/letter*.docx") for f in _folders_of(proc.pid, bases))

    started = _wait(letter_there, 180)
    err = b"" if started or proc.poll() is None else (proc.stderr.read() if proc.stderr else b"")
    assert started, f"the build never reached the conversion: {err.decode(errors='replace')[-2000:]}"
    (folder,) = _folders_of(proc.pid, bases)
    return folder


def _watchdogs(owner: str) -> set[int]:
    """Watchdog processes (python -I -S -c) watching the folders of one owner."""
    found = set()
    for pid in _processes_naming(owner):
        try:
            if b"-S\x00-c" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(pid)
        except OSError:
            continue
    return found


def test_working_folder_is_private_in_memory_and_removed_on_close() -> None:
    # Other converters of this test process (earlier tests) may still live: only this one's watchdog counts.
    before = _watchdogs(f"{PREFIX}{os.getpid()}-")
    with LetterConverter() as conv:
        conv.convert({})  # nothing to convert: no folder yet
        assert conv.workdir is None
        out = conv.convert({"letter": _docx("Ivan Sidorov, born in Kursk")})
        assert out["letter"].startswith(b"%PDF-")
        folder = conv.workdir
        assert folder is not None and folder.is_dir()
        assert folder.parent == scratch_bases()[0]
        if os.access("/dev/shm", os.W_OK) and not os.environ.get("DOSSIER_SCRATCH"):
            assert folder.parent == Path("/dev/shm"), "memory is preferred when /dev/shm is usable"
        assert folder.stat().st_mode & 0o777 == 0o700
        assert not list(folder.glob("run-*")), "rendered letters are removed right after each conversion"
        ours = _watchdogs(_owner(folder)) - before
        assert len(ours) == 1, "one watchdog for the converter's folder"
    assert not folder.exists()
    assert _wait(lambda: not (ours & _watchdogs(_owner(folder))), 10), "the watchdog outlived the converter"
    assert _wait(lambda: not _processes_naming(folder.name), 10), "LibreOffice outlived the converter"


def test_sigkill_during_conversion_leaves_no_letter_and_no_libreoffice(builder: Builder) -> None:
    proc, tmp = builder
    bases = [Path("/dev/shm"), tmp] if os.access("/dev/shm", os.W_OK) else [tmp]
    folder = _converting(proc, bases)
    os.kill(proc.pid, signal.SIGKILL)  # the builder only: its LibreOffice and the watchdog live on
    proc.wait(timeout=10)
    gone = _wait(lambda: not folder.exists(), 5)
    assert gone, f"{folder} still there 5 s after the build was killed: {_diagnosis(folder)}"
    quiet = _wait(lambda: not _processes_naming(_owner(folder)), 5)
    assert quiet, f"LibreOffice (or the watchdog) still runs: {_diagnosis(folder)}"
    assert _folders_of(proc.pid, bases) == []
    left = [p for p in tmp.rglob("*")]
    assert left == [], f"files left in TMPDIR: {left}"


def test_folder_of_a_dead_build_whose_watchdog_died_too_is_swept_at_the_next_start(builder: Builder) -> None:
    proc, tmp = builder
    bases = [Path("/dev/shm"), tmp] if os.access("/dev/shm", os.W_OK) else [tmp]
    folder = _converting(proc, bases)
    os.killpg(proc.pid, signal.SIGSTOP)  # freeze the builder and its LibreOffice
    watchers = sorted(_watchdogs(_owner(folder)))
    assert len(watchers) == 1, f"one watchdog per working folder: {_diagnosis(folder)}"
    os.kill(watchers[0], signal.SIGKILL)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    time.sleep(1.0)
    assert folder.exists(), "nothing else should have removed it (the sweep below is what is tested)"
    with LetterConverter() as conv:
        conv.convert({"letter": _docx("Anna Sidorova")})
        assert not folder.exists(), "the next converter start sweeps folders whose owner is gone"
        assert _wait(lambda: not _processes_naming(folder.name), 5), "the stale LibreOffice was not killed"


# A builder with a watched folder makes a second folder of its own (as a second converter would), then dies.
TWO_FOLDERS = """
import os, tempfile, time
from packets.scratch import ScratchDir
watched = ScratchDir()
owner = watched.path.name[: watched.path.name.rindex("-") + 1]
second = tempfile.mkdtemp(prefix=owner, dir=str(watched.path.parent))
with open(os.path.join(second, "letter.docx"), "w") as f:
    f.write("Ivan Sidorov")
print(watched.path, second, flush=True)
time.sleep(120)
"""


def test_a_killed_builder_leaves_none_of_its_folders_even_one_its_watchdog_never_heard_of(tmp_path: Path) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {**os.environ, "DOSSIER_SCRATCH": str(scratch)}
    proc = subprocess.Popen(
        [sys.executable, "-c", TWO_FOLDERS], cwd=REPO, env=env, stdout=subprocess.PIPE, start_new_session=True
    )
    try:
        assert proc.stdout is not None
        folders = [Path(p) for p in proc.stdout.readline().decode().split()]
        assert len(folders) == 2 and all(f.is_dir() for f in folders)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        assert _wait(lambda: not any(scratch.iterdir()), 5), f"left: {[p.name for p in scratch.iterdir()]}"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_closing_one_converter_leaves_a_live_siblings_folder_alone() -> None:
    with LetterConverter() as sibling:
        sibling.convert({"letter": _docx("first")})
        with LetterConverter() as conv:
            conv.convert({"letter": _docx("second")})
            closed = conv.workdir
        assert closed is not None and _wait(lambda: not closed.exists(), 5)
        time.sleep(0.5)  # the closed converter's watchdog has had time to act, had it been wrong
        assert sibling.workdir is not None and sibling.workdir.is_dir()
        assert sibling.convert({"letter": _docx("third")})["letter"].startswith(b"%PDF-")
