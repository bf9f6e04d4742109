"""Engine start at 100k tasks: full replay of the stored log vs. snapshot + tail.

The server builds a project's engine (state + quality book) on first use. Without a snapshot it replays
every stored record; with one (``services/workflow_snapshots.py``) it unpickles the state and replays
only the records after it. A project of ``--tasks`` tasks (overlap 2 on 10%, 2% gold, 2% audits, one
review stage sampling 5%) is worked by 50 annotators through the server's config (``build_config``), each
submit carrying three boxes as region dicts; then the log (JSON round-tripped, as the database holds it)
is replayed in full, and the snapshot taken ``--tail`` records before the end is loaded and caught up.

Then where the snapshot is written, with the log and that snapshot stored in a SQLite database and a
prober thread playing the project's other annotators (every 10 ms: take the project's engine lock, step
one RequestTask, release; its wait is what they feel) plus a ticker (a 1 ms sleep loop: any thread of the
process, other projects included, stalls when it does):

- in the request (before): under the engine lock, pickle + compress the engine and store the row in the
  write transaction, as the request that crossed the threshold did;
- in the snapshotter (after): the request marks the project due (timed), and the process's snapshotter
  thread has a child process build the engine from the database and store its snapshot; the lock is
  never taken by it. The stored snapshot is then loaded and checked against the full replay.

    .venv/bin/python benchmarks/workflow/snapshot.py [--tasks 100000] [--submits 100000] [--tail 2000]
"""

from __future__ import annotations

import argparse
import gc
import random
import tempfile
import threading
import time
import zlib
from pathlib import Path
from typing import Any

import orjson

from labelgate.server import Runtime, Settings
from labelgate.server.db.repos import workflow as repo
from labelgate.server.db.tables import workflow_snapshots
from labelgate.server.services import auth, projects
from labelgate.server.services.quality_book import QualityBook
from labelgate.server.services.workflow_config import build_config
from labelgate.server.services.workflow_host import ProjectEngine
from labelgate.server.services.workflow_snapshots import due, dump, fingerprint, restore
from labelgate.server.services.workflow_snapshotter import Snapshotter
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


class Probe:
    """Threads that measure stalls while something runs: ``waits`` of the engine-lock prober (ms) and
    ``gaps`` of the 1 ms ticker (ms)."""

    def __init__(self, eng: ProjectEngine, lock: threading.RLock) -> None:
        self.eng, self.lock = eng, lock
        self.waits: list[float] = []
        self.gaps: list[float] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._probe), threading.Thread(target=self._tick)]

    def __enter__(self) -> Probe:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()

    def _probe(self) -> None:
        i = 0
        while not self._stop.is_set():
            i += 1
            t = time.perf_counter()
            with self.lock:
                self.eng.step(RequestTask(f"m{i % 50}"), self.eng.state.now + 0.001)
            self.waits.append((time.perf_counter() - t) * 1000)
            time.sleep(0.01)

    def _tick(self) -> None:
        last = time.perf_counter()
        while not self._stop.is_set():
            time.sleep(0.001)
            now = time.perf_counter()
            self.gaps.append((now - last) * 1000)
            last = now

    def report(self) -> str:
        w, g = sorted(self.waits), sorted(self.gaps)
        return (f"engine-lock waits n={len(w)} p50 {w[len(w) // 2]:.1f} / max {w[-1]:.0f} ms; "
                f"ticker gap max {g[-1]:.0f} ms")


def where_written(live: ProjectEngine, stored: list[dict[str, Any]], cut: int, data: bytes, full: ProjectEngine) -> None:
    """The threshold-crossing request before (snapshot written in it) and after (marked; written by the
    snapshotter), with the log and a snapshot ``cut`` records in stored in SQLite (see the docstring;
    ``cut`` a tenth of the log back, so that the log is due a new snapshot)."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), workflow_snapshot_idle_s=0.0, argon2_time_cost=1, argon2_memory_kib=64)
        rt = Runtime.open(settings)
        try:
            root = auth.create_user(rt, None, "root", "password-root", True)
            pid = projects.create_project(rt, root, "bench", "", {"classes": [{"name": c} for c in CLASSES]}).id
            t = time.perf_counter()
            with rt.db.write() as conn:
                repo.save_config(conn, pid, CONF)
                for i in range(0, len(stored), 10_000):
                    repo.append_records(conn, pid, stored[i:i + 10_000])
                repo.save_snapshot(conn, pid, cut, fingerprint(CONF), data)
            print(f"stored {len(stored):,} records and the snapshot at {cut:,} in SQLite in {time.perf_counter() - t:.1f} s")
            live.project_id, live.snapshot_seq = pid, cut
            lock = threading.RLock()
            gc.collect()

            # baseline: the same probes with no snapshot being taken (collector passes over this big heap)
            with Probe(live, lock) as probe:
                time.sleep(15)
            print(f"baseline, 15 s with no snapshot: {probe.report()}")

            # before: the request that crossed the threshold pickled, compressed and stored under the lock
            gc.collect()
            with Probe(live, lock) as probe:
                time.sleep(0.5)
                t = time.perf_counter()
                with lock:
                    t_pickle = time.perf_counter()
                    blob = dump(full.state, full.book, full.max_task)
                    t_pickle = time.perf_counter() - t_pickle
                    with rt.db.write() as conn:
                        repo.save_snapshot(conn, pid, len(full.state.log), fingerprint(CONF), blob)
                t_before = time.perf_counter() - t
                time.sleep(0.5)
            t = time.perf_counter()
            zlib.compress(zlib.decompress(blob), 1)
            t_zlib = time.perf_counter() - t
            print(f"before: the request held the engine lock {t_before:.2f} s for the snapshot (pickle + zlib "
                  f"{t_pickle:.2f} s, of which zlib alone {t_zlib:.2f} s; {len(blob) / 2**20:.1f} MiB); {probe.report()}")
            with rt.db.write() as conn:  # back to the snapshot at `cut`
                conn.execute(workflow_snapshots.delete())
                repo.save_snapshot(conn, pid, cut, fingerprint(CONF), data)

            # after: the request marks the project due; the snapshotter's thread + child do the rest
            snap = Snapshotter(settings)
            gc.collect()  # (not billed for the collector's debt from the phase before)
            with Probe(live, lock) as probe:
                time.sleep(0.5)
                t = time.perf_counter()
                with lock:
                    assert due(len(stored), live.snapshot_seq, settings.workflow_snapshot_every)  # the session's check
                    snap.mark(live)
                t_mark = time.perf_counter() - t
                t = time.perf_counter()
                with lock:  # a later request's mark (the thread runs already)
                    due(len(stored), live.snapshot_seq, settings.workflow_snapshot_every)
                    snap.mark(live)
                t_mark2 = time.perf_counter() - t
                while pid in snap.due_projects():
                    time.sleep(0.01)
                t_after = time.perf_counter() - t
                time.sleep(0.5)
            snap.stop()
            taken = snap.taken[-1][1]
            print(f"after: the request's extra work (due check + mark) {t_mark * 1e6:.0f} us (first mark, starting "
                  f"the thread), {t_mark2 * 1e6:.0f} us (a later one); the snapshotter "
                  f"stored seq {taken.seq:,} ({taken.nbytes / 2**20:.1f} MiB) {t_after:.1f} s later (child: "
                  f"{taken.seconds:.1f} s to build from the stored snapshot + tail, pickle and store); engine lock "
                  f"held by it: never; {probe.report()}")
            with rt.db.read() as conn:
                found = repo.snapshot(conn, pid)
            assert found is not None and found[0] == taken.seq == len(stored)
            got = restore(found[2], found[0], build_config(CONF))
            assert got is not None
            assert got.state.counts() == full.state.counts()
            assert got.book.scorecards(got.state) == full.book.scorecards(full.state)
            print("the stored snapshot loads to the full replay's task counts and scorecards")
        finally:
            rt.close()


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
    every = Settings.model_fields["workflow_snapshot_every"].default
    due_cut = len(stored) - max(every, len(stored) // 10)  # a snapshot this far back makes the log due a new one
    partial.catch_up(stored[:due_cut])
    due_data = dump(partial.state, partial.book, partial.max_task)
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
    del resumed, got
    gc.collect()
    where_written(live, stored, due_cut, due_data, full)


if __name__ == "__main__":
    main()
