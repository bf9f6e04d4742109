"""Agreement: published worked examples to the published digit, properties, inputs and errors."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labelgate.core.errors import QualityError
from labelgate.quality import AgreementResult, RatingTable, agreement
from labelgate.quality.agreement import KRIPPENDORFF, LANDIS_KOCH, METRICS, interpret

N = None
# Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: 4 observers x 12 units
KRIPP_2011 = np.array([
    [1, 2, 3, 3, 2, 1, 4, 1, 2, N, N, N],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, N, 3],
    [N, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, N],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, N],
], dtype=object).T

# Fleiss (1971), psychiatric diagnoses of 30 patients by 6 raters (categories 1..5), raw layout as in
# R's irr::diagnoses
FLEISS_1971 = np.array([
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
    [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
    [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
    [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
    [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
])

# Wikipedia's "Fleiss' kappa" worked example: 10 subjects, 14 raters, counts per category
WIKIPEDIA_COUNTS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


@pytest.mark.parametrize(("level", "published"), [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)])
def test_krippendorff_2011_reliability_data(level: str, published: float) -> None:
    result = agreement(KRIPP_2011, "krippendorff_alpha", level=level)
    assert round(result.value, 3) == published
    assert result.units == 12  # unit 12 has one value: counted as a unit, not pairable
    assert result.pairable_units == 11
    assert result.pairable_values == 40


def test_gwet_handbook_examples_from_irrcac_documentation() -> None:
    # irrCAC's documented results for its raw_4raters data set (Gwet 2014), to its 5 digits
    ac1 = agreement(KRIPP_2011, "gwet_ac1")
    got = (round(ac1.value, 5), round(ac1.se or 0, 5), round(ac1.observed, 5), round(ac1.expected, 5))
    assert got == (0.77544, 0.14295, 0.81818, 0.19032)
    assert ac1.ci is not None
    assert (round(ac1.ci[0], 5), ac1.ci[1]) == (0.46081, 1.0)
    fk = agreement(KRIPP_2011, "fleiss_kappa")
    assert (round(fk.value, 5), round(fk.se or 0, 5), round(fk.expected, 5)) == (0.76117, 0.15302, 0.23872)
    from irrCAC.weights import Weights

    bipolar = Weights([1, 2, 3, 4, 5]).bipolar()
    ac2 = agreement(KRIPP_2011, "gwet_ac1", weights=bipolar)
    assert ac2.metric == "gwet_ac2"
    got = (round(ac2.value, 5), round(ac2.se or 0, 5), round(ac2.observed, 5), round(ac2.expected, 5))
    assert got == (0.90037, 0.10582, 0.96836, 0.68244)


def test_fleiss_1971_diagnoses() -> None:
    result = agreement(FLEISS_1971, "fleiss_kappa")
    assert round(result.value, 3) == 0.430  # Fleiss (1971)
    # Fleiss, Nee & Landis (1979) null standard error: R irr::kappam.fleiss reports z = 17.7
    assert round(result.extra["z_null"], 1) == 17.7
    assert result.interpretation == "moderate"


def test_fleiss_from_a_count_table() -> None:
    result = agreement(RatingTable.from_counts(WIKIPEDIA_COUNTS), "fleiss_kappa")
    assert round(result.value, 3) == 0.210
    assert round(result.observed, 3) == 0.378
    assert round(result.expected, 3) == 0.213
    with pytest.raises(QualityError, match="rater identities"):
        agreement(RatingTable.from_counts(WIKIPEDIA_COUNTS), "conger_kappa")


@st.composite
def perfect(draw: Any) -> np.ndarray:
    n = draw(st.integers(3, 20))
    r = draw(st.integers(2, 5))
    truth = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n)), dtype=float)
    truth[:2] = [0, 1]
    data = np.repeat(truth[:, None], r, axis=1)
    mask = np.array(draw(st.lists(st.booleans(), min_size=n * r, max_size=n * r))).reshape(n, r)
    mask[:, :2] = False  # two raters rate everything, the rest may skip
    data[mask] = np.nan
    return data


ALL = [(m, None) for m in METRICS if m not in ("cohen_kappa", "scott_pi")]
ALL += [("krippendorff_alpha", lvl) for lvl in ("ordinal", "interval")]


@pytest.mark.parametrize(("metric", "level"), ALL)
@settings(max_examples=20, deadline=None)
@given(data=perfect())
def test_perfect_raters_give_one(data: np.ndarray, metric: str, level: str | None) -> None:
    result = agreement(data, metric, level=level, ci_method="none")
    assert result.value == pytest.approx(1.0, abs=1e-12)
    assert result.observed == pytest.approx(1.0, abs=1e-12)


@st.composite
def noisy(draw: Any) -> np.ndarray:
    n, r = draw(st.integers(4, 20)), draw(st.integers(2, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    data = rng.integers(0, 4, (n, r)).astype(float)
    data[rng.random((n, r)) < 0.2] = np.nan
    data[0, :2] = [0, 1]
    for j in range(r):
        data[1, j] = 2 if np.isnan(data[:, j]).all() else data[1, j]
    return data


@pytest.mark.parametrize("metric", [m for m in METRICS if m not in ("cohen_kappa", "scott_pi")])
@settings(max_examples=20, deadline=None)
@given(data=noisy(), seed=st.integers(0, 1000))
def test_invariant_to_renaming_labels_and_symmetric_in_raters(data: np.ndarray, metric: str, seed: int) -> None:
    base = agreement(data, metric)
    names = np.array(["cat", "dog", "emu", "yak"], dtype=object)[np.random.default_rng(seed).permutation(4)]
    renamed = np.where(np.isnan(data), None, names[np.nan_to_num(data).astype(int)])
    again = agreement(renamed, metric)
    assert again.value == pytest.approx(base.value, abs=1e-12, nan_ok=True)
    swapped = agreement(data[:, np.random.default_rng(seed).permutation(data.shape[1])], metric)
    assert swapped.value == pytest.approx(base.value, abs=1e-12, nan_ok=True)
    assert swapped.se == pytest.approx(base.se, abs=1e-12, nan_ok=True)
    assert base.value <= 1.0 + 1e-12 or math.isnan(base.value)


def test_two_rater_metrics_are_symmetric_and_carry_byrt_indices() -> None:
    # 2x2 table a=20 (yes,yes), b=5 (yes,no), c=10 (no,yes), d=15 (no,no): PI=(a-d)/n, BI=(b-c)/n
    rows = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    result = agreement([list(r) for r in rows], "cohen_kappa", categories=["yes", "no"])
    assert result.prevalence_index == pytest.approx((20 - 15) / 50)
    assert result.bias_index == pytest.approx((5 - 10) / 50)
    assert result.extra["pabak"] == pytest.approx(2 * (20 + 15) / 50 - 1)
    flipped = agreement([list(reversed(r)) for r in rows], "cohen_kappa", categories=["yes", "no"])
    assert flipped.value == pytest.approx(result.value)
    assert agreement([list(r) for r in rows], "scott_pi").value == pytest.approx(agreement([list(r) for r in rows], "fleiss_kappa").value)
    with pytest.raises(QualityError, match="exactly two raters"):
        agreement(KRIPP_2011, "cohen_kappa")


def test_long_form_records_and_frames_equal_wide_form() -> None:
    wide = agreement(KRIPP_2011, "krippendorff_alpha")
    records = [(u, f"r{r}", KRIPP_2011[u, r]) for u in range(12) for r in range(4) if KRIPP_2011[u, r] is not None]
    assert agreement(records, "krippendorff_alpha").value == pytest.approx(wide.value, abs=1e-15)
    dicts = [{"unit": u, "rater": r, "label": lab} for u, r, lab in records]
    assert agreement(dicts, "alpha").value == pytest.approx(wide.value, abs=1e-15)
    frame = pd.DataFrame(dicts)
    assert agreement(frame, "alpha").value == pytest.approx(wide.value, abs=1e-15)
    renamed = frame.rename(columns={"rater": "annotator"})
    assert agreement(renamed, "alpha").value == pytest.approx(wide.value, abs=1e-15)
    assert agreement(renamed.to_dict("records"), "alpha").value == pytest.approx(wide.value, abs=1e-15)
    wide_frame = pd.DataFrame(KRIPP_2011.astype(float), columns=list("ABCD"))
    assert agreement(wide_frame, "alpha").value == pytest.approx(wide.value, abs=1e-15)
    listed = agreement(KRIPP_2011.tolist(), "alpha")
    assert listed.value == pytest.approx(wide.value, abs=1e-15)


def test_declared_categories_extend_and_check_the_scale() -> None:
    observed = agreement(KRIPP_2011, "brennan_prediger")
    declared = agreement(KRIPP_2011, "brennan_prediger", categories=[1, 2, 3, 4, 5, 6, 7, 8])
    assert declared.expected == pytest.approx(1 / 8)
    assert observed.expected == pytest.approx(1 / 5)
    with pytest.raises(QualityError, match=r"rating 5.*not among the declared categories"):
        agreement(KRIPP_2011, "fleiss_kappa", categories=[1, 2, 3, 4])
    with pytest.raises(QualityError, match="twice"):
        agreement([("u1", "a", 1), ("u1", "a", 2), ("u1", "b", 1)], "percent")


def test_errors_name_what_to_do() -> None:
    with pytest.raises(QualityError, match="unknown agreement metric"):
        agreement(KRIPP_2011, "kendall_w")
    with pytest.raises(QualityError, match="not level"):
        agreement(KRIPP_2011, "fleiss_kappa", level="ordinal")
    with pytest.raises(QualityError, match="not weights"):
        agreement(KRIPP_2011, "krippendorff_alpha", weights="linear")
    with pytest.raises(QualityError, match="numeric categories"):
        agreement([["a", "b"], ["b", "b"]], "krippendorff_alpha", level="interval")
    with pytest.raises(QualityError, match="nothing to agree on"):
        agreement([[1, None], [None, 2]], "fleiss_kappa")
    with pytest.raises(QualityError, match="4x4"):
        agreement([[1, 2], [3, 4]], "gwet_ac1", weights=np.eye(3))


def test_percent_agreement_is_pairwise_over_pairable_units() -> None:
    # unit 1: 3 raters agree (6/6 ordered pairs), unit 2: 2 of 3 agree (2/6), unit 3: one rating (not pairable)
    result = agreement([["a", "a", "a"], ["a", "a", "b"], ["b", None, None]], "percent")
    assert result.value == pytest.approx((1 + 1 / 3) / 2)
    assert result.expected == 0.0
    assert result.pairable_units == 2
    assert result.units == 3


def test_ordinal_alpha_bootstraps_reproducibly() -> None:
    one = agreement(KRIPP_2011, "krippendorff_alpha", level="ordinal", resamples=300, seed=7)
    two = agreement(KRIPP_2011, "krippendorff_alpha", level="ordinal", resamples=300, seed=7)
    assert one.ci_method == "bootstrap"
    assert one.ci == two.ci
    assert one.se == two.se
    assert one.ci is not None
    assert one.ci[0] < one.value <= one.ci[1] + 1e-12
    forced = agreement(KRIPP_2011, "fleiss_kappa", ci_method="bootstrap", resamples=200)
    assert forced.ci_method == "bootstrap"
    assert forced.se is not None
    assert agreement(KRIPP_2011, "fleiss_kappa", ci_method="none").se is None


def test_interpretation_scales() -> None:
    assert [interpret(v, LANDIS_KOCH) for v in (-0.1, 0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7, 0.8, 0.9)] == [
        "poor", "slight", "slight", "slight", "fair", "fair", "moderate", "substantial", "substantial", "almost perfect"]
    assert [interpret(v, KRIPPENDORFF) for v in (0.5, 0.667, 0.75, 0.8)] == ["unreliable", "tentative", "tentative", "reliable"]
    assert interpret(math.nan, LANDIS_KOCH) == "undefined"
    assert agreement(KRIPP_2011, "alpha").interpretation == "tentative"
    custom = agreement(KRIPP_2011, "fleiss_kappa", scale=[(-math.inf, "bad"), (0.7, "good")])
    assert custom.interpretation == "good"


def test_undefined_when_everyone_uses_one_category() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = agreement([[1, 1], [1, 1], [1, 1]], "fleiss_kappa")
    assert math.isnan(result.value)
    assert result.interpretation == "undefined"
    assert orjson.loads(orjson.dumps(result.to_dict()))["value"] is None


def test_result_serialises() -> None:
    result = agreement(KRIPP_2011, "gwet_ac1")
    assert isinstance(result, AgreementResult)
    data = orjson.loads(orjson.dumps(result.to_dict()))
    assert data["metric"] == "gwet_ac1"
    assert data["categories"] == [1, 2, 3, 4, 5]
    assert data["ci"][1] == 1.0
    assert float(result) == result.value


def test_boolean_ratings_keep_their_labels() -> None:
    result = agreement(np.array([[True, True], [False, True], [False, False], [True, True]]), "cohen_kappa")
    assert result.categories == (False, True)
    assert result.observed == 0.75


def test_pandas_nullable_missing_values() -> None:
    frame = pd.DataFrame({"a": [1, 2, None, 1], "b": [1, 2, 2, None]}, dtype="Int64")
    result = agreement(frame, "krippendorff_alpha")
    assert result.value == 1.0
    assert result.pairable_units == 2
    assert result.raters == 2


def test_accumulator_latest_rating_counts() -> None:
    from labelgate.quality import AgreementAccumulator

    acc = AgreementAccumulator()
    for u in range(12):
        for r in range(4):
            if KRIPP_2011[u, r] is not None:
                acc.update(u, r, 9)  # a first, wrong submission ...
                acc.update(u, r, KRIPP_2011[u, r])  # ... replaced by the corrected one
    assert len(acc) == 41
    assert acc.compute("krippendorff_alpha").value == pytest.approx(agreement(KRIPP_2011, "krippendorff_alpha").value)
    acc.remove(11, 1)  # unit 12's only rating
    assert acc.compute("fleiss_kappa").units == 11


def test_public_exports() -> None:
    import labelgate.quality as quality

    mine = {"agreement", "AgreementAccumulator", "AgreementResult", "RatingTable", "rating_table", "score_gold", "GoldAccumulator",
            "GoldReport", "majority_vote", "dawid_skene", "Consensus", "DawidSkene", "test_retest", "cusum", "Cusum", "WindowedAgreement"}
    assert mine <= set(quality.__all__)
    assert all(hasattr(quality, name) for name in quality.__all__)
    assert callable(quality.agreement)
