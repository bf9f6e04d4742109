"""Truth inference for categorical labels: majority vote with a declared tie rule, and Dawid-Skene.

Both take the inputs :func:`labelgate.quality.agreement` takes (units x annotators with None/NaN
missing, or ``(unit, annotator, label)`` records) and declared ``categories``.

Majority vote tie rules (``tie=``):

- ``"lowest_label"``: the tied category that comes first in the category order;
- ``"random"``: uniformly among the tied categories, from ``seed`` (reproducible);
- ``"abstain"``: no label (None) for a tied unit.

Dawid & Skene (1979) EM: each annotator has a confusion matrix pi[j, k, l] = P(answers l | truth k),
the classes have priors p_k, and every unit gets posterior class probabilities. The EM starts from
the majority-vote vote shares (deterministic), smooths counts with ``smoothing`` (add-alpha, so an
annotator who never saw a class does not get probability 0) and stops when the log-likelihood
improves by less than ``tol`` (relative) or after ``max_iter`` iterations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from labelgate.core.errors import QualityError
from labelgate.quality.agreement._table import RatingTable, rating_table

__all__ = ["Consensus", "DawidSkene", "TIE_RULES", "dawid_skene", "majority_vote"]

FloatArray = npt.NDArray[np.float64]
TIE_RULES = ("lowest_label", "random", "abstain")


@dataclass(frozen=True)
class Consensus:
    """Majority vote result: one label per unit (None when abstaining), with its vote share."""

    units: tuple[Any, ...]
    labels: tuple[Any, ...]
    support: FloatArray  # share of the unit's votes for the chosen label (NaN when abstaining)
    votes: npt.NDArray[np.int64]  # units x categories
    categories: tuple[Any, ...]
    ties: int
    tie_rule: str

    def to_dict(self) -> dict[str, Any]:
        return {"method": "majority", "tie_rule": self.tie_rule, "ties": self.ties, "categories": list(self.categories),
                "units": [{"unit": u, "label": lab, "support": None if math.isnan(s) else float(s)}
                          for u, lab, s in zip(self.units, self.labels, self.support.tolist(), strict=True)]}


@dataclass(frozen=True)
class DawidSkene:
    """Dawid-Skene EM result."""

    units: tuple[Any, ...]
    annotators: tuple[Any, ...]
    categories: tuple[Any, ...]
    posteriors: FloatArray  # units x categories
    priors: FloatArray  # categories
    confusions: FloatArray  # annotators x true category x answered category (rows sum to 1)
    iterations: int
    converged: bool
    log_likelihood: float

    @property
    def labels(self) -> tuple[Any, ...]:
        """The maximum a posteriori class of each unit (ties to the first category)."""
        return tuple(self.categories[k] for k in self.posteriors.argmax(axis=1))

    def accuracy(self) -> dict[Any, float]:
        """Each annotator's expected accuracy: sum_k p_k pi[j, k, k]."""
        diag = np.einsum("jkk->jk", self.confusions)
        return {a: float(diag[j] @ self.priors) for j, a in enumerate(self.annotators)}

    def to_dict(self) -> dict[str, Any]:
        return {"method": "dawid-skene", "iterations": self.iterations, "converged": self.converged,
                "log_likelihood": self.log_likelihood, "categories": list(self.categories),
                "priors": self.priors.tolist(), "annotator_accuracy": [{"annotator": a, "accuracy": v} for a, v in self.accuracy().items()],
                "confusions": {str(a): self.confusions[j].tolist() for j, a in enumerate(self.annotators)},
                "units": [{"unit": u, "label": lab, "posterior": float(p.max())}
                          for u, lab, p in zip(self.units, self.labels, self.posteriors, strict=True)]}


def _units(table: RatingTable) -> tuple[Any, ...]:
    return table.units if table.units is not None else tuple(range(table.n_units))


def majority_vote(data: Any, tie: str = "lowest_label", *, seed: int = 0, categories: Sequence[Any] | None = None) -> Consensus:
    """The most voted category per unit, with the declared tie rule (module docstring)."""
    if tie not in TIE_RULES:
        raise QualityError(f"unknown tie rule {tie!r}: use one of {', '.join(TIE_RULES)}")
    table = rating_table(data, categories)
    votes = table.counts
    top = votes.max(axis=1)
    tied = (votes == top[:, None]).sum(axis=1) > 1
    choice = votes.argmax(axis=1)  # first maximum = lowest label in the category order
    if tie == "random" and tied.any():  # a seeded random key per tied category; the largest key wins
        keys = np.random.default_rng(seed).random(votes.shape)
        choice = np.where(tied, np.where(votes == top[:, None], keys, -1.0).argmax(axis=1), choice)
    per_unit = votes.sum(axis=1)
    support = top / per_unit
    labels: list[Any] = [table.categories[k] for k in choice]
    if tie == "abstain":
        support = np.where(tied, np.nan, support)
        labels = [None if t else lab for lab, t in zip(labels, tied.tolist(), strict=True)]
    return Consensus(_units(table), tuple(labels), support.astype(np.float64), votes, table.categories, int(tied.sum()), tie)


def dawid_skene(
    data: Any,
    *,
    categories: Sequence[Any] | None = None,
    max_iter: int = 100,
    tol: float = 1e-6,
    smoothing: float = 0.01,
) -> DawidSkene:
    """Dawid-Skene EM (module docstring) over units x annotators."""
    table = rating_table(data, categories)
    codes = table.require_codes("Dawid-Skene")
    r = codes.shape[1]
    q = table.q
    if q < 2:
        raise QualityError("Dawid-Skene needs at least two categories")
    if max_iter < 1 or tol <= 0 or smoothing < 0:
        raise QualityError("max_iter >= 1, tol > 0 and smoothing >= 0 are required")
    rated = codes >= 0
    post = table.counts / table.counts.sum(axis=1, keepdims=True)  # majority-vote shares
    loglik_old = -math.inf
    converged = False
    iterations = 0
    priors = np.full(q, 1.0 / q)
    conf = np.full((r, q, q), 1.0 / q)
    loglik = -math.inf
    for step in range(1, max_iter + 1):
        iterations = step
        priors, conf = _m_step(post, codes, rated, q, smoothing)
        post, loglik = _e_step(priors, conf, codes, rated)
        if abs(loglik - loglik_old) <= tol * max(1.0, abs(loglik)):
            converged = True
            break
        loglik_old = loglik
    annotators = table.raters if table.raters is not None else tuple(range(r))
    return DawidSkene(_units(table), annotators, table.categories, post, priors, conf, iterations, converged, float(loglik))


def _m_step(post: FloatArray, codes: npt.NDArray[np.int64], rated: npt.NDArray[np.bool_], q: int,
            smoothing: float) -> tuple[FloatArray, FloatArray]:
    priors = (post.sum(axis=0) + smoothing) / (post.shape[0] + q * smoothing)
    conf = np.empty((codes.shape[1], q, q))
    for j in range(codes.shape[1]):
        mask = rated[:, j]
        answers = codes[mask, j]
        weights = post[mask]
        # tally[k, l] = sum over units j rated of P(truth k) * [answer == l]
        tally = np.stack([np.bincount(answers, weights=weights[:, k], minlength=q) for k in range(q)]) + smoothing
        conf[j] = tally / tally.sum(axis=1, keepdims=True)
    return priors, conf


def _e_step(priors: FloatArray, conf: FloatArray, codes: npt.NDArray[np.int64],
            rated: npt.NDArray[np.bool_]) -> tuple[FloatArray, float]:
    with np.errstate(divide="ignore"):
        log_conf = np.log(conf)
        log_post = np.tile(np.log(priors), (codes.shape[0], 1))
    for j in range(codes.shape[1]):
        mask = rated[:, j]
        log_post[mask] += log_conf[j][:, codes[mask, j]].T
    top = log_post.max(axis=1, keepdims=True)
    unnorm = np.exp(log_post - top)
    total = unnorm.sum(axis=1, keepdims=True)
    return unnorm / total, float((np.log(total) + top).sum())
