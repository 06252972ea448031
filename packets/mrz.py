"""The machine-readable zone of a passport or ID card (ICAO Doc 9303, TD3 and TD1), read from OCR text.

Only a zone whose check digits all agree is returned, so an OCR slip never pre-fills a wrong date.
The values are personal data: they go to the form of the person who uploaded the scan, never to a log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

__all__ = ["MachineZone", "check_digit", "find_zone"]

_WEIGHTS = (7, 3, 1)
_LINE = re.compile(r"^[A-Z0-9<]+$")
# ICAO 9303 part 3 codes of the nationalities this NGO work meets most; others keep their 3 letters out.
_ALPHA2 = {
    "RUS": "RU", "UKR": "UA", "BLR": "BY", "KAZ": "KZ", "ARM": "AM", "GEO": "GE", "AZE": "AZ", "KGZ": "KG",
    "UZB": "UZ", "TJK": "TJ", "TKM": "TM", "MDA": "MD", "SRB": "RS", "TUR": "TR", "ISR": "IL", "MNG": "MN",
    "FRA": "FR", "D": "DE", "DEU": "DE", "USA": "US", "GBR": "GB", "POL": "PL", "LTU": "LT", "LVA": "LV",
    "EST": "EE", "FIN": "FI", "CZE": "CZ", "ITA": "IT", "ESP": "ES", "NLD": "NL", "BEL": "BE", "AUT": "AT",
    "CHE": "CH", "CAN": "CA",
}  # fmt: skip


def check_digit(field: str) -> int:
    """The ICAO 9303 check digit: digits as themselves, A-Z as 10-35, '<' as 0, weights 7-3-1."""
    total = 0
    for i, ch in enumerate(field):
        if ch.isdigit():
            value = int(ch)
        elif "A" <= ch <= "Z":
            value = ord(ch) - 55
        else:
            value = 0
        total += value * _WEIGHTS[i % 3]
    return total % 10


@dataclass(frozen=True)
class MachineZone:
    """What a valid zone says, in the case form's terms."""

    document_type: str
    issuer: str
    family_name: str
    given_name: str
    document_number: str
    nationality: str
    birth_date: str | None  # ISO
    sex: str | None  # M, F or X
    expires: str | None  # ISO

    def form_values(self) -> dict[str, str]:
        """Pre-fill values for the applicant's identity fields (only what the zone states)."""
        out = {"applicant.family_name": self.family_name, "applicant.given_name": self.given_name}
        if self.birth_date:
            out["applicant.birth_date"] = self.birth_date
        if self.sex:
            out["applicant.sex"] = self.sex
        alpha2 = _ALPHA2.get(self.nationality.strip("<"))
        if alpha2:
            out["applicant.citizenship"] = alpha2
        return {k: v for k, v in out.items() if v}


def _clean(line: str) -> str:
    """An OCR line as MRZ characters: spaces dropped, look-alikes of '<' mapped back."""
    text = line.strip().upper().replace(" ", "")
    for wrong in ("«", "‹", "＜", "(", "[", "{"):
        text = text.replace(wrong, "<")
    return text


def _date(yymmdd: str, *, future: bool, today: date) -> str | None:
    if not yymmdd.isdigit():
        return None
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    century = 2000 if (future or yy <= today.year % 100) else 1900
    try:
        return date(century + yy, mm, dd).isoformat()
    except ValueError:
        return None


def _names(field: str) -> tuple[str, str]:
    family, _, given = field.partition("<<")
    return family.replace("<", " ").strip().title(), given.replace("<", " ").strip().title()


def _sex(ch: str) -> str | None:
    return {"M": "M", "F": "F", "<": "X", "X": "X"}.get(ch)


def _ok(field: str, digit: str) -> bool:
    return digit.isdigit() and check_digit(field) == int(digit)


_TO_DIGIT = str.maketrans({"O": "0", "Q": "0", "D": "0", "I": "1", "L": "1", "Z": "2", "S": "5", "G": "6", "B": "8"})
_TO_LETTER = str.maketrans({"0": "O", "1": "I", "2": "Z", "5": "S", "6": "G", "8": "B"})


def _fix(line: str, digits: tuple[tuple[int, int], ...], letters: tuple[tuple[int, int], ...] = ()) -> str:
    """OCR look-alikes put right where ICAO 9303 allows only digits (dates, check digits) or only letters."""
    chars = list(line)
    for start, end in digits:
        for i in range(start, min(end, len(chars))):
            chars[i] = chars[i].translate(_TO_DIGIT)
    for start, end in letters:
        for i in range(start, min(end, len(chars))):
            chars[i] = chars[i].translate(_TO_LETTER)
    return "".join(chars)


def _padded(line: str, width: int) -> str:
    """A line whose run of trailing fillers OCR shortened, filled back to its width."""
    return line.ljust(width, "<") if len(line) < width and line.endswith("<") else line


def _td3(l1: str, l2: str, today: date) -> MachineZone | None:
    l1 = _padded(l1, 44)
    if len(l1) != 44 or len(l2) != 44 or not l1.startswith("P"):
        return None
    l1 = _fix(l1, (), ((2, 5),))
    l2 = _fix(l2, ((9, 10), (13, 20), (21, 28), (43, 44)), ((10, 13),))
    number, birth, expiry, personal = l2[0:9], l2[13:19], l2[21:27], l2[28:42]
    composite = l2[0:10] + l2[13:20] + l2[21:43]
    personal_ok = _ok(personal, l2[42]) or (personal.strip("<") == "" and l2[42] in "<0")
    if not (_ok(number, l2[9]) and _ok(birth, l2[19]) and _ok(expiry, l2[27]) and personal_ok):
        return None
    if not _ok(composite, l2[43]):
        return None
    family, given = _names(l1[5:44])
    return MachineZone(
        document_type=l1[0:2].strip("<"),
        issuer=l1[2:5].strip("<"),
        family_name=family,
        given_name=given,
        document_number=number.strip("<"),
        nationality=l2[10:13],
        birth_date=_date(birth, future=False, today=today),
        sex=_sex(l2[20]),
        expires=_date(expiry, future=True, today=today),
    )


def _td1(l1: str, l2: str, l3: str, today: date) -> MachineZone | None:
    l1, l2, l3 = _padded(l1, 30), _padded(l2, 30), _padded(l3, 30)
    if not (len(l1) == len(l2) == len(l3) == 30) or l1[0] not in "ACI":
        return None
    l1 = _fix(l1, ((14, 15),), ((2, 5),))
    l2 = _fix(l2, ((0, 7), (8, 15), (29, 30)), ((15, 18),))
    number, birth, expiry = l1[5:14], l2[0:6], l2[8:14]
    composite = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
    if not (_ok(number, l1[14]) and _ok(birth, l2[6]) and _ok(expiry, l2[14]) and _ok(composite, l2[29])):
        return None
    family, given = _names(l3)
    return MachineZone(
        document_type=l1[0:2].strip("<"),
        issuer=l1[2:5].strip("<"),
        family_name=family,
        given_name=given,
        document_number=number.strip("<"),
        nationality=l2[15:18],
        birth_date=_date(birth, future=False, today=today),
        sex=_sex(l2[7]),
        expires=_date(expiry, future=True, today=today),
    )


def find_zone(text: str, today: date | None = None) -> MachineZone | None:
    """The first machine-readable zone in OCR text whose check digits agree, or None."""
    day = today or date.today()
    lines = [c for c in (_clean(x) for x in text.splitlines()) if len(c) >= 12 and _LINE.match(c)]
    for i in range(len(lines)):
        if i + 1 < len(lines):
            zone = _td3(lines[i], lines[i + 1], day)
            if zone:
                return zone
        if i + 2 < len(lines):
            zone = _td1(lines[i], lines[i + 1], lines[i + 2], day)
            if zone:
                return zone
    return None
