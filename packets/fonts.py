"""Embedded Unicode fonts for the words packet.pdf draws itself (index, stamp, blank-page notes).

DejaVu Sans (Debian's fonts-dejavu-core) is subset to the characters used and embedded as a
CIDFontType2 font with Identity-H encoding and a ToUnicode map: every script the letters use
(Cyrillic included) prints, text stays searchable, and the fonts PDF/A requires to be embedded are.
Subsets are deterministic (same characters, same bytes; the font's own timestamps are kept).
"""

from __future__ import annotations

import hashlib
import io
from functools import cache
from pathlib import Path
from typing import Any

import pikepdf
from fontTools import subset
from fontTools.ttLib import TTFont
from pikepdf import Name

from core.errors import ConfigError

_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
FILES = {"R": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}


@cache
def _font_path(filename: str) -> Path:
    for d in _DIRS:
        if (d / filename).is_file():
            return d / filename
    raise ConfigError(
        f"font {filename} not found: packet.pdf cannot embed its fonts",
        hint="install Debian's fonts-dejavu-core (make setup does it)",
    )


@cache
def _metrics(filename: str) -> tuple[dict[int, int], dict[int, int], int, tuple[int, ...], int, int, int]:
    """cmap (code point -> glyph id), advance widths by glyph id, units per em, bbox, ascent, descent, cap height."""
    font = TTFont(str(_font_path(filename)), recalcTimestamp=False, lazy=True)
    order = font.getGlyphOrder()
    gid = {name: i for i, name in enumerate(order)}
    cmap = {cp: gid[name] for cp, name in font.getBestCmap().items()}
    hmtx = font["hmtx"].metrics
    widths = {gid[name]: adv for name, (adv, _) in hmtx.items()}
    head, os2 = font["head"], font["OS/2"]
    bbox = (head.xMin, head.yMin, head.xMax, head.yMax)
    cap = getattr(os2, "sCapHeight", 0) or os2.sTypoAscender
    return cmap, widths, head.unitsPerEm, bbox, os2.sTypoAscender, os2.sTypoDescender, cap


class EmbeddedFont:
    """One font of the bundle: measures and encodes text, then embeds the subset it was used for."""

    def __init__(self, pdf: pikepdf.Pdf, key: str) -> None:
        self.filename = FILES[key]
        self._cmap, self._widths, self._upem, *_ = _metrics(self.filename)
        self._used: set[int] = set()
        self.obj = pdf.make_indirect(pikepdf.Dictionary(Type=Name.Font, Subtype=Name.Type0))
        self._pdf = pdf

    def width(self, text: str, size: float) -> float:
        """The advance width of text at size, in points."""
        total = sum(self._widths.get(self._cmap.get(ord(ch), 0), 0) for ch in text)
        return total * size / self._upem

    def fit(self, text: str, size: float, max_width: float) -> str:
        """text, shortened with an ellipsis when wider than max_width."""
        if self.width(text, size) <= max_width:
            return text
        while text and self.width(text + "…", size) > max_width:
            text = text[:-1]
        return text.rstrip() + "…"

    def encode(self, text: str) -> bytes:
        """A PDF hex string of glyph ids for text (Identity-H); records the characters for the subset."""
        gids = []
        for ch in text:
            cp = ord(ch)
            self._used.add(cp)
            gids.append(self._cmap.get(cp, 0))
        return b"<" + "".join(f"{g:04X}" for g in gids).encode() + b">"

    def finish(self) -> None:
        """Embed the subset of the characters encoded so far (call once, after the last encode)."""
        cmap, widths, upem, bbox, ascent, descent, cap = _metrics(self.filename)
        used = sorted(cp for cp in self._used if cp in cmap) or [0x20]
        data = _subset(self.filename, tuple(used))
        tag = "".join(chr(65 + b % 26) for b in hashlib.sha256(data).digest()[:6])
        base = Name("/" + tag + "+" + Path(self.filename).stem)
        scale = 1000 / upem
        pdf = self._pdf
        descriptor = pikepdf.Dictionary(
            Type=Name.FontDescriptor,
            FontName=base,
            Flags=32,
            FontBBox=[round(v * scale) for v in bbox],
            ItalicAngle=0,
            Ascent=round(ascent * scale),
            Descent=round(descent * scale),
            CapHeight=round(cap * scale),
            StemV=80,
            FontFile2=pdf.make_stream(data),
        )
        gids = sorted({cmap[cp] for cp in used})
        entries: list[Any] = []
        for g in gids:
            entries += [g, [round(widths.get(g, 0) * scale)]]
        w = pikepdf.Array(entries)
        cid = pikepdf.Dictionary(
            Type=Name.Font,
            Subtype=Name.CIDFontType2,
            BaseFont=base,
            CIDSystemInfo=pikepdf.Dictionary(
                Registry=pikepdf.String("Adobe"), Ordering=pikepdf.String("Identity"), Supplement=0
            ),
            FontDescriptor=pdf.make_indirect(descriptor),
            CIDToGIDMap=Name.Identity,
            DW=1000,
            W=w,
        )
        self.obj.BaseFont = base
        self.obj.Encoding = Name("/Identity-H")
        self.obj.DescendantFonts = pikepdf.Array([pdf.make_indirect(cid)])
        self.obj.ToUnicode = pdf.make_stream(_to_unicode({cmap[cp]: cp for cp in used}))


@cache
def _subset(filename: str, codepoints: tuple[int, ...]) -> bytes:
    options = subset.Options()
    options.retain_gids = True  # glyph ids in the content streams stay those of the full font
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.recalc_timestamp = False
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "kern", "FFTM"]
    font = TTFont(str(_font_path(filename)), recalcTimestamp=False)
    sub = subset.Subsetter(options=options)
    sub.populate(unicodes=codepoints)
    sub.subset(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _to_unicode(gid_to_cp: dict[int, int]) -> bytes:
    lines = [
        "/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        "/CMapName /Adobe-Identity-UCS def /CMapType 2 def",
        "1 begincodespacerange <0000> <FFFF> endcodespacerange",
    ]
    items = sorted(gid_to_cp.items())
    for start in range(0, len(items), 100):
        chunk = items[start : start + 100]
        lines.append(f"{len(chunk)} beginbfchar")
        for gid, cp in chunk:
            utf16 = chr(cp).encode("utf-16-be").hex().upper()
            lines.append(f"<{gid:04X}> <{utf16}>")
        lines.append("endbfchar")
    lines.append("endcmap CMapName currentdict /CMap defineresource pop end end")
    return "\n".join(lines).encode("ascii")


def bundle_fonts(pdf: pikepdf.Pdf) -> dict[str, EmbeddedFont]:
    """The regular (R) and bold (B) embedded fonts of one bundle; call finish() on each before saving."""
    return {key: EmbeddedFont(pdf, key) for key in FILES}
