"""Optional AWS KMS layer around case keys (production): the age-wrapped case key is KMS-encrypted once more.

Then opening a case needs both the organisation identity and permission to use the KMS key, and
disabling the KMS key locks every case at once. Configured by DOSSIER_KMS_KEY_ID (a key id, ARN or
alias); DOSSIER_KMS_ENDPOINT overrides the endpoint (a KMS-compatible service or a test double).
"""

from __future__ import annotations

import os
from typing import Any

from core.errors import ConfigError, KeyMissing, StorageUnavailable

__all__ = ["KmsWrapper", "kms_from_env"]

# KMS Encrypt takes at most 4096 bytes: an age file to ~15 recipients fits.
_KMS_MAX = 4096


class KmsWrapper:
    """Encrypts/decrypts wrapped case keys with one KMS key, bound to the case id (encryption context)."""

    suffix = ".kms"

    def __init__(self, key_id: str, *, endpoint_url: str | None = None, region: str | None = None) -> None:
        self.key_id = key_id
        self.endpoint_url = endpoint_url
        self.region = region
        self._client: Any = None

    def _kms(self) -> Any:
        if self._client is None:
            import boto3
            from botocore.config import Config

            config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=20)
            self._client = boto3.session.Session().client(
                "kms", endpoint_url=self.endpoint_url, region_name=self.region or _region(), config=config
            )
        return self._client

    @staticmethod
    def _context(case_id: str) -> dict[str, str]:
        return {"dossier": "case-key", "case_id": case_id}

    def _call(self, op: str, case_id: str, **kwargs: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            return getattr(self._kms(), op)(**kwargs)
        except NoCredentialsError:
            raise ConfigError(
                "AWS KMS: no AWS credentials found", hint="set AWS_PROFILE or AWS_ACCESS_KEY_ID"
            ) from None
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "error")
            raise KeyMissing(
                f"case {case_id}: AWS KMS refused to {op} its key ({code})",
                hint=f"check that KMS key {self.key_id} exists, is enabled and that these credentials may use it",
            ) from None
        except BotoCoreError as exc:
            raise StorageUnavailable(f"AWS KMS cannot be reached ({type(exc).__name__}); retry later") from None

    def wrap(self, data: bytes, case_id: str) -> bytes:
        """KMS-encrypt an age-wrapped case key."""
        if len(data) > _KMS_MAX:
            raise ConfigError(
                f"case {case_id}: the wrapped key is {len(data)} bytes, over KMS's {_KMS_MAX}-byte limit",
                hint="list fewer recipients in recipients.txt",
            )
        out = self._call(
            "encrypt", case_id, KeyId=self.key_id, Plaintext=data, EncryptionContext=self._context(case_id)
        )
        return bytes(out["CiphertextBlob"])

    def unwrap(self, data: bytes, case_id: str) -> bytes:
        """KMS-decrypt back to the age-wrapped case key."""
        out = self._call(
            "decrypt", case_id, KeyId=self.key_id, CiphertextBlob=data, EncryptionContext=self._context(case_id)
        )
        return bytes(out["Plaintext"])


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


def kms_from_env() -> KmsWrapper | None:
    """The KMS wrapper when DOSSIER_KMS_KEY_ID is set, else None (age to the org recipients only)."""
    key_id = os.environ.get("DOSSIER_KMS_KEY_ID")
    if not key_id:
        return None
    return KmsWrapper(key_id, endpoint_url=os.environ.get("DOSSIER_KMS_ENDPOINT") or None)
