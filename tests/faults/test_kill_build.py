"""A build SIGKILLed at many points leaves no visible half packet and a valid audit chain, and a re-run completes.

Kill points: a calibration run of the plain build (tests/faults/build_driver.py) records its timeline and
every write it makes to the store and DOSSIER_HOME. Trials then SIGKILL a fresh copy of the office
either just before the Nth write (every boundary of archiving: packet object, audit entry, witness,
case record) or at a time spread over the whole run (imports, LibreOffice, bundling). A few trials
kill the real `dossier build` the same way. After each kill: every packet object the store lists
decrypts to a bag whose manifests check, and `AuditLog.verify` is ok; then the same build runs again
and must archive the packet.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.faults.support import (
    Office,
    archived_packets,
    copy_office,
    run_cli,
    run_driver,
    scratch_left,
    stop_daemons,
    store_problems,
    with_scratch,
)

TIME_FRACTIONS = (0.15, 0.45, 0.7, 0.9)  # of the time until the packet is assembled
MAX_WRITE_TRIALS = 16


def _spread(n_total: int, n_pick: int) -> list[int]:
    """n_pick write numbers spread evenly over 1..n_total, always including the first and the last."""
    if n_total <= n_pick:
        return list(range(1, n_total + 1))
    return sorted({1 + round(i * (n_total - 1) / (n_pick - 1)) for i in range(n_pick)})


def _trial(template: Office, root: Path, name: str, packet_id: str, **kill: float | int) -> list[str]:
    """Kill one build, check the store, re-run, check again; the problems found (empty: the trial passed)."""
    office = with_scratch(copy_office(template, root / name / "home"), root / name / "scratch")
    killed = run_driver(office, **kill)  # type: ignore[arg-type]
    found: list[str] = []
    if "kill_at_write" in kill and not killed.killed:
        found.append(f"was not killed (exit {killed.code}): the build makes fewer writes than calibrated")
    if killed.code not in (0, -9):
        found.append(f"ended with exit {killed.code} instead of being killed: {killed.stderr[-1500:]}")
    found += [f"after the kill: {p}" for p in store_problems(office)]
    left = scratch_left(office)  # waits up to 5 s for the watchdog
    if left:
        found.append(f"5 s after the kill, LibreOffice's working files are still there: {left}")
    again = run_driver(office)
    if again.code != 0:
        found.append(f"re-run failed with exit {again.code}: {again.stderr[-1500:]}")
    elif again.last_line != packet_id:
        found.append(f"re-run built {again.last_line}, not {packet_id}")
    found += [f"after the re-run: {p}" for p in store_problems(office)]
    left = scratch_left(office, 0)
    if left:
        found.append(f"after the re-run, working files left: {left}")
    if again.code == 0 and archived_packets(office) != [packet_id]:
        found.append(f"after the re-run the case lists packets {archived_packets(office)}")
    return found


def test_plain_build_killed_at_twenty_points_keeps_the_store_whole(
    template_office: Office, calibration: dict, tmp_path: Path
) -> None:
    assembled = calibration["phases"]["assembled"]
    trials: list[tuple[str, dict[str, float | int]]] = [
        (f"kill at {f:.0%} of assembly ({f * assembled:.2f} s)", {"kill_after": f * assembled}) for f in TIME_FRACTIONS
    ]
    events = calibration["events"]
    for n in _spread(calibration["writes"], MAX_WRITE_TRIALS):
        _t, event, path = events[n - 1]
        where = path.split("/home/", 1)[-1]  # relative to the calibration office's home
        trials.append((f"kill before write {n}/{calibration['writes']} ({event} {where})", {"kill_at_write": n}))
    assert len(trials) >= 20 or calibration["writes"] < MAX_WRITE_TRIALS

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [
            pool.submit(_trial, template_office, tmp_path, f"trial-{i:02d}", calibration["packet_id"], **kill)
            for i, (_label, kill) in enumerate(trials)
        ]
        results = [f.result() for f in futures]
    failures = [f"{label}: {p}" for (label, _), found in zip(trials, results, strict=True) for p in found]
    assert not failures, f"{len(failures)} problem(s) in {len(trials)} kill trials:\n" + "\n".join(failures)


def test_real_cli_build_killed_mid_archive_and_mid_start_then_rerun(
    template_office: Office, calibration: dict, fault_prefect_home: Path, tmp_path: Path
) -> None:
    """The real `dossier build`: its flow daemon killed mid-archive, or the CLI killed while it waits.

    The self-kill hook is inherited by the flow daemon the CLI starts, which is the process that writes;
    when the daemon dies the CLI falls back to building in process, and that is killed the same way.
    A CLI killed from outside leaves its daemon to finish the build: the store is checked after it did.
    """
    packet_id = calibration["packet_id"]
    n = calibration["writes"]
    kills: list[tuple[str, dict[str, float | int]]] = [
        ("cli: kill before write 3 (packet object in, not yet in the audit log)", {"kill_at_write": min(3, n)}),
        (f"cli: kill before write {n // 2 + 1}", {"kill_at_write": n // 2 + 1}),
        ("cli: process group killed after 2.0 s", {"kill_after": 2.0}),
    ]
    failures: list[str] = []
    for i, (label, kill) in enumerate(kills):
        office = with_scratch(
            copy_office(template_office, tmp_path / f"cli-{i}" / "home"), tmp_path / f"cli-{i}" / "lo"
        )
        try:
            killed = run_cli(office, "build", office.case_id, prefect_home=fault_prefect_home, **kill)  # type: ignore[arg-type]
            stop_daemons(office)  # a daemon that outlived the CLI finishes its build first
            if "kill_at_write" in kill and not killed.killed:
                failures.append(f"{label}: not killed (exit {killed.code}): {killed.stderr[-800:]}")
            failures += [f"{label}: after the kill: {p}" for p in store_problems(office)]
            left = scratch_left(office)
            if left:
                failures.append(f"{label}: LibreOffice's working files outlived the kill: {left}")
            again = run_cli(office, "build", office.case_id, prefect_home=fault_prefect_home)
            if again.code != 0 or again.last_line != packet_id:
                failures.append(
                    f"{label}: re-run exit {again.code}, printed {again.last_line!r}: {again.stderr[-1500:]}"
                )
            if "Traceback" in again.stderr:
                failures.append(f"{label}: re-run printed a traceback")
            failures += [f"{label}: after the re-run: {p}" for p in store_problems(office)]
            left = scratch_left(office)
            if left:
                failures.append(f"{label}: working files left after the re-run: {left}")
        finally:
            stop_daemons(office)
    assert not failures, "\n".join(failures)
