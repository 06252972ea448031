"""The file store's disk fills up during a build: a clear error (exit 1), the store intact, a re-run completes.

The store lives on a small tmpfs mounted for the test (needs root; a loop-mounted ext4 file is the
fallback; without either the test is skipped and says why). DOSSIER_HOME stays on the normal disk.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.support import Office, new_office, run_driver, store_problems

SIZE_KB = 4096


def _mount(target: Path, scratch: Path) -> str:
    """Mount a small filesystem at target; returns how (tmpfs or loop) or raises OSError."""
    if os.geteuid() != 0:
        raise OSError("mounting a small filesystem needs root")
    target.mkdir(parents=True)
    res = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SIZE_KB}k,mode=0700", "tmpfs", str(target)],
        capture_output=True,
        text=True,
    )
    if res.returncode == 0:
        return "tmpfs"
    image = scratch / "disk.img"
    with image.open("wb") as fh:
        fh.truncate(SIZE_KB * 1024 * 2)
    for cmd in (["mkfs.ext4", "-q", "-F", str(image)], ["mount", "-o", "loop", str(image), str(target)]):
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            raise OSError(f"neither tmpfs nor a loop file could be mounted: {res.stderr.strip()}")
    return "loop"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    target = tmp_path / "small"
    try:
        _mount(target, tmp_path)
    except OSError as exc:
        pytest.skip(str(exc))
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


def _free(path: Path) -> int:
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def _fill(disk: Path, leave: int) -> Path:
    """A filler file that leaves about `leave` bytes free."""
    filler = disk / "filler"
    with filler.open("wb") as fh:
        fh.write(b"\0" * max(0, _free(disk) - leave))
        fh.flush()
        os.fsync(fh.fileno())
    return filler


def _tmp_leftovers(root: Path) -> list[str]:
    return [str(p.relative_to(root)) for p in root.rglob(".tmp-*")]


@pytest.fixture
def full_office(small_disk: Path, fault_case_folder: Path, tmp_path: Path) -> Office:
    return new_office(tmp_path / "home", fault_case_folder, store_url=(small_disk / "store").as_uri())


PAGE = 4096


@pytest.mark.slow
@pytest.mark.parametrize("room", ["none", "packet only"])
def test_disk_full_is_a_clear_error_the_store_stays_intact_and_a_rerun_completes(
    full_office: Office, small_disk: Path, calibration: dict, room: str
) -> None:
    store = small_disk / "store"
    # "packet only": the packet object fits, its audit entry and the case record that follow do not.
    pages = 2 if room == "none" else -(-calibration["packet_bytes"] // PAGE) + 1
    filler = _fill(small_disk, pages * PAGE)
    failed = run_driver(full_office)
    assert failed.code == 1, f"exit {failed.code}: {failed.stderr[-3000:]}"
    assert "Traceback" not in failed.stderr
    assert "No space left" in failed.stderr, failed.stderr
    assert store_problems(full_office) == []
    assert _tmp_leftovers(store) == [], "a failed write left its temporary file behind (it holds the space)"

    filler.unlink()
    again = run_driver(full_office)
    assert again.code == 0, again.stderr[-3000:]
    assert store_problems(full_office) == []
    assert [p["packet_id"] for p in full_office.vault().packets_of(full_office.case_id)] == [again.last_line]
