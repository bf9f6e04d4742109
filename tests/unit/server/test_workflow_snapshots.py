"""Engine snapshots: the state (and quality accumulators) loaded from a snapshot and caught up with the
log's tail equals the state a full replay builds, and both go on to answer every later event with the
same effects. A snapshot of another configuration or of damaged data is ignored, never half-used."""

from __future__ import annotations

import contextlib
import dataclasses
import random
from collections import deque
from typing import Any

import orjson
import pytest

pytest.importorskip("fastapi")

from labelgate.core.errors import LabelgateError
from labelgate.server.services.quality_book import QualityBook
from labelgate.server.services.workflow_config import build_config
from labelgate.server.services.workflow_host import ProjectEngine
from labelgate.server.services.workflow_snapshots import dump, fingerprint, restore
from labelgate.workflow import (
    ADJUDICATE,
    AddGold,
    AddMember,
    AddTasks,
    Adjudicate,
    Assigned,
    PublishGuideline,
    RegionVerdict,
    RequestTask,
    Review,
    Skip,
    Submit,
    Tick,
    new_state,
    record_to_dict,
)
from labelgate.workflow.events import Event

CLASSES = ("Product", "Price tag")
CONF: dict[str, Any] = {
    "stages": [{"name": "check", "role": "reviewer", "sampling": {"kind": "fraction", "fraction": 0.5, "seed": 1}}],
    "overlap": {"k": 2, "fraction": 0.3, "seed": 2},
    "honeypots": {"rate": 0.15, "seed": 3, "min_samples": 3, "actions": ["extra_review"],
                  "drift": {"target": 0.1, "slack": 0.05, "threshold": 1.0}},
    "audits": {"rate": 0.15, "seed": 4, "min_gap": 3},
    "adjudication": {"role": "manager", "threshold": 0.6},
    "lease_seconds": 60,
}
ANNOTATORS = ("a1", "a2", "a3")


def answer(rng: random.Random) -> list[dict[str, Any]]:
    return [{"geometry": {"type": "box", "x1": x, "y1": 0, "x2": x + 40, "y2": 40}, "label": rng.choice(CLASSES)}
            for x in (0, 50, 100) if rng.random() < 0.8]


class Driver:
    """Random but reproducible work on an engine: annotate, skip, let leases lapse, review, adjudicate."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.now = 1000.0
        self.ids = 0

    def events(self, engine: ProjectEngine, steps: int) -> list[tuple[Event, float]]:
        """Advance ``engine`` ``steps`` times; the accepted and refused events alike are returned for replay."""
        done: list[tuple[Event, float]] = []
        for _ in range(steps):
            self.now += self.rng.choice((1.0, 5.0, 90.0))
            event = self._pick(engine)
            done.append((event, self.now))
            try:
                effects = engine.step(event, self.now)
            except LabelgateError:
                continue
            for e in effects:
                if isinstance(e, Assigned):
                    done += self._answer(engine, e.assignment)
        return done

    def _pick(self, engine: ProjectEngine) -> Event:
        r = self.rng.random()
        if r < 0.6:
            return RequestTask(self.rng.choice(ANNOTATORS))
        if r < 0.8:
            return RequestTask("rev", "check")
        if r < 0.9:
            return RequestTask("lead", ADJUDICATE)
        return Tick()

    def _answer(self, engine: ProjectEngine, a: Any) -> list[tuple[Event, float]]:
        r = self.rng.random()
        self.ids += 1
        if a.mode in ("annotate", "rework"):
            if r < 0.1:
                return []  # the lease will lapse
            event: Event = Skip(a.member, a.task_id, "unclear") if r < 0.2 and a.mode == "annotate" else \
                Submit(a.member, a.task_id, f"{self.ids}v1", answer(self.rng))
        elif a.mode == "review":
            accept = r < 0.7
            event = Review(a.member, a.task_id, accept, (RegionVerdict("0", accept, None if accept else "loose"),),
                           None if accept else "see region 0")
        else:
            event = Adjudicate(a.member, a.task_id, answer(self.rng), a.sources[:1], "chosen")
        with contextlib.suppress(LabelgateError):  # refused: the log keeps only the expiries it caused
            engine.step(event, self.now)
        return [(event, self.now)]


def new_engine(conf: dict[str, Any]) -> ProjectEngine:
    config = build_config(conf)
    return ProjectEngine(1, conf, config, new_state(config), QualityBook(iou=0.5))


def setup(engine: ProjectEngine) -> None:
    engine.step(AddTasks([str(i) for i in range(1, 61)]), 1.0)
    for i in range(3):
        engine.step(AddGold(f"g{i}", answer(random.Random(i))), 1.0)
    for m in ANNOTATORS:
        engine.step(AddMember(m, frozenset({"annotator"})), 1.0)
    engine.step(AddMember("rev", frozenset({"annotator", "reviewer"})), 1.0)
    engine.step(AddMember("lead", frozenset({"annotator", "reviewer", "manager"})), 1.0)
    engine.step(PublishGuideline(1, "# v1"), 1.0)


def canon(value: Any, seen: set[int] | None = None) -> Any:
    """A comparable plain form of a state: dataclasses and objects by their fields, sets sorted."""
    if isinstance(value, str | int | float | bool | type(None)):
        return value
    if isinstance(value, dict):
        return [(canon(k), canon(v)) for k, v in value.items()]
    if isinstance(value, list | tuple | deque):
        return [canon(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted((canon(v) for v in value), key=repr)
    if dataclasses.is_dataclass(value):
        names = [f.name for f in dataclasses.fields(value) if f.name != "config"]
        return (type(value).__name__, [(n, canon(getattr(value, n))) for n in names])
    if hasattr(value, "__dict__"):
        return (type(value).__name__, canon({k: v for k, v in vars(value).items() if k != "config"}))
    if hasattr(value, "__slots__"):
        return (type(value).__name__, [(n, canon(getattr(value, n))) for n in value.__slots__])
    if hasattr(value, "value"):  # enums
        return repr(value)
    raise TypeError(f"canon: no plain form for {type(value).__name__}")


def engine_view(engine: ProjectEngine) -> Any:
    return canon(engine.state), canon(engine.book)


def test_snapshot_plus_tail_equals_full_replay_and_behaves_the_same() -> None:
    live = new_engine(CONF)
    setup(live)
    driver = Driver(7)
    driver.events(live, 250)
    cut = len(live.state.log)
    data = dump(live.state, live.book, live.max_task)
    driver.events(live, 250)
    assert len(live.state.log) > cut + 100
    stored = orjson.loads(orjson.dumps([record_to_dict(r) for r in live.state.log]))  # as the database holds it

    # what a new process builds: the snapshot with a freshly built config, plus the tail
    config = build_config(CONF)
    got = restore(data, cut, config)
    assert got is not None and got.state.config is config
    resumed = ProjectEngine(1, CONF, config, got.state, got.book, got.max_task, snapshot_seq=cut)
    resumed.catch_up(stored[cut:])
    full = new_engine(CONF)
    full.catch_up(stored)
    assert engine_view(resumed) == engine_view(full) == engine_view(live)
    assert resumed.max_task == full.max_task == 60
    # the run exercised what the state holds
    st = full.state
    assert any(a.retest for a in st.annotators.values()) and st.gold_scores.compute().annotators
    assert {t.status.value for t in st.tasks.values()} >= {"accepted", "annotating", "gold"}
    kinds = {type(e).__name__ for r in st.log for e in r.effects}
    assert kinds >= {"LeaseExpired", "AnnotatorFlagged", "TaskAccepted", "TaskMoved", "ReworkRequested", "DriftAlarm",
                     "GoldGraded", "AdjudicationNeeded"}
    assert any(r.effects for r in st.log[cut:])
    assert any(isinstance(r.event, Review) and not r.event.accept for r in st.log)

    # and from here on both answer every event alike
    later = Driver(99)
    later.now = driver.now
    events = later.events(resumed, 150)
    for event, at in events:
        with contextlib.suppress(LabelgateError):
            full.step(event, at)
    assert [r.effects for r in resumed.state.log] == [r.effects for r in full.state.log]
    assert engine_view(resumed) == engine_view(full)


def test_a_snapshot_that_does_not_fit_is_ignored() -> None:
    live = new_engine(CONF)
    setup(live)
    Driver(1).events(live, 40)
    data = dump(live.state, live.book, live.max_task)
    seq = len(live.state.log)
    assert restore(data, seq, build_config(CONF)) is not None
    assert restore(data, seq - 1, build_config(CONF)) is None  # not the record count it claims to cover
    assert restore(data[:-10], seq, build_config(CONF)) is None  # damaged
    assert restore(b"not a snapshot", seq, build_config(CONF)) is None
    other = {**CONF, "lease_seconds": 61}
    assert fingerprint(other) != fingerprint(CONF) and fingerprint(dict(reversed(CONF.items()))) == fingerprint(CONF)


def test_the_snapshotter_waits_for_an_idle_project_unless_its_tail_is_five_intervals_long() -> None:
    from types import SimpleNamespace
    from typing import cast

    from labelgate.server.services.workflow_snapshotter import BUSY_FACTOR, Snapshotter, _Due
    from labelgate.server.settings import Settings

    snap = Snapshotter(Settings(workflow_snapshot_every=10, workflow_snapshot_idle_s=100.0))
    eng = SimpleNamespace(project_id=7, state=SimpleNamespace(log=[None] * 30), snapshot_seq=0)
    snap._due[7] = _Due(cast(ProjectEngine, eng), last_event=1000.0)
    assert snap._ready(1000.5, force=False) == ([], 99.5)  # due, but its project is busy: wait for idleness
    assert snap._ready(1100.0, force=False) == ([7], None)  # idle for idle_s
    assert snap._ready(1000.5, force=True) == ([7], None)  # shutdown takes it anyway
    eng.state.log = [None] * (BUSY_FACTOR * 10)  # the tail reached five intervals: taken while busy
    assert snap._ready(1000.5, force=False) == ([7], None)
    snap._retry[7] = (2000.0, 60.0)  # after a failure: not before the retry time
    assert snap._ready(1100.0, force=False) == ([], 900.0)
