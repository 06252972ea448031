"""Pre-flight: every evidence file is checked before anything is built; all problems come back at once.

A problem names the evidence id and the reason (never file content or personal data).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from casefile.model import Case, Evidence
from core.errors import FieldProblem
from packets.inspection import inspect_content
from packets.model import DEFAULT_MAX_IMAGE_PIXELS
from packets.pdfcheck import PdfReport
from packets.sniff import IMAGE_TYPES, content_type, describe_unknown, extension_of, type_named_by

NO_TEXT_LAYER_EXEMPT_KINDS = frozenset({"identity.photo"})


@dataclass
class Checked:
    """One evidence file after pre-flight: its real type and, for PDFs, what inspection found."""

    evidence: Evidence
    ctype: str | None
    problems: list[str] = field(default_factory=list)
    fixable: list[str] = field(default_factory=list)
    pdf: PdfReport | None = None

    @property
    def sanitisable(self) -> bool:
        """Refused only for active content or owner-password encryption, which sanitising removes."""
        return bool(self.fixable) and not self.problems


def _path_problem(relative: str) -> str | None:
    pure = PurePosixPath(relative.replace("\\", "/"))
    if pure.is_absolute() or (pure.parts and ":" in pure.parts[0]):
        return "file path must be relative to the case folder"
    if ".." in pure.parts:
        return "file path leaves the case folder ('..' is not allowed)"
    return None


def check_evidence(e: Evidence, data: bytes | None, max_pixels: int) -> Checked:
    """Check one evidence file: path, presence, real type against its name, then PDF or image hygiene."""
    checked = Checked(e, None)
    why = _path_problem(e.file)
    if why:
        checked.problems.append(why)
        return checked
    if data is None:
        checked.problems.append("file was not loaded with the case (missing from the case folder?)")
        return checked
    if not data:
        checked.problems.append("file is empty")
        return checked
    ctype = checked.ctype = content_type(data)  # a glance at the first bytes; the inspection below parses
    named = type_named_by(e.file)
    ext = extension_of(e.file)
    if ctype is None:
        checked.problems.append(f"content is {describe_unknown(data)}, not a PDF or an image: export it as PDF")
        return checked
    if ext and named != ctype:
        checked.problems.append(f"content is {ctype}, name says {named or ext}: rename the file or export it again")
        return checked
    found = inspect_content(data, max_pixels)
    checked.pdf = found.pdf
    checked.problems.extend(found.problems)
    checked.fixable.extend(found.fixable)
    return checked


def check_all(
    case: Case, files: Mapping[str, bytes], *, max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
) -> list[Checked]:
    """Check every evidence file of the case, in case order."""
    return [check_evidence(e, files.get(e.id), max_image_pixels) for e in case.evidence]


def problems_of(checked: list[Checked], *, sanitise: bool) -> list[FieldProblem]:
    """The problems that refuse a build (sanitisable ones are not, when sanitising is on)."""
    out: list[FieldProblem] = []
    for c in checked:
        out.extend(FieldProblem(c.evidence.id, p) for p in c.problems)
        if not sanitise or c.problems:
            out.extend(FieldProblem(c.evidence.id, p) for p in c.fixable)
    return out


def preflight(
    case: Case,
    files: Mapping[str, bytes],
    *,
    sanitise: bool = False,
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
) -> list[FieldProblem]:
    """Every problem of every evidence file (empty list: all may enter a packet); nothing is built."""
    return problems_of(check_all(case, files, max_image_pixels=max_image_pixels), sanitise=sanitise)


def warnings_of(checked: list[Checked]) -> list[str]:
    """Checklist warnings: scans without a text layer and PDFs that needed repair."""
    out: list[str] = []
    for c in checked:
        if c.problems:
            continue  # refused anyway
        eid = c.evidence.id
        if c.pdf is not None:
            if c.pdf.pages and c.pdf.pages_with_text == 0:
                out.append(
                    f"evidence {eid}: scanned PDF without a text layer ({c.pdf.pages} page(s)); "
                    "the bundle is not searchable there (OCR it, e.g. with ocrmypdf, if the recipient needs text)"
                )
            if c.pdf.repaired:
                out.append(f"evidence {eid}: PDF had a damaged cross-reference table and was repaired; check it")
        elif c.ctype in IMAGE_TYPES and c.evidence.kind not in NO_TEXT_LAYER_EXEMPT_KINDS:
            out.append(
                f"evidence {eid}: image scan without a text layer; "
                "the bundle is not searchable there (OCR it, e.g. with ocrmypdf, if the recipient needs text)"
            )
    return out


def text_layer_warnings(
    case: Case, files: Mapping[str, bytes], *, max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
) -> list[str]:
    """Warnings for the checklist: evidence without a text layer (and repaired PDFs), by evidence id."""
    return warnings_of(check_all(case, files, max_image_pixels=max_image_pixels))
