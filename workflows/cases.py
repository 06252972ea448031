"""The service layer: a case's life from import to shredding, the one owner both faces call.

The CLI and the web app parse, call these functions and render; rules, packets and storage are
reached only from here (and from the flows). Every function takes the acting person explicitly
(the web app's signed-in user) or falls back to DOSSIER_ACTOR / the login name.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import country_rules
from casefile import Case, LoadedCase, load_case_folder
from casefile.state import CaseState
from core.errors import BadInput, EvidenceRejected, NotReady
from core.ids import check_case_id, check_packet_ref, kind_of
from core.settings import load_settings
from storage import Vault
from workflows.runner import Show, run_flow

__all__ = [
    "CaseView",
    "ImportResult",
    "advance",
    "build",
    "build_group",
    "case_ids_of",
    "check",
    "fetch_packet",
    "import_folder",
    "import_loaded",
    "list_cases",
    "open_case",
    "resolve_stage",
    "revalidate",
    "shred",
    "states",
    "vault",
]


@cache
def _vault_for(home: str, store_url: str) -> Vault:
    return Vault.from_env()


def vault(*, must_exist: bool = True) -> Vault:
    """This environment's vault (one per process and store); a mistyped store is refused, not shown empty."""
    settings = load_settings()
    v = _vault_for(str(settings.home), settings.store_url)
    if must_exist:
        v.require_store()
    return v


def actor_or_default(actor: str | None) -> str:
    """Who is recorded in the audit log: the signed-in user, else DOSSIER_ACTOR / the login name."""
    return actor or load_settings().actor


# --- stages -------------------------------------------------------------------------------


def resolve_stage(case: Case) -> str:
    """The stage a case is at: the one case.yaml names (checked against the rules), else the first one."""
    if case.stage is None:
        return country_rules.first_stage(case.country, case.procedure)
    _proc, stage = country_rules.find_stage(case.country, case.procedure, case.stage)  # RulesError: did you mean
    return stage.id


def _at_stage(case: Case, stage: str | None) -> Case:
    stage = stage or resolve_stage(case)
    return case if case.stage == stage else replace(case, stage=stage)


# --- import -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    """What an import did, in words a caseworker reads."""

    case_id: str
    created: bool
    changed: bool
    record_version: int
    stage: str
    matched_by: str | None  # why an existing case was updated: "case_id" or "same applicant and procedure"
    possible_duplicates: tuple[str, ...] = ()

    def summary(self) -> str:
        if self.created:
            return f"imported and encrypted as a new case at stage {self.stage}"
        why = "the case_id in case.yaml" if self.matched_by == "case_id" else "the same applicant and procedure"
        if not self.changed:
            return f"already stored, unchanged (found by {why}; record version {self.record_version})"
        return f"updated the existing case found by {why}: record version {self.record_version}"


def load_folder(folder: Path) -> LoadedCase:
    """A case folder validated against the schema and the rules (country, procedure, stage), not stored."""
    loaded = load_case_folder(folder, extra_kinds=country_rules.known_kinds())
    case = loaded.case
    return LoadedCase(case=_at_stage(case, None), files=loaded.files)


def import_folder(folder: Path, actor: str | None = None) -> ImportResult:
    """Validate a case folder, encrypt it and store it; the same folder again updates its case."""
    loaded = load_folder(folder)  # case.yaml is read once: its mapping says whether it names its case_id
    return import_loaded(loaded, actor, explicit_id="case_id" in loaded.case.data)


def import_loaded(loaded: LoadedCase, actor: str | None = None, *, explicit_id: bool = False) -> ImportResult:
    """Store a validated case: by its own case_id, else into the case of the same applicant and procedure."""
    who = actor_or_default(actor)
    v = vault()
    case = loaded.case
    stage = resolve_stage(case)
    fingerprint = v.fingerprint(case, who)
    matched_by: str | None = "case_id" if explicit_id else None
    duplicates: list[str] = []
    if not explicit_id:
        for other, state, other_fp in v.records():
            if other_fp != fingerprint:
                continue
            if (state.country, state.procedure) == (case.country, case.procedure) and matched_by is None:
                case = replace(case, case_id=state.case_id)
                matched_by = "same applicant and procedure"
            elif other.case_id != case.case_id:
                duplicates.append(state.case_id)
    outcome = v.store_case(LoadedCase(case=case, files=loaded.files), who, stage=stage, fingerprint=fingerprint)
    stored_stage = v.state(outcome.case_id).stage or stage
    return ImportResult(
        case_id=outcome.case_id,
        created=outcome.created,
        changed=outcome.changed,
        record_version=outcome.record_version,
        stage=stored_stage,
        matched_by=None if outcome.created else matched_by or "case_id",
        possible_duplicates=tuple(d for d in duplicates if d != outcome.case_id),
    )


# --- reading ------------------------------------------------------------------------------


def _resolved(state: CaseState) -> CaseState:
    """A state whose stage is filled (records from before stages were stored get the first stage)."""
    if state.stage:
        return state
    return replace(state, stage=country_rules.first_stage(state.country, state.procedure))


def states() -> tuple[list[CaseState], list[str]]:
    """Every stored case's state (no names), and the ids of imports interrupted before their first record."""
    rows, incomplete = vault().states()
    return [_resolved(s) for s in rows], incomplete


def list_cases() -> list[CaseState]:
    """Every stored, readable case (ids, country, procedure, stage: no names)."""
    return states()[0]


def state(case_id: str) -> CaseState:
    """One case's state (no names)."""
    return _resolved(vault().state(check_case_id(case_id)))


@dataclass(frozen=True)
class CaseView:
    """A case opened by a person: its facts (personal data) and its state."""

    case: Case
    state: CaseState


def open_case(case_id: str, actor: str | None = None) -> CaseView:
    """Decrypt a case's record for a person, and record that they looked (`view-case` in the audit log)."""
    v = vault()
    case, st = v.load_record(check_case_id(case_id))
    st = _resolved(st)
    v.record_view(case_id, actor_or_default(actor))
    return CaseView(case=_at_stage(case, st.stage), state=st)


def _load_stored(case_id: str) -> LoadedCase:
    loaded = vault().load_case(check_case_id(case_id))
    st = state(case_id)
    return LoadedCase(case=_at_stage(loaded.case, st.stage), files=loaded.files)


def load_ref(ref: str) -> LoadedCase:
    """A case by folder (read directly, not stored) or by case id (decrypted from the store)."""
    if Path(ref).is_dir():
        return load_folder(Path(ref))
    return _load_stored(ref)


def case_ids_of(refs: list[str], actor: str | None = None) -> list[str]:
    """Case ids for references that are ids or folders (folders are imported first)."""
    out = []
    for ref in refs:
        out.append(import_folder(Path(ref), actor).case_id if Path(ref).is_dir() else check_case_id(ref))
    return out


# --- check, build, advance ------------------------------------------------------------------


def check(ref: str, today: date) -> country_rules.Checklist:
    """The checklist for the case's current stage (a folder or a stored case id)."""
    from workflows import pipeline

    return pipeline.evaluate_case(load_ref(ref), today)


def _explain_refusal(case_id: str, today: date, exc: Exception) -> Exception:
    """The flow's refusal (id-free, as Prefect stored it) retold with the caseworker's own evidence ids."""
    from workflows import pipeline

    loaded = _load_stored(case_id)
    try:
        pipeline.ensure_buildable(loaded, pipeline.evaluate_case(loaded, today))
    except (NotReady, EvidenceRejected) as full:
        return full
    return exc


def _refusable(
    name: str, params: dict[str, Any], case_ids: list[str], today: date, run: dict[str, Any]
) -> dict[str, Any]:
    """Run a flow that may refuse a case; a refusal comes back retold with the caseworker's own ids."""
    try:
        result: dict[str, Any] = run_flow(name, params, **run)
    except (NotReady, EvidenceRejected) as exc:
        for case_id in case_ids:
            explained = _explain_refusal(case_id, today, exc)
            if explained is not exc:
                raise explained from None
        raise
    return result


def build(
    ref: str,
    today: date,
    actor: str | None = None,
    *,
    show: Show | None = None,
    in_process: bool = False,
    note: Show | None = None,
) -> dict[str, Any]:
    """Build and archive the packet of a case's current stage (a folder is imported first)."""
    case_id = case_ids_of([ref], actor)[0]
    params = {"case_id": case_id, "requested_by": actor_or_default(actor), "today": today.isoformat()}
    return _refusable("build", params, [case_id], today, {"show": show, "in_process": in_process, "note": note})


def advance(
    case_id: str,
    today: date,
    actor: str | None = None,
    *,
    show: Show | None = None,
    in_process: bool = False,
    note: Show | None = None,
) -> dict[str, Any]:
    """Build and archive the current stage's packet, then move the case to its next stage."""
    check_case_id(case_id)
    params = {"case_id": case_id, "requested_by": actor_or_default(actor), "today": today.isoformat()}
    return _refusable("advance", params, [case_id], today, {"show": show, "in_process": in_process, "note": note})


def build_group(
    refs: list[str],
    today: date,
    actor: str | None = None,
    *,
    show: Show | None = None,
    in_process: bool = False,
    note: Show | None = None,
) -> dict[str, Any]:
    """Every member's packet plus one group letter and index, archived as one submission."""
    if len(refs) < 2:
        raise BadInput("a group needs at least two members", hint="list two or more case ids or folders")
    case_ids = case_ids_of(refs, actor)
    twice = sorted({c for c in case_ids if case_ids.count(c) > 1})
    if twice:
        raise BadInput(f"case(s) listed twice in the group: {', '.join(twice)}")
    params = {"case_ids": case_ids, "requested_by": actor_or_default(actor), "today": today.isoformat()}
    return _refusable("group", params, case_ids, today, {"show": show, "in_process": in_process, "note": note})


def group_members(group_file: Path) -> list[str]:
    """The member references (case ids or folders) listed in a group file."""
    from packets import load_group_file

    return load_group_file(group_file)


def revalidate(
    today: date,
    country: str | None = None,
    procedure: str | None = None,
    actor: str | None = None,
    *,
    show: Show | None = None,
    in_process: bool = False,
    note: Show | None = None,
) -> dict[str, Any]:
    """Re-check every stored case against the current rules; whose status changed."""
    if country is not None:
        country_rules.procedures(country)  # unknown country: exit 2 with the closest names
        if procedure is not None:
            country_rules.first_stage(country, procedure)
    params = {
        "country": country,
        "procedure": procedure,
        "today": today.isoformat(),
        "requested_by": actor_or_default(actor),
    }
    result: dict[str, Any] = run_flow("revalidate", params, show=show, in_process=in_process, note=note)
    return result


def preview(ref: str, out_dir: Path, today: date, actor: str | None = None, *, pages: int = 3) -> Any:
    """Render the letters and the first pages of a case's packet into a folder, archiving nothing."""
    from workflows.preview import preview as render_preview

    loaded = load_ref(ref)
    if not Path(ref).is_dir():  # a stored case's personal data leaves the store: recorded like a view
        vault().record_view(loaded.case.case_id, actor_or_default(actor))
    return render_preview(loaded, out_dir, today=today, actor=actor_or_default(actor), pages=pages)


# --- packets --------------------------------------------------------------------------------


def fetch_packet(packet_id: str, output: Path, *, zipped: bool = False) -> Path:
    """Decrypt an archived packet (or group submission) after checking its audit hash and bag; where it went.

    The decrypted zip is written only inside `output` (where the caller wants the plaintext), as a hidden
    partial file that is removed or renamed before returning; a re-run after a kill replaces it.
    """
    from packets import check_bag_zip, unpack_bag_zip

    check_packet_ref(packet_id)
    v = vault()
    output.mkdir(parents=True, exist_ok=True)
    partial = output / f".{packet_id}.zip.partial"
    try:
        with partial.open("wb") as fh:
            v.get_packet_to(packet_id, fh)
        if zipped:
            check_bag_zip(partial, expect_name=packet_id)
            target = output / f"{packet_id}.zip"
            partial.replace(target)
            return target
        return unpack_bag_zip(partial, output, expect_name=packet_id)
    finally:
        partial.unlink(missing_ok=True)


def packet_bytes(packet_id: str) -> bytes:
    """An archived packet's BagIt zip, checked against the audit log (for a download)."""
    from packets import check_bag_zip

    check_packet_ref(packet_id)
    data = vault().get_packet(packet_id)
    check_bag_zip(data, expect_name=packet_id)
    return data


def packet_owner(packet_id: str) -> str:
    """The case id (or group id) a packet belongs to."""
    return vault().packet_owner(check_packet_ref(packet_id))


# --- shredding ------------------------------------------------------------------------------


def require_known(case_id: str) -> None:
    """Exit 2 for an id that names no case (before asking for a confirmation); a shredded case is known."""
    from core.errors import KeyMissing, NotFound

    v = vault()
    try:
        v.state(check_case_id(case_id))
    except KeyMissing:
        pass  # already shredded: shredding again is harmless
    except NotFound:
        if not v.case_keys.objects(case_id):
            raise  # an interrupted import (a key, no record) may be shredded; an unknown id may not


def shred(case_id: str, actor: str | None = None) -> bool:
    """Crypto-shred a case (every version of its key, and its group submissions' keys); False if already done."""
    return vault().shred_case(check_case_id(case_id), actor_or_default(actor))


def is_id(value: str) -> bool:
    """Whether a value is a well-formed case, packet or group id."""
    return kind_of(value) is not None
