"""packet.pdf as PDF/A-2b and PAdES-signed with the organisation's certificate, reproducibly."""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pikepdf
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from core.errors import ConfigError
from core.office import Office, Signing, load_office
from packets import LetterConverter, build_packet, read_bag_zip
from packets.signing import load_signer, signing_time
from tests.fixtures_packets import inputs_for, make_case, text_pdf


def _certificate(folder: Path, passphrase: bytes = b"s3cret") -> tuple[Path, Path]:
    """A self-signed RSA certificate for a fictional NGO, as PKCS#12 plus the PEM certificate."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, "Exemple Libertés"), x509.NameAttribute(NameOID.COUNTRY_NAME, "FR")]
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(20261201)
        .not_valid_before(start)
        .not_valid_after(start + timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    p12 = folder / "office.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"office", key, cert, None, serialization.BestAvailableEncryption(passphrase)
        )
    )
    pem = folder / "office.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return p12, pem


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return _certificate(tmp_path_factory.mktemp("cert"))


def _office(p12: Path) -> Office:
    return Office(
        name="Exemple Libertés",
        address=("1 rue de l'Exemple", "75000 Paris"),
        signatory="Marie Exemple",
        role="Présidente",
        signing=Signing(pkcs12=p12, passphrase=b"s3cret"),
    )


def _case():
    entries = [
        {"id": "ev-id", "kind": "identity.internal_passport", "file": "evidence/id.pdf", "language": "fr"},
        {"id": "ev-mil", "kind": "military.id_card", "file": "evidence/mil.pdf", "language": "fr"},
    ]
    return make_case(entries), {"ev-id": text_pdf("ev-id", pages=2), "ev-mil": text_pdf("ev-mil")}


def _validate(pdf: bytes, pem: Path):
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(pem))], allow_fetching=False)
    reader = PdfFileReader(io.BytesIO(pdf))
    assert len(reader.embedded_signatures) == 1
    return validate_pdf_signature(reader.embedded_signatures[0], context)


@pytest.fixture(scope="module")
def signed(certificate: tuple[Path, Path], letter_converter: LetterConverter):
    p12, _ = certificate
    case, files = _case()
    inputs = inputs_for(case, files, office=_office(p12))
    return inputs, build_packet(inputs, converter=letter_converter)


def test_signed_packet_verifies_with_pyhankos_validator(signed, certificate: tuple[Path, Path]) -> None:
    _, packet = signed
    status = _validate(packet.packet_pdf, certificate[1])
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.signer_reported_dt == signing_time(datetime(2026, 12, 15).date())  # from the inputs, not the clock
    assert "Exemple Libertés" in packet.manifest["bundle"]["signed_by"]


def test_signature_survives_the_bag_and_a_changed_byte_breaks_it(signed, certificate: tuple[Path, Path]) -> None:
    _, packet = signed
    _, files = read_bag_zip(packet.bag_zip)
    assert files["packet.pdf"] == packet.packet_pdf
    assert _validate(files["packet.pdf"], certificate[1]).intact
    tampered = bytearray(packet.packet_pdf)
    at = tampered.index(b"Exemple") if b"Exemple" in tampered else 200
    tampered[at] ^= 0x01
    assert not _validate(bytes(tampered), certificate[1]).intact


def test_signed_builds_are_byte_identical(signed, letter_converter: LetterConverter) -> None:
    inputs, packet = signed
    again = build_packet(inputs, converter=letter_converter)
    assert again.bag_zip == packet.bag_zip and again.packet_id == packet.packet_id


def test_the_certificate_is_an_input_of_the_packet_id(
    signed, tmp_path: Path, letter_converter: LetterConverter
) -> None:
    inputs, packet = signed
    other_p12, _ = _certificate(tmp_path)
    from dataclasses import replace

    from packets import packet_id_for

    assert packet_id_for(replace(inputs, office=_office(other_p12))) != packet.packet_id
    assert packet_id_for(replace(inputs, sign=False)) != packet.packet_id


def test_packet_pdf_is_marked_pdfa_2b_and_passes_qpdf_check(signed, tmp_path: Path) -> None:
    _, packet = signed
    with pikepdf.open(io.BytesIO(packet.packet_pdf)) as pdf:
        meta = pdf.open_metadata()
        assert (meta.get("pdfaid:part"), meta.get("pdfaid:conformance")) == ("2", "B")
        assert "/Filter" not in pdf.Root.Metadata  # XMP stays readable by archival tools
        intent = pdf.Root.OutputIntents[0]
        assert intent.S == pikepdf.Name.GTS_PDFA1
        assert intent.OutputConditionIdentifier == "sRGB IEC61966-2.1"
        icc = intent.DestOutputProfile.read_bytes()
        assert icc[36:40] == b"acsp" and icc[16:20] == b"RGB "
        assert str(pdf.docinfo.Title) == meta.get("dc:title")
        for page in pdf.pages:
            for annot in page.obj.get("/Annots", []):
                if annot.get("/Subtype") == pikepdf.Name.Link:
                    assert int(annot.F) & 4, "link annotations must print (PDF/A)"
    qpdf = shutil.which("qpdf")
    assert qpdf, "qpdf is a system dependency (tools/ensure-system-deps)"
    target = tmp_path / "packet.pdf"
    target.write_bytes(packet.packet_pdf)
    result = subprocess.run([qpdf, "--check", str(target)], capture_output=True, check=False)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert b"No syntax or stream encoding errors" in result.stdout


def test_unsigned_packet_is_still_pdfa(letter_converter: LetterConverter) -> None:
    case, files = _case()
    packet = build_packet(inputs_for(case, files, office=Office(name="Exemple Libertés")), converter=letter_converter)
    with pikepdf.open(io.BytesIO(packet.packet_pdf)) as pdf:
        assert pdf.open_metadata().get("pdfaid:part") == "2"
        assert "/AcroForm" not in pdf.Root
    assert packet.manifest["bundle"]["signed_by"] is None


def test_office_toml_points_at_the_certificate(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    p12, _ = certificate
    shutil.copy(p12, tmp_path / "office.p12")
    (tmp_path / "office.pass").write_text("s3cret\n")
    (tmp_path / "office.toml").write_text(
        '[office]\nname = "Exemple Libertés"\n\n[signing]\npkcs12 = "office.p12"\npassphrase_file = "office.pass"\n'
    )
    office = load_office(tmp_path)
    assert office.signing is not None
    assert load_signer(office.signing).signing_cert is not None
    (tmp_path / "office.pass").write_text("wrong\n")
    with pytest.raises((ConfigError, ValueError)):
        load_signer(load_office(tmp_path).signing)  # type: ignore[arg-type]


def test_signature_survives_archiving_and_packet_get(
    home: Path, example_case, tmp_path: Path, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Build through the pipeline (office.toml names the certificate), archive encrypted, `packet get`, verify.

    The flow's steps are called as plain functions (Prefect adds nothing to what is signed or stored).
    """
    from workflows import cases
    from workflows.office import init
    from workflows.pipeline import assemble, evaluate_case

    p12, pem = certificate
    init()
    shutil.copy(p12, home / "office.p12")
    (home / "office.toml").write_text(
        '[office]\nname = "Exemple Libertés"\nsignatory = "Marie Exemple"\n\n'
        '[signing]\npkcs12 = "office.p12"\npassphrase_env = "TEST_OFFICE_PASSPHRASE"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("TEST_OFFICE_PASSPHRASE", "s3cret")
    case_id = cases.import_folder(example_case("fr-asylum-visa-couple")).case_id
    vault = cases.vault()
    loaded = vault.load_case(case_id)
    on = datetime(2026, 12, 15).date()
    built = assemble(loaded, evaluate_case(loaded, on), actor="test-caseworker", today=on)
    vault.archive_packet(case_id, built.packet_id, built.bag_zip, "test-caseworker")
    cases.fetch_packet(built.packet_id, tmp_path / "got")
    fetched = (tmp_path / "got" / built.packet_id / "data" / "packet.pdf").read_bytes()
    assert fetched == built.packet_pdf
    status = _validate(fetched, pem)
    assert status.intact and status.valid and status.trusted
