"""The case model: case.yaml schema, typed values, folder loading."""

from casefile.folder import LoadedCase, load_case_folder, validate_mapping
from casefile.model import APPLICANT, Case, Evidence, Person, case_from_mapping, new_case_id

__all__ = [
    "APPLICANT",
    "Case",
    "Evidence",
    "LoadedCase",
    "Person",
    "case_from_mapping",
    "load_case_folder",
    "new_case_id",
    "validate_mapping",
]
