"""The file backend: atomic writes, no overwrite through put_if_absent, safe keys, URL handling."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from core.errors import ConfigError, StorageError
from storage import ObjectMissing, open_store
from storage.filestore import FileStore


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    s = open_store((tmp_path / "store").as_uri())
    assert isinstance(s, FileStore)
    s.ensure()
    return s


def test_put_get_list_delete(store: FileStore) -> None:
    store.put("cases/A/record/000001.age", b"one")
    store.put("cases/A/blobs/x.age", b"blob")
    store.put("audit/000000000001.json", b"{}")
    assert store.get("cases/A/record/000001.age") == b"one"
    assert store.list("cases/") == ["cases/A/blobs/x.age", "cases/A/record/000001.age"]
    assert store.list("cases/A/rec") == ["cases/A/record/000001.age"]
    assert store.list("nothing/") == []
    store.put("cases/A/record/000001.age", b"replaced")
    assert store.get("cases/A/record/000001.age") == b"replaced"
    store.delete("cases/A/record/000001.age")
    assert not store.exists("cases/A/record/000001.age")
    store.delete("cases/A/record/000001.age")  # idempotent
    with pytest.raises(ObjectMissing) as err:
        store.get("cases/A/record/000001.age")
    assert "cases/A/record/000001.age" in str(err.value)


def test_put_if_absent_never_overwrites(store: FileStore) -> None:
    assert store.put_if_absent("audit/000000000001.json", b"first") is True
    assert store.put_if_absent("audit/000000000001.json", b"second") is False
    assert store.get("audit/000000000001.json") == b"first"
    assert store.put_stream("packets/P/x.age", io.BytesIO(b"abc"), if_absent=True) is not None
    assert store.put_stream("packets/P/x.age", io.BytesIO(b"zzz"), if_absent=True) is None
    assert store.get("packets/P/x.age") == b"abc"


def test_files_are_private_and_no_temp_files_remain(store: FileStore) -> None:
    store.put("keys/A.age", b"k")
    store.put_if_absent("keys/B.age", b"k")
    store.put_if_absent("keys/B.age", b"again")
    path = store.root / "keys" / "A.age"
    assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in (store.root / "keys").iterdir()) == ["A.age", "B.age"]


def test_streamed_sha256_matches(store: FileStore) -> None:
    data = os.urandom(3 * 1024 * 1024 + 7)
    digest = store.put_stream("packets/P/big.age", io.BytesIO(data))
    import hashlib

    assert digest == hashlib.sha256(data).hexdigest() == store.sha256("packets/P/big.age")
    out = io.BytesIO()
    store.get_stream("packets/P/big.age", out)
    assert out.getvalue() == data
    assert store.sha256("packets/P/none.age") is None


@pytest.mark.parametrize("key", ["../escape", "/abs", "a//b", "a/../b", "a/b/", "", "name with space", "é"])
def test_unsafe_keys_are_refused(store: FileStore, key: str) -> None:
    with pytest.raises(StorageError):
        store.put(key, b"x")


@pytest.mark.parametrize("url", ["ftp://x/y", "file://host/path", "file:relative", "nothing", "s3://", "s3://AB"])
def test_bad_store_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError) as err:
        open_store(url)
    assert err.value.exit_code == 2


def test_s3_url_options_are_checked() -> None:
    with pytest.raises(ConfigError, match="unknown option"):
        open_store("s3://bucket-a?endpoint=http://127.0.0.1:1&colour=blue")
    with pytest.raises(ConfigError, match="sse"):
        open_store("s3://bucket-a?sse=c")
    with pytest.raises(ConfigError, match="endpoint"):
        open_store("s3://bucket-a?endpoint=127.0.0.1:8333")


class _FailingSource(io.RawIOBase):
    """A packet source whose disk gives out after `limit` bytes (the fault cannot be caused otherwise)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.left = limit

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            raise OSError(5, "Input/output error")
        n = min(self.left, size if size > 0 else self.left)
        self.left -= n
        return b"\x00" * n


def test_encryption_failing_half_way_stores_nothing(store: FileStore) -> None:
    from pyrage import x25519

    from storage.crypto import EncryptingReader

    recipient = x25519.Identity.generate().to_public()
    with pytest.raises(StorageError) as err, EncryptingReader(_FailingSource(3 * 1024 * 1024), [recipient]) as src:
        store.put_stream("packets/P-HALF/X.age", src)  # type: ignore[arg-type]
    assert "encryption stopped before the end" in str(err.value)
    assert not store.exists("packets/P-HALF/X.age")
    assert list((store.root / "packets" / "P-HALF").iterdir()) == []  # no temp file left behind


def test_encrypting_reader_gives_age_that_decrypts_and_hashes_both_sides(store: FileStore) -> None:
    import hashlib

    from pyrage import x25519

    from storage.crypto import EncryptingReader, decrypt

    identity = x25519.Identity.generate()
    plain = os.urandom(5 * 1024 * 1024 + 17)
    with EncryptingReader(io.BytesIO(plain), [identity.to_public()]) as src:
        digest = store.put_stream("packets/P-OK/X.age", src)  # type: ignore[arg-type]
        assert src.plain.digest.hexdigest() == hashlib.sha256(plain).hexdigest()
        assert src.plain.size == len(plain)
    stored = store.get("packets/P-OK/X.age")
    assert digest == hashlib.sha256(stored).hexdigest()
    assert decrypt(stored, [identity], "packet") == plain
