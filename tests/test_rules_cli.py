"""`dossier rules list | show | test | lint` through the real command, as a legal adviser runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.clirun import dossier


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"DOSSIER_HOME": str(tmp_path / "home")}


def test_rules_list_json(env: dict[str, str]) -> None:
    r = dossier("rules", "list", "--json", env=env)
    assert r.code == 0, r.stderr
    rows = json.loads(r.stdout)
    got = {(x["country"], x["procedure"]) for x in rows}
    assert {
        ("fr", "asylum-visa"),
        ("fr", "ofpra"),
        ("fr", "cnda"),
        ("de", "humanitarian-22"),
        ("de", "work-visa"),
        ("de", "bamf"),
    } <= got
    assert len({x["country"] for x in rows}) >= 3
    assert next(x for x in rows if x["procedure"] == "asylum-visa")["stages"][0] == "consular-submission"


def test_rules_show_fr_asylum_visa_cites_five_sources(env: dict[str, str]) -> None:
    r = dossier("rules", "show", "fr", "asylum-visa", env=env)
    assert r.code == 0, r.stderr
    assert "distinct source(s)" in r.stdout
    count = int(r.stdout.split(" distinct source(s)")[0].rsplit(" ", 1)[-1])
    assert count >= 5
    assert "eur-lex.europa.eu" in r.stdout and "senat.fr" in r.stdout
    rows = json.loads(dossier("rules", "show", "fr", "asylum-visa", "--json", env=env).stdout)
    assert len({row["source"] for row in rows}) >= 5


def test_rules_show_unknown_country_exits_2_listing_the_known_ones(env: dict[str, str]) -> None:
    r = dossier("rules", "show", "xx", env=env)
    assert r.code == 2
    assert "unknown country 'xx'" in r.stderr and "fr" in r.stderr and "Traceback" not in r.stderr
    r = dossier("rules", "show", "fr", "nope", env=env)
    assert r.code == 2 and "asylum-visa" in r.stderr


def test_rules_test_and_lint_pass(env: dict[str, str]) -> None:
    r = dossier("rules", "test", env=env)
    assert r.code == 0, r.stdout
    assert " 0 failed" in r.stdout and "PASS" in r.stdout
    r = dossier("rules", "test", "de", "--json", env=env)
    assert r.code == 0 and all(t["passed"] for t in json.loads(r.stdout))
    r = dossier("rules", "lint", env=env)
    assert r.code == 0, r.stdout
    assert "no problems" in r.stdout


@pytest.mark.parametrize("command", ["list", "show", "test", "lint"])
def test_rules_commands_have_help_with_an_example(command: str, env: dict[str, str]) -> None:
    r = dossier("rules", command, "--help", env=env)
    assert r.code == 0
    assert "Example: dossier rules " + command in r.stdout


def test_rules_show_on_each_side_of_the_pact(env: dict[str, str]) -> None:
    def form(day: str) -> dict[str, str]:
        r = dossier("rules", "show", "fr", "ofpra", "--on", day, "--json", env=env)
        assert r.code == 0, r.stderr
        return next(x for x in json.loads(r.stdout) if x["requirement"] == "ofpra-form")

    before, after = form("2026-06-11"), form("2026-06-12")
    assert "R. 531-3" in before["source"] and "2024/1348" not in before["source"]
    assert "2024/1348" in after["source"] and after["valid_from"] == "2026-06-12"
    r = dossier("rules", "show", "de", "bamf", "--on", "2026-06-12", env=env)
    assert r.code == 0 and "2024/1348" in r.stdout


def test_rules_list_shows_the_host_countries(env: dict[str, str]) -> None:
    rows = json.loads(dossier("rules", "list", "--json", env=env).stdout)
    got = {(x["country"], x["procedure"]) for x in rows}
    assert {("kz", "refugee-status"), ("kz", "stay"), ("am", "asylum"), ("fr", "visa-refusal")} <= got


def test_unknown_procedure_suggests_the_closest_name(env: dict[str, str]) -> None:
    r = dossier("rules", "show", "fr", "asylum-vis", env=env)
    assert r.code == 2 and "did you mean 'asylum-visa'" in r.stderr and "Traceback" not in r.stderr
