"""A small office's own S3 store: SeaweedFS on loopback with credentials generated once and kept.

`dossier storage serve` runs this. Credentials live in the server's folder (mode 0600) so that
restarts keep them; the same folder holds an env file to `source` in the caseworkers' shells.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError
from storage.keys import write_private_file
from storage.seaweed import S3Identity, SeaweedServer, start_seaweed

__all__ = ["OfficeStore", "load_or_create_identities", "start_office_store"]

BUCKET = "dossier"


def load_or_create_identities(data_dir: Path) -> list[S3Identity]:
    """The office's (read-write) and the auditor's (read-only) S3 users, created on first use."""
    path = data_dir / "s3-identities.json"
    if path.exists():
        try:
            doc = json.loads(path.read_text())
            out = []
            for ident in doc["identities"]:
                cred = ident["credentials"][0]
                out.append(S3Identity(ident["name"], cred["accessKey"], cred["secretKey"], tuple(ident["actions"])))
        except (ValueError, KeyError, IndexError, TypeError):
            raise ConfigError(
                f"{path}: not a SeaweedFS identity file", hint="move it away to generate new ones"
            ) from None
        return out
    return [S3Identity.generate("office"), S3Identity.generate("auditor", read_only=True)]


@dataclass
class OfficeStore:
    """The running office store and what to tell its users."""

    server: SeaweedServer
    bucket: str
    env_file: Path

    @property
    def store_url(self) -> str:
        return self.server.store_url(self.bucket)

    def env(self, *, auditor: bool = False) -> dict[str, str]:
        """The environment a caseworker (or, read-only, an auditor) sets to use this store."""
        ident = self.server.identities[1 if auditor else 0]
        return {"DOSSIER_STORE": self.store_url, **ident.env(), "AWS_DEFAULT_REGION": "us-east-1"}

    def lines(self) -> list[str]:
        """What `dossier storage serve` prints."""
        out = [
            f"SeaweedFS S3 on {self.server.endpoint} (loopback only), data in {self.server.data_dir}",
            f"PID {self.server.pid}; stop with Ctrl-C",
            "",
            "Caseworkers (read-write): set these, then run `dossier init` once:",
        ]
        out += [f"  export {k}={shlex.quote(v)}" for k, v in self.env().items()]
        out += ["", "Auditor (read-only: can run `dossier audit verify`, cannot write):"]
        out += [f"  export {k}={shlex.quote(v)}" for k, v in self.env(auditor=True).items()]
        out += ["", f"Or: source {self.env_file}", f"DOSSIER_STORE={self.store_url}"]
        return out


def start_office_store(data_dir: Path, *, port: int = 8333, bucket: str = BUCKET) -> OfficeStore:
    """Start SeaweedFS for the office on 127.0.0.1:port, create the bucket (versioned, Object Lock)."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    identities = load_or_create_identities(data_dir)
    server = start_seaweed(data_dir, identities=identities, s3_port=port)
    try:
        env = {"DOSSIER_STORE": server.store_url(bucket), **identities[0].env()}
        lines = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
        env_file = data_dir / "dossier-s3.env"
        env_file.unlink(missing_ok=True)
        write_private_file(env_file, "# source this file to use the office store\n" + lines)
        from storage.s3store import S3Options, S3Store

        office = identities[0]
        S3Store(S3Options.parse(server.store_url(bucket)), credentials=(office.access_key, office.secret_key)).ensure()
    except BaseException:
        server.stop(grace=5)
        raise
    return OfficeStore(server, bucket, env_file)
