"""The vault: cases, evidence and packets stored age-encrypted under opaque keys, every write in the audit log.

Layout of the store (every name is an id, never a person):
    keys/<case_id>.age                 the case's age identity, encrypted to the organisation recipients
                                       (keys/<case_id>.kms when AWS KMS wraps it once more)
    cases/<case_id>/record/<n>.age     version n of the case record (validated case.yaml + state)
    cases/<case_id>/blobs/<random>.age one evidence file
    packets/<packet_id>/<case_id>.age  one archived packet (BagIt zip)
    audit/<seq>.json                   the plaintext, hash-chained audit log
Objects of a case are encrypted only to that case's identity: deleting its key (every version)
crypto-shreds the case while the audit log keeps every hash.
"""

from __future__ import annotations

import copy
import io
import json
import re
import secrets
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from core.errors import DossierError, KeyMissing, NotFound, StorageError
from core.hashing import canonical_json, sha256_hex
from core.settings import Settings, load_settings
from storage.audit import AuditLog, _now
from storage.base import ObjectMissing, ObjectStore, open_store
from storage.crypto import (
    EncryptingReader,
    HashingWriter,
    Identity,
    decrypt,
    decrypt_stream,
    encrypt,
    new_identity,
)
from storage.keys import OrgKeys
from storage.kms import kms_from_env

if TYPE_CHECKING:
    from casefile import Case, LoadedCase

__all__ = ["InitReport", "Vault"]

RECORD_FORMAT = "dossier-case-record/1"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_RECORD_KEY = re.compile(r"/record/(\d{6})\.age$")
_KEY_SUFFIXES = (".age", ".kms")


def _check_id(kind: str, value: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise NotFound(f"{kind} {value!r}: not a valid {kind}", hint=f"copy the {kind} exactly as it was printed")
    return value


@dataclass
class InitReport:
    """What `init` found and did, as lines for the terminal."""

    store_url: str
    items: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [*self.items, f"DOSSIER_STORE={self.store_url}"]


class Vault:
    """The high-level storage API used by the CLI and the flows."""

    def __init__(self, settings: Settings, store: ObjectStore | None = None) -> None:
        self.settings = settings
        self.store = store or open_store(settings.store_url)
        self.keys = OrgKeys(settings, wrapper=kms_from_env())
        self.audit = AuditLog(
            self.store,
            witness_file=settings.home / "audit-witness.json",
            trusted_key_file=self.keys.public_key_file,
        )
        self._case_keys: dict[str, Identity] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> Vault:
        """A vault for DOSSIER_HOME / DOSSIER_STORE."""
        return cls(load_settings())

    # --- setup --------------------------------------------------------------------------

    def init(self) -> InitReport:
        """Create home, organisation keys and the store (bucket) if missing; never overwrites a key."""
        home = self.settings.home
        existed = home.is_dir()
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        report = InitReport(self.store.url, [f"home: {'kept' if existed else 'created'} {home}"])
        self._refuse_replacing_a_lost_identity()
        report.items += self.keys.ensure()
        report.items += self.store.ensure()
        seq, _ = self.audit.head()
        report.items.append(f"audit log: {seq} entries")
        return report

    def _refuse_replacing_a_lost_identity(self) -> None:
        """A new organisation identity could open none of the stored cases: restore the old one instead."""
        idf = self.settings.org_identity_file
        if idf.exists():
            return
        try:
            has_cases = bool(self.store.list("keys/"))
        except DossierError:
            return  # no store or bucket yet: a first init
        if has_cases:
            raise KeyMissing(
                f"the organisation identity {idf} is missing, but the store {self.store.url} holds cases "
                "encrypted to it; init will not create a new identity that could open none of them",
                hint="restore org-identity.txt from its offline backup (or use a recovery key listed in "
                "recipients.txt), then run the command again",
            )

    # --- case keys ----------------------------------------------------------------------

    def _key_objects(self, case_id: str) -> list[str]:
        return [k for k in self.store.list(f"keys/{case_id}.") if k[len(f"keys/{case_id}") :] in _KEY_SUFFIXES]

    def _records(self, case_id: str) -> list[str]:
        return [k for k in self.store.list(f"cases/{case_id}/record/") if _RECORD_KEY.search(k)]

    def _case_key(self, case_id: str) -> Identity:
        """The case's identity, unwrapped with the organisation identity; KeyMissing when shredded."""
        with self._lock:
            cached = self._case_keys.get(case_id)
        if cached is not None:
            return cached
        found = self._key_objects(case_id)
        if not found:
            if self._had_objects(case_id):
                raise KeyMissing(
                    f"{self._label(case_id)} {case_id}: its key was shredded; "
                    "its stored objects can no longer be decrypted",
                    hint=f"the audit log still lists what was stored (`dossier audit log --case {case_id}`)",
                )
            raise NotFound(f"case {case_id}: no such case in {self.store.describe()}", hint="see `dossier case list`")
        key = found[0]
        try:
            data = self.store.get(key)
        except ObjectMissing:
            raise KeyMissing(f"case {case_id}: its key was removed while reading it (shredded?)") from None
        identity = self.keys.unwrap_case_key(data, case_id, key[len(f"keys/{case_id}") :])
        with self._lock:
            self._case_keys[case_id] = identity
        return identity

    def _had_objects(self, owner_id: str) -> bool:
        """Whether a case (records) or a group submission (its packet) was stored under this id."""
        return bool(self._records(owner_id) or self.store.list(f"packets/{owner_id}/"))

    def _label(self, owner_id: str) -> str:
        return "case" if self._records(owner_id) else "group submission"

    def _ensure_case_key(self, case_id: str, actor: str, action: str = "create-case-key") -> Identity:
        try:
            return self._case_key(case_id)
        except NotFound:
            pass
        identity = new_identity()
        wrapped = self.keys.wrap_case_key(identity, case_id)
        key = f"keys/{case_id}{self.keys.wrapped_suffix}"
        if not self.store.put_if_absent(key, wrapped):
            return self._case_key(case_id)  # another process created it first: use theirs
        self.audit.append(action, actor, case_id, key, sha256_hex(wrapped))
        with self._lock:
            self._case_keys[case_id] = identity
        return identity

    # --- encrypted objects --------------------------------------------------------------

    def _put_new(self, key: str, plaintext: bytes, identity: Identity, action: str, actor: str, case_id: str) -> str:
        """Encrypt to the case, store under a fresh key, record it; the ciphertext sha256."""
        blob = encrypt(plaintext, [identity.to_public()])
        if not self.store.put_if_absent(key, blob):
            raise StorageError(f"case {case_id}: object {key} already exists; refusing to overwrite it")
        digest = sha256_hex(blob)
        self.audit.append(action, actor, case_id, key, digest)
        return digest

    def _read(self, key: str, identity: Identity, what: str) -> bytes:
        return decrypt(self.store.get(key), [identity], what)

    # --- case records -------------------------------------------------------------------

    def _latest(self, case_id: str) -> tuple[int, dict[str, Any]] | None:
        records = self._records(case_id)
        if not records:
            return None
        key = records[-1]
        m = _RECORD_KEY.search(key)
        assert m is not None
        identity = self._case_key(case_id)
        record = json.loads(self._read(key, identity, f"case {case_id} record"))
        return int(m.group(1)), record

    def _require(self, case_id: str) -> tuple[int, dict[str, Any]]:
        _check_id("case id", case_id)
        latest = self._latest(case_id)
        if latest is None:
            self._case_key(case_id)  # raises KeyMissing (shredded) or NotFound (unknown)
            raise NotFound(f"case {case_id}: no case record stored", hint="import the case folder again")
        return latest

    def _write_record(self, case_id: str, n: int, record: dict[str, Any], action: str, actor: str) -> bool:
        key = f"cases/{case_id}/record/{n:06d}.age"
        blob = encrypt(canonical_json(record), [self._case_key(case_id).to_public()])
        if not self.store.put_if_absent(key, blob):
            return False
        self.audit.append(action, actor, case_id, key, sha256_hex(blob))
        return True

    def _recorded(self, case_id: str, key: str, n: int) -> bool:
        """Whether an entry records `key`, looking back only to the entry of record version n (or older)."""
        prefix = f"cases/{case_id}/record/"

        def older_record(e: dict[str, Any]) -> bool:
            k = e.get("object_key") or ""
            return e.get("case_id") == case_id and k.startswith(prefix) and k != key and k < f"{prefix}{n:06d}.age~"

        return self.audit.find_back(lambda e: e.get("object_key") == key, older_record) is not None

    def _adopt_record(self, case_id: str, n: int, action: str, actor: str) -> None:
        """Log the latest record version if an interrupted run stored it without its audit entry."""
        key = f"cases/{case_id}/record/{n:06d}.age"
        if self._recorded(case_id, key, n - 1):
            return
        digest = self.store.sha256(key)
        if digest is not None:
            self.audit.append(action, actor, case_id, key, digest)

    def _update(
        self, case_id: str, action: str, actor: str, change: Callable[[dict[str, Any]], dict[str, Any] | None]
    ) -> dict[str, Any]:
        """Optimistic update: apply `change` to the latest record and write it as the next version."""
        for _attempt in range(50):
            n, record = self._require(case_id)
            new = change(copy.deepcopy(record))
            if new is None:
                self._adopt_record(case_id, n, action, actor)
                return record
            new["state"]["updated"] = _now()
            if self._write_record(case_id, n + 1, new, action, actor):
                return new
        raise StorageError(f"case {case_id}: too many concurrent updates; try again")

    # --- cases --------------------------------------------------------------------------

    def import_case(self, loaded: LoadedCase, actor: str) -> str:
        """Encrypt and store a validated case and its evidence; re-import makes a new record version."""
        case = loaded.case
        case_id = _check_id("case id", case.case_id)
        if not self._key_objects(case_id) and self._records(case_id):
            raise KeyMissing(
                f"case {case_id} was shredded; it cannot be imported again under the same id",
                hint="remove case_id from case.yaml to import it as a new case",
            )
        identity = self._ensure_case_key(case_id, actor)
        for _attempt in range(50):
            latest = self._latest(case_id)
            old_evidence = latest[1]["evidence"] if latest else {}
            evidence: dict[str, dict[str, Any]] = {}
            for ev in case.evidence:
                data = loaded.files[ev.id]
                digest = sha256_hex(data)
                prior = old_evidence.get(ev.id)
                if prior and prior["sha256"] == digest and self.store.exists(prior["object"]):
                    evidence[ev.id] = prior
                    continue
                key = f"cases/{case_id}/blobs/{secrets.token_hex(12)}.age"
                self._put_new(key, data, identity, "store-evidence", actor, case_id)
                evidence[ev.id] = {"object": key, "sha256": digest, "size": len(data)}
            now = _now()
            state = (
                latest[1]["state"] if latest else {"stage": case.stage, "packets": [], "status": None, "created": now}
            )
            record = {
                "format": RECORD_FORMAT,
                "case_id": case_id,
                "mapping": case.data,
                "evidence": evidence,
                "state": state | {"updated": now},
            }
            n = latest[0] + 1 if latest else 1
            if self._write_record(case_id, n, record, "import-case" if n == 1 else "update-case", actor):
                return case_id
        raise StorageError(f"case {case_id}: too many concurrent updates; try again")

    def load_case(self, case_id: str) -> LoadedCase:
        """Decrypt the latest version of a case with its evidence, at its current stage."""
        from casefile import LoadedCase

        _n, record = self._require(case_id)
        identity = self._case_key(case_id)
        files = {
            eid: self._read(meta["object"], identity, f"case {case_id} evidence {eid}")
            for eid, meta in record["evidence"].items()
        }
        return LoadedCase(case=_case_at_stage(case_id, record), files=files)

    def case_and_status(self, case_id: str) -> tuple[Case, dict[str, Any] | None]:
        """The case at its current stage without its evidence, and its last recorded status (one read).

        What revalidation needs: the rules look at the case's facts, not at the evidence bytes.
        """
        _n, record = self._require(case_id)
        return _case_at_stage(case_id, record), record["state"].get("status")

    def case_state(self, case_id: str) -> dict[str, Any]:
        """Ids, procedure, stage, packets and last status of a case: nothing personal."""
        n, record = self._require(case_id)
        return self._summary(case_id, n, record) | {
            "packets": self._packet_rows(record),
            "status": record["state"].get("status"),
            "created": record["state"].get("created"),
            "evidence_count": len(record["evidence"]),
            "groups": record["state"].get("groups", []),
        }

    @staticmethod
    def _summary(case_id: str, n: int, record: dict[str, Any]) -> dict[str, Any]:
        mapping = record["mapping"]
        return {
            "case_id": case_id,
            "country": mapping.get("country"),
            "procedure": mapping.get("procedure"),
            "stage": record["state"].get("stage") or mapping.get("stage"),
            "updated": record["state"].get("updated"),
            "record_version": n,
        }

    def list_cases(self) -> list[dict[str, Any]]:
        """Every readable (not shredded) case: case_id, country, procedure, stage, updated."""
        ids = sorted({k[len("keys/") :].rsplit(".", 1)[0] for k in self.store.list("keys/")})
        rows = []
        for case_id in ids:
            latest = self._latest(case_id)
            if latest is not None:
                rows.append(self._summary(case_id, *latest))
        return rows

    def set_stage(self, case_id: str, stage: str, actor: str) -> None:
        """Move the case to `stage` (a new record version, recorded in the audit log)."""
        _check_id("stage", stage)

        def change(record: dict[str, Any]) -> dict[str, Any] | None:
            if record["state"].get("stage") == stage:
                return None
            record["state"]["stage"] = stage
            return record

        self._update(case_id, "set-stage", actor, change)

    def last_status(self, case_id: str) -> dict[str, Any] | None:
        """The readiness summary recorded by the last revalidation, or None."""
        return self._require(case_id)[1]["state"].get("status")

    def record_status(self, case_id: str, status: dict[str, Any], actor: str) -> None:
        """Remember a readiness summary (ids and statuses only) for the next revalidation."""

        def change(record: dict[str, Any]) -> dict[str, Any] | None:
            if record["state"].get("status") == status:
                return None
            record["state"]["status"] = status
            return record

        self._update(case_id, "record-status", actor, change)

    # --- packets ------------------------------------------------------------------------

    @staticmethod
    def _packet_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
        return [{k: v for k, v in p.items() if k != "plain_sha256"} for p in record["state"].get("packets", [])]

    def packets_of(self, case_id: str) -> list[dict[str, Any]]:
        """Archived packets of a case: packet_id, stage, archived (UTC), object_key, sha256, size."""
        return self._packet_rows(self._require(case_id)[1])

    def archive_packet(self, case_id: str, packet_id: str, bag_zip: bytes, actor: str) -> str:
        """Encrypt and store a packet, record it; the same packet id and bytes again change nothing."""
        return self._archive(case_id, packet_id, lambda: io.BytesIO(bag_zip), actor)

    def archive_packet_file(self, case_id: str, packet_id: str, path: Path, actor: str) -> str:
        """archive_packet for a bag on disk, streamed with bounded memory (large packets)."""
        return self._archive(case_id, packet_id, lambda: path.open("rb"), actor)

    def _archive(self, case_id: str, packet_id: str, source: Callable[[], BinaryIO], actor: str) -> str:
        _check_id("packet id", packet_id)
        n, record = self._require(case_id)
        for p in record["state"].get("packets", []):
            if p["packet_id"] == packet_id:
                if p.get("plain_sha256") == _digest_of(source)[0]:
                    self._adopt_record(case_id, n, "record-packet", actor)  # a re-run after a kill
                    return str(p["object_key"])
                raise StorageError(
                    f"packet {packet_id} of case {case_id} is already archived with different content",
                    hint="an archived packet is never replaced; build again to get a new packet id",
                )
        identity = self._case_key(case_id)
        key = f"packets/{packet_id}/{case_id}.age"
        stored = self._store_packet(key, source, identity)
        if stored is None:  # already stored (an earlier run stopped half-way): adopt it if it is the same packet
            plain_sha, size = _digest_of(source)
            digest = self._adopt_packet(key, identity, plain_sha, case_id, packet_id)
            recorded = self._recorded(case_id, key, n)
        else:
            digest, plain_sha, size = stored
            recorded = False
        if not recorded:
            self.audit.append("archive-packet", actor, case_id, key, digest)
        row = {
            "packet_id": packet_id,
            "stage": record["state"].get("stage") or record["mapping"].get("stage"),
            "archived": _now(),
            "object_key": key,
            "sha256": digest,
            "plain_sha256": plain_sha,
            "size": size,
        }

        def change(rec: dict[str, Any]) -> dict[str, Any] | None:
            if any(p["packet_id"] == packet_id for p in rec["state"].setdefault("packets", [])):
                return None
            rec["state"]["packets"].append(row)
            return rec

        self._update(case_id, "record-packet", actor, change)
        return key

    def archive_group(self, group_id: str, case_ids: list[str], bag_zip: bytes, actor: str) -> str:
        """Store a group submission under a key of its own, listed in every member case (idempotent).

        Shredding any member case also shreds the group's key: the group bag holds every member's data.
        """
        _check_id("group id", group_id)
        for case_id in case_ids:
            self._require(case_id)
        identity = self._ensure_case_key(group_id, actor, "create-group-key")
        key = f"packets/{group_id}/{group_id}.age"
        stored = self._store_packet(key, lambda: io.BytesIO(bag_zip), identity)
        recorded = False
        if stored is not None:
            digest = stored[0]
        else:
            digest = self._adopt_packet(key, identity, sha256_hex(bag_zip), group_id, group_id)
            recorded = any(e.get("object_key") == key for e in self.audit.entries(group_id))
        if not recorded:
            self.audit.append("archive-group", actor, group_id, key, digest)
        row = {"group_id": group_id, "object_key": key, "members": list(case_ids), "archived": _now()}
        for case_id in case_ids:

            def change(rec: dict[str, Any]) -> dict[str, Any] | None:
                if any(g["group_id"] == group_id for g in rec["state"].setdefault("groups", [])):
                    return None
                rec["state"]["groups"].append(row)
                return rec

            self._update(case_id, "record-group", actor, change)
        return key

    def _store_packet(
        self, key: str, source: Callable[[], BinaryIO], identity: Identity
    ) -> tuple[str, str, int] | None:
        """Encrypt while uploading (bounded memory), store if absent; (cipher sha256, plain sha256, size).

        Both hashes are taken on the way, so the packet's bytes are read once. None: already stored.
        """
        if self.store.exists(key):
            return None
        with source() as src, EncryptingReader(src, [identity.to_public()]) as cipher:
            digest = self.store.put_stream(key, cipher, if_absent=True)  # type: ignore[arg-type]
            plain = cipher.plain
        return None if digest is None else (digest, plain.digest.hexdigest(), plain.size)

    def _adopt_packet(self, key: str, identity: Identity, plain_sha: str, case_id: str, packet_id: str) -> str:
        """The ciphertext sha256 of an already stored packet, after checking it holds the same bag."""
        if _plain_sha_of(self.store, key, identity, packet_id) != plain_sha:
            raise StorageError(
                f"packet {packet_id} of case {case_id} is already stored with different content",
                hint="an archived packet is never replaced; build again to get a new packet id",
            )
        stored = self.store.sha256(key)
        if stored is None:
            raise ObjectMissing(key)
        return stored

    def _packet_key(self, packet_id: str) -> tuple[str, str]:
        _check_id("packet id", packet_id)
        keys = [k for k in self.store.list(f"packets/{packet_id}/") if k.endswith(".age")]
        if not keys:
            raise NotFound(f"packet {packet_id}: no such packet in {self.store.describe()}")
        key = keys[0]
        return key, key.rsplit("/", 1)[1][: -len(".age")]

    def get_packet(self, packet_id: str) -> bytes:
        """The decrypted bag zip; KeyMissing when its case was shredded."""
        key, case_id = self._packet_key(packet_id)
        return self._read(key, self._case_key(case_id), f"packet {packet_id}")

    def get_packet_to(self, packet_id: str, dst: BinaryIO) -> None:
        """Decrypt a packet straight into a file object (bounded memory)."""
        key, case_id = self._packet_key(packet_id)
        identity = self._case_key(case_id)
        with tempfile.TemporaryFile(prefix="dossier-") as tmp:
            self.store.get_stream(key, tmp)
            tmp.seek(0)
            decrypt_stream(tmp, dst, [identity], f"packet {packet_id}")

    # --- shredding ----------------------------------------------------------------------

    def shred_case(self, case_id: str, actor: str) -> bool:
        """Delete every version of the case key (and of its group submissions' keys) and record it.

        False when it was already shredded.
        """
        _check_id("case id", case_id)
        keys = self._key_objects(case_id)
        if not keys:
            if self._records(case_id):
                return False
            raise NotFound(f"case {case_id}: no such case in {self.store.describe()}")
        try:  # group submissions holding this case's data go too (when the record can still be read)
            latest = self._latest(case_id)
        except KeyMissing:
            latest = None
        groups = [g["group_id"] for g in (latest[1]["state"].get("groups", []) if latest else [])]
        for key in keys:
            self.store.delete(key)
            self.audit.append("shred-case", actor, case_id, key, None)
        for group_id in groups:
            for key in self._key_objects(group_id):
                self.store.delete(key)
                self.audit.append("shred-group", actor, group_id, key, None)
        with self._lock:
            for owner in (case_id, *groups):
                self._case_keys.pop(owner, None)
        return True

    def rewrap_keys(self, actor: str) -> int:
        """Re-encrypt every case (and group) key to the current recipients file; how many were rewrapped.

        Run it after adding or removing a recipient. On a versioned bucket older versions of each key
        remain (wrapped to the old recipients) until removed; shredding removes every version.
        """
        count = 0
        for key in self.store.list("keys/"):
            name = key[len("keys/") :]
            owner, suffix = name.rsplit(".", 1)[0], "." + name.rsplit(".", 1)[1]
            if suffix not in _KEY_SUFFIXES:
                continue
            identity = self.keys.unwrap_case_key(self.store.get(key), owner, suffix)
            wrapped = self.keys.wrap_case_key(identity, owner)
            target = f"keys/{owner}{self.keys.wrapped_suffix}"
            self.store.put(target, wrapped)
            self.audit.append("rewrap-key", actor, owner, target, sha256_hex(wrapped))
            if target != key:
                self.store.delete(key)
                self.audit.append("delete-object", actor, owner, key, None)
            count += 1
        return count

    # --- checkpoints --------------------------------------------------------------------

    def checkpoint(self, out: Path | None = None) -> tuple[dict[str, Any], Path]:
        """Sign the audit head with the organisation's checkpoint key; write it (default under DOSSIER_HOME)."""
        from storage.checkpoint import load_private_key

        cp = self.audit.checkpoint(load_private_key(self.keys.signing_key_file))
        target = out or self.settings.home / "checkpoints" / f"checkpoint-{cp['seq']:012d}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(cp, indent=2, sort_keys=True) + "\n")
        return cp, target


def _plain_sha_of(store: ObjectStore, key: str, identity: Identity, packet_id: str) -> str:
    with tempfile.TemporaryFile(prefix="dossier-") as tmp:
        store.get_stream(key, tmp)
        tmp.seek(0)
        sink = HashingWriter(None)
        decrypt_stream(tmp, sink, [identity], f"packet {packet_id}")
        return sink.digest.hexdigest()


def _case_at_stage(case_id: str, record: dict[str, Any]) -> Case:
    """The case of a stored record, moved to the stage the record says it has reached."""
    from casefile import case_from_mapping

    case = case_from_mapping(record["mapping"], case_id)
    stage = record["state"].get("stage")
    return replace(case, stage=stage) if stage and stage != case.stage else case


def _digest_of(source: Callable[[], BinaryIO]) -> tuple[str, int]:
    """(sha256, size) of a packet source, read once in chunks."""
    sink = HashingWriter(None)
    with source() as fh:
        shutil.copyfileobj(fh, sink, 1024 * 1024)
    return sink.digest.hexdigest(), sink.size
