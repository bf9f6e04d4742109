"""Truth inference: majority vote tie rules and Dawid-Skene EM."""

from __future__ import annotations

import numpy as np
import orjson
import pytest

from labelgate.core.errors import QualityError
from labelgate.quality import dawid_skene, majority_vote


def test_majority_vote_tie_rules() -> None:
    data = [["b", "b", "a"], ["a", "b", None], ["c", "c", "c"]]
    low = majority_vote(data, tie="lowest_label")
    assert low.labels == ("b", "a", "c")
    assert low.ties == 1
    assert low.support.tolist() == pytest.approx([2 / 3, 0.5, 1.0])
    abstain = majority_vote(data, tie="abstain")
    assert abstain.labels == ("b", None, "c")
    assert np.isnan(abstain.support[1])
    picks = {majority_vote(data, tie="random", seed=s).labels[1] for s in range(20)}
    assert picks == {"a", "b"}
    assert majority_vote(data, tie="random", seed=3).labels == majority_vote(data, tie="random", seed=3).labels
    declared = majority_vote(data, tie="lowest_label", categories=["c", "b", "a"])
    assert declared.labels[1] == "b"  # "b" comes before "a" in the declared order
    with pytest.raises(QualityError, match="tie rule"):
        majority_vote(data, tie="coin")
    assert orjson.loads(orjson.dumps(abstain.to_dict()))["units"][1]["label"] is None


def simulate(seed: int = 1, n: int = 1500, q: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Two careful annotators and three who answer at random: the random ones outvote the careful."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, q, n)

    def careful(acc: float) -> np.ndarray:
        return np.where(rng.random(n) < acc, truth, (truth + rng.integers(1, q, n)) % q)

    data = np.stack([careful(0.9), careful(0.85)] + [rng.integers(0, q, n) for _ in range(3)], axis=1).astype(float)
    data[rng.random(data.shape) < 0.1] = np.nan
    return data, truth


def test_dawid_skene_beats_majority_vote_when_spammers_outnumber_experts() -> None:
    data, truth = simulate()
    mv = np.array(majority_vote(data, tie="random", seed=0).labels)
    ds = dawid_skene(data)
    mv_acc = float((mv == truth).mean())
    ds_acc = float((np.array(ds.labels) == truth).mean())
    assert ds.converged
    assert ds_acc > mv_acc + 0.1
    accuracy = ds.accuracy()
    assert accuracy[0] == pytest.approx(0.9, abs=0.05)
    assert accuracy[1] == pytest.approx(0.85, abs=0.05)
    assert all(accuracy[j] < 0.45 for j in (2, 3, 4))  # random over 3 classes: ~1/3
    assert ds.posteriors.sum(axis=1) == pytest.approx(np.ones(len(truth)))
    assert ds.confusions.sum(axis=2) == pytest.approx(np.ones((5, 3)))
    assert ds.priors.sum() == pytest.approx(1.0)


def test_dawid_skene_is_deterministic_and_serialises() -> None:
    data, _ = simulate(seed=2, n=300)
    one, two = dawid_skene(data), dawid_skene(data)
    assert one.labels == two.labels
    assert np.array_equal(one.posteriors, two.posteriors)
    payload = orjson.loads(orjson.dumps(one.to_dict()))
    assert payload["method"] == "dawid-skene"
    assert len(payload["units"]) == 300


def test_dawid_skene_takes_long_form_and_agrees_with_unanimous_raters() -> None:
    records = [(u, r, "yes" if u % 3 else "no") for u in range(30) for r in ("a", "b", "c")]
    ds = dawid_skene(records)
    assert ds.labels == tuple("yes" if u % 3 else "no" for u in range(30))
    assert ds.annotators == ("a", "b", "c")
    with pytest.raises(QualityError, match="max_iter"):
        dawid_skene(records, max_iter=0)


def naive_dawid_skene(data: np.ndarray, q: int, iterations: int, smoothing: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Dawid & Skene (1979) written out unit by unit, as in the paper, to check the vectorised EM."""
    n, r = data.shape
    post = np.zeros((n, q))
    for i in range(n):
        for j in range(r):
            if not np.isnan(data[i, j]):
                post[i, int(data[i, j])] += 1
        post[i] /= post[i].sum()
    for _ in range(iterations):
        priors = (post.sum(axis=0) + smoothing) / (n + q * smoothing)
        conf = np.full((r, q, q), smoothing)
        for j in range(r):
            for i in range(n):
                if not np.isnan(data[i, j]):
                    conf[j, :, int(data[i, j])] += post[i]
            conf[j] /= conf[j].sum(axis=1, keepdims=True)
        for i in range(n):
            like = priors.copy()
            for j in range(r):
                if not np.isnan(data[i, j]):
                    like *= conf[j, :, int(data[i, j])]
            post[i] = like / like.sum()
    return post, priors, conf


def test_dawid_skene_matches_the_paper_written_out() -> None:
    data, _ = simulate(seed=4, n=120)
    ours = dawid_skene(data, categories=[0, 1, 2], max_iter=7, tol=1e-300, smoothing=0.05)
    post, priors, conf = naive_dawid_skene(data, 3, 7, 0.05)
    assert ours.iterations == 7
    np.testing.assert_allclose(ours.posteriors, post, rtol=0, atol=1e-10)
    np.testing.assert_allclose(ours.priors, priors, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.confusions, conf, rtol=0, atol=1e-12)
