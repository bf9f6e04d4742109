"""Krippendorff's alpha from the coincidence matrix, with Gwet's analytic variance.

Following Krippendorff (2011), "Computing Krippendorff's alpha-reliability": only pairable values
count (units with two or more ratings); the coincidence matrix is
``o = C^T diag(1/(m_u - 1)) C - diag(sum_u C_uk/(m_u - 1))`` for the units x categories count
matrix C; ``alpha = 1 - (n - 1) sum(o * delta) / sum(n_c n_k delta)``.

For the nominal level the sums reduce to the diagonal of o, so the whole computation is one
bincount and a few vector operations (no q x q matrix over units).

The standard error is Gwet's (2014, ch. 4) linearisation with weights ``w = 1 - delta/max(delta)``,
the form irrCAC's ``krippendorff()`` uses. For the ordinal level delta depends on the observed
marginals, so no analytic SE is claimed: the caller bootstraps.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from labelgate.core.errors import QualityError
from labelgate.quality.agreement._chance import Estimate
from labelgate.quality.agreement._table import RatingTable
from labelgate.quality.agreement._weights import alpha_distance

__all__ = ["krippendorff_alpha"]

FloatArray = npt.NDArray[np.float64]


def krippendorff_alpha(table: RatingTable, level: str = "nominal", with_se: bool = True) -> Estimate:
    """Alpha at ``level`` (nominal, ordinal, interval, ratio); ``se`` None for ordinal."""
    m_u = table.per_unit
    keep = m_u >= 2
    if not keep.any():
        raise QualityError("Krippendorff's alpha needs at least one unit rated two or more times")
    c = table.counts[keep].astype(np.float64)
    m = m_u[keep].astype(np.float64)
    inv = 1.0 / (m - 1.0)
    n_c = c.sum(axis=0)
    total = float(n_c.sum())
    if level == "nominal":
        agree = float((inv * ((c * (c - 1.0)).sum(axis=1))).sum())  # trace of o
        disagree_o = total - agree  # sum(o * delta)
        disagree_e = total * total - float((n_c * n_c).sum())  # sum(n_c n_k delta)
        delta = None
        dmax = 1.0
    else:
        delta = alpha_distance(level, table.categories, n_c)
        o = (c * inv[:, None]).T @ c
        o[np.diag_indices_from(o)] -= (c * inv[:, None]).sum(axis=0)
        disagree_o = float((o * delta).sum())
        disagree_e = float(n_c @ delta @ n_c)
        dmax = float(delta.max()) if delta.size else 0.0
    if disagree_e <= 0.0 or dmax <= 0.0:
        return Estimate(math.nan, math.nan, math.nan, math.nan, int(keep.sum()) - 1)
    d_o = disagree_o / total
    d_e = disagree_e / (total * (total - 1.0))
    value = 1.0 - d_o / d_e
    observed, expected = 1.0 - d_o / dmax, 1.0 - d_e / dmax
    se: float | None = None
    if with_se and level != "ordinal":
        w = np.eye(table.q) if delta is None else 1.0 - delta / dmax
        se = _gwet_se(c, m, w)
    return Estimate(value, observed, expected, se, int(keep.sum()) - 1)


def _gwet_se(c: FloatArray, r_i: FloatArray, w: FloatArray) -> float:
    """Gwet's variance of alpha over the n pairable units (irrCAC ``krippendorff`` form)."""
    n = c.shape[0]
    if n < 2:
        return math.nan
    identity = np.array_equal(w, np.eye(w.shape[0]))
    cw = c if identity else c @ w.T
    sum_q = (c * (cw - 1.0)).sum(axis=1)
    rbar = float(r_i.mean())
    eps = 1.0 / float(r_i.sum())
    pa_prime = float((sum_q / (rbar * (r_i - 1.0))).sum()) / n
    pa = (1.0 - eps) * pa_prime + eps
    pi = c.sum(axis=0) / (n * rbar)
    pe = float(pi @ w @ pi)
    alpha_prime = (pa_prime - pe) / (1.0 - pe)
    pa_i = sum_q / (rbar * (r_i - 1.0)) - pa * (r_i - rbar) / rbar
    k_i = (pa_i - pe) / (1.0 - pe)
    pi_w = (w @ pi + w.T @ pi) / 2.0
    pe_i = (c @ pi_w) / rbar - pe * (r_i - rbar) / rbar
    k_star = k_i - 2.0 * (1.0 - alpha_prime) * (pe_i - pe) / (1.0 - pe)
    return math.sqrt(float(((k_star - alpha_prime) ** 2).sum()) / (n * (n - 1)))
