"""Small numeric helpers shared by the benchmarks: percentiles, medians, resident memory."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from pathlib import Path


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation, like numpy's default."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def rss_mib(status: Path = Path("/proc/self/status")) -> float:
    """Resident set size of this process in MiB, from the kernel's own accounting."""
    for line in status.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise RuntimeError(f"no VmRSS line in {status}")


def rounded(value: float, digits: int = 4) -> float:
    return round(float(value), digits)
