"""Object store backends, client-side age encryption, keys and the hash-chained audit log.

Everything personal is age-encrypted before it leaves the process; object keys are opaque ids;
the audit log (plaintext ids and hashes) can be verified without any decryption key.
"""

from storage.audit import AuditLog, Problem, VerifyReport
from storage.base import ObjectMissing, ObjectStore, open_store
from storage.vault import InitReport, Vault

__all__ = [
    "AuditLog",
    "InitReport",
    "ObjectMissing",
    "ObjectStore",
    "Problem",
    "Vault",
    "VerifyReport",
    "open_store",
]
