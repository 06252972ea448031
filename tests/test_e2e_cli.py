"""The whole caseworker path through the real CLI: init, import, check, build, get, verify, tamper."""

from __future__ import annotations

from pathlib import Path

import bagit
import pytest
from pypdf import PdfReader

from tests.clirun import dossier, grep_tree
from tests.conftest import EXAMPLE_SECRETS


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "DOSSIER_HOME": str(tmp_path / "home"),
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "DOSSIER_ACTOR": "caseworker-1",
    }


def _outline_titles(reader: PdfReader) -> list[str]:
    titles: list[str] = []

    def walk(items) -> None:
        for it in items:
            if isinstance(it, list):
                walk(it)
            else:
                titles.append(str(it.title))

    walk(reader.outline)
    return titles


def test_case_folder_to_verified_packet_and_tamper_detection(env, example_case, tmp_path: Path) -> None:
    folder = example_case("fr-asylum-visa-couple")
    assert dossier("init", env=env).code == 0

    imp = dossier("case", "import", str(folder), env=env)
    assert imp.code == 0, imp.stderr
    case_id = imp.last_line
    assert len(case_id) == 9 and case_id[4] == "-"

    chk = dossier("check", case_id, env=env)
    assert chk.code == 0, chk.stdout + chk.stderr

    bld = dossier("build", case_id, env=env)
    assert bld.code == 0, bld.stderr
    packet_id = bld.last_line
    assert packet_id.startswith("P-")

    out = tmp_path / "out"
    got = dossier("packet", "get", packet_id, "-o", str(out), env=env)
    assert got.code == 0, got.stderr
    bag_dir = out / packet_id
    bag = bagit.Bag(str(bag_dir))
    bag.validate()
    assert (bag_dir / "bagit.txt").read_text().startswith("BagIt-Version: 1.0")

    reader = PdfReader(bag_dir / "data" / "packet.pdf")
    titles = _outline_titles(reader)
    n_evidence = 30
    assert len(titles) >= n_evidence
    total = len(reader.pages)
    for n in (0, total - 1):
        text = reader.pages[n].extract_text()
        assert case_id in text and packet_id in text and f"{n + 1} / {total}" in text

    assert dossier("audit", "verify", env=env).code == 0

    # Nothing personal in plaintext in Dossier's home (the encrypted store) or Prefect's home.
    assert grep_tree(Path(env["DOSSIER_HOME"]), EXAMPLE_SECRETS) == []
    assert grep_tree(Path(env["PREFECT_HOME"]), EXAMPLE_SECRETS) == []
    for result in (imp, chk, bld):
        assert not any(s in result.stderr for s in EXAMPLE_SECRETS)

    # One flipped byte in any stored packet object makes verification fail with exit 1.
    store = Path(env["DOSSIER_HOME"]) / "store"
    packet_objects = [p for p in store.rglob("*") if p.is_file() and "packets" in p.parts]
    assert packet_objects
    victim = packet_objects[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    bad = dossier("audit", "verify", env=env)
    assert bad.code == 1
    assert "Traceback" not in bad.stderr


def test_bad_case_folder_exits_2_with_field_paths(env, example_case) -> None:
    folder = example_case("de-work-visa-family")
    text = (folder / "case.yaml").read_text()
    (folder / "case.yaml").write_text(text.replace("birth_date: 1991-11-05", "birth_date: 5.11.1991"))
    res = dossier("check", str(folder), env=env)
    assert res.code == 2
    assert "applicant.birth_date" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout


def test_unknown_case_id_is_bad_input(env) -> None:
    assert dossier("init", env=env).code == 0
    res = dossier("case", "show", "ZZZZ-ZZZZ", env=env)
    assert res.code == 2
    assert "ZZZZ-ZZZZ" in res.stderr and "Traceback" not in res.stderr
