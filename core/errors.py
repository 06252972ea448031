"""One error hierarchy: the CLI maps each family to an exit code and a one-line message.

Messages name the case id, the evidence id or the field path and say what to do.
They must never contain personal data (names, birth dates, document numbers):
they can end up in Prefect's database and logs.
"""

from __future__ import annotations

__all__ = [
    "AuditError",
    "BadInput",
    "CaseInvalid",
    "ConfigError",
    "DomainFailure",
    "DossierError",
    "EvidenceRejected",
    "FieldProblem",
    "KeyMissing",
    "NotFound",
    "NotReady",
    "RulesError",
    "StorageError",
    "StorageUnavailable",
    "remote_error",
]


class DossierError(Exception):
    """Base of every error the product raises on purpose."""

    exit_code = 1
    hint: str = ""
    # The message with free-form ids (evidence, person) replaced by positions, for Prefect and logs.
    redacted: str | None = None

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        if hint:
            self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def for_logs(self) -> DossierError:
        """The same error (same class and exit code) carrying its redacted message, if it has one."""
        if self.redacted is None:
            return self
        copy = DossierError.__new__(type(self))
        DossierError.__init__(copy, self.redacted, hint=self.hint)
        copy.exit_code = self.exit_code
        return copy


# --- exit code 2: the input is wrong -------------------------------------------------


class BadInput(DossierError):
    """The user gave something we cannot use; fixing the input fixes the error."""

    exit_code = 2


class FieldProblem:
    """One problem at one place in an input (a JSON path or an evidence id)."""

    def __init__(self, where: str, what: str) -> None:
        self.where = where
        self.what = what

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"

    def __repr__(self) -> str:
        return f"FieldProblem({self.where!r}, {self.what!r})"


class _ProblemList(BadInput):
    """Several problems found at once; the message lists each on its own line."""

    noun = "problem(s)"
    prefix = ""
    default_hint = ""

    def __init__(self, case_ref: str, problems: list[FieldProblem], *, hint: str = "") -> None:
        self.case_ref = case_ref
        self.problems = problems
        lines = "\n".join(f"  - {self.prefix}{p}" for p in problems)
        super().__init__(f"case {case_ref}: {len(problems)} {self.noun}:\n{lines}", hint=hint or self.default_hint)


class CaseInvalid(_ProblemList):
    """case.yaml (or the case folder) breaks the schema; every problem is listed."""

    noun = "problem(s) in the case folder"
    default_hint = "fix the listed fields in case.yaml and run the command again"


class EvidenceRejected(_ProblemList):
    """An evidence file cannot enter a packet; every rejected evidence id is listed."""

    noun = "evidence file(s) refused"
    prefix = "evidence "
    default_hint = "replace the named files with clean copies and run the command again"


class NotFound(BadInput):
    """A case, packet or file the user named does not exist."""


class ConfigError(BadInput):
    """DOSSIER_HOME / DOSSIER_STORE or the configuration is unusable."""


class RulesError(BadInput):
    """A rules file is malformed or names something that does not exist."""


# --- exit code 1: the input is fine, the domain says no --------------------------------


class DomainFailure(DossierError):
    """The request is well formed but the domain refuses it."""


class NotReady(DomainFailure):
    """The checklist is not met (or the case is blocked for review)."""


class AuditError(DomainFailure):
    """The audit chain or an archived object failed verification."""


class KeyMissing(DomainFailure):
    """A key needed to decrypt is gone (shredded, wrong identity)."""


class StorageError(DomainFailure):
    """The object store refused or lost an operation."""


class StorageUnavailable(StorageError):
    """The object store cannot be reached; retry later."""


_BY_NAME: dict[str, type[DossierError]] = {
    cls.__name__: cls
    for cls in (
        *(DossierError, BadInput, CaseInvalid, EvidenceRejected, NotFound, ConfigError, RulesError),
        *(DomainFailure, NotReady, AuditError, KeyMissing, StorageError, StorageUnavailable),
    )
}


def remote_error(message: str, where: str) -> DossierError:
    """The error a flow raised on a worker, rebuilt from its failure message ("...: NotReady: case ...").

    Prefect keeps the class name and text only (the text is the id-only one the flows raise); the
    class decides the exit code and whether a face retells it as a refusal.
    """
    found = [
        (at, name)
        for name in _BY_NAME
        if (at := message.find(f"{name}: ")) >= 0 and (at == 0 or message[at - 1] in " :")
    ]
    if found:
        at, name = min(found)
        error = DossierError.__new__(_BY_NAME[name])
        DossierError.__init__(error, message[at + len(name) + 2 :].strip())
        return error
    return DomainFailure(
        f"{where} failed on its worker: {message or 'no message'}",
        hint="see the run's log in the Prefect UI; building again is safe",
    )
