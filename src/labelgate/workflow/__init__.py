"""The pure workflow engine: stage chains, assignment, honeypots, audits, adjudication, guidelines
and quality gates. ``advance(state, event, now) -> (state, effects)``; no database, no clock, no I/O.

Typical use by a server: build a :class:`WorkflowConfig` per project, ``state = new_state(config)``
(or :func:`replay` of the stored log), then, holding the project's lock, for every request
``state, effects = advance(state, event, time.time())``; store the new records of ``state.log``
(:func:`record_to_dict`) in the same transaction as the server's own writes, and act on the effects
(hand out :class:`Assignment`\\ s, notify) after committing. Processes sharing one log bring their
state up to date with :func:`catch_up` before advancing.
"""

from __future__ import annotations

from labelgate.workflow.adjudication import categorical_agreement, spatial_f1
from labelgate.workflow.audits import retest_agreement, retest_pairs
from labelgate.workflow.config import (
    ADJUDICATE,
    ANNOTATE,
    AdjudicationPolicy,
    AuditPolicy,
    Binding,
    DriftPolicy,
    GoldAction,
    HoneypotPolicy,
    OverlapPolicy,
    SkipMode,
    SkipPolicy,
    Stage,
    WorkflowConfig,
)
from labelgate.workflow.effects import (
    AdjudicationNeeded,
    AgreementRoundOpened,
    AnnotatorFlagged,
    Assigned,
    Assignment,
    DriftAlarm,
    Effect,
    FinalAnswer,
    GoldGraded,
    GuidelinePublished,
    LeaseExpired,
    NoTask,
    Record,
    ReviewRecord,
    ReworkRequested,
    Submission,
    TaskAccepted,
    TaskMoved,
    TaskParked,
)
from labelgate.workflow.engine import advance, catch_up, expire, new_state, replay
from labelgate.workflow.events import (
    AddGold,
    AddMember,
    AddTasks,
    Adjudicate,
    Event,
    Flag,
    PromoteGold,
    PublishGuideline,
    RegionVerdict,
    Release,
    Reopen,
    RequestTask,
    Resume,
    Review,
    SetPriority,
    Skip,
    Submit,
    TaskSpec,
    Tick,
)
from labelgate.workflow.gates import Gate, GateMetrics, GateResult, evaluate_gate, gate_metrics, override_gate
from labelgate.workflow.guidelines import agreement_by_version, ratings_by_version
from labelgate.workflow.honeypots import gold_report
from labelgate.workflow.sampling import Sampling, SamplingKind
from labelgate.workflow.serialize import event_from_dict, event_to_dict, record_from_dict, record_to_dict
from labelgate.workflow.state import AnnotatorState, Guideline, Member, Task, TaskStatus, WorkflowState

__all__ = [
    # the engine
    "advance", "catch_up", "expire", "new_state", "replay", "WorkflowState", "Task", "TaskStatus", "Member", "AnnotatorState", "Guideline",
    # configuration
    "WorkflowConfig", "Stage", "Binding", "Sampling", "SamplingKind", "OverlapPolicy", "SkipMode", "SkipPolicy",
    "HoneypotPolicy", "GoldAction", "DriftPolicy", "AuditPolicy", "AdjudicationPolicy", "ANNOTATE", "ADJUDICATE",
    # events
    "Event", "AddTasks", "TaskSpec", "AddGold", "PromoteGold", "AddMember", "RequestTask", "Submit", "Skip", "Release",
    "Review", "RegionVerdict", "Adjudicate", "PublishGuideline", "Resume", "Reopen", "SetPriority", "Flag", "Tick",
    # effects and records
    "Effect", "Assigned", "Assignment", "NoTask", "LeaseExpired", "TaskMoved", "TaskAccepted", "TaskParked",
    "ReworkRequested", "AdjudicationNeeded", "GoldGraded", "AnnotatorFlagged", "DriftAlarm", "GuidelinePublished",
    "AgreementRoundOpened", "Record", "Submission", "ReviewRecord", "FinalAnswer",
    # storing the log
    "event_to_dict", "event_from_dict", "record_to_dict", "record_from_dict",
    # queries
    "categorical_agreement", "spatial_f1", "gold_report", "retest_agreement", "retest_pairs", "agreement_by_version", "ratings_by_version",
    "Gate", "GateMetrics", "GateResult", "evaluate_gate", "gate_metrics", "override_gate",
]
