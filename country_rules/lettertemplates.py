# ruff: noqa: E501  (letter wording is data: one sentence per line reads better than split strings)
"""The rules' letter templates, written as data and generated into DOCX (docxtpl + Jinja tags).

Run `python -m country_rules.lettertemplates` after editing a text below: it rewrites the
templates under templates/<country>/ (never templates/fr/cover_letter.docx or templates/shared/,
which the packets owner maintains). Variables are those of `country_rules.letters.letter_context`;
`dossier rules lint` checks that every template only uses those.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt

from country_rules.loading import TEMPLATES_ROOT

Block = tuple[str, ...] | tuple[str, Sequence[str], str, Sequence[str]]

_FIXED_TIME = datetime(2024, 1, 1, 0, 0, 0)

# --- shared pieces ------------------------------------------------------------------------

_SENDER: list[Block] = [("p", "{{ ngo.name }}"), ("p", "{{ ngo.address }}"), ("p", "{{ ngo.email }}")]
_ADDRESSEE: list[Block] = [("raw", "{%p for line in addressee %}"), ("right", "{{ line }}"), ("raw", "{%p endfor %}")]
_REF = "{{ case_id }} / {{ packet_id }}"


def _index(headers: Sequence[str]) -> list[Block]:
    return [
        (
            "table",
            headers,
            "e in evidence",
            [
                "{{ e.number }}",
                "{{ e.title }}",
                "{{ e.person_name }}",
                "{{ e.issued }}",
                "{{ e.language }}",
                "{% for t in e.translations %}{{ t.title }}{% if not loop.last %}; {% endif %}{% endfor %}",
            ],
        )
    ]


# --- French -------------------------------------------------------------------------------

_FR_SUPPORT: list[Block] = [
    *_SENDER,
    ("right", "Le {{ today }}"),
    *_ADDRESSEE,
    ("p", "Réf. : {{ case_id }} / {{ packet_id }}"),
    ("b", "Objet : lettre de soutien - {{ procedure_title }}"),
    ("p", "Madame, Monsieur,"),
    (
        "p",
        "Notre association, {{ ngo.name }}, accompagne {{ applicant.salutation }} {{ applicant.full_name }}, "
        "né(e) le {{ applicant.birth_date }}{% if applicant.birth_place %} à {{ applicant.birth_place }}{% endif %}, "
        "de nationalité {% if applicant.citizenship == 'RU' %}russe{% else %}{{ applicant.citizenship }}{% endif %}, "
        "dans sa démarche : {{ procedure_title }} ({{ stage_title }}).",
    ),
    ("raw", "{%p if military.service_label %}"),
    (
        "p",
        "{{ applicant.salutation }} {{ applicant.family_name }} a servi dans les forces armées russes comme "
        "{{ military.service_label }}{% if military.rank %} (grade : {{ military.rank }}){% endif %}"
        "{% if military.left_service_date %} et a quitté le service le {{ military.left_service_date }}"
        "{% if military.left_service_how_label %} ({{ military.left_service_how_label }}){% endif %}{% endif %}.",
    ),
    ("raw", "{%p endif %}"),
    ("raw", "{%p if prosecution %}"),
    (
        "p",
        "Des poursuites pénales ont été engagées contre lui/elle : {% for p in prosecution %}article {{ p.article }} "
        "du Code pénal russe{% if p.opened %} (depuis le {{ p.opened }}){% endif %}{% if p.wanted %}, avec "
        "inscription sur la liste des personnes recherchées{% endif %}{% if not loop.last %} ; {% endif %}"
        "{% endfor %}. Un retour l'exposerait à une peine de prison et à un renvoi au front.",
    ),
    ("raw", "{%p endif %}"),
    (
        "p",
        "Nous avons vérifié son parcours, ses documents et l'absence de participation à des actions contre des "
        "civils, selon notre procédure de vérification. Les pièces jointes sont énumérées dans l'index du dossier.",
    ),
    ("raw", "{%p if accompanying %}"),
    (
        "p",
        "{{ applicant.salutation }} {{ applicant.family_name }} est accompagné(e) de : {% for p in accompanying %}"
        "{{ p.full_name }} ({{ p.relation_label }}, né(e) le {{ p.birth_date }}){% if not loop.last %}, {% endif %}"
        "{% endfor %}.",
    ),
    ("raw", "{%p endif %}"),
    (
        "p",
        "Nous vous remercions de l'attention que vous porterez à cette demande et restons à votre disposition pour "
        "tout renseignement complémentaire.",
    ),
    ("p", "Veuillez agréer, Madame, Monsieur, l'expression de notre haute considération."),
    ("p", "{{ ngo.caseworker }}"),
    ("p", "{{ ngo.name }}"),
]

_FR_INDEX: list[Block] = [
    ("h", "Index des pièces"),
    ("p", "{{ procedure_title }} - {{ stage_title }}"),
    (
        "p",
        "Dossier {{ case_id }}, paquet {{ packet_id }}, établi le {{ today }} pour un dépôt le {{ submission_date }}.",
    ),
    ("p", "Demandeur : {{ applicant.full_name }}, né(e) le {{ applicant.birth_date }}."),
    *_index(["N°", "Pièce", "Personne", "Date", "Langue", "Traductions"]),
    ("p", "{{ evidence_count }} pièce(s) originale(s). Chaque traduction suit l'original qu'elle traduit."),
]

_FR_ACCOUNT: list[Block] = [
    ("h", "Récit personnel"),
    (
        "p",
        "{{ applicant.full_name }}{% if applicant.full_name_native %} ({{ applicant.full_name_native }}){% endif %}, né(e) le {{ applicant.birth_date }}",
    ),
    ("p", "Dossier {{ case_id }} - {{ procedure_title }}"),
    (
        "i",
        "Trame à compléter par le demandeur, en français (ou traduite). Écrire à la première personne, avec des dates et des lieux précis.",
    ),
    ("h2", "1. Qui je suis"),
    ("p", "[Famille, études, métier, lieu de vie avant le départ.]"),
    ("h2", "2. Mon service militaire"),
    (
        "p",
        "Statut : {{ military.service_label }}{% if military.rank %}, grade : {{ military.rank }}{% endif %}{% if military.role %}, fonction : {{ military.role }}{% endif %}{% if military.unit %}, unité : {{ military.unit }}{% endif %}.",
    ),
    ("raw", "{%p for d in military.deployed %}"),
    (
        "p",
        "Déploiement : du {{ d.from }}{% if d.to %} au {{ d.to }}{% endif %}{% if d.area %}, {{ d.area }}{% endif %}. [Ce que j'ai fait et vu.]",
    ),
    ("raw", "{%p endfor %}"),
    ("h2", "3. Mon départ de l'armée et de Russie"),
    (
        "p",
        "{% if military.left_service_date %}Le {{ military.left_service_date }} ({{ military.left_service_how_label }}). {% endif %}[Pourquoi, comment, par quel itinéraire.]",
    ),
    ("h2", "4. Les poursuites contre moi"),
    (
        "p",
        "{% for p in prosecution %}Article {{ p.article }}{% if p.opened %}, procédure ouverte le {{ p.opened }}{% endif %}{% if p.wanted %}, recherché{% endif %}. {% endfor %}[Comment je l'ai appris, pièces à l'appui.]",
    ),
    ("h2", "5. Ma situation dans le pays où je me trouve"),
    (
        "p",
        "{% if location.country %}Pays : {{ location.country }}{% if location.city %}, {{ location.city }}{% endif %}. {% endif %}[Statut, risques d'expulsion ou d'extradition, menaces.]",
    ),
    ("h2", "6. Ce que je crains en cas de retour"),
    ("p", "[Peine encourue, renvoi au front, représailles contre la famille.]"),
    ("h2", "7. Mes liens avec la France"),
    ("p", "[Personnes, associations, langue, projets.]"),
    ("p", "Fait le ..................... Signature :"),
]

_FR_OFPRA: list[Block] = [
    ("p", "{{ applicant.full_name }}"),
    ("p", "{{ contact.postal_address }}"),
    ("right", "Le {{ today }}"),
    *_ADDRESSEE,
    ("p", "Réf. : {{ case_id }} / {{ packet_id }}"),
    ("b", "Objet : introduction de ma demande d'asile"),
    ("p", "Madame, Monsieur le Directeur général,"),
    (
        "p",
        "Je vous adresse ma demande d'asile, rédigée en français sur le formulaire de l'Office, datée et signée, "
        "accompagnée de la copie de mon attestation de demande d'asile, de deux photographies d'identité, de mon "
        "récit et des pièces énumérées ci-dessous.",
    ),
    ("p", "Adresse où m'écrire : {{ contact.postal_address }}{% if contact.email %} ({{ contact.email }}){% endif %}."),
    ("raw", "{%p if ngo.name %}"),
    (
        "p",
        "Je suis accompagné(e) par l'association {{ ngo.name }}{% if ngo.caseworker %} ({{ ngo.caseworker }}){% endif %}.",
    ),
    ("raw", "{%p endif %}"),
    ("h2", "Pièces jointes"),
    ("raw", "{%p for e in evidence %}"),
    (
        "p",
        "{{ e.number }}. {{ e.title }}{% if e.issued %} ({{ e.issued }}){% endif %}{% for t in e.translations %}, avec traduction{% endfor %}",
    ),
    ("raw", "{%p endfor %}"),
    ("p", "Je vous prie d'agréer, Madame, Monsieur le Directeur général, l'expression de ma haute considération."),
    ("p", "{{ applicant.full_name }}"),
]

_FR_CNDA: list[Block] = [
    ("right", "Le {{ today }}"),
    *_ADDRESSEE,
    ("b", "RECOURS contre une décision du directeur général de l'OFPRA"),
    ("p", "Réf. : {{ case_id }} / {{ packet_id }}"),
    ("h2", "Requérant"),
    ("p", "Nom : {{ applicant.family_name }} - Prénom(s) : {{ applicant.given_name }}"),
    (
        "p",
        "Né(e) le {{ applicant.birth_date }}{% if applicant.birth_place %} à {{ applicant.birth_place }}{% endif %} - Nationalité : {% if applicant.citizenship == 'RU' %}russe{% else %}{{ applicant.citizenship }}{% endif %}",
    ),
    ("p", "Adresse : {{ contact.postal_address }}"),
    ("p", "Langue souhaitée pour l'audience : russe"),
    ("h2", "Objet"),
    (
        "p",
        "Annulation de la décision de l'OFPRA jointe et reconnaissance de la qualité de réfugié ou, à défaut, octroi de la protection subsidiaire.",
    ),
    ("h2", "Faits"),
    (
        "p",
        "{% if military.service_label %}Le requérant a servi comme {{ military.service_label }}{% if military.left_service_date %} et a quitté le service le {{ military.left_service_date }} ({{ military.left_service_how_label }}){% endif %}. {% endif %}{% for p in prosecution %}Il est poursuivi sur le fondement de l'article {{ p.article }} du Code pénal russe{% if p.wanted %} et recherché{% endif %}. {% endfor %}[À compléter : voir le récit joint.]",
    ),
    ("h2", "Moyens"),
    (
        "p",
        "Le refus d'effectuer le service militaire ou la désertion, lorsque le service supposerait de commettre des crimes ou actes visés à l'article 12(2) de la directive 2011/95/UE, relève de l'article 9(2)(e) de cette directive (CJUE, 26 février 2015, Shepherd, C-472/13 ; CNDA, grande formation, 20 juillet 2023, n° 21068674 R). [À développer.]",
    ),
    ("h2", "Pièces jointes"),
    ("raw", "{%p for e in evidence %}"),
    ("p", "{{ e.number }}. {{ e.title }}{% if e.issued %} ({{ e.issued }}){% endif %}"),
    ("raw", "{%p endfor %}"),
    ("p", "Signature du requérant ou de son avocat :"),
]

# --- German -------------------------------------------------------------------------------

_DE_COVER: list[Block] = [
    *_SENDER,
    ("right", "{{ today }}"),
    *_ADDRESSEE,
    ("p", "Az. (intern): {{ case_id }} / {{ packet_id }}"),
    ("b", "Betreff: {{ procedure_title }} - {{ applicant.full_name }}, geb. {{ applicant.birth_date }}"),
    ("p", "Sehr geehrte Damen und Herren,"),
    (
        "p",
        "im Namen von {{ applicant.full_name }}, geboren am {{ applicant.birth_date }}"
        "{% if applicant.birth_place %} in {{ applicant.birth_place }}{% endif %}, Staatsangehörigkeit "
        "{% if applicant.citizenship == 'RU' %}russisch{% else %}{{ applicant.citizenship }}{% endif %}, "
        "reichen wir die Unterlagen für folgenden Verfahrensschritt ein: {{ stage_title }}.",
    ),
    ("raw", "{%p if accompanying %}"),
    (
        "p",
        "Mitreisende Familienangehörige: {% for p in accompanying %}{{ p.full_name }} ({{ p.relation_label }}, geb. {{ p.birth_date }}){% if not loop.last %}, {% endif %}{% endfor %}.",
    ),
    ("raw", "{%p endif %}"),
    ("raw", "{%p if items|selectattr('requirement', 'equalto', 'passport-unobtainable')|list %}"),
    (
        "p",
        "Der Antragsteller besitzt keinen gültigen Reisepass und kann einen solchen nicht in zumutbarer Weise "
        "erlangen, wie die beigefügten Unterlagen belegen. Wir bitten daher um Ausstellung eines "
        "Reiseausweises für Ausländer (§§ 5, 7 AufenthV).",
    ),
    ("raw", "{%p endif %}"),
    (
        "p",
        "Die beigefügten Unterlagen ({{ evidence_count }} Originale; Übersetzungen folgen jeweils dem Original) sind im Anlagenverzeichnis aufgeführt.",
    ),
    ("p", "Für Rückfragen stehen wir gerne zur Verfügung."),
    ("p", "Mit freundlichen Grüßen"),
    ("p", "{{ ngo.caseworker }}"),
    ("p", "{{ ngo.name }}"),
]

_DE_SUPPORT: list[Block] = [
    *_SENDER,
    ("right", "{{ today }}"),
    *_ADDRESSEE,
    ("p", "Az. (intern): {{ case_id }} / {{ packet_id }}"),
    ("b", "Betreff: Unterstützungsschreiben - {{ procedure_title }}"),
    ("p", "Sehr geehrte Damen und Herren,"),
    (
        "p",
        "{{ ngo.name }} begleitet {{ applicant.full_name }}, geboren am "
        "{{ applicant.birth_date }}, im Verfahren: {{ procedure_title }} ({{ stage_title }}).",
    ),
    ("raw", "{%p if military.service_label %}"),
    (
        "p",
        "{{ applicant.salutation }} {{ applicant.family_name }} diente in den russischen Streitkräften als {{ military.service_label }}{% if military.left_service_date %} und verließ den Dienst am {{ military.left_service_date }} ({{ military.left_service_how_label }}){% endif %}.",
    ),
    ("raw", "{%p endif %}"),
    ("raw", "{%p if prosecution %}"),
    (
        "p",
        "Gegen {{ applicant.full_name }} wird strafrechtlich ermittelt: {% for p in prosecution %}Art. {{ p.article }} StGB der Russischen Föderation{% if p.opened %} (seit {{ p.opened }}){% endif %}{% if p.wanted %}, zur Fahndung ausgeschrieben{% endif %}{% if not loop.last %}; {% endif %}{% endfor %}.",
    ),
    ("raw", "{%p endif %}"),
    (
        "p",
        "Wir haben den Werdegang und die Unterlagen geprüft; Hinweise auf eine Beteiligung an Handlungen gegen Zivilpersonen haben sich nicht ergeben.",
    ),
    ("p", "Mit freundlichen Grüßen"),
    ("p", "{{ ngo.caseworker }}"),
    ("p", "{{ ngo.name }}"),
]

_DE_INDEX: list[Block] = [
    ("h", "Anlagenverzeichnis"),
    ("p", "{{ procedure_title }} - {{ stage_title }}"),
    (
        "p",
        "Vorgang {{ case_id }}, Paket {{ packet_id }}, erstellt am {{ today }} für die Einreichung am {{ submission_date }}.",
    ),
    ("p", "Antragsteller: {{ applicant.full_name }}, geb. {{ applicant.birth_date }}."),
    *_index(["Nr.", "Unterlage", "Person", "Datum", "Sprache", "Übersetzungen"]),
    ("p", "{{ evidence_count }} Originalunterlage(n). Jede Übersetzung folgt dem übersetzten Original."),
]

_DE_ACCOUNT: list[Block] = [
    ("h", "Persönliche Schilderung"),
    (
        "p",
        "{{ applicant.full_name }}{% if applicant.full_name_native %} ({{ applicant.full_name_native }}){% endif %}, geb. {{ applicant.birth_date }}",
    ),
    ("p", "Vorgang {{ case_id }} - {{ procedure_title }}"),
    (
        "i",
        "Gerüst zum Ausfüllen durch den Antragsteller, auf Deutsch (oder übersetzt), in der Ich-Form, mit genauen Daten und Orten.",
    ),
    ("h2", "1. Zur Person"),
    ("p", "[Familie, Ausbildung, Beruf, Wohnort vor der Ausreise.]"),
    ("h2", "2. Militärdienst"),
    (
        "p",
        "Status: {{ military.service_label }}{% if military.rank %}, Dienstgrad: {{ military.rank }}{% endif %}{% if military.role %}, Verwendung: {{ military.role }}{% endif %}{% if military.unit %}, Einheit: {{ military.unit }}{% endif %}.",
    ),
    ("raw", "{%p for d in military.deployed %}"),
    (
        "p",
        "Einsatz: {{ d.from }}{% if d.to %} bis {{ d.to }}{% endif %}{% if d.area %}, {{ d.area }}{% endif %}. [Was ich getan und gesehen habe.]",
    ),
    ("raw", "{%p endfor %}"),
    ("h2", "3. Verlassen der Armee und Ausreise"),
    (
        "p",
        "{% if military.left_service_date %}Am {{ military.left_service_date }} ({{ military.left_service_how_label }}). {% endif %}[Warum, wie, auf welchem Weg.]",
    ),
    ("h2", "4. Strafverfolgung"),
    (
        "p",
        "{% for p in prosecution %}Art. {{ p.article }}{% if p.opened %}, Verfahren seit {{ p.opened }}{% endif %}{% if p.wanted %}, zur Fahndung ausgeschrieben{% endif %}. {% endfor %}[Wie ich davon erfahren habe, Belege.]",
    ),
    ("h2", "5. Lage im derzeitigen Aufenthaltsstaat"),
    (
        "p",
        "{% if location.country %}{{ location.country }}{% if location.city %}, {{ location.city }}{% endif %}. {% endif %}[Aufenthaltsstatus, Gefahr von Abschiebung oder Auslieferung.]",
    ),
    ("h2", "6. Was mir bei einer Rückkehr droht"),
    ("p", "[Strafe, erneuter Fronteinsatz, Repressalien gegen die Familie.]"),
    ("p", "Datum ..................... Unterschrift:"),
]

_DE_BAMF: list[Block] = [
    ("p", "{{ applicant.full_name }}"),
    ("p", "{{ contact.postal_address }}"),
    ("right", "{{ today }}"),
    *_ADDRESSEE,
    ("p", "Az. (intern): {{ case_id }} / {{ packet_id }}"),
    ("b", "Betreff: {{ stage_title }} - Übergabe von Unterlagen (§ 15 AsylG)"),
    ("p", "Sehr geehrte Damen und Herren,"),
    ("p", "ich übergebe die folgenden Unterlagen zu meinem Asylverfahren. Originale lege ich bei der Anhörung vor."),
    ("raw", "{%p for e in evidence %}"),
    (
        "p",
        "{{ e.number }}. {{ e.title }}{% if e.issued %} ({{ e.issued }}){% endif %}{% for t in e.translations %}, mit Übersetzung{% endfor %}",
    ),
    ("raw", "{%p endfor %}"),
    ("raw", "{%p if ngo.name %}"),
    ("p", "Ich werde von {{ ngo.name }} unterstützt."),
    ("raw", "{%p endif %}"),
    ("p", "Mit freundlichen Grüßen"),
    ("p", "{{ applicant.full_name }}"),
]

_DE_COURT: list[Block] = [
    ("right", "{{ today }}"),
    *_ADDRESSEE,
    ("b", "KLAGE"),
    (
        "p",
        "des {{ applicant.full_name }}, geb. {{ applicant.birth_date }}, Staatsangehörigkeit {% if applicant.citizenship == 'RU' %}russisch{% else %}{{ applicant.citizenship }}{% endif %}, wohnhaft {{ contact.postal_address }} - Kläger -",
    ),
    (
        "p",
        "gegen die Bundesrepublik Deutschland, vertreten durch das Bundesamt für Migration und Flüchtlinge - Beklagte -",
    ),
    ("p", "wegen Asylrecht (Az. intern {{ case_id }} / {{ packet_id }})"),
    ("h2", "Anträge"),
    (
        "p",
        "Es wird beantragt, den Bescheid des Bundesamtes aufzuheben und die Beklagte zu verpflichten, dem Kläger die Flüchtlingseigenschaft zuzuerkennen, hilfsweise subsidiären Schutz zu gewähren, hilfsweise Abschiebungsverbote festzustellen.",
    ),
    ("h2", "Begründung"),
    ("p", "[Begründung folgt innerhalb eines Monats (§ 74 Abs. 2 AsylG).] Der Bescheid ist beigefügt."),
    ("h2", "Anlagen"),
    ("raw", "{%p for e in evidence %}"),
    ("p", "{{ e.number }}. {{ e.title }}"),
    ("raw", "{%p endfor %}"),
    ("p", "Unterschrift:"),
]

# --- English (United States) --------------------------------------------------------------

_US_COVER: list[Block] = [
    *_SENDER,
    ("right", "{{ today }}"),
    *_ADDRESSEE,
    ("p", "Ref.: {{ case_id }} / {{ packet_id }}"),
    ("b", "Re: {{ procedure_title }} for {{ applicant.full_name }}, born {{ applicant.birth_date }}"),
    ("p", "Dear Officer,"),
    (
        "p",
        "Please find enclosed a request for humanitarian parole for {{ applicant.full_name }}, a citizen of "
        "{% if applicant.citizenship == 'RU' %}the Russian Federation{% else %}{{ applicant.citizenship }}{% endif %}"
        "{% if location.country %}, currently in {{ location.country }}{% endif %}.",
    ),
    ("raw", "{%p if accompanying %}"),
    (
        "p",
        "Accompanying family members: {% for p in accompanying %}{{ p.full_name }} ({{ p.relation_label }}, born {{ p.birth_date }}){% if not loop.last %}, {% endif %}{% endfor %}.",
    ),
    ("raw", "{%p endif %}"),
    (
        "p",
        "The enclosed documents ({{ evidence_count }} originals, each followed by its certified English translation where needed) are listed in the index.",
    ),
    ("p", "Sincerely,"),
    ("p", "{{ ngo.caseworker }}"),
    ("p", "{{ ngo.name }}"),
]

_US_SUPPORT: list[Block] = [
    *_SENDER,
    ("right", "{{ today }}"),
    *_ADDRESSEE,
    ("p", "Ref.: {{ case_id }} / {{ packet_id }}"),
    ("b", "Re: Letter of support - {{ procedure_title }}"),
    ("p", "Dear Officer,"),
    ("p", "{{ ngo.name }} supports the request of {{ applicant.full_name }}, born {{ applicant.birth_date }}."),
    ("raw", "{%p if military.service_label %}"),
    (
        "p",
        "{{ applicant.full_name }} served in the Russian armed forces as a {{ military.service_label }}{% if military.left_service_date %} and left service on {{ military.left_service_date }} ({{ military.left_service_how_label }}){% endif %}.",
    ),
    ("raw", "{%p endif %}"),
    ("raw", "{%p if prosecution %}"),
    (
        "p",
        "Criminal proceedings are pending: {% for p in prosecution %}Russian Criminal Code art. {{ p.article }}{% if p.opened %} (since {{ p.opened }}){% endif %}{% if p.wanted %}, on the wanted list{% endif %}{% if not loop.last %}; {% endif %}{% endfor %}.",
    ),
    ("raw", "{%p endif %}"),
    (
        "p",
        "We vetted this person's account and documents and found no indication of involvement in acts against civilians.",
    ),
    ("p", "Sincerely,"),
    ("p", "{{ ngo.caseworker }}"),
    ("p", "{{ ngo.name }}"),
]

_US_INDEX: list[Block] = [
    ("h", "Index of evidence"),
    ("p", "{{ procedure_title }} - {{ stage_title }}"),
    ("p", "Case {{ case_id }}, packet {{ packet_id }}, prepared {{ today }} for filing on {{ submission_date }}."),
    ("p", "Beneficiary: {{ applicant.full_name }}, born {{ applicant.birth_date }}."),
    *_index(["No.", "Document", "Person", "Date", "Language", "Translations"]),
    ("p", "{{ evidence_count }} original document(s). Each translation follows its original."),
]

TEMPLATES: dict[str, list[Block]] = {
    "fr/support_letter.docx": _FR_SUPPORT,
    "fr/evidence_index.docx": _FR_INDEX,
    "fr/personal_account.docx": _FR_ACCOUNT,
    "fr/ofpra_letter.docx": _FR_OFPRA,
    "fr/cnda_appeal.docx": _FR_CNDA,
    "de/cover_letter.docx": _DE_COVER,
    "de/support_letter.docx": _DE_SUPPORT,
    "de/evidence_index.docx": _DE_INDEX,
    "de/personal_account.docx": _DE_ACCOUNT,
    "de/bamf_letter.docx": _DE_BAMF,
    "de/court_letter.docx": _DE_COURT,
    "us/cover_letter.docx": _US_COVER,
    "us/support_letter.docx": _US_SUPPORT,
    "us/evidence_index.docx": _US_INDEX,
}


def render_template_docx(blocks: list[Block], language: str) -> bytes:
    """A DOCX holding the blocks as paragraphs and tables with their Jinja tags (stable bytes)."""
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Liberation Serif"
    style.font.size = Pt(11)
    props = doc.core_properties
    props.author = "Dossier"
    props.last_modified_by = "Dossier"
    props.created = _FIXED_TIME
    props.modified = _FIXED_TIME
    props.revision = 1
    props.language = language
    for block in blocks:
        kind = block[0]
        if kind == "table":
            _, headers, loop, cells = block
            table = doc.add_table(rows=4, cols=len(headers))
            table.style = "Table Grid"
            for i, h in enumerate(headers):
                table.rows[0].cells[i].paragraphs[0].add_run(str(h)).bold = True
            table.rows[1].cells[0].paragraphs[0].add_run(f"{{%tr for {loop} %}}")
            for i, c in enumerate(cells):
                table.rows[2].cells[i].paragraphs[0].add_run(str(c))
            table.rows[3].cells[0].paragraphs[0].add_run("{%tr endfor %}")
            continue
        text = str(block[1])
        if kind == "h":
            doc.add_heading(text, level=1)
        elif kind == "h2":
            doc.add_heading(text, level=2)
        else:
            para = doc.add_paragraph()
            run = para.add_run(text)
            if kind == "b":
                run.bold = True
            elif kind == "i":
                run.italic = True
            elif kind == "right":
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    raw = io.BytesIO()
    doc.save(raw)
    return _stable_zip(raw.getvalue())


def _stable_zip(data: bytes) -> bytes:
    """Rewrite a DOCX zip with fixed timestamps so regenerating gives the same bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2024, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def write_templates(root: Path = TEMPLATES_ROOT) -> list[Path]:
    """Write every rules template under root; returns the paths written."""
    written = []
    for rel, blocks in TEMPLATES.items():
        language = {"fr": "fr-FR", "de": "de-DE", "us": "en-US"}[rel.split("/", 1)[0]]
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(render_template_docx(blocks, language))
        written.append(path)
    return written


if __name__ == "__main__":
    for p in write_templates():
        print(p)
