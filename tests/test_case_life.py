"""A case's life through the real CLI with the warm flow daemon: import, update, stage, group, revalidate, shred.

One office (DOSSIER_HOME) for the module, with its daemon kept warm between commands like a
caseworker's day; every assertion is about what the caseworker sees or what is stored.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import bagit
import pytest

from casefile.specimens import write_specimens
from tests.clirun import Result, dossier, grep_tree
from tests.conftest import EXAMPLES

pytestmark = pytest.mark.timeout(900)


def _case_folder(root: Path, name: str, *, given: str, family: str, born: str) -> Path:
    """A French example case for another (fictional) person."""
    dest = root / name
    shutil.copytree(EXAMPLES / "fr-asylum-visa-couple", dest, ignore=shutil.ignore_patterns("evidence"))
    text = (dest / "case.yaml").read_text(encoding="utf-8")
    text = text.replace("given_name: Pavel", f"given_name: {given}").replace(
        "family_name: Orlov\n", f"family_name: {family}\n"
    )
    text = text.replace("birth_date: 1998-03-14", f"birth_date: {born}")
    (dest / "case.yaml").write_text(text, encoding="utf-8")
    write_specimens(dest)
    return dest


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    root = tmp_path_factory.mktemp("life")
    env = {
        "DOSSIER_HOME": str(root / "home"),
        "PREFECT_HOME": str(root / "prefect"),
        "DOSSIER_ACTOR": "caseworker-7",
        "DOSSIER_DAEMON": "auto",
        "DOSSIER_DAEMON_IDLE": "300",
        "XDG_RUNTIME_DIR": tempfile.mkdtemp(prefix="dl-", dir="/tmp"),  # short: a socket path has ~100 bytes
        "ROOT": str(root),
    }
    assert dossier("init", env=env).code == 0
    yield env
    dossier("daemon-stop", env=env)
    shutil.rmtree(env["XDG_RUNTIME_DIR"], ignore_errors=True)


def _ok(result: Result) -> Result:
    assert result.code == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def cases(office: dict[str, str]) -> dict[str, tuple[str, Path]]:
    root = Path(office["ROOT"])
    people = {
        "a": ("Ilya", "Sokolov", "1994-02-11"),
        "b": ("Timur", "Belov", "1990-09-30"),
    }
    made = {}
    for key, (given, family, born) in people.items():
        folder = _case_folder(root / "cases", f"case-{key}", given=given, family=family, born=born)
        made[key] = (_ok(dossier("case", "import", str(folder), env=office)).last_line, folder)
    return made


def test_a_case_imported_without_stage_shows_its_first_stage_everywhere(office, cases) -> None:
    case_id, folder = cases["a"]
    assert "stage:" not in (folder / "case.yaml").read_text()
    listed = json.loads(_ok(dossier("case", "list", "--json", env=office)).stdout)
    assert {r["case_id"]: r["stage"] for r in listed}[case_id] == "consular-submission"
    shown = json.loads(_ok(dossier("case", "show", case_id, "--json", env=office)).stdout)
    assert shown["stage"] == "consular-submission"
    human = _ok(dossier("case", "show", case_id, env=office)).stdout
    assert "stage consular-submission" in human and "None" not in human


def test_importing_the_same_folder_again_updates_its_case(office, cases) -> None:
    case_id, folder = cases["b"]
    again = _ok(dossier("case", "import", str(folder), env=office))
    assert again.last_line == case_id
    assert "unchanged" in again.stderr
    text = (folder / "case.yaml").read_text()
    (folder / "case.yaml").write_text(text.replace("submission_date: 2026-12-15", "submission_date: 2026-12-18"))
    changed = _ok(dossier("case", "import", str(folder), env=office))
    assert changed.last_line == case_id
    assert "updated the existing case" in changed.stderr and "record version 2" in changed.stderr
    ids = [r["case_id"] for r in json.loads(_ok(dossier("case", "list", "--json", env=office)).stdout)]
    assert ids.count(case_id) == 1 and len(ids) == len(set(ids))


def test_revalidate_checks_every_stored_case(office, cases) -> None:
    result = _ok(dossier("revalidate", "--json", "--today", "2026-12-03", env=office))
    report = json.loads(result.stdout)
    stored = json.loads(_ok(dossier("case", "list", "--json", env=office)).stdout)
    assert report["checked"] == len(stored) >= 2
    human = _ok(dossier("revalidate", "--country", "fr", "--today", "2026-12-03", env=office))
    assert f"{len(stored)} case(s) checked" in human.stdout


def test_group_build_and_packet_get_of_the_group(office, cases, tmp_path: Path) -> None:
    members = tmp_path / "group.txt"
    members.write_text(f"# two men admitted together\n{cases['a'][0]}\n{cases['b'][0]}\n")
    built = _ok(dossier("build", "--group", str(members), "--today", "2026-12-03", env=office))
    group_id = built.last_line
    assert group_id.startswith("G-") and len(group_id) == 14
    assert cases["a"][0] in built.stderr and cases["b"][0] in built.stderr
    got = _ok(dossier("packet", "get", group_id, "-o", str(tmp_path / "out"), env=office))
    bag = bagit.Bag(got.last_line)
    bag.validate()
    data = Path(got.last_line) / "data"
    assert (data / "group.pdf").is_file()
    assert len(list(data.glob("members/P-*/packet.pdf"))) == 2


def test_check_piped_to_a_file_keeps_every_word(office, tmp_path: Path) -> None:
    folder = _case_folder(tmp_path, "case-c", given="Oleg", family="Zimin", born="1989-05-05")
    text = (folder / "case.yaml").read_text()
    kept = [ln for ln in text.splitlines() if "id: ev-photo," not in ln]
    (folder / "case.yaml").write_text("\n".join(kept) + "\n")
    result = dossier("check", str(folder), "--today", "2026-12-03", env=office | {"COLUMNS": "80"})
    assert result.code == 1, result.stdout + result.stderr
    assert "…" not in result.stdout
    missing = [ln for ln in result.stdout.splitlines() if ln.startswith("missing")]
    assert any("identity.photo" in ln and "applicant" in ln for ln in missing), result.stdout


def test_shred_reaches_the_warm_daemon(office, cases, tmp_path: Path) -> None:
    folder = _case_folder(tmp_path, "case-d", given="Roman", family="Gusev", born="1992-12-01")
    case_id = _ok(dossier("case", "import", str(folder), env=office)).last_line
    _ok(dossier("build", case_id, "--today", "2026-12-03", env=office))  # the daemon now holds its key
    store = Path(office["DOSSIER_HOME"]) / "store"
    _ok(dossier("case", "shred", case_id, "--yes", env=office))
    before = {p for p in store.rglob("*") if p.is_file() and "audit" not in p.parts}
    for args in (("build", case_id), ("advance", case_id), ("case", "show", case_id)):
        refused = (
            dossier(*args, "--today", "2026-12-03", env=office) if args[0] != "case" else dossier(*args, env=office)
        )
        assert refused.code == 1, (args, refused.stdout, refused.stderr)
        assert "shredded" in refused.stderr, refused.stderr
    group = tmp_path / "group.txt"
    group.write_text(f"{cases['a'][0]}\n{case_id}\n")
    grouped = dossier("build", "--group", str(group), "--today", "2026-12-03", env=office)
    assert grouped.code == 1 and "shredded" in grouped.stderr, grouped.stderr
    after = {p for p in store.rglob("*") if p.is_file() and "audit" not in p.parts}
    new_objects = {p for p in after - before if p.name.endswith(".age")}
    assert {p for p in new_objects if case_id in str(p)} == set()
    assert not any(p.parts[-2].startswith("G-") for p in new_objects), new_objects


def test_names_typed_where_ids_belong_never_reach_prefect(office, cases, tmp_path: Path) -> None:
    for args in (
        ("build", "Ilya Sokolov"),
        ("advance", "Sokolov"),
        ("build", str(tmp_path / "cases" / "sokolov-ilya")),  # a mistyped folder path
        ("packet", "get", "Sokolov", "-o", str(tmp_path / "x")),
        ("case", "show", "Ilya"),
    ):
        result = dossier(*args, env=office)
        assert result.code == 2, (args, result.stdout, result.stderr)
        assert "Sokolov" not in result.stderr and "Traceback" not in result.stderr
    # A case whose evidence ids carry a surname is refused (not ready); Prefect keeps positions only.
    folder = _case_folder(tmp_path, "case-e", given="Anton", family="Kirsanov", born="1996-04-04")
    text = (folder / "case.yaml").read_text().replace("ev-statement", "ev-kirsanov-recit")
    kept = [ln for ln in text.splitlines() if "id: ev-photo," not in ln]
    (folder / "case.yaml").write_text("\n".join(kept) + "\n")
    (folder / "evidence" / "personal-statement.pdf").write_bytes(b"%PDF-1.4 broken on purpose")
    case_id = _ok(dossier("case", "import", str(folder), env=office)).last_line
    refused = dossier("build", case_id, "--today", "2026-12-03", env=office)
    assert refused.code in (1, 2) and "ev-kirsanov-recit" in refused.stderr, refused.stderr
    prefect_home = Path(office["PREFECT_HOME"])
    dossier("daemon-stop", env=office)  # flush Prefect's database before reading it
    needles = ["Sokolov", "Ilya", "kirsanov", "Kirsanov", "1994-02-11"]
    assert grep_tree(prefect_home, needles) == []
    assert grep_tree(Path(office["DOSSIER_HOME"]), needles) == []  # daemon log, witness, store
    with sqlite3.connect(prefect_home / "prefect.db") as db:
        names = [r[0] for r in db.execute("select name from flow_run")]
    assert names and all(n.startswith(("build-", "advance-", "revalidate")) for n in names), names


def test_daemon_stop_stops_only_this_homes_daemon(tmp_path: Path) -> None:
    run = Path(tempfile.mkdtemp(prefix="dl-", dir="/tmp"))
    homes = []
    for name in ("office-a", "office-b"):
        env = {
            "DOSSIER_HOME": str(tmp_path / name),
            "PREFECT_HOME": str(tmp_path / name / "prefect"),
            "DOSSIER_DAEMON": "auto",
            "XDG_RUNTIME_DIR": str(run),
        }
        _ok(dossier("init", env=env))  # starts this home's daemon in the background
        homes.append(env)
    sockets = sorted((run / "dossier").glob("flows-*.sock"))
    assert len(sockets) == 2
    stopped = _ok(dossier("daemon-stop", env=homes[0]))
    assert "1 daemon(s) stopped" in stopped.stdout
    left = sorted((run / "dossier").glob("flows-*.sock"))
    assert len(left) == 1
    all_stopped = _ok(dossier("daemon-stop", "--all", env=homes[1]))
    assert "1 daemon(s) stopped" in all_stopped.stdout
    shutil.rmtree(run, ignore_errors=True)
