"""``labelgate qa compare | evaluate | report``: spatial agreement, COCO evaluation, reports.

Files are read with :func:`labelgate.formats.read` (any supported format, detected unless
``--from`` names it); the numbers come from :mod:`labelgate.quality`.
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

COMPARE_KEYS = ("f1", "f1_class_agnostic", "mean_iou", "kappa", "matched", "missing", "extra", "label_mismatch")


def _read(path: Path, fmt: str | None) -> Any:
    from labelgate import formats

    return formats.read(path, fmt)


def _predictions(path: Path, fmt: str | None) -> Any:
    """A COCO result list (a JSON array of detections) as is; any dataset file through formats."""
    if fmt is None and path.is_file() and path.suffix.lower() == ".json":
        with path.open("rb") as fh:
            head = fh.read(4096).lstrip()
        if head.startswith(b"["):
            import orjson

            from labelgate.core import FormatError

            try:
                return orjson.loads(path.read_bytes())
            except orjson.JSONDecodeError as e:
                raise FormatError(f"not valid JSON: {e}", path=path) from None
    return _read(path, fmt)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return "-" if math.isnan(v) else f"{v:.4f}"
    return str(v)


def _clean(d: dict[str, Any]) -> dict[str, Any]:
    from labelgate.quality.report import _clean as clean

    return dict(clean(d))


@qa_app.command("compare")
def compare_cmd(
    a: Annotated[Path, typer.Argument(help="First annotator's file (any supported format).")],
    b: Annotated[Path, typer.Argument(help="Second annotator's file.")],
    iou: Annotated[float, typer.Option("--iou", help="IoU (OKS for keypoints) needed for two objects to match.")] = 0.5,
    scheme: Annotated[str, typer.Option(help="Matching: agnostic (labels ignored, default), two_pass (CVAT: same label "
                                              "first), label (same label only).")] = "agnostic",
    low_overlap: Annotated[float, typer.Option(help="Matches below this IoU are listed as low_overlap conflicts.")] = 0.8,
    method: Annotated[str, typer.Option(help="Polygon IoU: exact (shapely) or raster (pycocotools).")] = "exact",
    from_a: Annotated[str | None, typer.Option("--from", help="Format of A; detected when omitted.")] = None,
    from_b: Annotated[str | None, typer.Option("--from-b", help="Format of B; defaults to --from, else detected.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON (with every conflict).")] = False,
) -> None:
    """Spatial agreement of two annotators: matched objects, F1, mean IoU, kappa, conflicts."""
    from labelgate.quality.spatial import compare

    try:
        da, db = _read(a, from_a), _read(b, from_b or from_a)
        r = compare(da, db, iou_threshold=iou, scheme=scheme, low_overlap=low_overlap, method=method,  # type: ignore[arg-type]
                    annotators=(a.stem, b.stem))
    except LabelgateError as e:
        fail(str(e))
    spans = _span_agreement(da, db)
    if json_out:
        d = r.to_dict()
        if spans is not None:
            d["spans"] = spans.to_dict()
        emit_json(_clean({**{k: d[k] for k in COMPARE_KEYS}, **d}))
        return
    t = Table(title=f"{a.name} vs {b.name}: {r.items} items, {r.n_a} vs {r.n_b} objects")
    t.add_column("score")
    t.add_column("value", justify="right")
    for k in (*COMPARE_KEYS, "low_overlap"):
        t.add_row(k, _fmt(getattr(r, k)))
    console.print(t)
    if r.conflicts:
        console.print(f"{len(r.conflicts)} conflicts; --json lists them all")
    if spans is not None:
        console.print(f"text spans: F1 exact {_fmt(spans.f1_exact)}, overlap {_fmt(spans.f1_overlap)}, "
                      f"character-level kappa {_fmt(spans.kappa) if spans.kappa is not None else '-'}")


def _has_spans(ds: Any) -> bool:
    from labelgate.core import TextSpan

    return any(isinstance(r.geometry, TextSpan) for _, r in ds.iter_regions())


def _span_agreement(da: Any, db: Any) -> Any:
    """Span agreement when both files hold text spans (character offsets; kappa per character)."""
    from labelgate.quality.spans import span_agreement, spans_of

    if not (_has_spans(da) and _has_spans(db)):
        return None
    lengths = {k: len(it.text) for k, it in da.items.items() if it.text is not None}
    sa, sb = spans_of(da), spans_of(db)
    try:
        return span_agreement(sa, sb, lengths if all(k in lengths for k in sa if k in sb) else None)
    except LabelgateError:  # overlapping spans: no character-level kappa, the F1s still hold
        return span_agreement(sa, sb)


@qa_app.command("evaluate")
def evaluate_cmd(
    gt: Annotated[Path, typer.Argument(help="Ground truth (any supported format).")],
    pred: Annotated[Path, typer.Argument(help="Predictions with scores: any supported format, or a COCO result list "
                                              "(JSON array) whose ids refer to GT's COCO file.")],
    iou_type: Annotated[str, typer.Option(help="bbox or segm.")] = "bbox",
    engine: Annotated[str, typer.Option(help="faster (faster-coco-eval) or pycocotools.")] = "faster",
    from_gt: Annotated[str | None, typer.Option("--from", help="Format of GT; detected when omitted.")] = None,
    from_pred: Annotated[str | None, typer.Option("--from-pred", help="Format of PRED; defaults to --from.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """COCO's 12 detection numbers of predictions against ground truth, and AP per class
    (entity precision/recall/F1 instead when the ground truth holds text spans)."""
    from labelgate.quality.evaluation import coco_evaluate, ner_evaluate

    try:
        g = _read(gt, from_gt)
        if _has_spans(g):
            ner = ner_evaluate(g, _read(pred, from_pred or from_gt))
            if json_out:
                emit_json(_clean(ner.to_dict()))
            else:
                t = Table(title="Entity-level scores (exact match, seqeval-compatible)")
                for c in ("class", "precision", "recall", "f1", "support"):
                    t.add_column(c, justify="left" if c == "class" else "right")
                for name, v in [*ner.per_class.items(), ("micro avg", ner.micro), ("macro avg", ner.macro)]:
                    t.add_row(name, *(_fmt(float(v[k])) for k in ("precision", "recall", "f1")), str(int(v["support"])))
                console.print(t)
            return
        ev = coco_evaluate(g, _predictions(pred, from_pred or from_gt), iou_type=iou_type,  # type: ignore[arg-type]
                           engine=engine)  # type: ignore[arg-type]
    except LabelgateError as e:
        fail(str(e))
    if json_out:
        emit_json(_clean({**ev.stats, "per_class": ev.per_class, "engine": ev.engine, "iou_type": ev.iou_type}))
        return
    t = Table(title=f"COCO {ev.iou_type} evaluation ({ev.engine})")
    t.add_column("metric")
    t.add_column("value", justify="right")
    for k, v in ev.stats.items():
        t.add_row(k, _fmt(v))
    console.print(t)
    pc = Table(title="AP per class")
    for c in ("class", "AP", "AP50"):
        pc.add_column(c, justify="left" if c == "class" else "right")
    for name, v in ev.per_class.items():
        pc.add_row(name, _fmt(v["AP"]), _fmt(v["AP50"]))
    console.print(pc)


@qa_app.command("report")
def report_cmd(
    files: Annotated[list[Path] | None, typer.Argument(help="One file with several annotators (provenance.author), "
                                                            "or one file per annotator (named by file stem).")] = None,
    html_out: Annotated[Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")] = None,
    json_file: Annotated[Path | None, typer.Option("--json-file", help="Write the report as JSON here.")] = None,
    gt: Annotated[Path | None, typer.Option(help="Ground truth, to add a COCO evaluation of --pred.")] = None,
    pred: Annotated[Path | None, typer.Option(help="Predictions to evaluate against --gt.")] = None,
    iou: Annotated[float, typer.Option("--iou", help="IoU needed for two objects to match.")] = 0.5,
    scheme: Annotated[str, typer.Option(help="Matching: agnostic, two_pass or label.")] = "agnostic",
    title: Annotated[str, typer.Option(help="Report title.")] = "Labelgate quality report",
    fmt: Annotated[str | None, typer.Option("--from", help="Format of the input files; detected when omitted.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """A quality report (agreement, conflicts, evaluation) as HTML and/or JSON."""
    from labelgate.quality.evaluation import coco_evaluate
    from labelgate.quality.report import QualityReport
    from labelgate.quality.spatial import spatial_agreement

    files = files or []
    if not (html_out or json_file or json_out):
        fail("nothing to write: pass --html OUT, --json-file OUT or --json")
    if not files and not (gt and pred):
        fail("give annotation files to compare, or --gt and --pred to evaluate")
    if (gt is None) != (pred is None):
        fail("--gt and --pred go together")
    try:
        rep = QualityReport(title=title)
        if len(files) == 1:
            rep.multi = spatial_agreement(_read(files[0], fmt), iou_threshold=iou, scheme=scheme)  # type: ignore[arg-type]
        elif files:
            stems = [f.stem for f in files]
            if len(set(stems)) != len(stems):
                fail(f"annotator files need distinct names, got {stems}")
            rep.multi = spatial_agreement({f.stem: _read(f, fmt) for f in files}, iou_threshold=iou, scheme=scheme)  # type: ignore[arg-type]
        if gt is not None and pred is not None:
            rep.evaluation = coco_evaluate(_read(gt, fmt), _predictions(pred, fmt))
        if html_out:
            rep.write_html(html_out)
        if json_file:
            json_file.write_text(rep.to_json(), encoding="utf-8")
    except LabelgateError as e:
        fail(str(e))
    if json_out:
        emit_json(rep.to_dict())
    elif html_out:
        console.print(f"wrote {html_out}")
