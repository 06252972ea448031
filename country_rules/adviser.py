"""Tools for legal advisers: read the rules as a table, and lint them before anyone relies on them."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from casefile.kinds import CONTRACT_KINDS
from core.errors import RulesError
from country_rules.letters import LETTER_VARIABLES
from country_rules.loading import (
    RULES_ROOT,
    TEMPLATES_ROOT,
    country_rules,
    load_procedure,
    procedure_of,
    rules_version,
)
from country_rules.loading import countries as _countries
from country_rules.model import Procedure, RuleText
from country_rules.predicates import PREDICATES, predicate_name
from country_rules.templatecheck import lint_templates
from country_rules.yamlsource import display_path, load_located, schema_problems


def _validity_words(t: RuleText) -> str:
    v = t.validity
    if v is None:
        return ""
    parts = []
    if v.max_age_months:
        parts.append(f"at most {v.max_age_months} months old")
    if v.max_age_days:
        parts.append(f"at most {v.max_age_days} days old")
    if v.warn_age_days:
        parts.append(f"warn after {v.warn_age_days} days")
    if v.not_expired:
        parts.append("not expired")
    return ", ".join(parts)


def _translation_words(t: RuleText) -> str:
    tr = t.translation
    if tr is None:
        return ""
    kind = "sworn translation" if tr.sworn else "translation"
    advice = "" if tr.required else " (advised, not required)"
    return f"in {'/'.join(tr.accepted)} or a {kind}{advice}"


def rules_overview() -> list[dict[str, Any]]:
    """One row per procedure of every country: ids, titles, stages in order, rules version."""
    rows = []
    for c in _countries():
        rules = country_rules(c)
        for p in sorted(rules.procedures.values(), key=lambda x: x.id):
            rows.append(
                {
                    "country": c,
                    "country_name": rules.name,
                    "procedure": p.id,
                    "title": p.title,
                    "stages": p.stage_ids,
                    "requirements": sum(len(s.requirements) for s in p.stages),
                    "rules_version": rules_version(c),
                }
            )
    return rows


def show_rules(country: str, procedure: str | None = None, *, on: date | None = None) -> list[dict[str, Any]]:
    """Every requirement text of a country (or one procedure) as readable rows with source and dates.

    With `on`, only the texts in force that day; otherwise every dated text, old ones included.
    """
    rules = country_rules(country)
    procs: list[Procedure] = (
        [procedure_of(country, procedure)] if procedure else sorted(rules.procedures.values(), key=lambda p: p.id)
    )
    rows: list[dict[str, Any]] = []
    for proc in procs:
        for stage in proc.stages:
            for req in stage.requirements:
                for t in req.texts:
                    if on is not None and not t.in_force(on):
                        continue
                    rows.append(
                        {
                            "country": country,
                            "procedure": proc.id,
                            "stage": stage.id,
                            "requirement": req.id,
                            "title": t.title,
                            "evidence": " or ".join(t.kinds) if t.kinds else f"field {t.field}",
                            "applies_to": t.applies_to,
                            "when": ", ".join(t.when),
                            "validity": _validity_words(t),
                            "translation": _translation_words(t),
                            "source": t.source.title,
                            "source_url": t.source.url,
                            "source_article": t.source.article,
                            "valid_from": t.valid_from.isoformat(),
                            "valid_to": t.valid_to.isoformat() if t.valid_to else "",
                            "last_reviewed": t.last_reviewed.isoformat(),
                            "note": t.note,
                            "basis": t.basis,
                            "blocking": t.blocking,
                        }
                    )
    return rows


def suspensions_in_force(country: str, procedure: str | None = None, on: date | None = None) -> list[dict[str, Any]]:
    """Suspensions of a country's procedures (or one) and their stages, in force on a day (all when None)."""
    rules = country_rules(country)
    procs = [procedure_of(country, procedure)] if procedure else sorted(rules.procedures.values(), key=lambda p: p.id)
    rows: list[dict[str, Any]] = []
    for proc in procs:
        scoped = [(proc.id, s) for s in proc.suspensions]
        scoped += [(f"{proc.id}/{st.id}", s) for st in proc.stages for s in st.suspensions]
        for scope, s in scoped:
            if on is None or s.in_force(on):
                rows.append({"country": country, "scope": scope, **s.to_json()})
    return rows


@cache
def _template_variables(path: Path, mtime_ns: int) -> frozenset[str]:
    from docxtpl import DocxTemplate

    return frozenset(DocxTemplate(str(path)).get_undeclared_template_variables())


def template_variables(path: Path) -> frozenset[str]:
    """The top-level variables a DOCX template uses (docxtpl's own analysis)."""
    return _template_variables(path, path.stat().st_mtime_ns)


def _country_kinds(root: Path) -> set[str]:
    kinds = set(CONTRACT_KINDS)
    for d in sorted(p for p in root.iterdir() if (p / "country.yaml").is_file()):
        try:
            data = load_located(d / "country.yaml").data
        except RulesError:
            continue
        if isinstance(data, dict) and isinstance(data.get("kinds"), dict):
            kinds.update(data["kinds"])
    return kinds


def _lint_procedure(file: Path, kinds: set[str], templates_root: Path, today: date, problems: list[str]) -> None:
    try:
        doc = load_located(file)
    except RulesError as exc:
        problems.extend(exc.message.splitlines())
        return
    found = schema_problems(doc, "procedure_file")
    if found:
        problems.extend(found)
        return
    try:
        proc = load_procedure(file)
    except RulesError as exc:
        problems.extend(exc.message.splitlines())
        return
    where = display_path(file)
    stage_ids = set(proc.stage_ids)
    for stage in proc.stages:
        for letter in stage.letters:
            path = templates_root / letter.template
            if not path.is_file():
                problems.append(f"{where}, line {letter.line}: template {letter.template!r} not found under templates/")
                continue
            try:
                unknown = sorted(template_variables(path) - LETTER_VARIABLES)
            except Exception as exc:  # noqa: BLE001 - a broken DOCX is reported, not raised
                problems.append(f"{where}, line {letter.line}: template {letter.template!r} cannot be read ({exc})")
                continue
            if unknown:
                problems.append(
                    f"{where}, line {letter.line}: template {letter.template!r} uses variable(s) the stage does not "
                    f"provide: {', '.join(unknown)} (see country_rules/letters.py)"
                )
        for req in stage.requirements:
            for t in req.texts:
                for expr in t.when:
                    if predicate_name(expr) not in PREDICATES:
                        problems.append(
                            f"{where}, line {t.line}: requirement {req.id!r}: unknown predicate "
                            f"{predicate_name(expr)!r} (known: see country_rules/predicates.py)"
                        )
                for kind in t.kinds:
                    if kind not in kinds:
                        problems.append(
                            f"{where}, line {t.line}: requirement {req.id!r}: unknown evidence kind {kind!r} "
                            "(add it to the country's country.yaml `kinds:` with labels)"
                        )
                if t.last_reviewed > today:
                    problems.append(f"{where}, line {t.line}: requirement {req.id!r}: last_reviewed is in the future")
    for d in proc.deadlines:
        for s in d.stages:
            if s not in stage_ids:
                problems.append(f"{where}, line {d.line}: deadline {d.id!r} names unknown stage {s!r}")
        for expr in d.when:
            if predicate_name(expr) not in PREDICATES:
                problems.append(
                    f"{where}, line {d.line}: deadline {d.id!r}: unknown predicate {predicate_name(expr)!r}"
                )
    suspensions = [*proc.suspensions, *(x for st in proc.stages for x in st.suspensions)]
    for sus in suspensions:
        for expr in sus.unless:
            if predicate_name(expr) not in PREDICATES:
                problems.append(f"{where}, line {sus.line}: suspension: unknown predicate {predicate_name(expr)!r}")
        if sus.unless and not sus.exception:
            problems.append(f"{where}, line {sus.line}: suspension: say in `exception:` what the case must record")
        if sus.last_reviewed > today:
            problems.append(f"{where}, line {sus.line}: suspension: last_reviewed is in the future")


def lint_rules(
    root: Path = RULES_ROOT, templates_root: Path = TEMPLATES_ROOT, *, today: date | None = None
) -> list[str]:
    """Every problem in the rules under root, each as 'file, line N: what is wrong'; empty when clean."""
    from country_rules.ruletests import expectation_problems, load_fixtures, load_tests, rule_test_files

    today = today or date.today()
    problems: list[str] = []
    kinds = _country_kinds(root)
    ids: dict[str, Path] = {}
    for d in sorted(p for p in root.iterdir() if (p / "country.yaml").is_file()):
        try:
            doc = load_located(d / "country.yaml")
        except RulesError as exc:
            problems.extend(exc.message.splitlines())
            continue
        found = schema_problems(doc, "country_file")
        problems.extend(found)
        if not found:
            cid = doc.data["id"]
            if cid in ids:
                problems.append(f"{doc.where(('id',))}: country id {cid!r} is also used by {display_path(ids[cid])}")
            ids[cid] = d
        files = sorted((d / "procedures").glob("*.yaml"))
        if not files:
            problems.append(f"{display_path(d)}: no procedures/*.yaml in this country package")
        for file in files:
            _lint_procedure(file, kinds, templates_root, today, problems)
        try:
            fixtures = load_fixtures(d, root / "fixtures.yaml")
            for file in rule_test_files(d):
                for test in load_tests(file):
                    problems.extend(expectation_problems(test, fixtures, root))
        except RulesError as exc:
            problems.extend(exc.message.splitlines())
    problems.extend(lint_templates(root, templates_root))  # A4, language, variables, placeholders
    concerns = root / "screening" / "concerns.yaml"
    if concerns.is_file():
        try:
            problems.extend(schema_problems(load_located(concerns), "concerns_file"))
        except RulesError as exc:
            problems.extend(exc.message.splitlines())
    return problems
