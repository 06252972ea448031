"""Run a batch through the set's deployments, survive the faults injected meanwhile, then prove the outcome:
every packet archived once, the audit chain verified (with the auditor's read-only credentials), and no
name, birth date or document number in a pg_dump, any log, Prefect's result storage or the database files.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from core.errors import DossierError
from scaleout.batch import PlannedCase, make_case
from scaleout.desk import add_caseworker, check_desk
from scaleout.stack import BIN, POOL, Stack

BUILD = "build-packet/build"
GROUP = "build-group/group"
MAX_RERUNS = 2


@dataclass
class Run:
    """One submitted flow run and the cases it is for."""

    run_id: str
    deployment: str
    case_ids: list[str]
    expect: str  # "Completed" or "Failed" (a case that is not ready is refused)
    state: str = ""
    reruns: int = 0


@dataclass
class Snapshot:
    """What the run loop knows at one poll: states by run, the set, seconds since submission."""

    stack: Stack
    runs: list[Run]
    raw: dict[str, Any]
    elapsed: float

    def count(self, *states: str) -> int:
        return sum(1 for r in self.runs if r.state in states)


# A fault looks at each snapshot and acts once; it returns a line saying what it did, or None to wait.
Fault = Callable[[Snapshot], str | None]


@dataclass
class Outcome:
    """The figures and findings of one batch."""

    builds: int = 0
    workers: int = 0
    seconds: float = 0.0
    leaks: list[tuple[str, str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    reruns: int = 0

    @property
    def per_minute(self) -> float:
        return 60.0 * self.builds / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> bool:
        return not self.leaks and not self.problems

    def line(self) -> str:
        """The one line `make scaleout` prints (contract)."""
        return (
            f"scaleout: {self.builds} builds, {self.workers} workers, {self.seconds:.1f} s wall, "
            f"{self.per_minute:.1f} builds/min, {len(self.leaks)} leaks found"
            + (f", {len(self.problems)} problem(s)" if self.problems else "")
        )


# --- import ------------------------------------------------------------------------------------


def import_cases(stack: Stack, cases: list[PlannedCase], parallel: int = 2) -> None:
    """`dossier case import FOLDER` for each case at the office, as a caseworker would (two at a time)."""
    env = stack.office_env()

    def one(case: PlannedCase) -> None:
        checked = subprocess.run(
            [str(BIN / "dossier"), "check", str(case.folder)],
            env=env,
            cwd=stack.release,
            capture_output=True,
            timeout=300,
            check=False,
        )
        if checked.returncode not in (0, 1):
            raise DossierError(
                f"check of {case.folder.name} failed (exit {checked.returncode})", hint=checked.stderr[-400:].decode()
            )
        case.checked_ready = checked.returncode == 0
        done = subprocess.run(
            [str(BIN / "dossier"), "case", "import", str(case.folder)],
            env=env,
            cwd=stack.release,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise DossierError(f"import of {case.folder.name} failed (exit {done.returncode})", hint=done.stderr[-400:])
        case.case_id = [ln for ln in done.stdout.splitlines() if ln.strip()][-1].strip()

    with ThreadPoolExecutor(parallel) as pool:
        list(pool.map(one, cases))


# --- submit and follow ---------------------------------------------------------------------------


def _submit(deployment: str, params: dict[str, Any]) -> str:
    from workflows.submit import submit

    return submit(deployment, [params])[0]


def submit_batch(stack: Stack, cases: list[PlannedCase]) -> list[Run]:
    """One build per single case, one group build for the group members, all through the deployments."""
    runs: list[Run] = []
    with stack.api():
        for case in cases:
            if not case.group:
                rid = _submit(BUILD, {"case_id": case.case_id})
                runs.append(Run(rid, BUILD, [case.case_id], "Completed" if case.checked_ready else "Failed"))
        members = [c.case_id for c in cases if c.group]
        if members:
            ready = all(c.checked_ready for c in cases if c.group)
            runs.append(Run(_submit(GROUP, {"case_ids": members}), GROUP, members, "Completed" if ready else "Failed"))
    return runs


def _pid_alive(infrastructure_pid: str | None) -> bool:
    """Whether a run's process (Prefect records `host:pid`) is still there; this machine only."""
    if not infrastructure_pid:
        return True  # not started yet: nothing to judge
    pid = infrastructure_pid.rsplit(":", 1)[-1]
    return pid.isdigit() and Path(f"/proc/{pid}").exists()


def _crash(client: Any, run_id: str, why: str) -> None:
    from prefect.states import Crashed

    client.set_flow_run_state(UUID(run_id), Crashed(message=why), force=True)


def follow(stack: Stack, runs: list[Run], faults: list[Fault], outcome: Outcome, timeout: float) -> None:
    """Poll until every run is final; inject faults; mark runs whose process died Crashed and re-run them.

    A run whose worker machine died stays Running for ever in Prefect's database. Across machines
    Prefect's zombie automation (deploy/prefect/crash-zombie-flows.yaml, from missed heartbeats) marks
    it Crashed; here, on one machine, its recorded process id is checked directly, which is faster.
    """
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    started = time.monotonic()
    pending_faults = list(faults)
    with stack.api(), get_client(sync_client=True) as client:
        while True:
            active = [r for r in runs if r.state not in ("Completed", "Failed", "Crashed", "Cancelled")]
            if not active:
                break
            if time.monotonic() - started > timeout:
                raise DossierError(
                    f"{len(active)} flow run(s) not final after {timeout:.0f} s", hint=f"see {stack.logs}"
                )
            ids = [UUID(r.run_id) for r in active]
            raw = {
                str(fr.id): fr
                for fr in client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))
            }
            for r in active:
                fr = raw.get(r.run_id)
                if fr is None or fr.state is None:
                    continue
                r.state = str(fr.state.name)
                if r.state == "Running" and not _pid_alive(fr.infrastructure_pid):
                    _crash(client, r.run_id, "its worker process died")
                    r.state = "Crashed"
                    outcome.events.append(f"run of {','.join(r.case_ids)} marked Crashed (its process died)")
            for r in [r for r in runs if r.state == "Crashed"]:
                if r.reruns >= MAX_RERUNS:
                    continue
                params: dict[str, Any] = (
                    {"case_ids": r.case_ids} if r.deployment == GROUP else {"case_id": r.case_ids[0]}
                )
                r.run_id, r.state, r.reruns = _submit(r.deployment, params), "", r.reruns + 1
                outcome.reruns += 1
                outcome.events.append(f"re-run submitted for {','.join(r.case_ids)}")
            snap = Snapshot(stack, runs, raw, time.monotonic() - started)
            for fault in list(pending_faults):
                said = fault(snap)
                if said is not None:
                    outcome.events.append(said)
                    pending_faults.remove(fault)
            time.sleep(0.5)
    outcome.seconds = time.monotonic() - started
    if pending_faults:
        outcome.problems.append(f"{len(pending_faults)} fault(s) found no moment to strike: the batch ended first")
    for r in runs:
        if r.state != r.expect:
            outcome.problems.append(f"{r.deployment} for {','.join(r.case_ids)}: {r.state}, expected {r.expect}")


# --- checks ----------------------------------------------------------------------------------------


def archive_counts(stack: Stack, case_ids: list[str]) -> dict[str, dict[str, int]]:
    """Per case: packet rows in its record and archive-packet / archive-group entries in the audit log."""
    script = (
        "import json,sys; from storage import Vault; v=Vault.from_env(); es=v.audit.entries(); out={}\n"
        "for c in sys.argv[1:]:\n"
        "  mine=[e for e in es if e.get('case_id')==c]\n"
        "  out[c]={'packets': len(v.packets_of(c)), 'archived': sum(e['action']=='archive-packet' for e in mine)}\n"
        "out['_groups']={'archived': sum(e['action']=='archive-group' for e in es)}\n"
        "print(json.dumps(out))"
    )
    command = [str(BIN / "python"), "-c", script, *case_ids]
    output = stack.run_command(command, stack.office_env(), "reading the archive")
    data: dict[str, dict[str, int]] = json.loads(output.strip().splitlines()[-1])
    return data


def check_archive(stack: Stack, cases: list[PlannedCase], outcome: Outcome, groups_before: int = 0) -> None:
    """Ready cases: one packet, one archive entry; not-ready ones: none; the group: archived once."""
    counts = archive_counts(stack, [c.case_id for c in cases])
    group_ready = all(c.checked_ready for c in cases if c.group)
    for case in cases:
        if case.ready != case.checked_ready:
            if not case.ready:
                outcome.problems.append(f"case {case.case_id}: `dossier check` accepts a case made not ready")
            else:
                outcome.events.append(f"case {case.case_id}: not ready under the current rules (dossier check)")
        want = 1 if case.checked_ready and (group_ready or not case.group) else 0
        got = counts[case.case_id]
        if got["packets"] != want or got["archived"] != want:
            outcome.problems.append(
                f"case {case.case_id}: {got['packets']} packet(s), {got['archived']} archive entries, expected {want}"
            )
    groups = 1 if any(c.group for c in cases) and group_ready else 0
    made = counts["_groups"]["archived"] - groups_before
    if made != groups:
        outcome.problems.append(f"{made} group archive entries, expected {groups}")
    outcome.builds = sum(c["packets"] for k, c in counts.items() if k != "_groups") + made


def check_audit(stack: Stack, outcome: Outcome) -> None:
    """`dossier audit verify` as the auditor: read-only S3 credentials, no decryption key needed."""
    done = subprocess.run(
        [str(BIN / "dossier"), "audit", "verify"],
        env=stack.office_env(auditor=True),
        cwd=stack.release,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        outcome.problems.append(f"audit verify exited {done.returncode}: {(done.stdout + done.stderr).strip()[-300:]}")


def grep_files(roots: list[Path], needles: list[str], skip: set[Path]) -> list[tuple[str, str]]:
    """Every (file, needle) where a needle's UTF-8 or UTF-16 bytes occur in a file under the roots."""
    encoded = [(n, n.encode(), n.encode("utf-16-le")) for n in needles]
    hits = []
    for root in roots:
        for path in root.rglob("*"):
            if any(path.is_relative_to(s) for s in skip) or not path.is_file() or path.is_symlink():
                continue
            try:
                data = path.read_bytes()
            except OSError:
                continue
            hits += [(str(path), n) for n, a, b in encoded if a in data or b in data]
    return hits


def check_leaks(stack: Stack, cases: list[PlannedCase], outcome: Outcome, cases_root: Path) -> None:
    """pg_dump, then every file the set wrote: logs, Prefect homes and result storage, PostgreSQL's files."""
    assert stack.pg is not None
    stack.pg.dump(stack.root / "prefect-pg_dump.sql")
    needles = sorted({n for c in cases for n in c.needles})
    outcome.leaks = grep_files([stack.root, stack.pg.root], needles, skip={cases_root, stack.release})


def run_batch(
    stack: Stack,
    cases: list[PlannedCase],
    cases_root: Path,
    *,
    faults: list[Fault] | None = None,
    timeout: float = 1200,
) -> Outcome:
    """Import, submit through the deployments, follow (faults included), then check archive, audit and leaks."""
    outcome = Outcome(workers=len(stack.workers))
    # One more ready case, built from the case desk (on the pool) after the batch, when the desk runs.
    extra = make_case(len(cases), "fr-asylum-visa-couple", cases_root / "desk-case", ready=True) if stack.web else None
    at_desk = [extra] if extra else []
    import_cases(stack, cases + at_desk)
    groups_before = archive_counts(stack, [])["_groups"]["archived"]
    runs = submit_batch(stack, cases)
    follow(stack, runs, faults or [], outcome, timeout)
    outcome.workers = len([w for w in stack.workers if w.alive()])
    check_archive(stack, cases, outcome, groups_before)
    refusable = [c for c in cases if not c.checked_ready]
    if at_desk:
        add_caseworker(stack)
        outcome.problems += check_desk(stack, at_desk[0], refusable[0] if refusable else None)
        outcome.builds += 1
        said = f"case desk: {at_desk[0].case_id} built on work pool {POOL}"
        outcome.events.append(said + (f", {refusable[0].case_id} refused" if refusable else ""))
    check_audit(stack, outcome)
    check_leaks(stack, cases + at_desk, outcome, cases_root)
    return outcome
