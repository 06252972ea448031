"""Evaluate a case's procedure stage into a checklist, with the rule texts in force on its submission date."""

from __future__ import annotations

import os
from datetime import date

from dateutil.relativedelta import relativedelta

from casefile.model import Case, Evidence, Person
from core.errors import BadInput, ConfigError, RulesError
from country_rules.checklist import Block, Checklist, ChecklistItem, Status
from country_rules.loading import country_rules, find_stage, rules_version
from country_rules.model import Procedure, RuleText, Source, Stage, Translation
from country_rules.names import name_warnings
from country_rules.predicates import Facts, check
from country_rules.screening import screen
from country_rules.yamlsource import display_path

DEFAULT_MAX_REVIEW_AGE_DAYS = 365
_RANK: dict[Status, int] = {"met": 0, "untranslated": 1, "expired": 2, "missing": 3}


def max_review_age_days() -> int:
    """How old a rule's last_reviewed may be (env DOSSIER_RULES_MAX_REVIEW_AGE_DAYS, default 365)."""
    raw = os.environ.get("DOSSIER_RULES_MAX_REVIEW_AGE_DAYS", "").strip()
    if not raw:
        return DEFAULT_MAX_REVIEW_AGE_DAYS
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError("DOSSIER_RULES_MAX_REVIEW_AGE_DAYS must be a whole number of days (e.g. 365)")
    return int(raw)


def _persons(text: RuleText, case: Case) -> tuple[Person, ...]:
    if text.applies_to == "applicant":
        return (case.applicant,)
    if text.applies_to == "accompanying":
        return case.accompanying
    return (case.applicant, *case.accompanying)


def _age_limit(text: RuleText, on: date) -> tuple[date, str] | None:
    v = text.validity
    if v is None:
        return None
    if v.max_age_months:
        return on - relativedelta(months=v.max_age_months), f"{v.max_age_months} months"
    if v.max_age_days:
        return on - relativedelta(days=v.max_age_days), f"{v.max_age_days} days"
    return None


def _validity_problem(text: RuleText, e: Evidence, on: date) -> str | None:
    v = text.validity
    if v is None:
        return None
    if v.not_expired and e.expires is not None and e.expires < on:
        return f"evidence {e.id} expired {e.expires.isoformat()}, before the submission date {on.isoformat()}"
    limit = _age_limit(text, on)
    if limit is not None:
        oldest, words = limit
        if e.issued is None:
            return (
                f"evidence {e.id} has no issue date (set `issued`); it must be issued at most {words} "
                f"before the submission date {on.isoformat()}"
            )
        if e.issued < oldest:
            return (
                f"too old: evidence {e.id} issued {e.issued.isoformat()}, more than {words} before the submission "
                f"date {on.isoformat()}"
            )
    return None


def _translation_check(text: RuleText, e: Evidence, case: Case) -> tuple[Status, str, tuple[str, ...]]:
    rule = text.translation
    if rule is None or (e.language in rule.accepted):
        return "met", "", ()
    accepted = ", ".join(rule.accepted)
    found = case.translations_of(e.id)
    good = tuple(t.id for t in found if t.language in rule.accepted and (t.sworn or not rule.sworn))
    if good:
        return "met", "", good
    kind_of = "sworn translation" if rule.sworn else "translation"
    unsworn = [t.id for t in found if t.language in rule.accepted and not t.sworn]
    if unsworn:
        why = f"translation {unsworn[0]} of evidence {e.id} is not marked sworn (`sworn: true`)"
    elif e.language is None:
        why = f"evidence {e.id} has no `language`; if it is not in {accepted}, attach a {kind_of} into {accepted}"
    else:
        why = (
            f"evidence {e.id} is in {e.language}, not in {accepted}: attach a {kind_of} into {accepted} "
            f"(kind: translation, translation_of: {e.id})"
        )
    if not rule.required:
        return "met", why + " (may be asked for)", ()
    return "untranslated", why, ()


def _evaluate_item(text: RuleText, person: Person, case: Case, on: date, warnings: list[str]) -> ChecklistItem:
    pid = person.person_id
    if text.field is not None:
        value: object = case.data
        for part in text.field.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value in (None, "", [], {}):
            return ChecklistItem(text.requirement, pid, "missing", f"{text.field} is not set in case.yaml", text)
        return ChecklistItem(text.requirement, pid, "met", f"{text.field} is set", text)
    candidates = [e for e in case.evidence if e.person == pid and e.kind in text.kinds and not e.is_translation]
    if not candidates:
        kinds = " or ".join(text.kinds)
        return ChecklistItem(text.requirement, pid, "missing", f"no evidence of kind {kinds} for {pid}", text)
    results: list[tuple[Status, str, Evidence, tuple[str, ...]]] = []
    for e in candidates:
        problem = _validity_problem(text, e, on)
        if problem:
            results.append(("expired", problem, e, ()))
            continue
        status, why, translations = _translation_check(text, e, case)
        results.append((status, why, e, translations))
    results.sort(key=lambda r: _RANK[r[0]])
    status, why, best, translations = results[0]
    if status == "met":
        if why:
            warnings.append(f"{pid}: {text.requirement}: {why}")
        v = text.validity
        if v and v.warn_age_days and best.issued and (on - best.issued).days > v.warn_age_days:
            warnings.append(
                f"{pid}: {text.requirement}: evidence {best.id} was issued {best.issued.isoformat()}, more than "
                f"{v.warn_age_days} days before the submission date; a fresher copy is safer (see the rule note)"
            )
        dated = f", issued {best.issued.isoformat()}" if best.issued else ""
        why = f"evidence {best.id} ({best.kind}{dated})" + (
            f", translated by {', '.join(translations)}" if translations else ""
        )
    evidence_ids = tuple([best.id] + [r[2].id for r in results[1:] if r[0] == "met"])
    return ChecklistItem(text.requirement, pid, status, why, text, evidence_ids, translations)


def review_warnings(texts: list[RuleText], today: date, max_age_days: int) -> list[str]:
    """A warning for every rule text whose last review is older than the allowed age."""
    out = []
    for t in texts:
        age = (today - t.last_reviewed).days
        if age > max_age_days:
            out.append(
                f"rule {t.requirement} ({display_path(t.file)}, line {t.line}): "
                f"last reviewed {t.last_reviewed.isoformat()}, more than {max_age_days} days ago; "
                "a legal adviser should review it"
            )
    return out


def strict_review_from_env() -> bool:
    """Whether DOSSIER_RULES_STRICT_REVIEW asks for strict review (1, true, yes)."""
    return os.environ.get("DOSSIER_RULES_STRICT_REVIEW", "").strip().lower() in ("1", "true", "yes")


PACKET_TRANSLATION = "packet-translation"


def _no_rules_in_force(case: Case, procedure: Procedure, stage: Stage, on: date) -> BadInput:
    starts = [t.valid_from for r in stage.requirements for t in r.texts]
    ends = [t.valid_to for r in stage.requirements for t in r.texts]
    where = f"{case.country}/{procedure.id}/{stage.id}"
    if starts and on < min(starts):
        when = f"the first date with rules is {min(starts).isoformat()}"
    elif starts and all(e is not None for e in ends):
        when = f"its rules ended on {max(e for e in ends if e is not None).isoformat()}"
    else:
        when = "no requirement is defined for this stage"
    return BadInput(
        f"case {case.case_id}: no rule of {where} is in force on {on.isoformat()} (submission_date or the "
        f"evaluation date); {when}",
        hint="check submission_date in case.yaml; a checklist without rules would wrongly say READY",
    )


def _suspension_checks(
    case: Case, procedure: Procedure, stage: Stage, on: date
) -> tuple[list[Block], list[str], list[dict[str, object]]]:
    """Blocks for a suspended procedure or stage whose exception the case does not record."""
    blocks: list[Block] = []
    warnings: list[str] = []
    states: list[dict[str, object]] = []
    facts = Facts(case=case, person=case.applicant, on=on)
    scoped = [(procedure.id, s) for s in procedure.suspensions] + [
        (f"{procedure.id}/{stage.id}", s) for s in stage.suspensions
    ]
    for scope, s in scoped:
        if not s.in_force(on):
            continue
        opened = bool(s.unless) and all(check(expr, facts) for expr in s.unless)
        src = " - ".join(x for x in (s.source.title, s.source.article) if x)
        states.append({"scope": scope, **s.to_json(), "exception_recorded": opened})
        if opened:
            warnings.append(
                f"{scope}: suspended since {s.since.isoformat()} ({s.reason}); the case records the exception "
                f"({', '.join(s.unless)}), so it is checked as usual"
            )
            continue
        need = (
            f"not ready unless the case records the exception: {s.exception}"
            if s.exception
            else "no exception opens it: do not file"
        )
        blocks.append(
            Block(
                "rules.suspended",
                f"{scope} is suspended since {s.since.isoformat()}: {s.reason} (source: {src}); {need}",
            )
        )
    return blocks, warnings, states


def _accepted_for(e: Evidence, texts: list[RuleText], case: Case) -> tuple[Translation, Source, date] | None:
    """The translation rule a document in the packet falls under; None when its language does not matter."""
    covering = [t for t in texts if e.kind in t.kinds]
    if covering:
        rules = [t.translation for t in covering]
        if any(r is None or not r.required or e.language in r.accepted for r in rules):
            return None
        first = covering[0]
        return (first.translation, first.source, first.valid_from) if first.translation else None
    default = country_rules(case.country).translation
    if default is None or e.language in default.accepted:
        return None
    return Translation(default.accepted, sworn=default.sworn), default.source, default.valid_from


def _packet_translation_items(
    case: Case, texts: list[RuleText], items: list[ChecklistItem], on: date
) -> list[ChecklistItem]:
    """Every document entering the packet in a language the destination does not accept needs a translation."""
    reported = {eid for i in items if i.status == "untranslated" and i.blocking for eid in i.evidence[:1]}
    out: list[ChecklistItem] = []
    for e in case.evidence:
        if e.is_translation or e.language is None or e.id in reported:
            continue
        found = _accepted_for(e, texts, case)
        if found is None:
            continue
        rule, source, since = found
        good = [t for t in case.translations_of(e.id) if t.language in rule.accepted and (t.sworn or not rule.sworn)]
        if good:
            continue
        accepted = ", ".join(rule.accepted)
        kind_of = "sworn translation" if rule.sworn else "translation"
        reason = (
            f"evidence {e.id} ({e.kind}) enters the packet in {e.language}, not in {accepted}: attach a {kind_of} "
            f"into {accepted} (kind: translation, translation_of: {e.id}{', sworn: true' if rule.sworn else ''}), "
            "or remove the evidence from the case"
        )
        text = RuleText(
            requirement=PACKET_TRANSLATION,
            title="Translation of every document in the packet",
            kinds=(e.kind,),
            applies_to="each",
            when=(),
            validity=None,
            translation=rule,
            field=None,
            source=source,
            valid_from=since,
            valid_to=None,
            last_reviewed=on,
            note="Any document in the packet, not only the one that satisfies a requirement, must be readable.",
            file=country_rules(case.country).directory / "country.yaml",
            line=1,
        )
        out.append(ChecklistItem(PACKET_TRANSLATION, e.person, "untranslated", reason, text, (e.id,)))
    return out


def _date_warnings(case: Case, on: date) -> list[str]:
    """Evidence dated after the submission date is probably a typing error: say which field."""
    out = []
    for i, e in enumerate(case.evidence):
        if e.issued is not None and e.issued > on:
            out.append(
                f"evidence {e.id} (evidence[{i}].issued) is dated {e.issued.isoformat()}, after the submission date "
                f"{on.isoformat()}: correct the date, or the submission date"
            )
    return out


def evaluate(case: Case, today: date, *, strict_review: bool = False) -> Checklist:
    """The checklist of the case's current stage, using the rule texts in force on its submission date.

    Rule texts whose last_reviewed is older than max_review_age_days() give warnings; with
    strict_review (or DOSSIER_RULES_STRICT_REVIEW=1) they raise RulesError instead.
    """
    strict_review = strict_review or strict_review_from_env()
    procedure, stage = find_stage(case.country, case.procedure, case.stage)
    on = case.effective_date(today)
    items: list[ChecklistItem] = []
    texts: list[RuleText] = []
    warnings: list[str] = []
    for req in stage.requirements:
        text = req.text_on(on)
        if text is None:
            continue
        texts.append(text)
        for person in _persons(text, case):
            facts = Facts(case=case, person=person, on=on)
            if all(check(expr, facts) for expr in text.when):
                items.append(_evaluate_item(text, person, case, on, warnings))
    if not texts:
        raise _no_rules_in_force(case, procedure, stage, on)
    items.extend(_packet_translation_items(case, texts, items, on))
    for item in items:
        if not item.met and not item.blocking:
            label = "practice, not law" if item.text.basis == "practice" else "the law asks for indications only"
            warnings.append(
                f"{item.person}: {item.requirement} is {item.status} ({label}: a warning, not a block): {item.reason}"
            )
    warnings.extend(_date_warnings(case, on))
    for notice in procedure.notices:
        if (notice.valid_from is None or notice.valid_from <= on) and (
            notice.valid_to is None or on <= notice.valid_to
        ):
            warnings.append(f"{procedure.id}: {notice.text}")
    blocks, screening_warnings = screen(case)
    warnings.extend(screening_warnings)
    suspended, suspension_warnings, states = _suspension_checks(case, procedure, stage, on)
    blocks.extend(suspended)
    warnings.extend(suspension_warnings)
    warnings.extend(name_warnings(case))
    stale = review_warnings(texts, today, max_review_age_days())
    if stale and strict_review:
        raise RulesError(
            f"{case.country}/{procedure.id}/{stage.id}: {len(stale)} rule(s) past their review date:\n"
            + "\n".join(f"  - {s}" for s in stale),
            hint="have a legal adviser review them and update last_reviewed, or build without strict review",
        )
    warnings.extend(stale)
    return Checklist(
        case_id=case.case_id,
        country=case.country,
        procedure=procedure.id,
        stage=stage.id,
        evaluated_for=on,
        rules_version=rules_version(case.country),
        items=tuple(items),
        blocks=tuple(blocks),
        warnings=tuple(warnings),
        texts=tuple(texts),
        suspensions=tuple(states),
    )
