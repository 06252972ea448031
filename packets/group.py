"""Group submissions: several members' packets, a group cover letter and a group index in one bag.

The seeds' case: six men and their partners admitted to France together. Each member keeps
their own packet (with its own stamps, index and manifest) under members/<packet id>/; the
group adds group.pdf (cover letter + index of members) and a group manifest.

Group letter variables (templates/shared/group_cover_letter_fr.docx):
group_id, today, today_iso, member_count, person_count, addressee (lines), ngo {name, caseworker,
address, email}, office (as in country_rules.letters), signature, stamp (images),
members: list of {number, case_id, packet_id, pages, ready, procedure_title,
applicant (person as in country_rules.letters), accompanying (persons)}.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pikepdf

from core.errors import BadInput
from core.hashing import canonical_json, pretty_json, sha256_hex
from core.yamlio import load_yaml_file
from packets.bag import bag_zip, read_bag_zip
from packets.bundle import A4, core_fonts
from packets.labels import word
from packets.letters import LetterConverter, render_letter
from packets.model import BuiltPacket, LetterSpec, PacketInputs, crockford_id, office_of, template_sha256
from packets.pdftext import BOLD, REGULAR, fit, pdf_string, text_width, winansi
from packets.stamp import stamp_pages
from packets.zipfixed import zip_time

REPO = Path(__file__).resolve().parent.parent
GROUP_LETTER_FR = REPO / "templates" / "shared" / "group_cover_letter_fr.docx"


@dataclass(frozen=True)
class GroupMember:
    """One member of a group: the inputs their packet was built from, and the packet."""

    inputs: PacketInputs
    packet: BuiltPacket


@dataclass(frozen=True)
class BuiltGroup:
    """The group submission: its id, the zipped BagIt bag and the group manifest."""

    group_id: str
    bag_zip: bytes
    manifest: dict[str, Any]
    pages: int
    member_packet_ids: tuple[str, ...]


def default_group_letters(language: str) -> list[LetterSpec]:
    """The shipped group cover letter for a language (French only so far; none otherwise)."""
    return [LetterSpec(GROUP_LETTER_FR, "group_cover_letter")] if language == "fr" else []


def group_id_for(members: Sequence[GroupMember], letters: Sequence[LetterSpec], tool_version: str) -> str:
    """'G-' and 12 Crockford base32 characters from the member packet ids, the templates and the tool version."""
    basis = {
        "packets": sorted(m.packet.packet_id for m in members),
        "templates": [{"name": s.output_name, "sha256": template_sha256(s.template)} for s in letters],
        "tool_version": tool_version,
    }
    return crockford_id("G-", hashlib.sha256(canonical_json(basis)).digest())


def load_group_file(path: Path) -> list[str]:
    """Member references (case ids or case folders) from a YAML list or a plain one-per-line file."""
    data = load_yaml_file(path)
    if isinstance(data, dict):
        data = data.get("members")
    if isinstance(data, str):  # plain lines: YAML folded them into one string
        lines = path.read_text(encoding="utf-8").splitlines()
        data = [x.strip() for x in lines if x.strip() and not x.strip().startswith("#")]
    if not isinstance(data, list) or not all(isinstance(x, str) and x.strip() for x in data):
        raise BadInput(f"{path}: expected a list of case ids or case folders", hint="one per line, or a YAML list")
    refs = [x.strip() for x in data]
    if len(refs) < 2:
        raise BadInput(f"{path}: a group needs at least two members")
    dupes = sorted({r for r in refs if refs.count(r) > 1})
    if dupes:
        raise BadInput(f"{path}: listed twice: {', '.join(dupes)}")
    return refs


def _day(members: Sequence[GroupMember]) -> date | None:
    days = []
    for m in members:
        value = m.packet.manifest.get("evaluated_for")
        if isinstance(value, str):
            days.append(date.fromisoformat(value))
    return max(days) if days else None


def group_context(members: Sequence[GroupMember], group_id: str) -> dict[str, Any]:
    """The group letter's variables (see the module docstring), from the members' letter contexts."""
    first = members[0].inputs.letter_context
    rows = []
    persons = 0
    for n, m in enumerate(members, start=1):
        ctx = m.inputs.letter_context
        accompanying = list(ctx.get("accompanying") or [])
        persons += 1 + len(accompanying)
        rows.append(
            {
                "number": n,
                "case_id": m.inputs.case.case_id,
                "packet_id": m.packet.packet_id,
                "pages": m.packet.pages,
                "ready": bool(m.inputs.checklist.get("ready")),
                "procedure_title": ctx.get("procedure_title", m.inputs.case.procedure),
                "applicant": ctx.get("applicant") or _person_fallback(m.inputs),
                "accompanying": accompanying,
            }
        )
    return {
        "group_id": group_id,
        "today": first.get("today", ""),
        "today_iso": first.get("today_iso", ""),
        "member_count": len(members),
        "person_count": persons,
        "addressee": list(first.get("addressee") or []),
        "ngo": dict(first.get("ngo") or {"name": "", "caseworker": "", "address": "", "email": ""}),
        "office": dict(first.get("office") or office_of(members[0].inputs).to_context()),
        "signature": "",
        "stamp": "",
        "members": rows,
    }


def _person_fallback(inputs: PacketInputs) -> dict[str, Any]:
    a = inputs.case.applicant
    return {
        "full_name": f"{a.given_name} {a.family_name}",
        "salutation": "",
        "birth_date": "",
        "words": {"born": ""},
    }


def build_group(
    members: Sequence[GroupMember],
    letters: Sequence[LetterSpec] | None = None,
    *,
    builder: str,
    tool_version: str,
    extra_context: Mapping[str, Any] | None = None,
    converter: LetterConverter | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> BuiltGroup:
    """One bag for a group: group.pdf (group letter + index of members) and every member's packet."""
    if len(members) < 2:
        raise BadInput("a group submission needs at least two members")
    ids = [m.packet.packet_id for m in members]
    if len(set(ids)) != len(ids):
        raise BadInput("the same packet appears twice in the group")
    lang = str(members[0].inputs.letter_context.get("language") or "fr")
    specs = list(letters) if letters is not None else default_group_letters(lang)
    group_id = group_id_for(members, specs, tool_version)
    day = _day(members)
    context = {**group_context(members, group_id), **(extra_context or {})}
    if progress:
        progress("group letters", 0.1)
    office = office_of(members[0].inputs)
    images = {"signature": office.signature_image, "stamp": office.stamp_image}
    docx = {s.output_name: render_letter(s, context, when=zip_time(day), images=images) for s in specs}
    if converter is None:
        with LetterConverter() as own:
            letter_pdfs = own.convert(docx)
    else:
        letter_pdfs = converter.convert(docx)
    if progress:
        progress("group index", 0.5)
    group_pdf, pages = _group_pdf([letter_pdfs[s.output_name] for s in specs], context, lang, day, tool_version)

    payload: dict[str, bytes] = {"group.pdf": group_pdf}
    payload.update({f"letters/{name}.docx": data for name, data in docx.items()})
    member_rows = []
    for m in members:
        _, files = read_bag_zip(m.packet.bag_zip)
        for path, data in files.items():
            payload[f"members/{m.packet.packet_id}/{path}"] = data
        member_rows.append(
            {
                "case_id": m.inputs.case.case_id,
                "packet_id": m.packet.packet_id,
                "bag_sha256": sha256_hex(m.packet.bag_zip),
                "manifest_sha256": sha256_hex(files["manifest.json"]),
                "packet_pdf_sha256": sha256_hex(files["packet.pdf"]),
                "pages": m.packet.pages,
                "ready": bool(m.inputs.checklist.get("ready")),
            }
        )
    manifest: dict[str, Any] = {
        "format": "dossier-group/1",
        "group_id": group_id,
        "members": member_rows,
        "templates": [
            {"output_name": s.output_name, "template": s.template.name, "sha256": template_sha256(s.template)}
            for s in specs
        ],
        "letters": [{"name": n, "docx_sha256": sha256_hex(d)} for n, d in docx.items()],
        "group_pdf": {"pages": pages, "sha256": sha256_hex(group_pdf)},
        "date": day.isoformat() if day else None,
        "tool_version": tool_version,
        "builder": builder,
    }
    payload["manifest.json"] = pretty_json(manifest)
    info = [
        ("Bag-Software-Agent", f"Dossier {tool_version}"),
        ("Bagging-Date", day.isoformat() if day else "1980-01-01"),
        ("External-Identifier", group_id),
        ("Bag-Group-Identifier", group_id),
    ]
    zipped = bag_zip(group_id, payload, info, day)
    if progress:
        progress("done", 1.0)
    return BuiltGroup(group_id, zipped, manifest, pages, tuple(ids))


def _group_pdf(
    letters: list[bytes], context: dict[str, Any], lang: str, day: date | None, tool_version: str
) -> tuple[bytes, int]:
    out = pikepdf.new()
    sources = [pikepdf.open(io.BytesIO(data)) for data in letters]
    for src in sources:
        out.pages.extend(src.pages)
    index_first = len(out.pages)
    fonts = core_fonts(out)
    rows = context["members"]
    per_page = 30
    chunks = [rows[i : i + per_page] for i in range(0, len(rows), per_page)] or [[]]
    for n, chunk in enumerate(chunks):
        out.pages.append(pikepdf.Page(_index_page(out, fonts, chunk, context, lang, first=n == 0)))
    with out.open_outline() as outline:
        if letters:
            outline.root.append(pikepdf.OutlineItem(word("letters", lang), 0))
        outline.root.append(pikepdf.OutlineItem(word("group_index", lang), index_first))
    stamp_pages(out, winansi(f"{word('group', lang)} {context['group_id']} · "))
    stamp = f"D:{day:%Y%m%d}000000Z" if day else "D:19800101000000Z"
    out.docinfo = out.make_indirect(
        pikepdf.Dictionary(
            Title=pikepdf.String(f"{word('group', lang)} {context['group_id']}"),
            Producer=pikepdf.String(f"Dossier {tool_version}"),
            CreationDate=pikepdf.String(stamp),
            ModDate=pikepdf.String(stamp),
        )
    )
    out.Root.PageMode = pikepdf.Name.UseOutlines
    buf = io.BytesIO()
    out.save(
        buf, deterministic_id=True, object_stream_mode=pikepdf.ObjectStreamMode.generate, fix_metadata_version=False
    )
    pages = len(out.pages)
    for src in sources:
        src.close()
    return buf.getvalue(), pages


def _index_page(
    pdf: pikepdf.Pdf,
    fonts: dict[str, pikepdf.Object],
    rows: list[dict[str, Any]],
    context: dict[str, Any],
    lang: str,
    *,
    first: bool,
) -> pikepdf.Dictionary:
    left, right = 56.7, A4[0] - 56.7
    cols = [left, left + 28, left + 230, left + 290, left + 370]  # N°, member, persons, case, packet
    ops: list[bytes] = []

    def text(x: float, y: float, font: str, size: float, value: str) -> None:
        ops.append(f"BT 0 g /{font} {size:g} Tf {x:.2f} {y:.2f} Td ".encode() + pdf_string(value) + b" Tj ET")

    y = A4[1] - 56.7
    if first:
        text(left, y - 16, "B", 15, word("group_index", lang))
        text(
            left,
            y - 34,
            "R",
            10,
            f"{word('group', lang)} {context['group_id']} · "
            f"{context['member_count']} × {word('packet', lang)}, {context['person_count']} {word('persons', lang)}",
        )
        y -= 60
    headers = ["N°", word("member", lang), word("persons", lang).capitalize(), word("case", lang), word("packet", lang)]
    for x, h in zip(cols, headers, strict=True):
        text(x, y - 10, "B", 8.5, h)
    pages_label = word("page_col", lang)
    text(right - text_width(pages_label, 8.5, BOLD), y - 10, "B", 8.5, pages_label)
    ops.append(f"0.6 G 0.5 w {left:.2f} {y - 15:.2f} m {right:.2f} {y - 15:.2f} l S".encode())
    y -= 30
    for row in rows:
        applicant = row["applicant"]
        name = f"{applicant.get('full_name', '')}"
        text(cols[0], y, "R", 9, str(row["number"]))
        text(cols[1], y, "R", 9, fit(name, 9, cols[2] - cols[1] - 6, REGULAR))
        text(cols[2], y, "R", 9, str(1 + len(row["accompanying"])))
        text(cols[3], y, "R", 9, row["case_id"])
        text(cols[4], y, "R", 9, row["packet_id"])
        pages = str(row["pages"])
        text(right - text_width(pages, 9, REGULAR), y, "R", 9, pages)
        y -= 16
    return pikepdf.Dictionary(
        Type=pikepdf.Name.Page,
        MediaBox=[0, 0, *A4],
        Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(R=fonts["R"], B=fonts["B"])),
        Contents=pdf.make_stream(b"\n".join(ops)),
    )
