"""Zipped case folders in memory: the same checks as a folder on disk, and an export that imports back."""

from __future__ import annotations

import io
import stat
import zipfile

import pytest

import casefile.archive
import country_rules
from casefile import LoadedCase
from casefile.archive import case_zip, load_case_zip
from core.errors import BadInput, CaseInvalid

KINDS = country_rules.known_kinds()


def _zip(entries: dict[str, bytes], *, links: tuple[str, ...] = ()) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            mode = stat.S_IFLNK | 0o777 if name in links else stat.S_IFREG | 0o644
            info.external_attr = mode << 16
            zf.writestr(info, data)
    return out.getvalue()


def _entries(loaded: LoadedCase) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(case_zip(loaded))) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def test_export_then_import_gives_the_same_case_and_files(loaded: LoadedCase) -> None:
    data = case_zip(loaded)
    assert case_zip(loaded) == data  # byte-identical: fixed times, sorted entries
    back = load_case_zip(data, KINDS)
    assert back.case.case_id == loaded.case.case_id
    assert back.case.data["applicant"] == loaded.case.data["applicant"]
    assert back.files == loaded.files


def test_a_zip_of_the_folder_itself_is_found_one_level_down(loaded: LoadedCase) -> None:
    nested = {f"my-case/{k}": v for k, v in _entries(loaded).items()}
    assert load_case_zip(_zip(nested), KINDS).files == loaded.files


def test_escaping_and_linked_entries_are_refused_by_name(loaded: LoadedCase) -> None:
    entries = _entries(loaded) | {"../outside.txt": b"x", "evidence/link.pdf": b"/etc/passwd"}
    with pytest.raises(CaseInvalid) as err:
        load_case_zip(_zip(entries, links=("evidence/link.pdf",)), KINDS)
    found = {p.where: p.what for p in err.value.problems}
    assert "leaves the case folder" in found["zip entry ../outside.txt"]
    assert "link" in found["zip entry evidence/link.pdf"]


def test_a_missing_evidence_file_is_named_with_its_id(loaded: LoadedCase) -> None:
    entries = _entries(loaded)
    first = loaded.case.evidence[0]
    del entries[first.file]
    with pytest.raises(CaseInvalid) as err:
        load_case_zip(_zip(entries), KINDS)
    assert [str(p) for p in err.value.problems] == [f"evidence[0].file (id {first.id}): file not found in the zip"]


def test_an_oversized_entry_is_refused(loaded: LoadedCase, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(casefile.archive, "MAX_EVIDENCE_BYTES", 1000)
    with pytest.raises(CaseInvalid) as err:
        load_case_zip(case_zip(loaded), KINDS)
    assert any("larger than" in p.what for p in err.value.problems)


def test_schema_errors_and_non_zips_are_bad_input(loaded: LoadedCase) -> None:
    entries = _entries(loaded)
    entries["case.yaml"] = entries["case.yaml"].replace(b"birth_date: '1998-03-14'", b"birth_date: 14.03.1998")
    with pytest.raises(CaseInvalid) as err:
        load_case_zip(_zip(entries), KINDS)
    assert {p.where for p in err.value.problems} == {"applicant.birth_date"}
    with pytest.raises(BadInput, match=r"not a zip"):
        load_case_zip(b"%PDF-1.7 not a zip", KINDS)
    with pytest.raises(BadInput, match=r"no case\.yaml"):
        load_case_zip(_zip({"a/x.txt": b"x", "b/y.txt": b"y"}), KINDS)
