"""Find the country packages and turn their YAML into the typed rules (strict, with file and line).

A country package is a folder under country_rules/ holding `country.yaml` (id, name,
language, evidence kinds it adds) and `procedures/*.yaml` (one procedure per file).
Its YAML test cases live in `tests/` beside them and are not part of the rules.
"""

from __future__ import annotations

import difflib
import itertools
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from core.errors import RulesError
from core.hashing import sha256_hex
from country_rules.model import (
    CountryRules,
    DeadlineRule,
    Letter,
    Notice,
    PacketTranslation,
    Procedure,
    Requirement,
    RuleText,
    Source,
    Stage,
    Suspension,
    Translation,
    Validity,
)
from country_rules.yamlsource import Located, check_schema, display_path, load_located

RULES_ROOT = Path(__file__).resolve().parent
TEMPLATES_ROOT = RULES_ROOT.parent / "templates"
SCREENING_DIR = RULES_ROOT / "screening"

_TEXT_KEYS = ("valid_from", "valid_to", "last_reviewed", "source", "note")
_OVERRIDABLE = ("title", "kinds", "field", "applies_to", "when", "validity", "translation", "basis", "blocking")


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _source(raw: dict[str, Any]) -> Source:
    return Source(title=raw["title"], url=raw.get("url", ""), article=raw.get("article", ""))


def _validity(raw: dict[str, Any] | None) -> Validity | None:
    if not raw:
        return None
    return Validity(
        max_age_days=raw.get("max_age_days"),
        max_age_months=raw.get("max_age_months"),
        not_expired=bool(raw.get("not_expired", False)),
        warn_age_days=raw.get("warn_age_days"),
    )


def _translation(raw: dict[str, Any] | None) -> Translation | None:
    if not raw:
        return None
    return Translation(
        accepted=tuple(raw["accepted"]), sworn=bool(raw.get("sworn", True)), required=bool(raw.get("required", True))
    )


def _requirement(doc: Located, raw: dict[str, Any], path: tuple[str | int, ...]) -> Requirement:
    texts_raw: list[tuple[dict[str, Any], tuple[str | int, ...]]]
    if "texts" in raw:
        texts_raw = [(t, (*path, "texts", i)) for i, t in enumerate(raw["texts"])]
    else:
        texts_raw = [({k: raw[k] for k in _TEXT_KEYS if k in raw}, path)]
    texts: list[RuleText] = []
    for t, tpath in texts_raw:
        merged = {k: raw.get(k) for k in _OVERRIDABLE} | {k: t[k] for k in _OVERRIDABLE if k in t}
        if not merged.get("kinds") and not merged.get("field"):
            raise RulesError(f"{doc.where(tpath)}: requirement {raw['id']!r} names no evidence kinds and no field")
        basis = merged.get("basis") or "law"
        blocking = merged.get("blocking")
        texts.append(
            RuleText(
                requirement=raw["id"],
                title=str(merged["title"]),
                kinds=tuple(merged.get("kinds") or ()),
                applies_to=merged.get("applies_to") or "applicant",
                when=tuple(merged.get("when") or ()),
                validity=_validity(merged.get("validity")),
                translation=_translation(merged.get("translation")),
                field=merged.get("field"),
                source=_source(t["source"]),
                valid_from=date.fromisoformat(t["valid_from"]),
                valid_to=_day(t.get("valid_to")),
                last_reviewed=date.fromisoformat(t["last_reviewed"]),
                note=(t.get("note") or "").strip(),
                file=doc.file,
                line=doc.line(tpath),
                basis=basis,
                blocking=(basis == "law") if blocking is None else bool(blocking),
            )
        )
    texts.sort(key=lambda x: x.valid_from)
    for a, b in itertools.pairwise(texts):
        if a.valid_to is None or a.valid_to >= b.valid_from:
            raise RulesError(
                f"{display_path(doc.file)}, line {b.line}: requirement {raw['id']!r} has two texts in force "
                f"on {b.valid_from.isoformat()}",
                hint="give the earlier text a valid_to before the later text's valid_from",
            )
    for x in texts:
        if x.valid_to is not None and x.valid_to < x.valid_from:
            raise RulesError(f"{display_path(doc.file)}, line {x.line}: valid_to is before valid_from")
    return Requirement(id=raw["id"], texts=tuple(texts), line=doc.line(path))


def _letter(doc: Located, raw: str | dict[str, Any], path: tuple[str | int, ...]) -> Letter:
    if isinstance(raw, str):
        return Letter(template=raw, line=doc.line(path))
    return Letter(
        template=raw["template"],
        valid_from=_day(raw.get("valid_from")),
        valid_to=_day(raw.get("valid_to")),
        line=doc.line(path),
    )


def _suspensions(doc: Located, raws: list[dict[str, Any]], path: tuple[str | int, ...]) -> tuple[Suspension, ...]:
    return tuple(
        Suspension(
            since=date.fromisoformat(r["since"]),
            until=_day(r.get("until")),
            reason=r["reason"].strip(),
            source=_source(r["source"]),
            last_reviewed=date.fromisoformat(r["last_reviewed"]),
            unless=tuple(r.get("unless") or ()),
            exception=(r.get("exception") or "").strip(),
            note=(r.get("note") or "").strip(),
            line=doc.line((*path, i)),
        )
        for i, r in enumerate(raws)
    )


def load_procedure(file: Path) -> Procedure:
    """Read one procedure file strictly; any problem names the file and line."""
    doc = load_located(file)
    check_schema(doc, "procedure_file")
    raw = doc.data
    if raw["procedure"] != file.stem:
        raise RulesError(
            f"{doc.where(('procedure',))}: procedure {raw['procedure']!r} must match the file name {file.name!r}"
        )
    stages: list[Stage] = []
    seen_stages: set[str] = set()
    for si, s in enumerate(raw["stages"]):
        spath: tuple[str | int, ...] = ("stages", si)
        if s["id"] in seen_stages:
            raise RulesError(f"{doc.where((*spath, 'id'))}: stage {s['id']!r} is defined twice")
        seen_stages.add(s["id"])
        reqs: list[Requirement] = []
        seen_reqs: set[str] = set()
        for ri, r in enumerate(s["requirements"]):
            rpath = (*spath, "requirements", ri)
            if r["id"] in seen_reqs:
                raise RulesError(f"{doc.where((*rpath, 'id'))}: requirement {r['id']!r} is defined twice in this stage")
            seen_reqs.add(r["id"])
            reqs.append(_requirement(doc, r, rpath))
        stages.append(
            Stage(
                id=s["id"],
                title=s["title"],
                title_local=s.get("title_local") or s["title"],
                requirements=tuple(reqs),
                letters=tuple(_letter(doc, x, (*spath, "letters", i)) for i, x in enumerate(s.get("letters", []))),
                addressee=tuple(s.get("addressee", [])),
                note=(s.get("note") or "").strip(),
                line=doc.line(spath),
                suspensions=_suspensions(doc, s.get("suspended") or [], (*spath, "suspended")),
            )
        )
    deadlines = tuple(
        DeadlineRule(
            id=d["id"],
            event=d["event"],
            days=d.get("days", 0),
            weeks=d.get("weeks", 0),
            months=d.get("months", 0),
            what=d["what"],
            source=_source(d["source"]),
            stages=tuple(d.get("stages", [])),
            valid_from=_day(d.get("valid_from")),
            valid_to=_day(d.get("valid_to")),
            note=(d.get("note") or "").strip(),
            line=doc.line(("deadlines", i)),
            when=tuple(d.get("when") or ()),
        )
        for i, d in enumerate(raw.get("deadlines", []))
    )
    notices = tuple(
        Notice(
            text=n["text"].strip(),
            source=_source(n["source"]),
            valid_from=_day(n.get("valid_from")),
            valid_to=_day(n.get("valid_to")),
            last_reviewed=date.fromisoformat(n["last_reviewed"]),
            line=doc.line(("notices", i)),
        )
        for i, n in enumerate(raw.get("notices", []))
    )
    return Procedure(
        id=raw["procedure"],
        title=raw["title"],
        title_local=raw.get("title_local") or raw["title"],
        stages=tuple(stages),
        deadlines=deadlines,
        notices=notices,
        file=file,
        suspensions=_suspensions(doc, raw.get("suspended") or [], ("suspended",)),
    )


def load_country_dir(directory: Path) -> CountryRules:
    """Read a whole country package (country.yaml + procedures/*.yaml), uncached."""
    doc = load_located(directory / "country.yaml")
    check_schema(doc, "country_file")
    procedures: dict[str, Procedure] = {}
    files = [directory / "country.yaml"]
    for file in sorted((directory / "procedures").glob("*.yaml")):
        proc = load_procedure(file)
        procedures[proc.id] = proc
        files.append(file)
    if not procedures:
        raise RulesError(f"{display_path(directory)}: no procedures/*.yaml in this country package")
    return CountryRules(
        id=doc.data["id"],
        name=doc.data["name"],
        language=doc.data["language"],
        directory=directory,
        procedures=procedures,
        kind_labels={k: dict(v) for k, v in (doc.data.get("kinds") or {}).items()},
        files=tuple(files),
        translation=_packet_translation(doc.data.get("translation")),
    )


def _packet_translation(raw: dict[str, Any] | None) -> PacketTranslation | None:
    if not raw:
        return None
    return PacketTranslation(
        accepted=tuple(raw["accepted"]),
        source=_source(raw["source"]),
        valid_from=date.fromisoformat(raw["valid_from"]),
        last_reviewed=date.fromisoformat(raw["last_reviewed"]),
        note=(raw.get("note") or "").strip(),
        sworn=bool(raw.get("sworn", True)),
    )


def did_you_mean(name: str, valid: list[str] | set[str] | dict[str, Any]) -> str:
    """' (did you mean X?)' with the closest valid names, or '' when none is close."""
    close = difflib.get_close_matches(name, sorted(valid), n=3, cutoff=0.5)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def country_dirs(root: Path = RULES_ROOT) -> dict[str, Path]:
    """Country id -> package folder, for every folder under root that holds a country.yaml."""
    out: dict[str, Path] = {}
    for d in sorted(p for p in root.iterdir() if (p / "country.yaml").is_file()):
        doc = load_located(d / "country.yaml")
        cid = doc.data.get("id") if isinstance(doc.data, dict) else None
        if not isinstance(cid, str):
            raise RulesError(f"{display_path(d / 'country.yaml')}, line 1: id is required")
        if cid in out:
            raise RulesError(f"{doc.where(('id',))}: country id {cid!r} is also used by {display_path(out[cid])}")
        out[cid] = d
    return out


@cache
def _known_dirs() -> dict[str, Path]:
    return country_dirs()


def countries() -> list[str]:
    """Ids of every country package shipped (fr, de, ...), sorted."""
    return sorted(_known_dirs())


@cache
def country_rules(country: str) -> CountryRules:
    """The rules of one country (cached); RulesError lists the valid ids when it is unknown."""
    dirs = _known_dirs()
    if country not in dirs:
        raise RulesError(
            f"unknown country {country!r}{did_you_mean(country, dirs)}; known countries: {', '.join(sorted(dirs))}",
            hint="set `country:` in case.yaml to one of them",
        )
    return load_country_dir(dirs[country])


def procedure_of(country: str, procedure: str) -> Procedure:
    """A procedure of a country; RulesError lists the valid ones when it is unknown."""
    rules = country_rules(country)
    if procedure not in rules.procedures:
        raise RulesError(
            f"unknown procedure {procedure!r} for country {country}{did_you_mean(procedure, rules.procedures)}; "
            f"known procedures: {', '.join(sorted(rules.procedures))}",
            hint="set `procedure:` in case.yaml to one of them",
        )
    return rules.procedures[procedure]


def find_stage(country: str, procedure: str, stage: str | None) -> tuple[Procedure, Stage]:
    """A procedure and one of its stages (None: the first); RulesError lists the valid stages."""
    proc = procedure_of(country, procedure)
    if stage is None:
        return proc, proc.stages[0]
    found = proc.stage(stage)
    if found is None:
        raise RulesError(
            f"unknown stage {stage!r} for {country}/{procedure}{did_you_mean(stage, proc.stage_ids)}; "
            f"stages in order: {', '.join(proc.stage_ids)}",
            hint="set `stage:` in case.yaml to one of them, or leave it out for the first stage",
        )
    return proc, found


def rules_files(country: str) -> list[Path]:
    """The files whose content decides a checklist: the country's rules plus the screening lists."""
    rules = country_rules(country)
    return [*rules.files, *sorted(SCREENING_DIR.glob("*.yaml"))]


@cache
def rules_version(country: str) -> str:
    """'sha256:<hex>' over the country's rules files and the screening lists (paths and bytes)."""
    parts: list[str] = []
    for file in rules_files(country):
        rel = file.resolve().relative_to(RULES_ROOT).as_posix()
        parts.append(f"{rel}\0{sha256_hex(file.read_bytes())}\n")
    return "sha256:" + sha256_hex("".join(parts).encode())


def clear_caches() -> None:
    """Forget loaded rules (for tools that edit rules files in the same process)."""
    country_rules.cache_clear()
    rules_version.cache_clear()
    _known_dirs.cache_clear()
