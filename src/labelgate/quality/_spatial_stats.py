"""The small statistics behind spatial and span agreement: Cohen's kappa of a confusion
matrix, Krippendorff's alpha (nominal) of matched-object clusters (through
:func:`labelgate.quality.agreement`), and a bootstrap interval of F1 over items."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from labelgate.quality.agreement import RatingTable, agreement

__all__ = ["alpha_from_counts", "bootstrap_f1", "cohen_kappa", "nominal_alpha"]


def bootstrap_f1(item_counts: npt.ArrayLike, level: float = 0.95, *, class_agnostic: bool = False,
                 n_boot: int = 2000, seed: int = 0) -> tuple[float, float]:
    """Percentile bootstrap interval of ``2 * agreements / (|a| + |b|)`` over items; rows of
    ``item_counts`` are ``(n_a, n_b, matches, same-label matches)``. NaNs when there are no items."""
    c = np.asarray(item_counts, dtype=np.float64).reshape(-1, 4)
    if not len(c):
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(c), (n_boot, len(c)))
    agree = c[:, 2 if class_agnostic else 3][idx].sum(axis=1)
    total = (c[:, 0] + c[:, 1])[idx].sum(axis=1)
    f1 = np.where(total > 0, 2 * agree / np.where(total > 0, total, 1), 1.0)
    lo, hi = np.quantile(f1, [(1 - level) / 2, (1 + level) / 2])
    return (float(lo), float(hi))


def cohen_kappa(confusion: npt.ArrayLike) -> float:
    """Cohen's kappa of a square confusion matrix (rows: rater a, columns: rater b).

    ``(p_o - p_e) / (1 - p_e)``; 1 when observed agreement is perfect (also when ``p_e = 1``),
    NaN for an empty matrix or when ``p_e = 1`` without perfect agreement (impossible).
    """
    c = np.asarray(confusion, dtype=np.float64)
    n = c.sum()
    if n == 0:
        return float("nan")
    po = np.trace(c) / n
    pe = float((c.sum(axis=1) * c.sum(axis=0)).sum() / n**2)
    if po == 1.0:
        return 1.0
    return float((po - pe) / (1 - pe))


def nominal_alpha(units: Sequence[Sequence[Any]]) -> float:
    """Krippendorff's alpha (nominal) of reliability data: one row per unit, one value per
    rater, None for a missing value. Units with fewer than two values are not pairable and are
    dropped. 1 when observed disagreement is 0 (also when only one category occurs); NaN when
    no unit is pairable."""
    cats: dict[Any, int] = {}
    for row in units:
        for v in row:
            if v is not None:
                cats.setdefault(v, len(cats))
    counts = np.zeros((len(units), len(cats)))
    for u, row in enumerate(units):
        for v in row:
            if v is not None:
                counts[u, cats[v]] += 1
    return alpha_from_counts(counts)


def alpha_from_counts(counts: npt.ArrayLike) -> float:
    """Nominal alpha from a ``units x categories`` matrix of how many raters chose each value.

    Computed by :func:`labelgate.quality.agreement`; the one local rule is that zero observed
    disagreement gives 1 (perfect annotators agree perfectly even when only one class occurs),
    where the general coefficient is undefined.
    """
    table = np.asarray(counts, dtype=np.float64)
    if table.ndim != 2 or not table.size:
        return float("nan")
    table = table[table.sum(axis=1) >= 2]
    if not len(table):
        return float("nan")
    if np.all(table.max(axis=1) == table.sum(axis=1)):
        return 1.0
    return float(agreement(RatingTable.from_counts(table), "krippendorff_alpha", ci_method="none").value)
