"""The benchmark table: each figure is ours against a baseline measured in the same run."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
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
    import os

    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
    }


def print_table(figures: list[Figure]) -> None:
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
    Console().print(table)


def write_results(figures: list[Figure]) -> None:
    data: dict[str, Any] = {"machine": machine()}
    for f in figures:
        data[f.key] = f.ratio if f.ratio is not None and f.key.endswith(("_overhead", "_vs_pikepdf", "_vs_raw_hash",
                                                                         "_vs_1", "_vs_plain")) else f.ours
        data.setdefault("details", {})[f.key] = asdict(f) | {"ratio": f.ratio}
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
