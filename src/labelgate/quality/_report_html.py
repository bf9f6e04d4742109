"""The HTML rendering of a :class:`~labelgate.quality.report.QualityReport`: one page, no
external resources, figures as inline PNG drawn with matplotlib's Agg backend."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from labelgate.core import MissingDependencyError
from labelgate.quality.report import annotator_scores, esc, png

if TYPE_CHECKING:
    from labelgate.quality.report import QualityReport
    from labelgate.quality.spatial import PairAgreement

__all__ = ["render"]

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:right}
th{background:#f5f5f5}td.l,th.l{text-align:left}img{max-width:100%}.note{color:#666;font-size:.9rem}
"""


def _figure(width: float, height: float) -> tuple[Any, Any]:
    """A figure on matplotlib's Agg canvas, made without pyplot (no global backend state)."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingDependencyError("matplotlib", "quality", "The HTML report's figures") from None

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "n/a" if not math.isfinite(v) else f"{v:.4f}"
    return esc(v)


def _table(rows: list[dict[str, Any]], keys: list[str]) -> str:
    head = "".join(f"<th class='l'>{esc(k)}</th>" if i == 0 else f"<th>{esc(k)}</th>" for i, k in enumerate(keys))
    body = "".join(
        "<tr>" + "".join(f"<td class='l'>{_fmt(r.get(k))}</td>" if i == 0 else f"<td>{_fmt(r.get(k))}</td>"
                         for i, k in enumerate(keys)) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _pooled(pairs: list[PairAgreement]) -> tuple[list[str], np.ndarray]:
    labels = sorted({lab for p in pairs for lab in p.labels})
    idx = {n: i for i, n in enumerate(labels)}
    conf = np.zeros((len(labels) + 1, len(labels) + 1), dtype=np.int64)
    for p in pairs:
        m = [idx[n] for n in p.labels] + [len(labels)]
        conf[np.ix_(m, m)] += p.confusion
    return labels, conf


def _confusion_figure(labels: list[str], conf: np.ndarray) -> str:
    names = [*labels, "(unmatched)"]
    size = max(4.0, 0.5 * len(names) + 2)
    fig, ax = _figure(size, size * 0.85)
    im = ax.imshow(conf, cmap="Blues")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("annotator b")
    ax.set_ylabel("annotator a")
    top = conf.max() if conf.size else 0
    for (i, j), v in np.ndenumerate(conf):
        ax.text(j, i, str(v), ha="center", va="center", color="white" if v > top / 2 else "black", fontsize=8)
    fig.colorbar(im, ax=ax, shrink=0.8)
    ax.set_title("Label confusion, pooled over pairs")
    return png(fig)


def _annotator_figure(scores: dict[str, dict[str, float]]) -> str:
    names = list(scores)
    f1 = np.array([scores[n]["f1"] for n in names])
    lo = np.array([scores[n]["lo"] for n in names])
    hi = np.array([scores[n]["hi"] for n in names])
    fig, ax = _figure(max(4, 0.6 * len(names) + 2), 3.5)
    err = np.vstack([np.clip(f1 - lo, 0, None), np.clip(hi - f1, 0, None)])
    ax.errorbar(range(len(names)), f1, yerr=np.nan_to_num(err), fmt="o", capsize=4)
    ax.set_xticks(range(len(names)), names, rotation=30, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("F1 (label-aware)")
    ax.set_title("Per-annotator agreement with 95% bootstrap intervals")
    return png(fig)


def _class_figure(per_class: dict[str, float], title: str, ylabel: str) -> str:
    names = list(per_class)
    fig, ax = _figure(max(4, 0.5 * len(names) + 2), 3.5)
    ax.bar(range(len(names)), [per_class[n] if math.isfinite(per_class[n]) else 0 for n in names], color="#4c72b0")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    return png(fig)


def _pr_figure(curves: dict[str, list[float]], recall: list[float]) -> str:
    fig, ax = _figure(5, 4)
    for name, p in curves.items():
        arr = np.asarray(p, dtype=float)
        if (arr > -1).any():
            ax.plot(recall, np.where(arr > -1, arr, np.nan), label=name)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)
    ax.set_title("Precision-recall at IoU 0.5")
    if curves:
        ax.legend(fontsize=7, loc="lower left")
    return png(fig)


def _spatial(report: QualityReport, max_conflicts: int) -> list[str]:
    pairs = report.all_pairs()
    if not pairs:
        return []
    out = ["<h2>Spatial agreement</h2>"]
    if report.multi is not None:
        m = report.multi
        out.append(f"<p>{len(m.annotators)} annotators, {m.clusters} object clusters; Krippendorff's alpha "
                   f"(nominal, empty category for an annotator who drew nothing): <b>{_fmt(m.alpha)}</b>. "
                   f"Mean pairwise F1 {_fmt(m.mean['f1'])}, class-agnostic F1 {_fmt(m.mean['f1_class_agnostic'])}, "
                   f"mean IoU {_fmt(m.mean['mean_iou'])}, kappa {_fmt(m.mean['kappa'])}.</p>")
    keys = ["pair", "items", "n_a", "n_b", "matched", "label_mismatch", "missing", "extra", "low_overlap",
            "f1", "f1_class_agnostic", "mean_iou", "kappa"]
    rows = [dict(p.to_dict(False), pair=" vs ".join(p.annotators)) for p in pairs]
    out.append(_table(rows, keys))
    scores = annotator_scores(pairs)
    labels, conf = _pooled(pairs)
    out.append(f"<img alt='per-annotator scores' src='{_annotator_figure(scores)}'>")
    out.append(_table([dict(v, annotator=k) for k, v in scores.items()], ["annotator", "f1", "lo", "hi", "pairs"]))
    out.append(f"<img alt='confusion heatmap' src='{_confusion_figure(labels, conf)}'>")
    by_class = {lab: (2 * conf[i, i] / (conf[i].sum() + conf[:, i].sum()) if conf[i].sum() + conf[:, i].sum() else math.nan)
                for i, lab in enumerate(labels)}
    out.append(f"<img alt='agreement by class' src='{_class_figure(by_class, 'Agreement by class', 'F1')}'>")
    conflicts = [c for p in pairs for c in p.conflicts]
    if conflicts:
        out.append(f"<h3>Conflicts ({len(conflicts)}; first {min(max_conflicts, len(conflicts))})</h3>")
        out.append(_table([c.to_dict() for c in conflicts[:max_conflicts]],
                          ["item_id", "kind", "a", "b", "label_a", "label_b", "iou"]))
    return out


def render(report: QualityReport, max_conflicts: int = 200) -> str:
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(report.title)}</title>"
             f"<style>{_STYLE}</style></head><body><h1>{esc(report.title)}</h1>"]
    parts += _spatial(report, max_conflicts)
    if report.spans:
        parts.append("<h2>Span agreement</h2>")
        parts.append(_table([dict(v.to_dict(), pair=k) for k, v in report.spans.items()],
                            ["pair", "documents", "n_a", "n_b", "exact", "overlap", "f1_exact", "f1_overlap", "kappa"]))
    ev = report.evaluation
    if ev is not None:
        parts.append(f"<h2>Evaluation ({esc(ev.iou_type)}, engine {esc(ev.engine)})</h2>")
        parts.append(_table([{"metric": k, "value": v} for k, v in ev.stats.items()], ["metric", "value"]))
        ap = {k: v["AP"] for k, v in ev.per_class.items()}
        parts.append(f"<img alt='AP per class' src='{_class_figure(ap, 'AP per class (IoU 0.5:0.95)', 'AP')}'>")
        parts.append(f"<img alt='precision-recall curves' src='{_pr_figure(ev.pr_curves, ev.recall_points)}'>")
    for name, section in report.sections.items():
        parts.append(f"<h2>{esc(name)}</h2>")
        parts.append(_table([{"key": k, "value": v if isinstance(v, (int, float, str)) else str(v)}
                             for k, v in section.items()], ["key", "value"]))
    parts.append("<p class='note'>Generated by Labelgate. Definitions: see labelgate.quality.spatial.</p></body></html>")
    return "".join(parts)
