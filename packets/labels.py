"""Words the bundle itself prints (index, bookmarks, stamp), per language, from packets/words.yaml."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from core.yamlio import load_yaml_text

_WORDS_FILE = Path(__file__).resolve().parent / "words.yaml"


@cache
def _table() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml_text(_WORDS_FILE.read_text(encoding="utf-8"), "packets/words.yaml")
    return data


def bundle_language(language: str) -> str:
    """The language the bundle's own words print in: the letters' language when words.yaml has it, else English."""
    return language if language in _table()["words"] else "en"


def section_title(section: str, language: str) -> str:
    """The heading of a bundle section in the packet's language."""
    table = _table()["sections"].get(bundle_language(language), {})
    return str(table.get(section, section))


def word(key: str, language: str) -> str:
    """One fixed word of the bundle in the packet's language (English when unknown)."""
    words = _table()["words"]
    return str(words[bundle_language(language)].get(key, words["en"][key]))
