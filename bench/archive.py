"""archive_overhead: Vault.archive_packet of a 100 MB packet to SeaweedFS / plain boto3 put_object of the same bytes."""

from __future__ import annotations

import io
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import ACTOR, Context, child, clean_env, emit, load_folder
from bench.harness import Figure

BUCKET = "dossier-bench"


def measure(ctx: Context) -> list[Figure]:
    weed = ctx.seaweed()
    size_mb = 20 if ctx.quick else 100
    reps = 2 if ctx.quick else 3
    env = clean_env(**weed.admin.env(), AWS_DEFAULT_REGION="us-east-1")
    home = ctx.work / "archive" / "home"
    r = child(
        "archive",
        str(home),
        weed.store_url(BUCKET),
        weed.endpoint,
        str(size_mb),
        str(reps),
        str(ctx.case_folder()),
        env=env,
    )
    ours, base = min(r["ours"]), min(r["boto3"])
    ratio = ours / base
    parts = r["parts"]
    note = (
        f"{size_mb} MB random bytes, best of {reps}; ours encrypts (age, hashing plain and cipher bytes) while "
        f"uploading (boto3 upload_fileobj, 16 MB parts); apart: encrypt {parts['encrypt_and_hash_s']:.2f} s, "
        f"upload {parts['upload_s']:.2f} s"
    )
    return [
        Figure(
            "archive_overhead",
            ours,
            base,
            "s",
            "ratio <= 1.3",
            ratio <= 1.3,
            note,
            extra={"size_mb": size_mb, "runs_ours_s": r["ours"], "runs_boto3_s": r["boto3"], "parts_s": parts},
        )
    ]


def _child(argv: list[str]) -> None:
    import boto3
    from botocore.config import Config

    from core.settings import Settings
    from storage import Vault
    from storage.crypto import EncryptingReader

    home, url, endpoint, size_mb, reps, folder = (
        Path(argv[0]),
        argv[1],
        argv[2],
        int(argv[3]),
        int(argv[4]),
        Path(argv[5]),
    )
    vault = Vault(Settings(home=home, store_url=url, actor=ACTOR))
    vault.init()
    case_id = vault.import_case(load_folder(folder), ACTOR)
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
    )
    payload = os.urandom(size_mb * 1024 * 1024)
    client.put_object(Bucket=BUCKET, Key="bench-raw/warm", Body=b"x")  # connections and credentials warm
    vault.archive_packet(case_id, "P-BENCHWARMUP", b"warm-up packet", ACTOR)

    ours: list[float] = []
    base: list[float] = []
    tag = os.urandom(3).hex().upper()
    for i in range(reps):
        t = time.perf_counter()
        client.put_object(Bucket=BUCKET, Key=f"bench-raw/{tag}-{i}", Body=payload)
        base.append(time.perf_counter() - t)
        t = time.perf_counter()
        vault.archive_packet(case_id, f"P-BENCH{tag}{i:02d}", payload, ACTOR)
        ours.append(time.perf_counter() - t)

    # Where our time goes: the two steps apart (ours runs them side by side, encrypting while uploading).
    recipient = vault._case_key(case_id).to_public()
    t = time.perf_counter()
    with EncryptingReader(io.BytesIO(payload), [recipient]) as cipher:
        ciphertext = cipher.read()
    encrypt_s = time.perf_counter() - t
    t = time.perf_counter()
    vault.store.put_stream(f"bench/parts-{tag}.age", io.BytesIO(ciphertext))  # not an audited prefix
    upload_s = time.perf_counter() - t
    parts: dict[str, Any] = {"encrypt_and_hash_s": encrypt_s, "upload_s": upload_s}
    emit({"ours": ours, "boto3": base, "parts": parts})


if __name__ == "__main__":
    _child(sys.argv[1:])
