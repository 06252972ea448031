"""Scans made usable: OCRmyPDF + Tesseract text layers, upright photos, passport zones read and checked."""

from __future__ import annotations

import io
import os
from datetime import date
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from casefile.model import Evidence
from packets.mrz import check_digit, find_zone
from packets.preflight import check_evidence
from packets.scans import make_searchable, read_zone, upright_image
from packets.scratch import scratch_bases
from storage import Vault
from tests.fixtures_packets import jpeg, scanned_pdf
from workflows import cases, intake

ICAO_TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10\n"
ICAO_TD1 = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<\n"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"


def _td3(family: str, given: str, number: str, birth: str, sex: str, expiry: str) -> tuple[str, str]:
    l1 = f"P<RUS{family}<<{given}".ljust(44, "<")
    num = number.ljust(9, "<")
    l2 = f"{num}{check_digit(num)}RUS{birth}{check_digit(birth)}{sex}{expiry}{check_digit(expiry)}" + "<" * 15
    return l1, l2 + str(check_digit(l2[0:10] + l2[13:20] + l2[21:43]))


def passport_photo(family: str = "ZORIN", given: str = "ANTON") -> bytes:
    """A phone photo of a fictional passport page: a heading and a two-line zone in a monospace font."""
    l1, l2 = _td3(family, given, "751234567", "940621", "M", "310105")
    font = ImageFont.truetype(FONT, 36)
    im = Image.new("RGB", (1400, 500), "white")
    draw = ImageDraw.Draw(im)
    draw.text((40, 60), "PASSPORT  SPECIMEN", font=font, fill="black")
    draw.text((40, 300), l1, font=font, fill="black")
    draw.text((40, 360), l2, font=font, fill="black")
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


def test_icao_specimen_zones_are_read_and_a_wrong_check_digit_is_refused() -> None:
    td3 = find_zone(ICAO_TD3, date(2010, 1, 1))
    assert td3 is not None
    assert (td3.family_name, td3.given_name, td3.birth_date, td3.sex, td3.expires) == (
        "Eriksson", "Anna Maria", "1974-08-12", "F", "2012-04-15",
    )  # fmt: skip
    td1 = find_zone(ICAO_TD1, date(2010, 1, 1))
    assert td1 is not None and td1.document_number == "D23145890" and td1.birth_date == "1974-08-12"
    assert find_zone(ICAO_TD3.replace("7408122", "7408132"), date(2010, 1, 1)) is None
    misread = ICAO_TD3.replace("7408122F", "74O8122F").replace("<<<<<<<<<<<<<<<<<<<\n", "<<<\n", 1)
    fixed = find_zone(misread, date(2010, 1, 1))  # O read for 0 in a date, a shortened filler run
    assert fixed is not None and fixed.birth_date == "1974-08-12"


def test_a_scan_gets_a_text_layer_and_no_working_file_survives() -> None:
    original = scanned_pdf("Evidence id TEXTLAYER")
    probe = Evidence(id="ev-scan", kind="statement.personal", person="applicant", file="scan.pdf")
    before = check_evidence(probe, original, 10**8).pdf
    assert before is not None and before.pages_with_text == 0
    mine = f"dossier-lo-{os.getpid()}-*"  # this process's scratch folders (a letter converter may hold one)
    folders = {p for base in scratch_bases() for p in base.glob(mine)}
    done = make_searchable(original)
    after = check_evidence(probe, done.pdf, 10**8)
    assert after.problems == [] and after.pdf is not None and after.pdf.pages_with_text == 1
    assert "TEXTLAYER" in done.text and done.pages == 1
    assert {p for base in scratch_bases() for p in base.glob(mine)} <= folders


def test_a_sideways_phone_photo_is_turned_upright() -> None:
    sideways = jpeg("photo", size=(600, 800), orientation=6)
    with Image.open(io.BytesIO(upright_image(sideways))) as im:
        assert im.size == (800, 600) and "exif" not in im.info


def test_the_zone_of_a_passport_photo_is_read() -> None:
    zone = read_zone(passport_photo())
    assert zone is not None
    assert zone.form_values() == {
        "applicant.family_name": "Zorin",
        "applicant.given_name": "Anton",
        "applicant.birth_date": "1994-06-21",
        "applicant.sex": "M",
        "applicant.citizenship": "RU",
    }
    assert zone.expires == "2031-01-05"


@pytest.fixture
def case_id(home: Path) -> str:
    Vault.from_env().init()
    mapping, errors = intake.read_form({
        "country": "fr", "procedure": "asylum-visa", "applicant.given_name": "Anton",
        "applicant.family_name": "Sorin", "applicant.family_name_native": "Зорин",
        "applicant.birth_date": "1994-06-21", "applicant.citizenship": "RU",
    })  # fmt: skip
    assert errors == {}
    return intake.create_case(mapping, "alice").case_id


def test_an_uploaded_passport_warns_of_a_typed_name_that_differs_and_offers_its_values(case_id: str) -> None:
    added = intake.add_evidence(
        case_id, kind="identity.international_passport", person="applicant", file_name="p.png", data=passport_photo()
    )
    assert added.zone is not None and added.zone["applicant.family_name"] == "Zorin"
    assert added.zone_warnings == (
        f"applicant: the family name typed differs from the machine-readable zone of evidence {added.evidence_id}; "
        "check it against the document",
    )
    intake.apply_identity(case_id, added.zone, "alice")
    assert cases.open_case(case_id).case.applicant.family_name == "Zorin"


def test_ocr_at_upload_stores_a_searchable_version_and_keeps_the_original(case_id: str) -> None:
    original = scanned_pdf("Evidence id KEEPME")
    added = intake.add_evidence(
        case_id, kind="statement.personal", person="applicant", file_name="s.pdf", data=original, ocr=True
    )
    assert added.ocr_seconds is not None and added.ocr_pages == 1 and added.ocr_problem == ""
    loaded = cases.load_ref(case_id)
    stored = loaded.files[added.evidence_id]
    probe = Evidence(id="x", kind="statement.personal", person="applicant", file="x.pdf")
    report = check_evidence(probe, stored, 10**8).pdf
    assert report is not None and report.pages_with_text == 1
    versions = intake.history(case_id)
    assert versions[0].changed == (f"evidence {added.evidence_id} file replaced",)
    assert versions[1].changed == (f"evidence {added.evidence_id} added",)  # the original, kept in version 2
    stored_blobs = [e for e in cases.vault().audit.entries(case_id) if e["action"] == "store-evidence"]
    assert len(stored_blobs) == 2  # the original scan and its searchable copy, each hashed in the audit log
    warnings = cases.check(case_id, date(2026, 12, 3)).warnings
    assert not any(added.evidence_id in w and "text layer" in w for w in warnings)
