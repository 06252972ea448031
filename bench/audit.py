"""audit_verify_vs_raw_hash: AuditLog.verify over a 100,000-entry chain / hashlib over the same bytes.

The chain is written straight in the store's layout (audit/<seq>.json, canonical JSON, each entry
holding the previous hash): appending 100,000 entries one by one with fsync would take minutes and
is not what is measured. Baseline: read the same entry files in order and SHA-256 each with hashlib
(what any verifier must at least do); the pure in-memory hash of the same bytes is reported as well.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path

from bench.common import Context, child, clean_env, emit
from bench.harness import Figure


def measure(ctx: Context) -> list[Figure]:
    n = 20_000 if ctx.quick else 100_000
    reps = 1 if ctx.quick else 2
    r = child("audit", str(ctx.work / "audit-store"), str(n), str(reps), env=clean_env())
    ours, base = min(r["verify"]), min(r["read_and_hash"])
    ratio = ours / base
    return [
        Figure(
            "audit_verify_vs_raw_hash",
            ours,
            base,
            "s",
            "ratio <= 2.0",
            ratio <= 2.0,
            f"{n:,} entries, {r['bytes'] / 1e6:.1f} MB in {n:,} objects of a file store; baseline reads and "
            f"hashes each entry file; hashing the bytes in memory alone takes {r['memory_hash']:.3f} s "
            f"(ratio {ours / r['memory_hash']:.0f})",
            extra={
                "entries": n,
                "verify_runs_s": r["verify"],
                "read_and_hash_runs_s": r["read_and_hash"],
                "memory_hash_s": r["memory_hash"],
                "write_chain_s": r["write_s"],
            },
        )
    ]


def write_chain(root: Path, n: int) -> float:
    """n chained entries in AuditLog's layout and format (no object keys); seconds taken."""
    from core.hashing import canonical_json
    from storage.audit import GENESIS, entry_hash, entry_key

    started = time.perf_counter()
    (root / "audit").mkdir(parents=True, exist_ok=True)
    prev = GENESIS
    for seq in range(1, n + 1):
        entry = {
            "v": 1,
            "seq": seq,
            "time": f"2026-11-23T12:{seq // 60 % 60:02d}:{seq % 60:02d}.000000Z",
            "action": "store-evidence",
            "actor": "bench",
            "case_id": f"C{seq % 997:03d}-BNCH",
            "object_key": None,
            "sha256": hashlib.sha256(str(seq).encode()).hexdigest(),
            "prev": prev,
        }
        entry["hash"] = prev = entry_hash(entry)
        (root / entry_key(seq)).write_bytes(canonical_json(entry) + b"\n")
    return time.perf_counter() - started


def _child(argv: list[str]) -> None:
    from storage.audit import AuditLog
    from storage.filestore import FileStore

    root, n, reps = Path(argv[0]), int(argv[1]), int(argv[2])
    marker = root / f"written-{n}"
    write_s = 0.0
    if not marker.exists():
        write_s = write_chain(root, n)
        marker.touch()
    log = AuditLog(FileStore(root))
    verify: list[float] = []
    for _ in range(reps):
        t = time.perf_counter()
        report = log.verify()
        verify.append(time.perf_counter() - t)
        assert report.ok and report.entries == n, report.lines()
    names = sorted(os.listdir(root / "audit"))
    raw: list[float] = []
    blobs: list[bytes] = []
    for _ in range(reps):
        blobs = []
        t = time.perf_counter()
        for name in names:
            with open(root / "audit" / name, "rb") as fh:
                data = fh.read()
            hashlib.sha256(data).hexdigest()
            blobs.append(data)
        raw.append(time.perf_counter() - t)
    t = time.perf_counter()
    for data in blobs:
        hashlib.sha256(data).hexdigest()
    memory = time.perf_counter() - t
    emit(
        {
            "verify": verify,
            "read_and_hash": raw,
            "memory_hash": memory,
            "bytes": sum(map(len, blobs)),
            "write_s": write_s,
        }
    )


if __name__ == "__main__":
    _child(sys.argv[1:])
