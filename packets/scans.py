"""Scans made usable: phone photos turned upright, scans given a text layer by OCRmyPDF and Tesseract.

OCRmyPDF runs in its own process with its temporary folder inside a private 0700 scratch folder
(in memory under /dev/shm when possible) that is removed on every exit path, so no plaintext page
outlives the call. The caller keeps the original bytes (and their hash); this module only returns
the new ones.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from dataclasses import dataclass

import img2pdf
from PIL import Image, ImageOps

from core.errors import DomainFailure
from core.hashing import sha256_hex
from packets.mrz import MachineZone, find_zone
from packets.scratch import ScratchDir
from packets.sniff import IMAGE_TYPES, PDF, content_type

__all__ = ["OCR_LANGUAGES", "Searchable", "make_searchable", "read_zone", "upright_image"]

# Tesseract's names for Russian, French, German and English (Debian's tesseract-ocr-rus, -fra, -deu, -eng).
OCR_LANGUAGES = ("rus", "fra", "deu", "eng")
OCR_TIMEOUT_S = 600
_PHOTO_DPI = 200  # a phone photo has no real DPI: this sizes an A4-ish page sensibly


@dataclass(frozen=True)
class Searchable:
    """A scan with a text layer: the new PDF, its recognised text, and what it came from."""

    pdf: bytes
    text: str
    pages: int
    seconds: float
    original_sha256: str


def upright_image(data: bytes) -> bytes:
    """A photo turned the way its EXIF orientation says (and the EXIF, with any GPS position, dropped)."""
    with Image.open(io.BytesIO(data)) as im:
        fmt = im.format or "PNG"
        turned = ImageOps.exif_transpose(im)
        if turned.mode not in ("RGB", "L"):
            turned = turned.convert("RGB")
        out = io.BytesIO()
        if fmt == "JPEG":
            turned.save(out, "JPEG", quality=92)
        else:
            turned.save(out, "PNG")
        return out.getvalue()


def _as_pdf(data: bytes) -> bytes:
    """A PDF of the scan: an image (turned upright) becomes a one-page PDF, a PDF stays as it is."""
    ctype = content_type(data)
    if ctype == PDF:
        return data
    if ctype in IMAGE_TYPES:
        upright = upright_image(data)
        layout = img2pdf.get_fixed_dpi_layout_fun((_PHOTO_DPI, _PHOTO_DPI))
        pdf = img2pdf.convert(upright, layout_fun=layout, nodate=True)
        assert isinstance(pdf, bytes)
        return pdf
    raise DomainFailure("only PDFs and images can be given a text layer", hint="export the document as PDF")


def make_searchable(data: bytes, languages: tuple[str, ...] = OCR_LANGUAGES, *, what: str = "scan") -> Searchable:
    """OCR a scan (PDF or photo): pages deskewed and rotated upright, a text layer added; the text returned.

    `what` names the document in errors (an evidence id, never a file name).
    """
    source = _as_pdf(data)
    scratch = ScratchDir()
    started = time.perf_counter()
    try:
        work = scratch.path
        (work / "tmp").mkdir(mode=0o700)
        src, out, text = work / "in.pdf", work / "out.pdf", work / "text.txt"
        src.write_bytes(source)
        args = [
            sys.executable, "-m", "ocrmypdf",
            "--language", "+".join(languages),
            "--rotate-pages", "--deskew",
            "--skip-text",  # pages that already have text keep it
            "--output-type", "pdf",
            "--optimize", "0",
            "--jobs", "1",
            "--quiet",
            "--sidecar", str(text),
            str(src), str(out),
        ]  # fmt: skip
        env = {**os.environ, "TMPDIR": str(work / "tmp"), "OMP_THREAD_LIMIT": "1"}
        proc = subprocess.Popen(  # fixed argument list, no shell
            args, env=env, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
        scratch.started(proc.pid)
        try:
            _stdout, stderr = proc.communicate(timeout=OCR_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise DomainFailure(
                f"{what}: text recognition took longer than {OCR_TIMEOUT_S} s", hint="upload it without OCR"
            ) from None
        finally:
            scratch.ended(proc.pid)
        if proc.returncode != 0 or not out.is_file():
            reason = _ocr_reason(proc.returncode, stderr)
            raise DomainFailure(f"{what}: text recognition failed ({reason})", hint="upload it without OCR")
        pdf = out.read_bytes()
        recognised = text.read_text(encoding="utf-8", errors="replace") if text.is_file() else ""
    finally:
        scratch.remove()
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as doc:
        pages = len(doc.pages)
    return Searchable(pdf, recognised, pages, time.perf_counter() - started, sha256_hex(data))


_MRZ_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"


def read_zone(data: bytes, *, what: str = "scan") -> MachineZone | None:
    """The machine-readable zone of a passport or ID scan (photo or PDF), read by Tesseract limited to
    the zone's characters; None when there is none whose check digits agree."""
    images = _page_images(data)
    scratch = ScratchDir()
    try:
        for n, png in enumerate(images):
            path = scratch.path / f"page-{n}.png"
            path.write_bytes(png)
            args = ["tesseract", str(path), "stdout", "--psm", "6", "-l", "eng",
                    "-c", f"tessedit_char_whitelist={_MRZ_CHARS}"]  # fmt: skip
            env = {**os.environ, "TMPDIR": str(scratch.path), "OMP_THREAD_LIMIT": "1"}
            done = subprocess.run(
                args, env=env, cwd=scratch.path, capture_output=True, timeout=OCR_TIMEOUT_S, check=False
            )
            path.unlink()
            if done.returncode != 0:
                raise DomainFailure(f"{what}: the machine-readable zone could not be read (tesseract failed)")
            zone = find_zone(done.stdout.decode("utf-8", "replace"))
            if zone is not None:
                return zone
    finally:
        scratch.remove()
    return None


def _page_images(data: bytes, max_pages: int = 2) -> list[bytes]:
    """PNG images of a scan's first pages (a photo: itself, upright), for the zone reader."""
    ctype = content_type(data)
    if ctype in IMAGE_TYPES:
        with Image.open(io.BytesIO(upright_image(data))) as im:
            out = io.BytesIO()
            im.convert("L").save(out, "PNG")
            return [out.getvalue()]
    if ctype != PDF:
        raise DomainFailure("only PDFs and images have a machine-readable zone to read")
    import pypdfium2

    pages: list[bytes] = []
    doc = pypdfium2.PdfDocument(data)
    try:
        for i in range(min(len(doc), max_pages)):
            bitmap = doc[i].render(scale=300 / 72, grayscale=True)
            out = io.BytesIO()
            bitmap.to_pil().save(out, "PNG")
            pages.append(out.getvalue())
    finally:
        doc.close()
    return pages


def _ocr_reason(code: int | None, stderr: bytes) -> str:
    """OCRmyPDF's exit code in words (its messages are not repeated: they may quote page text)."""
    words = {
        2: "bad input file",
        3: "a needed program (tesseract, ghostscript) is missing",
        6: "the PDF already has text",
        7: "a helper program failed",
        8: "the PDF is encrypted",
        9: "the PDF is invalid",
    }
    return words.get(code or 0, f"exit code {code}")
