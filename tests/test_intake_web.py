"""The intake pages in-process (Starlette's test client): form errors at their fields, drafts, slots, refusals."""

from __future__ import annotations

import io
import random
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image
from starlette.testclient import TestClient

from storage import Vault
from tests.fixtures_packets import encrypted_pdf
from web import create_app
from workflows import accounts, intake

FORM = {
    "country": "fr",
    "procedure": "asylum-visa",
    "applicant.given_name": "Ilya",
    "applicant.family_name": "Kedrov",
    "applicant.birth_date": "1990-01-31",
    "applicant.citizenship": "RU",
    "location.country": "KZ",
    "military.service": "contract",
    "vetting[0].by": "Bureau (fictional)",
    "vetting[0].date": "2026-09-01",
    "vetting[0].outcome": "cleared",
}


@pytest.fixture
def desk(home: Path) -> tuple[TestClient, str]:
    Vault.from_env().init()
    accounts.add_user("cw1", "caseworker", "correct horse battery staple")
    token, session = accounts.sign_in("cw1", "correct horse battery staple")
    client = TestClient(create_app(), base_url="http://127.0.0.1:8700")
    client.cookies.set("dossier_session", token)
    return client, session.csrf


def _post(client: TestClient, csrf: str, url: str, data: dict[str, str], files: Any = None) -> httpx.Response:
    return client.post(url, data={"csrf_token": csrf, **data}, files=files, follow_redirects=False)


def test_a_bad_birth_date_is_shown_next_to_its_field_and_the_draft_is_kept(desk: tuple[TestClient, str]) -> None:
    client, csrf = desk
    page = client.get("/cases/new")
    assert page.status_code == 200 and 'name="applicant.birth_date"' in page.text
    r = _post(client, csrf, "/cases/new", {**FORM, "applicant.birth_date": "1990-02-31", "action": "create"})
    assert r.status_code == 422
    html = r.text
    field = re.search(r'id="f-applicant.birth_date".*?</div>', html, re.S)
    assert field is not None and "must be a real date written YYYY-MM-DD" in field.group(0)
    assert 'value="1990-02-31"' in html
    assert len(intake.drafts().list("cw1")) == 1


def test_create_then_upload_into_a_slot_turns_it_met_and_an_encrypted_pdf_is_refused_in_its_slot(
    desk: tuple[TestClient, str],
) -> None:
    client, csrf = desk
    r = _post(client, csrf, "/cases/new", {**FORM, "action": "create"})
    assert r.status_code == 303
    location = r.headers["location"]
    case_id = location.split("/")[2]
    assert intake.drafts().list("cw1") == []
    page = client.get(location)
    assert 'id="slot-personal-statement--applicant" data-status="missing"' in page.text
    upload = {
        "slot_id": "personal-statement--applicant",
        "person": "applicant",
        "kind": "statement.personal",
        "language": "fr",
    }
    r = _post(client, csrf, f"/cases/{case_id}/evidence", upload, files={"file": ("récit.pdf", encrypted_pdf("e"))})
    assert r.status_code == 422
    slot = re.search(r'id="slot-personal-statement--applicant".*?</div>', r.text, re.S)
    assert slot is not None and "This file was refused" in slot.group(0) and "encrypted" in slot.group(0)
    big = _noise_png(900)  # over the 1 MB limit of a plain form: the evidence path takes uploads
    assert len(big) > 2 * 1024 * 1024
    r = _post(client, csrf, f"/cases/{case_id}/evidence", upload, files={"file": ("recit.png", big)})
    assert r.status_code == 303
    page = client.get(f"/cases/{case_id}/evidence")
    assert 'id="slot-personal-statement--applicant" data-status="met"' in page.text
    history = client.get(f"/cases/{case_id}/history")
    assert "evidence ev-statement-personal-applicant added" in history.text and "Kedrov" not in history.text


def _noise_png(side: int) -> bytes:
    im = Image.frombytes("RGB", (side, side), random.Random(side).randbytes(side * side * 3))
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def test_a_second_intake_of_the_same_person_warns_before_creating(desk: tuple[TestClient, str]) -> None:
    client, csrf = desk
    first = _post(client, csrf, "/cases/new", {**FORM, "action": "create"})
    first_id = first.headers["location"].split("/")[2]
    again = _post(client, csrf, "/cases/new", {**FORM, "applicant.family_name": "KEDROV", "action": "create"})
    assert again.status_code == 409
    assert f'Possibly the same person as case <a href="/cases/{first_id}">{first_id}</a>' in again.text
    draft = intake.drafts().list("cw1")[0].draft_id
    confirmed = _post(
        client, csrf, "/cases/new", {**FORM, "action": "create", "confirm_duplicate": "yes", "draft_id": draft}
    )
    assert confirmed.status_code == 303


def test_export_gives_a_zip_that_another_office_can_import(desk: tuple[TestClient, str]) -> None:
    client, csrf = desk
    r = _post(client, csrf, "/cases/new", {**FORM, "action": "create"})
    case_id = r.headers["location"].split("/")[2]
    assert f'href="/cases/{case_id}/evidence"' in client.get(f"/cases/{case_id}").text  # linked from the case page
    z = _post(client, csrf, f"/cases/{case_id}/export", {})
    assert z.status_code == 200 and z.content[:2] == b"PK"
    assert z.headers["content-disposition"] == f'attachment; filename="{case_id}.zip"'


def test_editing_facts_stores_a_version_and_a_stage_change_is_refused_at_its_field(
    desk: tuple[TestClient, str],
) -> None:
    client, csrf = desk
    r = _post(client, csrf, "/cases/new", {**FORM, "action": "create"})
    case_id = r.headers["location"].split("/")[2]
    page = client.get(f"/cases/{case_id}/edit")
    assert 'value="Kedrov"' in page.text
    moved = _post(client, csrf, f"/cases/{case_id}/edit", {**FORM, "stage": "arrival", "action": "save"})
    assert moved.status_code == 422 and "moves only with Advance" in moved.text
    saved = _post(client, csrf, f"/cases/{case_id}/edit", {**FORM, "location.city": "Almaty", "action": "save"})
    assert saved.status_code == 303 and saved.headers["location"] == f"/cases/{case_id}/history"
    history = client.get(f"/cases/{case_id}/history").text
    assert "location.city" in history and "Almaty" not in history


def test_an_auditor_gets_the_403_page_on_every_intake_page(desk: tuple[TestClient, str]) -> None:
    client, csrf = desk
    case_id = _post(client, csrf, "/cases/new", {**FORM, "action": "create"}).headers["location"].split("/")[2]
    accounts.add_user("au1", "auditor", "correct horse battery staple")
    token, session = accounts.sign_in("au1", "correct horse battery staple")
    client.cookies.set("dossier_session", token)
    for url in ("/cases/new", f"/cases/{case_id}/evidence", f"/cases/{case_id}/history", f"/cases/{case_id}/edit"):
        assert client.get(url).status_code == 403, url
    assert _post(client, session.csrf, f"/cases/{case_id}/export", {}).status_code == 403
