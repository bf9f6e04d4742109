"""Every coefficient against the reference libraries on Hypothesis-randomised tables, to 1e-9.

References: irrCAC (Gwet's formulas, values and standard errors), krippendorff (alpha, all levels),
scikit-learn (Cohen's kappa, weighted), statsmodels (Fleiss' kappa, Randolph = Brennan-Prediger for
complete data, Cohen's kappa from a table). Where the references disagree, the test pins our choice.
"""

from __future__ import annotations

import warnings
from typing import Any

import krippendorff
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from irrCAC.raw import CAC
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa, fleiss_kappa

from labelgate.quality import agreement

TOL = 1e-9


@st.composite
def tables(draw: Any, min_raters: int = 2, max_raters: int = 5, complete: bool = False) -> tuple[np.ndarray, int]:
    """Units x raters float tables over categories 1..q, NaN missing; every rater rates something,
    two units have two ratings, and at least two categories occur (so chance agreement is < 1)."""
    q = draw(st.integers(2, 5))
    r = draw(st.integers(min_raters, max_raters))
    n = draw(st.integers(4, 25))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    truth = rng.integers(1, q + 1, n)
    noise = draw(st.floats(0.0, 1.0))
    data = np.where(rng.random((n, r)) < noise, rng.integers(1, q + 1, (n, r)), truth[:, None]).astype(float)
    if not complete:
        data[rng.random((n, r)) < draw(st.floats(0.0, 0.4))] = np.nan
    data[0, :2] = [1, 2]  # two categories, and two units with two ratings (irrCAC divides by n - 1)
    data[1, :2] = np.where(np.isnan(data[1, :2]), 1, data[1, :2])
    for j in range(r):
        if np.isnan(data[:, j]).all():
            data[1, j] = 1
    return data, q


def irr(data: np.ndarray, q: int, method: str, weights: Any = "identity") -> dict[str, float]:
    frame = pd.DataFrame(data)
    with warnings.catch_warnings():  # irrCAC writes into a view and downcasts in pandas
        warnings.simplefilter("ignore")
        return getattr(CAC(frame, weights=weights, categories=list(range(1, q + 1)), digits=15), method)()["est"]


CAC_METHODS = [("fleiss_kappa", "fleiss"), ("gwet_ac1", "gwet"), ("brennan_prediger", "bp"), ("conger_kappa", "conger")]


@pytest.mark.parametrize(("metric", "method"), CAC_METHODS)
@pytest.mark.parametrize("weights", ["identity", "linear", "quadratic", "ordinal"])
@settings(max_examples=15, deadline=None)
@given(case=tables())
def test_kappa_family_matches_irrcac(case: tuple[np.ndarray, int], metric: str, method: str, weights: str) -> None:
    data, q = case
    ours = agreement(data, metric, weights=weights, categories=list(range(1, q + 1)))
    ref = irr(data, q, method, weights)
    assert ours.value == pytest.approx(ref["coefficient_value"], abs=TOL)
    assert ours.observed == pytest.approx(ref["pa"], abs=TOL)
    assert ours.expected == pytest.approx(ref["pe"], abs=TOL)
    if ref["se"] > 1e-12:  # irrCAC replaces a zero SE by 1e-15
        assert ours.se == pytest.approx(ref["se"], abs=TOL)
        assert ours.ci is not None
        assert ours.ci[0] == pytest.approx(ref["confidence_interval"][0], abs=TOL)
        assert ours.ci[1] == pytest.approx(ref["confidence_interval"][1], abs=TOL)


@pytest.mark.parametrize(("level", "weights"), [("nominal", "identity"), ("interval", "quadratic")])
@settings(max_examples=25, deadline=None)
@given(case=tables())
def test_alpha_matches_irrcac_with_se(case: tuple[np.ndarray, int], level: str, weights: str) -> None:
    # interval alpha on the values 1..q is Gwet's alpha with quadratic weights
    data, q = case
    ours = agreement(data, "krippendorff_alpha", level=level, categories=list(range(1, q + 1)))
    ref = irr(data, q, "krippendorff", weights)
    assert ours.value == pytest.approx(ref["coefficient_value"], abs=TOL)
    if ref["se"] > 1e-12:
        assert ours.se == pytest.approx(ref["se"], abs=TOL)


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
@settings(max_examples=30, deadline=None)
@given(case=tables(max_raters=6))
def test_alpha_matches_krippendorff_package(case: tuple[np.ndarray, int], level: str) -> None:
    data, q = case
    ours = agreement(data, "krippendorff_alpha", level=level, categories=list(range(1, q + 1)), ci_method="none")
    ref = krippendorff.alpha(data.T, level_of_measurement=level, value_domain=list(range(1, q + 1)))
    assert ours.value == pytest.approx(ref, abs=TOL)


@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
@settings(max_examples=30, deadline=None)
@given(case=tables(max_raters=2, complete=True))
def test_cohen_matches_sklearn_and_statsmodels(case: tuple[np.ndarray, int], weights: str | None) -> None:
    data, q = case
    cats = list(range(1, q + 1))
    ours = agreement(data, "cohen_kappa", weights=weights, categories=cats)
    a, b = data[:, 0].astype(int), data[:, 1].astype(int)
    assert ours.value == pytest.approx(cohen_kappa_score(a, b, labels=cats, weights=weights), abs=TOL)
    table = np.zeros((q, q))
    np.add.at(table, (a - 1, b - 1), 1)
    with warnings.catch_warnings():  # statsmodels divides by a zero null SE on degenerate tables
        warnings.simplefilter("ignore", RuntimeWarning)
        sm_kappa = cohens_kappa(table, wt=weights).kappa
    assert ours.value == pytest.approx(sm_kappa, abs=TOL)
    # Cohen's kappa is Conger's with two raters: value and Gwet's SE agree with irrCAC
    assert ours.se == pytest.approx(irr(data, q, "conger", weights or "identity")["se"], abs=TOL)


def test_cohen_pins_the_declared_scale_when_categories_are_unobserved() -> None:
    # scikit-learn builds linear weights from the labels it sees unless labels= is passed; we build
    # them from the declared scale. Here category 3 of 1..4 is never used: 2 -> 4 is 2 steps on the
    # declared scale but 1 step among the observed labels, so the two choices give different numbers.
    a = [1, 2, 4, 4, 1, 2, 4, 1]
    b = [1, 4, 4, 2, 2, 2, 1, 1]
    data = np.array([a, b]).T
    declared = agreement(data, "cohen_kappa", weights="linear", categories=[1, 2, 3, 4])
    assert declared.value == pytest.approx(cohen_kappa_score(a, b, labels=[1, 2, 3, 4], weights="linear"), abs=TOL)
    observed_only = agreement(data, "cohen_kappa", weights="linear")
    assert observed_only.value == pytest.approx(cohen_kappa_score(a, b, weights="linear"), abs=TOL)
    assert declared.value != pytest.approx(observed_only.value, abs=1e-3)


@settings(max_examples=30, deadline=None)
@given(case=tables(min_raters=2, max_raters=6, complete=True))
def test_fleiss_and_randolph_match_statsmodels_on_complete_data(case: tuple[np.ndarray, int]) -> None:
    data, q = case
    cats = list(range(1, q + 1))
    counts, _ = aggregate_raters(data.astype(int) - 1, n_cat=q)
    assert agreement(data, "fleiss_kappa", categories=cats).value == pytest.approx(fleiss_kappa(counts), abs=TOL)
    # statsmodels' "randolph" (free-marginal) kappa is Brennan-Prediger with uniform chance 1/q
    assert agreement(data, "brennan_prediger", categories=cats).value == pytest.approx(
        fleiss_kappa(counts, method="randolph"), abs=TOL)


@settings(max_examples=30, deadline=None)
@given(case=tables(max_raters=2, complete=True))
def test_scott_pi_is_fleiss_for_two_raters(case: tuple[np.ndarray, int]) -> None:
    data, q = case
    a, b = data[:, 0], data[:, 1]
    cats = np.arange(1, q + 1)
    po = float((a == b).mean())
    pooled = np.array([((a == c).sum() + (b == c).sum()) / (2 * len(a)) for c in cats])
    pe = float((pooled**2).sum())
    assert agreement(data, "scott_pi", categories=list(cats)).value == pytest.approx((po - pe) / (1 - pe), abs=TOL)


def test_cohen_with_missing_ratings_pins_gwets_marginals() -> None:
    # With a missing rating, scikit-learn cannot run and a complete-case analysis would drop the
    # unit everywhere; we follow Gwet (irrCAC): observed agreement over units both raters rated,
    # each rater's marginals over every unit that rater rated.
    data = np.array([[1, 1], [2, 2], [1, 2], [2, np.nan], [2, 2], [1, 1], [np.nan, 1]], dtype=float)
    ours = agreement(data, "cohen_kappa", categories=[1, 2])
    ref = irr(data, 2, "conger")
    assert ours.value == pytest.approx(ref["coefficient_value"], abs=TOL)
    assert ours.se == pytest.approx(ref["se"], abs=TOL)
    complete = data[~np.isnan(data).any(axis=1)].astype(int)
    assert ours.value != pytest.approx(cohen_kappa_score(complete[:, 0], complete[:, 1]), abs=1e-3)


@pytest.mark.parametrize(("metric", "method"), [*CAC_METHODS, ("krippendorff_alpha", "krippendorff")])
@pytest.mark.parametrize("weights", ["identity", "quadratic"])
@settings(max_examples=10, deadline=None)
@given(case=tables(min_raters=9, max_raters=12))
def test_many_raters_use_the_count_matrix_and_still_match(case: tuple[np.ndarray, int], metric: str, method: str, weights: str) -> None:
    # more than PAIRWISE_MAX_RATERS raters: per-unit sums come from the units x categories matrix
    data, q = case
    cats = list(range(1, q + 1))
    if metric == "krippendorff_alpha":
        ours = agreement(data, metric, level="nominal" if weights == "identity" else "interval", categories=cats)
    else:
        ours = agreement(data, metric, weights=weights, categories=cats)
    ref = irr(data, q, method, weights)
    assert ours.value == pytest.approx(ref["coefficient_value"], abs=TOL)
    if ref["se"] > 1e-12:
        assert ours.se == pytest.approx(ref["se"], abs=TOL)


def test_asymmetric_custom_weights_match_irrcac() -> None:
    rng = np.random.default_rng(5)
    data = rng.integers(1, 4, (30, 4)).astype(float)
    data[rng.random(data.shape) < 0.2] = np.nan
    w = np.array([[1.0, 0.5, 0.0], [0.2, 1.0, 0.7], [0.1, 0.4, 1.0]])
    for metric, method in CAC_METHODS:
        ours = agreement(data, metric, weights=w, categories=[1, 2, 3])
        ref = irr(data, 3, method, w)
        assert ours.value == pytest.approx(ref["coefficient_value"], abs=TOL), metric
        assert ours.se == pytest.approx(ref["se"], abs=TOL), metric


def _expand(table: pd.DataFrame) -> list[list[int]]:
    rows: list[list[int]] = []
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            rows += [[i + 1, j + 1]] * int(table.iloc[i, j])
    return rows


TABLE_METHODS = [("percent", "pa2"), ("cohen_kappa", "cohen"), ("scott_pi", "scott"), ("gwet_ac1", "gwet"),
                 ("brennan_prediger", "bp"), ("krippendorff_alpha", "krippendorff")]


@pytest.mark.parametrize("dataset", ["table_cont3x3abstractors", "table_cont4x4diagnosis"])
@pytest.mark.parametrize("weights", ["identity", "quadratic"])
def test_two_rater_tables_match_irrcac_table_functions(dataset: str, weights: str) -> None:
    # Gwet's two-rater contingency-table functions divide the variance by n^2, his raw-data functions
    # (which we follow, for every number of raters) by n(n - 1): the SEs differ by sqrt((n - 1)/n) exactly.
    import irrCAC.datasets
    from irrCAC.table import CAC as TableCAC

    table = getattr(irrCAC.datasets, dataset)()
    rows = _expand(table)
    n, cats = len(rows), list(range(1, table.shape[0] + 1))
    for metric, method in TABLE_METHODS:
        if metric == "krippendorff_alpha":
            ours = agreement(rows, metric, level="nominal" if weights == "identity" else "interval", categories=cats)
        else:
            ours = agreement(rows, metric, weights=weights, categories=cats)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = getattr(TableCAC(table, weights=weights, digits=15), method)()["est"]
        assert ours.value == pytest.approx(float(ref["coefficient_value"]), abs=TOL), metric
        assert ours.se is not None
        assert ours.se * np.sqrt((n - 1) / n) == pytest.approx(float(np.ravel(ref["se"])[0]), abs=TOL), metric


def test_gwet_ac1_on_the_abstractors_table_to_the_published_digit() -> None:
    # irrCAC's documentation (Gwet 2014): AC1 0.84933 (SE 0.04322), AC2 quadratic 0.94024 (SE 0.01792);
    # its SEs come from the table formula, hence the sqrt((n - 1)/n) factor (see the test above).
    from irrCAC.datasets import table_cont3x3abstractors

    rows = _expand(table_cont3x3abstractors())
    factor = np.sqrt((len(rows) - 1) / len(rows))
    ac1 = agreement(rows, "gwet_ac1")
    assert (round(ac1.value, 5), round((ac1.se or 0) * factor, 5), round(ac1.observed, 5), round(ac1.expected, 5)) == (
        0.84933, 0.04322, 0.89, 0.26992)
    ac2 = agreement(rows, "gwet_ac1", weights="quadratic")
    assert (round(ac2.value, 5), round((ac2.se or 0) * factor, 5), round(ac2.observed, 5)) == (0.94024, 0.01792, 0.9725)
