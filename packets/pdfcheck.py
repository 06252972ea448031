"""PDF evidence hygiene: encrypted, damaged or active-content PDFs are found, and optionally made safe.

Active content is anything that runs or carries other files: JavaScript, launch and
submit actions, embedded files, XFA forms, rich media. Messages never quote the document.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field

import pikepdf

_DANGEROUS_ACTIONS = {
    "/JavaScript": "JavaScript",
    "/Launch": "a launch action (starts a program or opens a file)",
    "/SubmitForm": "a form-submission action (sends data out)",
    "/ImportData": "an import-data action",
    "/GoToE": "a link into an embedded file",
    "/Rendition": "a media rendition action",
}
_DANGEROUS_ANNOTS = {
    "/FileAttachment": "an embedded file (file attachment annotation)",
    "/RichMedia": "rich media (Flash/video)",
    "/Movie": "a movie annotation",
    "/Sound": "a sound annotation",
    "/Screen": "a media screen annotation",
}
_TEXT_OPERATORS = "Tj TJ ' \""


@dataclass(frozen=True)
class Finding:
    """One piece of active content and where it sits (document-level or a page number)."""

    what: str
    where: str

    def __str__(self) -> str:
        return f"{self.what} ({self.where})"


@dataclass
class PdfReport:
    """What inspecting one PDF found; no problems and nothing fixable means it may enter a packet as is."""

    problems: list[str] = field(default_factory=list)
    fixable: list[str] = field(default_factory=list)  # what sanitising removes, when it is allowed
    findings: list[Finding] = field(default_factory=list)
    owner_encrypted: bool = False
    repaired: bool = False
    pages: int = 0
    pages_with_text: int = 0
    pdf: pikepdf.Pdf | None = None


def _open(data: bytes, report: PdfReport) -> pikepdf.Pdf | None:
    try:
        return pikepdf.open(io.BytesIO(data), attempt_recovery=False)
    except pikepdf.PasswordError:
        report.problems.append("is encrypted with a password: ask for an unprotected copy")
        return None
    except pikepdf.PdfError:
        pass
    tail = data[-4096:]
    if b"%%EOF" not in tail:
        report.problems.append("is truncated or damaged (the end of the PDF is missing): get the complete file")
        return None
    try:
        pdf = pikepdf.open(io.BytesIO(data), attempt_recovery=True)
    except pikepdf.PasswordError:
        report.problems.append("is encrypted with a password: ask for an unprotected copy")
        return None
    except pikepdf.PdfError:
        report.problems.append("is damaged and cannot be read as a PDF: get a new copy")
        return None
    report.repaired = True
    return pdf


def inspect_pdf(data: bytes, max_pixels: int) -> PdfReport:
    """Open, check and describe a PDF without changing it."""
    report = PdfReport()
    pdf = _open(data, report)
    if pdf is None:
        return report
    report.pdf = pdf
    report.owner_encrypted = pdf.is_encrypted
    try:
        report.pages = len(pdf.pages)
    except pikepdf.PdfError:
        report.problems.append("is damaged (its page tree cannot be read): get a new copy")
        return report
    if report.pages == 0:
        report.problems.append("has no pages")
        return report
    if not _reads_the_same_when_bundled(data, report.pages):
        report.problems.append("is damaged (it reads differently once repaired): get a new copy")
        return report
    bad_resources = _pages_with_bad_resources(pdf)
    if bad_resources:
        listed = ", ".join(str(n) for n in bad_resources[:5]) + (" ..." if len(bad_resources) > 5 else "")
        report.problems.append(f"is damaged (resources of page {listed} are malformed): get a new copy")
        return report
    damaged_pages: list[int] = []
    for number, page in enumerate(pdf.pages, start=1):
        try:
            if pikepdf.parse_content_stream(page, _TEXT_OPERATORS) or _forms_have_text(page):
                report.pages_with_text += 1
        except (pikepdf.PdfError, RuntimeError):  # PdfParsingError is a PdfError
            damaged_pages.append(number)
    if damaged_pages:
        listed = ", ".join(str(n) for n in damaged_pages[:5]) + (" ..." if len(damaged_pages) > 5 else "")
        report.problems.append(f"is damaged (content of page {listed} cannot be read): get a new copy")
    try:
        report.findings, bombs = _scan(pdf, max_pixels)
    except (pikepdf.PdfError, RecursionError):
        report.problems.append("is damaged (its objects cannot be read): get a new copy")
        return report
    if bombs:
        report.problems.append(
            f"holds an image of more than {max_pixels:,} pixels (possible decompression bomb): "
            "rescan at a lower resolution"
        )
    if report.owner_encrypted:
        report.fixable.append("is encrypted (owner password with restrictions): ask for an unprotected copy")
    if report.findings:
        listed = "; ".join(str(f) for f in _unique(report.findings))
        report.fixable.append(f"carries active content, which is not allowed in a packet: {listed}")
    return report


def reopen_pdf(data: bytes, report: PdfReport) -> pikepdf.Pdf:
    """Open an inspected PDF again, the way inspection opened it, to rewrite it (sanitise or repair)."""
    return pikepdf.open(io.BytesIO(data), attempt_recovery=report.repaired)


def _reads_the_same_when_bundled(data: bytes, pages: int) -> bool:
    """The bundle opens evidence with xref recovery: refuse a file that then becomes another document."""
    try:
        with pikepdf.open(io.BytesIO(data)) as again:
            return len(again.pages) == pages and "/Root" in again.trailer
    except (pikepdf.PdfError, ValueError, RecursionError):
        return False


def _pages_with_bad_resources(pdf: pikepdf.Pdf) -> list[int]:
    """Pages whose /Resources (or its /Font, /XObject) is not a dictionary: the stamp must add to them."""
    bad = []
    for number, page in enumerate(pdf.pages, start=1):
        try:
            resources = page.obj.get("/Resources")
            if resources is None:
                continue
            if not isinstance(resources, pikepdf.Dictionary):
                bad.append(number)
                continue
            for name in ("/Font", "/XObject", "/ExtGState"):
                entry = resources.get(name)
                if entry is not None and not isinstance(entry, pikepdf.Dictionary):
                    bad.append(number)
                    break
        except (pikepdf.PdfError, ValueError, RecursionError):
            bad.append(number)
    return bad


def _unique(findings: list[Finding]) -> list[Finding]:
    return list(dict.fromkeys(findings))


def _forms_have_text(page: pikepdf.Page) -> bool:
    """Whether a Form XObject the page uses shows text (scanners rarely, office exports often do this)."""
    resources = page.obj.get("/Resources")
    xobjects = resources.get("/XObject") if isinstance(resources, pikepdf.Dictionary) else None
    if not isinstance(xobjects, pikepdf.Dictionary):
        return False
    for _, xobj in xobjects.items():
        if isinstance(xobj, pikepdf.Stream) and xobj.get("/Subtype") == "/Form":
            if pikepdf.parse_content_stream(xobj, _TEXT_OPERATORS):
                return True
    return False


_PLACE_OF_KEY = {
    "/OpenAction": "run on opening, OpenAction",
    "/Names": "document-level",
    "/AcroForm": "interactive form",
    "/Outlines": "bookmarks",
}


def _walk(root: pikepdf.Object, page_of: dict[tuple[int, int], int]) -> Iterator[tuple[pikepdf.Dictionary, str]]:
    """Every dictionary reachable from root (each indirect object once), with where it sits."""
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[pikepdf.Object, str]] = [(root, "document")]
    while stack:
        obj, where = stack.pop()
        if obj.is_indirect:
            key = obj.objgen
            if key in seen:
                continue
            seen.add(key)
            if key in page_of:
                where = f"page {page_of[key]}"
        if isinstance(obj, pikepdf.Stream):
            obj = obj.stream_dict
        if isinstance(obj, pikepdf.Dictionary):
            yield obj, where
            for k, value in obj.items():
                if k in ("/Parent", "/P"):  # back-pointers: reached from above anyway
                    continue
                if isinstance(value, (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)):
                    place = where
                    if k in _PLACE_OF_KEY and where == "document":
                        place = _PLACE_OF_KEY[k]
                    elif k == "/AA":
                        place = f"automatic action, {where}"
                    stack.append((value, place))
        elif isinstance(obj, pikepdf.Array):
            for value in obj:
                if isinstance(value, (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)):
                    stack.append((value, where))


def _page_numbers(pdf: pikepdf.Pdf) -> dict[tuple[int, int], int]:
    return {page.obj.objgen: n for n, page in enumerate(pdf.pages, start=1)}


def _scan(pdf: pikepdf.Pdf, max_pixels: int) -> tuple[list[Finding], bool]:
    findings: list[Finding] = []
    bomb = False
    for d, where in _walk(pdf.trailer, _page_numbers(pdf)):
        findings.extend(Finding(what, where) for what in _dict_findings(d))
        if d.get("/Subtype") == "/Image":
            w, h = d.get("/Width"), d.get("/Height")
            if isinstance(w, int) and isinstance(h, int) and w * h > max_pixels:
                bomb = True
    return findings, bomb


def _dict_findings(d: pikepdf.Dictionary) -> Iterator[str]:
    action = d.get("/S")
    if isinstance(action, pikepdf.Name) and str(action) in _DANGEROUS_ACTIONS:
        yield _DANGEROUS_ACTIONS[str(action)]
    elif "/JS" in d:
        yield "JavaScript"
    if "/EmbeddedFiles" in d:
        yield "embedded files"
        return
    if "/XFA" in d:
        yield "an XFA form (may hold scripts)"
    if d.get("/Type") == "/EmbeddedFile" or "/EF" in d:
        yield "embedded files"
    subtype = d.get("/Subtype")
    if isinstance(subtype, pikepdf.Name) and str(subtype) in _DANGEROUS_ANNOTS:
        yield _DANGEROUS_ANNOTS[str(subtype)]


def sanitise_pdf(pdf: pikepdf.Pdf) -> list[str]:
    """Remove active content in place; returns one line per kind of change made (for the manifest)."""
    changes: list[str] = []
    root = pdf.Root
    if pdf.is_encrypted:
        changes.append("removed encryption (owner-password restrictions)")
    if "/OpenAction" in root and not _is_plain_goto(root.OpenAction):
        del root["/OpenAction"]
        changes.append("removed the document open action")
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary):
        for key, label in (("/JavaScript", "document-level JavaScript"), ("/EmbeddedFiles", "embedded files")):
            if key in names:
                del names[key]
                changes.append(f"removed {label}")
    acroform = root.get("/AcroForm")
    if isinstance(acroform, pikepdf.Dictionary) and "/XFA" in acroform:
        del acroform["/XFA"]
        changes.append("removed the XFA form")
    for key in ("/AA",):
        if key in root:
            del root[key]
            changes.append("removed document additional actions")
    for number, page in enumerate(pdf.pages, start=1):
        changes.extend(_sanitise_page(page, number))
    # Whatever is left (actions nested in outlines, forms or annotations) is stripped generically.
    for d, where in list(_walk(pdf.trailer, _page_numbers(pdf))):
        for key in ("/A", "/AA", "/JS", "/Next", "/EF"):
            if key in d and (key != "/A" or not _is_plain_goto(d.get(key))):
                del d[key]
                changes.append(f"removed an action or attachment ({where})")
    return list(dict.fromkeys(changes))


def _is_plain_goto(action: object) -> bool:
    if isinstance(action, pikepdf.Array):  # a destination, not an action
        return True
    if isinstance(action, pikepdf.Dictionary):
        return str(action.get("/S", "")) in ("/GoTo", "/URI") and "/Next" not in action
    return False


def _sanitise_page(page: pikepdf.Page, number: int) -> list[str]:
    changes: list[str] = []
    obj = page.obj
    if "/AA" in obj:
        del obj["/AA"]
        changes.append(f"removed page actions (page {number})")
    annots = obj.get("/Annots")
    if isinstance(annots, pikepdf.Array):
        kept = pikepdf.Array()
        for annot in annots:
            subtype = str(annot.get("/Subtype", "")) if isinstance(annot, pikepdf.Dictionary) else ""
            if subtype in _DANGEROUS_ANNOTS:
                changes.append(f"removed {_DANGEROUS_ANNOTS[subtype]} (page {number})")
                continue
            kept.append(annot)
        if len(kept) != len(annots):
            obj["/Annots"] = kept
    return changes
