"""Mean and 95 % interval of a sample: one helper for the comparison table and the ratings."""

from __future__ import annotations

import math
from collections.abc import Iterable

from scipy import stats


def mean_ci95(values: Iterable[float]) -> tuple[float, float, float, int]:
    """``(mean, low, high, n)`` of the finite values: Student's t interval at 95 %
    (``mean +- t_{0.975, n-1} * sd / sqrt(n)``). With one value the interval is that value; with
    none, all three are NaN."""
    xs = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    n = len(xs)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = sum(xs) / n
    if n == 1:
        return mean, mean, mean, 1
    sd = math.sqrt(sum((x - mean) ** 2 for x in xs) / (n - 1))
    half = float(stats.t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return mean, mean - half, mean + half, n
