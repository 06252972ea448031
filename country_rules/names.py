"""Names in Latin script must match the ICAO 9303 transliteration of the native name (as on passports)."""

from __future__ import annotations

import iuliia

from casefile.model import Case, Person

_FIELDS = (("given_name", "given_name_native", "given name"), ("family_name", "family_name_native", "family name"))


def icao_transliteration(native: str) -> str:
    """The ICAO Doc 9303 transliteration of a Cyrillic name (Russian machine-readable passports)."""
    return str(iuliia.ICAO_DOC_9303.translate(native))


def _norm(name: str) -> str:
    return " ".join(name.replace("-", " ").split()).casefold()


def name_warnings(case: Case) -> list[str]:
    """One warning per Latin name that differs from the transliteration of its native form (no names)."""
    out: list[str] = []
    people: tuple[Person, ...] = case.persons
    for person in people:
        for latin_attr, native_attr, words in _FIELDS:
            native = getattr(person, native_attr)
            latin = getattr(person, latin_attr)
            if native and latin and _norm(icao_transliteration(native)) != _norm(latin):
                out.append(
                    f"{person.person_id}: {words} differs from the ICAO 9303 transliteration of {native_attr} "
                    f"(check it against the passport's machine-readable zone; older documents used other schemes)"
                )
    return out
