"""Running the case desk: uvicorn on loopback by default, proxy headers only when asked for."""

from __future__ import annotations

import logging
import logging.config
import os
import threading

__all__ = ["serve"]


def _warm() -> None:
    """Start Prefect's local server in the background, so the first build from a browser is not the slow one."""
    from workflows.desk import warm

    try:
        warm()
    except Exception as exc:  # noqa: BLE001 - a failed warm-up only makes the first build slower
        logging.getLogger("dossier.web").warning("Prefect warm-up failed (%s)", type(exc).__name__)
    finally:
        # Prefect's logging set-up takes over uvicorn's loggers (the access log would go silent): restore them.
        from uvicorn.config import LOGGING_CONFIG

        logging.config.dictConfig(LOGGING_CONFIG)
        logging.getLogger("dossier.web").disabled = False


def serve(host: str = "127.0.0.1", port: int = 8700, *, proxy_headers: bool = False, warm: bool = True) -> None:
    """Serve until interrupted; with proxy_headers, trust X-Forwarded-Proto/For from the local TLS proxy only."""
    import uvicorn

    from web.app import create_app
    from workflows.cases import vault

    vault()  # a missing or mistyped store is refused before the port opens
    # Importing Prefect configures logging (uvicorn's access log would go silent): done before uvicorn sets
    # up its own loggers, so no request of the warm-up seconds is missing from the server log.
    from workflows.prefect_env import configure_prefect

    configure_prefect()
    import prefect  # noqa: F401

    # Prefect's local server may take longer than its 20 s default to start on a busy 2-core machine;
    # a build waiting for it is better than a build failing (an operator's own setting wins).
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    if warm:
        threading.Thread(target=_warm, name="prefect-warm-up", daemon=True).start()
    uvicorn.run(
        create_app(),
        host=host,
        port=port,
        proxy_headers=proxy_headers,
        forwarded_allow_ips="127.0.0.1" if proxy_headers else None,
        server_header=False,
        log_level="info",
    )
