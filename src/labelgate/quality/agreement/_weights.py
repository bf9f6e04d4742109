"""Agreement weights for the kappa family and distance functions for Krippendorff's alpha.

Weights are similarities in [0, 1] with 1 on the diagonal. Named weights are computed from the
*position* of each category in the declared order (rank 0..q-1), as scikit-learn's weighted kappa
does, not from numeric category values: declaring ``categories`` fixes the scale, including
categories nobody used. Pass a q x q matrix for value-based or custom weights.

Krippendorff's distances follow Krippendorff (2011), "Computing Krippendorff's alpha-reliability":
nominal 0/1; ordinal uses the pairable-value frequencies of the categories between the two;
interval ``(c - k)^2`` and ratio ``((c - k)/(c + k))^2`` use the numeric category values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from labelgate.core.errors import QualityError

__all__ = ["LEVELS", "WEIGHTS", "alpha_distance", "weight_matrix"]

FloatArray = npt.NDArray[np.float64]
WEIGHTS = ("identity", "linear", "quadratic", "ordinal")
LEVELS = ("nominal", "ordinal", "interval", "ratio")


def weight_matrix(weights: str | npt.ArrayLike | None, q: int) -> tuple[FloatArray, str]:
    """The q x q weight matrix and its name (``"custom"`` for a matrix)."""
    if weights is None:
        weights = "identity"
    if isinstance(weights, str):
        name = weights.lower()
        idx = np.arange(q, dtype=np.float64)
        diff = np.abs(idx[:, None] - idx[None, :])
        span = max(q - 1, 1)
        if name in ("identity", "none", "unweighted", "nominal"):
            return np.eye(q), "identity"
        if name == "linear":
            return 1.0 - diff / span, name
        if name == "quadratic":
            return 1.0 - (diff / span) ** 2, name
        if name == "ordinal":  # Gwet (2014): ranks m = |k-l|+1 give m(m-1)/2, rescaled to [0, 1]
            m = diff + 1.0
            raw = m * (m - 1.0) / 2.0
            top = raw.max()
            return (1.0 - raw / top) if top > 0 else np.eye(q), name
        raise QualityError(f"unknown weights {weights!r}: use one of {', '.join(WEIGHTS)} or a {q}x{q} matrix")
    mat = np.asarray(weights, dtype=np.float64)
    if mat.shape != (q, q):
        raise QualityError(f"a weight matrix must be {q}x{q} for {q} categories, got {mat.shape}")
    if not np.allclose(np.diag(mat), 1.0) or (mat < 0).any() or (mat > 1).any():
        raise QualityError("a weight matrix holds similarities in [0, 1] with ones on the diagonal")
    return mat, "custom"


def _numeric_values(categories: Sequence[Any], level: str) -> FloatArray:
    try:
        values = np.asarray([float(c) for c in categories], dtype=np.float64)
    except (TypeError, ValueError):
        raise QualityError(f"level {level!r} needs numeric categories, got {list(categories)!r}") from None
    if level == "ratio" and (values < 0).any():
        raise QualityError("level 'ratio' needs non-negative category values")
    return values


def alpha_distance(level: str, categories: Sequence[Any], pairable: FloatArray) -> FloatArray:
    """Krippendorff's squared distance delta^2 between categories (q x q).

    ``pairable`` holds n_c, the number of pairable values of each category (ordinal only).
    """
    q = len(categories)
    if level == "nominal":
        return 1.0 - np.eye(q)
    if level == "ordinal":
        cum = np.concatenate(([0.0], np.cumsum(pairable)))
        lo = np.minimum.outer(np.arange(q), np.arange(q))
        hi = np.maximum.outer(np.arange(q), np.arange(q))
        between = cum[hi + 1] - cum[lo]  # sum of n_g for g from min to max, inclusive
        dist: FloatArray = (between - (pairable[:, None] + pairable[None, :]) / 2.0) ** 2
        np.fill_diagonal(dist, 0.0)
        return dist
    values = _numeric_values(categories, level)
    diff: FloatArray = values[:, None] - values[None, :]
    if level == "interval":
        out: FloatArray = diff**2
        return out
    if level == "ratio":
        total = values[:, None] + values[None, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio: FloatArray = np.where(total == 0, 0.0, diff / np.where(total == 0, 1.0, total))
        squared: FloatArray = ratio**2
        return squared
    raise QualityError(f"unknown level of measurement {level!r}: use one of {', '.join(LEVELS)}")
