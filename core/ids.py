"""The formats of the opaque ids (case, packet, group), checked before an id goes anywhere.

An id typed by a person may be a name or a mistyped path: it is checked here, before it reaches a
flow run, a log line or an object key, and a refusal never repeats what was typed.
"""

from __future__ import annotations

import re

from core.errors import BadInput

__all__ = ["CASE_ID_PATTERN", "GROUP_ID_PATTERN", "PACKET_ID_PATTERN", "check_case_id", "check_packet_ref", "kind_of"]

_CROCKFORD = "0-9A-HJKMNP-TV-Z"
CASE_ID_PATTERN = rf"^[{_CROCKFORD}]{{4}}-[{_CROCKFORD}]{{4}}$"
PACKET_ID_PATTERN = rf"^P-[{_CROCKFORD}]{{12}}$"
GROUP_ID_PATTERN = rf"^G-[{_CROCKFORD}]{{12}}$"
_CASE = re.compile(CASE_ID_PATTERN)
_PACKET = re.compile(PACKET_ID_PATTERN)
_GROUP = re.compile(GROUP_ID_PATTERN)
# Letters people confuse with Crockford digits; Crockford decoding maps them the same way.
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})


def kind_of(value: str) -> str | None:
    """'case', 'packet' or 'group' for a well-formed id, else None."""
    if not isinstance(value, str):
        return None
    if _CASE.match(value):
        return "case"
    if _PACKET.match(value):
        return "packet"
    if _GROUP.match(value):
        return "group"
    return None


def _hint(expected: str, value: str) -> str:
    fixed = value.strip().upper().translate(_CONFUSABLE) if isinstance(value, str) else ""
    if fixed != value and kind_of(fixed) == expected:
        return f"did you mean {fixed}? (ids use the digits 0 and 1, never the letters O, I or L)"
    examples = {"case": "K7Q2-M9XD", "packet": "P-0123456789AB", "group": "G-0123456789AB"}
    return f"a {expected} id looks like {examples[expected]}; copy it from `dossier case list` or the build output"


def check_case_id(value: str) -> str:
    """The case id itself when well formed; BadInput (never quoting the value) otherwise."""
    if kind_of(value) == "case":
        return value
    raise BadInput("the case id given is not a case id (it is not of the form XXXX-XXXX)", hint=_hint("case", value))


def check_packet_ref(value: str) -> str:
    """A packet or group id when well formed; BadInput (never quoting the value) otherwise."""
    if kind_of(value) in ("packet", "group"):
        return value
    raise BadInput(
        "the packet id given is not a packet or group id (P-... or G-... with 12 characters)",
        hint=_hint("packet", value),
    )
