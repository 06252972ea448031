"""web_case_page_p95_ms, web_case_list_p95_ms, web_build_vs_plain: the case desk against a real `dossier web`.

500 stored cases (copies of both example cases) in the embedded file store; a signed-in caseworker
asks for case pages (each a decryption, a checklist and a `view-case` audit entry) and the case list
over HTTP on loopback, one request at a time. Then a build started from the browser's form (POST,
then polling the run until its packet is archived) against the plain pipeline functions in a warm
process on the same store (bench/orchestration.py's plain_build), each building fresh copies.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from datetime import date
from typing import Any

from bench.common import BUILD_CASE, DOSSIER, OTHER_CASE, PY, Context, child, clean_env
from bench.harness import Figure

PASSWORD = "bench password 1234"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(ctx: Context) -> list[Figure]:
    import httpx

    n = 50 if ctx.quick else 500
    builds = 2 if ctx.quick else 5
    root = ctx.work / "web"
    home = root / "home"
    env = clean_env(DOSSIER_HOME=str(home), PREFECT_HOME=str(root / "prefect"), DOSSIER_DAEMON="off")
    folders = [ctx.case_folder(BUILD_CASE), ctx.case_folder(OTHER_CASE)]
    ids: list[str] = child("common", "import", str(home), str(n), *map(str, folders), env=env)["case_ids"]
    fr_ids = ids[0::2]  # import_copies cycles the folders: even positions are the 30-evidence French case
    subprocess.run(
        [str(DOSSIER), "user", "add", "bench.cw", "--role", "caseworker", "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
        text=True,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (root / "server.log").open("wb")
    server = subprocess.Popen(
        [str(DOSSIER), "web", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        client = httpx.Client(base_url=url, timeout=300)
        deadline = time.monotonic() + 120
        while True:
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("dossier web did not start")
            time.sleep(0.2)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)  # type: ignore[union-attr]
        client.post("/login", data={"csrf_token": token, "username": "bench.cw", "password": PASSWORD})
        page_ms = _timed_gets(client, [f"/cases/{c}" for c in ids[: min(len(ids), 100)]])
        list_ms = _timed_gets(client, ["/cases"] * (5 if ctx.quick else 20))
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/cases").text).group(1)  # type: ignore[union-attr]
        # Web and plain builds alternate (a persistent plain process answers one build per line), so a
        # busy neighbour slows both sides alike; each side builds fresh copies and warms up once first.
        plain = subprocess.Popen(
            [str(PY), "-m", "bench.web", "plain"], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        web_s: list[float] = []
        plain_s: list[float] = []
        try:
            web_ids, plain_ids = fr_ids[-(builds + 1) :], fr_ids[: builds + 1]
            _web_build(client, csrf, web_ids.pop())
            _plain_build(plain, plain_ids.pop())
            for web_id, plain_id in zip(web_ids, plain_ids, strict=True):
                web_s.append(_web_build(client, csrf, web_id))
                plain_s.append(_plain_build(plain, plain_id))
        finally:
            assert plain.stdin is not None
            plain.stdin.close()
            plain.wait(timeout=60)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
    web_med, plain_med = statistics.median(web_s), statistics.median(plain_s)
    p95_page, p95_list = _pct(page_ms, 0.95), _pct(list_ms, 0.95)
    return [
        Figure(
            "web_case_page_p95_ms",
            p95_page,
            None,
            "ms",
            "p95 < 150 ms",
            p95_page < 150,
            f"{len(page_ms)} case pages of {n} stored cases over HTTP; p50 {_pct(page_ms, 0.5):.0f} ms",
            extra={"p50_ms": _pct(page_ms, 0.5), "p95_ms": p95_page, "cases": n},
        ),
        Figure(
            "web_case_list_p95_ms",
            p95_list,
            None,
            "ms",
            "p95 < 1000 ms",
            p95_list < 1000,
            f"/cases listing {n} cases, {len(list_ms)} requests; p50 {_pct(list_ms, 0.5):.0f} ms",
            extra={"p50_ms": _pct(list_ms, 0.5), "p95_ms": p95_list, "cases": n},
        ),
        Figure(
            "web_build_vs_plain",
            web_med,
            plain_med,
            "s",
            "ratio <= 1.2",
            web_med / plain_med <= 1.2,
            f"median of {len(web_s)} builds each, alternating: POST Build packet until the run is done (the run's "
            "own start-to-end plus the POST; polled every 0.7 s like the page) vs plain pipeline calls in a warm "
            "process, same store",
            extra={"web_runs_s": web_s, "plain_runs_s": plain_s},
        ),
    ]


def _timed_gets(client: Any, paths: list[str]) -> list[float]:
    out = []
    for path in paths:
        t = time.perf_counter()
        answer = client.get(path)
        out.append((time.perf_counter() - t) * 1000)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path}: {answer.status_code}")
    return out


def _web_build(client: Any, csrf: str, case_id: str) -> float:
    t = time.perf_counter()
    answer = client.post(f"/cases/{case_id}/build", data={"csrf_token": csrf}, follow_redirects=False)
    posted = time.perf_counter() - t
    run_url = answer.headers["location"]
    while True:
        state = client.get(f"{run_url}.json").json()
        if state["state"] != "running":
            break
        time.sleep(0.7)  # as the run page's script polls (web/static/desk.js)
    if state["state"] != "done":
        raise RuntimeError(f"web build of {case_id}: {state['state']}")
    return posted + float(state["seconds"])


def _plain_build(proc: subprocess.Popen[str], case_id: str) -> float:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(case_id + "\n")
    proc.stdin.flush()
    return float(json.loads(proc.stdout.readline())["seconds"])


def _child() -> None:
    """Build each case id read from standard input with the plain pipeline; one JSON line per build."""
    from bench.orchestration import plain_build
    from workflows.cases import vault

    answers = os.fdopen(os.dup(1), "w")  # the answers' channel; anything else printed (LibreOffice) goes to stderr
    os.dup2(2, 1)
    v = vault()
    today = date.today()
    for line in sys.stdin:
        t = time.perf_counter()
        plain_build(v, line.strip(), today)
        answers.write(json.dumps({"seconds": time.perf_counter() - t}) + "\n")
        answers.flush()


if __name__ == "__main__":
    if sys.argv[1] == "plain":
        _child()
    else:
        raise SystemExit(f"unknown mode {sys.argv[1]!r}")
