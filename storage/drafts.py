"""Intake drafts: a half-done new-case form kept in the store, age-encrypted to the organisation recipients.

Layout: drafts/<owner tag>/<draft id>.age, where the owner tag is an HMAC of the username with the
organisation's fingerprint secret (a storage admin learns neither who wrote it nor what it holds).
Drafts are not case records: they are outside the audited prefixes and are deleted once the case
is created (or when the caseworker discards them).
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from core.errors import NotFound
from storage.audit import _now
from storage.base import ObjectMissing
from storage.crypto import decrypt, encrypt
from storage.vault import Vault

__all__ = ["Draft", "DraftStore"]

DRAFT_FORMAT = "dossier-draft/1"
PREFIX = "drafts/"
_DRAFT_ID = re.compile(r"^D-[0-9a-f]{16}$")


@dataclass(frozen=True)
class Draft:
    """One saved intake: its id, when it was saved, and the form values (personal data)."""

    draft_id: str
    owner: str
    saved: str
    values: dict[str, str]


class DraftStore:
    """Save, list, resume and delete one user's intake drafts."""

    def __init__(self, vault: Vault) -> None:
        self.vault = vault

    def _tag(self, owner: str) -> str:
        return self.vault.keyed_tag("draft-owner", owner, owner)[:32]

    def _key(self, owner: str, draft_id: str) -> str:
        if not _DRAFT_ID.match(draft_id):
            raise NotFound("that draft id is not a draft id", hint="open the draft from the list on /cases/new")
        return f"{PREFIX}{self._tag(owner)}/{draft_id}.age"

    def save(self, owner: str, values: dict[str, str], draft_id: str | None = None) -> str:
        """Store (or replace) a draft; its id."""
        draft_id = draft_id or f"D-{secrets.token_hex(8)}"
        body = {"format": DRAFT_FORMAT, "owner": owner, "saved": _now(), "values": values}
        blob = encrypt(json.dumps(body, ensure_ascii=False).encode(), self.vault.keys.recipients())
        self.vault.store.put(self._key(owner, draft_id), blob)
        return draft_id

    def load(self, owner: str, draft_id: str) -> Draft:
        """One of the owner's drafts, decrypted; NotFound when it is not theirs or gone."""
        key = self._key(owner, draft_id)
        try:
            blob = self.vault.store.get(key)
        except ObjectMissing:
            raise NotFound(
                f"draft {draft_id}: no such draft of yours", hint="see the list of drafts on /cases/new"
            ) from None
        body: dict[str, Any] = json.loads(decrypt(blob, self.vault.keys.identities(), f"draft {draft_id}"))
        if body.get("owner") != owner:
            raise NotFound(f"draft {draft_id}: no such draft of yours")
        return Draft(draft_id, owner, str(body.get("saved", "")), dict(body.get("values", {})))

    def list(self, owner: str) -> list[Draft]:
        """The owner's drafts, newest first."""
        out = []
        for key in self.vault.store.list(f"{PREFIX}{self._tag(owner)}/"):
            draft_id = key.rsplit("/", 1)[1].removesuffix(".age")
            if _DRAFT_ID.match(draft_id):
                out.append(self.load(owner, draft_id))
        return sorted(out, key=lambda d: d.saved, reverse=True)

    def delete(self, owner: str, draft_id: str) -> None:
        """Remove a draft (after its case was created, or when discarded)."""
        self.vault.store.delete(self._key(owner, draft_id))
