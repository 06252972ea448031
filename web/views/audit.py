"""Auditor pages: the audit log with filters, verify with its verdict, export, checkpoints (ids only)."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from web.render import page
from web.views.common import signed_in
from workflows import audit, desk

router = APIRouter()
SHOWN = 500


def _audit_page(request: Request, **extra: object) -> Response:
    signed_in(request, "audit-view")
    q = request.query_params
    entries = audit.entries()
    choices = {
        "case_id": sorted({e["case_id"] for e in entries if e.get("case_id")}),
        "action": sorted({e["action"] for e in entries}),
        "actor": sorted({e["actor"] for e in entries}),
    }
    picked = {k: q.get(k, "") for k in choices if q.get(k, "") in choices[k]}
    rows = [e for e in entries if all(e.get(k) == v for k, v in picked.items() if v)]
    context = {
        "rows": list(reversed(rows))[:SHOWN],
        "total": len(rows),
        "shown": SHOWN,
        "choices": choices,
        "picked": picked,
        "checkpoints": [p.name for p in desk.checkpoints()],
        **extra,
    }
    return page(request, "audit.html", context)


@router.get("/audit")
def audit_log(request: Request) -> Response:
    """Every entry, newest first, filtered by case id, action or actor."""
    return _audit_page(request)


@router.post("/audit/verify")
def audit_verify(request: Request) -> Response:
    """Re-hash the chain and every archived object, against the newest checkpoint when there is one."""
    signed_in(request, "audit-verify")
    latest = desk.checkpoints()
    report = audit.verify(since=latest[0] if latest else None)
    return _audit_page(request, verdict=report, verdict_lines=report.lines(), against=latest[0].name if latest else "")


@router.post("/audit/checkpoint")
def audit_checkpoint(request: Request) -> Response:
    """Sign the head of the chain with the organisation's checkpoint key and keep the file."""
    signed_in(request, "audit-checkpoint")
    cp, path = audit.checkpoint()
    return _audit_page(request, made_checkpoint=path.name, checkpoint_seq=cp["seq"])


@router.get("/audit/checkpoints/{name}")
def checkpoint_download(request: Request, name: str) -> Response:
    """A checkpoint file, to keep somewhere the store's operators cannot reach."""
    signed_in(request, "audit-checkpoint")
    data = desk.checkpoint_file(name).read_bytes()
    return Response(
        data, media_type="application/json", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.post("/audit/export")
def audit_export(request: Request) -> Response:
    """The log as CSV plus a readable HTML report with the verdict, in one zip."""
    signed_in(request, "audit-export")
    with tempfile.TemporaryDirectory(prefix="dossier-export-") as tmp:
        result = audit.export(Path(tmp))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in (result.csv_path, result.html_path):
                zf.write(path, path.name)
    return Response(
        buf.getvalue(),
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="dossier-audit.zip"', "Cache-Control": "no-store"},
    )
