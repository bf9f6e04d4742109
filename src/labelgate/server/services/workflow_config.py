"""A project's workflow as JSON (stored in the ``workflows`` table) and the engine config built from it.

Answers the engine sees are lists of native region dicts (the annotation's regions); the injected
functions turn them into :class:`labelgate.core.Region` to grade gold (spatial F1 against the gold
answer at ``gold_f1``) and to decide adjudication (mean pairwise spatial F1 below ``threshold``).

With ``adjudication.consensus`` (meant for box projects) the engine's consensus is
:func:`labelgate.quality.fusion.fuse_regions`: the annotators' boxes clustered by IoU, the clusters at
least ``quorum`` annotators drew (default: a majority of them) averaged. It is the adjudicator's starting
proposal on tasks that disagree and the final answer of tasks that agree, whose final answer then names
every annotation as a source and the method ``box_fusion(quorum=..., iou=...)``. Answers holding regions
fusion cannot average (polygons, points, lines, tags) keep the first answer as the proposal.

    {"stages": [{"name": "technician", "group": "technicians", "sampling": {"kind": "all"}}],
     "groups": {"technicians": ["alice"]},             # usernames per named group
     "overlap": {"k": 2, "fraction": 0.1, "seed": 0},
     "skip": {"mode": "exclude", "reason_required": false, "park_after": null},
     "honeypots": {"rate": 0.1, "threshold": 0.9, "min_samples": 20, "actions": ["pause"], "gold_f1": 0.8},
     "audits": {"rate": 0.05, "seed": 0, "min_gap": 20},  # own past tasks re-served unannounced (blind projects)
     "adjudication": {"role": "manager", "threshold": 0.5, "iou": 0.5,
                      "consensus": {"quorum": 2, "iou": 0.5}},  # optional: box fusion (box projects)
     "gate": {"min_agreement": 0.6, "min_gold_accuracy": 0.9, "min_review_coverage": 0.1},
     "lease_seconds": 1800, "iou": 0.5}
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial
from typing import Any

from labelgate.core import Box, Mask, Region, RotatedBox
from labelgate.core.errors import InvariantError
from labelgate.formats.native import region_from_dict, region_to_dict
from labelgate.quality.fusion import fuse_regions
from labelgate.workflow import (
    AdjudicationPolicy,
    AuditPolicy,
    Binding,
    DriftPolicy,
    Gate,
    HoneypotPolicy,
    OverlapPolicy,
    Sampling,
    SkipPolicy,
    Stage,
    WorkflowConfig,
    spatial_f1,
)

__all__ = ["KEYS", "build_config", "check_config", "gate_of", "regions_of"]

KEYS = {"stages", "groups", "overlap", "skip", "honeypots", "audits", "adjudication", "gate", "lease_seconds", "iou"}
AUDIT_KEYS = ("rate", "seed", "min_gap")


def regions_of(answer: Any) -> list[Region]:
    return [region_from_dict(d) for d in (answer or [])]


def _agreement(answers: Sequence[Any], iou: float) -> float:
    return spatial_f1([regions_of(a) for a in answers], iou_threshold=iou)


def _fused(answers: Sequence[Any], quorum: int | None, iou: float) -> Any:
    regions = [regions_of(a) for a in answers]
    if not all(isinstance(r.geometry, Box | RotatedBox | Mask) for rs in regions for r in rs):
        return answers[0]
    need = quorum if quorum is not None else len(answers) // 2 + 1
    return [region_to_dict(r) for r in fuse_regions(regions, quorum=min(need, len(answers)), iou_threshold=iou)]


def _consensus(adj: dict[str, Any], iou: float) -> tuple[Any, str]:
    """The consensus function and the method name recorded on final answers."""
    c = adj.get("consensus")
    if not c:
        return None, "first"
    if not isinstance(c, dict) or set(c) - {"quorum", "iou"}:
        raise InvariantError("workflow 'adjudication.consensus' must be an object with 'quorum' (int >= 1, default a "
                             "majority of the annotators) and 'iou' (default the adjudication iou)")
    quorum = c.get("quorum")
    if quorum is not None and (not isinstance(quorum, int) or isinstance(quorum, bool) or quorum < 1):
        raise InvariantError(f"workflow 'adjudication.consensus.quorum' must be an integer >= 1, got {quorum!r}")
    at = float(c.get("iou", iou))
    if not 0.0 < at <= 1.0:
        raise InvariantError(f"workflow 'adjudication.consensus.iou' must be in (0, 1], got {at!r}")
    method = f"box_fusion(quorum={'majority' if quorum is None else quorum}, iou={at:g})"
    return partial(_fused, quorum=quorum, iou=at), method


def _grader(answer: Any, gold: Any, iou: float, bar: float) -> bool:
    return spatial_f1([regions_of(answer), regions_of(gold)], iou_threshold=iou) >= bar


def _binding(d: dict[str, Any], where: str) -> Binding:
    if not isinstance(d, dict):
        raise InvariantError(f"workflow {where}: expected an object with 'role' or 'group'")
    return Binding(role=d.get("role"), group=d.get("group"))


def _obj(conf: dict[str, Any], key: str) -> dict[str, Any]:
    value = conf.get(key) or {}
    if not isinstance(value, dict):
        raise InvariantError(f"workflow {key!r} must be an object, got {type(value).__name__}")
    return value


def _audits(conf: dict[str, Any]) -> AuditPolicy:
    a = _obj(conf, "audits")
    unknown = set(a) - set(AUDIT_KEYS)
    if unknown:
        raise InvariantError(f"workflow 'audits' has unknown keys {sorted(unknown)}; known: {list(AUDIT_KEYS)}")
    rate, seed, gap = a.get("rate", 0.0), a.get("seed", 0), a.get("min_gap", 20)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
        raise InvariantError(f"workflow 'audits.rate' must be a number in [0, 1], got {rate!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise InvariantError(f"workflow 'audits.seed' must be an integer, got {seed!r}")
    if isinstance(gap, bool) or not isinstance(gap, int) or gap < 1:
        raise InvariantError(f"workflow 'audits.min_gap' must be an integer >= 1 (assignments between a task and its "
                             f"audit), got {gap!r}")
    return AuditPolicy(rate=float(rate), seed=seed, min_gap=gap)


def build_config(conf: dict[str, Any]) -> WorkflowConfig:
    """The engine config; raises :class:`InvariantError` naming the bad key."""
    unknown = set(conf) - KEYS
    if unknown:
        raise InvariantError(f"unknown workflow keys {sorted(unknown)}; known: {sorted(KEYS)}")
    iou = float(conf.get("iou", 0.5))
    audits = _audits(conf)
    try:
        stages = []
        for i, s in enumerate(conf.get("stages") or []):
            sampling = Sampling(**(s.get("sampling") or {}))
            stages.append(Stage(s["name"], _binding({k: s.get(k) for k in ("role", "group") if s.get(k)}, f"stages[{i}]"),
                                sampling))
        hp = dict(_obj(conf, "honeypots"))
        bar = float(hp.pop("gold_f1", 0.8))
        drift = hp.pop("drift", None)
        honeypots = HoneypotPolicy(**hp, grader=partial(_grader, iou=iou, bar=bar),
                                   drift=DriftPolicy(**drift) if isinstance(drift, dict) else None)
        adj = conf.get("adjudication")
        adjudication = None
        if adj:
            adj_iou = float(adj.get("iou", iou))
            consensus, method = _consensus(adj, adj_iou)
            adjudication = AdjudicationPolicy(_binding({k: adj.get(k) for k in ("role", "group") if adj.get(k)}, "adjudication"),
                                              partial(_agreement, iou=adj_iou), float(adj.get("threshold", 0.5)),
                                              consensus=consensus, method=method)
        return WorkflowConfig(stages=tuple(stages), lease_seconds=float(conf.get("lease_seconds", 1800)),
                              overlap=OverlapPolicy(**_obj(conf, "overlap")), skip=SkipPolicy(**_obj(conf, "skip")),
                              honeypots=honeypots, audits=audits, adjudication=adjudication)
    except (TypeError, KeyError, ValueError) as exc:
        raise InvariantError(f"workflow config is not valid: {exc}") from None


def gate_of(conf: dict[str, Any]) -> Gate | None:
    g = conf.get("gate")
    if not g:
        return None
    try:
        return Gate(**g)
    except TypeError as exc:
        raise InvariantError(f"workflow 'gate': {exc}; keys are min_agreement, min_gold_accuracy, min_review_coverage") from None


def check_config(conf: Any, blind: bool) -> dict[str, Any]:
    """Validate a config sent by a manager; returns it unchanged."""
    if not isinstance(conf, dict):
        raise InvariantError("the workflow must be a JSON object")
    build_config(conf)
    gate_of(conf)
    groups = conf.get("groups") or {}
    if not isinstance(groups, dict) or not all(isinstance(v, list) for v in groups.values()):
        raise InvariantError("workflow 'groups' must map a group name to a list of usernames")
    if float(_obj(conf, "honeypots").get("rate", 0)) > 0 and not blind:
        raise InvariantError("honeypots need a blind project (settings.blind = true): otherwise annotators would see "
                             "each other's answers on gold tasks")
    if float(_obj(conf, "audits").get("rate", 0)) > 0 and not blind:
        raise InvariantError("audits need a blind project (settings.blind = true): otherwise an annotator would see "
                             "others' answers on the tasks re-served to them")
    return conf
