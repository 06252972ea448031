"""ZIP files whose bytes depend only on their content: fixed dates, permissions, order and compression."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from datetime import date

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def zip_time(day: date | None) -> tuple[int, int, int, int, int, int]:
    """The timestamp every entry gets: midnight of a date taken from the inputs (ZIP starts in 1980)."""
    if day is None or day.year < 1980:
        return ZIP_EPOCH
    return (day.year, day.month, day.day, 0, 0, 0)


def write_zip(entries: Iterable[tuple[str, bytes]], *, when: tuple[int, int, int, int, int, int] = ZIP_EPOCH) -> bytes:
    """A deflated ZIP with the entries in the given order, each with the same date and mode 0644."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=when)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the mode below is honoured by unzip
            info.external_attr = (0o100644 & 0xFFFF) << 16
            zf.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return out.getvalue()


def normalise_zip(data: bytes, *, when: tuple[int, int, int, int, int, int] = ZIP_EPOCH) -> bytes:
    """Rewrite an OOXML (DOCX) package with fixed entry dates, keeping its entry order."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        entries = [(info.filename, zf.read(info)) for info in zf.infolist()]
    return write_zip(entries, when=when)
