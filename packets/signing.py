"""PAdES signature of packet.pdf with the organisation's certificate, reproducible from the inputs.

The signature is an incremental update (the signed bytes are the unsigned bundle), PAdES baseline
(ETSI.CAdES.detached), invisible, SHA-256. Everything pyhanko would take from the clock or from
randomness is fixed from the build: the signing time is the build's day (the checklist's evaluation
date) at 00:00 UTC, the second file identifier is derived from the signed bytes, and the document's
dates and XMP (PDF/A identification) are left as the bundle wrote them. With an RSA key the signature
value itself is deterministic (PKCS#1 v1.5), so the same inputs give the same signed bytes.
"""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, date, datetime
from typing import Any

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

from core.errors import ConfigError
from core.office import Office, Signing

FIELD_NAME = "Signature-Organisation"


class _FixedIdWriter(IncrementalPdfFileWriter):
    """An incremental writer that takes no input from the clock or from os.urandom."""

    @classmethod
    def _handle_id(cls, prev: Any) -> generic.ArrayObject:
        id1 = prev.trailer["/ID"][0] if "/ID" in prev.trailer else None
        seed = hashlib.sha256(b"dossier-signed:" + bytes(id1.original_bytes if id1 is not None else b"")).digest()
        first = generic.ByteStringObject(id1.original_bytes) if id1 is not None else generic.ByteStringObject(seed[:16])
        return generic.ArrayObject([first, generic.ByteStringObject(seed[16:])])

    def _update_meta(self) -> None:  # keep the bundle's dates and its PDF/A XMP as they are
        return None


class _FixedTimeSigner(signers.PdfSigner):
    """A PdfSigner whose signing time is given, not read from the clock."""

    def __init__(self, *args: Any, system_time: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._system_time = system_time

    def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> Any:
        session = super().init_signing_session(pdf_out, existing_fields_only=existing_fields_only)
        session.system_time = self._system_time
        return session


def load_signer(signing: Signing) -> signers.SimpleSigner:
    """The organisation's key and certificate from its PKCS#12 file; a clear error when it cannot be read."""
    signer = signers.SimpleSigner.load_pkcs12(str(signing.pkcs12), passphrase=signing.passphrase)
    if signer is None:
        raise ConfigError(
            f"signing: cannot read the PKCS#12 file {signing.pkcs12.name} (wrong passphrase or not PKCS#12)",
            hint="check [signing] pkcs12 and passphrase_file/passphrase_env in DOSSIER_HOME/office.toml",
        )
    return signer


def signing_time(day: date | None) -> datetime:
    """The signing time a build records: its day at 00:00 UTC (never the wall clock)."""
    d = day or date(1980, 1, 1)
    return datetime(d.year, d.month, d.day, tzinfo=UTC)


def sign_pdf(
    pdf: bytes, signing: Signing, *, day: date | None, reason: str, office: Office | None = None
) -> tuple[bytes, str]:
    """pdf signed (PAdES, invisible) with the office's certificate; returns the bytes and the signer's subject."""
    signer = load_signer(signing)
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        reason=reason,
        name=office.name if office is not None and office.configured else None,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
    )
    writer = _FixedIdWriter(io.BytesIO(pdf))
    pdf_signer = _FixedTimeSigner(
        meta,
        signer,
        system_time=signing_time(day),
        new_field_spec=fields.SigFieldSpec(sig_field_name=FIELD_NAME),
    )
    out = io.BytesIO()
    pdf_signer.sign_pdf(writer, output=out)
    assert signer.signing_cert is not None
    return out.getvalue(), signer.signing_cert.subject.human_friendly
