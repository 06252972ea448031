"""The page stamp: case id, packet id, the exhibit number and `page N / M` at the foot of every page.

The fixed part is ONE shared Form XObject; each page adds only a few bytes (its number),
placed upright whatever the page's /Rotate and box origin.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

import pikepdf

from packets.fonts import EmbeddedFont
from packets.pdftext import BOLD, REGULAR, pdf_string, text_width, winansi

FONT_SIZE = 7.5
_PAD = 3.0
_BOTTOM = 6.0  # points from the displayed bottom edge to the stamp box
_STAMP = pikepdf.Name("/DossierStamp")
_FONT = pikepdf.Name("/DossierStampFont")


def stamp_texts(case_label: str, case_id: str, packet_label: str, packet_id: str) -> str:
    """The fixed part of the stamp, e.g. 'Dossier K7Q2-M9XD · Paquet P-0F3K… · '."""
    return f"{case_label} {case_id} · {packet_label} {packet_id} · "


def _core_font(pdf: pikepdf.Pdf, name: str) -> pikepdf.Object:
    return pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.Type1,
            BaseFont=pikepdf.Name("/" + name),
            Encoding=pikepdf.Name.WinAnsiEncoding,
        )
    )


def _num(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".") or "0"


def stamp_pages(
    pdf: pikepdf.Pdf,
    fixed_text: str,
    *,
    page_word: str = "page",
    labels: Sequence[str] | None = None,
    fonts: Mapping[str, EmbeddedFont] | None = None,
) -> None:
    """Stamp every page with the fixed text, then its label (e.g. 'Pièce 6.1', may be '') and 'page N / M'.

    With `fonts` (packets.fonts, embedded, any script) the stamp draws with them; otherwise with the
    PDF core fonts (Latin script only).
    """
    total = len(pdf.pages)
    variable = [
        ((labels[i] + " · ") if labels and i < len(labels) and labels[i] else "") + f"{page_word} {i + 1} / {total}"
        for i in range(total)
    ]
    if fonts is None:
        fixed_text = winansi(fixed_text)
        variable = [winansi(v) for v in variable]
        font, bold = _core_font(pdf, REGULAR), _core_font(pdf, BOLD)
        fixed_w = text_width(fixed_text, FONT_SIZE, REGULAR)
        widest_number = max((text_width(v, FONT_SIZE, BOLD) for v in variable), default=0.0)
        encode_fixed, encode_var = pdf_string, pdf_string
    else:
        font, bold = fonts["R"].obj, fonts["B"].obj
        fixed_w = fonts["R"].width(fixed_text, FONT_SIZE)
        widest_number = max((fonts["B"].width(v, FONT_SIZE) for v in variable), default=0.0)
        encode_fixed, encode_var = fonts["R"].encode, fonts["B"].encode
    box_w = fixed_w + widest_number + 2 * _PAD
    box_h = FONT_SIZE + 2 * _PAD
    form = pdf.make_stream(
        b"q 1 g 0 0 "
        + f"{_num(box_w)} {_num(box_h)}".encode()
        + b" re f Q BT 0.15 g /F "
        + _num(FONT_SIZE).encode()
        + b" Tf "
        + f"{_num(_PAD)} {_num(_PAD + 1.2)}".encode()
        + b" Td "
        + encode_fixed(fixed_text)
        + b" Tj ET",
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Form,
        BBox=[0, 0, Decimal(_num(box_w)), Decimal(_num(box_h))],
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F=font)),
    )
    opening = pdf.make_stream(b"q\n")  # shared by every page: isolates the page's own graphics state
    for number, page in enumerate(pdf.pages, start=1):
        matrix, width = _display_matrix(page)
        scale = min(1.0, (width - 4) / box_w) if width > 4 else 1.0
        left = (width - box_w * scale) / 2
        stamp_name, font_name = _add_resources(page, form, bold)
        ops = (
            f"Q q {' '.join(_num(v) for v in matrix)} cm 1 0 0 1 {_num(left)} {_num(_BOTTOM)} cm "
            f"{_num(scale)} 0 0 {_num(scale)} 0 0 cm {stamp_name} Do "
            f"BT 0.15 g {font_name} {_num(FONT_SIZE)} Tf {_num(_PAD + fixed_w)} {_num(_PAD + 1.2)} Td "
        ).encode()
        ops += encode_var(variable[number - 1]) + b" Tj ET Q\n"
        contents = page.obj.get("/Contents")
        parts = pikepdf.Array([opening])
        if isinstance(contents, pikepdf.Array):
            parts.extend(contents)
        elif contents is not None:
            parts.append(contents)
        parts.append(pdf.make_stream(ops))
        page.obj.Contents = parts


def _add_resources(page: pikepdf.Page, form: pikepdf.Object, font: pikepdf.Object) -> tuple[str, str]:
    """Register the stamp and its font in the page's resources under names the page does not use."""
    obj = page.obj
    if "/Resources" not in obj:
        obj.Resources = pikepdf.Dictionary()
    res = obj.Resources
    names = []
    for key, base, value in (("/XObject", _STAMP, form), ("/Font", _FONT, font)):
        if key not in res:
            res[key] = pikepdf.Dictionary()
        table = res[key]
        name, n = str(base), 0
        while name in table and table[name].objgen != value.objgen:  # e.g. the evidence is itself a packet
            n += 1
            name = f"{base}{n}"
        table[name] = value
        names.append(name)
    return names[0], names[1]


def _box(page: pikepdf.Page) -> tuple[float, float, float, float]:
    box = page.obj.get("/CropBox") or page.obj.get("/MediaBox") or [0, 0, 595, 842]
    x0, y0, x1, y1 = (float(v) for v in box)
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _display_matrix(page: pikepdf.Page) -> tuple[tuple[float, ...], float]:
    """The matrix from displayed-page coordinates to user space, and the displayed width."""
    x0, y0, x1, y1 = _box(page)
    rotate = int(page.obj.get("/Rotate", 0)) % 360
    if rotate == 90:
        return (0, 1, -1, 0, x1, y0), y1 - y0
    if rotate == 180:
        return (-1, 0, 0, -1, x1, y1), x1 - x0
    if rotate == 270:
        return (0, -1, 1, 0, x0, y1), y1 - y0
    return (1, 0, 0, 1, x0, y0), x1 - x0
