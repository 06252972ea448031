"""The case desk's guards, over HTTP against a real `dossier web`: sessions, forgery, roles, headers, limits."""

from __future__ import annotations

import ast
import io
import re
import zipfile
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO
from tests.web_fixtures import PASSWORD, Desk, form_token, sign_in_at

PAGES = ["/cases", "/deadlines", "/deadlines.ics", "/audit", "/rules", "/accounts", "/groups"]


def sign_in(desk: Desk, user: str, **client_options: object) -> httpx.Client:
    """A client holding a fresh session of `user` (through the real login form)."""
    return sign_in_at(desk.url, user, **client_options)


@pytest.fixture
def carla(desk: Desk) -> Iterator[httpx.Client]:
    with closing(sign_in(desk, "carla")) as client:
        yield client


def test_every_page_without_a_session_goes_to_login(desk: Desk) -> None:
    case_id = desk.case_ids["fr-asylum-visa-couple"]
    with httpx.Client(base_url=desk.url) as anon:
        for path in [*PAGES, f"/cases/{case_id}", "/packets/P-0123456789AB/download"]:
            answer = anon.get(path)
            assert (answer.status_code, answer.headers.get("location")) == (303, "/login"), path
        assert anon.get("/healthz").json() == {"ok": True}
        login = anon.get("/login").text
        assert '<label for="username">Username</label>' in login
        assert '<label for="password">Password</label>' in login
        assert '<button type="submit">Sign in</button>' in login


def test_session_cookie_flags_and_security_headers(desk: Desk) -> None:
    with httpx.Client(base_url=desk.url) as client:
        form = client.get("/login")
        csp = form.headers["content-security-policy"]
        assert csp.startswith("default-src 'self';") and "frame-ancestors 'none'" in csp
        assert form.headers["x-content-type-options"] == "nosniff"
        assert form.headers["x-frame-options"] == "DENY"
        assert form.headers["referrer-policy"] == "no-referrer"
        assert "server" not in form.headers
        answer = client.post(
            "/login", data={"csrf_token": form_token(form.text), "username": "carla", "password": PASSWORD}
        )
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("dossier_session="))
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
        page = client.get(f"/cases/{desk.case_ids['fr-asylum-visa-couple']}")
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    # Behind the TLS proxy (`--proxy-headers`, X-Forwarded-Proto from 127.0.0.1) the cookie is Secure.
    with httpx.Client(base_url=desk.url, headers={"X-Forwarded-Proto": "https"}) as tls:
        form = tls.get("/login")
        login_cookie = next(c for c in form.headers.get_list("set-cookie") if c.startswith("dossier_login="))
        assert "Secure" in login_cookie
        token = form_token(form.text)
        answer = tls.post(  # httpx keeps Secure cookies for https only: hand the login cookie back ourselves
            "/login",
            data={"csrf_token": token, "username": "carla", "password": PASSWORD},
            headers={"Cookie": f"dossier_login={token}"},
        )
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("dossier_session="))
        assert "Secure" in cookie and "HttpOnly" in cookie
        assert answer.headers["strict-transport-security"].startswith("max-age=")


def test_posts_without_the_form_token_or_from_another_site_are_refused(desk: Desk, carla: httpx.Client) -> None:
    token = form_token(carla.get("/cases").text)
    refused = [
        carla.post("/cases/search", data={"name": "Orlov"}),
        carla.post("/cases/search", data={"name": "Orlov", "csrf_token": "x" * 43}),
        carla.post(
            "/cases/search", data={"name": "Orlov", "csrf_token": token}, headers={"Sec-Fetch-Site": "cross-site"}
        ),
        carla.post(
            "/cases/search", data={"name": "Orlov", "csrf_token": token}, headers={"Origin": "http://evil.test"}
        ),
        carla.post(f"/cases/{desk.case_ids['fr-asylum-visa-couple']}/build"),
    ]
    for answer in refused:
        assert answer.status_code == 403
        assert "Not allowed" in answer.text and "Orlov" not in answer.text
    accepted = carla.post(
        "/cases/search", data={"name": "Orlov", "csrf_token": token}, headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert accepted.status_code == 200 and desk.case_ids["fr-asylum-visa-couple"] in accepted.text
    with httpx.Client(base_url=desk.url) as anon:  # sign-in itself needs the login cookie's token
        assert anon.post("/login", data={"username": "carla", "password": PASSWORD}).status_code == 403


def test_roles_see_only_their_pages_and_every_denial_is_the_403_page(desk: Desk) -> None:
    case_id = desk.case_ids["fr-asylum-visa-couple"]
    expected = {
        "carla": {
            "/cases": 200,
            f"/cases/{case_id}": 200,
            "/deadlines": 200,
            "/rules": 403,
            "/audit": 403,
            "/accounts": 403,
        },
        "adam": {
            "/cases": 200,
            f"/cases/{case_id}": 200,
            "/rules": 200,
            "/audit": 403,
            "/accounts": 403,
            "/groups": 403,
        },
        "audrey": {"/audit": 200, f"/cases/{case_id}": 403, "/cases": 403, "/deadlines": 403, "/accounts": 403},
        "root": {"/accounts": 200, "/cases": 403, f"/cases/{case_id}": 403, "/audit": 403, "/rules": 403},
    }
    for user, pages in expected.items():
        with closing(sign_in(desk, user)) as client:
            for path, status in pages.items():
                answer = client.get(path)
                assert answer.status_code == status, (user, path)
                if status == 403:
                    assert "<h1>403 · Not allowed</h1>" in answer.text
                    assert not any(name in answer.text for name in desk.names)
            if user == "audrey":
                log = client.get("/audit").text
                assert case_id in log and not any(name in log for name in desk.names)
                token = form_token(log)
                assert client.post(f"/cases/{case_id}/build", data={"csrf_token": token}).status_code == 403
                assert client.get("/packets/P-0123456789AB/download").status_code == 403


def test_opening_a_case_is_a_view_case_entry_with_the_signed_in_user(desk: Desk, carla: httpx.Client) -> None:
    case_id = desk.case_ids["de-work-visa-family"]
    assert carla.get(f"/cases/{case_id}").status_code == 200
    with closing(sign_in(desk, "audrey")) as auditor:
        rows = auditor.get("/audit", params={"action": "view-case", "actor": "carla", "case_id": case_id}).text
    assert re.search(rf"<td>view-case</td><td>carla</td><td>{case_id}</td>", rows)
    assert "nobody" not in rows  # the server's own DOSSIER_ACTOR is never the actor


def test_error_pages_say_what_to_do_without_a_traceback(carla: httpx.Client) -> None:
    answer = carla.get("/cases/K7Q2-M9XO")
    assert answer.status_code == 400
    assert "did you mean K7Q2-M9X0?" in answer.text and "Traceback" not in answer.text
    missing = carla.get("/cases/ZZZZ-ZZZZ")
    assert missing.status_code == 404 and "Traceback" not in missing.text
    assert carla.get("/no/such/page").status_code == 404


def test_uploads_and_forms_are_size_limited(desk: Desk, carla: httpx.Client) -> None:
    token = form_token(carla.get("/cases").text)
    big_form = carla.post("/cases/search", data={"csrf_token": token, "name": "x" * (1024 * 1024 + 10)})
    assert big_form.status_code == 413

    def chunks() -> Iterator[bytes]:
        for _ in range(65):
            yield b"\0" * (1024 * 1024)

    headers = {"Content-Type": "multipart/form-data; boundary=xyz"}
    assert carla.post("/cases/import", content=chunks(), headers=headers).status_code == 413


def _zip(folder: Path, prefix: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, prefix + str(path.relative_to(folder)))
    return buf.getvalue()


def test_import_a_zipped_case_folder(desk: Desk, carla: httpx.Client) -> None:
    token = form_token(carla.get("/cases").text)
    folder = desk.root / "sources" / "fr-asylum-visa-couple"
    answer = carla.post(
        "/cases/import",
        data={"csrf_token": token},
        files={"folder": ("case.zip", _zip(folder, "fr/"), "application/zip")},
    )
    assert answer.status_code == 200, answer.text
    assert f'Case <a href="/cases/{desk.case_ids["fr-asylum-visa-couple"]}">' in answer.text
    assert "already stored, unchanged" in answer.text
    escape = io.BytesIO()
    with zipfile.ZipFile(escape, "w") as zf:
        zf.writestr("../case.yaml", "country: fr\n")
    refused = carla.post(
        "/cases/import", data={"csrf_token": token}, files={"folder": ("x.zip", escape.getvalue(), "application/zip")}
    )
    assert refused.status_code == 400 and "leaves the case folder" in refused.text
    leftovers = [p for p in Path("/dev/shm").glob("dossier-import-*")] + list(
        Path(desk.env["TMPDIR"]).glob("dossier-import-*")
    )
    assert leftovers == []


def test_deadlines_page_and_calendar_use_case_ids_only(desk: Desk, carla: httpx.Client) -> None:
    page = carla.get("/deadlines").text
    ics = carla.get("/deadlines.ics")
    assert ics.headers["content-type"].startswith("text/calendar")
    assert ics.text.startswith("BEGIN:VCALENDAR")
    ids = re.compile(r"\b[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}\b")
    assert set(ids.findall(page)) == set(ids.findall(ics.text)) and set(ids.findall(page)) <= set(
        desk.case_ids.values()
    )
    assert page.count("<tr><td>") == ics.text.count("BEGIN:VEVENT") > 0
    assert not any(name in ics.text or name in page for name in desk.names)


def test_the_web_package_reaches_storage_rules_and_packets_only_through_workflows() -> None:
    forbidden = ("storage", "packets", "country_rules")
    for path in (REPO / "web").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert name.split(".")[0] not in forbidden, f"{path.relative_to(REPO)} imports {name}"


def test_sign_out_ends_the_session_on_the_server(desk: Desk) -> None:
    client = sign_in(desk, "adam")
    with closing(client):
        token = form_token(client.get("/cases").text)
        cookie = client.cookies["dossier_session"]
        out = client.post("/logout", data={"csrf_token": token})
        assert (out.status_code, out.headers["location"]) == (303, "/login")
    with httpx.Client(base_url=desk.url, cookies={"dossier_session": cookie}) as replay:
        assert replay.get("/cases").headers.get("location") == "/login"  # the old cookie opens nothing
        assert replay.post("/logout").headers.get("location") == "/login"  # an ended session just signs in again
