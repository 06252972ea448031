"""Intake pages: /cases/new (the form from the schema, drafts, duplicate warning), evidence by slot, edit, history.

Every page calls `workflows.intake` (and `workflows.cases`); uploads are parsed from the body the
security middleware already holds in memory, so no uploaded byte is written to disk.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from casefile.forms import FormGroup
from core.errors import BadInput, CaseInvalid, DossierError, EvidenceRejected
from web.intake.uploads import Posted, read_posted
from web.permissions import allowed
from web.render import page
from web.views.common import signed_in, today
from workflows import intake

router = APIRouter()

_CSS = (Path(__file__).parent / "static" / "intake.css").read_bytes()

_ROWS = "_rows."
_NOT_VALUES = frozenset({"csrf_token", "action", "draft_id", "confirm_duplicate"})


def _row_count(values: dict[str, str], path: str) -> int:
    """Rows to show for a list: every row with a value, at least one, more when "Add another" asked."""
    pattern = re.compile(re.escape(path) + r"\[(\d+)\]")
    used = [int(m.group(1)) + 1 for k, v in values.items() if v and (m := pattern.match(k))]
    asked = values.get(_ROWS + path, "")
    return max([1, *used, int(asked) if asked.isdigit() else 0])


def _form_page(request: Request, values: dict[str, str], status: int = 200, **extra: Any) -> Response:
    user = signed_in(request, "case-import")
    context = {
        "form": intake.intake_form(extra.get("case_id")),
        "values": values,
        "errors": extra.pop("errors", {}),
        "rows": lambda path: _row_count(values, path),
        "is_group": lambda m: isinstance(m, FormGroup),
        "drafts": intake.draft_list(user.username),
        **extra,
    }
    return page(request, "intake/new.html", context, status)


@router.get("/intake/intake.css")
def stylesheet() -> Response:
    """The intake pages' stylesheet (served by the app: no asset from elsewhere)."""
    return Response(_CSS, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/cases/new")
def new_case(request: Request, draft: str = "") -> Response:
    """The new-case form, empty or resumed from one of the user's encrypted drafts."""
    user = signed_in(request, "case-import")
    values: dict[str, str] = {}
    if draft:
        values = intake.drafts().load(user.username, draft).values
    return _form_page(request, values, draft_id=draft)


def _values(posted: Posted) -> dict[str, str]:
    return {k: v for k, v in posted.fields.items() if k not in _NOT_VALUES}


@router.post("/cases/new")
async def new_case_post(request: Request) -> Response:
    """Save a draft, add a row, discard, or create the case (after field errors and the duplicate check)."""
    user = signed_in(request, "case-import")
    posted = await read_posted(request)
    action = posted.fields.get("action", "save")
    draft_id = posted.fields.get("draft_id", "") or None
    values = _values(posted)
    store = intake.drafts()
    if action == "discard":
        if draft_id:
            store.delete(user.username, draft_id)
        return RedirectResponse("/cases/new", status_code=303)
    if action.startswith("add:"):
        path = action[4:]
        values[_ROWS + path] = str(_row_count(values, path) + 1)
        draft_id = store.save(user.username, values, draft_id)
        return _form_page(request, values, draft_id=draft_id, saved=True, focus=path)
    if action == "read-zone":
        return _read_zone(request, posted, values, draft_id)
    if action != "create":
        draft_id = store.save(user.username, values, draft_id)
        return _form_page(request, values, draft_id=draft_id, saved=True)
    mapping, errors = intake.read_form(values)
    if errors:
        draft_id = store.save(user.username, values, draft_id)
        return _form_page(request, values, 422, errors=errors, draft_id=draft_id, saved=True)
    duplicates = intake.duplicates_of(mapping, user.username)
    if duplicates and posted.fields.get("confirm_duplicate") != "yes":
        draft_id = store.save(user.username, values, draft_id)
        return _form_page(request, values, 409, duplicates=duplicates, draft_id=draft_id, saved=True)
    result = intake.create_case(mapping, user.username, draft_id=draft_id)
    return RedirectResponse(f"/cases/{result.case_id}/evidence?created=1", status_code=303)


def _read_zone(request: Request, posted: Posted, values: dict[str, str], draft_id: str | None) -> Response:
    """Pre-fill the applicant from a passport or ID scan's machine-readable zone (the scan is not kept)."""
    user = signed_in(request, "case-import")
    scan = posted.files.get("identity_scan")
    if scan is None:
        return _form_page(request, values, 422, draft_id=draft_id, zone_error="choose a scan or photo of the passport")
    try:
        read = intake.identity_from_scan(scan.data)
    except DossierError as exc:
        return _form_page(request, values, 422, draft_id=draft_id, zone_error=exc.message)
    if not read:
        message = "no machine-readable zone with valid check digits was found: type the fields, or try a sharper scan"
        return _form_page(request, values, 422, draft_id=draft_id, zone_error=message)
    notes: dict[str, list[str]] = {}
    for path, value in read.items():
        typed = values.get(path, "").strip()
        if not typed:
            values[path] = value
        elif typed.casefold() != value.casefold():
            notes[path] = ["differs from the document's machine-readable zone: check it against the document"]
    draft_id = intake.drafts().save(user.username, values, draft_id)
    return _form_page(request, values, draft_id=draft_id, zone_read=sorted(read), zone_notes=notes)


# --- evidence by slot -----------------------------------------------------------------------------------


def _evidence_page(request: Request, case_id: str, status: int = 200, **extra: Any) -> Response:
    user = signed_in(request, "case-view")
    view = intake.evidence_page(case_id, user.username, today())
    by_person: dict[str, list[intake.Slot]] = {}
    for slot in view.slots:
        by_person.setdefault(slot.person, []).append(slot)
    context = {
        "view": view,
        "case_id": case_id,
        "by_person": by_person,
        "can_upload": allowed(user, "case-import"),
        "slot_errors": extra.pop("slot_errors", {}),
        "added": request.query_params.get("added", ""),
        "created": request.query_params.get("created", "") == "1",
        **extra,
    }
    return page(request, "intake/evidence.html", context, status)


@router.get("/cases/{case_id}/evidence")
def evidence(request: Request, case_id: str) -> Response:
    """The current stage's requirements per person, each a slot with its status and an upload button."""
    return _evidence_page(request, case_id)


@router.post("/cases/{case_id}/evidence")
async def evidence_post(request: Request, case_id: str) -> Response:
    """Pre-flight an upload into its slot and store it as a new record version; a refusal is shown in the slot."""
    user = signed_in(request, "case-import")
    posted = await read_posted(request)
    f = posted.fields
    slot = f.get("slot_id", "") or "extra"
    upload = posted.files.get("file")
    if upload is None:
        return _evidence_page(request, case_id, 422, slot_errors={slot: ["choose a file to upload"]})
    try:
        added = intake.add_evidence(
            case_id,
            kind=f.get("kind", ""),
            person=f.get("person", "applicant"),
            file_name=upload.file_name,
            data=upload.data,
            actor=user.username,
            language=f.get("language") or None,
            issued=f.get("issued") or None,
            expires=f.get("expires") or None,
            translation_of=f.get("translation_of") or None,
            sworn=f.get("sworn") == "on",
            title=f.get("title") or None,
            ocr=f.get("ocr") == "on",
        )
    except (EvidenceRejected, CaseInvalid) as exc:
        refused = isinstance(exc, EvidenceRejected)
        messages = [("This file was refused: " if refused else "") + p.what for p in exc.problems]
        return _evidence_page(request, case_id, 422, slot_errors={slot: messages})
    except BadInput as exc:
        return _evidence_page(request, case_id, 422, slot_errors={slot: [exc.message]})
    if added.zone or added.zone_warnings or added.ocr_problem or added.ocr_seconds is not None:
        # what the scan said is personal data: shown on this page, never put into a redirect URL
        return _evidence_page(request, case_id, 200, added_info=added, added_slot=slot)
    return RedirectResponse(f"/cases/{case_id}/evidence?added={added.evidence_id}#slot-{slot}", status_code=303)


@router.post("/cases/{case_id}/identity")
async def identity_post(request: Request, case_id: str) -> Response:
    """Take the identity values read from a document's machine-readable zone into the case (a new version)."""
    user = signed_in(request, "case-import")
    posted = await read_posted(request)
    intake.apply_identity(case_id, posted.fields, user.username)
    return RedirectResponse(f"/cases/{case_id}/history", status_code=303)


# --- editing, history, export ------------------------------------------------------------------------------


@router.get("/cases/{case_id}/edit")
def edit(request: Request, case_id: str) -> Response:
    """The case's facts in the same form as a new case; saving stores a new record version."""
    user = signed_in(request, "case-import")
    values = intake.case_values(case_id, user.username)
    return _form_page(request, values, case_id=case_id)


@router.post("/cases/{case_id}/edit")
async def edit_post(request: Request, case_id: str) -> Response:
    """Store the changed facts as a new record version (evidence stays), or show the fields to fix."""
    user = signed_in(request, "case-import")
    posted = await read_posted(request)
    values = _values(posted)
    action = posted.fields.get("action", "save")
    if action.startswith("add:"):
        path = action[4:]
        values[_ROWS + path] = str(_row_count(values, path) + 1)
        return _form_page(request, values, case_id=case_id, focus=path)
    mapping, errors = intake.read_form(values, case_id)
    if errors:
        return _form_page(request, values, 422, errors=errors, case_id=case_id)
    try:
        intake.edit_case(case_id, mapping, user.username)
    except CaseInvalid as exc:
        problems = {p.where: [p.what] for p in exc.problems}
        return _form_page(request, values, 422, errors=problems, case_id=case_id)
    return RedirectResponse(f"/cases/{case_id}/history", status_code=303)


@router.get("/cases/{case_id}/history")
def history(request: Request, case_id: str) -> Response:
    """Every record version: who, when, which fields changed (never the values), and who opened the case."""
    signed_in(request, "case-view")
    context = {"case_id": case_id, "versions": intake.history(case_id), "views": intake.views(case_id)}
    return page(request, "intake/history.html", context)


@router.post("/cases/{case_id}/export")
def export(request: Request, case_id: str) -> Response:
    """The case folder as a zip (case.yaml + evidence/) to move it to another office; an audit entry records it."""
    user = signed_in(request, "case-import")
    data = intake.export_zip(case_id, user.username)
    headers = {"Content-Disposition": f'attachment; filename="{case_id}.zip"', "Cache-Control": "no-store"}
    return Response(data, media_type="application/zip", headers=headers)
