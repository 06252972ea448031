"""Regenerate the DOCX letter templates this package owns: `python -m packets.make_templates`.

The templates are committed; this script documents how they were made and rebuilds them
byte-identically (fixed core properties and ZIP dates), so a change shows up as a real diff.
Variables follow country_rules/letters.py (LETTER_VARIABLES); the group letter's variables
are documented in packets/group.py.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.shared import Cm, Pt

from packets.zipfixed import write_zip

REPO = Path(__file__).resolve().parent.parent
COVER_LETTER_FR = REPO / "templates" / "fr" / "cover_letter.docx"
GROUP_LETTER_FR = REPO / "templates" / "shared" / "group_cover_letter_fr.docx"
_FIXED = datetime(2024, 1, 1, tzinfo=UTC)


def _new(title: str) -> DocumentObject:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.2)
    section.top_margin = Cm(2.0)
    section.bottom_margin = Cm(2.4)  # room for the packet stamp
    normal = doc.styles["Normal"]
    normal.font.name = "DejaVu Serif"
    normal.font.size = Pt(10)
    normal.paragraph_format.space_after = Pt(4)
    props = doc.core_properties
    props.author = "Dossier"
    props.last_modified_by = "Dossier"
    props.title = title
    props.comments = ""
    props.revision = 1
    props.created = _FIXED
    props.modified = _FIXED
    props.last_printed = _FIXED
    return doc


def _p(doc: DocumentObject, text: str = "", *, bold: bool = False, align: str = "", size: float = 0) -> None:
    para = doc.add_paragraph()
    run = para.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    if align == "right":
        para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    elif align == "justify":
        para.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY


def _table(doc: DocumentObject, header: list[str], loop: str, cells: list[str], widths: list[float]) -> None:
    table = doc.add_table(rows=4, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for i, w in enumerate(widths):
        table.columns[i].width = Cm(w)
    for i, text in enumerate(header):
        cell = table.rows[0].cells[i]
        cell.text = ""
        cell.paragraphs[0].add_run(text).bold = True
    table.rows[1].cells[0].text = "{%tr " + loop + " %}"
    for i, text in enumerate(cells):
        table.rows[2].cells[i].text = text
    table.rows[3].cells[0].text = "{%tr endfor %}"
    for n, row in enumerate(table.rows):
        tr_pr = row._tr.get_or_add_trPr()
        tr_pr.append(OxmlElement("w:cantSplit"))  # a row never breaks across pages
        if n == 0:
            tr_pr.append(OxmlElement("w:tblHeader"))  # the header row repeats on every page
        for i, w in enumerate(widths):
            row.cells[i].width = Cm(w)
            for para in row.cells[i].paragraphs:
                for run in para.runs:
                    run.font.size = Pt(9)


def cover_letter_fr() -> DocumentObject:
    """The French cover letter to the consulate (variables from country_rules.letters)."""
    doc = _new("Lettre d'accompagnement")
    _p(doc, "{{ ngo.name }}", bold=True)
    _p(doc, "{%p if ngo.address %}")
    _p(doc, "{{ ngo.address }}")
    _p(doc, "{%p endif %}")
    _p(doc, "{%p if ngo.email %}")
    _p(doc, "{{ ngo.email }}")
    _p(doc, "{%p endif %}")
    _p(doc)
    _p(doc, "{%p for line in addressee %}")
    _p(doc, "{{ line }}", align="right")
    _p(doc, "{%p endfor %}")
    _p(doc)
    _p(doc, "Le {{ today }}", align="right")
    _p(doc)
    _p(
        doc,
        "Objet : {{ procedure_title }} ({{ stage_title }}) — {{ applicant.salutation }} {{ applicant.full_name }}"
        "{% if accompanying %} et {{ accompanying|length }} personne{% if accompanying|length > 1 %}s{% endif %} "
        "l'accompagnant{% endif %}",
        bold=True,
    )
    _p(doc, "Références : dossier {{ case_id }} — paquet {{ packet_id }} — dépôt prévu le {{ submission_date }}")
    _p(doc)
    _p(doc, "Madame, Monsieur,")
    _p(
        doc,
        "Nous avons l'honneur de vous transmettre la demande de {{ applicant.salutation }} "
        "{{ applicant.full_name }}{% if applicant.full_name_native %} ({{ applicant.full_name_native }}){% endif %}, "
        "{% if applicant.sex == 'F' %}née{% else %}né{% endif %} le {{ applicant.birth_date }}"
        "{% if applicant.birth_place %} à {{ applicant.birth_place }}{% endif %}, "
        "de nationalité {{ applicant.citizenship }}, au titre de la procédure « {{ procedure_title }} ».",
        align="justify",
    )
    _p(doc, "{%p if location.city %}")
    _p(
        doc,
        "{{ applicant.salutation }} {{ applicant.family_name }} se trouve actuellement à {{ location.city }} "
        "({{ location.country }}){% if location.status_expires %}, où son droit au séjour expire le "
        "{{ location.status_expires }}{% endif %}.",
        align="justify",
    )
    _p(doc, "{%p endif %}")
    _p(doc, "{%p if military.service and military.service != 'none' %}")
    _p(
        doc,
        "Ancien militaire des forces armées de la Fédération de Russie"
        "{% if military.rank %} (grade : {{ military.rank }}){% endif %}, "
        "{{ applicant.salutation }} {{ applicant.family_name }} a refusé de participer à la guerre contre "
        "l'Ukraine{% if military.left_service_date %} et a quitté le service le {{ military.left_service_date }}"
        "{% endif %}.{% if prosecution %} Des poursuites pénales ont été engagées contre "
        "{% if applicant.sex == 'F' %}elle{% else %}lui{% endif %} en Russie au titre de "
        "{% if prosecution|length > 1 %}des articles{% else %}l'article{% endif %} "
        "{% for p in prosecution %}{{ p.article }}{% if not loop.last %}, {% endif %}{% endfor %} du Code pénal "
        "de la Fédération de Russie{% for p in prosecution %}{% if p.wanted and loop.first %} et "
        "{% if applicant.sex == 'F' %}elle{% else %}il{% endif %} est inscrit{% if applicant.sex == 'F' %}e{% endif %} "
        "sur la liste des personnes recherchées{% endif %}{% endfor %}{% endif %}.",
        align="justify",
    )
    _p(doc, "{%p endif %}")
    _p(doc, "{%p if accompanying %}")
    _p(doc, "La demande concerne également les personnes suivantes, qui l'accompagnent :")
    _p(doc, "{%p for p in accompanying %}")
    _p(
        doc,
        "– {{ p.salutation }} {{ p.full_name }}, {{ p.relation_label }}, "
        "{% if p.sex == 'F' %}née{% else %}né{% endif %} le {{ p.birth_date }}"
        "{% if p.citizenship %}, de nationalité {{ p.citizenship }}{% endif %} ;",
    )
    _p(doc, "{%p endfor %}")
    _p(doc, "{%p endif %}")
    _p(
        doc,
        "Notre association a vérifié le parcours et les documents de la personne concernée avant de "
        "constituer ce dossier. Les {{ evidence_count }} pièces suivantes sont jointes, avec leurs traductions "
        "; elles sont paginées et détaillées dans le bordereau qui suit ce courrier :",
        align="justify",
    )
    _table(
        doc,
        ["N°", "Pièce", "Personne", "Traduction"],
        "for e in evidence",
        [
            "{{ e.number }}",
            "{{ e.title }}",
            "{{ e.person_name }}",
            "{% for t in e.translations %}{{ t.language }}{% if t.sworn %} (assermentée){% endif %}"
            "{% if not loop.last %}, {% endif %}{% endfor %}",
        ],
        [1.2, 8.0, 4.2, 3.2],
    )
    _p(doc)
    _p(doc, "{%p if missing %}")
    _p(doc, "Les pièces suivantes seront transmises dès que possible :")
    _p(doc, "{%p for i in missing %}")
    _p(doc, "– {{ i.title }} ({{ i.person_name }}) : {{ i.status_label }}")
    _p(doc, "{%p endfor %}")
    _p(doc, "{%p endif %}")
    _p(doc, "{%p if sources %}")
    _p(
        doc,
        "Fondements : {% for s in sources %}{{ s.title }}{% if s.article %}, {{ s.article }}{% endif %}"
        "{% if not loop.last %} ; {% endif %}{% endfor %}.",
        size=8.5,
    )
    _p(doc, "{%p endif %}")
    _p(
        doc,
        "Nous restons à votre disposition pour tout renseignement complémentaire"
        "{% if contact.email %} (contact pour ce dossier : {{ contact.email }}){% endif %} et vous prions "
        "d'agréer, Madame, Monsieur, l'expression de notre haute considération.",
        align="justify",
    )
    _p(doc)
    _p(doc, "{{ ngo.caseworker }}", align="right")
    _p(doc, "pour {{ ngo.name }}", align="right")
    return doc


def group_letter_fr() -> DocumentObject:
    """The French cover letter of a group submission (variables in packets.group.group_context)."""
    doc = _new("Lettre d'accompagnement : demande groupée")
    _p(doc, "{{ ngo.name }}", bold=True)
    _p(doc, "{%p if ngo.address %}")
    _p(doc, "{{ ngo.address }}")
    _p(doc, "{%p endif %}")
    _p(doc)
    _p(doc, "{%p for line in addressee %}")
    _p(doc, "{{ line }}", align="right")
    _p(doc, "{%p endfor %}")
    _p(doc)
    _p(doc, "Le {{ today }}", align="right")
    _p(doc)
    _p(doc, "Objet : demande groupée — {{ member_count }} dossiers, {{ person_count }} personnes", bold=True)
    _p(doc, "Référence du groupe : {{ group_id }}")
    _p(doc)
    _p(doc, "Madame, Monsieur,")
    _p(
        doc,
        "Nous avons l'honneur de vous transmettre ensemble les demandes des personnes ci-dessous, qui ont "
        "refusé de participer à la guerre contre l'Ukraine et dont les situations sont liées. Nous vous "
        "serions reconnaissants de bien vouloir les examiner conjointement. Chaque dossier est complet en "
        "lui-même, paginé et accompagné de son propre bordereau.",
        align="justify",
    )
    _table(
        doc,
        ["N°", "Demandeur", "Accompagnant(s)", "Dossier / paquet", "Pages"],
        "for m in members",
        [
            "{{ m.number }}",
            "{{ m.applicant.salutation }} {{ m.applicant.full_name }}, {{ m.applicant.birth_date }}",
            "{% for p in m.accompanying %}{{ p.full_name }} ({{ p.relation_label }}){% if not loop.last %}, "
            "{% endif %}{% endfor %}",
            "{{ m.case_id }} / {{ m.packet_id }}",
            "{{ m.pages }}",
        ],
        [1.0, 5.0, 4.4, 4.2, 1.6],
    )
    _p(doc)
    _p(
        doc,
        "Nous restons à votre disposition et vous prions d'agréer, Madame, Monsieur, l'expression de notre "
        "haute considération.",
        align="justify",
    )
    _p(doc)
    _p(doc, "{{ ngo.caseworker }}", align="right")
    _p(doc, "pour {{ ngo.name }}", align="right")
    return doc


def docx_bytes(doc: DocumentObject) -> bytes:
    """The document as DOCX bytes with fixed ZIP dates."""
    import zipfile

    out = io.BytesIO()
    doc.save(out)
    with zipfile.ZipFile(io.BytesIO(out.getvalue())) as zf:
        entries = [(i.filename, zf.read(i)) for i in zf.infolist()]
    return write_zip(entries)


def main() -> None:
    """Write every template this package owns."""
    for path, doc in ((COVER_LETTER_FR, cover_letter_fr()), (GROUP_LETTER_FR, group_letter_fr())):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(docx_bytes(doc))
        print(path.relative_to(REPO))


if __name__ == "__main__":
    main()
