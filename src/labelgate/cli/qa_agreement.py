"""``labelgate qa agreement | gold | consensus``: categorical agreement, gold scoring, truth inference.

Each command parses a CSV (long form ``unit,rater,label`` or wide form, detected from the header),
calls the quality library and renders; ``--json`` prints machine-readable output.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from labelgate.cli._render import console, emit_json, fail
from labelgate.cli.qa import qa_app
from labelgate.core import LabelgateError

DEFAULT_METRICS = ("percent", "fleiss_kappa", "gwet_ac1", "krippendorff_alpha")


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.{digits}f}"


def _categories(text: str | None) -> list[Any] | None:
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",") if p.strip()]
    for kind in (int, float):
        try:
            return [kind(p) for p in parts]
        except ValueError:
            continue
    return parts


@qa_app.command("agreement")
def agreement_cmd(
    file: Annotated[Path, typer.Argument(help="Ratings CSV: long form (unit,rater,label) or wide form (one column per rater).")],
    metric: Annotated[list[str] | None, typer.Option("--metric", "-m", help="Metric (repeatable): percent, cohen_kappa, scott_pi, "
                      "fleiss_kappa, conger_kappa, brennan_prediger, gwet_ac1, krippendorff_alpha.")] = None,
    level: Annotated[str | None, typer.Option(help="Krippendorff's level: nominal, ordinal, interval, ratio.")] = None,
    weights: Annotated[str | None, typer.Option(help="Kappa-family weights: identity, linear, quadratic, ordinal.")] = None,
    categories: Annotated[str | None, typer.Option(help="Declared categories in order, comma-separated.")] = None,
    confidence: Annotated[float, typer.Option(help="Confidence level of the intervals.")] = 0.95,
    ci: Annotated[str, typer.Option("--ci", help="Intervals: auto (analytic where known, else bootstrap), analytic, "
                                    "bootstrap, none.")] = "auto",
    resamples: Annotated[int, typer.Option(help="Bootstrap resamples.")] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap, where one is used.")] = 0,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Inter-rater agreement of a ratings file, with standard errors and confidence intervals."""
    from labelgate.quality.agreement import agreement, rating_table
    from labelgate.quality.agreement.csvio import read_ratings_csv

    try:
        ratings = read_ratings_csv(file)
        table = rating_table(ratings.records, _categories(categories))
        names = list(metric) if metric else list(DEFAULT_METRICS) + (["cohen_kappa"] if table.n_raters == 2 else [])
        results = []
        for name in names:
            is_alpha = name.lower().replace("-", "_") in ("krippendorff_alpha", "alpha", "krippendorff")
            results.append(agreement(table, name, level=level if is_alpha else None, weights=None if is_alpha else weights,
                                     confidence=confidence, ci_method=ci, resamples=resamples, seed=seed))
    except LabelgateError as e:
        fail(str(e))
    if json_out:
        emit_json({"file": str(file), "form": ratings.form, "units": table.n_units, "raters": table.n_raters,
                   "categories": list(table.categories), "results": [r.to_dict() for r in results]})
        return
    console.print(f"{file}: {ratings.form} form, {table.n_units} units, {table.n_raters} raters, "
                  f"{table.q} categories", highlight=False)
    out = Table()
    out.add_column("metric", overflow="fold")
    for col in ("value", "SE", f"{confidence:.0%} CI", "observed", "expected"):
        out.add_column(col)
    out.add_column("interpretation", overflow="fold")
    for r in results:
        ci = "-" if r.ci is None else f"[{_fmt(r.ci[0], 3)}, {_fmt(r.ci[1], 3)}]"
        label = r.metric + (f" ({r.level})" if r.level else "") + (f" ({r.weights})" if r.weights not in (None, "identity") else "")
        out.add_row(label, _fmt(r.value), _fmt(r.se), ci, _fmt(r.observed), _fmt(r.expected), r.interpretation)
    console.print(out)


@qa_app.command("gold")
def gold_cmd(
    annotations: Annotated[Path, typer.Argument(help="Answers CSV, long form: unit,annotator,label.")],
    gold: Annotated[Path, typer.Argument(help="Gold CSV: unit,label.")],
    threshold: Annotated[float, typer.Option(help="Target accuracy for a pass.")] = 0.9,
    min_samples: Annotated[int, typer.Option(help="Fewest graded answers before any verdict.")] = 20,
    confidence: Annotated[float, typer.Option(help="Confidence level of the Wilson intervals.")] = 0.95,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Annotator accuracy against gold answers, per class, with Wilson intervals and verdicts."""
    from labelgate.quality.agreement.csvio import read_gold_csv, read_ratings_csv
    from labelgate.quality.gold import score_gold

    try:
        answers = read_ratings_csv(annotations, typed=False)
        truth = read_gold_csv(gold)
        report = score_gold(answers.records, truth, threshold=threshold, min_samples=min_samples, confidence=confidence)
    except LabelgateError as e:
        fail(str(e))
    if json_out:
        emit_json(report.to_dict())
        return
    out = Table("annotator", "class", "n", "accuracy", f"{confidence:.0%} Wilson CI", "verdict")
    for a in report.annotators:
        out.add_row(str(a.annotator), "(all)", str(a.n), _fmt(a.accuracy, 3), f"[{a.ci[0]:.3f}, {a.ci[1]:.3f}]", a.verdict)
        for c in a.per_class:
            out.add_row("", str(c.label), str(c.n), _fmt(c.accuracy, 3), f"[{c.ci[0]:.3f}, {c.ci[1]:.3f}]", c.verdict)
    console.print(out)
    if report.ungraded:
        console.print(f"{report.ungraded} answers on units without gold were not graded", highlight=False)


@qa_app.command("consensus")
def consensus_cmd(
    file: Annotated[Path, typer.Argument(help="Ratings CSV: long form (unit,rater,label) or wide form.")],
    method: Annotated[str, typer.Option(help="majority or dawid-skene.")] = "majority",
    tie: Annotated[str, typer.Option(help="Majority tie rule: lowest_label, random, abstain.")] = "lowest_label",
    seed: Annotated[int, typer.Option(help="Seed for the random tie rule.")] = 0,
    max_iter: Annotated[int, typer.Option(help="Dawid-Skene: most EM iterations.")] = 100,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """One label per unit from several annotators: majority vote or Dawid-Skene EM."""
    from labelgate.quality.agreement.csvio import read_ratings_csv
    from labelgate.quality.inference import dawid_skene, majority_vote

    method = method.lower().replace("_", "-")
    if method not in ("majority", "dawid-skene"):
        fail(f"unknown consensus method {method!r}: use majority or dawid-skene")
    try:
        records = read_ratings_csv(file, typed=False).records
        result: Any = majority_vote(records, tie=tie, seed=seed) if method == "majority" else dawid_skene(records, max_iter=max_iter)
    except LabelgateError as e:
        fail(str(e))
    payload = result.to_dict()
    if json_out:
        emit_json(payload)
        return
    score = "support" if method == "majority" else "posterior"
    out = Table("unit", "label", score)
    for row in payload["units"]:
        out.add_row(str(row["unit"]), "-" if row["label"] is None else str(row["label"]), _fmt(row[score], 3))
    console.print(out)
    if method == "dawid-skene":
        console.print(f"EM: {payload['iterations']} iterations, converged={payload['converged']}", highlight=False)
        for row in payload["annotator_accuracy"]:
            console.print(f"  {row['annotator']}: estimated accuracy {row['accuracy']:.3f}", highlight=False)
    elif payload["ties"]:
        console.print(f"{payload['ties']} tied units resolved by rule {tie!r}", highlight=False)
