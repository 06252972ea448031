"""`make scaleout`: the several-offices set on this machine, a batch of cases through it, one line of figures.

python -m scaleout                    # 40 cases, two workers (contract: exits 0 with zero leaks)
python -m scaleout --cases 6          # a short run
python -m scaleout --faults           # also kill a worker, restart PostgreSQL, cut the store for 20 s
python -m scaleout --keep             # keep the scratch folder (logs, pg_dump) and say where
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scaleout", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=40, help="cases in the batch (default 40)")
    parser.add_argument("--workers", type=int, default=2, help="process workers (default 2)")
    parser.add_argument("--faults", action="store_true", help="inject the three faults during the batch")
    parser.add_argument("--no-web", action="store_true", help="do not start `dossier web`")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder for inspection")
    args = parser.parse_args(argv)
    if args.cases < 4:
        parser.error("--cases must be at least 4 (a group of two, one not ready, one single)")
    # This process's own Prefect client state stays in a scratch folder, never in ~/.prefect.
    scratch = Path(tempfile.mkdtemp(prefix="dossier-scaleout-client-"))
    os.environ["PREFECT_HOME"] = str(scratch)
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

    from core.errors import DossierError
    from scaleout import faults as fault_kinds
    from scaleout.batch import plan_batch
    from scaleout.run import run_batch
    from scaleout.stack import running_stack

    began = time.monotonic()
    try:
        with running_stack(workers=args.workers, web=not args.no_web, keep=args.keep) as stack:
            web = f"dossier web {stack.web_url} /healthz ok" if stack.web_url else "no dossier web"
            print(
                f"set-up in {time.monotonic() - began:.1f} s: PostgreSQL, Prefect server, "
                f"{len(stack.workers)} workers, SeaweedFS; {web}; scratch {stack.root}",
                file=sys.stderr,
            )
            cases_root = stack.root / "cases"
            cases = plan_batch(cases_root, args.cases)
            chosen = []
            if args.faults:
                chosen = [
                    fault_kinds.kill_worker_mid_build(),
                    fault_kinds.restart_postgres(after_completed=max(2, args.cases // 4)),
                    fault_kinds.store_outage(after_completed=max(3, args.cases // 2)),
                ]
            outcome = run_batch(stack, cases, cases_root, faults=chosen)
            for line in outcome.events + outcome.problems:
                print(f"  {line}", file=sys.stderr)
            for path, needle in outcome.leaks[:20]:
                print(f"  LEAK: {needle!r} in {path}", file=sys.stderr)
            if args.keep:
                print(f"kept: {stack.root} (PostgreSQL: {stack.pg.root if stack.pg else '-'})", file=sys.stderr)
    except KeyboardInterrupt:
        print("scaleout: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    except DossierError as exc:
        print(f"scaleout: {exc}", file=sys.stderr)
        return 1
    finally:
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    print(outcome.line())
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())
