"""Checks on the DOCX letter templates that `dossier rules lint` runs: A4, language, variables, placeholders.

Templates are the legal advisers' sources (edited in Word or LibreOffice); this module only reads them.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from pathlib import Path

from core.errors import RulesError
from country_rules.letters import GROUP_LETTER_VARIABLES, LETTER_VARIABLES

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_DC = "{http://purl.org/dc/elements/1.1/}"
A4_TWIPS = (11906, 16838)  # 210 x 297 mm
_TOLERANCE = 30  # twips (about 0.5 mm): Word and LibreOffice round differently
_TAG = re.compile(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}", re.S)
_PLACEHOLDERS = (
    (re.compile(r"\[[^\]\n]{2,}\]"), "a bracketed placeholder"),
    (re.compile(r"\bX{3,}\b"), "XXX"),
    (re.compile(r"\b(TODO|TBD|FIXME)\b"), "a TODO marker"),
    (re.compile(r"lorem ipsum", re.I), "lorem ipsum"),
    (re.compile(r"\.{5,}|_{5,}"), "a dotted or underlined blank to fill in by hand"),
    (re.compile(r"<<[^>]*>>"), "a mail-merge field"),
)
# Words that give away a sentence in another language (a few each, frequent and unambiguous).
_FOREIGN = {
    "en": {"the", "and", "with", "please", "dear", "sincerely", "enclosed", "letter", "support", "of", "for"},
    "fr": {"le", "les", "des", "avec", "nous", "vous", "madame", "monsieur", "pièces", "est"},
    "de": {"der", "die", "und", "mit", "wir", "sehr", "geehrte", "ist", "nicht"},
}
_FOLDER_LANGUAGE = {"fr": "fr", "de": "de", "us": "en", "ru": "ru", "kz": "ru", "am": "ru"}


@dataclass(frozen=True)
class TemplateFacts:
    """What lint needs from a DOCX: page sizes, declared languages, visible text, title."""

    page_sizes: tuple[tuple[int, int], ...]
    languages: tuple[str, ...]
    text: str
    title: str


def read_template(path: Path) -> TemplateFacts:
    """Page sizes (twips), w:lang values, the text outside Jinja tags and the title of a DOCX."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            document = ET.fromstring(zf.read("word/document.xml"))  # noqa: S314 - the adviser's own file
            styles = ET.fromstring(zf.read("word/styles.xml")) if "word/styles.xml" in names else None  # noqa: S314
            core = ET.fromstring(zf.read("docProps/core.xml")) if "docProps/core.xml" in names else None  # noqa: S314
    except (OSError, KeyError, zipfile.BadZipFile, ET.ParseError) as exc:
        raise RulesError(f"template {path.name} is not a readable DOCX ({type(exc).__name__})") from None
    sizes = []
    for pg in document.iter(f"{_W}pgSz"):
        w, h = pg.get(f"{_W}w"), pg.get(f"{_W}h")
        if w and h:
            sizes.append((int(w), int(h)))
    langs = [el.get(f"{_W}val", "") for tree in (styles, document) if tree is not None for el in tree.iter(f"{_W}lang")]
    paragraphs = ["".join(t.text or "" for t in p.iter(f"{_W}t")) for p in document.iter(f"{_W}p")]
    text = _TAG.sub(" ", "\n".join(paragraphs))
    title = (core.findtext(f"{_DC}title") or "").strip() if core is not None else ""
    return TemplateFacts(tuple(sizes), tuple(x for x in langs if x), text, title)


def template_problems(path: Path, language: str | None, provided: frozenset[str]) -> list[str]:
    """Everything wrong with one template for a letter in `language` whose stage provides `provided`."""
    from docxtpl import DocxTemplate

    where = f"templates/{path.parent.name}/{path.name}"
    try:
        facts = read_template(path)
    except RulesError as exc:
        return [exc.message]
    problems = []
    if not facts.page_sizes:
        problems.append(f"{where}: no page size set (Layout > Size: A4)")
    for w, h in facts.page_sizes:
        if abs(w - A4_TWIPS[0]) > _TOLERANCE or abs(h - A4_TWIPS[1]) > _TOLERANCE:
            problems.append(
                f"{where}: page is {w / 56.7:.0f} x {h / 56.7:.0f} mm, not A4 (Layout > Size: A4, 210 x 297 mm)"
            )
    if language:
        wrong = sorted({x for x in facts.languages if not x.lower().startswith(language)})
        if not facts.languages or wrong:
            problems.append(
                f"{where}: text language is {', '.join(wrong) or 'not set'}, the letter is in {language!r} "
                "(select all, Tools > Language, then save)"
            )
        problems.extend(_foreign_words(where, facts.text, language))
    try:
        used = frozenset(DocxTemplate(str(path)).get_undeclared_template_variables())
    except Exception as exc:  # noqa: BLE001 - a broken Jinja tag is reported, not raised
        problems.append(f"{where}: a {{{{ }}}} or {{% %}} tag cannot be read ({type(exc).__name__}: {exc})")
        used = frozenset()
    unknown = sorted(used - provided)
    if unknown:
        problems.append(f"{where}: uses variable(s) the stage does not provide: {', '.join(unknown)}")
    for pattern, what in _PLACEHOLDERS:
        found = pattern.search(facts.text)
        if found:
            problems.append(f"{where}: leftover placeholder ({what}): {found.group(0)[:40]!r}")
    if not facts.title:
        problems.append(f"{where}: no title (File > Properties > Title): the index and bookmarks show it")
    return problems


def _foreign_words(where: str, text: str, language: str) -> list[str]:
    if language == "ru":
        latin = re.findall(r"[A-Za-z]{4,}", text)
        cyrillic = re.findall(r"[А-Яа-яЁё]{4,}", text)
        return (
            [f"{where}: the letter is in Russian but most words are in Latin script"]
            if len(latin) > len(cyrillic)
            else []
        )
    words = [w.lower() for w in re.findall(r"[^\W\d_]+", text)]
    out = []
    for other, markers in _FOREIGN.items():
        if other == language:
            continue
        seen = sorted({w for w in words if w in markers} - _FOREIGN.get(language, set()))
        if len(seen) >= 3:
            out.append(
                f"{where}: looks like it holds {other!r} text ({', '.join(seen[:5])}); the letter is in {language!r}"
            )
    return out


def lint_templates(root: Path, templates_root: Path) -> list[str]:
    """Problems in every template a country's stages name (checked in that country's language), then the rest."""
    from country_rules.loading import load_country_dir

    problems: list[str] = []
    checked: set[tuple[Path, str | None]] = set()
    for d in sorted(p for p in root.iterdir() if (p / "country.yaml").is_file()):
        try:
            rules = load_country_dir(d)
        except RulesError:
            continue  # lint reports the broken rules file itself
        for proc in rules.procedures.values():
            for stage in proc.stages:
                for letter in stage.letters:
                    path = templates_root / letter.template
                    if path.is_file() and (path, rules.language) not in checked:
                        checked.add((path, rules.language))
                        problems.extend(template_problems(path, rules.language, LETTER_VARIABLES))
    named = {p for p, _ in checked}
    for path in sorted(templates_root.glob("*/*.docx")):
        if path in named:
            continue
        folder = path.parent.name
        if folder == "shared":
            suffix = path.stem.rsplit("_", 1)[-1]
            problems.extend(template_problems(path, suffix if len(suffix) == 2 else None, GROUP_LETTER_VARIABLES))
        else:
            problems.extend(template_problems(path, _FOLDER_LANGUAGE.get(folder), LETTER_VARIABLES))
    return problems
