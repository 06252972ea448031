"""The organisation's keys: its age identity (0600 under DOSSIER_HOME), its recipients, the checkpoint signing key.

A case's own age identity is stored age-encrypted to every organisation recipient (office, legal adviser,
offline recovery...), optionally wrapped once more by AWS KMS. Deleting that one object shreds the case.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from core.errors import KeyMissing
from core.settings import Settings
from storage.crypto import (
    Identity,
    Recipient,
    decrypt,
    encrypt,
    identity_file_text,
    new_identity,
    parse_identities,
    parse_recipients,
)

__all__ = ["KeyWrapper", "OrgKeys", "write_private_file"]


def write_private_file(path: Path, text: str | bytes) -> bool:
    """Create a file with mode 0600 (folder 0700) only if it does not exist; never overwrite. True if created."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as fh:
        fh.write(text.encode() if isinstance(text, str) else text)
        fh.flush()
        os.fsync(fh.fileno())
    return True


class KeyWrapper(Protocol):
    """An extra wrapping layer around a case key (AWS KMS in production)."""

    suffix: str

    def wrap(self, data: bytes, case_id: str) -> bytes: ...

    def unwrap(self, data: bytes, case_id: str) -> bytes: ...


class OrgKeys:
    """Reads (and on init creates) the organisation's identity, recipients and checkpoint key."""

    def __init__(self, settings: Settings, wrapper: KeyWrapper | None = None) -> None:
        self.settings = settings
        self.wrapper = wrapper
        self._identities: list[Identity] | None = None
        self._recipients: list[Recipient] | None = None

    @property
    def signing_key_file(self) -> Path:
        return self.settings.keys_dir / "checkpoint-signing.pem"

    @property
    def public_key_file(self) -> Path:
        return self.settings.keys_dir / "checkpoint-signing.pub"

    def ensure(self) -> list[str]:
        """Create whatever key file is missing; never touch an existing one. Lines saying what happened."""
        from storage.checkpoint import new_signing_key_pem

        lines = []
        keys_dir = self.settings.keys_dir
        keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(keys_dir, 0o700)
        idf = self.settings.org_identity_file
        if idf.exists():
            lines.append(f"organisation identity: kept {idf}")
        else:
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            write_private_file(idf, identity_file_text(new_identity(), f"Dossier organisation identity, {stamp}"))
            lines.append(f"organisation identity: created {idf} (mode 0600; back it up offline)")
        rf = self.settings.recipients_file
        if rf.exists():
            lines.append(f"recipients: kept {rf} ({len(self.recipients())} recipient(s))")
        else:
            publics = [str(i.to_public()) for i in self.identities()]
            text = "# age recipients every case key is encrypted to: one per line (office, adviser, recovery)\n"
            write_private_file(rf, text + "\n".join(publics) + "\n")
            os.chmod(rf, 0o644)
            lines.append(f"recipients: created {rf} (add the legal adviser's and the offline recovery key)")
        private_pem, public_pem = new_signing_key_pem()
        if write_private_file(self.signing_key_file, private_pem):
            write_private_file(self.public_key_file, public_pem)
            os.chmod(self.public_key_file, 0o644)
            lines.append(f"checkpoint signing key: created {self.signing_key_file} (public: {self.public_key_file})")
        else:
            lines.append(f"checkpoint signing key: kept {self.signing_key_file}")
        return lines

    def identities(self) -> list[Identity]:
        """The organisation identities that can open case keys."""
        if self._identities is None:
            idf = self.settings.org_identity_file
            try:
                text = idf.read_text()
            except FileNotFoundError:
                raise KeyMissing(
                    f"organisation identity {idf} is missing: stored cases cannot be decrypted",
                    hint="restore it from the offline backup into DOSSIER_HOME/keys, or run `dossier init` "
                    "for a new, empty organisation",
                ) from None
            self._identities = parse_identities(text, str(idf))
        return self._identities

    def recipients(self) -> list[Recipient]:
        """Everyone a case key is encrypted to."""
        if self._recipients is None:
            rf = self.settings.recipients_file
            try:
                text = rf.read_text()
            except FileNotFoundError:
                raise KeyMissing(f"recipients file {rf} is missing", hint="run `dossier init`") from None
            self._recipients = parse_recipients(text, str(rf))
        return self._recipients

    @property
    def wrapped_suffix(self) -> str:
        """The object key suffix of a wrapped case key: .age (age to the org), .kms (then AWS KMS)."""
        return self.wrapper.suffix if self.wrapper else ".age"

    def wrap_case_key(self, identity: Identity, case_id: str) -> bytes:
        """The case identity as an age file to every org recipient (then KMS, when configured)."""
        blob = encrypt(identity_file_text(identity, f"Dossier case {case_id}").encode(), self.recipients())
        return self.wrapper.wrap(blob, case_id) if self.wrapper else blob

    def unwrap_case_key(self, data: bytes, case_id: str, suffix: str) -> Identity:
        """Open a stored case key; KeyMissing when the org identity (or KMS) cannot."""
        if suffix == ".kms":
            if self.wrapper is None or self.wrapper.suffix != ".kms":
                raise KeyMissing(
                    f"case {case_id}: its key is wrapped by AWS KMS but no KMS key is configured",
                    hint="set DOSSIER_KMS_KEY_ID (and AWS credentials allowed to decrypt with it)",
                )
            data = self.wrapper.unwrap(data, case_id)
        text = decrypt(data, self.identities(), f"case {case_id} key").decode()
        return parse_identities(text, f"case {case_id} key")[0]
