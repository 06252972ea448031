"""The case desk in a real browser (Debian's chromium driven by Playwright), as each role uses it.

Then the leak check: after a session that searched, opened and built a case, the server's log,
Prefect's database and every file the desk wrote are searched for the people's names.
Set DOSSIER_SCREENSHOTS=docs to also save the pages' screenshots (tools/web_screenshots.py does).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import bagit
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.clirun import grep_tree
from tests.web_fixtures import CHROMIUM_ARGS, PASSWORD, Desk

SHOTS = os.environ.get("DOSSIER_SCREENSHOTS")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


def shot(page: Page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"desk-{name}.png"), full_page=False)


def signed_in(browser: Browser, desk: Desk, user: str, *, javascript: bool = True) -> Page:
    context = browser.new_context(
        base_url=desk.url,
        accept_downloads=True,
        java_script_enabled=javascript,
        viewport={"width": 1280, "height": 860},
    )
    page = context.new_page()
    page.goto("/cases")  # no session: the sign-in page
    expect(page).to_have_url(f"{desk.url}/login")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    return page


def test_a_caseworker_finds_builds_and_downloads_a_valid_bag_with_javascript_off(
    browser: Browser, desk: Desk, tmp_path: Path
) -> None:
    case_id = desk.case_ids["fr-asylum-visa-couple"]
    page = signed_in(browser, desk, "carla", javascript=False)
    expect(page).to_have_url(f"{desk.url}/cases")
    expect(page.get_by_role("link", name=case_id)).to_be_visible()
    shot(page, "cases")
    page.get_by_label("Find a case by name").fill("orlov")
    page.get_by_role("button", name="Search").click()
    expect(page).to_have_url(f"{desk.url}/cases/search")  # the name went in the body, not the URL
    found = page.locator("table.found")
    expect(found).to_contain_text("Pavel Orlov")
    found.get_by_role("link", name=case_id).click()
    expect(page).to_have_url(f"{desk.url}/cases/{case_id}")
    expect(page.locator("h1")).to_contain_text(f"Case {case_id}")
    expect(page.locator("table.checklist").first).to_contain_text("met")
    expect(page.get_by_text("Regulation (EC) No 333/2002").first).to_be_visible()
    shot(page, "case")
    page.get_by_role("button", name="Build packet").click()
    expect(page.locator("p.verdict.ok")).to_contain_text("Packet", timeout=240_000)  # the page refreshes itself
    shot(page, "built")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the BagIt zip").click()
    zipped = tmp_path / "packet.zip"
    download.value.save_as(zipped)
    with zipfile.ZipFile(zipped) as zf:
        zf.extractall(tmp_path / "bag")
    (bag_dir,) = list((tmp_path / "bag").iterdir())
    bag = bagit.Bag(str(bag_dir))
    bag.validate()  # raises on any checksum, manifest or completeness problem
    assert (bag_dir / "data" / "packet.pdf").read_bytes().startswith(b"%PDF")
    with page.expect_download() as pdf:
        page.get_by_role("link", name="Download the PDF").click()
    assert Path(pdf.value.path()).read_bytes().startswith(b"%PDF")
    page.goto(f"/cases/{case_id}")
    expect(page.locator("section", has_text="Packets")).to_contain_text(bag_dir.name)
    page.goto("/cases")  # the list (its states reused per record version) shows the new packet
    expect(page.locator("table.cases tr", has_text=case_id).locator("td").nth(5)).to_have_text("1")
    page.context.close()


def test_a_refused_build_shows_the_checklist_not_a_traceback(browser: Browser, desk: Desk) -> None:
    case_id = desk.case_ids["fr-incomplete"]
    page = signed_in(browser, desk, "carla")
    page.goto(f"/cases/{case_id}")
    expect(page.locator("p.verdict").first).to_contain_text("Not ready")  # no identity document for the applicant
    page.get_by_role("button", name="Build packet").click()
    expect(page.locator("p.verdict.bad").first).to_contain_text("Refused", timeout=240_000)
    expect(page.locator("pre.refusal")).to_contain_text(case_id)
    expect(page.locator("table.checklist").first).to_be_visible()
    expect(page.locator("span.status.bad").first).to_be_visible()
    shot(page, "refused")
    assert "Traceback" not in page.content()
    page.context.close()


def test_a_group_submission_is_picked_built_with_live_progress_and_downloaded(
    browser: Browser, desk: Desk, tmp_path: Path
) -> None:
    members = [desk.case_ids["fr-asylum-visa-couple"], desk.case_ids["fr-second"]]
    page = signed_in(browser, desk, "carla")  # JavaScript on: the run page polls /runs/<id>.json
    page.get_by_role("link", name="Group submission").click()
    for case_id in members:
        page.get_by_label(case_id).check()
    shot(page, "group")
    page.get_by_role("button", name="Build group submission").click()
    expect(page.locator("p.verdict.ok")).to_contain_text("Group submission G-", timeout=300_000)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the BagIt zip").click()
    zipped = tmp_path / "group.zip"
    download.value.save_as(zipped)
    with zipfile.ZipFile(zipped) as zf:
        zf.extractall(tmp_path / "bag")
    (bag_dir,) = list((tmp_path / "bag").iterdir())
    bagit.Bag(str(bag_dir)).validate()
    assert bag_dir.name.startswith("G-")
    page.context.close()


def test_advance_archives_the_stage_packet_and_moves_the_case_on(browser: Browser, desk: Desk) -> None:
    case_id = desk.case_ids["fr-second"]  # after the group test: it no longer needs this stage
    page = signed_in(browser, desk, "carla")
    page.goto(f"/cases/{case_id}")
    expect(page.locator("h1")).to_contain_text("stage consular-submission")
    page.get_by_role("button", name="Advance").click()
    expect(page.locator("p.verdict.ok")).to_contain_text("moved from consular-submission to", timeout=300_000)
    page.goto(f"/cases/{case_id}")
    expect(page.locator("h1")).not_to_contain_text("stage consular-submission")
    page.context.close()


def test_an_auditor_is_refused_case_pages_and_verifies_the_log(browser: Browser, desk: Desk) -> None:
    page = signed_in(browser, desk, "audrey")
    expect(page).to_have_url(f"{desk.url}/audit")
    page.goto(f"/cases/{desk.case_ids['fr-asylum-visa-couple']}")
    expect(page.locator("h1")).to_have_text("403 · Not allowed")
    page.goto("/audit")
    page.get_by_role("button", name="Verify").click()
    expect(page.locator("#verdict")).to_contain_text("Verified")
    shot(page, "audit")
    page.get_by_label("Action").select_option("view-case")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("table.audit")).to_contain_text("carla")
    page.context.close()


def test_an_adviser_browses_rules_on_a_date_and_runs_the_rule_tests(browser: Browser, desk: Desk) -> None:
    page = signed_in(browser, desk, "adam")
    page.goto("/rules")
    page.get_by_label("Country").select_option("fr")
    page.get_by_label("On").fill("2026-12-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("table.rules")).to_contain_text("Identity document")
    shot(page, "rules")
    page.get_by_role("button", name="Run rule tests (fr)").click()
    expect(page.locator("#verdict")).to_contain_text("passed")
    page.context.close()


def test_an_admin_manages_accounts_only(browser: Browser, desk: Desk) -> None:
    page = signed_in(browser, desk, "root")
    expect(page).to_have_url(f"{desk.url}/accounts")
    page.get_by_label("Username").fill("temp.worker")
    page.get_by_label("Role").select_option("caseworker")
    page.get_by_label("Password (at least 12 characters)").fill("another long passphrase")
    page.get_by_role("button", name="Add account").click()
    expect(page.locator("p.flash.ok")).to_contain_text("temp.worker")
    page.locator("tr", has_text="temp.worker").get_by_role("button", name="Disable").click()
    expect(page.locator("tr", has_text="temp.worker")).to_contain_text("disabled")
    shot(page, "accounts")
    page.goto("/cases")
    expect(page.locator("h1")).to_have_text("403 · Not allowed")
    page.context.close()


class _Attacker(BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:  # a page on another site that posts to the desk
        body = (
            f'<form id="f" method="post" action="{self.target}/cases/search">'
            '<input name="name" value="Orlov"></form><script>document.getElementById("f").submit()</script>'
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


def test_a_form_posted_from_another_site_is_refused(browser: Browser, desk: Desk) -> None:
    page = signed_in(browser, desk, "carla")
    _Attacker.target = desk.url
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Attacker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://localhost:{server.server_address[1]}/")
        expect(page.locator("h1")).to_have_text("403 · Not allowed")
        assert "Pavel" not in page.content()
    finally:
        server.shutdown()
        page.context.close()


def test_no_name_reaches_the_log_prefect_or_any_file_written(browser: Browser, desk: Desk) -> None:
    # Runs last in this module: by now the desk has searched, opened, built (and refused) the cases.
    assert desk.names and "Orlov" in desk.names
    log = desk.log.read_bytes()
    assert desk.case_ids["fr-asylum-visa-couple"].encode() in log  # the log is real and saw the session
    assert [n for n in desk.names if n.encode() in log] == []
    hits = [hit for root in desk.roots_written() for hit in grep_tree(root, desk.names)]
    assert hits == []
    databases = list(Path(desk.env["PREFECT_HOME"]).rglob("*.db"))
    assert databases, "Prefect's database was not where the desk was told to keep it"
    for db in databases:
        with sqlite3.connect(db) as conn:
            runs = conn.execute("select count(*) from flow_run").fetchone()[0]
            assert runs >= 1  # the builds went through Prefect
            dump = "\n".join(conn.iterdump())
        assert [n for n in desk.names if n in dump] == []
