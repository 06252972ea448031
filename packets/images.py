"""Image evidence: checked without trusting its header sizes, then placed on A4 pages.

JPEGs are embedded unchanged (img2pdf) with their EXIF orientation applied as a page rotation;
other images are converted losslessly. Pillow's pixel limit is set here, explicitly.
"""

from __future__ import annotations

import io
import warnings

import img2pdf
from PIL import Image, ImageOps, UnidentifiedImageError

from packets.model import DEFAULT_MAX_IMAGE_PIXELS
from packets.pdfnorm import normalise_pdf
from packets.sniff import GIF, JPEG

# Pillow warns above this and refuses above twice this; our own, per-build limit is checked first.
Image.MAX_IMAGE_PIXELS = DEFAULT_MAX_IMAGE_PIXELS

A4 = (img2pdf.mm_to_pt(210), img2pdf.mm_to_pt(297))
_BORDER = (img2pdf.mm_to_pt(12), img2pdf.mm_to_pt(14))
_LAYOUT = img2pdf.get_layout_fun(pagesize=A4, border=_BORDER, fit=img2pdf.FitMode.shrink, auto_orient=True)
MAX_FRAMES = 200
_MIRRORED = (2, 4, 5, 7)


def inspect_image(data: bytes, ctype: str, max_pixels: int) -> list[str]:
    """Problems that keep an image out of a packet (unreadable, truncated, too many pixels)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            frames = getattr(im, "n_frames", 1)
            width, height = im.size
            if width * height > max_pixels:
                return [_bomb(width, height, max_pixels)]
            if frames > MAX_FRAMES and ctype != GIF:
                return [f"has {frames} pages or frames (at most {MAX_FRAMES}): split it"]
            if ctype == JPEG:
                im.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            im.load()
    except Image.DecompressionBombError:
        return [f"declares more than {max_pixels:,} pixels (possible decompression bomb): rescan at a lower resolution"]
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        return ["is damaged or truncated and cannot be read as an image: get a new copy"]
    return []


def _bomb(width: int, height: int, max_pixels: int) -> str:
    return (
        f"is {width} x {height} pixels, more than the limit of {max_pixels:,} "
        "(possible decompression bomb): rescan at a lower resolution"
    )


def image_to_pdf(data: bytes, ctype: str) -> tuple[bytes, list[str]]:
    """A PDF of the image fitted on A4 pages, and notes on any conversion that was needed."""
    notes: list[str] = []
    source = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        im = Image.open(io.BytesIO(data))
        orientation = im.getexif().get(0x0112, 1) if ctype == JPEG else 1
        if orientation in _MIRRORED:
            source = _reencode(ImageOps.exif_transpose(im), "JPEG")
            notes.append("mirrored EXIF orientation applied to the pixels (re-encoded as JPEG, quality 95)")
    try:
        pdf = _convert(source, ctype)
    except (img2pdf.AlphaChannelError, img2pdf.ImageOpenError, ValueError, TypeError, OSError):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            flat = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
            pdf = _convert(_reencode(flat, "PNG"), "PNG")
        notes.append("converted to a flat RGB image (transparency or colour format unsupported in PDF)")
    return pdf, notes


def _convert(data: bytes, ctype: str) -> bytes:
    result = img2pdf.convert(
        data,
        layout_fun=_LAYOUT,
        rotation=img2pdf.Rotation.ifvalid,
        nodate=True,
        first_frame_only=ctype == GIF,
    )
    assert isinstance(result, bytes)
    return normalise_pdf(result)  # img2pdf writes a random /ID


def _reencode(im: Image.Image, fmt: str) -> bytes:
    if im.mode not in ("RGB", "L"):
        background = Image.new("RGB", im.size, (255, 255, 255))
        rgba = im.convert("RGBA")
        background.paste(rgba, mask=rgba.getchannel("A"))
        im = background
    out = io.BytesIO()
    if fmt == "JPEG":
        im.save(out, "JPEG", quality=95, optimize=False)
    else:
        im.save(out, "PNG", optimize=False)
    return out.getvalue()
