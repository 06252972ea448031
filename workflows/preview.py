"""Preview a case's packet: the letters and the first pages of packet.pdf in a folder, nothing archived.

A caseworker or legal adviser looks at what a consulate would read before building for real:
`preview(loaded, out_dir, today=...)` renders with the same code as a build (same templates,
context, bundle, stamps) but stores nothing, records nothing in the audit log, and works on a
case that is not ready yet (the result says why it is not). Evidence that cannot enter a packet
is still refused (EvidenceRejected, exit 2): it would not be shown as it will be sent.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pikepdf

from casefile import LoadedCase
from core.errors import EvidenceRejected
from packets import LetterConverter, build_packet, packet_id_for, preflight
from workflows.pipeline import evaluate_case, not_ready_message, packet_inputs

DEFAULT_PAGES = 3  # evidence pages shown after the letters and the index


@dataclass(frozen=True)
class Preview:
    """What a preview wrote: PDFs (and PNG images when poppler's pdftoppm is installed)."""

    folder: Path
    packet_id: str
    ready: bool
    not_ready: str  # why the case could not be built yet ('' when ready)
    letters: tuple[Path, ...]
    first_pages: Path
    images: tuple[Path, ...]
    pages: int  # pages of the whole packet.pdf


def _extract(pdf: bytes, first: int, last: int, dest: Path) -> None:
    with pikepdf.open(io.BytesIO(pdf)) as src, pikepdf.new() as out:
        out.pages.extend(src.pages[first - 1 : last])
        out.save(dest)
    dest.chmod(0o600)


def _png(pdf: Path, dpi: int) -> list[Path]:
    tool = shutil.which("pdftoppm")
    if tool is None:
        return []
    prefix = pdf.with_suffix("")
    subprocess.run([tool, "-png", "-r", str(dpi), str(pdf), str(prefix)], check=True, capture_output=True)
    found = sorted(pdf.parent.glob(prefix.name + "-*.png"))
    for p in found:
        p.chmod(0o600)
    return found


def preview(
    loaded: LoadedCase,
    out_dir: Path,
    *,
    today: date,
    actor: str = "preview",
    pages: int = DEFAULT_PAGES,
    png_dpi: int = 60,
    converter: LetterConverter | None = None,
) -> Preview:
    """Render the letters and the first pages of the case's packet into out_dir (0700); archive nothing."""
    problems = preflight(loaded.case, loaded.files)
    if problems:
        raise EvidenceRejected(loaded.case.case_id, problems)
    checklist = evaluate_case(loaded, today)
    inputs = replace(packet_inputs(loaded, checklist, actor=actor, today=today), sign=False)
    inputs = replace(inputs, letter_context={**inputs.letter_context, "packet_id": packet_id_for(inputs)})
    packet = build_packet(inputs, converter=converter)
    out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    letters_dir = out_dir / "letters"
    letters_dir.mkdir(exist_ok=True, mode=0o700)
    letter_paths = []
    last_letter = 0
    for entry in packet.manifest["letters"]:
        first, last = entry["packet_pages"]
        dest = letters_dir / f"{entry['name']}.pdf"
        _extract(packet.packet_pdf, first, last, dest)
        letter_paths.append(dest)
        last_letter = max(last_letter, last)
    evidence_starts = [e["packet_pages"][0] for e in packet.manifest["evidence"] if e.get("packet_pages")]
    index_end = (min(evidence_starts) - 1) if evidence_starts else packet.pages
    upto = min(packet.pages, index_end + max(pages, 0))
    first_pages = out_dir / "first-pages.pdf"
    _extract(packet.packet_pdf, 1, max(upto, 1), first_pages)
    images = _png(first_pages, png_dpi) if png_dpi > 0 else []
    return Preview(
        folder=out_dir,
        packet_id=packet.packet_id,
        ready=checklist.ready,
        not_ready="" if checklist.ready else not_ready_message(checklist),
        letters=tuple(letter_paths),
        first_pages=first_pages,
        images=tuple(images),
        pages=packet.pages,
    )
