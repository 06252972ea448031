"""A stored object corrupted behind Dossier's back: `dossier audit verify` fails (exit 1) and names it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import DOSSIER
from tests.faults.support import Office, copy_office, run, run_driver


@pytest.fixture(scope="module")
def built_office(template_office: Office, tmp_path_factory: pytest.TempPathFactory) -> Office:
    """A copy of the template office with one packet archived."""
    office = copy_office(template_office, tmp_path_factory.mktemp("corruption") / "home")
    done = run_driver(office)
    assert done.code == 0, done.stderr[-3000:]
    return office


def _cli(office: Office, *args: str) -> tuple[int, str]:
    res = run([str(DOSSIER), *args], office.env(DOSSIER_DAEMON="off"), timeout=120)
    assert "Traceback" not in res.stdout + res.stderr, res.stderr[-3000:]
    return res.code, res.stdout + res.stderr


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x20
    path.write_bytes(bytes(data))


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


VICTIMS = {
    "packet object, one byte flipped": ("packets/", _flip),
    "packet object, cut in half": ("packets/", _truncate),
    "evidence blob, one byte flipped": ("cases/*/blobs/", _flip),
    "case record, one byte flipped": ("cases/*/record/", _flip),
    "case key, cut in half": ("keys/", _truncate),
    "audit entry, one byte flipped": ("audit/", _flip),
    "audit entry, deleted": ("audit/", lambda p: p.unlink()),
}


def _pick(store: Path, where: str) -> Path:
    files = sorted(p for p in store.glob(where + "*") if p.is_file()) or sorted(
        p for p in store.glob(where + "*/*") if p.is_file()
    )
    assert files, where
    return files[len(files) // 2]


@pytest.mark.parametrize("victim", sorted(VICTIMS))
def test_verify_names_the_corrupted_object(built_office: Office, victim: str, tmp_path: Path) -> None:
    office = copy_office(built_office, tmp_path / "home")
    assert office.store_root is not None
    code, text = _cli(office, "audit", "verify")
    assert code == 0, text
    where, damage = VICTIMS[victim]
    target = _pick(office.store_root, where)
    key = target.relative_to(office.store_root).as_posix()
    damage(target)

    code, text = _cli(office, "audit", "verify")
    assert code == 1, text
    if key.startswith("audit/"):
        seq = int(Path(key).stem)
        assert f"entry {seq}" in text, text
    else:
        assert key in text, text


def test_corrupted_packet_is_refused_by_packet_get_and_nothing_is_written(built_office: Office, tmp_path: Path) -> None:
    office = copy_office(built_office, tmp_path / "home")
    assert office.store_root is not None
    victim = _pick(office.store_root, "packets/")
    packet_id = victim.parent.name
    _flip(victim)
    out = tmp_path / "out"
    code, text = _cli(office, "packet", "get", packet_id, "-o", str(out))
    assert code == 1, text
    assert packet_id in text
    assert not out.exists() or not any(out.rglob("*.pdf"))
    shutil.rmtree(out, ignore_errors=True)
