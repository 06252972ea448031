"""YAML rule tests written by legal advisers: a sentence, a case fragment, the expected checklist.

Files: `country_rules/<country>/tests/*.yaml` (tests) and `fixtures.yaml` (named base cases),
plus the shared `country_rules/fixtures.yaml`. A fixture may `extend` another and drop
evidence with `without`; a test names its `base` fixture, merges its `input` onto it (lists
of evidence and household are merged by id / person_id, other lists are replaced), may drop
evidence with `without` (their translations go too; `key: null` in `input` removes a field),
and states its `output`:

    - name: A deserter whose certificate of no criminal record is two years old is not ready
      base: fr-visa-complete
      input:
        evidence:
          - {id: ev-record, issued: 2024-10-20}
      output:
        ready: false
        statuses: {criminal-record: expired}       # requirement[/person] -> status or absent
        reasons: {criminal-record: more than 6 months}
        sources: {criminal-record: vetting}               # text in the source's title/article/url
        blocks: []                                 # codes, in any order
        warnings: [...]                            # each text must appear in some warning

`dossier rules test` and pytest (country_rules/conftest.py) both run them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from casefile.folder import validate_mapping
from casefile.model import case_from_mapping
from core.errors import BadInput, CaseInvalid, RulesError
from country_rules.checklist import Checklist
from country_rules.engine import PACKET_TRANSLATION, evaluate
from country_rules.loading import RULES_ROOT, country_dirs, did_you_mean, find_stage, load_country_dir
from country_rules.model import CountryRules, Stage
from country_rules.yamlsource import Located, check_schema, display_path, load_located

SHARED_FIXTURES = RULES_ROOT / "fixtures.yaml"
_TEST_KEYS = {"name", "base", "today", "strict_review", "input", "without", "output"}
_OUTPUT_KEYS = {"ready", "stage", "statuses", "blocks", "warnings", "reasons", "sources"}
_MERGE_KEYS = ("id", "person_id")
TEST_CASE_ID = "TEST-CASE"


@dataclass(frozen=True)
class RuleTest:
    """One YAML test, located in its file."""

    file: Path
    line: int
    name: str
    raw: dict[str, Any]
    key_lines: dict[str, int] = field(default_factory=dict)

    @property
    def where(self) -> str:
        return f"{display_path(self.file)}, line {self.line}"


@dataclass
class RuleTestResult:
    """The outcome of one YAML test: failures empty means it passed."""

    test: RuleTest
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def merge(base: Any, overlay: Any) -> Any:
    """Deep-merge overlay onto base (None deletes a key); lists of mappings with an id / person_id merge by it."""
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = dict(base)
        for k, v in overlay.items():
            if v is None:
                out.pop(k, None)
            else:
                out[k] = merge(base[k], v) if k in base else copy.deepcopy(v)
        return out
    if isinstance(base, list) and isinstance(overlay, list):
        key = _merge_key(base + overlay)
        if key is None:
            return copy.deepcopy(overlay)
        out_list = [dict(x) for x in base]
        index = {x[key]: i for i, x in enumerate(out_list)}
        for item in overlay:
            if item[key] in index:
                out_list[index[item[key]]] = merge(out_list[index[item[key]]], item)
            else:
                out_list.append(copy.deepcopy(item))
        return out_list
    return copy.deepcopy(overlay)


def _merge_key(items: list[Any]) -> str | None:
    for key in _MERGE_KEYS:
        if items and all(isinstance(x, dict) and key in x for x in items):
            return key
    return None


def drop_evidence(data: dict[str, Any], ids: list[str]) -> dict[str, Any]:
    """The case mapping without the named evidence and the translations of it."""
    gone = set(ids)
    out = dict(data)
    out["evidence"] = [
        e for e in data.get("evidence", []) if e.get("id") not in gone and e.get("translation_of") not in gone
    ]
    return out


@dataclass
class Fixtures:
    """Named base cases: the shared ones and a country's own."""

    raw: dict[str, tuple[dict[str, Any], Located]]

    def resolve(self, name: str, where: str, _seen: tuple[str, ...] = ()) -> dict[str, Any]:
        """The full case mapping of a fixture, following `extends`."""
        if name not in self.raw:
            raise RulesError(f"{where}: unknown fixture {name!r}; known: {', '.join(sorted(self.raw))}")
        if name in _seen:
            raise RulesError(f"{where}: fixture {name!r} extends itself (through {' -> '.join(_seen)})")
        spec, doc = self.raw[name]
        data: dict[str, Any] = {}
        if "extends" in spec:
            data = self.resolve(spec["extends"], doc.where(("fixtures", name, "extends")), (*_seen, name))
        data = merge(data, spec["case"])
        return drop_evidence(data, spec.get("without", []))


def load_fixtures(country_dir: Path, shared: Path = SHARED_FIXTURES) -> Fixtures:
    """The shared fixtures plus the country's tests/fixtures.yaml (a country may override a name)."""
    raw: dict[str, tuple[dict[str, Any], Located]] = {}
    for file in (shared, country_dir / "tests" / "fixtures.yaml"):
        if file.is_file():
            doc = load_located(file)
            check_schema(doc, "fixtures_file")
            for name, spec in doc.data["fixtures"].items():
                raw[name] = (spec, doc)
    return Fixtures(raw)


def load_tests(file: Path) -> list[RuleTest]:
    """Read one test file; unknown keys fail naming the file, the line and the test."""
    doc = load_located(file)
    if not isinstance(doc.data, dict) or not isinstance(doc.data.get("tests"), list):
        raise RulesError(f"{display_path(file)}, line 1: a test file holds `tests:`, a list of tests")
    problems: list[str] = []
    for i, t in enumerate(doc.data["tests"]):
        if not isinstance(t, dict):
            continue
        name = t.get("name", f"#{i + 1}")
        for key in sorted(set(t) - _TEST_KEYS):
            problems.append(f"{doc.where(('tests', i, key))}: test {name!r}: unknown key {key!r}")
        out = t.get("output")
        if isinstance(out, dict):
            for key in sorted(set(out) - _OUTPUT_KEYS):
                problems.append(f"{doc.where(('tests', i, 'output', key))}: test {name!r}: unknown output key {key!r}")
    if problems:
        raise RulesError("\n".join(problems), hint="allowed test keys: " + ", ".join(sorted(_TEST_KEYS)))
    check_schema(doc, "tests_file")
    return [
        RuleTest(
            file=file,
            line=doc.line(("tests", i)),
            name=t["name"],
            raw=t,
            key_lines={
                f"{group}:{key}": doc.line(("tests", i, "output", group, key))
                for group in _KEYED_OUTPUTS
                for key in (t["output"].get(group) or {})
            },
        )
        for i, t in enumerate(doc.data["tests"])
    ]


_KEYED_OUTPUTS = ("statuses", "reasons", "sources")


@cache
def _copied_country(directory: Path, stamp: tuple[int, ...]) -> CountryRules:
    """A country package outside the shipped tree (a test's copy), loaded once per content stamp."""
    return load_country_dir(directory)


def _stage_of(data: dict[str, Any], root: Path) -> Stage:
    country, procedure, stage_id = str(data.get("country")), str(data.get("procedure")), data.get("stage")
    if root.resolve() == RULES_ROOT:
        return find_stage(country, procedure, stage_id)[1]
    dirs = country_dirs(root)
    if country not in dirs:
        raise RulesError(f"unknown country {country!r}{did_you_mean(country, dirs)}")
    stamp = tuple(p.stat().st_mtime_ns for p in sorted(dirs[country].rglob("*.yaml")))
    proc = _copied_country(dirs[country], stamp).procedures.get(procedure)
    if proc is None:
        raise RulesError(f"unknown procedure {procedure!r} for country {country}")
    found = proc.stage(stage_id) if stage_id else proc.stages[0]
    if found is None:
        raise RulesError(f"unknown stage {stage_id!r} for {country}/{procedure}")
    return found


def expectation_problems(test: RuleTest, fixtures: Fixtures, root: Path = RULES_ROOT) -> list[str]:
    """Errors for expectations naming a requirement the stage lacks or a person the case lacks (file, line)."""
    data = build_case_mapping(test, fixtures)
    try:
        stage = _stage_of(data, root)
    except RulesError as exc:
        return [f"{test.where}: test {test.name!r}: {exc.message}"]
    requirements = {r.id for r in stage.requirements} | {PACKET_TRANSLATION}
    persons = {"applicant"} | {str(h.get("person_id")) for h in data.get("household") or [] if isinstance(h, dict)}
    out: list[str] = []
    for group in _KEYED_OUTPUTS:
        for key in test.raw["output"].get(group) or {}:
            req, _, person = str(key).partition("/")
            line = test.key_lines.get(f"{group}:{key}", test.line)
            where = f"{display_path(test.file)}, line {line}: test {test.name!r}: {group} {key!r}"
            if req not in requirements:
                out.append(
                    f"{where} names unknown requirement {req!r}{did_you_mean(req, requirements)} of stage "
                    f"{data.get('procedure')}/{stage.id} (known: {', '.join(sorted(requirements))})"
                )
            if person and person not in persons:
                out.append(
                    f"{where} names unknown person {person!r}{did_you_mean(person, persons)} "
                    f"(persons of the case: {', '.join(sorted(persons))})"
                )
    return out


def rule_test_files(country_dir: Path) -> list[Path]:
    """The test files of a country package (every tests/*.yaml but fixtures.yaml)."""
    return sorted(p for p in (country_dir / "tests").glob("*.yaml") if p.name != "fixtures.yaml")


def build_case_mapping(test: RuleTest, fixtures: Fixtures) -> dict[str, Any]:
    """The case mapping a test evaluates: its base fixture, its input merged on, `without` dropped."""
    data = fixtures.resolve(test.raw["base"], test.where)
    data = merge(data, test.raw.get("input") or {})
    return drop_evidence(data, test.raw.get("without", []))


def run_one(test: RuleTest, fixtures: Fixtures, root: Path = RULES_ROOT) -> RuleTestResult:
    """Evaluate one test and compare the checklist with its expected output."""
    from country_rules import known_kinds

    result = RuleTestResult(test)
    errors = expectation_problems(test, fixtures, root)
    if errors:
        result.failures.extend(f"error: {e}" for e in errors)
        return result
    data = build_case_mapping(test, fixtures)
    try:
        valid = validate_mapping(data, TEST_CASE_ID, known_kinds())
    except CaseInvalid as exc:
        result.failures.append(f"the test's case is not valid: {exc.message}")
        return result
    case = case_from_mapping(valid, TEST_CASE_ID)
    today_text = test.raw.get("today") or valid.get("submission_date")
    if not today_text:
        result.failures.append("give the test a `today:` date or the case a submission_date")
        return result
    try:
        checklist = evaluate(case, date.fromisoformat(today_text), strict_review=bool(test.raw.get("strict_review")))
    except BadInput as exc:
        result.failures.append(f"evaluation failed: {exc.message}")
        return result
    result.failures.extend(compare(checklist, test.raw["output"]))
    return result


def compare(checklist: Checklist, expected: dict[str, Any]) -> list[str]:
    """Every difference between a checklist and a test's expected output, in words."""
    out: list[str] = []
    if "ready" in expected and checklist.ready != expected["ready"]:
        out.append(f"ready: expected {expected['ready']}, got {checklist.ready} ({checklist.summary()})")
    if "stage" in expected and checklist.stage != expected["stage"]:
        out.append(f"stage: expected {expected['stage']}, got {checklist.stage}")
    items = {(i.requirement, i.person): i for i in checklist.items}
    for key, want in (expected.get("statuses") or {}).items():
        req, _, person = key.partition("/")
        item = items.get((req, person or "applicant"))
        got = item.status if item else "absent"
        if got != want:
            why = f" ({item.reason})" if item else ""
            out.append(f"{key}: expected {want}, got {got}{why}")
    for key, text in (expected.get("reasons") or {}).items():
        req, _, person = key.partition("/")
        item = items.get((req, person or "applicant"))
        if item is None or text not in item.reason:
            out.append(f"{key}: expected the reason to contain {text!r}, got {item.reason if item else 'no item'!r}")
    for key, text in (expected.get("sources") or {}).items():
        req, _, person = key.partition("/")
        item = items.get((req, person or "applicant"))
        src = item.text.source if item else None
        words = f"{src.title} {src.article} {src.url}" if src else ""
        if text not in words:
            out.append(f"{key}: expected the legal source to mention {text!r}, got {words or 'no item'!r}")
    if "blocks" in expected:
        got_codes = sorted(b.code for b in checklist.blocks)
        if got_codes != sorted(expected["blocks"]):
            out.append(f"blocks: expected {sorted(expected['blocks'])}, got {got_codes}")
    for text in expected.get("warnings") or []:
        if not any(text in w for w in checklist.warnings):
            out.append(f"warnings: none contains {text!r} (got {list(checklist.warnings)})")
    return out


def collect(country: str | None = None, root: Path = RULES_ROOT) -> list[tuple[RuleTest, Fixtures]]:
    """Every YAML test of one country (or all), with the fixtures it resolves against."""
    dirs = country_dirs(root)
    if country is not None and country not in dirs:
        raise RulesError(f"unknown country {country!r}; known countries: {', '.join(sorted(dirs))}")
    out: list[tuple[RuleTest, Fixtures]] = []
    for cid in sorted(dirs) if country is None else [country]:
        fixtures = load_fixtures(dirs[cid], root / "fixtures.yaml")
        for file in rule_test_files(dirs[cid]):
            out.extend((t, fixtures) for t in load_tests(file))
    return out


def run_rule_tests(country: str | None = None, root: Path = RULES_ROOT) -> list[RuleTestResult]:
    """Run the YAML tests of one country, or of all countries; a result per test."""
    return [run_one(t, f, root) for t, f in collect(country, root)]
