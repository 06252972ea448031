"""Intake without YAML: a new case from a form, evidence by requirement slot, drafts, history, zips.

The web face calls these; they reach the rules, packets and storage only through here and
`workflows.cases`. Nothing here writes an upload to disk: files are checked and encrypted in memory.
Messages name case ids, evidence ids and field paths, never a value a person typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import country_rules
from casefile import Case, LoadedCase, case_from_mapping, new_case_id, validate_mapping
from casefile.archive import case_zip, load_case_zip
from casefile.forms import (
    EVIDENCE_IDS,
    Choice,
    FormField,
    FormGroup,
    case_form,
    field_errors,
    form_values,
    mapping_from_form,
)
from casefile.model import APPLICANT, Evidence
from core.errors import BadInput, CaseInvalid, DomainFailure, EvidenceRejected, FieldProblem
from core.ids import check_case_id
from country_rules.letters import kind_label
from country_rules.loading import country_rules as rules_of
from country_rules.names import icao_transliteration
from packets import scans
from packets.model import DEFAULT_MAX_IMAGE_PIXELS
from packets.preflight import NO_TEXT_LAYER_EXEMPT_KINDS, check_evidence, problems_of
from packets.sniff import IMAGE_TYPES, PDF, content_type
from storage.drafts import Draft, DraftStore
from workflows import cases

__all__ = [
    "MAX_UPLOAD_BYTES",
    "Added",
    "EvidencePage",
    "Slot",
    "Version",
    "add_evidence",
    "apply_identity",
    "create_case",
    "drafts",
    "duplicates_of",
    "edit_case",
    "evidence_kinds",
    "evidence_page",
    "export_zip",
    "form_choices",
    "history",
    "identity_from_scan",
    "import_zip",
    "intake_form",
    "read_form",
    "slots",
]

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
_EXT = {PDF: "pdf", "JPEG": "jpg", "PNG": "png", "TIFF": "tif", "GIF": "gif", "BMP": "bmp", "WEBP": "webp"}


# --- the form -------------------------------------------------------------------------------------


def form_choices() -> dict[str, list[Choice]]:
    """Lists the rules give the form: countries, every procedure and every stage (labelled, by country)."""
    countries: list[Choice] = []
    procs: list[Choice] = []
    stages: list[Choice] = [("", "(the procedure's first stage)")]
    for c in country_rules.countries():
        cr = rules_of(c)
        countries.append((c, f"{cr.name} ({c})"))
        for pid, proc in sorted(cr.procedures.items()):
            procs.append((pid, f"{cr.name}: {proc.title} ({pid})"))
            for st in proc.stages:
                stages.append((st.id, f"{cr.name}, {pid}: {st.title} ({st.id})"))
    return {"country": countries, "procedure": _unique(procs), "stage": _unique(stages)}


def _unique(items: list[Choice]) -> list[Choice]:
    seen: dict[str, str] = {}
    for value, label in items:
        seen.setdefault(value, label)
    return list(seen.items())


def intake_form(case_id: str | None = None) -> tuple[FormField | FormGroup, ...]:
    """The case form: the schema's fields with the rules' countries, procedures and stages (and, for a
    stored case, its documents to pick where a field refers to one)."""
    choices: dict[str, list[Choice]] = form_choices()
    if case_id is not None:
        case, _state = cases.vault().load_record(check_case_id(case_id))
        choices[EVIDENCE_IDS] = [(e.id, f"{e.id} ({kind_label(e.kind, 'en', case.country)})") for e in case.evidence]
    return case_form(choices)


def read_form(values: Mapping[str, str], case_id: str | None = None) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """A case mapping from posted values, and its problems by field path (schema, then the rules).

    For a stored case (`case_id`), references to documents are checked against its evidence.
    """
    mapping = mapping_from_form(values, form_choices())
    checked = dict(mapping)
    if case_id is not None:
        case, _state = cases.vault().load_record(check_case_id(case_id))
        checked["evidence"] = case.data.get("evidence", [])
    errors = field_errors(checked, country_rules.known_kinds())
    if not errors:
        errors.update(_rule_errors(mapping))
    return mapping, errors


def _rule_errors(mapping: Mapping[str, Any]) -> dict[str, list[str]]:
    country, procedure, stage = mapping.get("country"), mapping.get("procedure"), mapping.get("stage")
    if country not in country_rules.countries():
        return {"country": ["is not a country with rules: choose one from the list"]}
    procs = country_rules.procedures(str(country))
    if procedure not in procs:
        return {"procedure": [f"is not a procedure of country {country}: choose one of {', '.join(procs)}"]}
    if stage:
        ids = [s.id for s in rules_of(str(country)).procedures[str(procedure)].stages]
        if stage not in ids:
            return {"stage": [f"is not a stage of {country}/{procedure}: choose one of {', '.join(ids)}"]}
    return {}


# --- drafts ---------------------------------------------------------------------------------------


def drafts() -> DraftStore:
    """The encrypted draft store of this environment's vault."""
    return DraftStore(cases.vault())


# --- duplicates, creating, editing -----------------------------------------------------------------


def duplicates_of(mapping: Mapping[str, Any], actor: str | None = None, *, except_case: str | None = None) -> list[str]:
    """Ids of stored cases whose applicant has the same keyed fingerprint (names + birth date)."""
    v = cases.vault()
    who = cases.actor_or_default(actor)
    probe = case_from_mapping({**mapping, "evidence": []}, except_case or "0000-0000")
    mine = v.fingerprint(probe, who)
    return sorted(state.case_id for _c, state, fp in v.records() if fp == mine and state.case_id != except_case)


def create_case(
    mapping: Mapping[str, Any], actor: str | None = None, *, draft_id: str | None = None
) -> cases.ImportResult:
    """Store a new case from a valid form mapping (always a new case id); the draft it came from is deleted."""
    data = validate_mapping(
        {**mapping, "evidence": list(mapping.get("evidence", []))}, "(new case)", country_rules.known_kinds()
    )
    loaded = LoadedCase(case=case_from_mapping(data, new_case_id()), files={})
    result = cases.import_loaded(loaded, actor, explicit_id=True)
    if draft_id:
        drafts().delete(cases.actor_or_default(actor), draft_id)
    return result


def case_values(case_id: str, actor: str | None = None) -> dict[str, str]:
    """The form values of a stored case (to edit its facts); opening it is a `view-case` audit entry."""
    view = cases.open_case(case_id, actor)
    data = {k: v for k, v in view.case.data.items() if k not in ("evidence", "case_id")}
    data["stage"] = view.state.stage
    return form_values(data)


def edit_case(case_id: str, mapping: Mapping[str, Any], actor: str | None = None) -> cases.ImportResult:
    """Store changed facts as a new record version; evidence and everything the form does not ask stay."""
    loaded = cases.load_ref(check_case_id(case_id))
    if mapping.get("stage") not in (None, loaded.case.stage):
        raise CaseInvalid(
            case_id, [FieldProblem("stage", "moves only with Advance on the case page (after its packet)")]
        )
    data = {k: v for k, v in mapping.items() if k != "stage"}  # the stage moves by advancing, not by editing
    data.update({k: v for k, v in loaded.case.data.items() if k in ("evidence", "review", "stage")})
    data = validate_mapping(data, case_id, country_rules.known_kinds())
    case = replace(case_from_mapping(data, case_id), stage=loaded.case.stage)
    return cases.import_loaded(LoadedCase(case=case, files=loaded.files), actor, explicit_id=True)


# --- evidence by requirement slot -------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    """One requirement for one person on the case page: its status and what an upload into it becomes."""

    slot_id: str
    requirement: str
    title: str
    person: str
    status: str
    reason: str
    kinds: tuple[Choice, ...]
    evidence: tuple[str, ...]
    translation_of: str | None
    accepted_languages: tuple[str, ...]
    ask_language: bool
    ask_issued: bool
    ask_expires: bool
    fact_field: str | None
    source: str
    blocking: bool

    @property
    def uploadable(self) -> bool:
        """Whether a document answers it (a fact such as a date is edited on the form instead)."""
        return self.fact_field is None and bool(self.kinds)


def _kind_choices(kinds: tuple[str, ...], country: str) -> tuple[Choice, ...]:
    return tuple((k, kind_label(k, "en", country)) for k in kinds)


def slots(case_id: str, today: date) -> tuple[country_rules.Checklist, list[Slot]]:
    """The checklist of the case's current stage and one slot per requirement and person."""
    checklist = cases.check(check_case_id(case_id), today)
    out: list[Slot] = []
    for item in checklist.items:
        t = item.text
        untranslated = item.status == "untranslated" and bool(item.evidence)
        translation_of = item.evidence[0] if untranslated else None
        accepted = tuple(t.translation.accepted) if t.translation else ()
        validity = t.validity
        out.append(
            Slot(
                slot_id=f"{item.requirement}--{item.person}",
                requirement=item.requirement,
                title=t.title,
                person=item.person,
                status=item.status,
                reason=item.reason,
                kinds=(("translation", kind_label("translation", "en")),)
                if untranslated
                else _kind_choices(t.kinds, checklist.country),
                evidence=item.evidence + item.translations,
                translation_of=translation_of,
                accepted_languages=accepted,
                ask_language=bool(accepted) or untranslated,
                ask_issued=bool(
                    validity and (validity.max_age_days or validity.max_age_months or validity.warn_age_days)
                ),
                ask_expires=bool(validity and validity.not_expired),
                fact_field=t.field,
                source=" ".join(x for x in (t.source.title, t.source.article, t.source.url) if x),
                blocking=item.blocking,
            )
        )
    return checklist, out


@dataclass(frozen=True)
class EvidencePage:
    """What the evidence page shows: the opened case, its checklist, its slots and the labelled kinds."""

    case: Case
    stage: str
    checklist: dict[str, Any]
    slots: list[Slot]
    kinds: list[Choice]

    def person_label(self, person_id: str) -> str:
        """The person's name and role as the caseworker knows them (on the page only, never logged)."""
        p = self.case.person(person_id)
        if p is None:
            return person_id
        role = "applicant" if p.person_id == APPLICANT else f"{p.relation}, {p.person_id}"
        return f"{p.given_name} {p.family_name} ({role})"


def evidence_page(case_id: str, actor: str | None, today: date) -> EvidencePage:
    """Open a case (a `view-case` audit entry) with its slots for the current stage."""
    view = cases.open_case(check_case_id(case_id), actor)
    checklist, found = slots(case_id, today)
    return EvidencePage(view.case, view.state.stage, checklist.to_json(), found, evidence_kinds(view.case.country))


def evidence_kinds(country: str) -> list[Choice]:
    """Every evidence kind with its English label, for extra documents (sorted by label)."""
    return sorted(((k, kind_label(k, "en", country)) for k in country_rules.known_kinds()), key=lambda c: c[1])


def _new_evidence_id(kind: str, person: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9_.-]", "-", f"ev-{kind.replace('.', '-')}-{person}")[:56]
    n, candidate = 1, base
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def add_evidence(
    case_id: str,
    *,
    kind: str,
    person: str,
    file_name: str,
    data: bytes,
    actor: str | None = None,
    language: str | None = None,
    issued: str | None = None,
    expires: str | None = None,
    translation_of: str | None = None,
    sworn: bool = False,
    title: str | None = None,
    ocr: bool = False,
) -> Added:
    """Pre-flight one uploaded file and store it as new evidence of the case (a new record version).

    With `ocr`, a scan without a text layer is then given one (a second version replaces the file;
    the original stays stored and hashed in the first). An identity document's machine-readable zone
    is read and compared with the typed names.
    EvidenceRejected (naming the new evidence id and the reason) when it cannot enter a packet;
    CaseInvalid naming the field when a typed detail (date, language) is wrong.
    """
    loaded = cases.load_ref(check_case_id(case_id))
    case = loaded.case
    if person != APPLICANT and case.person(person) is None:
        raise BadInput(f"case {case_id}: person {person} is not in this case", hint="reload the case page")
    if kind not in country_rules.known_kinds():
        raise BadInput(f"case {case_id}: {kind} is not a known evidence kind", hint="choose a kind from the list")
    if translation_of is not None and case.evidence_by_id(translation_of) is None:
        raise BadInput(f"case {case_id}: evidence {translation_of} is not in this case", hint="reload the case page")
    taken = {e.id for e in case.evidence}
    base_kind = "translation" if translation_of else kind
    evidence_id = f"{translation_of}-{language or 'tr'}" if translation_of else _new_evidence_id(kind, person, taken)
    if evidence_id in taken:
        evidence_id = _new_evidence_id(evidence_id, "", taken).rstrip("-")
    if len(data) > MAX_UPLOAD_BYTES:
        raise EvidenceRejected(
            case_id,
            [
                FieldProblem(
                    evidence_id,
                    f"file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB: scan it at a lower resolution",
                )
            ],
        )
    details = _upload_details(case_id, evidence_id, language=language, issued=issued, expires=expires)
    probe = Evidence(id=evidence_id, kind=base_kind, person=person, file=_safe_probe_name(file_name))
    checked = check_evidence(probe, data, DEFAULT_MAX_IMAGE_PIXELS)
    problems = problems_of([checked], sanitise=False)
    if problems:
        raise EvidenceRejected(case_id, problems)
    ctype = content_type(data)
    entry: dict[str, Any] = {
        "id": evidence_id,
        "kind": base_kind,
        "person": person,
        "file": f"evidence/{evidence_id}.{_EXT.get(str(ctype), 'bin')}",
    }
    entry.update(details)
    for key, value in (("translation_of", translation_of), ("title", title)):
        if value:
            entry[key] = value.strip()
    if sworn or translation_of:
        entry["sworn"] = bool(sworn)
    mapping = {**case.data, "evidence": [*case.data.get("evidence", []), entry]}
    mapping = validate_mapping(mapping, case_id, country_rules.known_kinds())
    new_case = replace(case_from_mapping(mapping, case_id), stage=case.stage)
    files = {**loaded.files, evidence_id: data}
    result = cases.import_loaded(LoadedCase(case=new_case, files=files), actor, explicit_id=True)
    added = Added(evidence_id, result)
    if base_kind.startswith("identity.") and base_kind not in NO_TEXT_LAYER_EXEMPT_KINDS:
        added = _with_zone(added, new_case, person, data)
    if ocr and base_kind not in NO_TEXT_LAYER_EXEMPT_KINDS and _needs_text(checked):
        added = _with_text_layer(added, new_case, files, mapping, actor, details.get("language"))
    return added


@dataclass(frozen=True)
class Added:
    """What an upload did: its evidence id, the stored version, and what OCR and the MRZ found."""

    evidence_id: str
    result: cases.ImportResult
    ocr_seconds: float | None = None
    ocr_pages: int = 0
    ocr_problem: str = ""
    zone: dict[str, str] | None = None  # pre-fill values read from a machine-readable zone (personal data)
    zone_warnings: tuple[str, ...] = ()


def _needs_text(checked: Any) -> bool:
    """A photo, or a PDF of which no page has text."""
    if checked.pdf is not None:
        return bool(checked.pdf.pages) and checked.pdf.pages_with_text == 0
    return checked.ctype in IMAGE_TYPES


_TESSERACT = {"ru": "rus", "fr": "fra", "de": "deu", "en": "eng"}


def ocr_languages(language: str | None) -> tuple[str, ...]:
    """Tesseract languages for a document: its own (when known) plus English; Russian when not said.

    Each extra language costs about as much time again, so the four are not all tried every time.
    """
    first = _TESSERACT.get(language or "ru", "rus")
    return (first,) if first == "eng" else (first, "eng")


def _with_text_layer(
    added: Added,
    case: Case,
    files: dict[str, bytes],
    mapping: dict[str, Any],
    actor: str | None,
    language: str | None,
) -> Added:
    """Store the OCR'd PDF as the next version of the evidence (the original stays in the previous one)."""
    eid = added.evidence_id
    try:
        found = scans.make_searchable(files[eid], ocr_languages(language), what=f"evidence {eid}")
    except DomainFailure as exc:
        return replace(added, ocr_problem=exc.message)
    entries = [dict(e) for e in mapping["evidence"]]
    for e in entries:
        if e["id"] == eid:
            e["file"] = f"evidence/{eid}.pdf"
    new_mapping = {**mapping, "evidence": entries}
    probe = Evidence(id=eid, kind="statement.personal", person=APPLICANT, file=f"evidence/{eid}.pdf")
    problems = problems_of([check_evidence(probe, found.pdf, DEFAULT_MAX_IMAGE_PIXELS)], sanitise=False)
    if problems:
        return replace(added, ocr_problem="; ".join(p.what for p in problems))
    new_case = replace(case_from_mapping(new_mapping, case.case_id), stage=case.stage)
    result = cases.import_loaded(LoadedCase(case=new_case, files={**files, eid: found.pdf}), actor, explicit_id=True)
    return replace(added, result=result, ocr_seconds=found.seconds, ocr_pages=found.pages)


def _norm_name(text: str) -> str:
    return " ".join(text.replace("-", " ").split()).casefold()


def _with_zone(added: Added, case: Case, person_id: str, data: bytes) -> Added:
    """Read an identity document's machine-readable zone: values to offer, warnings when typed names differ."""
    try:
        zone = scans.read_zone(data, what=f"evidence {added.evidence_id}")
    except DomainFailure:
        return added
    if zone is None:
        return added
    person = case.person(person_id)
    warnings: list[str] = []
    if person is not None:
        for words, typed, read, native in (
            ("family name", person.family_name, zone.family_name, person.family_name_native),
            ("given name", person.given_name, zone.given_name, person.given_name_native),
        ):
            if typed and read and _norm_name(typed) != _norm_name(read):
                warnings.append(
                    f"{person_id}: the {words} typed differs from the machine-readable zone of evidence "
                    f"{added.evidence_id}; check it against the document"
                )
            if native and read and _norm_name(icao_transliteration(native)) != _norm_name(read):
                warnings.append(
                    f"{person_id}: the machine-readable {words} of evidence {added.evidence_id} is not the ICAO 9303 "
                    f"transliteration of the native {words} (older documents used other schemes)"
                )
        if zone.birth_date and person.birth_date and zone.birth_date != person.birth_date.isoformat():
            warnings.append(
                f"{person_id}: the birth date typed differs from the machine-readable zone of {added.evidence_id}"
            )
    prefix = "applicant." if person_id == APPLICANT else None
    values = {k: v for k, v in zone.form_values().items()} if prefix else {}
    if zone.expires:
        values["expires"] = zone.expires
    return replace(added, zone=values, zone_warnings=tuple(warnings))


def identity_from_scan(data: bytes) -> dict[str, str]:
    """Pre-fill values for the new-case form from a passport or ID scan's machine-readable zone ({} if none).

    The scan is read in memory and a private scratch folder only; it is not stored.
    """
    zone = scans.read_zone(data, what="the identity scan")
    return zone.form_values() if zone else {}


def apply_identity(case_id: str, values: Mapping[str, str], actor: str | None = None) -> cases.ImportResult:
    """Store identity values offered from a machine-readable zone as a new record version of the case."""
    allowed = {
        "applicant.family_name",
        "applicant.given_name",
        "applicant.birth_date",
        "applicant.sex",
        "applicant.citizenship",
    }
    current = case_values(case_id, actor)
    current.update({k: v for k, v in values.items() if k in allowed and v})
    mapping, errors = read_form(current, case_id)
    if errors:
        problems = [FieldProblem(path, "; ".join(msgs)) for path, msgs in errors.items()]
        raise CaseInvalid(case_id, problems)
    return edit_case(case_id, mapping, actor)


def _upload_details(case_id: str, evidence_id: str, **given: str | None) -> dict[str, str]:
    """The typed details of an upload (language, dates) checked first, so a mistake is named before any work."""
    out: dict[str, str] = {}
    problems: list[FieldProblem] = []
    for key, raw in given.items():
        value = (raw or "").strip()
        if not value:
            continue
        if key == "language":
            if not re.fullmatch(r"[A-Za-z]{2}", value):
                problems.append(FieldProblem(f"{evidence_id}.language", "must be a two-letter code such as ru, fr, de"))
            out[key] = value.lower()
            continue
        m = re.fullmatch(r"(\d{1,2})[./](\d{1,2})[./](\d{4})", value)
        iso = f"{m.group(3)}-{int(m.group(2)):02d}-{int(m.group(1)):02d}" if m else value
        try:
            out[key] = date.fromisoformat(iso).isoformat() if re.fullmatch(r"\d{4}-\d{2}-\d{2}", iso) else ""
        except ValueError:
            out[key] = ""
        if not out[key]:
            problems.append(FieldProblem(f"{evidence_id}.{key}", "must be a real date written YYYY-MM-DD"))
    if problems:
        raise CaseInvalid(case_id, problems, hint="correct the date or language next to the upload and send it again")
    return out


def _safe_probe_name(file_name: str) -> str:
    """Only the extension of the uploaded name is used (to catch a renamed file); the name itself is dropped."""
    ext = re.sub(r"[^a-z0-9]", "", file_name.rsplit(".", 1)[-1].lower()) if "." in file_name else ""
    return f"upload.{ext}" if ext else "upload"


def is_image(data: bytes) -> bool:
    """Whether an upload is a photo or image scan (offered straightening and OCR)."""
    return content_type(data) in IMAGE_TYPES


# --- history --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One stored record version: when, by whom, by which action, and which fields changed (no values)."""

    number: int
    time: str
    actor: str
    action: str
    changed: tuple[str, ...]


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.update(_flat(v, f"{prefix}[{i}]"))
    else:
        out[prefix] = value
    return out


def _evidence_flat(mapping: Mapping[str, Any], blobs: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for e in mapping.get("evidence", []):
        out[e["id"]] = {**{k: v for k, v in e.items() if k != "id"}, " file": (blobs.get(e["id"]) or {}).get("sha256")}
    return out


def _diff(old: dict[str, Any] | None, new: dict[str, Any]) -> tuple[str, ...]:
    if old is None:
        return ("created",)
    changed: list[str] = []
    a = _flat({k: v for k, v in old["mapping"].items() if k != "evidence"})
    b = _flat({k: v for k, v in new["mapping"].items() if k != "evidence"})
    changed += sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    ea, eb = _evidence_flat(old["mapping"], old["evidence"]), _evidence_flat(new["mapping"], new["evidence"])
    changed += [f"evidence {i} added" for i in eb if i not in ea]
    changed += [f"evidence {i} removed" for i in ea if i not in eb]
    for i in (i for i in eb if i in ea):
        for k in sorted(ea[i].keys() | eb[i].keys()):
            if ea[i].get(k) != eb[i].get(k):
                changed.append(f"evidence {i} file replaced" if k == " file" else f"evidence {i}.{k}")
    sa, sb = old["state"], new["state"]
    if sa.get("stage") != sb.get("stage"):
        changed.append(f"stage {sa.get('stage')} -> {sb.get('stage')}")
    added = {p["packet_id"] for p in sb.get("packets", [])} - {p["packet_id"] for p in sa.get("packets", [])}
    changed += [f"packet {p} archived" for p in sorted(added)]
    if sa.get("status") != sb.get("status"):
        changed.append("readiness recorded")
    return tuple(changed)


def history(case_id: str) -> list[Version]:
    """Every record version of a case, newest first: who stored it, when, and the field paths it changed."""

    v = cases.vault()
    versions = v.record_versions(check_case_id(case_id))
    by_key = {e.get("object_key"): e for e in v.audit.entries(case_id)}
    out: list[Version] = []
    previous: dict[str, Any] | None = None
    for number, key, record in versions:
        entry = by_key.get(key, {})
        out.append(
            Version(
                number=number,
                time=str(entry.get("time") or record["state"].get("updated", "")),
                actor=str(entry.get("actor", "?")),
                action=str(entry.get("action", "?")),
                changed=_diff(previous, record),
            )
        )
        previous = record
    return list(reversed(out))


def views(case_id: str) -> list[dict[str, Any]]:
    """Who opened the case's personal data, when (the `view-case` audit entries), newest first."""
    entries = cases.vault().audit.entries(check_case_id(case_id))
    return [
        {"time": e.get("time"), "actor": e.get("actor")} for e in reversed(entries) if e.get("action") == "view-case"
    ]


# --- zips -----------------------------------------------------------------------------------------


def import_zip(data: bytes, actor: str | None = None) -> cases.ImportResult:
    """Import a zipped case folder from memory (nothing unpacked to disk); the same zip again updates its case."""
    loaded = load_case_zip(data, country_rules.known_kinds())
    explicit = "case_id" in loaded.case.data
    stage = cases.resolve_stage(loaded.case)
    at_stage = LoadedCase(case=replace(loaded.case, stage=stage), files=loaded.files)
    return cases.import_loaded(at_stage, actor, explicit_id=explicit)


def export_zip(case_id: str, actor: str | None = None) -> bytes:
    """The case as a zipped folder (to move it to another office); recorded as `export-case` in the audit log."""
    loaded = cases.load_ref(check_case_id(case_id))
    data = case_zip(loaded)
    cases.vault().audit.append("export-case", cases.actor_or_default(actor), case_id, None, None)
    return data


def draft_list(actor: str) -> list[Draft]:
    """The signed-in user's drafts, newest first."""
    return drafts().list(actor)
