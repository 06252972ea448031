"""Prefect settings that keep personal data out of its database, applied before Prefect is imported."""

from __future__ import annotations

import os

from core.settings import load_settings

# Defaults only: anything the operator set explicitly wins (PREFECT_HOME / PREFECT_API_URL are honoured).
_SAFE_DEFAULTS = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    # Results are never written to disk unless a task asks for it; ours never do (they hold case data).
    "PREFECT_RESULTS_PERSIST_BY_DEFAULT": "false",
    "PREFECT_TASKS_DISABLE_CACHING": "true",
    # Prefect's flow engine writes a FAILED flow run's exception to result storage whatever
    # persist_result says (FlowRunEngine.handle_exception: write_result=True): a pickle of the error,
    # whose message can name evidence, people or a mistyped path, in PREFECT_HOME/storage for good.
    # Result storage points where nothing can be created, so that write fails (Prefect logs one
    # id-only warning and keeps the Failed state in its database as before) and no file is left.
    "PREFECT_RESULTS_LOCAL_STORAGE_PATH": "/dev/null/dossier-keeps-no-prefect-results",
    # print() inside tasks is never forwarded to Prefect's log table.
    "PREFECT_LOGGING_LOG_PRINTS": "false",
    "PREFECT_LOGGING_LEVEL": "WARNING",
    # The CLI turns failures into one-line messages; Prefect's console handler would print tracebacks.
    # Runs and their (id-only) errors are still recorded in Prefect's database for the UI.
    "PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL": "CRITICAL",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_FLOW_RUNS_LEVEL": "CRITICAL",
    "PREFECT_LOGGING_HANDLERS_CONSOLE_TASK_RUNS_LEVEL": "CRITICAL",
    "PREFECT_CLI_COLORS": "false",
    # Fail fast instead of hanging minutes when a configured server is not there.
    "PREFECT_API_REQUEST_TIMEOUT": "60",
    # The in-process (ephemeral) server: Prefect gives it 20 s to start, which a busy 2-core machine
    # exceeds (measured 24-29 s at load 10): the build then fails although nothing is wrong.
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
}


def configure_prefect() -> None:
    """Point Prefect at DOSSIER_HOME/prefect unless PREFECT_HOME is set, and switch off data-keeping defaults."""
    settings = load_settings()
    os.environ.setdefault("PREFECT_HOME", str(settings.home / "prefect"))
    for key, value in _SAFE_DEFAULTS.items():
        os.environ.setdefault(key, value)


def prepare_prefect_home() -> str:
    """Safe defaults, then a migrated database for a new PREFECT_HOME; one line saying what was done."""
    from pathlib import Path

    from workflows.prefect_db import prepare

    configure_prefect()
    return prepare(Path(os.environ["PREFECT_HOME"]))
