"""bundle_vs_pikepdf and bundle_peak_rss_mb: packets' bundle assembly of 500 pages / the same done minimally.

Inputs (made once per run): 2 letters of 2 pages, one 40-page scan (JPEG pages), 20 one-page photos,
and text PDFs for the remaining pages: 500 input pages in 62 files. Ours is packets.bundle.assemble
(index with links, bookmarks per document in sections, a stamp on every page); the baseline does the
same four things minimally with pikepdf (one index page of titles, flat bookmarks, a shared stamp form).
Each side runs in its own child process; its peak RSS is read with resource.getrusage.
"""

from __future__ import annotations

import io
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import Context, child, clean_env, emit
from bench.harness import Figure

PAGES = 500


def _noisy_scan() -> bytes:
    """An A4 page at 150 dpi with scanner-like grain: a realistic JPEG size (a few hundred KB)."""
    from PIL import Image

    from casefile.specimens import specimen_image

    page = Image.open(io.BytesIO(specimen_image([f"Scanned page, line {n}" for n in range(40)], "JPEG", (1240, 1754))))
    grain = Image.effect_noise(page.size, 24).convert("RGB")
    out = io.BytesIO()
    Image.blend(page.convert("RGB"), grain, 0.25).save(out, "JPEG", quality=85)
    return out.getvalue()


def make_inputs(folder: Path) -> list[dict[str, Any]]:
    """Write the input PDFs and an index.json describing them; returns the index."""
    import img2pdf

    from casefile.specimens import specimen_image, specimen_pdf

    folder.mkdir(parents=True, exist_ok=True)
    entries: list[dict[str, Any]] = []

    def add(name: str, data: bytes, pages: int, kind: str) -> None:
        (folder / f"{name}.pdf").write_bytes(data)
        entries.append({"name": name, "pages": pages, "kind": kind, "bytes": len(data)})

    for i in range(2):
        add(f"letter{i}", specimen_pdf([f"Cover letter {i}", "SPECIMEN"], pages=2), 2, "letter")
    scan_page = _noisy_scan()
    big = img2pdf.convert([scan_page] * 40, nodate=True)
    assert isinstance(big, bytes)
    add("scan-40", big, 40, "military.orders")
    for i in range(20):
        photo = img2pdf.convert(specimen_image([f"Photo {i}"], "JPEG", (600, 800)), nodate=True)
        assert isinstance(photo, bytes)
        add(f"photo{i:02d}", photo, 1, "identity.photo")
    left = PAGES - sum(int(e["pages"]) for e in entries)
    kinds = ["identity.internal_passport", "military.contract", "prosecution.case_notice", "statement.personal"]
    n = 0
    while left > 0:
        pages = min(left, 11)
        add(f"text{n:02d}", specimen_pdf([f"Document {n}", "SPECIMEN"] * 10, pages=pages), pages, kinds[n % 4])
        left -= pages
        n += 1
    (folder / "index.json").write_text(json.dumps({"entries": entries}))
    return entries


def measure(ctx: Context) -> list[Figure]:
    reps = 2 if ctx.quick else 5
    folder = ctx.work / "bundle-inputs"
    entries = make_inputs(folder)
    ours = child("bundle", "ours", str(folder), str(reps), env=clean_env())
    base = child("bundle", "pikepdf", str(folder), str(reps), env=clean_env())
    sizes = [int(e["bytes"]) for e in entries]
    largest_mb = max(sizes) / 1e6
    total_mb = sum(sizes) / 1e6
    rss_goal = 2 * largest_mb + 200
    t_ours, t_base = min(ours["seconds"]), min(base["seconds"])
    return [
        Figure(
            "bundle_vs_pikepdf",
            t_ours,
            t_base,
            "s",
            "ratio <= 2.0",
            t_ours / t_base <= 2.0,
            f"{PAGES} input pages in {len(sizes)} files ({total_mb:.1f} MB); output {ours['pages']} pages, "
            f"{ours['out_bytes'] / 1e6:.1f} MB (pikepdf minimal: {base['pages']} pages, "
            f"{base['out_bytes'] / 1e6:.1f} MB)",
            extra={"ours_runs_s": ours["seconds"], "pikepdf_runs_s": base["seconds"]},
        ),
        Figure(
            "bundle_peak_rss_mb",
            ours["peak_rss_mb"],
            base["peak_rss_mb"],
            "MB",
            f"< 2x largest input + 200 MB ({rss_goal:.0f} MB)",
            ours["peak_rss_mb"] < rss_goal,
            f"peak RSS of the child process ({ours['rss_before_mb']:.0f} MB after imports, before assembly); "
            f"largest input {largest_mb:.1f} MB, all inputs {total_mb:.1f} MB",
            extra={"largest_input_mb": largest_mb, "inputs_mb": total_mb, "rss_before_mb": ours["rss_before_mb"]},
        ),
    ]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def _ours(folder: Path, entries: list[dict[str, object]]) -> tuple[bytes, int]:
    from casefile.kinds import section_of
    from packets.bundle import BundleDoc, BundleLetter, BundleMeta, assemble

    letters = [
        BundleLetter(str(e["name"]), f"Letter {e['name']}", (folder / f"{e['name']}.pdf").read_bytes())
        for e in entries
        if e["kind"] == "letter"
    ]
    docs = [
        BundleDoc(
            evidence_id=f"ev-{e['name']}",
            pdf=(folder / f"{e['name']}.pdf").read_bytes(),
            section=section_of(str(e["kind"])),
            number=str(n),
            title=f"Evidence document {e['name']}",
        )
        for n, e in enumerate((e for e in entries if e["kind"] != "letter"), start=1)
    ]
    meta = BundleMeta(case_id="K7Q2-M9XD", packet_id="P-0123456789AB", language="fr", day=None, producer="bench")
    bundle = assemble(letters, docs, meta)
    return bundle.pdf, bundle.pages


def _pikepdf(folder: Path, entries: list[dict[str, object]]) -> tuple[bytes, int]:
    """Merge, one index page, a bookmark per file, a shared stamp form plus a page number on every page."""
    import pikepdf

    out = pikepdf.new()
    font = out.make_indirect(
        pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont=pikepdf.Name.Helvetica)
    )
    sources = [pikepdf.open(io.BytesIO((folder / f"{e['name']}.pdf").read_bytes())) for e in entries]
    lines = "".join(f"({e['name']}) Tj T* " for e in entries)
    index = pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, 595, 842],
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F=font)),
        Contents=out.make_stream(f"BT /F 8 Tf 12 TL 50 800 Td {lines}ET".encode()),
    )
    out.pages.append(pikepdf.Page(index))
    starts = []
    for src in sources:
        starts.append(len(out.pages))
        out.pages.extend(src.pages)
    with out.open_outline() as outline:
        for e, start in zip(entries, starts, strict=True):
            outline.root.append(pikepdf.OutlineItem(str(e["name"]), start))
    form = out.make_stream(
        b"BT /F 7 Tf 0 0 Td (Dossier K7Q2-M9XD - Paquet P-0123456789AB) Tj ET",
        Type=pikepdf.Name.XObject,
        Subtype=pikepdf.Name.Form,
        BBox=[0, 0, 300, 12],
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F=font)),
    )
    total = len(out.pages)
    for n, page in enumerate(out.pages, start=1):
        page.obj.Resources = page.obj.get("/Resources", pikepdf.Dictionary())
        res = page.obj.Resources
        if "/XObject" not in res:
            res.XObject = pikepdf.Dictionary()
        if "/Font" not in res:
            res.Font = pikepdf.Dictionary()
        res.XObject.Stamp = form
        res.Font.StampF = font
        page.contents_add(
            out.make_stream(
                f"q 1 0 0 1 150 6 cm /Stamp Do BT /StampF 7 Tf 250 0 Td (page {n} / {total}) Tj ET Q".encode()
            )
        )
    buf = io.BytesIO()
    out.save(buf, object_stream_mode=pikepdf.ObjectStreamMode.generate, compress_streams=True, deterministic_id=True)
    for src in sources:
        src.close()
    return buf.getvalue(), total


def _child(argv: list[str]) -> None:
    which, folder, reps = argv[0], Path(argv[1]), int(argv[2])
    entries = json.loads((folder / "index.json").read_text())["entries"]
    fn = _ours if which == "ours" else _pikepdf
    import pikepdf  # noqa: F401 - imported before the baseline RSS reading, on both sides

    if which == "ours":
        import packets.bundle  # noqa: F401

    rss_before = _rss_mb()
    seconds = []
    pdf, pages = b"", 0
    for _ in range(reps):
        t = time.perf_counter()
        pdf, pages = fn(folder, entries)
        seconds.append(time.perf_counter() - t)
    emit(
        {
            "seconds": seconds,
            "pages": pages,
            "out_bytes": len(pdf),
            "peak_rss_mb": _rss_mb(),
            "rss_before_mb": rss_before,
        }
    )


if __name__ == "__main__":
    _child(sys.argv[1:])
