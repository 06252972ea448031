"""Words the bundle itself prints (index, bookmarks), per language; evidence titles come from the letters."""

from __future__ import annotations

_SECTIONS = {
    "fr": {
        "identity": "Identité et état civil",
        "military": "Service militaire",
        "prosecution": "Poursuites pénales et casier judiciaire",
        "vetting": "Vérification par l'association",
        "statement": "Récit personnel",
        "support": "Soutiens et engagement",
        "residence": "Séjour et asile",
        "family": "Famille",
        "other": "Autres pièces",
    },
    "de": {
        "identity": "Identität und Personenstand",
        "military": "Militärdienst",
        "prosecution": "Strafverfolgung und Strafregister",
        "vetting": "Prüfung durch die Organisation",
        "statement": "Persönliche Schilderung",
        "support": "Unterstützung und Engagement",
        "residence": "Aufenthalt und Asyl",
        "family": "Familie",
        "other": "Weitere Unterlagen",
    },
    "en": {
        "identity": "Identity and civil status",
        "military": "Military service",
        "prosecution": "Prosecution and criminal record",
        "vetting": "NGO vetting",
        "statement": "Personal statement",
        "support": "Support and activity",
        "residence": "Residence and asylum",
        "family": "Family",
        "other": "Other documents",
    },
}

_WORDS = {
    "fr": {
        "index": "Bordereau des pièces",
        "letters": "Courrier d'accompagnement",
        "letter": "Lettre",
        "case": "Dossier",
        "packet": "Paquet",
        "pages": "pages",
        "documents": "pièces",
        "page_col": "Pages",
        "doc_col": "Pièce",
        "translation": "Traduction",
        "sworn_translation": "Traduction assermentée",
        "blank": "Page laissée blanche intentionnellement",
        "group_index": "Bordereau de la demande groupée",
        "member": "Membre",
        "persons": "personnes",
        "group": "Groupe",
    },
    "de": {
        "index": "Anlagenverzeichnis",
        "letters": "Anschreiben",
        "letter": "Schreiben",
        "case": "Fall",
        "packet": "Paket",
        "pages": "Seiten",
        "documents": "Anlagen",
        "page_col": "Seiten",
        "doc_col": "Anlage",
        "translation": "Übersetzung",
        "sworn_translation": "Beglaubigte Übersetzung",
        "blank": "Diese Seite bleibt absichtlich leer",
        "group_index": "Verzeichnis des Gruppenantrags",
        "member": "Mitglied",
        "persons": "Personen",
        "group": "Gruppe",
    },
    "en": {
        "index": "Index of documents",
        "letters": "Cover letter",
        "letter": "Letter",
        "case": "Case",
        "packet": "Packet",
        "pages": "pages",
        "documents": "documents",
        "page_col": "Pages",
        "doc_col": "Document",
        "translation": "Translation",
        "sworn_translation": "Sworn translation",
        "blank": "This page is intentionally left blank",
        "group_index": "Index of the group submission",
        "member": "Member",
        "persons": "persons",
        "group": "Group",
    },
}


def section_title(section: str, language: str) -> str:
    """The heading of a bundle section in the packet's language."""
    table = _SECTIONS.get(language, _SECTIONS["en"])
    return table.get(section, section)


def word(key: str, language: str) -> str:
    """One fixed word of the bundle in the packet's language (English when unknown)."""
    return _WORDS.get(language, _WORDS["en"]).get(key, _WORDS["en"][key])
