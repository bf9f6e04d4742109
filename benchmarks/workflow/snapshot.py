"""Engine start at 100k tasks: full replay of the stored log vs. snapshot + tail.

The server builds a project's engine (state + quality book) on first use. Without a snapshot it replays
every stored record; with one (``services/workflow_snapshots.py``) it unpickles the state and replays
only the records after it. A project of ``--tasks`` tasks (overlap 2 on 10%, 2% gold, 2% audits, one
review stage sampling 5%) is worked by 50 annotators through the server's config (``build_config``), each
submit carrying three boxes as region dicts; then the log (JSON round-tripped, as the database holds it)
is replayed in full, and the snapshot taken ``--tail`` records before the end is loaded and caught up.

    .venv/bin/python benchmarks/workflow/snapshot.py [--tasks 100000] [--submits 100000] [--tail 2000]
"""

from __future__ import annotations

import argparse
import gc
import random
import time
from typing import Any

import orjson

from labelgate.server.services.quality_book import QualityBook
from labelgate.server.services.workflow_config import build_config
from labelgate.server.services.workflow_host import ProjectEngine
from labelgate.server.services.workflow_snapshots import dump, restore
from labelgate.workflow import AddGold, AddMember, AddTasks, Assigned, RequestTask, Submit, new_state, record_to_dict

CONF: dict[str, Any] = {
    "stages": [{"name": "check", "role": "reviewer", "sampling": {"kind": "fraction", "fraction": 0.05, "seed": 1}}],
    "overlap": {"k": 2, "fraction": 0.1, "seed": 2},
    "honeypots": {"rate": 0.02, "seed": 3},
    "audits": {"rate": 0.02, "seed": 4, "min_gap": 20},
}
CLASSES = ("Product", "Price tag", "Empty slot")


def engine() -> ProjectEngine:
    config = build_config(CONF)
    return ProjectEngine(1, CONF, config, new_state(config), QualityBook(iou=0.5))


def answer(rng: random.Random) -> list[dict[str, Any]]:
    return [{"geometry": {"type": "box", "x1": x + rng.random(), "y1": 0.0, "x2": x + 50.0, "y2": 50.0},
             "label": rng.choice(CLASSES)} for x in (0.0, 60.0, 120.0)]


def build(tasks: int, submits: int) -> ProjectEngine:
    rng = random.Random(0)
    eng = engine()
    now = 1.0
    eng.catch_up([])
    eng.step(AddTasks([str(i) for i in range(1, tasks + 1)]), now)
    for g in range(tasks // 50):
        eng.step(AddGold(f"g{g}", answer(rng)), now)
    members = [f"m{i}" for i in range(50)]
    for m in members:
        eng.step(AddMember(m, frozenset({"annotator"})), now)
    n = 0
    while n < submits:
        for m in members:
            now += 0.01
            got = [e for e in eng.step(RequestTask(m), now) if isinstance(e, Assigned)]
            if got:
                n += 1
                eng.step(Submit(m, got[0].assignment.task_id, f"{n}v1", answer(rng)), now)
    return eng


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=100_000)
    ap.add_argument("--submits", type=int, default=100_000)
    ap.add_argument("--tail", type=int, default=2_000)
    args = ap.parse_args()
    t = time.perf_counter()
    live = build(args.tasks, args.submits)
    print(f"built {args.tasks:,} tasks, {args.submits:,} submits: {len(live.state.log):,} records "
          f"in {time.perf_counter() - t:.1f} s")
    stored = orjson.loads(orjson.dumps([record_to_dict(r) for r in live.state.log]))
    cut = len(stored) - args.tail

    gc.collect()
    t = time.perf_counter()
    full = engine()
    full.catch_up(stored)
    t_full = time.perf_counter() - t
    print(f"full replay of {len(stored):,} records: {t_full:.2f} s")

    partial = engine()
    partial.catch_up(stored[:cut])
    t = time.perf_counter()
    data = dump(partial.state, partial.book, partial.max_task)
    t_dump = time.perf_counter() - t
    del partial
    gc.collect()
    print(f"snapshot at record {cut:,}: {len(data) / 2**20:.1f} MiB (zlib), written in {t_dump:.2f} s")

    t = time.perf_counter()
    config = build_config(CONF)
    got = restore(data, cut, config)
    assert got is not None
    t_load = time.perf_counter() - t
    resumed = ProjectEngine(1, CONF, config, got.state, got.book, got.max_task, snapshot_seq=cut)
    resumed.catch_up(stored[cut:])
    t_total = time.perf_counter() - t
    print(f"snapshot load {t_load:.2f} s + tail of {args.tail:,} records = {t_total:.2f} s "
          f"({t_full / t_total:.1f}x faster than full replay)")
    assert len(resumed.state.log) == len(full.state.log)
    assert [r.effects for r in resumed.state.log[-args.tail:]] == [r.effects for r in full.state.log[-args.tail:]]
    assert resumed.state.counts() == full.state.counts()
    assert resumed.book.scorecards(resumed.state) == full.book.scorecards(full.state)
    print("same log effects over the tail, task counts and scorecards")


if __name__ == "__main__":
    main()
