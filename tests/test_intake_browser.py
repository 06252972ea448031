"""Intake in a real browser (Debian's Chromium driven by Playwright) against a real `uvicorn` server process.

A caseworker creates a case by the form (a bad birth date shown next to its field, then fixed),
uploads documents into their slots (the checklist goes from missing to met), sees an encrypted PDF
refused in its slot, and is warned of a duplicate at a second intake of the same person. Afterwards
no temporary file of the server holds any byte of an upload or a name.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.fixtures_packets import encrypted_pdf, jpeg, text_pdf
from tests.web_fixtures import CHROMIUM_ARGS

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"
MARKER = "MARKER-UPLOAD-7Q3Z"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A case desk on a free loopback port with its own DOSSIER_HOME and its own temp folder."""
    env = {**os.environ, "DOSSIER_HOME": str(tmp_path / "home"), "DOSSIER_ACTOR": "setup"}
    env.pop("DOSSIER_STORE", None)
    scratch = tmp_path / "server-tmp"
    scratch.mkdir(mode=0o700)
    env["TMPDIR"] = str(scratch)
    env["PREFECT_HOME"] = str(tmp_path / "prefect")
    setup = (
        "from storage import Vault; Vault.from_env().init();"
        f"from workflows import accounts; accounts.add_user('cw', 'caseworker', {PASSWORD!r})"
    )
    subprocess.run([sys.executable, "-c", setup], env=env, cwd=REPO, check=True, capture_output=True)
    port = _free_port()
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "web:create_app", "--factory", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).read()
                break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError((tmp_path / "server.log").read_text()) from None
                time.sleep(0.1)
        yield base, scratch
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _sign_in(page: Page, base: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Username").fill("cw")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/cases")


def _fill_person(page: Page, birth_date: str) -> None:
    page.select_option('[name="country"]', "fr")
    page.select_option('[name="procedure"]', "asylum-visa")
    for name, value in {
        "applicant.given_name": "Timur",
        "applicant.family_name": "Belov",
        "applicant.birth_date": birth_date,
        "applicant.citizenship": "RU",
        "location.country": "AM",
        "vetting[0].by": "Partner bureau (fictional)",
        "vetting[0].date": "2026-09-01",
    }.items():
        page.fill(f'[name="{name}"]', value)
    page.select_option('[name="military.service"]', "mobilised")
    page.select_option('[name="vetting[0].outcome"]', "cleared")


def _upload(page: Page, slot: str, name: str, data: bytes, language: str | None = "fr") -> None:
    box = page.locator(f"#slot-{slot}")
    if language is not None and box.locator('[name="language"]').count():
        box.locator('[name="language"]').fill(language)
    if box.locator('[name="issued"]').count():
        box.locator('[name="issued"]').fill("2026-11-20")
    box.locator('input[type="file"]').set_input_files({"name": name, "mimeType": "application/pdf", "buffer": data})
    box.get_by_role("button", name="Upload").click()
    page.wait_for_load_state()


def test_a_caseworker_creates_a_case_fills_slots_and_is_warned_of_a_duplicate(
    server: tuple[str, Path], browser: Browser
) -> None:
    base, scratch = server
    page = browser.new_page()
    _sign_in(page, base)
    page.get_by_role("link", name="New case").click()
    _fill_person(page, "1995-02-30")
    page.get_by_role("button", name="Create case").click()
    error = page.locator('[id="e-applicant.birth_date"]')
    expect(error).to_contain_text("must be a real date written YYYY-MM-DD")
    expect(page.locator('[name="applicant.family_name"]')).to_have_value("Belov")  # nothing typed is lost
    page.fill('[name="applicant.birth_date"]', "28.02.1995")
    page.get_by_role("button", name="Create case").click()
    page.wait_for_url(f"{base}/cases/*/evidence?created=1")
    case_id = page.url.split("/")[4]
    statement = page.locator("#slot-personal-statement--applicant")
    expect(statement).to_have_attribute("data-status", "missing")
    statement_pdf = text_pdf(MARKER)
    _upload(page, "personal-statement--applicant", "recit.pdf", statement_pdf)
    expect(page.locator("#slot-personal-statement--applicant")).to_have_attribute("data-status", "met")

    _upload(page, "criminal-record--applicant", "casier.pdf", encrypted_pdf(MARKER), language="ru")
    refused = page.locator("#slot-criminal-record--applicant .field-error")
    expect(refused).to_contain_text("This file was refused")
    expect(refused).to_contain_text("encrypted")
    expect(page.locator("#slot-criminal-record--applicant")).to_have_attribute("data-status", "missing")

    page.goto(f"{base}/cases/new")
    _fill_person(page, "1995-02-28")
    page.get_by_role("button", name="Create case").click()
    expect(page.locator("#duplicates")).to_contain_text(f"Possibly the same person as case {case_id}")

    page.goto(f"{base}/cases/{case_id}/history")
    expect(page.locator("table.history")).to_contain_text("evidence ev-statement-personal-applicant added")
    expect(page.locator("table.history")).not_to_contain_text("Belov")

    middle = len(statement_pdf) // 2
    needles = [statement_pdf[middle : middle + 64], b"Belov", b"Timur", "Белов".encode()]
    home = scratch.parent / "home"
    leftovers = [p for folder in (scratch, home, Path("/dev/shm")) for p in folder.rglob("*") if _holds(p, needles)]
    assert leftovers == []  # the server's temp folder, the store and shared memory hold no plaintext


def _holds(path: Path, needles: list[bytes]) -> bool:
    try:
        if not path.is_file():
            return False
        data = path.read_bytes()
    except OSError:
        return False
    return any(n in data for n in needles)


def test_a_passport_photo_fills_the_identity_fields_and_is_not_kept(server: tuple[str, Path], browser: Browser) -> None:
    from tests.test_intake_scans import passport_photo

    base, scratch = server
    page = browser.new_page()
    _sign_in(page, base)
    page.goto(f"{base}/cases/new")
    page.fill('[name="applicant.family_name"]', "Sorin")  # typed before the scan: kept, and flagged
    photo = passport_photo()
    page.set_input_files("#identity_scan", {"name": "passport.png", "mimeType": "image/png", "buffer": photo})
    page.get_by_role("button", name="Read identity from the scan").click()
    expect(page.locator("#zone-read")).to_contain_text("applicant.birth_date")
    expect(page.locator('[name="applicant.given_name"]')).to_have_value("Anton")
    expect(page.locator('[name="applicant.birth_date"]')).to_have_value("1994-06-21")
    expect(page.locator('[name="applicant.family_name"]')).to_have_value("Sorin")
    expect(page.locator(".zone-note")).to_contain_text("applicant.family_name differs from the document")
    middle = len(photo) // 2
    needles = [photo[middle : middle + 64], b"ZORIN", b"Zorin", b"Anton"]
    home = scratch.parent / "home"
    leftovers = [p for folder in (scratch, home, Path("/dev/shm")) for p in folder.rglob("*") if _holds(p, needles)]
    assert leftovers == []


def test_from_first_contact_to_a_downloaded_packet_through_the_forms_alone(
    server: tuple[str, Path], browser: Browser
) -> None:
    base, scratch = server
    page = browser.new_page()
    page.set_default_timeout(60_000)
    _sign_in(page, base)
    page.get_by_role("link", name="New case").click()
    _fill_person(page, "1995-02-28")
    page.select_option('[name="location.status"]', "stay-extension")
    page.select_option('[name="vetting[0].exclusion.answer"]', "no")
    page.fill('[name="ngo.name"]', "Exemple Libertés (fictional NGO)")
    page.get_by_role("button", name="Create case").click()
    page.wait_for_url(f"{base}/cases/*/evidence?created=1")
    case_id = page.url.split("/")[4]
    for _round in range(20):  # every open slot with an upload form gets a document, until none is left
        open_slots = page.locator('.slot:not([data-status="met"]):has(form.upload)')
        if open_slots.count() == 0:
            break
        slot = open_slots.first
        slot_id = (slot.get_attribute("id") or "").removeprefix("slot-")
        kind = slot.locator('[name="kind"]').first.get_attribute("value") or ""
        photo = kind == "identity.photo"
        for name, value in (("language", "fr"), ("issued", "2026-11-20"), ("expires", "2040-01-01")):
            if slot.locator(f'[name="{name}"]').count():
                slot.locator(f'[name="{name}"]').fill(value)
        data = jpeg(slot_id) if photo else text_pdf(slot_id)
        mime = "image/jpeg" if photo else "application/pdf"
        slot.locator('input[type="file"]').set_input_files(
            {"name": "doc.jpg" if photo else "doc.pdf", "mimeType": mime, "buffer": data}
        )
        slot.get_by_role("button", name="Upload").click()
        page.wait_for_load_state()
        expect(page.locator(f"#slot-{slot_id}")).to_have_attribute("data-status", "met")
    expect(page.locator("#ready-state")).to_have_text("READY")
    page.goto(f"{base}/cases/{case_id}")
    page.get_by_role("button", name="Build packet").click()
    expect(page.locator("#run")).to_have_attribute("data-state", "done", timeout=300_000)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the BagIt zip").click()
    with zipfile.ZipFile(download.value.path()) as bag:
        names = bag.namelist()
    assert any(n.endswith("/data/packet.pdf") for n in names) and any(n.endswith("/bagit.txt") for n in names)
    leftovers = [p for p in scratch.rglob("*") if _holds(p, [b"Belov", b"Timur"])]
    assert leftovers == []
