"""Text drawn by the bundle itself (index, stamp): the PDF core fonts, WinAnsi encoding, widths.

Core fonts need no embedding, so the index and the stamp are byte-identical on every machine.
Characters outside WinAnsi (Cyrillic titles, rare Latin letters) are transliterated, never dropped.
"""

from __future__ import annotations

import unicodedata
from functools import cache

import iuliia

REGULAR = "Helvetica"
BOLD = "Helvetica-Bold"
_DEFAULT_WIDTH = 556.0


@cache
def _widths(font: str) -> dict[str, float]:
    try:  # pypdf ships Adobe's core-font metrics; layout falls back to an average width without them.
        from pypdf._codecs.core_font_metrics import CORE_FONT_METRICS
    except ImportError:  # pragma: no cover - only if pypdf reorganises its modules
        return {}
    return dict(CORE_FONT_METRICS[font].character_widths)


def winansi(text: str) -> str:
    """Text the core fonts can show: Cyrillic transliterated (ICAO 9303), other letters de-accented."""
    out: list[str] = []
    for ch in text:
        if _encodable(ch):
            out.append(ch)
            continue
        if "\u0400" <= ch <= "\u04ff":
            out.append(iuliia.ICAO_DOC_9303.translate(ch))
            continue
        base = "".join(c for c in unicodedata.normalize("NFKD", ch) if _encodable(c) and not unicodedata.combining(c))
        out.append(base or "?")
    return "".join(out)


def _encodable(ch: str) -> bool:
    try:
        ch.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return ch >= " " or ch == "\t"


def text_width(text: str, size: float, font: str = REGULAR) -> float:
    """Width in points of already-WinAnsi text at a font size."""
    widths = _widths(font)
    default = widths.get("default", _DEFAULT_WIDTH)
    return sum(widths.get(ch, default) for ch in text) * size / 1000.0


def fit(text: str, size: float, max_width: float, font: str = REGULAR) -> str:
    """Shorten text with an ellipsis so it fits a width (titles in the index never wrap)."""
    text = winansi(text)
    if text_width(text, size, font) <= max_width:
        return text
    ell = "…"
    while text and text_width(text + ell, size, font) > max_width:
        text = text[:-1]
    return text.rstrip() + ell


def pdf_string(text: str) -> bytes:
    """A PDF literal string (with parentheses) for WinAnsi text."""
    raw = winansi(text).encode("cp1252")
    raw = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + raw + b")"
