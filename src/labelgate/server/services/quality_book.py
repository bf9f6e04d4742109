"""Per-project quality accumulators, fed one engine record at a time, so that a submit updates the
dashboard without recomputing the project.

Agreement is Cohen's kappa over matched objects with an *empty* category (an object one annotator drew
and the other did not is the pair (label, empty)), as :mod:`labelgate.quality.spatial` defines it: each
new annotate submission on an overlap task is matched (class-agnostic, IoU >= ``iou``) against every
earlier submission on that task made under the same guideline version, and the matched label pairs are
added to confusion counts kept per (guideline version, annotator pair). Reports are computed from these
counts in O(pairs x classes^2), independent of the number of tasks. Intervals are the large-sample
normal interval of kappa, ``sqrt(po (1 - po) / (n (1 - pe)^2))`` (Cohen 1960).

Test-retest agreement is the same kappa between an annotator's first answer on a task and their answer
when the task was re-served to them as an audit, pooled over their audits.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from labelgate.core import Box, Mask, MultiPolygon, Polygon, Region, RotatedBox
from labelgate.quality.iou import iou_matrix
from labelgate.quality.matching import match
from labelgate.server.services.workflow_config import regions_of
from labelgate.workflow import ReworkRequested, Submit, TaskStatus, WorkflowState, gold_report
from labelgate.workflow.effects import Record

__all__ = ["EMPTY", "PairKey", "QualityBook", "kappa_summary", "object_pairs"]

EMPTY = ""  # the category of "no object on this side"
_AREA = (Box, RotatedBox, Polygon, MultiPolygon, Mask)
PairKey = tuple[int | None, str, str]  # guideline version, annotator a < annotator b


def object_pairs(a: list[Region], b: list[Region], iou: float) -> list[tuple[str, str]]:
    """Matched label pairs of two annotators' area objects on one item (EMPTY for an unmatched side)."""
    ra = [r for r in a if isinstance(r.geometry, _AREA)]
    rb = [r for r in b if isinstance(r.geometry, _AREA)]
    if not ra or not rb:
        return [(r.label, EMPTY) for r in ra] + [(EMPTY, r.label) for r in rb]
    m = match(iou_matrix([r.geometry for r in ra], [r.geometry for r in rb]), iou)
    out = [(ra[i].label, rb[j].label) for i, j in zip(m.a.tolist(), m.b.tolist(), strict=True)]
    out += [(ra[i].label, EMPTY) for i in m.unmatched_a.tolist()]
    out += [(EMPTY, rb[j].label) for j in m.unmatched_b.tolist()]
    return out


def kappa_summary(counts: Counter[tuple[str, str]], items: int, level: float = 0.95) -> dict[str, Any]:
    """Kappa (as :func:`labelgate.quality.spatial.cohen_kappa` defines it), its interval and per-class
    specific agreement from label-pair counts; plain Python, since the matrices are classes + 1 wide."""
    rows: Counter[str] = Counter()
    cols: Counter[str] = Counter()
    agree = 0
    for (x, y), c in counts.items():
        rows[x] += c
        cols[y] += c
        agree += c if x == y else 0
    n = sum(rows.values())
    kappa: float | None = None
    ci: tuple[float, float] | None = None
    if n:
        po = agree / n
        pe = sum(rows[k] * cols[k] for k in rows) / n**2
        kappa = 1.0 if po == 1.0 else (po - pe) / (1 - pe)
        z = {0.9: 1.6449, 0.95: 1.96, 0.99: 2.5758}.get(level, 1.96)
        se = math.sqrt(po * (1 - po) / (n * (1 - pe) ** 2)) if pe < 1 else 0.0
        ci = (max(-1.0, kappa - z * se), min(1.0, kappa + z * se))
    per_class = {}
    for name in sorted(set(rows) | set(cols) - {EMPTY}):
        if name == EMPTY:
            continue
        total = rows[name] + cols[name]
        per_class[name] = {"agreement": 2 * counts.get((name, name), 0) / total if total else None, "objects": total}
    return {"kappa": kappa, "ci": ci, "objects": n, "items": items, "observed": agree / n if n else None,
            "per_class": per_class}


@dataclass
class _Annotator:
    submitted: int = 0
    reworked: int = 0
    first_at: float | None = None
    last_at: float | None = None


@dataclass
class QualityBook:
    iou: float = 0.5
    pairs: dict[PairKey, Counter[tuple[str, str]]] = field(default_factory=lambda: defaultdict(Counter))
    pair_items: Counter[PairKey] = field(default_factory=Counter)
    annotators: dict[str, _Annotator] = field(default_factory=lambda: defaultdict(_Annotator))
    days: dict[int, Counter[tuple[str, str]]] = field(default_factory=lambda: defaultdict(Counter))  # UTC day -> pairs
    day_items: Counter[int] = field(default_factory=Counter)
    retest: dict[str, Counter[tuple[str, str]]] = field(default_factory=lambda: defaultdict(Counter))  # member -> pairs
    retested: set[tuple[str, str]] = field(default_factory=set)  # (member, task) audits counted

    def apply(self, state: WorkflowState, record: Record) -> None:
        """Account for one record just applied to ``state`` (the state as it stands after it)."""
        event = record.event
        if isinstance(event, Submit):
            self._submitted(state, event, record.at)
            annotator = state.annotators.get(event.member)
            pair = None if annotator is None else annotator.retest.get(event.task_id)
            if pair is not None:
                self._retested(event.member, event.task_id, pair)
        for effect in record.effects:
            if isinstance(effect, ReworkRequested):
                self.annotators[effect.annotator].reworked += 1

    def _submitted(self, state: WorkflowState, event: Submit, at: float) -> None:
        task = state.tasks.get(event.task_id)
        if task is None or task.status is TaskStatus.GOLD or not task.submissions:
            return
        sub = task.submissions[-1]
        if sub.annotation_id != event.annotation_id or sub.kind != "annotate":
            return  # gold, audit or rework: not a first annotation
        a = self.annotators[sub.annotator]
        a.submitted += 1
        a.first_at = at if a.first_at is None else a.first_at
        a.last_at = at
        if task.overlap >= 2:
            self._pair_up(sub, task.annotate_submissions()[:-1])

    def _retested(self, member: str, task_id: str, pair: tuple[Any, Any]) -> None:
        if (member, task_id) in self.retested:
            return
        self.retested.add((member, task_id))
        self.retest[member].update(object_pairs(regions_of(pair[0]), regions_of(pair[1]), self.iou))

    @classmethod
    def rebuild(cls, state: WorkflowState, iou: float = 0.5) -> QualityBook:
        """The same accumulators computed from scratch over a state's tasks (a full recomputation;
        :meth:`apply` keeps them current one record at a time instead)."""
        book = cls(iou=iou)
        for task in state.tasks.values():
            if task.status is TaskStatus.GOLD:
                continue
            subs = task.annotate_submissions()
            for n, sub in enumerate(subs):
                a = book.annotators[sub.annotator]
                a.submitted += 1
                a.first_at = sub.at if a.first_at is None else min(a.first_at, sub.at)
                a.last_at = sub.at if a.last_at is None else max(a.last_at, sub.at)
                if task.overlap >= 2:
                    book._pair_up(sub, subs[:n])
            for review in task.reviews:
                if not review.accept and task.owner is not None:
                    book.annotators[task.owner].reworked += 1
        for member, annotator in state.annotators.items():
            for task_id, pair in annotator.retest.items():
                book._retested(member, task_id, pair)
        return book

    def _pair_up(self, sub: Any, earlier: list[Any]) -> None:
        mine = regions_of(sub.answer)
        for other in earlier:
            if other.guideline_version != sub.guideline_version or other.annotator == sub.annotator:
                continue
            x, y = (other, sub) if other.annotator < sub.annotator else (sub, other)
            ra, rb = (regions_of(other.answer), mine) if x is other else (mine, regions_of(other.answer))
            key = (sub.guideline_version, x.annotator, y.annotator)
            found = object_pairs(ra, rb, self.iou)
            self.pairs[key].update(found)
            self.pair_items[key] += 1
            day = int(sub.at // 86400)
            self.days[day].update(found)
            self.day_items[day] += 1

    # -- reports ---------------------------------------------------------------------------
    def _pooled(self, keep: Any) -> tuple[Counter[tuple[str, str]], int]:
        total: Counter[tuple[str, str]] = Counter()
        items = 0
        for key, counts in self.pairs.items():
            if keep(key):
                total.update(counts)
                items += self.pair_items[key]
        return total, items

    def agreement(self, names: dict[str, str] | None = None) -> dict[str, Any]:
        names = names or {}
        overall, items = self._pooled(lambda k: True)
        out = kappa_summary(overall, items)
        versions = sorted({k[0] for k in self.pairs}, key=lambda v: -1 if v is None else v)
        out["by_version"] = {}
        for v in versions:
            counts, n = self._pooled(lambda k, v=v: k[0] == v)
            entry = kappa_summary(counts, n)
            entry["version"] = v
            entry["pairs"] = [{"a": names.get(k[1], k[1]), "b": names.get(k[2], k[2]),
                               **{x: y for x, y in kappa_summary(c, self.pair_items[k]).items() if x != "per_class"}}
                              for k, c in sorted(self.pairs.items(), key=lambda kv: kv[0][1:]) if k[0] == v]
            out["by_version"][str(v)] = entry
        out["confused"] = self.confused(overall)
        out["timeline"] = [{"day": datetime.fromtimestamp(d * 86400, UTC).date().isoformat(),
                            **{x: y for x, y in kappa_summary(self.days[d], self.day_items[d]).items() if x != "per_class"}}
                           for d in sorted(self.days)]
        out["metric"] = "cohen_kappa"
        out["iou"] = self.iou
        return out

    def latest_kappa(self) -> float | None:
        versions = [k[0] for k in self.pairs]
        if not versions:
            return None
        latest = max(versions, key=lambda v: -1 if v is None else v)
        counts, n = self._pooled(lambda k: k[0] == latest)
        kappa = kappa_summary(counts, n)["kappa"]
        return None if kappa is None else float(kappa)

    @staticmethod
    def confused(counts: Counter[tuple[str, str]], top: int = 10) -> list[dict[str, Any]]:
        """Class pairs most often matched with different labels (either order), then missed objects."""
        merged: Counter[tuple[str, str]] = Counter()
        for (x, y), c in counts.items():
            if x != y:
                merged[tuple(sorted((x, y)))] += c  # type: ignore[index]
        ranked = sorted(merged.items(), key=lambda kv: (kv[0][0] == EMPTY, -kv[1], kv[0]))[:top]
        return [{"a": a or None, "b": b, "count": c} if a else {"a": b, "b": None, "count": c} for (a, b), c in ranked]

    def scorecards(self, state: WorkflowState, names: dict[str, str] | None = None) -> list[dict[str, Any]]:
        names = names or {}
        gold = {g.annotator: g for g in gold_report(state).annotators}
        people = sorted(set(self.annotators) | set(gold) | {m for k in self.pairs for m in k[1:]} | set(self.retest))
        pooled: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
        pooled_items: Counter[str] = Counter()
        for key, counts in self.pairs.items():
            for member in key[1:]:
                pooled[member].update(counts)
                pooled_items[member] += self.pair_items[key]
        out = []
        for member in people:
            a = self.annotators.get(member, _Annotator())
            items = pooled_items[member]
            peer = kappa_summary(pooled[member], items)
            g = gold.get(member)
            st = state.annotators.get(member)
            audited = sum(1 for m, _ in self.retested if m == member)
            retest = kappa_summary(self.retest.get(member, Counter()), audited)
            hours = (a.last_at - a.first_at) / 3600 if a.first_at is not None and a.last_at is not None else 0.0
            out.append({
                "member": names.get(member, member), "submitted": a.submitted,
                "throughput_per_hour": a.submitted / hours if hours > 0 else None,
                "rejections": a.reworked, "rejection_rate": a.reworked / a.submitted if a.submitted else None,
                "gold": None if g is None else {"graded": g.n, "correct": g.correct, "accuracy": g.accuracy,
                                                "ci": list(g.ci), "verdict": g.verdict},
                "agreement": {"kappa": peer["kappa"], "ci": peer["ci"], "objects": peer["objects"], "items": items},
                "retest": {"kappa": retest["kappa"], "ci": retest["ci"], "objects": retest["objects"], "audits": audited},
                "drift": {"alarm_at": None if st is None else st.drift_alarm, "flagged": bool(st and st.flagged),
                          "paused": bool(st and st.paused)},
            })
        return out
