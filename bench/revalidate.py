"""revalidate_200_cases_s: the revalidate flow over 200 stored cases (copies of both example cases).

The flow runs in a warm process (one revalidation of no case has started Prefect). Its first run
records every case's status (200 record writes and audit entries); the second finds nothing changed.
The baseline is the same work as plain calls, on an identical copy of the store.
"""

from __future__ import annotations

import shutil
import sys
import time
from datetime import date
from typing import Any

from bench.common import ACTOR, BUILD_CASE, OTHER_CASE, Context, child, clean_env, emit
from bench.harness import Figure


def measure(ctx: Context) -> list[Figure]:
    n = 30 if ctx.quick else 200
    root = ctx.work / "revalidate"
    folders = [ctx.case_folder(BUILD_CASE), ctx.case_folder(OTHER_CASE)]
    flow_home, plain_home = root / "flow-home", root / "plain-home"
    started = time.perf_counter()
    ids = child("common", "import", str(flow_home), str(n), *map(str, folders), env=clean_env())["case_ids"]
    import_s = time.perf_counter() - started
    shutil.copytree(flow_home, plain_home)
    flow = child("revalidate", "flow", env=clean_env(DOSSIER_HOME=str(flow_home), PREFECT_HOME=str(root / "prefect")))
    plain = child("revalidate", "plain", env=clean_env(DOSSIER_HOME=str(plain_home)))
    assert flow["checked"] == plain["checked"] == len(ids), (flow, plain)
    first, second = flow["runs"]
    return [
        Figure(
            "revalidate_200_cases_s",
            first,
            plain["runs"][0],
            "s",
            "<= 10 s",
            max(first, second) <= 10,
            f"{n} cases; first run records every status, second run (nothing changed) {second:.2f} s "
            f"(plain {plain['runs'][1]:.2f} s); ThreadPoolTaskRunner(4) on {flow['cpus']} CPUs",
            extra={"cases": n, "flow_runs_s": flow["runs"], "plain_runs_s": plain["runs"], "import_s": import_s},
        )
    ]


def _plain(today: date) -> dict[str, Any]:
    from workflows import pipeline
    from workflows.flows import vault

    v = vault()
    ids = [c["case_id"] for c in v.list_cases()]
    results = [pipeline.revalidate_case(v, case_id, today, ACTOR) for case_id in ids]
    return {"checked": len(ids), "changed": sum(1 for r in results if r["changed"])}


def _child(argv: list[str]) -> None:
    import os

    today = date.today()
    runs = []
    checked = 0
    if argv[0] == "flow":
        from workflows.local import run_local

        run_local("revalidate", {"country": "none-such", "today": today})  # starts Prefect: not measured
        for _ in range(2):
            t = time.perf_counter()
            report = run_local("revalidate", {"today": today})
            runs.append(time.perf_counter() - t)
            checked = report["checked"]
    else:
        for _ in range(2):
            t = time.perf_counter()
            checked = _plain(today)["checked"]
            runs.append(time.perf_counter() - t)
    emit({"runs": runs, "checked": checked, "cpus": os.cpu_count()})


if __name__ == "__main__":
    _child(sys.argv[1:])
