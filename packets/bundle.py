"""packet.pdf: cover letters, a linked index with page ranges, sections of evidence with bookmarks, stamps."""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

import pikepdf
from pikepdf import Name

from core.errors import EvidenceRejected, FieldProblem
from packets.fonts import EmbeddedFont, bundle_fonts
from packets.labels import section_title, word
from packets.pdfa import make_pdfa
from packets.pdftext import BOLD, REGULAR
from packets.stamp import stamp_pages, stamp_texts

A4 = (595.276, 841.89)
_MARGIN = 56.7  # 20 mm
_ROW = 15.0
_SIZE = 9.5
_TOP_FIRST = 62.0  # space taken by the title block on the first index page


@dataclass(frozen=True)
class BundleDoc:
    """One evidence document as it enters the bundle."""

    evidence_id: str
    pdf: bytes
    section: str
    number: str  # "3", or "3.1" for the first translation of document 3
    title: str
    person: str = ""  # shown for documents of household members
    is_translation: bool = False


@dataclass(frozen=True)
class BundleLetter:
    """A converted letter and its title in the index and bookmarks."""

    name: str
    title: str
    pdf: bytes


@dataclass
class PlacedPart:
    """Where a letter, the index or a document landed (1-based page numbers, padding excluded)."""

    key: str
    title: str
    first: int
    last: int
    section: str | None = None
    number: str = ""
    person: str = ""
    is_translation: bool = False


@dataclass
class Bundle:
    """The finished PDF and where everything is in it."""

    pdf: bytes
    pages: int
    parts: list[PlacedPart] = field(default_factory=list)


@dataclass(frozen=True)
class BundleMeta:
    """Ids, language and date printed on and embedded in the bundle."""

    case_id: str
    packet_id: str
    language: str
    day: date | None
    producer: str
    duplex: bool = False
    index_title: str | None = None


def _open(data: bytes) -> pikepdf.Pdf:
    return pikepdf.open(io.BytesIO(data))


def _rows_capacity(first: bool) -> int:
    usable = A4[1] - 2 * _MARGIN - 30 - (_TOP_FIRST if first else 0)
    return int(usable // _ROW)


Row = tuple[str, str]  # ("letter" | "section" | "doc", key of the part or the section name)


def _index_rows(letter_keys: Sequence[str], docs: Sequence[BundleDoc]) -> list[Row]:
    rows: list[Row] = [("letter", key) for key in letter_keys]
    for section in dict.fromkeys(d.section for d in docs):
        rows.append(("section", section))
        rows.extend(("doc", f"evidence:{d.evidence_id}") for d in docs if d.section == section)
    return rows


def _paginate(rows: list[Row]) -> list[list[Row]]:
    """Rows per index page; a section heading never ends a page (it moves on with its first document)."""
    pages: list[list[Row]] = [[]]
    for i, row in enumerate(rows):
        page = pages[-1]
        room = _rows_capacity(len(pages) == 1) - len(page)
        if room <= 0 or (row[0] == "section" and room == 1 and i + 1 < len(rows)):
            pages.append([])
        pages[-1].append(row)
    return pages


def _padded(count: int, duplex: bool) -> int:
    return count + (count % 2 if duplex else 0)


def assemble(
    letters: Sequence[BundleLetter],
    docs: Sequence[BundleDoc],
    meta: BundleMeta,
    progress: Callable[[str, float], None] | None = None,
) -> Bundle:
    """Build packet.pdf: letters, index, then each section's documents; all pages stamped."""
    lang = meta.language
    sources: list[tuple[str, pikepdf.Pdf]] = []
    for letter in letters:
        sources.append((f"letter:{letter.name}", _open(letter.pdf)))
    unreadable: list[FieldProblem] = []
    for doc in docs:
        try:
            opened = _open(doc.pdf)
            if len(opened.pages) == 0:
                raise pikepdf.PdfError("no pages")
        except (pikepdf.PdfError, ValueError, RecursionError):
            unreadable.append(FieldProblem(doc.evidence_id, "is damaged (it cannot be read back for the bundle)"))
            continue
        sources.append((f"evidence:{doc.evidence_id}", opened))
    if unreadable:
        raise EvidenceRejected(meta.case_id, unreadable)
    counts = {key: len(src.pages) for key, src in sources}

    sections = list(dict.fromkeys(d.section for d in docs))
    index_pages = _paginate(_index_rows([f"letter:{letter.name}" for letter in letters], docs))
    n_index = len(index_pages)

    placed: list[PlacedPart] = []
    page = 1
    for letter in letters:
        n = counts[f"letter:{letter.name}"]
        placed.append(PlacedPart(f"letter:{letter.name}", letter.title, page, page + n - 1))
        page += _padded(n, meta.duplex)
    index_part = PlacedPart("index", meta.index_title or word("index", lang), page, page + n_index - 1)
    placed.append(index_part)
    page += _padded(n_index, meta.duplex)
    for doc in docs:
        n = counts[f"evidence:{doc.evidence_id}"]
        placed.append(
            PlacedPart(
                f"evidence:{doc.evidence_id}",
                doc.title,
                page,
                page + n - 1,
                doc.section,
                doc.number,
                doc.person,
                doc.is_translation,
            )
        )
        page += _padded(n, meta.duplex)
    if progress:
        progress("bundle: laying out", 0.1)

    out = pikepdf.new()
    fonts = bundle_fonts(out)
    source_of = dict(sources)
    page_labels: list[str] = []  # the exhibit number stamped on each page ('' for letters and the index)
    for part in placed:
        label = f"{word('exhibit', lang)} {part.number}" if part.section is not None else ""
        if part.key == "index":
            for _ in range(n_index):
                out.pages.append(pikepdf.Page(_blank_page(out, fonts)))
            index_first = len(out.pages) - n_index
        else:
            out.pages.extend(source_of[part.key].pages)
        page_labels.extend([label] * (len(out.pages) - len(page_labels)))
        if meta.duplex and (part.last - part.first + 1) % 2:
            out.pages.append(pikepdf.Page(_blank_page(out, fonts, word("blank", lang))))
            page_labels.append("")
    if progress:
        progress("bundle: pages copied", 0.5)

    _draw_index(out, fonts, index_first, index_pages, placed, meta)
    _outline(out, placed, sections, lang)
    stamp_pages(
        out,
        stamp_texts(word("case", lang), meta.case_id, word("packet", lang), meta.packet_id),
        page_word=word("page", lang),
        labels=page_labels,
        fonts=fonts,
    )
    for font in fonts.values():
        font.finish()
    if progress:
        progress("bundle: pages stamped", 0.8)
    total = len(out.pages)
    _metadata(out, meta)
    make_pdfa(out, title=bundle_title(meta), language=meta.language, producer=meta.producer, day=meta.day)
    buf = io.BytesIO()
    out.save(
        buf,
        deterministic_id=True,
        object_stream_mode=pikepdf.ObjectStreamMode.generate,
        compress_streams=True,
        fix_metadata_version=False,
    )
    for _, src in sources:
        src.close()
    return Bundle(pdf=buf.getvalue(), pages=total, parts=placed)


def _blank_page(pdf: pikepdf.Pdf, fonts: dict[str, EmbeddedFont], note: str = "") -> pikepdf.Dictionary:
    ops = b""
    resources = pikepdf.Dictionary()
    if note:
        w = fonts["R"].width(note, 9)
        ops = (
            b"BT 0.5 g /F 9 Tf "
            + f"{(A4[0] - w) / 2:.2f} {A4[1] / 2:.2f}".encode()
            + b" Td "
            + fonts["R"].encode(note)
            + b" Tj ET"
        )
        resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F=fonts["R"].obj))
    return pikepdf.Dictionary(Type=Name.Page, MediaBox=[0, 0, *A4], Resources=resources, Contents=pdf.make_stream(ops))


def core_fonts(pdf: pikepdf.Pdf) -> dict[str, pikepdf.Object]:
    """The two core fonts the bundle draws with, as indirect objects of pdf (R regular, B bold)."""
    return {
        key: pdf.make_indirect(
            pikepdf.Dictionary(
                Type=Name.Font, Subtype=Name.Type1, BaseFont=Name("/" + name), Encoding=Name.WinAnsiEncoding
            )
        )
        for key, name in (("R", REGULAR), ("B", BOLD))
    }


def _pages_label(part: PlacedPart) -> str:
    return str(part.first) if part.first == part.last else f"{part.first}–{part.last}"


def _draw_index(
    pdf: pikepdf.Pdf,
    fonts: dict[str, EmbeddedFont],
    first_index: int,
    index_pages: list[list[Row]],
    placed: list[PlacedPart],
    meta: BundleMeta,
) -> None:
    lang = meta.language
    part_of = {p.key: p for p in placed}
    left, right = _MARGIN, A4[0] - _MARGIN
    num_w, pages_w = 34.0, 60.0
    title_x = left + num_w
    title_w = right - pages_w - title_x - 6
    for page_no, rows in enumerate(index_pages):
        page = pdf.pages[first_index + page_no]
        ops: list[bytes] = []
        annots = pikepdf.Array()
        y = A4[1] - _MARGIN
        if page_no == 0:
            originals = sum(1 for p in placed if p.section is not None and not p.is_translation)
            ops.append(_text(fonts, left, y - 16, "B", 16, meta.index_title or word("index", lang)))
            ops.append(
                _text(
                    fonts,
                    left,
                    y - 36,
                    "R",
                    10,
                    f"{word('case', lang)} {meta.case_id} · {word('packet', lang)} {meta.packet_id} · "
                    f"{originals} {word('documents', lang)}, "
                    f"{len(pdf.pages)} {word('pages', lang)}",
                )
            )
            y -= _TOP_FIRST
        ops.append(_text(fonts, left, y - 10, "B", 8.5, word("number_col", lang)))
        ops.append(_text(fonts, title_x, y - 10, "B", 8.5, word("doc_col", lang)))
        ops.append(_text_right(fonts, right, y - 10, "B", 8.5, word("page_col", lang)))
        ops.append(f"0.6 G 0.5 w {left:.2f} {y - 15:.2f} m {right:.2f} {y - 15:.2f} l S".encode())
        y -= 30
        for kind, key in rows:
            base = y - 10
            if kind == "section":
                ops.append(_text(fonts, left, base - 2, "B", 10, section_title(key, lang)))
                y -= _ROW
                continue
            part = part_of[key]
            indent = 14.0 if part.is_translation else 0.0
            label = part.title + (f" — {part.person}" if part.person else "")
            size = _SIZE - (0.5 if part.is_translation else 0)
            ops.append(_text(fonts, left + indent / 2, base, "R", size, part.number))
            ops.append(_text(fonts, title_x + indent, base, "R", size, fonts["R"].fit(label, size, title_w - indent)))
            ops.append(_text_right(fonts, right, base, "R", size, _pages_label(part)))
            target = pdf.pages[part.first - 1].obj
            annots.append(
                pdf.make_indirect(
                    pikepdf.Dictionary(
                        Type=Name.Annot,
                        Subtype=Name.Link,
                        Rect=[round(left, 2), round(y - _ROW + 1, 2), round(right, 2), round(y, 2)],
                        Border=[0, 0, 0],
                        Dest=[target, Name.Fit],
                    )
                )
            )
            y -= _ROW
        page.obj.Contents = pdf.make_stream(b"\n".join(ops))
        page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(R=fonts["R"].obj, B=fonts["B"].obj))
        if len(annots):
            page.obj.Annots = annots


def _text(fonts: dict[str, EmbeddedFont], x: float, y: float, font: str, size: float, text: str) -> bytes:
    return f"BT 0 g /{font} {size:g} Tf {x:.2f} {y:.2f} Td ".encode() + fonts[font].encode(text) + b" Tj ET"


def _text_right(fonts: dict[str, EmbeddedFont], x: float, y: float, font: str, size: float, text: str) -> bytes:
    return _text(fonts, x - fonts[font].width(text, size), y, font, size, text)


def _outline(pdf: pikepdf.Pdf, placed: list[PlacedPart], sections: list[str], lang: str) -> None:
    letters = [p for p in placed if p.key.startswith("letter:")]
    index = next(p for p in placed if p.key == "index")
    with pdf.open_outline() as outline:
        if len(letters) == 1:
            outline.root.append(pikepdf.OutlineItem(letters[0].title, letters[0].first - 1))
        elif letters:
            top = pikepdf.OutlineItem(word("letters", lang), letters[0].first - 1)
            top.children.extend(pikepdf.OutlineItem(p.title, p.first - 1) for p in letters)
            outline.root.append(top)
        outline.root.append(pikepdf.OutlineItem(index.title, index.first - 1))
        for section in sections:
            docs = [p for p in placed if p.section == section]
            item = pikepdf.OutlineItem(section_title(section, lang), docs[0].first - 1)
            for p in docs:
                title = f"{p.number}. {p.title}" + (f" — {p.person}" if p.person else "")
                item.children.append(pikepdf.OutlineItem(title, p.first - 1))
            outline.root.append(item)


def _pdf_date(day: date | None) -> str:
    d = day or date(1980, 1, 1)
    return f"D:{d.year:04d}{d.month:02d}{d.day:02d}000000Z"


def bundle_title(meta: BundleMeta) -> str:
    """The bundle's title: case and packet ids in the packet's language."""
    return f"{word('case', meta.language)} {meta.case_id} · {word('packet', meta.language)} {meta.packet_id}"


def _metadata(pdf: pikepdf.Pdf, meta: BundleMeta) -> None:
    pdf.docinfo = pdf.make_indirect(
        pikepdf.Dictionary(
            Title=pikepdf.String(bundle_title(meta)),
            Producer=pikepdf.String(meta.producer),
            Creator=pikepdf.String(meta.producer),
            CreationDate=pikepdf.String(_pdf_date(meta.day)),
            ModDate=pikepdf.String(_pdf_date(meta.day)),
        )
    )
    root = pdf.Root
    root.PageMode = Name.UseOutlines
    root.Lang = pikepdf.String(meta.language)
    root.ViewerPreferences = pikepdf.Dictionary(DisplayDocTitle=True)
