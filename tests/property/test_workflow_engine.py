"""The workflow engine under random sequences of events (Hypothesis stateful testing).

Invariants after every step: every task is in a named status and reachable (in its queue, or held
under a lease, or finished); no task is accepted twice; no annotator is served the same task twice
outside audits (and return-skips), nor the same gold task twice; each annotator's gold share stays
within its bound over every window of their stream; no lease outlives its expiry; replaying the log
rebuilds the same state.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction

import hypothesis.strategies as st
from hypothesis import HealthCheck, settings
from hypothesis import event as note_event
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from labelgate.core.errors import ConflictError
from labelgate.workflow import (
    ADJUDICATE,
    ANNOTATE,
    AddGold,
    AddMember,
    AddTasks,
    Adjudicate,
    AdjudicationPolicy,
    Assigned,
    AuditPolicy,
    Binding,
    GoldAction,
    HoneypotPolicy,
    OverlapPolicy,
    PublishGuideline,
    RegionVerdict,
    RequestTask,
    Review,
    Sampling,
    Skip,
    SkipMode,
    SkipPolicy,
    Stage,
    Submit,
    TaskAccepted,
    TaskSpec,
    TaskStatus,
    Tick,
    WorkflowConfig,
    advance,
    categorical_agreement,
    new_state,
    replay,
)

ANNOTATORS = ("a0", "a1", "a2", "rx")  # rx also reviews at s0
MEMBERS = {"a0": ({"annotator"}, set()), "a1": ({"annotator"}, set()), "a2": ({"annotator"}, set()),
           "rx": ({"annotator", "reviewer"}, set()), "r0": ({"reviewer"}, {"qe"}), "lead": ({"lead"}, {"qe"})}
STAGES = ("s0", "s1")

samplings = st.one_of(st.just(Sampling.all()), st.integers(1, 3).map(Sampling.every_nth),
                      st.floats(0, 1).map(lambda f: Sampling.random_fraction(f, seed=1)), st.just(Sampling.flagged()))


@st.composite
def configs(draw: st.DrawFn) -> WorkflowConfig:
    n_stages = draw(st.integers(0, 2))
    stages = (Stage("s0", Binding(role="reviewer"), draw(samplings)), Stage("s1", Binding(group="qe"), draw(samplings)))
    adjudicate = draw(st.booleans())
    return WorkflowConfig(
        stages=stages[:n_stages],
        lease_seconds=draw(st.sampled_from([10.0, 60.0])),
        overlap=OverlapPolicy(k=draw(st.integers(1, 3)), fraction=draw(st.sampled_from([0.0, 0.5, 1.0])), seed=draw(st.integers(0, 3)),
                              order=draw(st.sampled_from(["spread", "complete"]))),
        skip=SkipPolicy(mode=draw(st.sampled_from(list(SkipMode))), park_after=draw(st.sampled_from([None, 2]))),
        honeypots=HoneypotPolicy(rate=draw(st.sampled_from([0.0, 0.2, 0.5])), seed=draw(st.integers(0, 3)), min_samples=2,
                                 actions=draw(st.sampled_from([frozenset(), frozenset({GoldAction.EXTRA_REVIEW}),
                                                               frozenset({GoldAction.PAUSE})]))),
        audits=AuditPolicy(rate=draw(st.sampled_from([0.0, 0.3])), seed=1, min_gap=draw(st.integers(1, 3))),
        adjudication=AdjudicationPolicy(Binding(role="lead"), categorical_agreement, threshold=0.9) if adjudicate else None,
    )


class EngineMachine(RuleBasedStateMachine):
    @initialize(config=configs())
    def setup(self, config: WorkflowConfig) -> None:
        self.config = config
        self.state = new_state(config)
        self.now = 0.0
        self.n_tasks = self.n_gold = self.n_ids = 0
        self.served: set[tuple[str, str]] = set()  # (member, task) served as ordinary annotation
        self.returned: set[tuple[str, str]] = set()  # skipped under SkipMode.RETURN: may come back
        self.gold_served: set[tuple[str, str]] = set()
        self.annotated: set[tuple[str, str]] = set()
        self.streams: dict[str, list[bool]] = {m: [] for m in ANNOTATORS}  # gold or not, per annotate-mode serve
        self.accepted: Counter[str] = Counter()
        self.current: dict[tuple[str, str], object] = {}
        for m, (roles, groups) in MEMBERS.items():
            self.do(AddMember(m, frozenset(roles), frozenset(groups)))
        self.add_tasks(6, 0, False)
        self.add_gold("p")
        self.add_gold("q")

    def do(self, event: object) -> list[object]:
        _, effects = advance(self.state, event, self.now)  # type: ignore[arg-type]
        for e in effects:
            note_event(type(e).__name__)
            if isinstance(e, TaskAccepted):
                self.accepted[e.final.task_id] += 1
            if isinstance(e, Assigned):
                self.observe(e.assignment)
        return effects

    def observe(self, a: object) -> None:
        key = (a.member, a.stage)
        if self.current.get(key) == a:
            return  # the same assignment handed out again
        self.current[key] = a
        if a.mode != ANNOTATE:
            return
        mode = self.state.leases.get(a.task_id, a.member).mode
        note_event(f"served {mode}")
        pair = (a.member, a.task_id)
        self.streams[a.member].append(mode == "gold")
        if mode == "annotate":
            assert pair not in self.served or pair in self.returned, f"{pair} served twice"
            self.served.add(pair)
            self.returned.discard(pair)
        elif mode == "gold":
            assert pair not in self.gold_served, f"gold {pair} served twice"
            self.gold_served.add(pair)
        else:
            assert mode == "audit" and pair in self.annotated, f"audit of {pair} that the annotator never did"

    def holding(self, member: str, stage: str) -> object | None:
        ann = self.state.annotators.get(member)
        a = ann.holding.get(stage) if ann else None
        if a is None or self.state.leases.get(a.task_id, member) is None or a.lease_expires <= self.now:
            return None
        return a

    @rule(n=st.integers(1, 4), priority=st.integers(0, 2), flagged=st.booleans())
    def add_tasks(self, n: int, priority: int, flagged: bool) -> None:
        specs = [TaskSpec(f"t{self.n_tasks + i}", priority=priority, flagged=flagged) for i in range(n)]
        self.n_tasks += n
        self.do(AddTasks(specs))

    @rule(answer=st.sampled_from("pq"))
    def add_gold(self, answer: str) -> None:
        self.n_gold += 1
        self.do(AddGold(f"g{self.n_gold}", answer))

    @rule(member=st.sampled_from(ANNOTATORS), answer=st.sampled_from("pq"), action=st.sampled_from(["submit"] * 4 + ["skip", "hold"]),
          times=st.integers(1, 6))
    def work(self, member: str, answer: str, action: str, times: int) -> None:
        for _ in range(times - 1):
            self._work(member, answer, "submit")
        self._work(member, answer, action)

    def _work(self, member: str, answer: str, action: str) -> None:
        self.do(RequestTask(member, ANNOTATE))
        a = self.holding(member, ANNOTATE)
        if a is None or action == "hold":
            return
        mode = self.state.leases.get(a.task_id, member).mode
        if action == "skip" and mode != "rework":
            self.do(Skip(member, a.task_id, reason="unclear"))
            if mode == "annotate" and self.config.skip.mode is SkipMode.RETURN:
                self.returned.add((member, a.task_id))
            return
        self.n_ids += 1
        self.do(Submit(member, a.task_id, f"x{self.n_ids}", answer))
        if mode == "annotate":
            self.annotated.add((member, a.task_id))

    @rule(member=st.sampled_from(ANNOTATORS))
    def submit_without_lease(self, member: str) -> None:
        if self.holding(member, ANNOTATE) is None and self.n_tasks:
            before = len(self.state.log)
            try:
                self.do(Submit(member, "t0", "never", "p"))
            except ConflictError:
                assert len(self.state.log) - before <= 1  # at most a Tick for leases that expired meanwhile
                return
            raise AssertionError("a submit without a lease went through")

    @rule(member=st.sampled_from(["rx", "r0", "lead"]), accept=st.booleans(), stage=st.sampled_from(STAGES), times=st.integers(1, 4),
          hold=st.booleans())
    def review(self, member: str, accept: bool, stage: str, times: int, hold: bool) -> None:
        for _ in range(times):
            self._review(member, accept, stage, hold)

    def _review(self, member: str, accept: bool, stage: str, hold: bool) -> None:
        names = [s.name for s in self.config.stages]
        if stage not in names or (member == "lead" and stage == "s0") or (member == "rx" and stage == "s1"):
            return
        self.do(RequestTask(member, stage))
        a = self.holding(member, stage)
        if a is not None and hold:
            self.wait(self.config.lease_seconds)  # walk away from the review: the lease runs out
        elif a is not None:
            self.do(Review(member, a.task_id, accept, regions=(RegionVerdict("r1", accept, "see the edge"),)))

    @rule(pick=st.integers(0, 2))
    def adjudicate(self, pick: int) -> None:
        if self.config.adjudication is None:
            return
        self.do(RequestTask("lead", ADJUDICATE))
        a = self.holding("lead", ADJUDICATE)
        if a is not None:
            self.do(Adjudicate("lead", a.task_id, "p", (a.sources[pick % len(a.sources)],), "picked"))

    @rule(seconds=st.sampled_from([1.0, 9.0, 30.0, 70.0]))
    def wait(self, seconds: float) -> None:
        self.now += seconds
        self.do(Tick())

    @rule(round_tasks=st.integers(0, 3))
    def publish(self, round_tasks: int) -> None:
        version = len(self.state.guidelines) + 1
        self.do(PublishGuideline(version, f"v{version}", round_tasks=round_tasks))

    @invariant()
    def every_task_is_named_and_reachable(self) -> None:
        if not hasattr(self, "state"):
            return
        s = self.state
        leases = {(lz.task_id, lz.member): lz for lz in s.leases.active()}
        held_by_mode: dict[str, set[str]] = {}
        for lz in leases.values():
            held_by_mode.setdefault(lz.mode, set()).add(lz.task_id)
        for t in s.tasks.values():
            assert isinstance(t.status, TaskStatus)
            if t.status is TaskStatus.ANNOTATING:
                assert t.load <= t.overlap
                assert (t.id in s.open) == (t.load < t.overlap), t
                assert all(leases[(t.id, m)].mode == "annotate" for m in t.leased)
            elif t.status is TaskStatus.IN_REVIEW:
                stage = s.config.stages[t.stage].name
                assert (t.id in s.stage_queue(stage)) != (t.id in held_by_mode.get("review", set())), t
            elif t.status is TaskStatus.REWORK:
                owner = s.annotators[t.owner]
                assert (t.id in owner.rework) or (t.id, t.owner) in leases, t
            elif t.status is TaskStatus.ADJUDICATING:
                assert (t.id in s.stage_queue(ADJUDICATE)) != (t.id in held_by_mode.get("adjudicate", set())), t
            elif t.status is TaskStatus.ACCEPTED:
                assert t.final is not None and t.final.sources
            elif t.status is TaskStatus.PARKED:
                assert t.id not in s.open
            else:
                assert t.id in s.gold
        assert all(n == 1 for n in self.accepted.values()), self.accepted

    @invariant()
    def leases_expire(self) -> None:
        if hasattr(self, "state"):
            assert all(lz.expires > self.now for lz in self.state.leases.active())

    @invariant()
    def one_annotation_lease_per_annotator(self) -> None:
        if hasattr(self, "state"):
            per = Counter(lz.member for lz in self.state.leases.active() if lz.stage == ANNOTATE)
            assert max(per.values(), default=0) <= 1

    @invariant()
    def gold_share_within_bound(self) -> None:
        if not hasattr(self, "state"):
            return
        rate = Fraction(self.config.honeypots.rate).limit_denominator(1_000_000)
        for stream in self.streams.values():
            for start in range(len(stream)):
                count = 0
                for w, is_gold in enumerate(stream[start:], 1):
                    count += is_gold
                    assert count < w * rate + 2, (stream, start, w)

    def teardown(self) -> None:
        if not hasattr(self, "state"):
            return
        again = replay(self.config, self.state.log)
        assert {t.id: (t.status, t.stage, t.annotations, t.final) for t in again.tasks.values()} == \
            {t.id: (t.status, t.stage, t.annotations, t.final) for t in self.state.tasks.values()}


EngineMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=60, deadline=None,
                                           suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestEngine = EngineMachine.TestCase
