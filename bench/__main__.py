"""`make bench`: every figure measured against its baseline in the same run; a table and bench/results.json.

python -m bench                      # everything (about 8-12 minutes on 2 cores)
python -m bench --only check_s,bundle_vs_pikepdf   # some figures (keys or bench names), merged into results.json
python -m bench --quick              # smaller sizes, for development (not for the README)
python -m bench --list               # benches and the keys they measure
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from bench.common import Context
from bench.harness import Figure, print_table, write_results

BENCHES: dict[str, tuple[str, ...]] = {
    "bundle": ("bundle_vs_pikepdf", "bundle_peak_rss_mb"),
    "inspection": ("build_inspection_overhead", "evidence_inspection_overhead", "evidence_inspection_500p_overhead"),
    "audit": ("audit_verify_vs_raw_hash",),
    "archive": ("archive_overhead",),
    "orchestration": ("orchestration_overhead",),
    "cli": ("cli_build_cold_s", "cli_build_warm_s", "cli_warm_vs_plain", "check_s"),
    "revalidate": ("revalidate_200_cases_s",),
    "scaling": ("worker_scaling_2_vs_1", "warm_flow_runs_vs_cold"),
    "web": ("web_case_page_p95_ms", "web_case_list_p95_ms", "web_build_vs_plain"),
}


def _selected(only: str | None) -> list[str]:
    if not only:
        return list(BENCHES)
    wanted = {w.strip() for w in only.split(",") if w.strip()}
    unknown = wanted - set(BENCHES) - {k for keys in BENCHES.values() for k in keys}
    if unknown:
        raise SystemExit(f"unknown bench or key: {', '.join(sorted(unknown))} (see --list)")
    return [name for name, keys in BENCHES.items() if name in wanted or wanted & set(keys)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated keys or bench names")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repetitions")
    parser.add_argument("--profile", action="store_true", help="also write pyinstrument profiles (orchestration)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    parser.add_argument("--list", action="store_true", help="list benches and keys")
    args = parser.parse_args(argv)
    if args.list:
        for name, keys in BENCHES.items():
            print(f"{name:14} {', '.join(keys)}")
        return 0
    names = _selected(args.only)
    work = Path(tempfile.mkdtemp(prefix="dossier-bench-"))
    ctx = Context(quick=args.quick, work=work, profile=args.profile)
    figures: list[Figure] = []
    failed: list[str] = []
    started = time.monotonic()
    try:
        for name in names:
            t = time.monotonic()
            print(f"bench {name} ...", file=sys.stderr, flush=True)
            try:
                got = importlib.import_module(f"bench.{name}").measure(ctx)
            except Exception:  # noqa: BLE001 - one failing bench must not hide the others' figures
                traceback.print_exc()
                failed.append(name)
                continue
            figures += [f for f in got if not args.only or f.key in BENCHES[name]]
            print(f"bench {name}: {time.monotonic() - t:.0f} s", file=sys.stderr, flush=True)
    finally:
        ctx.close()
        if args.keep:
            print(f"scratch kept in {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_table(figures)
    if args.quick:
        print("--quick: results.json not written (sizes differ from the real run)")
    elif figures:
        path = write_results(figures, merge=bool(args.only) or bool(failed))
        print(f"wrote {path} ({time.monotonic() - started:.0f} s)")
    if failed:
        print(f"FAILED benches: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
