"""One idempotent path for archiving a bag (a case's packet or a group submission).

Encrypt while uploading (bounded memory), store only if absent, adopt what an interrupted run
already stored after checking it holds the same bag, and record it in the audit log once.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from core.errors import StorageError
from storage.audit import AuditLog
from storage.base import ObjectMissing, ObjectStore
from storage.crypto import EncryptingReader, HashingWriter, Identity, decrypt_stream

__all__ = ["Archived", "Source", "archive_bag", "digest_of"]

Source = Callable[[], BinaryIO]


@dataclass(frozen=True)
class Archived:
    """What was archived: the object key, the ciphertext sha256 (in the audit log), the bag's own hash."""

    key: str
    sha256: str
    plain_sha256: str
    size: int


def digest_of(source: Source) -> tuple[str, int]:
    """(sha256, size) of a bag source, read once in chunks."""
    sink = HashingWriter(None)
    with source() as fh:
        shutil.copyfileobj(fh, sink, 1024 * 1024)
    return sink.digest.hexdigest(), sink.size


def _upload(store: ObjectStore, key: str, source: Source, identity: Identity) -> Archived | None:
    """Encrypt while uploading; None when the key was already taken."""
    if store.exists(key):
        return None
    with source() as src, EncryptingReader(src, [identity.to_public()]) as cipher:
        digest = store.put_stream(key, cipher, if_absent=True)  # type: ignore[arg-type]
        plain = cipher.plain
    if digest is None:
        return None
    return Archived(key, digest, plain.digest.hexdigest(), plain.size)


def stored_plain_sha256(store: ObjectStore, key: str, identity: Identity, what: str) -> str:
    """The sha256 of the bag inside a stored object (decrypted through a temp file, never in memory whole)."""
    with tempfile.TemporaryFile(prefix="dossier-") as tmp:
        store.get_stream(key, tmp)
        tmp.seek(0)
        sink = HashingWriter(None)
        decrypt_stream(tmp, sink, [identity], what)
        return sink.digest.hexdigest()


def archive_bag(
    store: ObjectStore,
    audit: AuditLog,
    *,
    owner_id: str,
    key: str,
    source: Source,
    identity: Identity,
    action: str,
    actor: str,
    what: str,
    already_recorded: Callable[[], bool],
) -> Archived:
    """Store the bag under `key` once and record it once, whatever an earlier, interrupted run left."""
    done = _upload(store, key, source, identity)
    recorded = False
    if done is None:  # stored by an earlier run that stopped half-way: adopt it if it is the same bag
        plain_sha, size = digest_of(source)
        if stored_plain_sha256(store, key, identity, what) != plain_sha:
            raise StorageError(
                f"{what} is already stored with different content",
                hint="an archived packet is never replaced; build again to get a new packet id",
            )
        cipher_sha = store.sha256(key)
        if cipher_sha is None:
            raise ObjectMissing(key)
        done = Archived(key, cipher_sha, plain_sha, size)
        recorded = already_recorded()
    if not recorded:
        audit.append(action, actor, owner_id, key, done.sha256)
    return done
