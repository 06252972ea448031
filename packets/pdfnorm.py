"""PDF bytes that depend only on content: no creation dates, producers, XMP metadata or random /ID."""

from __future__ import annotations

import io

import pikepdf


def save_deterministic(pdf: pikepdf.Pdf) -> bytes:
    """Save without encryption and with an /ID computed from the content alone.

    qpdf keeps the first half of an existing /ID, so it is dropped first.
    """
    if "/ID" in pdf.trailer:
        del pdf.trailer["/ID"]
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True, encryption=False, fix_metadata_version=False)
    return out.getvalue()


def normalise_pdf(data: bytes) -> bytes:
    """The same PDF without /Info, XMP metadata or a random /ID (LibreOffice and img2pdf add them)."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        if "/Info" in pdf.trailer:
            del pdf.trailer["/Info"]
        if "/Metadata" in pdf.Root:
            del pdf.Root["/Metadata"]
        return save_deterministic(pdf)
