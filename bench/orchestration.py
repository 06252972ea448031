"""orchestration_overhead: the build_packet Prefect flow in a warm process / the same plain functions.

Both sides build a different copy of the 30-evidence case each time (so every build really archives),
alternating, in one process that has already run one of each (Prefect's ephemeral server is up).
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

from bench.common import ACTOR, Context, child, clean_env, emit
from bench.harness import Figure


def measure(ctx: Context) -> list[Figure]:
    reps = 2 if ctx.quick else 4
    root = ctx.work / "orchestration"
    env = clean_env(DOSSIER_HOME=str(root / "home"), PREFECT_HOME=str(root / "prefect"))
    args = [str(reps), str(ctx.case_folder())]
    if ctx.profile:
        args.append(str(root / "profile"))
    r = child("orchestration", *args, env=env)
    ours, base = min(r["flow"]), min(r["plain"])
    ratio = ours / base
    return [
        Figure(
            "orchestration_overhead",
            ours,
            base,
            "s",
            "ratio <= 1.2",
            ratio <= 1.2,
            f"best of {reps} builds each, warm process, ephemeral Prefect server; "
            f"flow overhead {ours - base:+.2f} s per build",
            extra={"flow_runs_s": r["flow"], "plain_runs_s": r["plain"], "warmup_s": r["warmup"]},
        )
    ]


def plain_build(vault: object, case_id: str, today: date) -> str:
    """What the flow does, as plain calls: fetch, check, assemble, archive."""
    from workflows import pipeline

    loaded = vault.load_case(case_id)  # type: ignore[attr-defined]
    checklist = pipeline.evaluate_case(loaded, today)
    built = pipeline.assemble(loaded, checklist, actor=ACTOR, today=today)
    vault.archive_packet(case_id, built.packet_id, built.bag_zip, ACTOR)  # type: ignore[attr-defined]
    return built.packet_id


def _child(argv: list[str]) -> None:
    from bench.common import import_copies
    from workflows import flows
    from workflows.local import run_local

    reps, folder = int(argv[0]), Path(argv[1])
    profile_dir = Path(argv[2]) if len(argv) > 2 else None
    vault = flows.vault()
    vault.init()
    ids = import_copies(vault, [folder], 2 * reps + 2 + (2 if profile_dir else 0))
    today = date.today()
    t = time.perf_counter()
    run_local("build", {"case_id": ids.pop(), "today": today})
    warm_flow = time.perf_counter() - t
    t = time.perf_counter()
    plain_build(vault, ids.pop(), today)
    warm_plain = time.perf_counter() - t
    flow_s: list[float] = []
    plain_s: list[float] = []
    for _ in range(reps):
        t = time.perf_counter()
        plain_build(vault, ids.pop(), today)
        plain_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        run_local("build", {"case_id": ids.pop(), "today": today})
        flow_s.append(time.perf_counter() - t)
    if profile_dir is not None:
        from pyinstrument import Profiler

        profile_dir.mkdir(parents=True, exist_ok=True)
        for name, fn in (
            ("flow", lambda: run_local("build", {"case_id": ids.pop(), "today": today})),
            ("plain", lambda: plain_build(vault, ids.pop(), today)),
        ):
            with Profiler(interval=0.001) as prof:
                fn()
            (profile_dir / f"{name}.txt").write_text(prof.output_text(unicode=False, show_all=False))
    emit({"flow": flow_s, "plain": plain_s, "warmup": {"flow": warm_flow, "plain": warm_plain}})


if __name__ == "__main__":
    _child(sys.argv[1:])
