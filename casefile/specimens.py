"""Fictional specimen documents, so examples and tests need no committed binaries or real papers.

Each specimen is deterministic: the same evidence entry always gives the same bytes.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pikepdf
from PIL import Image, ImageDraw

from core.yamlio import load_yaml_file

_A4 = (595.0, 842.0)


def _pdf_escape(text: str) -> str:
    safe = text.encode("latin-1", "replace").decode("latin-1")
    return safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def specimen_pdf(lines: list[str], pages: int = 1) -> bytes:
    """A text PDF (real text layer, Helvetica) with the given lines on every page."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name.Helvetica,
            Encoding=pikepdf.Name.WinAnsiEncoding,
        )
    )
    for n in range(pages):
        ops = ["BT", "/F1 14 Tf", "60 770 Td", "18 TL"]
        for line in [*lines, f"Page {n + 1} of {pages}"]:
            ops.append(f"({_pdf_escape(line)}) Tj T*")
        ops.append("ET")
        page = pikepdf.Page(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Page,
                MediaBox=[0, 0, *_A4],
                Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font)),
                Contents=pdf.make_stream("\n".join(ops).encode("latin-1")),
            )
        )
        pdf.pages.append(page)
    out = io.BytesIO()
    pdf.save(out, deterministic_id=True, fix_metadata_version=False)
    return out.getvalue()


def specimen_image(lines: list[str], fmt: str = "JPEG", size: tuple[int, int] = (827, 1063)) -> bytes:
    """A photo-like or screenshot-like image with the given lines drawn on it."""
    img = Image.new("RGB", size, (236, 233, 226))
    draw = ImageDraw.Draw(img)
    draw.rectangle((20, 20, size[0] - 20, size[1] - 20), outline=(60, 60, 90), width=4)
    for i, line in enumerate(lines):
        draw.text((40, 40 + 22 * i), line.encode("ascii", "replace").decode(), fill=(20, 20, 40))
    out = io.BytesIO()
    img.save(out, format=fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return out.getvalue()


def specimen_for(entry: dict[str, Any], case: dict[str, Any]) -> bytes:
    """The specimen bytes for one evidence entry of a case.yaml mapping, by the file's extension."""
    person = (
        case["applicant"]
        if entry.get("person", "applicant") == "applicant"
        else next((h for h in case.get("household", []) if h["person_id"] == entry.get("person")), case["applicant"])
    )
    lines = [
        "SPECIMEN - FICTIONAL DOCUMENT (Dossier example)",
        f"Document kind: {entry['kind']}",
        f"Evidence id: {entry['id']}",
        f"Holder: {person['given_name']} {person['family_name']}",
        f"Born: {person.get('birth_date', '?')}",
        f"Language: {entry.get('language', '-')}",
        f"Issued: {entry.get('issued', '-')}",
    ]
    if entry.get("translation_of"):
        lines.append(f"Sworn translation of {entry['translation_of']}")
    suffix = Path(entry["file"]).suffix.lower()
    if suffix in (".jpg", ".jpeg"):
        return specimen_image(lines, "JPEG", (413, 531))
    if suffix == ".png":
        return specimen_image(lines, "PNG", (900, 600))
    return specimen_pdf(lines, pages=2 if entry["kind"].startswith(("statement", "vetting")) else 1)


def write_specimens(folder: Path, *, overwrite: bool = False) -> list[Path]:
    """Create every evidence file a case folder's case.yaml names (fictional specimens)."""
    case = load_yaml_file(folder / "case.yaml")
    written = []
    for entry in case.get("evidence", []):
        target = folder / entry["file"]
        if target.exists() and not overwrite:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(specimen_for(entry, case))
        written.append(target)
    return written
