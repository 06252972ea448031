"""The evidence kinds every country may rely on (SPEC section 4, contract); rules may add more."""

from __future__ import annotations

CONTRACT_KINDS: frozenset[str] = frozenset(
    {
        "identity.internal_passport",
        "identity.international_passport",
        "identity.birth_certificate",
        "identity.photo",
        "military.id_card",
        "military.contract",
        "military.orders",
        "military.discharge_request",
        "prosecution.case_notice",
        "prosecution.wanted_notice",
        "record.no_criminal_record",
        "vetting.report",
        "statement.personal",
        "support.ngo_letter",
        "activity.anti_war",
        "residence.host_permit",
        "residence.host_asylum_decision",
        "family.marriage_certificate",
        "family.birth_certificate",
        "employment.job_offer",
        "employment.contract",
        "education.diploma",
        "asylum.registration_certificate",
        "asylum.decision",
        "translation",
    }
)

# Sections of the bundle, in the order a reader expects them (identity first).
SECTION_ORDER: tuple[str, ...] = (
    "identity",
    "military",
    "prosecution",
    "vetting",
    "statement",
    "support",
    "residence",
    "family",
    "other",
)

_SECTION_OF_PREFIX = {
    "identity": "identity",
    "military": "military",
    "prosecution": "prosecution",
    "record": "prosecution",
    "vetting": "vetting",
    "statement": "statement",
    "activity": "support",
    "support": "support",
    "residence": "residence",
    "asylum": "residence",
    "family": "family",
}


def section_of(kind: str) -> str:
    """The bundle section an evidence kind is filed under."""
    return _SECTION_OF_PREFIX.get(kind.split(".", 1)[0], "other")
