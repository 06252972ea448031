"""A real SeaweedFS (`weed mini`) for the whole test session: loopback only, generated credentials.

Two S3 users: `admin` (read/write) and `auditor` (read + list only). Unsigned and wrongly signed
requests are refused. The server is stopped by PID (SIGTERM, then SIGKILL) at the end of the
session, also when tests fail; Linux's parent-death signal stops it if pytest itself is killed.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from storage.seaweed import S3Identity, SeaweedServer, start_seaweed

_bucket_numbers = itertools.count(1)


@dataclass
class S3Service:
    """The running server as tests see it."""

    server: SeaweedServer
    admin: S3Identity
    auditor: S3Identity

    @property
    def endpoint(self) -> str:
        return self.server.endpoint

    @property
    def data_dir(self) -> Path:
        """SeaweedFS's raw data folder (volumes, filer metadata): what a storage admin could read."""
        return self.server.data_dir / "data"

    def new_bucket(self) -> str:
        """A bucket name no other test uses (the bucket itself is created by the code under test)."""
        return f"dossier-t{next(_bucket_numbers):04d}"

    def url(self, bucket: str, **options: Any) -> str:
        extra = "".join(f"&{k}={v}" for k, v in options.items())
        return f"s3://{bucket}?endpoint={self.endpoint}{extra}"

    def env(self, identity: S3Identity | None = None) -> dict[str, str]:
        """boto3 environment for a user (default: admin)."""
        return (identity or self.admin).env() | {"AWS_DEFAULT_REGION": "us-east-1"}

    def client(self, identity: S3Identity | None = None, **config: Any) -> Any:
        """A raw boto3 client, to tamper with objects behind Dossier's back."""
        import boto3
        from botocore.config import Config

        ident = identity or self.admin
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=ident.access_key,
            aws_secret_access_key=ident.secret_key,
            region_name="us-east-1",
            config=Config(s3={"addressing_style": "path"}, **config),
        )


@pytest.fixture(scope="session")
def s3_service() -> Iterator[S3Service]:
    """Start `weed mini` once per session and stop it (by PID) whatever happens."""
    root = Path(tempfile.mkdtemp(prefix="dossier-s3-"))
    admin = S3Identity.generate("admin")
    auditor = S3Identity.generate("auditor", read_only=True)
    server = start_seaweed(root, identities=[admin, auditor])
    try:
        yield S3Service(server, admin, auditor)
    finally:
        server.stop(grace=5)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def s3_url(s3_service: S3Service, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """A fresh bucket URL with admin credentials in the environment and DOSSIER_HOME in tmp."""
    for key, value in s3_service.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    url = s3_service.url(s3_service.new_bucket(), retries=2)
    monkeypatch.setenv("DOSSIER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DOSSIER_STORE", url)
    monkeypatch.setenv("DOSSIER_ACTOR", "test-caseworker")
    return url
