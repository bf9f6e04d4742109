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
    n_pairable = int(keep.sum())
    if n_pairable == 0:
        raise QualityError("Krippendorff's alpha needs at least one unit rated two or more times")
    m_all = m_u.astype(np.float64)
    if level == "nominal":
        # no q x q work: the trace of o from pair agreements, n_c from one weighted bincount
        inv = np.where(keep, 1.0 / np.maximum(m_all - 1.0, 1.0), 0.0)
        sum_q_all = table.pair_agreement(np.eye(table.q))
        n_c = table.category_totals(keep.astype(np.float64))
        total = float(n_c.sum())
        disagree_o = total - float(inv @ sum_q_all)
        disagree_e = total * total - float(n_c @ n_c)
        w = np.eye(table.q)
        dmax = 1.0
    else:
        c = table.counts[keep].astype(np.float64)
        inv_k = 1.0 / (m_all[keep] - 1.0)
        n_c = c.sum(axis=0)
        total = float(n_c.sum())
        delta = alpha_distance(level, table.categories, n_c)
        o = (c * inv_k[:, None]).T @ c
        o[np.diag_indices_from(o)] -= inv_k @ c
        disagree_o = float((o * delta).sum())
        disagree_e = float(n_c @ delta @ n_c)
        dmax = float(delta.max()) if delta.size else 0.0
        w = 1.0 - delta / dmax if dmax > 0 else np.eye(table.q)
    if disagree_e <= 0.0 or dmax <= 0.0:
        return Estimate(math.nan, math.nan, math.nan, math.nan, n_pairable - 1)
    d_o = disagree_o / total
    d_e = disagree_e / (total * (total - 1.0))
    value = 1.0 - d_o / d_e
    observed, expected = 1.0 - d_o / dmax, 1.0 - d_e / dmax
    se: float | None = None
    if with_se and level != "ordinal" and n_pairable >= 2:
        r_k = m_all[keep]
        pi = n_c / (n_pairable * float(r_k.mean()))
        pi_w = (w @ pi + w.T @ pi) / 2.0
        if level == "nominal":
            sum_q, cpw = sum_q_all[keep], table.unit_sums(pi_w)[keep]
        else:
            sum_q, cpw = (c * (c @ w.T - 1.0)).sum(axis=1), c @ pi_w
        se = _gwet_se(sum_q, r_k, pi, pi_w, cpw, w)
    elif with_se and level != "ordinal":
        se = math.nan
    return Estimate(value, observed, expected, se, n_pairable - 1)


def _gwet_se(sum_q: FloatArray, r_i: FloatArray, pi: FloatArray, pi_w: FloatArray, cpw: FloatArray, w: FloatArray) -> float:
    """Gwet's variance of alpha over the n pairable units (irrCAC ``krippendorff`` form).

    ``sum_q``: per unit sum_k r_ik (r*_ik - 1); ``cpw``: per unit sum_k r_ik pi_w_k.
    """
    n = r_i.shape[0]
    rbar = float(r_i.mean())
    eps = 1.0 / float(r_i.sum())
    pa_unit = sum_q / (rbar * (r_i - 1.0))
    pa_prime = float(pa_unit.sum()) / n
    pa = (1.0 - eps) * pa_prime + eps
    pe = float(pi @ w @ pi)
    alpha_prime = (pa_prime - pe) / (1.0 - pe)
    k_i = (pa_unit - pa * (r_i - rbar) / rbar - pe) / (1.0 - pe)
    pe_i = cpw / rbar - pe * (r_i - rbar) / rbar
    k_star = k_i - 2.0 * (1.0 - alpha_prime) * (pe_i - pe) / (1.0 - pe)
    return math.sqrt(float(((k_star - alpha_prime) ** 2).sum()) / (n * (n - 1)))
