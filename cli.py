"""The `dossier` command: parses arguments, calls the domain, prints. Nothing else lives here.

Heavy modules (Prefect, LibreOffice glue, boto3) are imported inside the commands that need them,
so `dossier check` and `dossier --help` stay fast.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from core.errors import BadInput, DossierError

if TYPE_CHECKING:
    from casefile import LoadedCase
    from storage import Vault

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
case_app = typer.Typer(help="Import, list and show cases.", no_args_is_help=True)
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


# --- shared helpers ----------------------------------------------------------------------


def _print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")


def _today(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"--today {value}: not a date", hint="write it as YYYY-MM-DD") from None


def _vault() -> Vault:
    from storage import Vault

    return Vault.from_env()


def _is_folder_ref(ref: str) -> bool:
    return Path(ref).is_dir()


def _load_folder(folder: Path) -> LoadedCase:
    import country_rules
    from casefile import load_case_folder

    loaded = load_case_folder(folder, extra_kinds=country_rules.known_kinds())
    country_rules.first_stage(loaded.case.country, loaded.case.procedure)  # unknown country/procedure: exit 2
    return loaded


def _import_folder(folder: Path) -> str:
    from core.settings import load_settings

    loaded = _load_folder(folder)
    return _vault().import_case(loaded, load_settings().actor)


def _load_ref(ref: str) -> LoadedCase:
    """A case by folder (read directly) or by case id (decrypted from the store)."""
    if _is_folder_ref(ref):
        return _load_folder(Path(ref))
    return _vault().load_case(ref)


def _run_flow(name: str, /, *, in_process: bool = False, **params: Any) -> Any:
    """Run a flow (build, advance, revalidate, group) with a progress bar on standard error.

    It goes to the warm flow daemon (see workflows/daemon_client.py) unless DOSSIER_DAEMON=off
    or in_process is set; the result is plain JSON data either way.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from core.settings import load_settings
    from workflows import daemon_client

    params.setdefault("requested_by", load_settings().actor)
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TimeElapsedColumn(), console=err, transient=True
    ) as progress:
        bar = progress.add_task("starting", total=1.0)

        def show(step: str, frac: float) -> None:
            progress.update(bar, description=step, completed=frac)

        if daemon_client.enabled() and not in_process:
            try:
                return daemon_client.run(name, params, show)
            except daemon_client.DaemonUnavailable as exc:
                err.print(f"[dim]flow daemon unavailable ({exc}); running in this process[/]")
        return _run_in_process(name, params, show)


def _run_in_process(name: str, params: dict[str, Any], show: Any) -> Any:
    from workflows.local import run_local
    from workflows.progress import subscribe

    unsubscribe = subscribe(show)
    try:
        return run_local(name, params)
    finally:
        unsubscribe()


# --- setup commands --------------------------------------------------------------------


@app.command()
def init() -> None:
    """Create the configuration, the organisation key, the store and Prefect's local database (idempotent).

    Example: DOSSIER_HOME=/srv/dossier dossier init
    """
    from workflows import daemon_client
    from workflows.prefect_env import prepare_prefect_home

    report = _vault().init()
    for line in report.lines():
        out.print(line)
    out.print(prepare_prefect_home())
    if daemon_client.prewarm():
        out.print("flows: daemon started in the background (Prefect warms up for the first build)")


# --- case commands -----------------------------------------------------------------------


@case_app.command("import")
def case_import(folder: Annotated[Path, typer.Argument(help="Case folder holding case.yaml and evidence/.")]) -> None:
    """Validate a case folder, encrypt it and store it; prints the case id on the last line.

    Example: dossier case import examples/fr-asylum-visa-couple
    """
    from workflows import daemon_client

    daemon_client.prewarm()  # Prefect starts in the background while the case is encrypted
    case_id = _import_folder(folder)
    err.print("imported and encrypted; case id:")
    out.print(case_id)


@case_app.command("list")
def case_list(as_json: JsonOpt = False) -> None:
    """List stored cases (ids, country, procedure, stage: no names).

    Example: dossier case list --json
    """
    rows = _vault().list_cases()
    if as_json:
        _print_json(rows)
        return
    table = Table("case id", "country", "procedure", "stage", "updated")
    for r in rows:
        table.add_row(r["case_id"], r["country"], r["procedure"], r.get("stage") or "", str(r.get("updated", "")))
    out.print(table)


@case_app.command("show")
def case_show(case_id: str, as_json: JsonOpt = False) -> None:
    """Show one case: stage, people, evidence and archived packets (decrypts it for you).

    Example: dossier case show K7Q2-M9XD --json
    """
    import country_rules

    v = _vault()
    loaded = v.load_case(case_id)
    state = v.case_state(case_id)
    case = loaded.case
    stage = state.get("stage") or case.stage or country_rules.first_stage(case.country, case.procedure)
    info: dict[str, Any] = {
        "case_id": case.case_id,
        "country": case.country,
        "procedure": case.procedure,
        "stage": stage,
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
        "packets": v.packets_of(case_id),
    }
    if as_json:
        _print_json(info)
        return
    out.print(f"[bold]case {case.case_id}[/]  {case.country} / {case.procedure} / stage [bold]{stage}[/]")
    for p in info["persons"]:
        out.print(f"  {p['person_id']:<10} {p['relation']:<9} {p['given_name']} {p['family_name']}")
    out.print(f"  {len(case.evidence)} evidence document(s); {len(info['packets'])} archived packet(s)")
    for pk in info["packets"]:
        out.print(f"    packet {pk.get('packet_id')}  stage {pk.get('stage', '')}  {pk.get('archived', '')}")


# --- check / build / advance -------------------------------------------------------------


@app.command()
def check(
    ref: Annotated[str, typer.Argument(metavar="CASE_ID|FOLDER", help="A stored case id or a case folder.")],
    as_json: JsonOpt = False,
    today: TodayOpt = None,
) -> None:
    """Print the checklist for the case's current stage; exit 1 when it is not ready.

    Example: dossier check examples/fr-asylum-visa-couple
    """
    from workflows.pipeline import evaluate_case

    loaded = _load_ref(ref)
    if not _is_folder_ref(ref):
        loaded = _with_stored_stage(loaded)
    checklist = evaluate_case(loaded, _today(today))
    data = checklist.to_json()
    if as_json:
        _print_json(data)
    else:
        _print_checklist(data)
    if not data["ready"]:
        raise typer.Exit(1)


def _with_stored_stage(loaded: LoadedCase) -> LoadedCase:
    """The stored case with its current stage (advance moves it) applied."""
    from dataclasses import replace

    from casefile import LoadedCase

    stage = _vault().case_state(loaded.case.case_id).get("stage")
    if stage and stage != loaded.case.stage:
        return LoadedCase(case=replace(loaded.case, stage=stage), files=loaded.files)
    return loaded


_STATUS_STYLE = {"met": "green", "missing": "red", "expired": "red", "untranslated": "yellow"}


def _print_checklist(data: dict[str, Any]) -> None:
    verdict = "[green]READY[/]" if data["ready"] else "[red]NOT READY[/]"
    out.print(
        f"[bold]case {data['case_id']}[/] {data['country']}/{data['procedure']} stage {data['stage']}"
        f" (for {data['evaluated_for']}, rules {data['rules_version'][:19]}): {verdict}"
    )
    table = Table("person", "requirement", "status", "evidence", "reason / source")
    for item in data["items"]:
        style = _STATUS_STYLE.get(item["status"], "")
        src = item.get("source") or {}
        table.add_row(
            item["person"],
            item["title"],
            f"[{style}]{item['status']}[/]" if style else item["status"],
            ", ".join(item["evidence"] + item.get("translations", [])),
            item["reason"] or f"{src.get('title', '')} {src.get('article') or ''}".strip(),
        )
    out.print(table)
    for b in data["blocks"]:
        out.print(f"[red]BLOCKED for senior review[/] ({b['code']}): {b['reason']}")
    for w in data["warnings"]:
        out.print(f"[yellow]warning:[/] {w}")


@app.command()
def build(
    ref: Annotated[
        str, typer.Argument(metavar="CASE_ID|FOLDER", help="A stored case id, or a folder to import first.")
    ],
    today: TodayOpt = None,
) -> None:
    """Build and archive the packet for the case's current stage; prints the packet id on the last line.

    A folder is validated and imported first (its case id is printed on standard error).
    Example: dossier build K7Q2-M9XD
    """
    case_id = ref
    if _is_folder_ref(ref):
        case_id = _import_folder(Path(ref))
        err.print(f"imported case {case_id}")
    outcome = _run_flow("build", case_id=case_id, today=_today(today).isoformat())
    err.print(
        f"case {outcome['case_id']}: packet archived ({outcome['pages']} pages, stage {outcome['stage']}); packet id:"
    )
    out.print(outcome["packet_id"])


def _build_group(group_file: Path, today: str | None) -> None:
    from packets import load_group_file

    refs = load_group_file(group_file)
    case_ids = [_import_folder(Path(r)) if _is_folder_ref(r) else r for r in refs]
    result = _run_flow("group", case_ids=case_ids, today=_today(today).isoformat())
    for case_id, packet_id in result["members"].items():
        err.print(f"case {case_id}: packet {packet_id}")
    err.print(f"group submission archived ({result['pages']} pages); group id:")
    out.print(result["group_id"])


@app.command()
def advance(case_id: str, today: TodayOpt = None) -> None:
    """Build and archive the current stage's packet, then move the case to its next stage.

    Refused (exit 1, with the reasons) when the checklist is not met.
    Example: dossier advance K7Q2-M9XD
    """
    result = _run_flow("advance", case_id=case_id, today=_today(today).isoformat())
    if result["to_stage"] is None:
        out.print(
            f"case {case_id}: packet {result['packet_id']} archived; {result['from_stage']} is the last stage of"
            " its procedure, so the case stays there (start the next procedure as a new case)"
        )
    else:
        out.print(
            f"case {case_id}: packet {result['packet_id']} archived;"
            f" stage {result['from_stage']} -> {result['to_stage']}"
        )


# --- packet commands ---------------------------------------------------------------------


@packet_app.command("get")
def packet_get(
    packet_id: str,
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder to write the unzipped bag into.")],
    zipped: Annotated[bool, typer.Option("--zip", help="Write the bag as one .zip file instead.")] = False,
) -> None:
    """Decrypt an archived packet and write it (a BagIt bag) to a folder.

    Example: dossier packet get P-0123456789AB -o ./out
    """
    from packets import unpack_bag_zip

    data = _vault().get_packet(packet_id)
    output.mkdir(parents=True, exist_ok=True)
    if zipped:
        target = output / f"{packet_id}.zip"
        target.write_bytes(data)
    else:
        target = unpack_bag_zip(data, output)  # every manifest checked before anything is written
    out.print(str(target))


# --- audit commands ----------------------------------------------------------------------


@audit_app.command("log")
def audit_log(
    case: Annotated[str | None, typer.Option("--case", help="Only this case's history.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show the audit log (who did what, when, to which object, with which hash).

    Example: dossier audit log --case K7Q2-M9XD
    """
    entries = _vault().audit.entries(case_id=case)
    if as_json:
        _print_json(entries)
        return
    table = Table("seq", "time", "actor", "action", "case", "object", "sha256")
    for e in entries:
        table.add_row(
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
def audit_verify(
    since: Annotated[
        Path | None, typer.Option("--since", help="A checkpoint file: also detect a rollback before it.")
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option("--public-key", help="The organisation's published checkpoint key (PEM) to check --since."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Re-hash every audit entry and every archived object; exit 1 on any mismatch.

    Needs no decryption key: read access to the store is enough.
    Example: dossier audit verify --since checkpoint.json
    """
    result = _vault().audit.verify(since_checkpoint=since, public_key=public_key)
    if as_json:
        _print_json(result.to_json())
    else:
        for line in result.lines():
            out.print(line)
    if not result.ok:
        raise typer.Exit(1)


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
    report = _run_flow("revalidate", country=country, procedure=procedure, today=_today(today).isoformat())
    if as_json:
        _print_json(report)
        return
    out.print(f"{report['checked']} case(s) checked, {report['ready']} ready, {len(report['changed'])} changed status")
    for r in report["changed"]:
        before, after = r["before"], r["after"]
        out.print(
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

    items = collect(_vault(), with_names=names, horizon_from=_today(since) if since else None)
    if ics is not None:
        ics.write_bytes(to_ics(items))
        err.print(f"wrote {len(items)} event(s) to {ics}")
    if as_json:
        _print_json([i.to_json() for i in items])
        return
    table = Table("due", "case", *(["person"] if names else []), "what", "legal basis")
    for i in items:
        table.add_row(i.due.isoformat(), i.case_id, *([i.person_label or ""] if names else []), i.what, i.source)
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
        err.print(f"Prefect UI: {server.ui_url}  (Deployments -> build -> Run -> Custom run)")
    try:
        from workflows.deploy import serve_flows

        serve_flows(limit=limit)
    finally:
        if server is not None:
            server.stop()


@app.command("daemon-stop")
def daemon_stop() -> None:
    """Stop the warm flow daemons of this user (they also stop by themselves when idle).

    Example: dossier daemon-stop
    """
    from workflows import daemon_client

    out.print(f"{daemon_client.stop_all()} daemon(s) stopped")


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

    from casefile.specimens import write_specimens
    from core.settings import load_settings

    examples = Path(__file__).resolve().parent / "examples"
    settings = load_settings()
    work = workdir.resolve()  # plaintext lives here, never under DOSSIER_HOME
    v = _vault()
    for line in v.init().lines():
        err.print(line)
    built = []
    for src in sorted(p.parent for p in examples.glob("*/case.yaml")):
        dest = work / src.name
        if dest.exists():
            shutil.rmtree(dest)
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns("evidence"))
        write_specimens(dest)
        case_id = _import_folder(dest)
        outcome = _run_flow("build", in_process=True, case_id=case_id)
        target = work / "packets"
        target.mkdir(parents=True, exist_ok=True)
        packet_get(outcome["packet_id"], target)
        built.append((src.name, case_id, outcome["packet_id"], outcome["pages"]))
    table = Table("example", "case id", "packet id", "pages")
    for row in built:
        table.add_row(row[0], row[1], row[2], str(row[3]))
    out.print(table)
    out.print(f"Packets (decrypted BagIt bags) are in {work / 'packets'}; open */data/packet.pdf.")
    out.print(f"Encrypted store: {settings.store_url}")
    out.print("Check the archive: dossier audit verify; history: dossier audit log")


# --- rules commands ----------------------------------------------------------------------
# (owned by the rules helper)

RulesOnOpt = Annotated[
    str | None, typer.Option("--on", help="Only the rule texts in force on this date (YYYY-MM-DD).", metavar="DATE")
]


@rules_app.command("list")
def rules_list(as_json: JsonOpt = False) -> None:
    """List every country, its procedures, their stages in order and the rules version.

    Example: dossier rules list --json
    """
    from country_rules.adviser import rules_overview

    rows = rules_overview()
    if as_json:
        _print_json(rows)
        return
    table = Table("country", "procedure", "stages (in order)", "requirements", "title")
    for r in rows:
        table.add_row(r["country"], r["procedure"], " -> ".join(r["stages"]), str(r["requirements"]), r["title"])
    out.print(table)
    for country in sorted({r["country"] for r in rows}):
        version = next(r["rules_version"] for r in rows if r["country"] == country)
        out.print(f"rules version {country}: {version}")


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
    from country_rules.adviser import show_rules

    rows = show_rules(country, procedure, on=_today(on) if on else None)
    if as_json:
        _print_json(rows)
        return
    table = Table(
        "requirement (for whom, when)", "evidence (validity, language)", "legal source", "in force", show_lines=True
    )
    for r in rows:
        who = r["applies_to"] + (f" if {r['when']}" if r["when"] else "")
        req = f"[bold]{r['stage']} / {r['requirement']}[/]\n{r['title']}\n[dim]{who}[/]"
        evidence = "\n".join(x for x in (r["evidence"], r["validity"], r["translation"]) if x)
        source = "\n".join(x for x in (r["source"], r["source_article"], r["source_url"]) if x)
        dates = f"{r['valid_from']}\n.. {r['valid_to'] or 'now'}\nreviewed {r['last_reviewed']}"
        table.add_row(req, evidence, source, dates)
    out.print(table)
    sources = sorted({r["source"] for r in rows})
    out.print(f"{len(rows)} rule text(s), {len(sources)} distinct source(s).")
    for r in rows:
        if r["note"]:
            out.print(f"[dim]note[/] {r['procedure']}/{r['stage']}/{r['requirement']}: {r['note']}")


@rules_app.command("test")
def rules_test(
    country: Annotated[str | None, typer.Argument(help="Only this country's tests (default: all).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Run the YAML rule tests (sentences next to each country's rules); exit 1 if any fails.

    Example: dossier rules test fr
    """
    from country_rules.ruletests import run_rule_tests

    results = run_rule_tests(country)
    failed = [r for r in results if not r.passed]
    if as_json:
        _print_json(
            [{"file": r.test.where, "name": r.test.name, "passed": r.passed, "failures": r.failures} for r in results]
        )
    else:
        for r in results:
            mark = "[green]PASS[/]" if r.passed else "[red]FAIL[/]"
            out.print(f"{mark} {r.test.name}")
            for f in r.failures:
                out.print(f"     {r.test.where}: {f}")
        out.print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    if failed:
        raise typer.Exit(1)


@rules_app.command("lint")
def rules_lint() -> None:
    """Check the rules: predicates, evidence kinds, templates and their variables, keys, tests; exit 1 on a problem.

    Example: dossier rules lint
    """
    from country_rules.adviser import lint_rules

    problems = lint_rules()
    for p in problems:
        out.print(f"[red]problem:[/] {p}")
    if problems:
        out.print(f"{len(problems)} problem(s)")
        raise typer.Exit(1)
    out.print("rules lint: no problems")


# --- storage/audit/key commands ----------------------------------------------------------
# (owned by the storage helper)

CaseOpt = Annotated[str | None, typer.Option("--case", help="Only this case's entries.", metavar="CASE_ID")]


@case_app.command("shred")
def case_shred(
    case_id: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Crypto-shred a case: delete every version of its key, so nothing stored for it can be decrypted again.

    The audit log records the shred and keeps the hashes of what was stored. This cannot be undone.
    Example: dossier case shred K7Q2-M9XD --yes
    """
    from core.errors import KeyMissing
    from core.settings import load_settings

    v = _vault()
    try:
        v.case_state(case_id)  # unknown case: exit 2 before asking anything
    except KeyMissing:
        pass  # already shredded (or unreadable): shredding again is harmless
    if not yes:
        if not sys.stdin.isatty():
            raise BadInput(f"case {case_id}: shredding needs a confirmation", hint="add --yes to confirm")
        typer.confirm(
            f"Shred case {case_id}? Its case file, evidence and packets become unreadable forever", abort=True
        )
    if v.shred_case(case_id, load_settings().actor):
        out.print(f"case {case_id}: key deleted (every version); its stored objects can no longer be decrypted")
    else:
        out.print(f"case {case_id}: was already shredded")


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
    cp, path = _vault().checkpoint(output)
    if as_json:
        _print_json(cp | {"file": str(path)})
        return
    out.print(f"checkpoint of entry {cp['seq']} (head {cp['head'][:16]}), signed by key {cp['key_id']}")
    out.print(str(path))


@audit_app.command("export")
def audit_export(
    output: Annotated[Path, typer.Option("-o", "--output", help="Folder for audit.csv and audit.html.")] = Path(
        "audit-report"
    ),
    case: CaseOpt = None,
    since: Annotated[Path | None, typer.Option("--since", help="A checkpoint to verify against.")] = None,
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="The organisation's checkpoint public key (PEM).")
    ] = None,
) -> None:
    """Write the audit log as CSV and as a readable HTML report (with the verification verdict) for a board or donor.

    Example: dossier audit export -o report/ --case K7Q2-M9XD
    """
    from storage.export import export_audit

    result = export_audit(_vault().audit, output, case_id=case, since_checkpoint=since, public_key=public_key)
    verdict = "verified" if result.ok else "VERIFICATION FAILED (see the report)"
    out.print(f"{result.entries} entries, {verdict}")
    out.print(str(result.csv_path))
    out.print(str(result.html_path))


@storage_app.command("rewrap-keys")
def storage_rewrap_keys() -> None:
    """Re-encrypt every case key to the recipients now listed in DOSSIER_HOME/keys/recipients.txt.

    Run it after adding a recipient (legal adviser, offline recovery key) or removing one.
    Example: echo age1... >> $DOSSIER_HOME/keys/recipients.txt && dossier storage rewrap-keys
    """
    from core.settings import load_settings

    n = _vault().rewrap_keys(load_settings().actor)
    out.print(f"{n} case key(s) re-encrypted to the current recipients")


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
    from core.settings import load_settings
    from storage.office import start_office_store

    folder = data_dir or load_settings().home / "seaweedfs"
    office = start_office_store(folder, port=port, bucket=bucket)

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        for line in office.lines():
            out.print(line, markup=False)
        while office.server.alive():
            time.sleep(0.5)
        raise StorageUnavailable(f"SeaweedFS stopped unexpectedly; see {office.server.log_file}")
    except KeyboardInterrupt:
        err.print("stopping SeaweedFS...")
    finally:
        office.server.stop()
    err.print("stopped")


# --- entry point -------------------------------------------------------------------------


def main() -> NoReturn:
    """Run the CLI: domain errors become one-line messages and exit codes, never tracebacks.

    Usage errors (unknown option, missing argument) are Typer's: usage text and exit code 2.
    """
    try:
        app()
    except DossierError as exc:
        err.print(f"[red]error:[/] {exc.message}")
        if exc.hint:
            err.print(f"[dim]what to do:[/] {exc.hint}")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err.print("interrupted; nothing half-written is kept: run the same command again")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("DOSSIER_DEBUG"):
            raise
        err.print(f"[red]internal error[/] ({type(exc).__name__}); re-run with DOSSIER_DEBUG=1 and report it")
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()
