"""The Prefect flows in this process (ephemeral Prefect): advance, refusal, revalidation, deadlines, no leaks."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import icalendar
import pytest
import yaml

from casefile import load_case_folder
from core.errors import DossierError, NotReady
from tests.clirun import grep_tree
from tests.conftest import EXAMPLE_SECRETS

flows = pytest.importorskip("workflows.flows")

import country_rules  # noqa: E402
from storage import Vault  # noqa: E402
from workflows.deadlines import collect, to_ics  # noqa: E402

TODAY = date(2026, 11, 23)


def _import(vault: Vault, folder: Path, case_id: str | None = None) -> str:
    if case_id:
        data = yaml.safe_load((folder / "case.yaml").read_text())
        data["case_id"] = case_id
        (folder / "case.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    return vault.import_case(load_case_folder(folder, country_rules.known_kinds()), "test-caseworker")


@pytest.fixture
def vault(home: Path) -> Vault:
    flows.vault.cache_clear()
    v = Vault.from_env()
    v.init()
    return v


def test_advance_builds_archives_and_moves_to_the_next_stage(vault: Vault, example_case) -> None:
    case_id = _import(vault, example_case("fr-asylum-visa-couple"))
    first = country_rules.first_stage("fr", "asylum-visa")
    result = flows.advance_case(case_id, today=TODAY)
    assert result["from_stage"] == first
    assert result["to_stage"] == country_rules.next_stage("fr", "asylum-visa", first)
    assert vault.case_state(case_id)["stage"] == result["to_stage"]
    assert [p["packet_id"] for p in vault.packets_of(case_id)] == [result["packet_id"]]
    assert vault.audit.verify().ok
    # The arrival stage needs the visa itself: the next advance is refused and says so.
    with pytest.raises(NotReady) as info:
        flows.advance_case(case_id, today=TODAY)
    assert "travel.visa" in str(info.value)
    assert vault.case_state(case_id)["stage"] == result["to_stage"]


def test_advance_from_the_last_stage_archives_and_stays(vault: Vault, example_case) -> None:
    case_id = _import(vault, example_case("de-work-visa-family"))
    last = flows.advance_case(case_id, today=TODAY)
    assert last["to_stage"] is None and last["from_stage"] == "visa-application"
    assert len(vault.packets_of(case_id)) == 1


def test_advance_is_refused_with_the_reason_when_evidence_is_missing(vault: Vault, example_case) -> None:
    folder = example_case("fr-asylum-visa-couple")
    data = yaml.safe_load((folder / "case.yaml").read_text())
    data["evidence"] = [e for e in data["evidence"] if e["id"] != "ev-photo"]
    (folder / "case.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    case_id = _import(vault, folder)
    stage_before = vault.case_state(case_id).get("stage")
    with pytest.raises(NotReady) as info:
        flows.advance_case(case_id, today=TODAY)
    assert case_id in str(info.value)
    assert "missing" in str(info.value)
    assert vault.case_state(case_id).get("stage") == stage_before
    assert vault.packets_of(case_id) == []


def test_two_builds_of_the_same_case_archive_one_packet(vault: Vault, example_case) -> None:
    case_id = _import(vault, example_case("de-work-visa-family"))
    a = flows.build_packet(case_id, today=TODAY)
    b = flows.build_packet(case_id, today=TODAY)
    assert a.packet_id == b.packet_id
    assert len(vault.packets_of(case_id)) == 1
    assert vault.audit.verify().ok


def test_revalidate_reports_whose_status_changed(vault: Vault, example_case) -> None:
    fr = _import(vault, example_case("fr-asylum-visa-couple"), "FR00-0001")
    de = _import(vault, example_case("de-work-visa-family"), "DE00-0001")
    first = flows.revalidate(today=TODAY)
    assert first["checked"] == 2 and first["changed"] == []
    # A new version of the French case loses the applicant's photograph.
    folder = example_case("fr-asylum-visa-couple")
    data = yaml.safe_load((folder / "case.yaml").read_text())
    data["evidence"] = [e for e in data["evidence"] if e["id"] != "ev-photo"]
    (folder / "case.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    _import(vault, folder, fr)
    second = flows.revalidate(country="fr", today=TODAY)
    assert second["checked"] == 1
    assert [c["case_id"] for c in second["changed"]] == [fr]
    change = second["changed"][0]
    assert change["before"]["ready"] is True and change["after"]["ready"] is False
    assert any("photo" in x for x in change["after"]["not_met"])
    assert flows.revalidate(country="de", today=TODAY)["changed"] == []
    assert de


def test_prefect_records_the_runs_and_no_personal_data(vault: Vault, example_case) -> None:
    import os

    moved = []
    for name in ("fr-asylum-visa-couple", "de-work-visa-family"):
        case_id = _import(vault, example_case(name))
        moved.append(flows.advance_case(case_id, today=TODAY))
    folder = example_case("de-work-visa-family")  # a refused run's messages reach Prefect too
    data = yaml.safe_load((folder / "case.yaml").read_text())
    data["evidence"] = [e for e in data["evidence"] if not e["kind"].startswith("employment.")]
    (folder / "case.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    with pytest.raises(NotReady):
        flows.advance_case(_import(vault, folder), today=TODAY)
    prefect_home = Path(os.environ["PREFECT_HOME"])
    db = prefect_home / "prefect.db"
    with sqlite3.connect(db) as conn:
        names = [r[0] for r in conn.execute("select name from flow_run")]
        params = [r[0] for r in conn.execute("select parameters from flow_run")]
        tables = [r[0] for r in conn.execute("select data from artifact where type = 'table'")]
    # Each run's outcome is a table artifact of ids (what the Prefect UI shows and a work-pool face reads).
    for outcome in moved:
        assert any(outcome["packet_id"] in t and outcome["case_id"] in t for t in tables), tables
    assert any(n.startswith("advance-") for n in names) and any(n.startswith("build-") for n in names)
    assert all("given_name" not in p for p in params)
    assert grep_tree(prefect_home, EXAMPLE_SECRETS) == []


def test_unexpected_errors_reach_prefect_as_ids_only() -> None:
    with pytest.raises(DossierError) as info, flows.id_only_errors("check", "K7Q2-M9XD"):
        raise KeyError("Pavel Orlov born 1998-03-14")
    assert "K7Q2-M9XD" in str(info.value) and "KeyError" in str(info.value)
    assert "Pavel" not in str(info.value) and info.value.__suppress_context__


def test_deadlines_calendar_uses_case_ids_unless_names_are_asked_for(vault: Vault, example_case) -> None:
    folder = example_case("fr-asylum-visa-couple")
    data = yaml.safe_load((folder / "case.yaml").read_text())
    data["procedure"], data["stage"] = "ofpra", country_rules.first_stage("fr", "ofpra")
    data["events"] = {"registration": "2026-11-20"}
    (folder / "case.yaml").write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
    case_id = _import(vault, folder)
    items = collect(vault)
    assert any(i.due == date(2026, 12, 11) for i in items), [(i.due, i.what) for i in items]
    cal = icalendar.Calendar.from_ical(to_ics(items))
    summaries = [str(e["summary"]) for e in cal.walk("VEVENT")]
    assert summaries and all(case_id in s for s in summaries)
    assert not any(s in " ".join(summaries) for s in EXAMPLE_SECRETS)
    named = collect(vault, with_names=True)
    assert any("Orlov" in str(e["summary"]) for e in icalendar.Calendar.from_ical(to_ics(named)).walk("VEVENT"))
