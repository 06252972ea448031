"""The real CLI: `dossier build` cold and warm, `dossier check`, against the plain pipeline.

cli_build_cold_s: the first `dossier build CASE_ID` on a fresh DOSSIER_HOME and PREFECT_HOME, right
after `dossier init` and `case import` (which start the flow daemon in the background); the same
without that prewarm is reported beside it. cli_build_warm_s: the best of the next calls for the same
case (the packet is already archived: the build is redone and its archiving is a no-op, as for any
repeated build). cli_warm_vs_plain: warm CLI time / the same plain functions in a warm process on the
same store and case. check_s: `dossier check CASE_ID`, against `dossier --help` (the start-up floor).
"""

from __future__ import annotations

import sys
import time
from datetime import date

from bench.common import DOSSIER, PY, Context, child, clean_env, emit, short_runtime_dir, stop_daemons, timed
from bench.harness import Figure


def measure(ctx: Context) -> list[Figure]:
    reps = 2 if ctx.quick else 3
    root = ctx.work / "cli"
    home = root / "home"
    runtime = short_runtime_dir(str(root))
    env = clean_env(DOSSIER_HOME=str(home), PREFECT_HOME=str(root / "prefect"), XDG_RUNTIME_DIR=str(runtime))
    folder = ctx.case_folder()
    try:
        timed([str(DOSSIER), "init"], env)
        imported = timed([str(DOSSIER), "case", "import", str(folder)], env)
        case_id = imported.last_line
        cold = timed([str(DOSSIER), "build", case_id], env)
        packet_id = cold.last_line
        warm = [timed([str(DOSSIER), "build", case_id], env) for _ in range(reps)]
        assert all(w.last_line == packet_id for w in warm), "a warm build printed another packet id"
        checks = [timed([str(DOSSIER), "check", case_id], env, check=False) for _ in range(reps)]
        assert all(c.code in (0, 1) for c in checks), checks[0].stderr[-2000:]
        check_folder = [timed([str(DOSSIER), "check", str(folder)], env, check=False) for _ in range(reps)]
        helps = [timed([str(DOSSIER), "--help"], env) for _ in range(reps)]
    finally:
        stop_daemons(runtime, home)
    # The same first build when nothing warmed the daemon beforehand (init and import ran without it).
    home2 = root / "home-unwarmed"
    env2 = env | {"DOSSIER_HOME": str(home2), "PREFECT_HOME": str(root / "prefect-unwarmed")}
    try:
        off = env2 | {"DOSSIER_DAEMON": "off"}
        timed([str(DOSSIER), "init"], off)
        case2 = timed([str(DOSSIER), "case", "import", str(folder)], off).last_line
        unwarmed = timed([str(DOSSIER), "build", case2], env2)
    finally:
        stop_daemons(runtime, home2)
    plain_env = env | {"DOSSIER_DAEMON": "off"}
    started = time.perf_counter()
    plain = child("cli", str(case_id), str(reps), env=plain_env)
    plain_process_s = time.perf_counter() - started
    cold_plain = timed([str(PY), "-m", "bench.cli", case_id, "1"], plain_env).seconds

    warm_s = min(w.seconds for w in warm)
    plain_s = min(plain["warm"])
    check_s = min(c.seconds for c in checks)
    help_s = min(h.seconds for h in helps)
    extra = {
        "cold_runs_s": cold.seconds,
        "cold_import_s": imported.seconds,
        "cold_unwarmed_s": unwarmed.seconds,
        "warm_runs_s": [w.seconds for w in warm],
        "plain_in_process_runs_s": plain["warm"],
        "plain_first_in_process_s": plain["first"],
        "plain_fresh_process_s": cold_plain,
        "plain_child_total_s": plain_process_s,
    }
    return [
        Figure(
            "cli_build_cold_s",
            cold.seconds,
            cold_plain,
            "s",
            "<= 10 s",
            cold.seconds <= 10,
            f"first build on a fresh DOSSIER_HOME + PREFECT_HOME, right after `case import` ({imported.seconds:.1f} s, "
            f"which starts the flow daemon in the background); without that prewarm: {unwarmed.seconds:.1f} s; "
            "baseline: the plain pipeline as a fresh process",
            extra=extra,
        ),
        Figure(
            "cli_build_warm_s",
            warm_s,
            plain_s,
            "s",
            "<= 1.5x plain",
            warm_s <= 1.5 * plain_s,
            f"best of {reps} repeated `dossier build` calls; baseline: plain functions, warm process",
            extra=extra,
        ),
        Figure(
            "cli_warm_vs_plain",
            warm_s,
            plain_s,
            "s",
            "ratio <= 1.5",
            warm_s <= 1.5 * plain_s,
            f"same as cli_build_warm_s; against the plain pipeline in a fresh process: {warm_s / cold_plain:.2f}",
            extra=extra,
        ),
        Figure(
            "check_s",
            check_s,
            help_s,
            "s",
            "<= 1 s",
            check_s <= 1.0,
            f"`dossier check CASE_ID` (decrypts the stored case); baseline `dossier --help`; "
            f"check of the folder: {min(c.seconds for c in check_folder):.2f} s",
            extra={
                "check_runs_s": [c.seconds for c in checks],
                "check_folder_runs_s": [c.seconds for c in check_folder],
            },
        ),
    ]


def _child(argv: list[str]) -> None:
    """The plain pipeline for a stored case, in this process: first call, then warm calls."""
    from bench.orchestration import plain_build
    from storage import Vault

    case_id, reps = argv[0], int(argv[1])
    vault = Vault.from_env()
    today = date.today()
    t = time.perf_counter()
    plain_build(vault, case_id, today)
    first = time.perf_counter() - t
    warm = []
    for _ in range(reps - 1 if reps > 1 else 0):
        t = time.perf_counter()
        plain_build(vault, case_id, today)
        warm.append(time.perf_counter() - t)
    emit({"first": first, "warm": warm or [first]})


if __name__ == "__main__":
    _child(sys.argv[1:])
