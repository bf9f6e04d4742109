"""The server's quality accumulators: updated one engine record at a time they equal a full
recomputation, kappa equals quality.spatial's on the same answers, and agreement splits by guideline
version."""

from __future__ import annotations

import numpy as np
import pytest

from labelgate.core import Box, Region
from labelgate.formats.native import region_from_dict, region_to_dict
from labelgate.quality.spatial import compare
from labelgate.server.services.quality_book import EMPTY, QualityBook, kappa_summary, object_pairs
from labelgate.workflow import (
    AddMember,
    AddTasks,
    Assigned,
    OverlapPolicy,
    PublishGuideline,
    RequestTask,
    Submit,
    TaskSpec,
    WorkflowConfig,
    advance,
    new_state,
)

CLASSES = ("Product", "Price tag", "Empty slot")


def answer(rng: np.random.Generator, truth: list[tuple[float, str]], p: float) -> list[dict]:  # type: ignore[type-arg]
    out = []
    for x, label in truth:
        if rng.random() < p:
            continue
        if rng.random() < p:
            label = CLASSES[(CLASSES.index(label) + 1) % 3]
        out.append(region_to_dict(Region(Box(x, 0, x + 50, 50), label)))
    return out


def run(n_tasks: int = 60, seed: int = 0) -> tuple[object, QualityBook, dict[int | None, dict[str, dict[str, list]]]]:  # type: ignore[type-arg]
    rng = np.random.default_rng(seed)
    state = new_state(WorkflowConfig(overlap=OverlapPolicy(order="complete")))
    book = QualityBook()
    now = [0.0]
    given: dict[int | None, dict[str, dict[str, list]]] = {}  # type: ignore[type-arg]

    def step(event: object) -> list[object]:
        now[0] += 1
        effects = advance(state, event, now[0])[1]  # type: ignore[arg-type]
        book.apply(state, state.log[-1])
        return effects  # type: ignore[return-value]

    truth = {f"t{i}": [(60.0 * k, CLASSES[int(rng.integers(0, 3))]) for k in range(4)] for i in range(n_tasks)}
    step(AddTasks([TaskSpec(t, overlap=2 if i % 2 == 0 else 1) for i, t in enumerate(truth)]))
    for m in ("a", "b", "c"):
        step(AddMember(m, frozenset({"annotator"})))
    for version, p in ((1, 0.3), (2, 0.05)):
        step(PublishGuideline(version, f"v{version}"))
        for _ in range(n_tasks // 4):
            for m in ("a", "b", "c"):
                got = [e for e in step(RequestTask(m)) if isinstance(e, Assigned)]
                if got:
                    tid = got[0].assignment.task_id
                    ans = answer(rng, truth[tid], p)
                    given.setdefault(version, {}).setdefault(m, {})[tid] = ans
                    step(Submit(m, tid, f"{m}-{tid}", ans))
    return state, book, given


def test_incremental_equals_full_and_the_oracle() -> None:
    state, book, given = run()
    full = QualityBook.rebuild(state)  # type: ignore[arg-type]
    inc, ref = book.agreement(), full.agreement()
    assert inc == ref
    assert set(inc["by_version"]) == {"1", "2"}
    for version, entry in inc["by_version"].items():
        for pair in entry["pairs"]:
            a, b = pair["a"], pair["b"]
            both = sorted(set(given[int(version)][a]) & set(given[int(version)][b]))
            ra = {t: [region_from_dict(d) for d in given[int(version)][a][t]] for t in both}
            rb = {t: [region_from_dict(d) for d in given[int(version)][b][t]] for t in both}
            assert pair["items"] == len(both)
            assert pair["kappa"] == pytest.approx(compare(ra, rb).kappa, abs=1e-12)
    assert inc["by_version"]["1"]["kappa"] < inc["by_version"]["2"]["kappa"]
    assert len(inc["timeline"]) == 1 and inc["timeline"][0]["day"] == "1970-01-01"  # the run's clock starts at 0
    assert inc["timeline"][0]["objects"] == inc["objects"]
    cards = {c["member"]: c for c in book.scorecards(state)}  # type: ignore[arg-type]
    assert cards == {c["member"]: c for c in full.scorecards(state)}  # type: ignore[arg-type]
    assert sum(c["submitted"] for c in cards.values()) == sum(len(t) for v in given.values() for t in v.values())


def test_kappa_summary_edges() -> None:
    assert kappa_summary({}, 0)["kappa"] is None  # type: ignore[arg-type]
    perfect = kappa_summary({("Product", "Product"): 5}, 1)  # type: ignore[arg-type]
    assert perfect["kappa"] == 1.0 and perfect["ci"] == (1.0, 1.0)
    pairs = object_pairs([Region(Box(0, 0, 10, 10), "Product")], [], 0.5)
    assert pairs == [("Product", EMPTY)]


def test_confused_pairs_rank_label_swaps_first() -> None:
    from collections import Counter

    counts = Counter({("Product", "Price tag"): 3, ("Price tag", "Product"): 2, ("Product", EMPTY): 9,
                      ("Product", "Product"): 40})
    top = QualityBook.confused(counts)
    assert top[0] == {"a": "Price tag", "b": "Product", "count": 5}
    assert top[1] == {"a": "Product", "b": None, "count": 9}
