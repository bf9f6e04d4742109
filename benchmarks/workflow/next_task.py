"""Workflow engine at 100k tasks: next-task and submit cost per call, setup, memory, replay.

Project: 100,000 tasks, overlap 3 on 10%, two review stages (every 10th; a 5% random sample),
adjudication below full agreement, 500 gold tasks at a 5% honeypot rate, 2% consistency audits,
50 annotators taking turns (RequestTask then Submit), 0.5 s of simulated time per call.

    .venv/bin/python benchmarks/workflow/next_task.py [--tasks 100000] [--calls 20000] [--order spread|complete]
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import time

from labelgate.workflow import (
    AddGold,
    AddMember,
    AddTasks,
    AdjudicationPolicy,
    Assigned,
    AuditPolicy,
    Binding,
    HoneypotPolicy,
    OverlapPolicy,
    RequestTask,
    Sampling,
    Stage,
    Submit,
    TaskSpec,
    WorkflowConfig,
    advance,
    categorical_agreement,
    new_state,
    replay,
)


def config(order: str = "spread") -> WorkflowConfig:
    return WorkflowConfig(
        stages=(Stage("technician", Binding(role="reviewer"), Sampling.every_nth(10)),
                Stage("quality", Binding(role="qe"), Sampling.random_fraction(0.05, seed=1))),
        lease_seconds=600,
        overlap=OverlapPolicy(k=3, fraction=0.10, seed=1, order=order),
        honeypots=HoneypotPolicy(rate=0.05, seed=1),
        audits=AuditPolicy(rate=0.02, seed=1, min_gap=50),
        adjudication=AdjudicationPolicy(Binding(role="lead"), categorical_agreement, threshold=0.99),
    )


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else values[0] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--annotators", type=int, default=50)
    parser.add_argument("--order", choices=["spread", "complete"], default="spread")
    args = parser.parse_args()
    gc.collect()
    rss0 = rss_mb()
    state = new_state(config(args.order))
    now = 0.0
    names = [f"ann{i}" for i in range(args.annotators)]
    for name in names:
        advance(state, AddMember(name, frozenset({"annotator"})), now)
    t0 = time.perf_counter()
    advance(state, AddTasks([TaskSpec(f"task-{i:06d}") for i in range(args.tasks)]), now)
    for i in range(500):
        advance(state, AddGold(f"gold-{i}", "product"), now)
    setup_s = time.perf_counter() - t0
    rss1 = rss_mb()
    request_s: list[float] = []
    submit_s: list[float] = []
    served = 0
    for call in range(args.calls):
        member = names[call % len(names)]
        now += 0.5
        t = time.perf_counter()
        _, effects = advance(state, RequestTask(member), now)
        request_s.append(time.perf_counter() - t)
        got = [e for e in effects if isinstance(e, Assigned)]
        if not got:
            continue
        served += 1
        answer = "product" if call % 7 else "shelf"
        t = time.perf_counter()
        advance(state, Submit(member, got[0].assignment.task_id, f"x{call}", answer), now)
        submit_s.append(time.perf_counter() - t)
    t = time.perf_counter()
    again = replay(state.config, state.log)
    replay_s = time.perf_counter() - t
    assert again.counts() == state.counts()
    counts = state.counts()
    print(f"order {args.order}, tasks {args.tasks:,}, annotators {args.annotators}, calls {args.calls:,} ({served:,} served), "
          f"log {len(state.log):,} records")
    print(f"status counts: {counts}")
    print()
    print("| measure | value |")
    print("|---|---:|")
    print(f"| AddTasks {args.tasks:,} + 500 gold (s) | {setup_s:.2f} |")
    print(f"| memory for the state (MB, max RSS growth) | {rss1 - rss0:.0f} |")
    print(f"| RequestTask p50 / p99 (ms) | {pct(request_s, 50):.3f} / {pct(request_s, 99):.3f} |")
    print(f"| Submit p50 / p99 (ms) | {pct(submit_s, 50):.3f} / {pct(submit_s, 99):.3f} |")
    print(f"| RequestTask + Submit mean (ms) | {1000 * (sum(request_s) + sum(submit_s)) / len(request_s):.3f} |")
    print(f"| replay of the whole log (s) | {replay_s:.2f} |")
    if args.order == "spread":
        worst_case()


def worst_case() -> None:
    """The known slow path: an annotator asks when every open task is one they already did."""
    for n in (1_000, 10_000):
        state = new_state(WorkflowConfig())
        advance(state, AddMember("a", frozenset({"annotator"})), 0.0)
        advance(state, AddTasks([TaskSpec(f"t{i}", overlap=2) for i in range(n)]), 0.0)
        for i in range(n):
            _, effects = advance(state, RequestTask("a"), 0.0)
            advance(state, Submit("a", effects[0].assignment.task_id, f"x{i}"), 0.0)
        t = time.perf_counter()
        advance(state, RequestTask("a"), 1.0)
        first = time.perf_counter() - t
        t = time.perf_counter()
        advance(state, RequestTask("a"), 2.0)
        again = time.perf_counter() - t
        print(f"| RequestTask when all {n:,} open tasks were already done by the asker: first / repeated (ms) "
              f"| {1000 * first:.1f} / {1000 * again:.3f} |")


if __name__ == "__main__":
    main()
