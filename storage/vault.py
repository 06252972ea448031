"""The vault: cases, evidence and packets stored age-encrypted under opaque keys, every write in the audit log.

Layout of the store (every name is an id, never a person):
    keys/<owner_id>.age                the case's (or group's) age identity, encrypted to the organisation
                                       recipients (keys/<owner_id>.kms when AWS KMS wraps it once more)
    org/fingerprint-secret.age         the organisation's secret for person fingerprints (duplicate warnings)
    cases/<case_id>/record/<n>.age     version n of the case record (validated case.yaml + state)
    cases/<case_id>/blobs/<random>.age one evidence file
    packets/<packet_id>/<case_id>.age  one archived packet (BagIt zip); packets/<group_id>/<group_id>.age a group
    audit/<seq>.json                   the plaintext, hash-chained audit log
Objects of a case are encrypted only to that case's identity: deleting its key (every version)
crypto-shreds the case while the audit log keeps every hash. Nothing else is ever deleted.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import secrets
import tempfile
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from casefile.state import CaseState, GroupRow, PacketRow
from core.errors import AuditError, DossierError, KeyMissing, NotFound, StorageError
from core.hashing import sha256_hex
from core.private import make_private_dir
from core.settings import Settings, load_settings
from storage.archive import Archived, Source, archive_bag, digest_of
from storage.audit import AuditLog, _now
from storage.base import ObjectMissing, ObjectStore, open_store
from storage.casekeys import CaseKeys
from storage.crypto import Identity, decrypt, decrypt_stream, encrypt
from storage.keys import OrgKeys
from storage.kms import kms_from_env
from storage.records import CaseRecords, check_id

if TYPE_CHECKING:
    from casefile import Case, LoadedCase

__all__ = ["ImportOutcome", "InitReport", "Vault"]

RECORD_FORMAT = "dossier-case-record/1"
FINGERPRINT_SECRET = "org/fingerprint-secret.age"  # noqa: S105 - an object key, not a secret


@dataclass
class InitReport:
    """What `init` found and did, as lines for the terminal."""

    store_url: str
    items: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [*self.items, f"DOSSIER_STORE={self.store_url}"]


@dataclass(frozen=True)
class ImportOutcome:
    """What storing a case did: a new case, a new record version, or nothing (same content)."""

    case_id: str
    created: bool
    changed: bool
    record_version: int


def _normal(text: str | None) -> str:
    """A name as compared for duplicates: accents, case and spacing do not count."""
    folded = unicodedata.normalize("NFKD", text or "")
    return " ".join("".join(c for c in folded if not unicodedata.combining(c)).casefold().split())


class Vault:
    """The high-level storage API used by the service layer (workflows/) and the flows."""

    def __init__(self, settings: Settings, store: ObjectStore | None = None) -> None:
        self.settings = settings
        self.store = store or open_store(settings.store_url)
        self.keys = OrgKeys(settings, wrapper=kms_from_env())
        self.audit = AuditLog(
            self.store,
            witness_file=settings.home / "audit-witness.json",
            trusted_key_file=self.keys.public_key_file,
        )
        self.case_keys = CaseKeys(self.store, self.keys, self.audit, self._why_no_key)
        self.case_records = CaseRecords(self.store, self.audit, self.case_keys)
        self._fp_secret: bytes | None = None

    @classmethod
    def from_env(cls) -> Vault:
        """A vault for DOSSIER_HOME / DOSSIER_STORE."""
        return cls(load_settings())

    # --- setup --------------------------------------------------------------------------

    def init(self) -> InitReport:
        """Create home, organisation keys and the store (bucket) if missing; never overwrites a key."""
        home = self.settings.home
        existed = home.is_dir()
        make_private_dir(home)
        report = InitReport(self.store.url, [f"home: {'kept' if existed else 'created'} {home}"])
        self._refuse_replacing_a_lost_identity()
        report.items += self.keys.ensure()
        report.items += self.store.ensure()
        seq, _ = self.audit.head()
        report.items.append(f"audit log: {seq} entries")
        return report

    def require_store(self) -> None:
        """Refuse a store that does not exist (a mistyped DOSSIER_STORE), instead of showing it empty."""
        check = getattr(self.store, "require_root", None)
        if check is not None:
            check()

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

    # --- keys ---------------------------------------------------------------------------

    def _why_no_key(self, owner_id: str) -> Exception:
        if self._had_objects(owner_id):
            label = "case" if self.case_records.versions(owner_id) else "group submission"
            return KeyMissing(
                f"{label} {owner_id}: its key was shredded; its stored objects can no longer be decrypted",
                hint=f"the audit log still lists what was stored (`dossier audit log --case {owner_id}`)",
            )
        return NotFound(f"case {owner_id}: no such case in {self.store.describe()}", hint="see `dossier case list`")

    def _had_objects(self, owner_id: str) -> bool:
        """Whether a case (records) or a group submission (its packet) was stored under this id."""
        return bool(self.case_records.versions(owner_id) or self.store.list(f"packets/{owner_id}/"))

    def _case_key(self, case_id: str) -> Identity:
        """The case's identity; KeyMissing when shredded (re-checked at every use), NotFound when unknown."""
        return self.case_keys.get(case_id)

    # --- person fingerprints (duplicate warnings) ---------------------------------------

    def _fingerprint_secret(self, actor: str) -> bytes:
        """The organisation's fingerprint secret, shared by every office using this store; made once."""
        if self._fp_secret is not None:
            return self._fp_secret
        try:
            blob = self.store.get(FINGERPRINT_SECRET)
        except ObjectMissing:
            fresh = encrypt(secrets.token_bytes(32), self.keys.recipients())
            if self.store.put_if_absent(FINGERPRINT_SECRET, fresh):
                self.audit.append("create-org-secret", actor, None, FINGERPRINT_SECRET, sha256_hex(fresh))
            blob = self.store.get(FINGERPRINT_SECRET)
        self._fp_secret = decrypt(blob, self.keys.identities(), "the organisation's fingerprint secret")
        return self._fp_secret

    def keyed_tag(self, purpose: str, text: str, actor: str) -> str:
        """A keyed hash of `text` for one purpose (e.g. whose drafts these are): stable, unreadable alone."""
        return hmac.new(self._fingerprint_secret(actor), f"{purpose}|{text}".encode(), hashlib.sha256).hexdigest()

    def fingerprint(self, case: Case, actor: str) -> str:
        """A keyed hash of the applicant's names and birth date: equal for the same person, unreadable alone."""
        a = case.applicant
        basis = "|".join(
            [_normal(a.given_name), _normal(a.family_name), a.birth_date.isoformat() if a.birth_date else ""]
        )
        return hmac.new(self._fingerprint_secret(actor), basis.encode(), hashlib.sha256).hexdigest()

    # --- cases --------------------------------------------------------------------------

    def import_case(self, loaded: LoadedCase, actor: str) -> str:
        """store_case at the stage case.yaml names (storage tests and benchmarks; the service layer resolves it)."""
        return self.store_case(loaded, actor, stage=loaded.case.stage or "", fingerprint=None).case_id

    def store_case(self, loaded: LoadedCase, actor: str, *, stage: str, fingerprint: str | None) -> ImportOutcome:
        """Encrypt and store a validated case at its resolved stage; a re-import stores a new version only on change."""
        case = loaded.case
        case_id = check_id("case id", case.case_id)
        if not self.case_keys.objects(case_id) and self.case_records.versions(case_id):
            raise KeyMissing(
                f"case {case_id} was shredded; it cannot be imported again under the same id",
                hint="remove case_id from case.yaml to import it as a new case",
            )
        identity = self.case_keys.ensure(case_id, actor, "create-case-key")
        for _attempt in range(50):
            latest = self.case_records.latest(case_id)
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
                blob = encrypt(data, [identity.to_public()])
                if not self.store.put_if_absent(key, blob):
                    raise StorageError(f"case {case_id}: object {key} already exists; refusing to overwrite it")
                self.audit.append("store-evidence", actor, case_id, key, sha256_hex(blob))
                evidence[ev.id] = {"object": key, "sha256": digest, "size": len(data)}
            now = _now()
            if latest is not None:
                old = latest[1]
                if old["mapping"] == case.data and old["evidence"] == evidence and old["state"].get("stage"):
                    return ImportOutcome(case_id, created=False, changed=False, record_version=latest[0])
                state = old["state"] | {"stage": old["state"].get("stage") or stage}
            else:
                state = {"stage": stage, "packets": [], "groups": [], "status": None, "created": now}
            if fingerprint is not None:
                state["fingerprint"] = fingerprint
            record = {
                "format": RECORD_FORMAT,
                "case_id": case_id,
                "mapping": case.data,
                "evidence": evidence,
                "state": state | {"updated": now},
            }
            n = latest[0] + 1 if latest else 1
            if self.case_records.write(case_id, n, record, "import-case" if n == 1 else "update-case", actor):
                return ImportOutcome(case_id, created=latest is None, changed=True, record_version=n)
        raise StorageError(f"case {case_id}: too many concurrent updates; try again")

    def load_case(self, case_id: str) -> LoadedCase:
        """Decrypt the latest version of a case with its evidence, at its current stage."""
        from casefile import LoadedCase

        _n, record = self.case_records.require(case_id)
        identity = self._case_key(case_id)
        # Messages name evidence by position: an evidence id is free text and may carry a name.
        files = {
            eid: decrypt(self.store.get(meta["object"]), [identity], f"case {case_id} evidence #{n + 1}")
            for n, (eid, meta) in enumerate(record["evidence"].items())
        }
        return LoadedCase(case=_case_at_stage(case_id, record), files=files)

    def record_versions(self, case_id: str) -> list[tuple[int, str, dict[str, Any]]]:
        """Every stored version of a case record, oldest first: (n, object key, decrypted record)."""
        check_id("case id", case_id)
        keys = self.case_records.versions(case_id)
        if not keys:
            self._case_key(case_id)  # KeyMissing (shredded) or NotFound (unknown)
            raise NotFound(f"case {case_id}: no case record stored", hint="import the case folder again")
        identity = self._case_key(case_id)
        out = []
        for key in keys:
            record = json.loads(decrypt(self.store.get(key), [identity], f"case {case_id} record"))
            out.append((int(key.rsplit("/", 1)[1][:6]), key, record))
        return out

    def load_record(self, case_id: str) -> tuple[Case, CaseState]:
        """The case at its current stage without its evidence bytes, and its state (one read)."""
        n, record = self.case_records.require(case_id)
        return _case_at_stage(case_id, record), _state(case_id, n, record)

    def case_and_status(self, case_id: str) -> tuple[Case, dict[str, Any] | None]:
        """The case at its current stage without its evidence, and its last recorded status (one read)."""
        _n, record = self.case_records.require(case_id)
        return _case_at_stage(case_id, record), record["state"].get("status")

    def state(self, case_id: str) -> CaseState:
        """Ids, procedure, stage, packets and last status of a case: nothing personal."""
        n, record = self.case_records.require(case_id)
        return _state(case_id, n, record)

    def case_state(self, case_id: str) -> dict[str, Any]:
        """`state` as JSON data."""
        return self.state(case_id).to_json()

    def states(self) -> tuple[list[CaseState], list[str]]:
        """Every readable case's state, and the ids of imports interrupted before their first record."""
        rows: list[CaseState] = []
        incomplete: list[str] = []
        for owner in self.case_keys.owners():
            if owner.startswith("G-"):
                continue  # a group submission's key
            latest = self.case_records.latest(owner)
            if latest is None:
                incomplete.append(owner)
            else:
                rows.append(_state(owner, *latest))
        return rows, incomplete

    def records(self) -> list[tuple[Case, CaseState, str | None]]:
        """Every readable case with its state and person fingerprint (for search and duplicate warnings)."""
        out = []
        for owner in self.case_keys.owners():
            if owner.startswith("G-"):
                continue
            latest = self.case_records.latest(owner)
            if latest is not None:
                n, record = latest
                out.append(
                    (_case_at_stage(owner, record), _state(owner, n, record), record["state"].get("fingerprint"))
                )
        return out

    def list_cases(self) -> list[dict[str, Any]]:
        """Every readable (not shredded) case: case_id, country, procedure, stage, updated (no names)."""
        return [
            {k: s.to_json()[k] for k in ("case_id", "country", "procedure", "stage", "updated", "record_version")}
            for s in self.states()[0]
        ]

    def record_view(self, case_id: str, actor: str) -> None:
        """Record that someone opened a case's personal data (so an auditor sees who looked at whom)."""
        self.audit.append("view-case", actor, check_id("case id", case_id), None, None)

    def set_stage(self, case_id: str, stage: str, actor: str) -> None:
        """Move the case to `stage` (a new record version, recorded in the audit log)."""
        check_id("stage", stage)

        def change(record: dict[str, Any]) -> dict[str, Any] | None:
            if record["state"].get("stage") == stage:
                return None
            record["state"]["stage"] = stage
            return record

        self.case_records.update(case_id, "set-stage", actor, change)

    def last_status(self, case_id: str) -> dict[str, Any] | None:
        """The readiness summary recorded by the last revalidation, or None."""
        return self.case_records.require(case_id)[1]["state"].get("status")

    def record_status(self, case_id: str, status: dict[str, Any], actor: str) -> None:
        """Remember a readiness summary (ids and statuses only) for the next revalidation."""

        def change(record: dict[str, Any]) -> dict[str, Any] | None:
            if record["state"].get("status") == status:
                return None
            record["state"]["status"] = status
            return record

        self.case_records.update(case_id, "record-status", actor, change)

    # --- packets and group submissions: one archive path ---------------------------------

    def packets_of(self, case_id: str) -> list[dict[str, Any]]:
        """Archived packets of a case: packet_id, stage, archived (UTC), object_key, sha256, size."""
        return self.state(case_id).to_json()["packets"]

    def archive_packet(self, case_id: str, packet_id: str, bag_zip: bytes, actor: str) -> str:
        """Encrypt and store a packet, record it; the same packet id and bytes again change nothing."""
        return self._archive_packet(case_id, packet_id, lambda: io.BytesIO(bag_zip), actor)

    def archive_packet_file(self, case_id: str, packet_id: str, path: Path, actor: str) -> str:
        """archive_packet for a bag on disk, streamed with bounded memory (large packets)."""
        return self._archive_packet(case_id, packet_id, lambda: path.open("rb"), actor)

    def _archive_packet(self, case_id: str, packet_id: str, source: Source, actor: str) -> str:
        check_id("packet id", packet_id)
        n, record = self.case_records.require(case_id)
        for p in record["state"].get("packets", []):
            if p["packet_id"] == packet_id:
                if p.get("plain_sha256") == digest_of(source)[0]:
                    self.case_records.adopt(case_id, n, "record-packet", actor)  # a re-run after a kill
                    return str(p["object_key"])
                raise StorageError(
                    f"packet {packet_id} of case {case_id} is already archived with different content",
                    hint="an archived packet is never replaced; build again to get a new packet id",
                )
        key = f"packets/{packet_id}/{case_id}.age"
        done = self._archive(case_id, key, source, "archive-packet", actor, f"packet {packet_id} of case {case_id}", n)
        row = {
            "packet_id": packet_id,
            "stage": record["state"].get("stage") or record["mapping"].get("stage"),
            "archived": _now(),
            "object_key": key,
            "sha256": done.sha256,
            "plain_sha256": done.plain_sha256,
            "size": done.size,
        }
        self._add_row(case_id, "packets", "packet_id", row, "record-packet", actor)
        return key

    def archive_group(self, group_id: str, case_ids: list[str], bag_zip: bytes, actor: str) -> str:
        """Store a group submission under a key of its own, listed in every member case (idempotent).

        Shredding any member case also shreds the group's key: the group bag holds every member's data.
        """
        check_id("group id", group_id)
        for case_id in case_ids:
            self.case_records.require(case_id)  # every member still readable (not shredded) at this moment
        self.case_keys.ensure(group_id, actor, "create-group-key")
        key = f"packets/{group_id}/{group_id}.age"
        self._archive(group_id, key, lambda: io.BytesIO(bag_zip), "archive-group", actor, f"group {group_id}", None)
        row = {"group_id": group_id, "object_key": key, "members": list(case_ids), "archived": _now()}
        for case_id in case_ids:
            self._add_row(case_id, "groups", "group_id", row, "record-group", actor)
        return key

    def _archive(
        self, owner_id: str, key: str, source: Source, action: str, actor: str, what: str, record_n: int | None
    ) -> Archived:
        """The shared idempotent path: upload once, adopt an interrupted run's object, record it once."""

        def already_recorded() -> bool:
            if record_n is not None:
                return self.case_records.recorded(owner_id, key, record_n)
            return any(e.get("object_key") == key for e in self.audit.entries(owner_id))

        return archive_bag(
            self.store,
            self.audit,
            owner_id=owner_id,
            key=key,
            source=source,
            identity=self._case_key(owner_id),
            action=action,
            actor=actor,
            what=what,
            already_recorded=already_recorded,
        )

    def _add_row(
        self, case_id: str, field_name: str, id_field: str, row: dict[str, Any], action: str, actor: str
    ) -> None:
        def change(rec: dict[str, Any]) -> dict[str, Any] | None:
            rows = rec["state"].setdefault(field_name, [])
            if any(r[id_field] == row[id_field] for r in rows):
                return None
            rows.append(row)
            return rec

        self.case_records.update(case_id, action, actor, change)

    def _packet_key(self, packet_id: str) -> tuple[str, str]:
        check_id("packet id", packet_id)
        keys = [k for k in self.store.list(f"packets/{packet_id}/") if k.endswith(".age")]
        if not keys:
            raise NotFound(f"packet {packet_id}: no such packet in {self.store.describe()}")
        key = keys[0]
        return key, key.rsplit("/", 1)[1][: -len(".age")]

    def packet_owner(self, packet_id: str) -> str:
        """The case id (or, for a group submission, the group id) a packet is archived for."""
        return self._packet_key(packet_id)[1]

    def get_packet(self, packet_id: str) -> bytes:
        """The decrypted bag zip, checked against its audit entry; KeyMissing when its case was shredded."""
        out = io.BytesIO()
        self.get_packet_to(packet_id, out)
        return out.getvalue()

    def get_packet_to(self, packet_id: str, dst: BinaryIO) -> None:
        """Decrypt a packet straight into a file object (bounded memory), after checking its audit hash."""
        key, owner = self._packet_key(packet_id)
        identity = self._case_key(owner)
        entry = self.audit.find_back(lambda e: e.get("object_key") == key, lambda e: False)
        if entry is None or not entry.get("sha256"):
            raise AuditError(
                f"packet {packet_id}: no audit entry records it, so it cannot be trusted",
                hint="run `dossier audit verify` and report the finding",
            )
        with tempfile.TemporaryFile(prefix="dossier-") as tmp:
            self.store.get_stream(key, tmp)
            tmp.seek(0)
            if hashlib.file_digest(tmp, "sha256").hexdigest() != entry["sha256"]:
                raise AuditError(
                    f"packet {packet_id}: the stored object differs from what the audit log recorded",
                    hint="run `dossier audit verify`; do not use this packet",
                )
            tmp.seek(0)
            decrypt_stream(tmp, dst, [identity], f"packet {packet_id}")

    # --- shredding ----------------------------------------------------------------------

    def shred_case(self, case_id: str, actor: str) -> bool:
        """Delete every version of the case key (and of its group submissions' keys) and record it.

        False when it was already shredded.
        """
        check_id("case id", case_id)
        if not self.case_keys.objects(case_id):
            if self.case_records.versions(case_id):
                return False
            raise NotFound(f"case {case_id}: no such case in {self.store.describe()}")
        try:  # group submissions holding this case's data go too (when the record can still be read)
            latest = self.case_records.latest(case_id)
        except KeyMissing:
            latest = None
        groups = [g["group_id"] for g in (latest[1]["state"].get("groups", []) if latest else [])]
        self.case_keys.shred(case_id, actor, "shred-case")
        for group_id in groups:
            self.case_keys.shred(group_id, actor, "shred-group")
        return True

    def rewrap_keys(self, actor: str) -> int:
        """Re-encrypt every case (and group) key to the current recipients file; how many were rewrapped.

        Run it after adding or removing a recipient. On a versioned bucket older versions of each key
        remain (wrapped to the old recipients) until removed; shredding removes every version.
        """
        return self.case_keys.rewrap_all(actor)

    # --- checkpoints --------------------------------------------------------------------

    def checkpoint(self, out: Path | None = None) -> tuple[dict[str, Any], Path]:
        """Sign the audit head with the organisation's checkpoint key; write it (default under DOSSIER_HOME)."""
        from storage.checkpoint import load_private_key

        cp = self.audit.checkpoint(load_private_key(self.keys.signing_key_file))
        target = out or self.settings.home / "checkpoints" / f"checkpoint-{cp['seq']:012d}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(cp, indent=2, sort_keys=True) + "\n")
        return cp, target


def _state(case_id: str, n: int, record: dict[str, Any]) -> CaseState:
    """The non-personal state of a stored record ('' as stage only for records of older versions)."""
    state, mapping = record["state"], record["mapping"]
    return CaseState(
        case_id=case_id,
        country=mapping.get("country", ""),
        procedure=mapping.get("procedure", ""),
        stage=state.get("stage") or mapping.get("stage") or "",
        record_version=n,
        created=state.get("created") or "",
        updated=state.get("updated") or "",
        evidence_count=len(record["evidence"]),
        packets=tuple(PacketRow.from_json(p) for p in state.get("packets", [])),
        groups=tuple(GroupRow.from_json(g) for g in state.get("groups", [])),
        status=state.get("status"),
    )


def _case_at_stage(case_id: str, record: dict[str, Any]) -> Case:
    """The case of a stored record, moved to the stage the record says it has reached."""
    from casefile import case_from_mapping

    case = case_from_mapping(record["mapping"], case_id)
    stage = record["state"].get("stage")
    return replace(case, stage=stage) if stage and stage != case.stage else case
