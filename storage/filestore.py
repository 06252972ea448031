"""The embedded default backend: a folder on one machine, written atomically (temp file, fsync, rename)."""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
import shutil
from pathlib import Path
from typing import BinaryIO
from urllib.parse import unquote, urlsplit

from core.errors import ConfigError, StorageError, StorageUnavailable
from core.private import make_private_dir
from storage.base import ObjectMissing, check_key

StrList = list[str]  # (a name: the classes below define a method called `list`)

__all__ = ["FileStore"]

_CHUNK = 1024 * 1024
_TMP_PREFIX = ".tmp-"


class FileStore:
    """Objects as files under one root folder (mode 0600, folders 0700); no versions are kept."""

    parallel_reads = False

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = root.as_uri()
        self._root_text = os.fspath(root)

    @classmethod
    def from_url(cls, url: str) -> FileStore:
        """file:///absolute/path -> FileStore."""
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ConfigError(f"store URL {url!r}: a file store needs an absolute path, e.g. file:///var/lib/dossier")
        return cls(Path(unquote(parts.path)))

    def describe(self) -> str:
        return f"folder {self.root}"

    # --- helpers ------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def _tmp_for(self, path: Path) -> Path:
        if not path.parent.is_dir():
            make_private_dir(path.parent)
        return path.parent / f"{_TMP_PREFIX}{secrets.token_hex(8)}"

    def _write_tmp(self, path: Path, chunks: BinaryIO | bytes) -> tuple[Path, str]:
        """Write to a fresh temp file beside the target, fsync it, return (temp path, sha256)."""
        tmp: Path | None = None
        try:
            tmp = self._tmp_for(path)
            digest = hashlib.sha256()
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                if isinstance(chunks, bytes):
                    fh.write(chunks)
                    digest.update(chunks)
                else:
                    while block := chunks.read(_CHUNK):
                        fh.write(block)
                        digest.update(block)
                fh.flush()
                os.fsync(fh.fileno())
            return tmp, digest.hexdigest()
        except BaseException as exc:
            if tmp is not None:
                tmp.unlink(missing_ok=True)  # a failed write (or a source failing half-way) keeps nothing
            if not isinstance(exc, OSError):
                raise
            raise self._write_error(exc) from None

    def _write_error(self, exc: OSError) -> StorageError:
        """A clear, final error for a write the folder refused; only a transient failure may be retried."""
        if isinstance(exc, PermissionError) or exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return StorageError(
                f"store folder {self.root} is not writable ({exc.strerror}): nothing was changed",
                hint="check DOSSIER_STORE and the folder's permissions (or mount), then run the command again",
            )
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return StorageError(
                f"store folder {self.root} is full ({exc.strerror}): nothing was changed",
                hint="free disk space, then run the same command again",
            )
        return StorageUnavailable(f"store folder {self.root}: write failed ({exc.strerror})")

    def require_root(self) -> None:
        """Refuse a store folder that does not exist: a mistyped DOSSIER_STORE must not look like an empty store."""
        if not self.root.is_dir():
            raise ConfigError(
                f"store folder {self.root} does not exist",
                hint="check DOSSIER_STORE (or DOSSIER_HOME); run `dossier init` to create a new store there",
            )

    @staticmethod
    def _sync_dir(folder: Path) -> None:
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _commit(self, tmp: Path, path: Path, if_absent: bool) -> bool:
        try:
            return self._link(tmp, path, if_absent)
        except FileExistsError:
            raise
        except OSError as exc:
            raise self._write_error(exc) from None

    def _link(self, tmp: Path, path: Path, if_absent: bool) -> bool:
        try:
            if if_absent:
                try:
                    os.link(tmp, path)  # atomic, fails when the name exists: no overwrite race
                except FileExistsError:
                    return False
                finally:
                    tmp.unlink(missing_ok=True)
            else:
                os.replace(tmp, path)
            self._sync_dir(path.parent)
            return True
        finally:
            tmp.unlink(missing_ok=True)

    # --- the ObjectStore contract -------------------------------------------------------

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        tmp, _ = self._write_tmp(path, data)
        self._commit(tmp, path, if_absent=False)

    def put_if_absent(self, key: str, data: bytes) -> bool:
        path = self._path(key)
        if path.exists():
            return False
        tmp, _ = self._write_tmp(path, data)
        return self._commit(tmp, path, if_absent=True)

    def put_stream(self, key: str, src: BinaryIO, *, if_absent: bool = False) -> str | None:
        path = self._path(key)
        if if_absent and path.exists():
            return None
        tmp, digest = self._write_tmp(path, src)
        return digest if self._commit(tmp, path, if_absent=if_absent) else None

    def get(self, key: str) -> bytes:
        try:
            # A plain string path: this is the hot loop of `audit verify` (100,000 small reads).
            with open(os.path.join(self._root_text, check_key(key)), "rb") as fh:
                return fh.read()
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectMissing(key) from None

    def get_stream(self, key: str, dst: BinaryIO) -> None:
        try:
            with self._path(key).open("rb") as fh:
                shutil.copyfileobj(fh, dst, _CHUNK)
        except (FileNotFoundError, NotADirectoryError):
            raise ObjectMissing(key) from None

    def sha256(self, key: str) -> str | None:
        try:
            with self._path(key).open("rb") as fh:
                return hashlib.file_digest(fh, "sha256").hexdigest()
        except (FileNotFoundError, NotADirectoryError):
            return None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> StrList:
        # Walk only the deepest folder the prefix names, then filter by the rest of it.
        head, _, _ = prefix.rpartition("/")
        base = self.root.joinpath(*head.split("/")) if head else self.root
        if not base.is_dir():
            return []
        keys = []
        for dirpath, _dirs, files in os.walk(base):
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in files:
                if name.startswith(_TMP_PREFIX):
                    continue
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        self._sync_dir(path.parent)

    def ensure(self) -> StrList:
        """Create the root folder (0700); lines saying what was done."""
        existed = self.root.is_dir()
        make_private_dir(self.root)
        return [f"store: {'kept' if existed else 'created'} folder {self.root}"]
