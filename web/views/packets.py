"""Packet downloads (the BagIt zip and packet.pdf) and the deadlines page with its iCalendar file."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from web.render import page
from web.views.common import signed_in, today
from workflows import cases, desk
from workflows.deadlines import to_ics

router = APIRouter()


def _download(data: bytes, filename: str, media_type: str) -> Response:
    return Response(
        data,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


@router.get("/packets/{packet_id}/download")
def packet_download(request: Request, packet_id: str) -> Response:
    """The archived packet's BagIt zip, checked against the audit log before it leaves."""
    signed_in(request, "packet-download")
    return _download(cases.packet_bytes(packet_id), f"{packet_id}.zip", "application/zip")


@router.get("/packets/{packet_id}/packet.pdf")
def packet_pdf(request: Request, packet_id: str) -> Response:
    """The packet's bundled PDF, from the checked bag."""
    signed_in(request, "packet-download")
    return _download(desk.packet_pdf(packet_id), f"{packet_id}.pdf", "application/pdf")


@router.get("/deadlines")
def deadlines(request: Request) -> Response:
    """What falls due across every case, soonest first (case ids, never names)."""
    signed_in(request, "deadlines")
    return page(request, "deadlines.html", {"items": desk.deadlines(today())})


@router.get("/deadlines.ics")
def deadlines_ics(request: Request) -> Response:
    """The same deadlines as an iCalendar file (titles use case ids)."""
    signed_in(request, "deadlines")
    return _download(to_ics(desk.deadlines(today())), "dossier-deadlines.ics", "text/calendar")
