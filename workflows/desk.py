"""What the case desk (web app) reads and starts, through the service layer: pages' data, search, import, runs.

The web package imports only `workflows.*`; this module is where it reaches rules, packets and
storage. Builds started from the browser are followed by a background thread of the web process.
With a work pool configured (DOSSIER_WORK_POOL, PREFECT_API_URL) they run on the pool's workers,
several at once; otherwise in this process, one at a time (Prefect stays warm; `workflows.progress`
listeners are process-global, so a lock keeps one build's progress from being reported as
another's). Their start and outcome are kept in the store (`accounts/runs/`), so any instance
sharing the store can show them.
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import country_rules
from casefile import Case
from casefile.state import CaseState
from core.errors import BadInput, DossierError, EvidenceRejected, NotFound, NotReady
from core.ids import check_case_id, check_packet_ref
from storage.accounts import AccountStore
from storage.crypto import decrypt, encrypt
from workflows import cases, pool
from workflows.deadlines import Due

__all__ = [
    "CasePage",
    "case_page",
    "deadlines",
    "import_zip",
    "packet_pdf",
    "run_status",
    "search",
    "start_run",
]

log = logging.getLogger("dossier.web")
MAX_IMPORT_BYTES = 64 * 1024 * 1024  # a zipped case folder; the web app refuses larger bodies first


# --- the case list ----------------------------------------------------------------------------

_RECORD = re.compile(r"^cases/([^/]+)/record/(\d{6})\.age$")
_states_lock = threading.Lock()
_states: dict[str, tuple[str, Any]] = {}  # case id -> (newest record key, its CaseState): ids only
_deadlines: dict[str, tuple[str, Any]] = {}  # case id -> (newest record key, its deadlines): ids and rule texts


def _newest_records() -> tuple[dict[str, str], list[str]]:
    """Each readable case's newest record key, and the cases with a key but no record yet.

    On S3 one paginated listing of cases/ is fewer round trips than one per case; on a local folder
    listing each case's record/ folder is cheaper than walking every evidence blob (measured: 45 ms
    against 150 ms for 500 cases).
    """
    v = cases.vault()
    owners = [o for o in v.case_keys.owners() if not o.startswith("G-")]
    if getattr(v.store, "parallel_reads", False):
        keys = v.store.list("cases/")
    else:
        keys = [k for o in owners for k in v.store.list(f"cases/{o}/record/")]
    latest: dict[str, str] = {}
    for key in keys:
        m = _RECORD.match(key)
        if m and key > latest.get(m.group(1), ""):
            latest[m.group(1)] = key
    return {o: latest[o] for o in owners if o in latest}, [o for o in owners if o not in latest]


def _per_record(cache: dict[str, tuple[str, Any]], case_id: str, key: str, read: Any) -> Any:
    with _states_lock:
        hit = cache.get(case_id)
    if hit is not None and hit[0] == key:
        return hit[1]
    value = read(case_id)
    with _states_lock:
        cache[case_id] = (key, value)
    return value


def case_states() -> tuple[list[CaseState], list[str]]:
    """Every stored case's state, as `cases.states()`, reading only records this process has not read yet.

    One listing of the store finds each case's newest record version; record versions never change
    once written, so a state decrypted before is reused until a newer version appears. Safe with
    several instances: whatever another instance writes is a new key, seen at the next listing.
    Only ids, stages and hashes are kept in memory (CaseState), never a name.
    """
    newest, incomplete = _newest_records()
    rows = [_per_record(_states, c, key, cases.state) for c, key in newest.items()]
    return rows, incomplete


# --- the case page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CasePage:
    """Everything the case page shows: the decrypted case, its state and its checklist (no scan warnings)."""

    case: Case
    state: CaseState
    checklist: dict[str, Any]


def case_page(case_id: str, actor: str, today: date) -> CasePage:
    """Open a case for a person (a `view-case` audit entry) and evaluate its current stage's checklist."""
    view = cases.open_case(case_id, actor)
    checklist = country_rules.evaluate(view.case, today)
    return CasePage(case=view.case, state=view.state, checklist=checklist.to_json())


def person_label(case: Case, person_id: str) -> str:
    """A person's name as the caseworker knows them (shown on the page, never logged)."""
    p = case.person(person_id)
    return f"{p.given_name} {p.family_name}" if p else person_id


# --- search by name --------------------------------------------------------------------------


def _normal(text: str) -> str:
    return " ".join(text.casefold().split())


def search(term: str, actor: str) -> list[tuple[CaseState, str]]:
    """Cases whose people's names contain the term, with the applicant's name; the search is audited."""
    wanted = _normal(term)
    if len(wanted) < 2:
        raise BadInput("type at least two letters of a name to search")
    v = cases.vault()
    out: list[tuple[CaseState, str]] = []
    for case, st, _fp in v.records():
        names = [
            _normal(f"{p.given_name} {p.family_name} {p.given_name_native or ''} {p.family_name_native or ''}")
            for p in case.persons
        ]
        if any(wanted in n for n in names):
            out.append((cases.state(st.case_id) if not st.stage else st, person_label(case, "applicant")))
    v.audit.append("search-cases", cases.actor_or_default(actor), None, None, None)
    return sorted(out, key=lambda r: r[0].case_id)


# --- deadlines -------------------------------------------------------------------------------


def deadlines(today: date | None = None) -> list[Due]:
    """Deadlines of every stored case (case ids, no names), soonest first; each record decrypted once per version."""

    def of(case_id: str) -> list[Due]:
        case, _st = cases.vault().load_record(case_id)
        return [Due(case_id, d.due, d.what, d.source) for d in country_rules.deadlines(case)]

    newest, _incomplete = _newest_records()
    items = [d for c, key in newest.items() for d in _per_record(_deadlines, c, key, of)]
    return sorted((d for d in items if today is None or d.due >= today), key=lambda d: (d.due, d.case_id, d.what))


# --- packets ---------------------------------------------------------------------------------


def packet_pdf(packet_id: str) -> bytes:
    """The packet.pdf (or a group's bundled PDF) inside an archived, checked packet."""
    from packets.bag import read_bag_zip

    _name, payload = read_bag_zip(cases.packet_bytes(check_packet_ref(packet_id)))
    if "packet.pdf" in payload:
        return payload["packet.pdf"]
    pdfs = sorted(p for p in payload if p.endswith(".pdf") and "/" not in p)
    if not pdfs:
        raise NotFound(f"packet {packet_id}: no PDF in the bag", hint="download the BagIt zip instead")
    return payload[pdfs[0]]


# --- importing an uploaded case folder ----------------------------------------------------------


def import_zip(data: bytes, actor: str) -> cases.ImportResult:
    """Import a zipped case folder from memory: nothing is unpacked to disk, so a kill leaves no plaintext."""
    from workflows import intake

    if len(data) > MAX_IMPORT_BYTES:
        raise BadInput("the upload is larger than 64 MB")
    return intake.import_zip(data, actor)


# --- builds started from the web ----------------------------------------------------------------

_one_build = threading.Lock()
_live: dict[str, dict[str, Any]] = {}  # run id -> its record, for the runs building in this process
_KINDS = ("build", "advance", "group")


def _runs() -> AccountStore:
    return AccountStore(cases.vault().store)


def _seal(text: str) -> str:
    """A refusal's text may name the caseworker's own evidence ids: kept encrypted in the run object."""
    return encrypt(text.encode(), cases.vault().keys.recipients()).hex()


def _unseal(blob: str) -> str:
    return decrypt(bytes.fromhex(blob), cases.vault().keys.identities(), "a build refusal").decode()


def start_run(kind: str, case_ids: list[str], actor: str, today: date) -> str:
    """Start a build, advance or group build in the background; its run id (R-...) for the progress page."""
    if kind not in _KINDS:
        raise BadInput(f"unknown run kind {kind!r}")
    ids = [check_case_id(c) for c in case_ids]
    if kind == "group" and len(ids) < 2:
        raise BadInput("pick at least two cases for a group submission")
    if kind != "group" and len(ids) != 1:
        raise BadInput("pick exactly one case")
    run_id = "R-" + secrets.token_hex(8)
    on_pool = pool.configured()
    record: dict[str, Any] = {
        "run_id": run_id,
        "kind": kind,
        "case_ids": ids,
        "actor": actor,
        "today": today.isoformat(),
        "step": "queued" if on_pool else "waiting for the previous build",
        "where": f"work pool {on_pool}" if on_pool else "the case desk's own server",
        "fraction": 0.0,
        "state": "running",
        "started": time.time(),
    }
    _runs().put_run(run_id, record)
    threading.Thread(target=_run, args=(record,), name=f"desk-{run_id}", daemon=True).start()
    return run_id


def run_here(kind: str, case_ids: list[str], actor: str, today: date) -> dict[str, Any]:
    """Run a build in this thread exactly as a started run does (the benchmark and the run thread use it)."""
    record = {"run_id": "", "kind": kind, "case_ids": case_ids, "actor": actor, "today": today.isoformat()}
    return _execute(record, lambda step, fraction: None)


def _execute(record: dict[str, Any], show: Any) -> dict[str, Any]:
    today = date.fromisoformat(record["today"])
    kind, ids, actor = record["kind"], record["case_ids"], record["actor"]
    # On a work pool each run reports its own progress (polled from the server): no need to take turns.
    with contextlib.nullcontext() if pool.configured() else _one_build:
        if kind == "build":
            return cases.build(ids[0], today, actor, show=show, in_process=True)
        if kind == "advance":
            return cases.advance(ids[0], today, actor, show=show, in_process=True)
        return cases.build_group(ids, today, actor, show=show, in_process=True)


def _run(record: dict[str, Any]) -> None:
    store = _runs()
    run_id = record["run_id"]

    def show(step: str, fraction: float) -> None:
        # Steps stay in this process's memory (a store write per step slowed builds measurably); the store
        # holds the start and the outcome, so another instance shows "running", then the result.
        with _states_lock:
            record.update(step=step, fraction=round(fraction, 2))

    with _states_lock:
        _live[run_id] = record
    try:
        result = _execute(record, show)
        record.update(state="done", step="done", fraction=1.0, result=_ids_only(result))
    except (NotReady, EvidenceRejected) as exc:
        record.update(state="refused", refusal=_seal(str(exc)))
    except DossierError as exc:
        record.update(state="failed", refusal=_seal(str(exc)))
    except Exception as exc:  # noqa: BLE001 - a run must end with an outcome page, never silently
        # The class and the ids only: an unexpected exception's message may quote case data.
        log.error(
            "run %s (%s of %s) failed: %s", record["run_id"], record["kind"], record["case_ids"], type(exc).__name__
        )
        record.update(state="failed", refusal=_seal(f"internal error ({type(exc).__name__}); see the server log"))
    record["ended"] = time.time()
    store.put_run(run_id, record)
    with _states_lock:
        _live.pop(run_id, None)


def _ids_only(result: dict[str, Any]) -> dict[str, Any]:
    keep = ("case_id", "packet_id", "group_id", "stage", "from_stage", "to_stage", "pages", "members")
    return {k: result[k] for k in keep if k in result}


def run_status(run_id: str) -> dict[str, Any]:
    """A run's progress and outcome (the refusal decrypted for the page that shows it)."""
    if not (run_id.startswith("R-") and len(run_id) == 18 and all(c in "0123456789abcdef" for c in run_id[2:])):
        raise BadInput("not a run id")
    with _states_lock:
        live = dict(_live[run_id]) if run_id in _live else None
    if live is not None and live.get("state") == "running":
        return live  # a run of this process: no store read while it builds
    data = _runs().run(run_id)
    if data is None:
        raise NotFound("no such build run", hint="start the build again from the case page")
    if data.get("refusal"):
        data["refusal"] = _unseal(data["refusal"])
    return data


# --- audit checkpoints kept by this installation ---------------------------------------------------


def checkpoints() -> list[Path]:
    """Checkpoint files written under DOSSIER_HOME/checkpoints, newest first."""
    from core.settings import load_settings

    folder = load_settings().home / "checkpoints"
    return sorted(folder.glob("checkpoint-*.json"), reverse=True) if folder.is_dir() else []


def checkpoint_file(name: str) -> Path:
    """One checkpoint file by its name (only names `dossier` wrote)."""
    for path in checkpoints():
        if path.name == name:
            return path
    raise NotFound("no such checkpoint", hint="make one with the Checkpoint button")


def warm() -> None:
    """Read case states, import the flows, start Prefect's local server: the first page and build are not slow."""
    import workflows.flows  # noqa: F401 - the import is most of a cold start
    from workflows import runner

    case_states()  # every case's state decrypted once now, so the first case list is not the slow one
    with _one_build:  # never at the same time as a build's own start
        runner.start_local_server()  # the same start (and orphan record) as the first in-process run


def shutdown() -> None:
    """Stop what `warm()` and in-process builds started (Prefect's temporary server) as the web app ends."""
    from workflows import runner

    with _one_build:  # a build in progress finishes first
        runner.stop_local_server()
