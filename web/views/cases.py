"""Caseworker pages: the case list and search, the case page, import, builds with progress, group submissions."""

from __future__ import annotations

import email.parser
import email.policy
from functools import partial
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from core.errors import BadInput
from web.errors import Forbidden
from web.permissions import allowed
from web.render import page
from web.views.common import field, form, signed_in, today
from workflows import desk

router = APIRouter()


def _intake_ready(request: Request) -> bool:
    return bool(getattr(request.app.state, "intake", False))


def _list(request: Request, **extra: Any) -> Response:
    user = signed_in(request, "case-list")
    rows, incomplete = desk.case_states()
    context = {
        "rows": sorted(rows, key=lambda s: s.updated, reverse=True),
        "incomplete": incomplete,
        "can_import": allowed(user, "case-import"),
        "can_build": allowed(user, "case-build"),
        "intake": _intake_ready(request),
        **extra,
    }
    return page(request, "cases.html", context)


@router.get("/cases")
def case_list(request: Request) -> Response:
    """Every stored case by id, country, procedure and stage; search by name is a POST."""
    return _list(request)


@router.post("/cases/search")
def case_search(request: Request) -> Response:
    """Names are decrypted for this user only; the term came in the body, so it is in no URL or log line."""
    user = signed_in(request, "case-search")
    term = field(form(request), "name")
    try:
        found = desk.search(term, user.username)
    except BadInput as exc:
        return _list(request, search_error=exc.message)
    return _list(request, found=found, searched=True)


def _multipart_file(request: Request, name: str) -> bytes:
    """One file field of the multipart body the middleware read, parsed in memory (never spooled to disk)."""
    body: bytes = request.scope.get("state", {}).get("body", b"")
    head = f"Content-Type: {request.headers.get('content-type', '')}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    for part in message.iter_parts() if message.is_multipart() else []:
        if part.get_param("name", header="content-disposition") == name:
            data = part.get_payload(decode=True)
            if isinstance(data, bytes) and data:
                return data
    raise BadInput("no file was chosen", hint="choose the zipped case folder and press Import case folder")


@router.post("/cases/import")
def case_import(request: Request) -> Response:
    """Import a zipped case folder (case.yaml and evidence/); unpacked in memory-backed scratch, then wiped."""
    user = signed_in(request, "case-import")
    result = desk.import_zip(_multipart_file(request, "folder"), user.username)
    return _list(request, imported=result, imported_summary=result.summary())


def _by_person(checklist: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for item in checklist["items"]:
        out.setdefault(item["person"], []).append(item)
    return out


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: str) -> Response:
    """People, evidence, the checklist per person with sources, packets; opening it is a view-case entry."""
    user = signed_in(request, "case-view")
    view = desk.case_page(case_id, user.username, today())
    case = view.case
    context = {
        "view": view,
        "case": case,
        "state": view.state,
        "checklist": view.checklist,
        "items_by_person": _by_person(view.checklist),
        "label": lambda pid: desk.person_label(case, pid),
        "can_build": allowed(user, "case-build"),
    }
    return page(request, "case.html", context)


def _start(request: Request, kind: str, case_ids: list[str]) -> Response:
    user = signed_in(request, "case-build")
    run_id = desk.start_run(kind, case_ids, user.username, today())
    return RedirectResponse(f"/runs/{run_id}", status_code=303)


@router.post("/cases/{case_id}/build")
def build(request: Request, case_id: str) -> Response:
    """Build and archive the packet of the case's current stage (in the background, with progress)."""
    return _start(request, "build", [case_id])


@router.post("/cases/{case_id}/advance")
def advance(request: Request, case_id: str) -> Response:
    """Build the current stage's packet, then move the case to its next stage."""
    return _start(request, "advance", [case_id])


@router.get("/runs/{run_id}.json")
def run_json(request: Request, run_id: str) -> Response:
    """Progress for the page's script: step, fraction, state (ids only)."""
    user = signed_in(request, "case-build")
    run = desk.run_status(run_id)
    if run["actor"] != user.username:
        raise Forbidden("run-view")
    answer = {k: run.get(k) for k in ("state", "step", "fraction")}
    if run.get("ended"):
        answer["seconds"] = round(float(run["ended"]) - float(run["started"]), 3)
    return JSONResponse(answer)


@router.get("/runs/{run_id}")
def run_page(request: Request, run_id: str) -> Response:
    """A build's progress (refreshes itself), then its packet or its refusal shown as the checklist."""
    user = signed_in(request, "case-build")
    run = desk.run_status(run_id)
    if run["actor"] != user.username:
        raise Forbidden("run-view")  # another person's run
    checklists = []
    if run["state"] == "refused":
        for case_id in run["case_ids"]:
            view = desk.case_page(case_id, user.username, today())
            checklists.append(
                (case_id, view.checklist, _by_person(view.checklist), partial(desk.person_label, view.case))
            )
    context = {"run": run, "checklists": checklists}
    return page(request, "run.html", context)


@router.get("/groups")
def group_form(request: Request) -> Response:
    """Pick two or more cases to submit together."""
    signed_in(request, "case-build")
    rows, _ = desk.case_states()
    return page(request, "groups.html", {"rows": sorted(rows, key=lambda s: s.case_id)})


@router.post("/groups/build")
def group_build(request: Request) -> Response:
    """Build every member's packet plus the group letter and index, archived as one submission."""
    picked = form(request).get("case_id", [])
    return _start(request, "group", picked)
