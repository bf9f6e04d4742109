"""Quality dashboard data at 100k tasks: full computation, and one incremental update after a submit.

Project: 100,000 shelf-like tasks (5 boxes each, 3 classes), overlap 3 on 10% (10,000 tasks, three
annotators each), 30 annotators with controlled errors (2% missed boxes, 5% wrong class, 1 px jitter).
The engine (``labelgate.workflow``) takes every RequestTask + Submit; the server's
:class:`~labelgate.server.services.quality_book.QualityBook` is fed each record as the server does.

Measured: the full computation (``QualityBook.rebuild`` over the finished project, then the agreement
report and the scorecards), and with a peer from scratch (``quality.spatial_agreement`` over the overlap
tasks, the library's batch path); then the incremental cost of one more submit on an overlap task:
engine ``advance`` + ``QualityBook.apply`` + the agreement report + the scorecards (target < 50 ms).

    .venv/bin/python benchmarks/workflow/dashboard.py [--tasks 100000]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from typing import Any

import numpy as np

from labelgate.core import Annotation, Box, Dataset, Item, LabelClass, LabelSchema, Provenance, Region, Source
from labelgate.formats.native import region_from_dict, region_to_dict
from labelgate.quality.spatial import spatial_agreement
from labelgate.server.services.quality_book import QualityBook
from labelgate.workflow import (
    AddMember,
    AddTasks,
    Assigned,
    OverlapPolicy,
    RequestTask,
    Submit,
    TaskSpec,
    WorkflowConfig,
    advance,
    new_state,
)

CLASSES = ("Product", "Price tag", "Empty slot")
_T_FULL = [0.0]


def truth_boxes(rng: np.random.Generator) -> list[tuple[float, float, float, float, str]]:
    out = []
    for k in range(5):
        x = 10 + 80 * k + float(rng.integers(0, 10))
        out.append((x, 20.0, x + 60.0, 120.0, CLASSES[int(rng.integers(0, 3))]))
    return out


def noisy(truth: list[tuple[float, float, float, float, str]], rng: np.random.Generator) -> list[dict]:  # type: ignore[type-arg]
    out = []
    for x1, y1, x2, y2, label in truth:
        if rng.random() < 0.02:
            continue
        if rng.random() < 0.05:
            label = CLASSES[(CLASSES.index(label) + 1) % 3]
        dx, dy = rng.normal(0, 1.0, 2)
        out.append(region_to_dict(Region(Box(x1 + dx, y1 + dy, x2 + dx, y2 + dy), label)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--annotators", type=int, default=30)
    ap.add_argument("--peer", action="store_true", help="also time quality.spatial_agreement from scratch (slow)")
    ns = ap.parse_args()
    rng = np.random.default_rng(0)
    config = WorkflowConfig(overlap=OverlapPolicy(k=3, fraction=0.0))
    state = new_state(config)
    book = QualityBook()
    now = [0.0]

    def step(event: object) -> list[object]:
        now[0] += 0.01
        effects = advance(state, event, now[0])[1]  # type: ignore[arg-type]
        book.apply(state, state.log[-1])
        return effects  # type: ignore[return-value]

    n_overlap = ns.tasks // 10
    specs = [TaskSpec(f"t{i}", overlap=3 if i % 10 == 0 else 1) for i in range(ns.tasks)]
    truth = {s.id: truth_boxes(rng) for s in specs}
    step(AddTasks(specs))
    members = [f"a{i:02d}" for i in range(ns.annotators)]
    for m in members:
        step(AddMember(m, frozenset({"annotator"})))
    t0 = time.perf_counter()
    submits = 0
    active = list(members)
    while active:
        for m in list(active):
            got = [e for e in step(RequestTask(m)) if isinstance(e, Assigned)]
            if not got:
                active.remove(m)
                continue
            tid = got[0].assignment.task_id
            submits += 1
            step(Submit(m, tid, f"s{submits}", noisy(truth[tid], rng)))
    feed = time.perf_counter() - t0
    print(f"{ns.tasks:,} tasks, {n_overlap:,} with overlap 3, {submits:,} submits fed through engine + book in {feed:.1f} s")

    t0 = time.perf_counter()
    full = QualityBook.rebuild(state)
    report = full.agreement()
    full.scorecards(state)
    t_full = time.perf_counter() - t0
    _T_FULL[0] = t_full
    assert report["kappa"] == book.agreement()["kappa"], "incremental and full books disagree"
    print(f"full computation (rebuild + agreement + scorecards): {t_full:.2f} s; kappa {report['kappa']:.4f}")

    if ns.peer:
        peer(state)
    incremental(state, book, truth, members, rng, step, "x")
    # a long-running server can move its replayed state out of the collector's way once (gc.freeze)
    gc.collect()
    gc.freeze()
    print("after gc.freeze() of the replayed state:")
    incremental(state, book, truth, members, rng, step, "z")


def peer(state: object) -> None:
    """quality.spatial_agreement from scratch over the overlap tasks (the library's batch box path)."""
    per: dict[str, list[Annotation]] = {}
    items = {}
    for task in state.tasks.values():  # type: ignore[attr-defined]
        if task.overlap < 3:
            continue
        items[task.id] = Item(task.id, width=640, height=480)
        for sub in task.annotate_submissions():
            per.setdefault(sub.annotator, []).append(Annotation(task.id, [region_from_dict(d) for d in sub.answer],
                                                                Provenance(Source.HUMAN, author=sub.annotator)))
    schema = LabelSchema(tuple(LabelClass(c) for c in CLASSES))
    data = {m: Dataset(list(items.values()), anns, schema) for m, anns in per.items()}
    t0 = time.perf_counter()
    spatial_agreement(data)
    t_peer = time.perf_counter() - t0
    print(f"peer from scratch: quality.spatial_agreement over {len(items):,} overlap tasks, {len(data)} annotators: {t_peer:.2f} s")



def incremental(state: object, book: QualityBook, truth: dict, members: list[str],  # type: ignore[type-arg]
                rng: np.random.Generator, step: Any, tag: str) -> None:
    """Fresh overlap tasks, one submit each, then the dashboard's two reports."""
    t_full = _T_FULL[0]
    extra = [TaskSpec(f"{tag}{i}", overlap=3) for i in range(200)]
    truth.update({s.id: truth_boxes(rng) for s in extra})
    step(AddTasks(extra))
    times, times_submit = [], []
    for i in range(300):
        m = members[i % len(members)]
        got = [e for e in step(RequestTask(m)) if isinstance(e, Assigned)]
        tid = got[0].assignment.task_id
        t0 = time.perf_counter()
        step(Submit(m, tid, f"{tag}y{i}", noisy(truth[tid], rng)))
        t1 = time.perf_counter()
        book.agreement()
        book.scorecards(state)
        t2 = time.perf_counter()
        times_submit.append(t1 - t0)
        times.append(t2 - t0)
    q = statistics.quantiles(times, n=100)
    qs = statistics.quantiles(times_submit, n=100)
    print(f"incremental, 300 submits on overlap tasks: submit + book update p50 {qs[49] * 1000:.2f} ms, "
          f"p99 {qs[98] * 1000:.2f} ms; with agreement report + scorecards p50 {q[49] * 1000:.2f} ms, "
          f"p90 {q[89] * 1000:.2f} ms, p99 {q[98] * 1000:.2f} ms, max {max(times) * 1000:.2f} ms (target < 50 ms)")
    print(f"ratio full / incremental (p50): {t_full / q[49]:,.0f}x")


if __name__ == "__main__":
    main()
