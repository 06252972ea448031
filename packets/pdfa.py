"""PDF/A-2b identification for packet.pdf: XMP metadata, an sRGB output intent, printable annotations.

What this gives: the parts of PDF/A-2b that the bundle itself controls (identification in XMP with
pdfaid:part=2 and conformance=B, XMP matching the document information dictionary, an embedded
sRGB ICC output intent, a file identifier, every annotation printable, no encryption, no JavaScript).
The bundle's own words (index, stamp) use embedded font subsets (packets/fonts.py), the letters'
fonts are embedded by LibreOffice. What it cannot promise: evidence PDFs may carry their own
non-conforming content (unembedded fonts, transparency without a blending space, device colours,
PDF 2.0 features), and LibreOffice's letters are exported as plain PDF, not PDF/A; only a
validator such as veraPDF can say that a given packet fully conforms, and veraPDF is not
available on this machine.
"""

from __future__ import annotations

import struct
from datetime import date
from functools import cache
from xml.sax.saxutils import escape

import pikepdf
from pikepdf import Name
from PIL import ImageCms

SRGB = "sRGB IEC61966-2.1"
_EPOCH = date(1980, 1, 1)


@cache
def srgb_icc() -> bytes:
    """An sRGB ICC profile from LittleCMS (via Pillow), with its creation date fixed so builds stay byte-identical."""
    data = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    data[24:36] = struct.pack(">6H", 2024, 1, 1, 0, 0, 0)  # ICC header: date and time of creation
    data[84:100] = bytes(16)  # profile id: zero means "not computed", valid for any header
    return bytes(data)


def _iso(day: date | None) -> str:
    return f"{(day or _EPOCH).isoformat()}T00:00:00Z"


def xmp_packet(*, title: str, language: str, producer: str, day: date | None) -> bytes:
    """The XMP metadata stream of a PDF/A-2b file (fixed dates: the build's day)."""
    when = _iso(day)
    t, p, lang = escape(title), escape(producer), escape(language or "x-default")
    xml = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/"
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{t}</rdf:li></rdf:Alt></dc:title>
   <dc:language><rdf:Bag><rdf:li>{lang}</rdf:li></rdf:Bag></dc:language>
   <xmp:CreateDate>{when}</xmp:CreateDate>
   <xmp:ModifyDate>{when}</xmp:ModifyDate>
   <xmp:MetadataDate>{when}</xmp:MetadataDate>
   <xmp:CreatorTool>{p}</xmp:CreatorTool>
   <pdf:Producer>{p}</pdf:Producer>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>"""
    return xml.encode("utf-8")


def make_pdfa(pdf: pikepdf.Pdf, *, title: str, language: str, producer: str, day: date | None) -> None:
    """Mark pdf as PDF/A-2b: XMP identification, sRGB output intent, printable annotations, no scripts."""
    root = pdf.Root
    meta = pdf.make_stream(xmp_packet(title=title, language=language, producer=producer, day=day))
    meta.Type = Name.Metadata
    meta.Subtype = Name.XML
    root.Metadata = meta
    icc = pdf.make_stream(srgb_icc())
    icc.N = 3
    root.OutputIntents = pikepdf.Array(
        [
            pdf.make_indirect(
                pikepdf.Dictionary(
                    Type=Name.OutputIntent,
                    S=Name.GTS_PDFA1,
                    OutputConditionIdentifier=pikepdf.String(SRGB),
                    Info=pikepdf.String(SRGB),
                    RegistryName=pikepdf.String("http://www.color.org"),
                    DestOutputProfile=icc,
                )
            )
        ]
    )
    for key in ("/OpenAction", "/AA"):
        if key in root:
            del root[key]
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary) and "/JavaScript" in names:
        del names["/JavaScript"]
    for page in pdf.pages:
        annots = page.obj.get("/Annots")
        if not isinstance(annots, pikepdf.Array):
            continue
        for annot in annots:
            if isinstance(annot, pikepdf.Dictionary):
                flags = int(annot.get("/F", 0))
                annot.F = (flags | 4) & ~(1 | 2 | 32)  # Print on; Invisible, Hidden, NoView off (PDF/A 6.3.2)
