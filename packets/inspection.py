"""One inspection of each evidence file's content, shared by the checklist warnings, pre-flight and the build.

A build looks at every evidence file three times (scan warnings for the checklist, pre-flight,
the packet build); parsing a PDF and walking all its objects each time tripled the work. The
inspection of a file's bytes (real type, PDF opened and checked, page count, text-layer pages,
image decoded) is done once and remembered by the SHA-256 of the bytes.

The cache keeps results only: types, counts and value-free messages, never the bytes, an open
PDF or any text from the document, so a long-running process holds no plaintext through it.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pikepdf

from packets.images import inspect_image
from packets.pdfcheck import PdfReport, inspect_pdf
from packets.sniff import IMAGE_TYPES, PDF, content_type, describe_unknown

CACHE_SIZE = 512  # files; a result is a few hundred bytes
DAMAGED_PDF = "is damaged and cannot be read as a PDF: get a new copy"


@dataclass
class Inspection:
    """What a file's bytes are and what is wrong with them, whatever the evidence's name or kind."""

    digest: str
    ctype: str | None
    unknown: str = ""  # for content that is neither a PDF nor an image: what it looks like
    problems: list[str] = field(default_factory=list)
    fixable: list[str] = field(default_factory=list)
    pdf: PdfReport | None = None  # without its open document (pdf.pdf is None)

    @property
    def pages(self) -> int:
        """Pages of a PDF (0 for images and unreadable files)."""
        return self.pdf.pages if self.pdf is not None else 0

    @property
    def has_text_layer(self) -> bool:
        """Whether any page shows text (images never do)."""
        return self.pdf is not None and self.pdf.pages_with_text > 0


def digest_of(data: bytes) -> str:
    """The key an inspection is remembered by."""
    return hashlib.sha256(data).hexdigest()


def _inspect_uncached(data: bytes, digest: str, max_pixels: int) -> Inspection:
    ctype = content_type(data)
    found = Inspection(digest, ctype)
    if ctype is None:
        found.unknown = describe_unknown(data)
    elif ctype == PDF:
        try:
            report = inspect_pdf(data, max_pixels)
        except (pikepdf.PdfError, ValueError, TypeError, RuntimeError, RecursionError, OverflowError):
            found.problems.append(DAMAGED_PDF)
            return found
        if report.pdf is not None:
            report.pdf.close()
            report.pdf = None
        found.pdf = report
        found.problems.extend(report.problems)
        found.fixable.extend(report.fixable)
    elif ctype in IMAGE_TYPES:
        found.problems.extend(inspect_image(data, ctype, max_pixels))
    return found


class InspectionCache:
    """Inspections by (SHA-256 of the bytes, pixel limit), least recently used dropped first; thread-safe."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self.enabled = True
        self.parses = 0  # inspections actually performed (each parses the file once)
        self.hits = 0
        self._items: OrderedDict[tuple[str, int], Inspection] = OrderedDict()
        self._lock = threading.Lock()

    def inspect(self, data: bytes, max_pixels: int) -> Inspection:
        """The inspection of these bytes (a private copy: callers may change it)."""
        digest = digest_of(data)
        key = (digest, max_pixels)
        with self._lock:
            found = self._items.get(key) if self.enabled else None
            if found is not None:
                self._items.move_to_end(key)
                self.hits += 1
                return copy.deepcopy(found)
        fresh = _inspect_uncached(data, digest, max_pixels)
        with self._lock:
            self.parses += 1
            if self.enabled and self.size > 0:
                self._items[key] = fresh
                self._items.move_to_end(key)
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return copy.deepcopy(fresh)

    def results(self) -> list[Inspection]:
        """Copies of what the cache holds (to check that it holds nothing personal)."""
        with self._lock:
            return copy.deepcopy(list(self._items.values()))

    def clear(self) -> None:
        """Forget every inspection and reset the counters."""
        with self._lock:
            self._items.clear()
            self.parses = 0
            self.hits = 0

    @contextmanager
    def disabled(self) -> Iterator[None]:
        """Inspect every time inside the block (the old behaviour, for benchmarks)."""
        with self._lock:
            before = self.enabled
            self.enabled = False
        try:
            yield
        finally:
            with self._lock:
                self.enabled = before


CACHE = InspectionCache()


def inspect_content(data: bytes, max_pixels: int) -> Inspection:
    """Inspect a file's bytes once per process (the same bytes later come from the cache)."""
    return CACHE.inspect(data, max_pixels)
