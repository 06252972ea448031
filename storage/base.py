"""The object store contract every backend honours, and the one function that picks a backend from a URL."""

from __future__ import annotations

import re
from typing import BinaryIO, Protocol, runtime_checkable
from urllib.parse import urlsplit

from core.errors import ConfigError, StorageError

StrList = list[str]  # (a name: the classes below define a method called `list`)

__all__ = ["ObjectMissing", "ObjectStore", "check_key", "open_store"]

# StrList are opaque ids joined by "/": letters, digits, dot, dash, underscore; never "..", never absolute.
_SEGMENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")


class ObjectMissing(StorageError):
    """The object store has no object under this key (a StorageError: exit 1 unless the caller knows better)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"object {key} is not in the store", hint="run `dossier audit verify` to see what is missing")
        self.key = key


def check_key(key: str) -> str:
    """Refuse keys that could escape a folder or hide a name (only simple opaque segments)."""
    parts = key.split("/")
    if not key or any(not _SEGMENT.match(p) for p in parts):
        raise StorageError(f"invalid object key {key!r}: only A-Z a-z 0-9 . _ - segments joined by '/'")
    return key


@runtime_checkable
class ObjectStore(Protocol):
    """Durable bytes under opaque keys. Writes are all-or-nothing; readers never see half an object."""

    url: str
    # True when reads are network round trips worth overlapping (S3); a local folder reads faster in one thread.
    parallel_reads: bool

    def put(self, key: str, data: bytes) -> None:
        """Store (or replace) the object atomically."""
        ...

    def put_if_absent(self, key: str, data: bytes) -> bool:
        """Store the object only when the key is free; False when it already exists (no overwrite)."""
        ...

    def put_stream(self, key: str, src: BinaryIO, *, if_absent: bool = False) -> str | None:
        """Store a large object from a file object with bounded memory; its sha256, or None if if_absent lost.

        The source is read once, in order, to its end (it need not be seekable).
        """
        ...

    def get(self, key: str) -> bytes:
        """The object's bytes; ObjectMissing naming the key when absent."""
        ...

    def get_stream(self, key: str, dst: BinaryIO) -> None:
        """Copy the object into a file object with bounded memory; ObjectMissing when absent."""
        ...

    def sha256(self, key: str) -> str | None:
        """SHA-256 of the stored bytes, streamed; None when the object is absent."""
        ...

    def exists(self, key: str) -> bool:
        """Whether an object is stored under the key."""
        ...

    def list(self, prefix: str) -> StrList:
        """Every key starting with prefix, sorted."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object and every older version of it (crypto-shredding needs all versions gone)."""
        ...

    def describe(self) -> str:
        """One line for humans: where the objects live (no credentials)."""
        ...

    def ensure(self) -> StrList:
        """Create the folder or bucket if missing (idempotent); lines saying what was done."""
        ...


def open_store(url: str, **options: object) -> ObjectStore:
    """Open the backend named by a URL: file:///path or s3://bucket[/prefix]?endpoint=http://host:port."""
    scheme = urlsplit(url).scheme
    if scheme == "file":
        from storage.filestore import FileStore

        return FileStore.from_url(url)
    if scheme == "s3":
        from storage.s3store import S3Store

        return S3Store.from_url(url, **options)
    raise ConfigError(
        f"store URL {url!r}: unknown scheme {scheme or '(none)'!r}",
        hint="use file:///absolute/path or s3://bucket?endpoint=http://127.0.0.1:8333 in DOSSIER_STORE",
    )
