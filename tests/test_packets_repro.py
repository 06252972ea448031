"""Reproducible builds: the same inputs give byte-identical packet.pdf and bag, in fresh homes and processes."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from packets import LetterConverter, build_packet, packet_id_for
from tests.fixtures_packets import inputs_for, make_case, standard_evidence

REPO = Path(__file__).resolve().parent.parent


def build_to(out_dir: str) -> None:
    """Build the standard case with a fresh converter and write packet.pdf and bag.zip (run in a subprocess)."""
    entries, files = standard_evidence()
    with LetterConverter() as conv:  # a fresh LibreOffice profile
        packet = build_packet(inputs_for(make_case(entries), files), converter=conv)
        assert conv.runs == 1
    Path(out_dir, "packet.pdf").write_bytes(packet.packet_pdf)
    Path(out_dir, "bag.zip").write_bytes(packet.bag_zip)
    Path(out_dir, "id").write_text(packet.packet_id)


def _build_in_fresh_process(home: Path, hash_seed: str) -> tuple[str, bytes, bytes]:
    home.mkdir()
    env = {**os.environ, "DOSSIER_HOME": str(home), "TMPDIR": str(home), "PYTHONHASHSEED": hash_seed}
    code = f"from tests.test_packets_repro import build_to; build_to({str(home)!r})"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, check=True, timeout=300)
    return (home / "id").read_text(), (home / "packet.pdf").read_bytes(), (home / "bag.zip").read_bytes()


def test_two_builds_in_fresh_homes_are_byte_identical(tmp_path: Path) -> None:
    first = _build_in_fresh_process(tmp_path / "home-a", "1")
    second = _build_in_fresh_process(tmp_path / "home-b", "2")
    assert first[0] == second[0]
    assert first[1] == second[1], "packet.pdf differs"
    assert first[2] == second[2], "bag zip differs"
    assert not list((tmp_path / "home-a").glob("dossier-lo-*")), "the converter left its profile behind"


def test_same_bytes_in_this_process_with_the_shared_converter(
    letter_converter: LetterConverter, tmp_path: Path
) -> None:
    entries, files = standard_evidence()
    packet = build_packet(inputs_for(make_case(entries), files), converter=letter_converter)
    _build_in_fresh_process(tmp_path / "home", "3")
    assert packet.packet_pdf == (tmp_path / "home" / "packet.pdf").read_bytes()
    assert packet.bag_zip == (tmp_path / "home" / "bag.zip").read_bytes()


def test_packet_id_follows_every_input() -> None:
    entries, files = standard_evidence()
    case = make_case(entries)
    base = packet_id_for(inputs_for(case, files))
    assert base.startswith("P-") and len(base) == 14
    changed = dict(files, **{"ev-id": files["ev-id"] + b"\n"})
    assert packet_id_for(inputs_for(case, changed)) != base
    assert packet_id_for(inputs_for(make_case(entries, case_id="K7Q2-M9XE"), files)) != base
    assert packet_id_for(inputs_for(case, files, duplex=True)) != base
    assert packet_id_for(replace(inputs_for(case, files), rules_version="fr-test-2")) != base
    # the builder is recorded in the manifest, so it is an input of the packet id too
    assert packet_id_for(replace(inputs_for(case, files), builder="someone-else")) != base
