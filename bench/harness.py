"""The benchmark table: each figure is ours against a baseline measured in the same run."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results.json"


@dataclass
class Figure:
    """One row: a value of ours, the same-run baseline, their ratio and the goal it is judged by."""

    key: str
    ours: float
    baseline: float | None
    unit: str
    goal: str
    goal_met: bool
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        """ours / baseline."""
        return self.ours / self.baseline if self.baseline else None


def best_of(fn: Callable[[], Any], repeat: int = 3) -> float:
    """The fastest of a few wall-clock runs (seconds), the usual guard against a noisy neighbour."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def machine() -> dict[str, Any]:
    """Date and machine the figures were measured on."""
    import os

    return {
        "cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)),
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }


RATIO_SUFFIXES = ("_overhead", "_vs_pikepdf", "_vs_raw_hash", "_vs_1", "_vs_plain")


def value_of(f: Figure) -> float:
    """What results.json holds under the figure's key: the ratio for *_overhead/*_vs_* keys, else ours."""
    if f.key.endswith(RATIO_SUFFIXES) and f.ratio is not None:
        return f.ratio
    return f.ours


def print_table(figures: list[Figure]) -> None:
    """The table: figure, ours, baseline, ratio, goal, met."""
    from rich.console import Console
    from rich.table import Table

    table = Table("figure", "ours", "baseline", "ratio", "goal", "met")
    for f in figures:
        table.add_row(
            f.key,
            f"{f.ours:.3f} {f.unit}",
            f"{f.baseline:.3f} {f.unit}" if f.baseline is not None else "-",
            f"{f.ratio:.2f}" if f.ratio is not None else "-",
            f.goal,
            "yes" if f.goal_met else "NO",
        )
    console = Console(width=200)
    console.print(table)
    for f in figures:
        if f.note:
            console.print(f"[dim]{f.key}:[/] {f.note}")


def write_results(figures: list[Figure], *, merge: bool = False) -> Path:
    """Write bench/results.json; with merge, figures not measured now keep their earlier values."""
    data: dict[str, Any] = {}
    if merge and RESULTS.exists():
        data = json.loads(RESULTS.read_text())
    data["machine"] = machine()
    details = data.setdefault("details", {})
    for f in figures:
        data[f.key] = value_of(f)
        details[f.key] = asdict(f) | {"ratio": f.ratio, "measured": data["machine"]["date"]}
    data["goals_met"] = {k: bool(v["goal_met"]) for k, v in sorted(details.items())}
    ordered = {"machine": data.pop("machine")}
    ordered |= {k: data[k] for k in sorted(data) if k not in ("details", "goals_met")}
    ordered |= {"goals_met": data["goals_met"], "details": {k: details[k] for k in sorted(details)}}
    RESULTS.write_text(json.dumps(ordered, indent=2) + "\n")
    return RESULTS
