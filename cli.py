"""The `dossier` command: parses arguments, calls the service layer (workflows/), prints. Nothing else lives here.

Heavy modules (Prefect, LibreOffice glue, boto3) are imported inside the commands that need them,
so `dossier check` and `dossier --help` stay fast. Values from a case are printed as plain text,
never as Rich markup: a name holding "[/]" is a name, not a formatting tag.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from core.errors import BadInput, DossierError

app = typer.Typer(
    name="dossier",
    help=(
        "Build, check and archive visa and asylum dossiers.\n\n"
        "Example: dossier case import examples/fr-asylum-visa-couple"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
case_app = typer.Typer(help="Import, list, show and shred cases.", no_args_is_help=True)
packet_app = typer.Typer(help="Fetch archived packets.", no_args_is_help=True)
audit_app = typer.Typer(help="Read and verify the hash-chained audit log.", no_args_is_help=True)
rules_app = typer.Typer(help="Read, test and lint the country rules.", no_args_is_help=True)
storage_app = typer.Typer(help="Object storage helpers.", no_args_is_help=True)
app.add_typer(case_app, name="case")
app.add_typer(packet_app, name="packet")
app.add_typer(audit_app, name="audit")
app.add_typer(rules_app, name="rules")
app.add_typer(storage_app, name="storage")

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on standard output.")]
TodayOpt = Annotated[
    str | None, typer.Option("--today", help="Evaluate as if today were this date (YYYY-MM-DD).", metavar="DATE")
]


# --- printing helpers ----------------------------------------------------------------------


def say(text: str, *, to: Console = out) -> None:
    """Print text as it is (no markup): case values, ids and messages."""
    to.print(text, markup=False)


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")


def _table(*columns: str, lines: bool = False) -> Table:
    """A table that wraps long cells instead of cutting them (piped output keeps every word)."""
    table = Table(show_lines=lines)
    for name in columns:
        table.add_column(name, overflow="fold")
    return table


def _row(table: Table, *cells: str | Text) -> None:
    table.add_row(*(c if isinstance(c, Text) else Text(str(c)) for c in cells))


def _today(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput("--today: not a date", hint="write it as YYYY-MM-DD, e.g. --today 2026-12-03") from None


def _progress() -> tuple[Progress, Any]:
    progress = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn(), console=err, transient=True
    )
    return progress, progress.add_task("starting", total=1.0)


def _note(text: str, _fraction: float) -> None:
    err.print(Text(text, style="dim"))


def _with_progress(run: Any) -> Any:
    """Run a flow call with a progress bar on standard error."""
    progress, bar = _progress()
    with progress:

        def show(step: str, fraction: float) -> None:
            progress.update(bar, description=escape(step), completed=fraction)

        return run(show)


# --- setup commands --------------------------------------------------------------------


@app.command()
def init() -> None:
    """Create the configuration, the organisation key, the store and Prefect's local database (idempotent).

    Example: DOSSIER_HOME=/srv/dossier dossier init
    """
    from workflows import daemon_client
    from workflows.office import init as do_init

    report, prefect_line = do_init()
    for line in report.lines():
        say(line)
    say(prefect_line)
    if daemon_client.prewarm():
        say("flows: daemon started in the background (Prefect warms up for the first build)")


# --- case commands -----------------------------------------------------------------------


@case_app.command("import")
def case_import(folder: Annotated[Path, typer.Argument(help="Case folder holding case.yaml and evidence/.")]) -> None:
    """Validate a case folder, encrypt it and store it; prints the case id on the last line.

    Importing the same folder again (after adding documents or fixing case.yaml) updates its case and
    says so: the case is found by the case_id in case.yaml, else by the same applicant and procedure.
    Example: dossier case import examples/fr-asylum-visa-couple
    """
    from workflows import daemon_client
    from workflows.cases import import_folder

    daemon_client.prewarm()  # Prefect starts in the background while the case is encrypted
    result = import_folder(folder)
    say(f"case {result.case_id}: {result.summary()}", to=err)
    for other in result.possible_duplicates:
        say(f"warning: possibly the same person as case {other} (same names and birth date)", to=err)
    say("case id:", to=err)
    say(result.case_id)


@case_app.command("list")
def case_list(as_json: JsonOpt = False) -> None:
    """List stored cases (ids, country, procedure, stage: no names).

    Example: dossier case list --json
    """
    from workflows.cases import states

    rows, incomplete = states()
    if as_json:
        _print_json([s.to_json() for s in rows] + [{"case_id": i, "incomplete_import": True} for i in incomplete])
        return
    table = _table("case id", "country", "procedure", "stage", "packets", "updated")
    for s in rows:
        _row(table, s.case_id, s.country, s.procedure, s.stage, str(len(s.packets)), s.updated)
    out.print(table)
    for case_id in incomplete:
        say(
            f"case {case_id}: import interrupted before its record was stored; import the folder again "
            f"or remove it with `dossier case shred {case_id}`"
        )


@case_app.command("show")
def case_show(case_id: str, as_json: JsonOpt = False) -> None:
    """Show one case: stage, people, evidence and archived packets (decrypts it; recorded as a view).

    Example: dossier case show K7Q2-M9XD --json
    """
    from workflows.cases import open_case

    view = open_case(case_id)
    case, st = view.case, view.state
    info: dict[str, Any] = {
        "case_id": case.case_id,
        "country": case.country,
        "procedure": case.procedure,
        "stage": st.stage,
        "record_version": st.record_version,
        "submission_date": case.submission_date.isoformat() if case.submission_date else None,
        "persons": [
            {
                "person_id": p.person_id,
                "relation": p.relation,
                "given_name": p.given_name,
                "family_name": p.family_name,
                "accompanying": p.accompanying,
            }
            for p in case.persons
        ],
        "evidence": [{"id": e.id, "kind": e.kind, "person": e.person} for e in case.evidence],
        "packets": [p | {} for p in st.to_json()["packets"]],
        "groups": st.to_json()["groups"],
    }
    if as_json:
        _print_json(info)
        return
    say(f"case {case.case_id}  {case.country} / {case.procedure} / stage {st.stage} (record v{st.record_version})")
    for p in info["persons"]:
        say(f"  {p['person_id']:<10} {p['relation']:<9} {p['given_name']} {p['family_name']}")
    say(f"  {len(case.evidence)} evidence document(s); {len(st.packets)} archived packet(s)")
    for pk in st.packets:
        say(f"    packet {pk.packet_id}  stage {pk.stage}  {pk.archived}")
    for g in st.groups:
        say(f"    group {g.group_id}  with {', '.join(m for m in g.members if m != case.case_id)}  {g.archived}")


@case_app.command("shred")
def case_shred(
    case_id: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Crypto-shred a case: delete every version of its key, so nothing stored for it can be decrypted again.

    The audit log records the shred and keeps the hashes of what was stored. Every process (the flow
    daemon, the web app, workers) re-checks the key before each use, so the shred holds everywhere at
    once. This cannot be undone.
    Example: dossier case shred K7Q2-M9XD --yes
    """
    from workflows.cases import require_known, shred

    require_known(case_id)  # unknown case: exit 2 before asking anything
    if not yes:
        if not sys.stdin.isatty():
            raise BadInput(f"case {case_id}: shredding needs a confirmation", hint="add --yes to confirm")
        typer.confirm(
            f"Shred case {case_id}? Its case file, evidence and packets become unreadable forever", abort=True
        )
    if shred(case_id):
        say(f"case {case_id}: key deleted (every version); its stored objects can no longer be decrypted")
    else:
        say(f"case {case_id}: was already shredded")


# --- check / build / advance -------------------------------------------------------------


@app.command()
def check(
    ref: Annotated[str, typer.Argument(metavar="CASE_ID|FOLDER", help="A stored case id or a case folder.")],
    as_json: JsonOpt = False,
    today: TodayOpt = None,
) -> None:
    """Print the checklist for the case's current stage; exit 1 when it is not ready.

    A folder is read and checked without being stored. Piped or redirected, every row is printed whole.
    Example: dossier check examples/fr-asylum-visa-couple
    """
    from workflows.cases import check as do_check

    data = do_check(ref, _today(today)).to_json()
    if as_json:
        _print_json(data)
    else:
        _print_checklist(data)
    if not data["ready"]:
        raise typer.Exit(1)


_STATUS_STYLE = {"met": "green", "missing": "red", "expired": "red", "untranslated": "yellow"}


def _reason(item: dict[str, Any]) -> str:
    src = item.get("source") or {}
    return str(item["reason"] or f"{src.get('title', '')} {src.get('article') or ''}".strip())


def _print_checklist(data: dict[str, Any]) -> None:
    verdict = Text("READY", style="green") if data["ready"] else Text("NOT READY", style="red")
    head = Text(
        f"case {data['case_id']} {data['country']}/{data['procedure']} stage {data['stage']}"
        f" (for {data['evaluated_for']}, rules {data['rules_version'][:19]}): "
    )
    out.print(head + verdict)
    if out.is_terminal:
        table = _table("person", "requirement", "status", "evidence", "reason / source")
        for item in data["items"]:
            status = Text(item["status"], style=_STATUS_STYLE.get(item["status"], ""))
            evidence = ", ".join(item["evidence"] + item.get("translations", []))
            _row(table, item["person"], item["title"], status, evidence, _reason(item))
        out.print(table)
    else:  # a log or a script: one whole line per requirement, nothing cut
        for item in data["items"]:
            evidence = ", ".join(item["evidence"] + item.get("translations", [])) or "-"
            kinds = ", ".join(item.get("kinds", [])) or "-"
            say(
                f"{item['status']:<12} {item['person']}: {item['title']} [{item['requirement']}]"
                f" | kind: {kinds} | evidence: {evidence} | {_reason(item)}"
            )
    for b in data["blocks"]:
        label = "ROUTE SUSPENDED" if b["code"].startswith("rules.") else "BLOCKED for senior review"
        say(f"{label} ({b['code']}): {b['reason']}")
    for w in data["warnings"]:
        say(f"warning: {w}")


@app.command()
def build(
    ref: Annotated[
        str | None,
        typer.Argument(metavar="CASE_ID|FOLDER", help="A stored case id, or a folder to import first."),
    ] = None,
    group: Annotated[
        Path | None,
        typer.Option(
            "--group",
            help="A file of case ids or case folders, one a line: build them as one group submission.",
            metavar="FILE",
        ),
    ] = None,
    preview: Annotated[
        bool,
        typer.Option("--preview", help="Render the letters and the first pages into a folder; archive nothing."),
    ] = False,
    output: Annotated[
        Path, typer.Option("-o", "--output", help="Folder for --preview (letters/, first-pages.pdf, PNG pages).")
    ] = Path("preview"),
    pages: Annotated[int, typer.Option("--pages", help="Evidence pages shown by --preview.")] = 3,
    today: TodayOpt = None,
) -> None:
    """Build and archive the packet for the case's current stage; prints the packet id on the last line.

    A folder is validated and imported first. With --group FILE, every member's packet is built, then one
    group letter and index; the group id (G-...) is printed last and `dossier packet get` fetches it.
    With --preview, the letters and the first pages are written to a folder (-o) and nothing is stored:
    a case that is not ready yet can be previewed too (it says why it is not ready).
    Example: dossier build K7Q2-M9XD     or     dossier build --group family.txt     or
    dossier build --preview K7Q2-M9XD -o preview/
    """
    from workflows import cases

    on = _today(today)
    if preview:
        if ref is None or group is not None:
            raise BadInput(
                "--preview needs one case (CASE_ID|FOLDER)", hint="dossier build --preview K7Q2-M9XD -o preview/"
            )
        shown = cases.preview(ref, output, on, pages=pages)
        for path in (*shown.letters, shown.first_pages, *shown.images):
            say(str(path), to=err)
        if not shown.ready:
            say(f"not ready yet (a build would be refused):\n{shown.not_ready}", to=err)
        say(f"preview of packet {shown.packet_id} ({shown.pages} pages in all); nothing was archived", to=err)
        say(str(shown.folder))
        return
    if group is not None:
        if ref is not None:
            raise BadInput("give either a case (CASE_ID|FOLDER) or --group FILE, not both")
        refs = cases.group_members(group)
        result = _with_progress(lambda show: cases.build_group(refs, on, show=show, note=_note))
        for case_id, packet_id in result["members"].items():
            say(f"case {case_id}: packet {packet_id}", to=err)
        say(f"group submission archived ({result['pages']} pages); group id:", to=err)
        say(result["group_id"])
        return
    if ref is None:
        raise BadInput("missing CASE_ID|FOLDER", hint="dossier build K7Q2-M9XD, or dossier build --group FILE")
    outcome = _with_progress(lambda show: cases.build(ref, on, show=show, note=_note))
    say(
        f"case {outcome['case_id']}: packet archived ({outcome['pages']} pages, stage {outcome['stage']}); packet id:",
        to=err,
    )
    say(outcome["packet_id"])


@app.command()
def advance(case_id: str, today: TodayOpt = None) -> None:
    """Build and archive the current stage's packet, then move the case to its next stage.

    Refused (exit 1, with the reasons) when the checklist is not met.
    Example: dossier advance K7Q2-M9XD
    """
    from workflows import cases

    result = _with_progress(lambda show: cases.advance(case_id, _today(today), show=show, note=_note))
    if result["to_stage"] is None:
        say(
            f"case {case_id}: packet {result['packet_id']} archived; {result['from_stage']} is the last stage of"
            " its procedure, so the case stays there (start the next procedure as a new case)"
        )
    else:
        moved = f"stage {result['from_stage']} -> {result['to_stage']}"
        say(f"case {case_id}: packet {result['packet_id']} archived; {moved}")


# --- packet commands ---------------------------------------------------------------------


@packet_app.command("get")
def packet_get(
    packet_id: Annotated[str, typer.Argument(help="A packet id (P-...) or a group id (G-...).")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder to write the unzipped bag into.")],
    zipped: Annotated[bool, typer.Option("--zip", help="Write the bag as one .zip file instead.")] = False,
) -> None:
    """Decrypt an archived packet (or group submission) and write it, a BagIt bag, to a folder.

    The stored object is checked against its audit entry and the bag against its manifests and its id
    before anything is written.
    Example: dossier packet get P-0123456789AB -o ./out
    """
    from workflows.cases import fetch_packet

    say(str(fetch_packet(packet_id, output, zipped=zipped)))


# --- audit commands ----------------------------------------------------------------------

CaseOpt = Annotated[str | None, typer.Option("--case", help="Only this case's entries.", metavar="CASE_ID")]
SinceOpt = Annotated[Path | None, typer.Option("--since", help="A checkpoint file: also detect a rollback before it.")]
PublicKeyOpt = Annotated[
    Path | None,
    typer.Option("--public-key", help="The organisation's published checkpoint key (PEM) to check --since."),
]


@audit_app.command("log")
def audit_log(case: CaseOpt = None, as_json: JsonOpt = False) -> None:
    """Show the audit log (who did what, when, to which object, with which hash).

    Example: dossier audit log --case K7Q2-M9XD
    """
    from workflows import audit

    entries = audit.entries(case)
    if as_json:
        _print_json(entries)
        return
    table = _table("seq", "time", "actor", "action", "case", "object", "sha256")
    for e in entries:
        _row(
            table,
            str(e["seq"]),
            str(e.get("time", "")),
            e.get("actor", ""),
            e["action"],
            e.get("case_id") or "",
            e.get("object_key") or "",
            (e.get("sha256") or "")[:16],
        )
    out.print(table)


@audit_app.command("verify")
def audit_verify(since: SinceOpt = None, public_key: PublicKeyOpt = None, as_json: JsonOpt = False) -> None:
    """Re-hash every audit entry and every archived object; exit 1 on any mismatch.

    Also fails on a deleted archived object (only keys may be deleted, by shredding) and, with --since,
    on a rollback before the checkpoint. Needs no decryption key: read access to the store is enough.
    Example: dossier audit verify --since checkpoint.json --public-key checkpoint-public.pem
    """
    from workflows import audit

    result = audit.verify(since, public_key)
    if as_json:
        _print_json(result.to_json())
    else:
        for line in result.lines():
            say(line)
    if not result.ok:
        raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Checkpoint file (default: DOSSIER_HOME/checkpoints/).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Sign the head of the audit log (Ed25519) and write it as a checkpoint file; keep copies outside the store.

    Later, `dossier audit verify --since FILE` detects any rollback or rewrite before that point.
    Example: dossier audit checkpoint -o /media/usb/checkpoint-2026-11.json
    """
    from workflows import audit

    cp, path = audit.checkpoint(output)
    if as_json:
        _print_json(cp | {"file": str(path)})
        return
    say(f"checkpoint of entry {cp['seq']} (head {cp['head'][:16]}), signed by key {cp['key_id']}")
    say(str(path))


@audit_app.command("export")
def audit_export(
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for audit.csv and audit.html.")] = Path(
        "audit-report"
    ),
    case: CaseOpt = None,
    since: SinceOpt = None,
    public_key: PublicKeyOpt = None,
) -> None:
    """Write the audit log as CSV and as a readable HTML report (with the verification verdict) for a board or donor.

    Example: dossier audit export -o report/ --case K7Q2-M9XD
    """
    from workflows import audit

    result = audit.export(output, case, since, public_key)
    verdict = "verified" if result.ok else "VERIFICATION FAILED (see the report)"
    say(f"{result.entries} entries, {verdict}")
    say(str(result.csv_path))
    say(str(result.html_path))


# --- orchestration commands ----------------------------------------------------------------


@app.command()
def revalidate(
    country: Annotated[str | None, typer.Option("--country", help="Only this country's cases (fr, de, us...).")] = None,
    procedure: Annotated[str | None, typer.Option("--procedure", help="Only this procedure's cases.")] = None,
    today: TodayOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-check every stored case against the current rules and list whose status changed.

    The answer to "this rule changed: whom does it affect?".
    Example: dossier revalidate --country fr
    """
    from workflows import cases

    report = _with_progress(lambda show: cases.revalidate(_today(today), country, procedure, show=show, note=_note))
    if as_json:
        _print_json(report)
        return
    say(f"{report['checked']} case(s) checked, {report['ready']} ready, {len(report['changed'])} changed status")
    for r in report["changed"]:
        before, after = r["before"], r["after"]
        say(
            f"  case {r['case_id']}: ready {before['ready']} -> {after['ready']}; not met now: "
            + (", ".join(after["not_met"]) or "nothing")
        )


@app.command()
def deadlines(
    ics: Annotated[Path | None, typer.Option("--ics", help="Also write an iCalendar file to import.")] = None,
    names: Annotated[
        bool, typer.Option("--names", help="Put applicants' names in titles (default: case ids only).")
    ] = False,
    since: TodayOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List what falls due across all cases: legal time limits, expiring documents and stays.

    Example: dossier deadlines --ics deadlines.ics
    """
    from workflows.deadlines import collect, to_ics

    items = collect(with_names=names, horizon_from=_today(since) if since else None)
    if ics is not None:
        ics.write_bytes(to_ics(items))
        say(f"wrote {len(items)} event(s) to {ics}", to=err)
    if as_json:
        _print_json([i.to_json() for i in items])
        return
    table = _table("due", "case", *(["person"] if names else []), "what", "legal basis")
    for i in items:
        _row(table, i.due.isoformat(), i.case_id, *([i.person_label or ""] if names else []), i.what, i.source)
    out.print(table)


@app.command()
def serve(
    limit: Annotated[int, typer.Option("--limit", help="How many runs may execute at once.")] = 2,
    port: Annotated[int, typer.Option("--port", help="Port of the local Prefect server/UI.")] = 4200,
) -> None:
    """Serve the build, advance and revalidate flows so caseworkers can start them from the Prefect UI.

    Without PREFECT_API_URL, a local Prefect server (with its UI) is started on 127.0.0.1 first.
    Example: dossier serve   (then open http://127.0.0.1:4200, Deployments, build, Run, Custom run)
    """
    from workflows.prefect_env import configure_prefect

    configure_prefect()
    server = None
    if not os.environ.get("PREFECT_API_URL"):
        from workflows.server import start_server

        server = start_server(Path(os.environ["PREFECT_HOME"]), port=port)
        os.environ["PREFECT_API_URL"] = server.api_url
        say(f"Prefect UI: {server.ui_url}  (Deployments -> build -> Run -> Custom run)", to=err)
    try:
        from workflows.deploy import serve_flows

        serve_flows(limit=limit)
    finally:
        if server is not None:
            server.stop()


@app.command()
def deploy(
    pool: Annotated[str, typer.Option("--pool", help="The process work pool whose workers run the flows.")],
    source: Annotated[
        Path | None, typer.Option("--source", help="The checkout every worker has at the same path (default: this).")
    ] = None,
    cold: Annotated[
        bool, typer.Option("--cold", help="Start each run in a fresh Python instead of a fork of a warm one.")
    ] = False,
) -> None:
    """Register the build, advance, group and revalidate flows on a work pool of the Prefect server.

    Needs PREFECT_API_URL. Then `prefect worker start --pool NAME` on each worker machine, and
    DOSSIER_WORK_POOL=NAME for `dossier web` and `dossier build` to run builds on those workers.
    Example: PREFECT_API_URL=http://server:4200/api dossier deploy --pool dossier
    """
    from workflows.deploy import deploy_to_pool

    names = deploy_to_pool(pool, source=source, warm=not cold)
    say(f"deployed to work pool {pool}: {', '.join(sorted(names))}" + (" (cold starts)" if cold else ""))


@app.command("daemon-stop")
def daemon_stop(
    all_: Annotated[
        bool, typer.Option("--all", help="Stop every flow daemon of this user (other homes and checkouts too).")
    ] = False,
) -> None:
    """Stop the warm flow daemon serving this environment (they also stop by themselves when idle).

    Only the daemon of this DOSSIER_HOME, store and Prefect settings stops; --all stops every one of yours.
    Example: dossier daemon-stop
    """
    from workflows import daemon_client

    stopped = daemon_client.stop_all() if all_ else daemon_client.stop_current()
    say(f"{stopped} daemon(s) stopped")


# --- demo --------------------------------------------------------------------------------


@app.command()
def demo(
    workdir: Annotated[
        Path, typer.Option("--workdir", help="Where to write the example case folders and decrypted packets.")
    ] = Path("dossier-demo"),
) -> None:
    """Run the example cases end to end on the embedded default store, and say where to look.

    Example: dossier demo
    """
    import shutil

    from core.settings import load_settings
    from workflows import cases
    from workflows.office import init as do_init
    from workflows.office import write_example_evidence

    examples = Path(__file__).resolve().parent / "examples"
    settings = load_settings()
    work = workdir.resolve()  # plaintext lives here, never under DOSSIER_HOME
    report, _ = do_init()
    for line in report.lines():
        say(line, to=err)
    built = []
    on = date.today()
    for src in sorted(p.parent for p in examples.glob("*/case.yaml")):
        dest = work / src.name
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns("evidence"))
        write_example_evidence(dest)
        case_id = cases.import_folder(dest).case_id
        outcome = _with_progress(lambda show, c=case_id: cases.build(c, on, show=show, in_process=True))
        target = work / "packets"
        cases.fetch_packet(outcome["packet_id"], target)
        built.append((src.name, case_id, outcome["packet_id"], outcome["pages"]))
    table = _table("example", "case id", "packet id", "pages")
    for row in built:
        _row(table, row[0], row[1], row[2], str(row[3]))
    out.print(table)
    say(f"Packets (decrypted BagIt bags) are in {work / 'packets'}; open */data/packet.pdf.")
    say(f"Encrypted store: {settings.store_url}")
    say("Check the archive: dossier audit verify; history: dossier audit log")


# --- rules commands ----------------------------------------------------------------------

RulesOnOpt = Annotated[
    str | None, typer.Option("--on", help="Only the rule texts in force on this date (YYYY-MM-DD).", metavar="DATE")
]


@rules_app.command("list")
def rules_list(as_json: JsonOpt = False) -> None:
    """List every country, its procedures, their stages in order and the rules version.

    Example: dossier rules list --json
    """
    from workflows import rules

    rows = rules.overview()
    if as_json:
        _print_json(rows)
        return
    table = _table("country", "procedure", "stages (in order)", "requirements", "title")
    for r in rows:
        _row(table, r["country"], r["procedure"], " -> ".join(r["stages"]), str(r["requirements"]), r["title"])
    out.print(table)
    for country in sorted({r["country"] for r in rows}):
        version = next(r["rules_version"] for r in rows if r["country"] == country)
        say(f"rules version {country}: {version}")


@rules_app.command("show")
def rules_show(
    country: Annotated[str, typer.Argument(help="Country id: fr, de, us...")],
    procedure: Annotated[str | None, typer.Argument(help="One procedure (default: all of the country).")] = None,
    on: RulesOnOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Print the requirements as a table with their legal sources, dates and notes.

    Example: dossier rules show fr asylum-visa --on 2024-05-15
    """
    from workflows import rules

    rows = rules.show(country, procedure, on=_today(on) if on else None)
    if as_json:
        _print_json(rows)
        return
    table = _table(
        "requirement (for whom, when)", "evidence (validity, language)", "legal source", "in force", lines=True
    )
    for r in rows:
        who = r["applies_to"] + (f" if {r['when']}" if r["when"] else "")
        req = (
            Text(f"{r['stage']} / {r['requirement']}", style="bold")
            + Text(f"\n{r['title']}\n")
            + Text(who, style="dim")
        )
        evidence = "\n".join(x for x in (r["evidence"], r["validity"], r["translation"]) if x)
        source = "\n".join(x for x in (r["source"], r["source_article"], r["source_url"]) if x)
        dates = f"{r['valid_from']}\n.. {r['valid_to'] or 'now'}\nreviewed {r['last_reviewed']}"
        _row(table, req, evidence, source, dates)
    out.print(table)
    sources = sorted({r["source"] for r in rows})
    say(f"{len(rows)} rule text(s), {len(sources)} distinct source(s).")
    for r in rows:
        if r["note"]:
            say(f"note {r['procedure']}/{r['stage']}/{r['requirement']}: {r['note']}")
    for s in rules.suspensions(country, procedure, on=_today(on) if on else None):
        exception = f"; exception: {s['exception']}" if s.get("exception") else ""
        say(f"SUSPENDED {s['scope']} since {s['since']}: {s['reason']}{exception}")


@rules_app.command("test")
def rules_test(
    country: Annotated[str | None, typer.Argument(help="Only this country's tests (default: all).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the YAML rule tests (sentences next to each country's rules); exit 1 if any fails.

    Example: dossier rules test fr
    """
    from workflows import rules

    results = rules.test(country)
    failed = [r for r in results if not r.passed]
    if as_json:
        _print_json(
            [{"file": r.test.where, "name": r.test.name, "passed": r.passed, "failures": r.failures} for r in results]
        )
    else:
        for r in results:
            out.print(Text("PASS", style="green") if r.passed else Text("FAIL", style="red"), Text(r.test.name))
            for f in r.failures:
                say(f"     {r.test.where}: {f}")
        say(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise typer.Exit(1)


@rules_app.command("lint")
def rules_lint() -> None:
    """Check the rules: predicates, evidence kinds, templates and their variables, keys, tests; exit 1 on a problem.

    Example: dossier rules lint
    """
    from workflows import rules

    problems = rules.lint()
    for p in problems:
        say(f"problem: {p}")
    if problems:
        say(f"{len(problems)} problem(s)")
        raise typer.Exit(1)
    say("rules lint: no problems")


# --- storage commands ----------------------------------------------------------------------


@storage_app.command("rewrap-keys")
def storage_rewrap_keys() -> None:
    """Re-encrypt every case key to the recipients now listed in DOSSIER_HOME/keys/recipients.txt.

    Run it after adding a recipient (legal adviser, offline recovery key) or removing one.
    Example: echo age1... >> $DOSSIER_HOME/keys/recipients.txt && dossier storage rewrap-keys
    """
    from workflows.office import rewrap_keys

    say(f"{rewrap_keys()} case key(s) re-encrypted to the current recipients")


@storage_app.command("serve")
def storage_serve(
    data_dir: Annotated[
        Path | None, typer.Option("--dir", help="SeaweedFS data folder (default: DOSSIER_HOME/seaweedfs).")
    ] = None,
    port: Annotated[int, typer.Option("--port", help="S3 port on 127.0.0.1.")] = 8333,
    bucket: Annotated[str, typer.Option("--bucket", help="Bucket to create and use.")] = "dossier",
) -> None:
    """Run a local SeaweedFS S3 store on loopback with generated credentials; print the DOSSIER_STORE to use.

    Credentials are created once and kept in the data folder. Stop with Ctrl-C.
    Example: dossier storage serve --port 8333
    """
    import signal
    import time

    from core.errors import StorageUnavailable
    from workflows.office import serve_store

    office = serve_store(data_dir, port, bucket)

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        for line in office.lines():
            say(line)
        while office.server.alive():
            time.sleep(0.5)
        raise StorageUnavailable(f"SeaweedFS stopped unexpectedly; see {office.server.log_file}")
    except KeyboardInterrupt:
        say("stopping SeaweedFS...", to=err)
    finally:
        office.server.stop()
    say("stopped", to=err)


# --- web and accounts (the case desk) --------------------------------------------------------

user_app = typer.Typer(help="Case-desk accounts: add, list, disable.", no_args_is_help=True)
app.add_typer(user_app, name="user")


@app.command()
def web(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback unless a proxy needs more).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8700,
    proxy_headers: Annotated[
        bool, typer.Option("--proxy-headers", help="Trust X-Forwarded-* from a TLS reverse proxy on 127.0.0.1.")
    ] = False,
) -> None:
    """Serve the case desk (web app) for caseworkers, advisers, auditors and admins.

    Example: dossier user add anna --role caseworker && dossier web --port 8700
    """
    from web.serve import serve

    if not 0 < port < 65536:
        raise BadInput(f"port {port} is not a TCP port", hint="use 1-65535, e.g. --port 8700")
    from workflows import pool

    if pool.configured():
        say(pool.describe(), to=err)  # a pool without the deployments is refused before the port opens
    say(f"case desk on http://{host}:{port}/ (Ctrl+C stops it)", to=err)
    serve(host, port, proxy_headers=proxy_headers)


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Sign-in name: lower-case letters, digits, '.', '-', '_'.")],
    role: Annotated[str, typer.Option(help="caseworker, adviser, auditor or admin.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input (for scripts).")
    ] = False,
    totp: Annotated[bool, typer.Option("--totp", help="Also require a code from an authenticator app.")] = False,
) -> None:
    """Create a case-desk account (the password is hashed with argon2id and never stored).

    Example: printf '%s' "$PW" | dossier user add anna --role caseworker --password-stdin
    """
    from workflows import accounts

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    account, uri = accounts.add_user(username, role, password, totp=totp)
    say(f"account {account.username} added with role {account.role}")
    if uri:
        say(f"authenticator app URI (shown once): {uri}")


@user_app.command("list")
def user_list(as_json: JsonOpt = False) -> None:
    """List case-desk accounts with their roles (no password hashes).

    Example: dossier user list --json
    """
    from workflows import accounts

    users = accounts.list_users()
    if as_json:
        _print_json([{"username": u.username, "role": u.role, "disabled": u.disabled, "totp": u.totp} for u in users])
        return
    if not users:
        say("no accounts yet; add one with `dossier user add NAME --role admin`")
    for u in users:
        say(f"{u.username}\t{u.role}\t{'disabled' if u.disabled else 'active'}{chr(9) + 'totp' if u.totp else ''}")


@user_app.command("disable")
def user_disable(username: Annotated[str, typer.Argument(help="The account to disable.")]) -> None:
    """Disable an account and end its sessions on every web instance.

    Example: dossier user disable anna
    """
    from workflows import accounts

    changed = accounts.disable_user(username)
    say(f"account {username} {'disabled; its sessions ended' if changed else 'was already disabled'}")


# --- entry point -------------------------------------------------------------------------


def main() -> NoReturn:
    """Run the CLI: domain errors become one-line messages and exit codes, never tracebacks.

    Usage errors (unknown option, missing argument) are Typer's: usage text and exit code 2.
    """
    try:
        app()
    except DossierError as exc:
        err.print(Text("error: ", style="red") + Text(exc.message))
        if exc.hint:
            err.print(Text("what to do: ", style="dim") + Text(exc.hint))
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        say("interrupted; nothing half-written is kept: run the same command again", to=err)
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("DOSSIER_DEBUG"):
            raise
        say(f"internal error ({type(exc).__name__}); re-run with DOSSIER_DEBUG=1 and report it", to=err)
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()
