"""The chance-corrected coefficients in Gwet's unified form, with his variance formulas.

Every coefficient here is ``(p_a - p_e) / (1 - p_e)`` with the same observed agreement ``p_a``
and a coefficient-specific chance agreement ``p_e`` (Gwet 2014, *Handbook of Inter-Rater
Reliability*, 4th ed., ch. 2-5; Gwet 2008, "Computing inter-rater reliability and its variance
in the presence of high agreement"). Missing ratings are handled as Gwet does:

- ``p_a`` averages, over the n2 units with two or more ratings, the weighted share of agreeing
  ordered rater pairs in the unit: sum_k r_ik (r*_ik - 1) / (r_i (r_i - 1)), r*_ik = sum_l w_kl r_il.
  This is also our ``percent`` agreement (Fleiss' P-bar; for two raters, the share of units
  on which they agree).
- classification probabilities pi_k average r_ik / r_i over all n units with at least one rating.

Variances are Gwet's linearisation: per-unit terms kappa_i* whose sample variance over n units
divided by n is the variance; intervals use Student's t with n - 1 degrees of freedom.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from labelgate.core.errors import QualityError
from labelgate.quality.agreement._table import RatingTable

__all__ = ["Estimate", "brennan_prediger", "conger", "fleiss", "gwet", "percent"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Estimate:
    """A coefficient before presentation: value, agreement parts, analytic SE (None if none)."""

    value: float
    observed: float
    expected: float
    se: float | None
    df: int
    extra: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Observed:
    n: int
    n2: int
    r_i: FloatArray
    pa: float
    pa_i: FloatArray  # per-unit weighted pair agreement, 0 where r_i < 2


def _observed(table: RatingTable, w: FloatArray) -> _Observed:
    r_i = table.per_unit.astype(np.float64)
    n = r_i.shape[0]
    sum_q = table.pair_agreement(w)
    two = r_i >= 2
    n2 = int(two.sum())
    if n2 == 0:
        raise QualityError("no unit has two or more ratings, so there is nothing to agree on")
    pa_i = np.zeros(n, dtype=np.float64)
    pa_i[two] = sum_q[two] / (r_i[two] * (r_i[two] - 1.0))
    return _Observed(n=n, n2=n2, r_i=r_i, pa=float(pa_i[two].sum() / n2), pa_i=pa_i)


def _pi(table: RatingTable, r_i: FloatArray) -> FloatArray:
    """pi_k: the mean over units of r_ik / r_i."""
    pi: FloatArray = table.category_totals(1.0 / r_i) / r_i.shape[0]
    return pi


def _finish(obs: _Observed, pe: float, pe_i: FloatArray | None, extra: dict[str, float] | None = None) -> Estimate:
    """Gwet's value and linearised variance, given p_e and the per-unit chance terms pe_i."""
    n = obs.n
    if 1.0 - pe <= 1e-15:
        return Estimate(math.nan, obs.pa, pe, math.nan, n - 1, extra or {})
    value = (obs.pa - pe) / (1.0 - pe)
    two = (obs.r_i >= 2).astype(np.float64)
    k_i = (n / obs.n2) * (obs.pa_i - pe * two) / (1.0 - pe)
    if pe_i is not None:
        k_i = k_i - 2.0 * (1.0 - value) * (pe_i - pe) / (1.0 - pe)
    se = math.sqrt(float(((k_i - value) ** 2).sum()) / (n * (n - 1))) if n > 1 else math.nan
    return Estimate(value, obs.pa, pe, se, n - 1, extra or {})


def percent(table: RatingTable, w: FloatArray) -> Estimate:
    """Pairwise percent agreement p_a (see the module docstring); expected agreement is 0."""
    obs = _observed(table, w)
    return _finish(obs, 0.0, None)


def brennan_prediger(table: RatingTable, w: FloatArray) -> Estimate:
    """Brennan & Prediger (1981): p_e = sum(w) / q^2, uniform chance over the declared categories."""
    q = w.shape[0]
    obs = _observed(table, w)
    pe = float(w.sum()) / q**2 if q >= 2 else 1.0
    return _finish(obs, pe, None)


def fleiss(table: RatingTable, w: FloatArray) -> Estimate:
    """Fleiss' kappa (1971), generalised by Gwet to missing ratings and weights.

    With complete data ``extra`` also holds Fleiss, Nee & Landis' (1979) standard error under the
    null hypothesis kappa = 0 (unweighted only) and its z, as ``se_null`` and ``z_null``.
    """
    obs = _observed(table, w)
    pi = _pi(table, obs.r_i)
    pe = float(pi @ w @ pi)
    pi_w = (w @ pi + w.T @ pi) / 2.0
    pe_i = table.unit_sums(pi_w) / obs.r_i
    est = _finish(obs, pe, pe_i)
    extra: dict[str, float] = {}
    r = obs.r_i
    if np.array_equal(w, np.eye(w.shape[0])) and r.size and (r == r[0]).all() and r[0] >= 2 and math.isfinite(est.value):
        m, n = float(r[0]), obs.n
        pq = pi * (1.0 - pi)
        s = float(pq.sum())
        var0 = 2.0 / (n * m * (m - 1.0)) * (s**2 - float((pq * (1.0 - 2.0 * pi)).sum())) / s**2
        extra = {"se_null": math.sqrt(var0), "z_null": est.value / math.sqrt(var0)}
    return Estimate(est.value, est.observed, est.expected, est.se, est.df, extra)


def gwet(table: RatingTable, w: FloatArray) -> Estimate:
    """Gwet's AC1 (identity weights) / AC2 (other weights): p_e = T_w/(q(q-1)) sum pi_k (1 - pi_k)."""
    q = w.shape[0]
    obs = _observed(table, w)
    if q < 2:
        return _finish(obs, 1.0, None)
    pi = _pi(table, obs.r_i)
    t_w = float(w.sum()) / (q * (q - 1))
    pe = t_w * float((pi * (1.0 - pi)).sum())
    pe_i = t_w * table.unit_sums(1.0 - pi) / obs.r_i
    return _finish(obs, pe, pe_i)


def conger(table: RatingTable, w: FloatArray) -> Estimate:
    """Conger's kappa (1980): p_e averages the Cohen-type chance agreement over rater pairs.

    Each rater's classification probabilities p_gk use the units that rater rated. For two raters
    this is Cohen's kappa (with missing ratings as in Gwet's ``kappa2`` functions).
    """
    codes = table.require_codes("Conger's kappa")
    n, r = codes.shape
    q = w.shape[0]
    if r < 2:
        raise QualityError("Conger's kappa needs at least two raters")
    obs = _observed(table, w)
    rated = codes >= 0
    flat = (np.arange(r, dtype=np.int64)[None, :] * q + codes)[rated]
    classif = np.bincount(flat, minlength=r * q).reshape(r, q).astype(np.float64)
    n_g = classif.sum(axis=1)
    p = classif / n_g[:, None]
    pbar = p.mean(axis=0)
    s2 = (p.T @ p - r * np.outer(pbar, pbar)) / (r - 1)
    pe = float((w * (np.outer(pbar, pbar) - s2 / r)).sum())
    # Gwet's linearisation of p_e (irrCAC's conger.raw), vectorised over units and raters
    m = p.sum(axis=0)[None, :] - p  # r x q: sum over the other raters
    t1 = m @ w  # t1[g, c] = sum_k m[g, k] w[k, c]
    b = (m * (p @ w.T)).sum(axis=1)  # b[g] = sum_k m[g, k] sum_l w[k, l] p[g, l]
    safe = np.where(rated, codes, 0)
    term = np.where(rated, t1[np.arange(r)[None, :], safe], 0.0)
    lam = (n / n_g)[None, :] * (term - (rated - (n_g / n)[None, :]) * b[None, :])
    pe_i = lam.sum(axis=1) / (r * (r - 1))
    return _finish(obs, pe, pe_i)
