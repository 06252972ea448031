"""Client-side encryption in the age format (pyrage), so an auditor can decrypt with the `age` tool alone."""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import threading
from collections.abc import Sequence
from typing import BinaryIO, Protocol

import pyrage
from pyrage import x25519
from pyrage.x25519 import Identity, Recipient

from core.errors import KeyMissing, StorageError

__all__ = [
    "EncryptingReader",
    "HashingReader",
    "HashingWriter",
    "Identity",
    "Recipient",
    "decrypt",
    "decrypt_stream",
    "encrypt",
    "encrypt_stream",
    "identity_file_text",
    "new_identity",
    "parse_identities",
    "parse_recipients",
]


class ByteSource(Protocol):
    """Anything with read(n) -> bytes: a file, a pipe, an in-memory buffer."""

    def read(self, size: int = -1, /) -> bytes: ...


def new_identity() -> Identity:
    """A fresh X25519 age identity (one per case; one per organisation key holder)."""
    return x25519.Identity.generate()


def identity_file_text(identity: Identity, comment: str) -> str:
    """The identity in age-keygen's file layout, readable by `age -d -i FILE`."""
    return f"# {comment}\n# public key: {identity.to_public()}\n{identity}\n"


def parse_identities(text: str, where: str) -> list[Identity]:
    """Every AGE-SECRET-KEY line of an identity file (comments and blank lines ignored)."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            out.append(x25519.Identity.from_str(line))
        except pyrage.IdentityError:
            raise KeyMissing(f"{where} line {n}: not an age identity (AGE-SECRET-KEY-...)") from None
    if not out:
        raise KeyMissing(f"{where}: holds no age identity")
    return out


def parse_recipients(text: str, where: str) -> list[Recipient]:
    """Every age1... recipient of a recipients file (one per line, '#' comments allowed)."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            out.append(x25519.Recipient.from_str(line))
        except pyrage.RecipientError:
            raise KeyMissing(f"{where} line {n}: not an age recipient (age1...)") from None
    if not out:
        raise KeyMissing(f"{where}: lists no recipient", hint="put at least the organisation's age1... key in it")
    return out


def encrypt(data: bytes, recipients: Sequence[Recipient]) -> bytes:
    """age-encrypt bytes to every recipient (any one of them can decrypt)."""
    return pyrage.encrypt(data, list(recipients))


def decrypt(data: bytes, identities: Sequence[Identity], what: str) -> bytes:
    """age-decrypt; KeyMissing naming `what` when no identity fits or the bytes are not age."""
    try:
        return pyrage.decrypt(data, list(identities))
    except pyrage.DecryptError as exc:
        raise KeyMissing(f"{what}: cannot be decrypted with the available key ({exc})") from None


class _Hashing(io.RawIOBase):
    """The SHA-256 and the byte count of everything that passed through a wrapper."""

    def __init__(self) -> None:
        super().__init__()
        self.digest = hashlib.sha256()
        self.size = 0

    def _passed(self, block: bytes) -> bytes:
        self.digest.update(block)
        self.size += len(block)
        return block


class HashingWriter(_Hashing):
    """Wraps a binary writer (None: discard) and hashes what passes through."""

    def __init__(self, raw: BinaryIO | None) -> None:
        super().__init__()
        self.raw = raw

    def writable(self) -> bool:
        return True

    def write(self, block: bytes) -> int:  # type: ignore[override]
        if self.raw is not None:
            self.raw.write(block)
        return len(self._passed(block))


class HashingReader(_Hashing):
    """Wraps a binary reader and hashes what is read through it (one pass for encrypt and hash)."""

    def __init__(self, raw: ByteSource) -> None:
        super().__init__()
        self.raw = raw

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._passed(self.raw.read(size))


class EncryptingReader(io.RawIOBase):
    """The age ciphertext of a source, encrypted by a background thread as it is read.

    Lets encryption overlap the upload instead of going through a temporary file first. Memory stays
    bounded (a pipe and a 1 MiB buffer). It never ends early: if encryption fails, the read that would
    have been the end raises instead, so a store never commits a cut-short object. The plaintext's
    sha256 and size are known once the reader is exhausted.
    """

    def __init__(self, src: ByteSource, recipients: Sequence[Recipient]) -> None:
        super().__init__()
        read_fd, write_fd = os.pipe()
        try:  # a 1 MiB pipe instead of 64 KiB: a quarter of the time goes to pipe hand-overs otherwise
            fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, 1024 * 1024)
        except OSError:
            pass  # above /proc/sys/fs/pipe-max-size for an unprivileged user: the default still works
        self._pipe = os.fdopen(read_fd, "rb", buffering=1024 * 1024)
        self.plain = HashingReader(src)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._produce, args=(write_fd, list(recipients)), daemon=True)
        self._thread.start()

    def _produce(self, write_fd: int, recipients: list[Recipient]) -> None:
        try:
            with os.fdopen(write_fd, "wb") as out:
                pyrage.encrypt_io(self.plain, out, recipients)
        except BaseException as exc:  # noqa: BLE001 - handed to the reading side, which raises it
            self._error = exc

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        block = self._pipe.read(size if size is not None and size >= 0 else -1)
        if size is None or size < 0 or len(block) < size:  # the end of the ciphertext: did it all go well?
            self._thread.join()
            if self._error is not None:
                raise StorageError(
                    f"encryption stopped before the end ({type(self._error).__name__}): nothing was stored",
                    hint="run the same command again",
                )
        return block

    def close(self) -> None:
        if not self.closed:
            self._pipe.close()  # a producer still writing gets a broken pipe and stops
            self._thread.join()
        super().close()


def encrypt_stream(src: BinaryIO, dst: BinaryIO, recipients: Sequence[Recipient]) -> None:
    """age-encrypt from one file object to another in 64 KiB chunks (bounded memory)."""
    pyrage.encrypt_io(src, dst, list(recipients))


def decrypt_stream(src: BinaryIO, dst: BinaryIO | HashingWriter, identities: Sequence[Identity], what: str) -> None:
    """age-decrypt between file objects with bounded memory; KeyMissing naming `what` on failure."""
    try:
        pyrage.decrypt_io(src, dst, list(identities))
    except pyrage.DecryptError as exc:
        raise KeyMissing(f"{what}: cannot be decrypted with the available key ({exc})") from None
