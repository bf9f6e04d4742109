"""Categorical inter-rater agreement: one entry point, :func:`agreement`, over a units x raters table.

Metrics (``metric=``):

===================== ==========================================================================
``percent``           pairwise percent agreement: over units rated two or more times, the share of
                      agreeing ordered rater pairs in each unit, averaged over units (Fleiss' P-bar;
                      for two raters, the share of units on which they agree). Weighted with weights.
``cohen_kappa``       Cohen (1960/1968), exactly two raters; ``weights`` None, linear, quadratic
``scott_pi``          Scott (1955), exactly two raters (Fleiss' kappa with two raters)
``fleiss_kappa``      Fleiss (1971), missing ratings by Gwet's generalisation
``conger_kappa``      Conger (1980), multi-rater Cohen
``brennan_prediger``  Brennan & Prediger (1981), uniform chance over the declared categories
``gwet_ac1``          Gwet's AC1; AC2 when ``weights`` are given
``krippendorff_alpha`` ``level`` nominal (default), ordinal, interval, ratio
===================== ==========================================================================

Standard errors: Gwet's analytic variance for every coefficient (irrCAC's formulas; for Cohen's kappa
Conger's with two raters), Student-t intervals with n - 1 degrees of freedom, upper bound capped at 1.
Krippendorff's ordinal alpha has no analytic SE: a seeded bootstrap over units (``resamples``,
``seed``) gives SE and a percentile interval. ``ci_method="bootstrap"`` forces the bootstrap for any
metric; ``"none"`` skips uncertainty (fastest).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from labelgate.core.errors import QualityError
from labelgate.quality._stats import bootstrap_ci, check_confidence, t_interval
from labelgate.quality.agreement import _chance
from labelgate.quality.agreement._alpha import krippendorff_alpha
from labelgate.quality.agreement._chance import Estimate
from labelgate.quality.agreement._table import RatingTable, rating_table
from labelgate.quality.agreement._weights import LEVELS, weight_matrix
from labelgate.quality.agreement.accumulator import AgreementAccumulator
from labelgate.quality.agreement.result import KRIPPENDORFF, LANDIS_KOCH, AgreementResult, Scale, interpret

__all__ = ["KRIPPENDORFF", "LANDIS_KOCH", "METRICS", "AgreementAccumulator", "AgreementResult", "RatingTable", "agreement", "interpret",
           "rating_table"]

METRICS = ("percent", "cohen_kappa", "scott_pi", "fleiss_kappa", "conger_kappa", "brennan_prediger", "gwet_ac1",
           "krippendorff_alpha")
_ALIASES = {"cohen": "cohen_kappa", "kappa": "cohen_kappa", "scott": "scott_pi", "fleiss": "fleiss_kappa",
            "conger": "conger_kappa", "bp": "brennan_prediger", "gwet": "gwet_ac1", "ac1": "gwet_ac1", "ac2": "gwet_ac1",
            "alpha": "krippendorff_alpha", "krippendorff": "krippendorff_alpha", "percent_agreement": "percent"}
_KAPPA: dict[str, Callable[[RatingTable, npt.NDArray[np.float64]], Estimate]] = {
    "percent": _chance.percent,
    "cohen_kappa": _chance.conger,
    "scott_pi": _chance.fleiss,
    "fleiss_kappa": _chance.fleiss,
    "conger_kappa": _chance.conger,
    "brennan_prediger": _chance.brennan_prediger,
    "gwet_ac1": _chance.gwet,
}
_TWO_RATERS = ("cohen_kappa", "scott_pi")


def _metric_name(metric: str) -> str:
    name = metric.lower().replace("-", "_")
    name = _ALIASES.get(name, name)
    if name not in METRICS:
        raise QualityError(f"unknown agreement metric {metric!r}: use one of {', '.join(METRICS)}")
    return name


Estimator = Callable[[RatingTable, bool], Estimate]  # (table, with_se) -> estimate


def _estimator(name: str, table: RatingTable, level: str | None, weights: Any) -> tuple[Estimator, str | None]:
    if name == "krippendorff_alpha":
        if weights is not None:
            raise QualityError("Krippendorff's alpha takes a level of measurement (level=...), not weights")
        lvl = (level or "nominal").lower()
        if lvl not in LEVELS:
            raise QualityError(f"unknown level of measurement {level!r}: use one of {', '.join(LEVELS)}")
        return (lambda t, with_se: krippendorff_alpha(t, lvl, with_se=with_se)), None
    if level is not None:
        raise QualityError(f"{name} takes weights=... (identity, linear, quadratic, ordinal or a matrix), not level=")
    w, wname = weight_matrix(weights, table.q)
    fn = _KAPPA[name]
    return (lambda t, _with_se: fn(t, w)), wname  # Gwet's SE costs little beside the value


def _two_rater_indices(table: RatingTable) -> tuple[float | None, float | None, dict[str, float]]:
    """Byrt, Bishop & Carlin (1993) prevalence and bias indices, and PABAK = 2 p_o - 1 for two categories."""
    codes = table.codes
    if codes is None or codes.shape[1] != 2:
        return None, None, {}
    both = (codes >= 0).all(axis=1)
    n = int(both.sum())
    if n == 0:
        return None, None, {}
    q = table.q
    joint = np.bincount(codes[both, 0] * q + codes[both, 1], minlength=q * q).reshape(q, q) / n
    if q == 2:
        pabak = 2.0 * float(np.trace(joint)) - 1.0
        return float(joint[0, 0] - joint[1, 1]), float(joint[0, 1] - joint[1, 0]), {"pabak": pabak}
    return None, float(np.abs(joint.sum(axis=1) - joint.sum(axis=0)).sum() / 2.0), {}


def agreement(
    data: Any,
    metric: str = "krippendorff_alpha",
    level: str | None = None,
    weights: str | npt.ArrayLike | None = None,
    categories: Sequence[Any] | None = None,
    *,
    confidence: float = 0.95,
    ci_method: str = "auto",
    resamples: int = 1000,
    seed: int = 0,
    scale: Scale | None = None,
) -> AgreementResult:
    """Compute one agreement coefficient with its uncertainty (see the module docstring).

    ``data``: units x raters (list of lists, numpy array, DataFrame; None/NaN missing), long-form
    records ``(unit, rater, label)``, or a :class:`RatingTable`. ``categories`` declares the category
    set and order (weights and unobserved categories depend on it). ``ci_method``: ``auto``
    (analytic where available, else bootstrap), ``analytic``, ``bootstrap`` or ``none``.
    """
    name = _metric_name(metric)
    check_confidence(confidence)
    if ci_method not in ("auto", "analytic", "bootstrap", "none"):
        raise QualityError(f"unknown ci_method {ci_method!r}: use auto, analytic, bootstrap or none")
    table = rating_table(data, categories)
    if table.n_units == 0:
        raise QualityError("no ratings given")
    if name in _TWO_RATERS and table.n_raters != 2:
        raise QualityError(f"{name} is defined for exactly two raters, got {table.n_raters}: use fleiss_kappa or conger_kappa")
    estimate, wname = _estimator(name, table, level, weights)
    est = estimate(table, ci_method in ("auto", "analytic"))
    se, ci, method = est.se, None, ci_method
    if ci_method == "none":
        se, method = None, "none"
    elif ci_method == "bootstrap" or (ci_method == "auto" and est.se is None):
        se, ci = _bootstrap(estimate, table, resamples=resamples, seed=seed, confidence=confidence)
        method = "bootstrap"
    elif est.se is None:
        raise QualityError(f"{name} at level {level!r} has no analytic standard error: use ci_method='bootstrap'")
    else:
        ci, method = t_interval(est.value, est.se, est.df, confidence), "analytic"
    if name == "krippendorff_alpha":
        level = (level or "nominal").lower()
    band_scale = scale if scale is not None else (KRIPPENDORFF if name == "krippendorff_alpha" else LANDIS_KOCH)
    per_unit = table.per_unit
    pairable = per_unit >= 2
    prevalence, bias, paradox = _two_rater_indices(table)
    name_out = "gwet_ac2" if name == "gwet_ac1" and wname not in (None, "identity") else name
    return AgreementResult(
        metric=name_out, value=float(est.value), se=None if se is None else float(se), ci=ci,
        observed=float(est.observed), expected=float(est.expected), units=table.n_units, raters=table.n_raters,
        pairable_units=int(pairable.sum()), values=int(per_unit.sum()), pairable_values=int(per_unit[pairable].sum()),
        categories=table.categories, weights=wname, level=level, ci_method=method, confidence=confidence,
        interpretation=interpret(float(est.value), band_scale), prevalence_index=prevalence, bias_index=bias,
        extra={**est.extra, **paradox},
    )


def _bootstrap(estimate: Estimator, table: RatingTable, *, resamples: int, seed: int,
               confidence: float) -> tuple[float, tuple[float, float]]:
    def statistic(idx: npt.NDArray[np.intp]) -> float:
        try:
            return float(estimate(table.subset(idx), False).value)
        except QualityError:  # a resample without any pairable unit has no value
            return math.nan

    se, ci, _ = bootstrap_ci(statistic, table.n_units, resamples=resamples, seed=seed, confidence=confidence)
    return se, ci
