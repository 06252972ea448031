"""The S3 backend (boto3): any S3-compatible service, tested against a real SeaweedFS.

URL: s3://BUCKET[/PREFIX]?endpoint=http://127.0.0.1:8333[&region=R][&lock_days=N][&sse=s3|c][&sse_c_key=FILE]
     [&retries=N][&retry_mode=standard|adaptive]
Credentials come from boto3's standard chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE...),
never from the URL. Server-side encryption and Object Lock are extra layers only: every object is
already age-encrypted, and integrity rests on the audit log (SeaweedFS's lock can be bypassed below S3).
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, BinaryIO, TypeVar
from urllib.parse import parse_qs, urlsplit

from core.errors import ConfigError, StorageError, StorageUnavailable
from storage.base import ObjectMissing, check_key
from storage.crypto import HashingReader

__all__ = ["LOCKED_PREFIXES", "S3Options", "S3Store"]

T = TypeVar("T")
StrList = list[str]  # (a name: the class below defines a method called `list`)
Versions = list[dict[str, Any]]

# Archived packets get COMPLIANCE retention; keys never do (shredding must stay possible).
LOCKED_PREFIXES = ("packets/",)
_MB = 1024 * 1024
_MISSING = {"NoSuchKey", "404", "NotFound", "NoSuchVersion"}
_DENIED = {"AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "403", "InvalidToken", "ExpiredToken"}
_UNAVAILABLE = {"500", "502", "503", "504", "SlowDown", "ServiceUnavailable", "InternalError", "RequestTimeout"}
_OPTIONS = {"endpoint", "region", "lock_days", "sse", "sse_c_key", "retries", "retry_mode", "timeout"}


@dataclass(frozen=True)
class S3Options:
    """Everything the URL can say about an S3 store."""

    bucket: str
    prefix: str = ""
    endpoint: str | None = None
    region: str | None = None
    lock_days: int = 365
    sse: str = "none"  # none | s3 | c
    sse_c_key_file: Path | None = None
    # Attempts x read timeout bound how long a silent endpoint (a port that accepts and never answers)
    # can hold a command: 3 x 5 s plus back-off stays well under 30 s.
    retries: int = 3
    retry_mode: str = "standard"
    timeout: float = 5.0

    @classmethod
    def parse(cls, url: str) -> S3Options:
        """Parse and check an s3:// URL; ConfigError naming the bad part."""
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ConfigError(f"store URL {url!r}: expected s3://bucket?endpoint=http://host:port")
        bucket = parts.netloc
        if not (3 <= len(bucket) <= 63) or not all(c.islower() or c.isdigit() or c in ".-" for c in bucket):
            raise ConfigError(f"store URL {url!r}: bucket {bucket!r} must be 3-63 lower-case letters, digits, '.', '-'")
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        unknown = sorted(set(query) - _OPTIONS)
        if unknown:
            raise ConfigError(
                f"store URL: unknown option(s) {', '.join(unknown)}", hint=f"known: {', '.join(sorted(_OPTIONS))}"
            )
        endpoint = query.get("endpoint") or None
        if endpoint and urlsplit(endpoint).scheme not in ("http", "https"):
            raise ConfigError(f"store URL: endpoint {endpoint!r} must start with http:// or https://")
        sse = query.get("sse", "none")
        if sse not in ("none", "s3", "c"):
            raise ConfigError(f"store URL: sse={sse!r}; use sse=s3 (server keys) or sse=c (sse_c_key=FILE)")
        key_file = Path(query["sse_c_key"]).expanduser() if query.get("sse_c_key") else None
        if sse == "c" and key_file is None:
            raise ConfigError("store URL: sse=c needs sse_c_key=/path/to/keyfile (created by `dossier init`)")
        retry_mode = query.get("retry_mode", "standard")
        if retry_mode not in ("standard", "adaptive", "legacy"):
            raise ConfigError(f"store URL: retry_mode={retry_mode!r}; use standard or adaptive")
        try:
            lock_days = int(query.get("lock_days", "365"))
            retries = int(query.get("retries", "3"))
            timeout = float(query.get("timeout", "5"))
        except ValueError:
            raise ConfigError("store URL: lock_days and retries must be whole numbers, timeout seconds") from None
        if lock_days < 0 or not 1 <= retries <= 20:
            raise ConfigError("store URL: lock_days must be >= 0 and retries between 1 and 20")
        return cls(
            bucket=bucket,
            prefix=parts.path.strip("/") + "/" if parts.path.strip("/") else "",
            endpoint=endpoint,
            region=query.get("region") or None,
            lock_days=lock_days,
            sse=sse,
            sse_c_key_file=key_file,
            retries=retries,
            retry_mode=retry_mode,
            timeout=timeout,
        )


class S3Store:
    """Objects in one bucket (optionally under a prefix), versioned, with optional lock and SSE."""

    parallel_reads = True

    def __init__(self, options: S3Options, *, credentials: tuple[str, str] | None = None) -> None:
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        self.options = options
        where = f"{options.endpoint}/" if options.endpoint else ""
        self.url = f"s3://{options.bucket}/{options.prefix}" if options.prefix else f"s3://{options.bucket}"
        self._where = f"{where}{options.bucket}"
        config = Config(
            retries={"mode": options.retry_mode, "max_attempts": options.retries},  # type: ignore[arg-type]
            connect_timeout=5,
            read_timeout=options.timeout,
            s3={"addressing_style": "path"} if options.endpoint else None,
            signature_version="s3v4",
        )
        region = options.region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        # A session of its own: credentials are resolved now, from the environment as it is now.
        # Explicit credentials are for `storage serve` only; otherwise boto3's standard chain decides.
        keys = {"aws_access_key_id": credentials[0], "aws_secret_access_key": credentials[1]} if credentials else {}
        session = boto3.session.Session(**keys)  # type: ignore[arg-type]
        self.client = session.client("s3", endpoint_url=options.endpoint, region_name=region, config=config)
        # At most 4 parts of 16 MiB in memory at once, whatever the packet's size.
        self.transfer = TransferConfig(
            multipart_threshold=16 * _MB, multipart_chunksize=16 * _MB, max_concurrency=4, max_io_queue=4
        )
        self._lock_enabled: bool | None = None
        self._sse_c_key: bytes | None = None

    @classmethod
    def from_url(cls, url: str) -> S3Store:
        return cls(S3Options.parse(url))

    def describe(self) -> str:
        return f"bucket {self._where}" + (f" (prefix {self.options.prefix})" if self.options.prefix else "")

    # --- error handling -----------------------------------------------------------------

    def _call(self, op: str, key: str | None, fn: Callable[[], T]) -> T:
        """Run one S3 call; turn boto errors into our errors with a message naming the key and what to do."""
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectionError,
            HTTPClientError,
            NoCredentialsError,
            PartialCredentialsError,
        )

        try:
            return fn()
        except (NoCredentialsError, PartialCredentialsError):
            raise ConfigError(
                f"no S3 credentials for {self.describe()}",
                hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE)",
            ) from None
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = str(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
            what = f" {key}" if key else ""
            if code in _MISSING or (status == "404" and code != "NoSuchBucket"):
                raise ObjectMissing(key or "?") from None
            if code == "NoSuchBucket":
                raise StorageError(
                    f"bucket {self._where} does not exist", hint="run `dossier init` to create it"
                ) from None
            if code in _DENIED or status == "403":
                raise StorageError(
                    f"object store refused {op}{what} ({code or status})",
                    hint="check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and what this user may do",
                ) from None
            if code in _UNAVAILABLE or status.startswith("5"):
                raise StorageUnavailable(
                    f"object store {self._where} failed {op}{what} ({code or status}) after retries; retry later"
                ) from None
            raise StorageError(f"object store: {op}{what} failed ({code or status})") from None
        except (ConnectionError, HTTPClientError) as exc:
            raise StorageUnavailable(
                f"object store {self._where} cannot be reached ({type(exc).__name__})",
                hint="is the S3 service running (`dossier storage serve`)? retry later",
            ) from None
        except BotoCoreError as exc:
            raise StorageError(f"object store: {op} failed ({type(exc).__name__})") from None

    @staticmethod
    def _code(exc: Exception) -> str:
        response = getattr(exc, "response", None) or {}
        return str(response.get("Error", {}).get("Code", ""))

    # --- extra layers -------------------------------------------------------------------

    def _sse_c(self) -> dict[str, Any]:
        if self.options.sse != "c":
            return {}
        if self._sse_c_key is None:
            path = self.options.sse_c_key_file
            assert path is not None
            try:
                key = base64.b64decode(path.read_text().strip())
            except FileNotFoundError:
                raise ConfigError(f"SSE-C key file {path} not found", hint="run `dossier init` to create it") from None
            if len(key) != 32:
                raise ConfigError(f"SSE-C key file {path}: expected 32 bytes, base64-encoded")
            self._sse_c_key = key
        return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": self._sse_c_key}

    def _put_args(self, key: str) -> dict[str, Any]:
        args = self._sse_c()
        if self.options.sse == "s3":
            args["ServerSideEncryption"] = "AES256"
        if self.options.lock_days and key.startswith(LOCKED_PREFIXES) and self.lock_enabled():
            args["ObjectLockMode"] = "COMPLIANCE"
            args["ObjectLockRetainUntilDate"] = datetime.now(UTC) + timedelta(days=self.options.lock_days)
        return args

    def lock_enabled(self) -> bool:
        """Whether the bucket has Object Lock (checked once)."""
        if self._lock_enabled is None:
            try:
                conf = self.client.get_object_lock_configuration(Bucket=self.options.bucket)
                enabled = conf.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"
            except Exception:  # noqa: BLE001 - any refusal means "not available here"
                enabled = False
            self._lock_enabled = enabled
        return self._lock_enabled

    def _k(self, key: str) -> str:
        return self.options.prefix + check_key(key)

    # --- the ObjectStore contract -------------------------------------------------------

    def put(self, key: str, data: bytes) -> None:
        args = self._put_args(key)
        self._call(
            "put",
            key,
            lambda: self.client.put_object(Bucket=self.options.bucket, Key=self._k(key), Body=data, **args),
        )

    def put_if_absent(self, key: str, data: bytes) -> bool:
        args = self._put_args(key)
        for attempt in range(20):
            try:
                self._call(
                    "put",
                    key,
                    lambda: self._conditional_put(key, data, args),
                )
                return True
            except _Conflict as exc:
                if exc.code == "PreconditionFailed":
                    return False
                # 409: another conditional write to this key is in flight; its outcome decides.
                time.sleep(0.05 * (attempt + 1))
                if self.exists(key):
                    return False
        raise StorageUnavailable(f"object store: conditional write of {key} kept conflicting; retry later")

    def _conditional_put(self, key: str, data: bytes, args: dict[str, Any]) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.put_object(Bucket=self.options.bucket, Key=self._k(key), Body=data, IfNoneMatch="*", **args)
        except ClientError as exc:
            code = self._code(exc)
            if code in ("PreconditionFailed", "ConditionalRequestConflict") or code in ("412", "409"):
                raise _Conflict("PreconditionFailed" if code in ("PreconditionFailed", "412") else code) from None
            raise

    def put_stream(self, key: str, src: BinaryIO, *, if_absent: bool = False) -> str | None:
        # Hashed as boto3 reads it: one sequential pass (a non-seekable reader), parts uploaded as they fill.
        if if_absent and self.exists(key):
            return None
        args = self._put_args(key)
        reader = HashingReader(src)
        self._call(
            "put",
            key,
            lambda: self.client.upload_fileobj(
                reader, self.options.bucket, self._k(key), ExtraArgs=args or None, Config=self.transfer
            ),
        )
        return reader.digest.hexdigest()

    def get(self, key: str) -> bytes:
        sse = self._sse_c()
        return self._call(
            "get",
            key,
            lambda: self.client.get_object(Bucket=self.options.bucket, Key=self._k(key), **sse)["Body"].read(),
        )

    def get_stream(self, key: str, dst: BinaryIO) -> None:
        sse = self._sse_c()
        self._call(
            "get",
            key,
            lambda: self.client.download_fileobj(
                self.options.bucket, self._k(key), dst, ExtraArgs=sse or None, Config=self.transfer
            ),
        )

    def sha256(self, key: str) -> str | None:
        sse = self._sse_c()

        def run() -> str:
            body = self.client.get_object(Bucket=self.options.bucket, Key=self._k(key), **sse)["Body"]
            digest = hashlib.sha256()
            for chunk in body.iter_chunks(_MB):
                digest.update(chunk)
            return digest.hexdigest()

        try:
            return self._call("get", key, run)
        except ObjectMissing:
            return None

    def exists(self, key: str) -> bool:
        sse = self._sse_c()
        try:
            self._call(
                "head", key, lambda: self.client.head_object(Bucket=self.options.bucket, Key=self._k(key), **sse)
            )
        except ObjectMissing:
            return False
        return True

    def list(self, prefix: str) -> StrList:
        full = self.options.prefix + prefix
        strip = len(self.options.prefix)

        def run() -> StrList:
            keys = []
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.options.bucket, Prefix=full):
                keys += [obj["Key"][strip:] for obj in page.get("Contents", [])]
            return keys

        return sorted(self._call("list", prefix or "(all)", run))

    def versions(self, key: str) -> Versions:
        """Every version and delete marker stored under exactly this key (for shredding and its tests)."""
        full = self._k(key)

        def run() -> Versions:
            out = []
            paginator = self.client.get_paginator("list_object_versions")
            for page in paginator.paginate(Bucket=self.options.bucket, Prefix=full):
                for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                    if item["Key"] == full:
                        out.append(item)
            return out

        return self._call("list versions of", key, run)

    def delete(self, key: str) -> None:
        """Delete every version and delete marker; check that nothing is left."""
        full = self._k(key)
        for item in self.versions(key):
            version = item["VersionId"]
            self._call(
                "delete",
                key,
                partial(self.client.delete_object, Bucket=self.options.bucket, Key=full, VersionId=version),
            )
        if self.exists(key):  # an unversioned bucket, or a service without version ids
            self._call("delete", key, lambda: self.client.delete_object(Bucket=self.options.bucket, Key=full))
        left = [v for v in self.versions(key) if v.get("VersionId") not in (None, "null")]
        if left or self.exists(key):
            raise StorageError(
                f"object {key}: {len(left)} version(s) could not be deleted",
                hint="the bucket may hold them under retention; delete them with the service's admin tools",
            )

    def _bucket_exists(self) -> bool:
        try:
            self._call("head bucket", None, lambda: self.client.head_bucket(Bucket=self.options.bucket))
        except ObjectMissing:
            return False
        except StorageError as exc:
            if isinstance(exc, StorageUnavailable) or "does not exist" not in exc.message:
                raise
            return False
        return True

    def _create_bucket(self) -> None:
        bucket = self.options.bucket
        args: dict[str, Any] = {"Bucket": bucket}
        if self.client.meta.region_name not in (None, "us-east-1") and not self.options.endpoint:
            args["CreateBucketConfiguration"] = {"LocationConstraint": self.client.meta.region_name}
        if self.options.lock_days > 0:
            try:
                locked = args | {"ObjectLockEnabledForBucket": True}
                self._call("create bucket", None, lambda: self.client.create_bucket(**locked))
                return
            except StorageUnavailable:
                raise
            except StorageError:
                pass  # a service without Object Lock: a plain versioned bucket
        self._call("create bucket", None, lambda: self.client.create_bucket(**args))

    def ensure(self) -> StrList:
        """Create the bucket (with Object Lock when lock_days > 0), turn versioning on; lines saying what."""
        lines = []
        bucket = self.options.bucket
        if self._bucket_exists():
            lines.append(f"store: kept {self.describe()}")
        else:
            self._create_bucket()
            lines.append(f"store: created {self.describe()}")
        status = self._call("versioning", None, lambda: self.client.get_bucket_versioning(Bucket=bucket))
        if status.get("Status") != "Enabled":
            self._call(
                "versioning",
                None,
                lambda: self.client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}),
            )
            lines.append("store: versioning turned on")
        else:
            lines.append("store: versioning on")
        self._lock_enabled = None
        if self.options.lock_days and self.lock_enabled():
            lines.append(f"store: Object Lock on; archived packets kept {self.options.lock_days} days (COMPLIANCE)")
        elif self.options.lock_days:
            lines.append("store: Object Lock not available on this bucket; integrity rests on the audit log")
        if self.options.sse == "c":
            path = self.options.sse_c_key_file
            assert path is not None
            from storage.keys import write_private_file

            if write_private_file(path, base64.b64encode(os.urandom(32)).decode() + "\n"):
                lines.append(f"store: SSE-C key created at {path} (mode 0600; back it up)")
            lines.append("store: SSE-C on (an extra layer; objects are age-encrypted anyway)")
        elif self.options.sse == "s3":
            lines.append("store: SSE-S3 on (an extra layer; objects are age-encrypted anyway)")
        return lines


class _Conflict(Exception):
    """A conditional write lost (412) or collided (409)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
