"""The append-only, hash-chained audit log, stored as plaintext JSON objects next to the encrypted ones.

Entry N lives at `audit/<N:012d>.json` and holds the hash of entry N-1, so changing, removing or
reordering any entry breaks the chain. Appends claim the next key with a conditional write
(put_if_absent), so two writers can never both write entry N: the chain cannot fork.
Entries carry no personal data (ids, action, actor, object key, hashes), so verification
needs read access to the store and nothing else: no decryption key.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from core.errors import AuditError
from core.hashing import canonical_json, sha256_hex
from storage.base import ObjectMissing, ObjectStore
from storage.checkpoint import load_checkpoint, load_public_key, sign_checkpoint, verify_checkpoint_signature

__all__ = [
    "AUDITED_PREFIXES",
    "DELETING_ACTIONS",
    "GENESIS",
    "AuditLog",
    "Problem",
    "VerifyReport",
    "entry_hash",
    "entry_key",
]

GENESIS = "0" * 64
ENTRY_PREFIX = "audit/"
_ENTRY_NAME = re.compile(r"^audit/(\d{12})\.json$")
_ACTION = re.compile(r"^[a-z][a-z0-9-]{0,39}$")
# Objects under these prefixes must each be recorded by an entry; an unrecorded one means a cut log.
AUDITED_PREFIXES = ("cases/", "keys/", "org/", "packets/")
# Actions recording that their object was deliberately removed (crypto-shredding).
DELETING_ACTIONS = frozenset({"shred-case", "shred-group", "delete-object"})
# The only objects that may ever be deleted: wrapped keys (shredding, rewrapping). An archived packet,
# a case record or an evidence blob is never removed, so an entry saying one was is itself a finding:
# whoever can write to the store could otherwise delete a packet or roll a case back and log it.
DELETABLE_PREFIX = "keys/"
# Where an entry's own hash sits in its stored canonical JSON (never first: "action" sorts before it).
_HASH_FIELD = re.compile(rb',"hash":"[0-9a-f]{64}"')
_FIELDS = ("v", "seq", "time", "action", "actor", "case_id", "object_key", "sha256", "prev")


def entry_key(seq: int) -> str:
    """The object key of entry `seq` (1-based)."""
    return f"{ENTRY_PREFIX}{seq:012d}.json"


def entry_hash(entry: dict[str, Any]) -> str:
    """SHA-256 of the entry's canonical JSON without its own `hash` field."""
    return sha256_hex(canonical_json({k: v for k, v in entry.items() if k != "hash"}))


def stored_entry_hash(raw: bytes, entry: dict[str, Any]) -> str:
    """The entry's hash computed from its stored bytes when they are the canonical form (no re-encoding)."""
    body = raw[:-1] if raw.endswith(b"\n") else raw
    found = _HASH_FIELD.search(body)
    if found is not None:
        quick = sha256_hex(body[: found.start()] + body[found.end() :])
        if quick == entry["hash"]:
            return quick
    return entry_hash(entry)  # not stored as written: re-encode to say whether the content changed


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Problem:
    """One verification failure; `seq` names the entry it concerns (None for a store-wide finding)."""

    seq: int | None
    message: str

    def __str__(self) -> str:
        return f"entry {self.seq}: {self.message}" if self.seq is not None else self.message


@dataclass
class VerifyReport:
    """What `verify` found: ok only when the chain, every object and every checkpoint agree."""

    entries: int = 0
    head: str | None = None
    objects_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        """Human-readable report: a verdict line, then each problem naming its entry."""
        head = f"head {self.head[:16]}" if self.head else "empty"
        verdict = "OK" if self.ok else f"FAILED: {len(self.problems)} problem(s)"
        out = [
            f"audit log: {self.entries} entries ({head}), {self.objects_checked} stored object(s) re-hashed"
            f" in {self.seconds:.2f} s: {verdict}"
        ]
        out += [f"  - {p}" for p in self.problems]
        out += [f"  note: {n}" for n in self.notes]
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head": self.head,
            "objects_checked": self.objects_checked,
            "problems": [{"seq": p.seq, "message": p.message} for p in self.problems],
            "notes": self.notes,
            "seconds": round(self.seconds, 3),
        }


class _Witness:
    """The last head this machine saw, per store, kept outside the store: a cut log shows as a rollback."""

    def __init__(self, path: Path, store_url: str) -> None:
        self.path = path
        self.store_url = store_url

    def _locked(self, fn: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any]:
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                data = json.loads(self.path.read_text()) if self.path.exists() else {}
            except ValueError:
                data = {}
            new = fn(data)
            if new is not None:
                tmp = self.path.with_suffix(f".tmp{os.getpid()}")
                tmp.write_text(json.dumps(new, indent=1, sort_keys=True))
                os.replace(tmp, self.path)
                return new
            return data

    def seen(self) -> dict[str, Any] | None:
        if not self.path.exists():
            return None
        try:
            entry = json.loads(self.path.read_text()).get(self.store_url)
        except ValueError:
            return None
        return entry if isinstance(entry, dict) else None

    def advance(self, seq: int, head: str) -> None:
        def update(data: dict[str, Any]) -> dict[str, Any] | None:
            old = data.get(self.store_url) or {}
            if int(old.get("seq", 0)) >= seq:
                return None
            return data | {self.store_url: {"seq": seq, "hash": head, "time": _now()}}

        self._locked(update)


class AuditLog:
    """Append-only, hash-chained log of every stored object; verify() needs read access only."""

    def __init__(
        self,
        store: ObjectStore,
        *,
        witness_file: Path | None = None,
        trusted_key_file: Path | None = None,
        workers: int = 8,
    ) -> None:
        self.store = store
        self.trusted_key_file = trusted_key_file
        self.workers = workers
        self._witness = _Witness(witness_file, store.url) if witness_file else None
        self._lock = threading.Lock()
        self._head: tuple[int, str] | None = None

    # --- reading ------------------------------------------------------------------------

    def _entry_seqs(self) -> list[int]:
        seqs = []
        for key in self.store.list(ENTRY_PREFIX):
            m = _ENTRY_NAME.match(key)
            if m:
                seqs.append(int(m.group(1)))
        return sorted(seqs)

    def _fetch(self, seqs: Iterable[int]) -> dict[int, bytes | None]:
        """Raw bytes of the given entries (None when absent), fetched in parallel."""

        def one(seq: int) -> tuple[int, bytes | None]:
            try:
                return seq, self.store.get(entry_key(seq))
            except ObjectMissing:
                return seq, None

        seqs = list(seqs)
        if len(seqs) < 32 or self.workers <= 1 or not self.store.parallel_reads:
            return dict(map(one, seqs))
        with ThreadPoolExecutor(self.workers) as pool:
            return dict(pool.map(one, seqs))

    @staticmethod
    def _parse(raw: bytes) -> dict[str, Any] | None:
        try:
            entry = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(entry, dict) or not all(k in entry for k in (*_FIELDS, "hash")):
            return None
        return entry

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last entry, (0, GENESIS) for an empty log; re-read from the store."""
        seqs = self._entry_seqs()
        if not seqs:
            return 0, GENESIS
        last = seqs[-1]
        raw = self._fetch([last])[last]
        entry = self._parse(raw) if raw is not None else None
        if entry is None:
            raise AuditError(
                f"audit entry {last} is unreadable (truncated or not JSON)",
                hint="run `dossier audit verify` and restore the entry from a backup",
            )
        return last, str(entry["hash"])

    def entries(self, case_id: str | None = None) -> list[dict[str, Any]]:
        """Every entry in order (only one case's when case_id is given); unreadable ones are marked."""
        raw = self._fetch(self._entry_seqs())
        out = []
        for seq in sorted(raw):
            data = raw[seq]
            entry = self._parse(data) if data is not None else None
            if entry is None:
                if case_id is None:
                    out.append({"seq": seq, "action": "(unreadable: run dossier audit verify)"})
                continue
            if case_id is None or entry.get("case_id") == case_id:
                out.append(entry)
        return out

    def find_back(
        self, match: Callable[[dict[str, Any]], bool], stop: Callable[[dict[str, Any]], bool], batch: int = 64
    ) -> dict[str, Any] | None:
        """The newest entry that matches, scanning back from the head; None once `stop` matches first."""
        seq, _ = self.head()
        while seq > 0:
            seqs = list(range(max(1, seq - batch + 1), seq + 1))
            raw = self._fetch(seqs)
            for n in reversed(seqs):
                data = raw.get(n)
                entry = self._parse(data) if data is not None else None
                if entry is None:
                    continue
                if match(entry):
                    return entry
                if stop(entry):
                    return None
            seq -= batch
        return None

    # --- writing ------------------------------------------------------------------------

    def append(
        self, action: str, actor: str, case_id: str | None, object_key: str | None, sha256: str | None
    ) -> dict[str, Any]:
        """Add one entry at the end of the chain; safe with concurrent writers (threads or processes)."""
        if not _ACTION.match(action):
            raise AuditError(f"audit action {action!r} is not a lower-case word")
        with self._lock:
            seq, prev = self._head if self._head is not None else self.head()
            for _attempt in range(10_000):
                entry: dict[str, Any] = {
                    "v": 1,
                    "seq": seq + 1,
                    "time": _now(),
                    "action": action,
                    "actor": actor,
                    "case_id": case_id,
                    "object_key": object_key,
                    "sha256": sha256,
                    "prev": prev,
                }
                entry["hash"] = entry_hash(entry)
                if self.store.put_if_absent(entry_key(seq + 1), canonical_json(entry) + b"\n"):
                    self._head = (seq + 1, entry["hash"])
                    if self._witness is not None:
                        try:
                            self._witness.advance(seq + 1, entry["hash"])
                        except OSError:
                            pass  # the witness is a convenience; the entry is written
                    return entry
                # Another writer took seq+1: chain onto its entry and try the next key.
                raw = self._fetch([seq + 1])[seq + 1]
                other = self._parse(raw) if raw is not None else None
                if other is None:
                    raise AuditError(
                        f"audit entry {seq + 1} is unreadable (truncated or not JSON): cannot append after it",
                        hint="run `dossier audit verify`",
                    )
                seq, prev = seq + 1, str(other["hash"])
            raise AuditError("audit log: could not append after 10000 attempts (too many concurrent writers)")

    # --- verifying ----------------------------------------------------------------------

    def verify(
        self,
        *,
        since_checkpoint: Path | None = None,
        public_key: Path | None = None,
        objects: bool = True,
    ) -> VerifyReport:
        """Re-hash every entry and every recorded object; check checkpoints and this machine's witness."""
        started = time.monotonic()
        report = VerifyReport()
        # List stored objects before reading the log, so objects written meanwhile are not flagged.
        stored: set[str] = set()
        if objects:
            for prefix in AUDITED_PREFIXES:
                stored.update(self.store.list(prefix))
        seqs = self._entry_seqs()
        raw = self._fetch(seqs)
        last = seqs[-1] if seqs else 0
        report.entries = len(seqs)
        hashes: dict[int, str] = {}
        recorded: dict[str, tuple[int, str, str | None]] = {}  # key -> (seq, action, sha256) latest
        deleted: dict[str, int] = {}
        expected_prev: str | None = GENESIS
        for seq in range(1, last + 1):
            data = raw.get(seq)
            if data is None:
                report.problems.append(Problem(seq, "is missing (deleted from the log)"))
                expected_prev = None
                continue
            entry = self._parse(data)
            if entry is None:
                report.problems.append(Problem(seq, "is unreadable (truncated, or not an audit entry)"))
                expected_prev = None
                continue
            if entry["seq"] != seq:
                report.problems.append(Problem(seq, f"holds entry {entry['seq']}: entries were reordered or renamed"))
            actual = stored_entry_hash(data, entry)
            if actual != entry["hash"]:
                report.problems.append(Problem(seq, f"content was changed (action {entry['action']!r})"))
            if expected_prev is not None and entry["prev"] != expected_prev:
                report.problems.append(
                    Problem(seq, f"does not chain to entry {seq - 1}: an entry before it was changed, removed or moved")
                )
            expected_prev = str(entry["hash"])
            hashes[seq] = actual
            key = entry.get("object_key")
            if isinstance(key, str):
                if entry["action"] in DELETING_ACTIONS:
                    if not key.startswith(DELETABLE_PREFIX):
                        report.problems.append(
                            Problem(
                                seq,
                                f"{entry['action']}: records the deletion of {key}, but archived packets, case "
                                "records and evidence are never deleted (only keys are, by shredding)",
                            )
                        )
                    deleted[key] = seq
                    recorded.pop(key, None)
                else:
                    recorded[key] = (seq, str(entry["action"]), entry.get("sha256"))
                    deleted.pop(key, None)
        report.head = hashes.get(last) if last else None
        if objects:
            report.objects_checked = self._check_objects(recorded, deleted, stored, last, report)
        self._check_witness(last, hashes, report)
        if since_checkpoint is not None:
            self._check_checkpoint(since_checkpoint, public_key, last, hashes, report)
        report.seconds = time.monotonic() - started
        return report

    def _check_objects(
        self,
        recorded: dict[str, tuple[int, str, str | None]],
        deleted: dict[str, int],
        stored: set[str],
        last: int,
        report: VerifyReport,
    ) -> int:
        def digest(key: str) -> tuple[str, str | None]:
            return key, self.store.sha256(key)

        todo = [k for k, (_s, _a, sha) in recorded.items() if sha]
        with ThreadPoolExecutor(max(1, self.workers)) as pool:
            found = dict(pool.map(digest, todo))
        for key in todo:
            seq, action, sha = recorded[key]
            if found[key] is None:
                report.problems.append(Problem(seq, f"{action}: object {key} is missing from the store"))
            elif found[key] != sha:
                report.problems.append(
                    Problem(seq, f"{action}: object {key} was changed after it was recorded (sha256 differs)")
                )
        for key in sorted(stored - recorded.keys()):
            if key in deleted:
                report.problems.append(
                    Problem(deleted[key], f"object {key} was recorded as deleted but is in the store again")
                )
            else:
                # Usually a write interrupted between storing the object and logging it (the re-run adopts
                # it); a log cut short shows as a problem through the witness or a checkpoint instead.
                report.notes.append(
                    f"object {key} is in no audit entry (an interrupted write, or a log cut after entry {last})"
                )
        return len(todo)

    def _check_witness(self, last: int, hashes: dict[int, str], report: VerifyReport) -> None:
        seen = self._witness.seen() if self._witness else None
        if not seen:
            return
        seq, head = int(seen.get("seq", 0)), seen.get("hash")
        if seq > last:
            report.problems.append(
                Problem(
                    seq,
                    f"this machine saw the log reach entry {seq} (at {seen.get('time')}), it now ends at entry {last}:"
                    " entries were cut off or the store was rolled back",
                )
            )
        elif seq in hashes and hashes[seq] != head:
            report.problems.append(Problem(seq, "differs from the entry this machine saw: the log was rewritten"))

    def _check_checkpoint(
        self, path: Path, public_key: Path | None, last: int, hashes: dict[int, str], report: VerifyReport
    ) -> None:
        cp = load_checkpoint(path)
        key_file = public_key or (
            self.trusted_key_file if self.trusted_key_file and self.trusted_key_file.exists() else None
        )
        trusted = load_public_key(key_file) if key_file else None
        seq = int(cp["seq"])
        try:
            kid = verify_checkpoint_signature(cp, trusted)
        except AuditError as exc:
            report.problems.append(Problem(seq, exc.message))
            return
        if trusted is None:
            report.notes.append(
                f"checkpoint signature checked with the key it carries ({kid}); "
                "pass --public-key to check it against the organisation's published key"
            )
        if seq > last:
            report.problems.append(
                Problem(seq, f"is covered by checkpoint {path.name} but the log now ends at entry {last}: rolled back")
            )
        elif seq > 0 and hashes.get(seq) != cp["head"]:
            report.problems.append(
                Problem(seq, f"differs from signed checkpoint {path.name}: the log was rewritten up to here")
            )
        else:
            report.notes.append(f"checkpoint {path.name} (entry {seq}, key {kid}) matches the log")

    # --- checkpoints --------------------------------------------------------------------

    def checkpoint(self, signing_key: Ed25519PrivateKey) -> dict[str, Any]:
        """Sign the current head, after checking the chain (a broken chain is never signed)."""
        report = self.verify(objects=False)
        if not report.ok:
            raise AuditError(
                "audit log fails verification; refusing to sign a checkpoint:\n"
                + "\n".join(f"  - {p}" for p in report.problems),
                hint="run `dossier audit verify` and repair the log first",
            )
        seq = report.entries
        return sign_checkpoint(
            signing_key, store=self.store.url, seq=seq, head=report.head or GENESIS, time=_now(), entries=seq
        )
