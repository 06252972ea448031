"""What a file really is, from its first bytes (never from its name)."""

from __future__ import annotations

from pathlib import PurePosixPath

PDF = "PDF"
JPEG = "JPEG"
PNG = "PNG"
TIFF = "TIFF"
GIF = "GIF"
BMP = "BMP"
WEBP = "WEBP"
JPEG2000 = "JPEG 2000"

IMAGE_TYPES = frozenset({JPEG, PNG, TIFF, GIF, BMP, WEBP, JPEG2000})
ACCEPTED_TYPES = IMAGE_TYPES | {PDF}

_EXTENSIONS = {
    ".pdf": PDF,
    ".jpg": JPEG,
    ".jpeg": JPEG,
    ".jpe": JPEG,
    ".png": PNG,
    ".tif": TIFF,
    ".tiff": TIFF,
    ".gif": GIF,
    ".bmp": BMP,
    ".webp": WEBP,
    ".jp2": JPEG2000,
    ".jpx": JPEG2000,
}

_OTHER_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (e.g. DOCX, ODT)"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Office document (DOC, XLS)"),
    (b"{\\rtf", "RTF text"),
    (b"\x7fELF", "a program (ELF)"),
    (b"MZ", "a Windows program"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"<?xml", "XML text"),
)


def content_type(data: bytes) -> str | None:
    """The accepted type the bytes are (PDF, JPEG, PNG, ...), or None."""
    head = data[:16]
    if data[:1024].lstrip(b"\x00\t\r\n ").startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return TIFF
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head.startswith(b"BM"):
        return BMP
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n") or head.startswith(b"\xff\x4f\xff\x51"):
        return JPEG2000
    return None


def describe_unknown(data: bytes) -> str:
    """A short, value-free description of bytes that are neither a PDF nor an image."""
    for signature, what in _OTHER_SIGNATURES:
        if data.startswith(signature):
            return what
    low = data[:512].lstrip().lower()
    if low.startswith((b"<!doctype html", b"<html")):
        return "an HTML page"
    if low and all(32 <= b < 127 or b in (9, 10, 13) for b in data[:512]):
        return "plain text"
    return "an unknown format"


def type_named_by(file_name: str) -> str | None:
    """The type a file name claims by its extension, or None when it has no known extension."""
    return _EXTENSIONS.get(PurePosixPath(file_name).suffix.lower())


def extension_of(file_name: str) -> str:
    """The extension as written (lower case, with the dot), or '' when there is none."""
    return PurePosixPath(file_name).suffix.lower()
