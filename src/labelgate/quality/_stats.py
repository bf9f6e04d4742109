"""Small statistics shared by the quality modules: Wilson score intervals, Student-t intervals
for a point estimate with a standard error, and a seeded percentile bootstrap over units.

Everything here is a pure function of its arguments; randomness comes only from the ``seed``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

from labelgate.core.errors import QualityError

__all__ = ["bootstrap_ci", "check_confidence", "normal_quantile", "t_interval", "wilson_interval"]


def check_confidence(confidence: float) -> float:
    """Return ``confidence`` when it lies strictly between 0 and 1, else raise."""
    if not 0.0 < confidence < 1.0:
        raise QualityError(f"confidence must lie strictly between 0 and 1, got {confidence!r}")
    return float(confidence)


def normal_quantile(p: float) -> float:
    """The standard normal quantile (inverse CDF) at ``p``."""
    return NormalDist().inv_cdf(p)


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927).

    Unlike the Wald interval it stays inside [0, 1] and keeps near-nominal coverage for small ``n``
    and proportions near 0 or 1. ``n == 0`` gives the uninformative interval (0, 1).
    """
    check_confidence(confidence)
    if n < 0 or successes < 0 or successes > n:
        raise QualityError(f"wilson_interval needs 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return (0.0, 1.0)
    z = normal_quantile(0.5 + confidence / 2.0)
    p = successes / n
    z2n = z * z / n
    centre = (p + z2n / 2.0) / (1.0 + z2n)
    half = z * math.sqrt(p * (1.0 - p) / n + z2n / (4.0 * n)) / (1.0 + z2n)
    lo = 0.0 if successes == 0 else max(0.0, centre - half)  # exact ends: rounding must not leave 0 or 1 outside
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return (lo, hi)


def t_interval(value: float, se: float, df: int, confidence: float = 0.95, upper: float | None = 1.0) -> tuple[float, float]:
    """``value +- t(df) * se``, the interval Gwet's variance formulas are paired with.

    ``upper`` caps the upper bound (agreement coefficients cannot exceed 1), as Gwet's software does.
    """
    check_confidence(confidence)
    if not math.isfinite(value) or not math.isfinite(se) or df < 1:
        return (math.nan, math.nan)
    from scipy.stats import t as student_t

    half = float(student_t.ppf(0.5 + confidence / 2.0, df)) * se
    hi = value + half
    if upper is not None:
        hi = min(upper, hi)
    return (value - half, hi)


def bootstrap_ci(
    statistic: Callable[[npt.NDArray[np.intp]], float],
    n: int,
    *,
    resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> tuple[float, tuple[float, float], npt.NDArray[np.float64]]:
    """Seeded percentile bootstrap over ``n`` units.

    ``statistic(idx)`` recomputes the estimate on the units ``idx`` (drawn with replacement).
    Returns (standard error, percentile interval, the finite replicate values). Replicates where the
    statistic is undefined (NaN, e.g. a resample with a single category) are left out.
    """
    check_confidence(confidence)
    if n < 2:
        raise QualityError(f"a bootstrap over units needs at least 2 units, got {n}")
    if resamples < 2:
        raise QualityError(f"resamples must be at least 2, got {resamples}")
    rng = np.random.default_rng(seed)
    values = np.empty(resamples, dtype=np.float64)
    for b in range(resamples):
        values[b] = statistic(rng.integers(0, n, size=n))
    values = values[np.isfinite(values)]
    if values.size < 2:
        return (math.nan, (math.nan, math.nan), values)
    alpha = (1.0 - confidence) / 2.0
    lo, hi = np.quantile(values, [alpha, 1.0 - alpha])
    return (float(values.std(ddof=1)), (float(lo), float(hi)), values)
