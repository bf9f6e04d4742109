"""A quality report: the numbers as JSON, and a self-contained HTML page with figures.

:class:`QualityReport` gathers spatial agreement (one pair or several annotators), span
agreement, detection evaluation, and any further named sections (plain JSON-able dicts, e.g.
categorical agreement results). ``to_json()`` serialises everything; ``to_html()`` renders one
HTML file with the figures inline as base64 PNG (matplotlib, Agg backend), so it can be mailed
or archived without a server:

- a confusion heatmap of labels (with the *unmatched* row and column) pooled over pairs;
- per-annotator F1 with 95% bootstrap intervals over items (pooled over the pairs that include
  the annotator);
- agreement by class (label-aware F1 per class, pooled over pairs);
- for an evaluation, AP per class and the precision-recall curves at IoU 0.5.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from labelgate.quality.evaluation import DetectionEvaluation
from labelgate.quality.spans import SpanAgreement
from labelgate.quality.spatial import MultiAgreement, PairAgreement, bootstrap_f1

__all__ = ["QualityReport", "annotator_scores"]


def annotator_scores(pairs: list[PairAgreement], level: float = 0.95, seed: int = 0) -> dict[str, dict[str, float]]:
    """Per annotator: label-aware F1 pooled over every pair that includes them, with a
    bootstrap interval over items (``{"f1", "lo", "hi", "pairs"}``)."""
    rows: dict[str, list[npt.NDArray[np.int64]]] = {}
    for p in pairs:
        for who in p.annotators:
            rows.setdefault(who, []).append(p.item_counts)
    out = {}
    for who, parts in sorted(rows.items()):
        c = np.concatenate(parts) if parts else np.zeros((0, 4), dtype=np.int64)
        total = int(c[:, 0].sum() + c[:, 1].sum())
        f1 = 2 * float(c[:, 3].sum()) / total if total else 1.0
        lo, hi = bootstrap_f1(c, level, seed=seed)
        out[who] = {"f1": f1, "lo": lo, "hi": hi, "pairs": len(parts)}
    return out


def _clean(x: Any) -> Any:
    """NaN and infinities become None, so the JSON is valid everywhere."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if isinstance(x, np.ndarray):
        return _clean(x.tolist())
    if isinstance(x, np.generic):
        return _clean(x.item())
    return x


@dataclass
class QualityReport:
    """Everything a quality review needs, serialisable to JSON and renderable to HTML."""

    title: str = "Labelgate quality report"
    pairs: list[PairAgreement] = field(default_factory=list)
    multi: MultiAgreement | None = None
    spans: dict[str, SpanAgreement] = field(default_factory=dict)
    evaluation: DetectionEvaluation | None = None
    sections: dict[str, Mapping[str, Any]] = field(default_factory=dict)

    def all_pairs(self) -> list[PairAgreement]:
        return list(self.multi.pairs) if self.multi is not None else list(self.pairs)

    def to_dict(self, conflicts: bool = True) -> dict[str, Any]:
        pairs = self.all_pairs()
        d: dict[str, Any] = {"title": self.title}
        if self.multi is not None:
            d["agreement"] = self.multi.to_dict(conflicts)
        elif pairs:
            d["pairs"] = [p.to_dict(conflicts) for p in pairs]
        if pairs:
            d["annotators"] = annotator_scores(pairs)
        if self.spans:
            d["spans"] = {k: v.to_dict() for k, v in self.spans.items()}
        if self.evaluation is not None:
            d["evaluation"] = self.evaluation.to_dict()
        if self.sections:
            d["sections"] = dict(self.sections)
        return dict(_clean(d))

    def to_json(self, conflicts: bool = True) -> str:
        return orjson.dumps(self.to_dict(conflicts), option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS).decode()

    def to_html(self, max_conflicts: int = 200) -> str:
        from labelgate.quality._report_html import render

        return render(self, max_conflicts=max_conflicts)

    def write_html(self, path: str | Path, max_conflicts: int = 200) -> Path:
        p = Path(path)
        p.write_text(self.to_html(max_conflicts), encoding="utf-8")
        return p


def png(fig: Any) -> str:
    """A matplotlib figure as a PNG ``data:`` URI."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def esc(x: Any) -> str:
    return html.escape(str(x), quote=True)
