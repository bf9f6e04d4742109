"""``labelgate qa compare | evaluate | report`` end to end through typer."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labelgate import formats
from labelgate.cli import app
from labelgate.core import Annotation, Box, Dataset, Item, LabelSchema, Provenance, Region
from labelgate.quality.evaluation import COCO_STATS

runner = CliRunner()
ITEMS = [Item("i", width=100, height=100), Item("j", width=100, height=100)]
SCHEMA = LabelSchema.from_names(["cat", "dog"])


def _write(path: Path, anns: list[Annotation]) -> Path:
    formats.write(Dataset(ITEMS, anns, SCHEMA), path, "native")
    return path


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    a = _write(tmp_path / "ann.json", [
        Annotation("i", [Region(Box(0, 0, 10, 10), "cat"), Region(Box(20, 20, 30, 30), "dog")]),
        Annotation("j", [Region(Box(0, 0, 10, 10), "cat")]),
    ])
    b = _write(tmp_path / "bob.json", [
        Annotation("i", [Region(Box(1, 0, 10, 10), "cat", score=0.9), Region(Box(20, 20, 30, 31), "cat", score=0.4)]),
    ])
    return a, b


def test_compare_json_keys_and_values(pair: tuple[Path, Path]) -> None:
    r = runner.invoke(app, ["qa", "compare", str(pair[0]), str(pair[1]), "--iou", "0.5", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert list(d)[:8] == ["f1", "f1_class_agnostic", "mean_iou", "kappa", "matched", "missing", "extra", "label_mismatch"]
    assert (d["matched"], d["missing"], d["extra"], d["label_mismatch"]) == (2, 1, 0, 1)
    assert d["f1"] == pytest.approx(2 / 5) and d["f1_class_agnostic"] == pytest.approx(4 / 5)
    assert d["annotators"] == ["ann", "bob"] and len(d["conflicts"]) == 2
    strict = json.loads(runner.invoke(app, ["qa", "compare", str(pair[0]), str(pair[1]), "--iou", "0.905", "--json"]).stdout)
    assert strict["matched"] == 1


def test_compare_table_and_errors(pair: tuple[Path, Path], tmp_path: Path) -> None:
    r = runner.invoke(app, ["qa", "compare", str(pair[0]), str(pair[1])])
    assert r.exit_code == 0 and "f1_class_agnostic" in r.stdout
    r = runner.invoke(app, ["qa", "compare", str(pair[0]), str(tmp_path / "missing.json")])
    assert r.exit_code == 1 and "no such file" in r.output
    r = runner.invoke(app, ["qa", "compare", str(pair[0]), str(pair[1]), "--iou", "2", "--json"])
    assert r.exit_code == 1 and "threshold" in r.output


def test_evaluate_json_has_the_twelve_numbers(pair: tuple[Path, Path]) -> None:
    r = runner.invoke(app, ["qa", "evaluate", str(pair[0]), str(pair[1]), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert list(d)[:12] == list(COCO_STATS)
    assert 0 < d["AP50"] < 1 and set(d["per_class"]) == {"cat", "dog"}
    r = runner.invoke(app, ["qa", "evaluate", str(pair[0]), str(pair[1]), "--engine", "pycocotools", "--json"])
    assert json.loads(r.stdout)["AP"] == pytest.approx(d["AP"], abs=1e-12)
    r = runner.invoke(app, ["qa", "evaluate", str(pair[0]), str(pair[1])])
    assert r.exit_code == 0 and "AR100" in r.stdout


def test_report_from_files_and_from_one_file_with_authors(pair: tuple[Path, Path], tmp_path: Path) -> None:
    out, js = tmp_path / "r.html", tmp_path / "r.json"
    r = runner.invoke(app, ["qa", "report", str(pair[0]), str(pair[1]), "--gt", str(pair[0]), "--pred", str(pair[1]),
                            "--html", str(out), "--json-file", str(js)])
    assert r.exit_code == 0, r.output
    page = out.read_text(encoding="utf-8")
    assert len(re.findall(r"data:image/png;base64,", page)) == 5
    d = json.loads(js.read_text(encoding="utf-8"))
    assert d["agreement"]["annotators"] == ["ann", "bob"] and "AP" in d["evaluation"]["stats"]
    both = _write(tmp_path / "both.json", [
        Annotation("i", [Region(Box(0, 0, 10, 10), "cat")], Provenance(author="x")),
        Annotation("i", [Region(Box(0, 0, 10, 10), "cat")], Provenance(author="y")),
        Annotation("i", [Region(Box(0, 0, 10, 10), "dog")], Provenance(author="z")),
    ])
    r = runner.invoke(app, ["qa", "report", str(both), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["agreement"]["annotators"] == ["x", "y", "z"] and d["agreement"]["clusters"] == 1


def test_report_usage_errors(pair: tuple[Path, Path]) -> None:
    assert "nothing to write" in runner.invoke(app, ["qa", "report", str(pair[0])]).output
    assert "--gt and --pred" in runner.invoke(app, ["qa", "report", str(pair[0]), "--gt", str(pair[0]), "--json"]).output
    assert "give annotation files" in runner.invoke(app, ["qa", "report", "--json"]).output


def test_evaluate_a_coco_result_list_against_a_coco_file_equals_pycocotools(tmp_path: Path) -> None:
    import contextlib
    import io

    import numpy as np
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    rng = np.random.default_rng(7)
    images = [{"id": 10 + i, "file_name": f"im{i}.jpg", "width": 200, "height": 200} for i in range(12)]
    cats = [{"id": 3, "name": "cat"}, {"id": 9, "name": "dog"}]
    anns, res = [], []
    for im in images:
        for _ in range(rng.integers(1, 6)):
            x, y, w, h = (float(v) for v in (*rng.uniform(0, 120, 2), *rng.uniform(5, 70, 2)))
            c = int(rng.choice([3, 9]))
            anns.append({"id": len(anns) + 1, "image_id": im["id"], "category_id": c, "bbox": [x, y, w, h],
                         "area": w * h, "iscrowd": 0})
            if rng.random() < 0.8:
                d = rng.normal(0, 3, 4)
                res.append({"image_id": im["id"], "category_id": c, "score": float(rng.random()),
                            "bbox": [x + d[0], y + d[1], max(1.0, w + d[2]), max(1.0, h + d[3])]})
    gt_path, res_path = tmp_path / "instances.json", tmp_path / "results.json"
    gt_path.write_text(json.dumps({"images": images, "categories": cats, "annotations": anns}))
    res_path.write_text(json.dumps(res))
    r = runner.invoke(app, ["qa", "evaluate", str(gt_path), str(res_path), "--json"])
    assert r.exit_code == 0, r.output
    with contextlib.redirect_stdout(io.StringIO()):
        cg = COCO(str(gt_path))
        ev = COCOeval(cg, cg.loadRes(str(res_path)), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    d = json.loads(r.stdout)
    np.testing.assert_allclose([d[k] for k in COCO_STATS], ev.stats, rtol=0, atol=1e-12)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"image_id": 999, "category_id": 3, "bbox": [0, 0, 1, 1], "score": 1}]))
    r = runner.invoke(app, ["qa", "evaluate", str(gt_path), str(bad), "--json"])
    assert r.exit_code == 1 and "image_id 999" in r.output


def test_text_spans_compare_and_evaluate(tmp_path: Path) -> None:
    from labelgate.core import ItemKind, TextSpan

    items = [Item("d1", kind=ItemKind.TEXT, text="Ada Lovelace met Babbage in London"),
             Item("d2", kind=ItemKind.TEXT, text="Paris")]

    def spans(pairs: dict[str, list[tuple[int, int, str]]], path: Path) -> Path:
        anns = [Annotation(k, [Region(TextSpan(s, e), lab, score=1.0) for s, e, lab in v]) for k, v in pairs.items()]
        formats.write(Dataset(items, anns), path, "native")
        return path

    a = spans({"d1": [(0, 12, "PER"), (17, 24, "PER"), (28, 34, "LOC")], "d2": [(0, 5, "LOC")]}, tmp_path / "a.json")
    b = spans({"d1": [(0, 12, "PER"), (17, 24, "ORG"), (28, 33, "LOC")], "d2": [(0, 5, "LOC")]}, tmp_path / "b.json")
    r = runner.invoke(app, ["qa", "compare", str(a), str(b), "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)["spans"]
    assert (d["exact"], d["overlap"], d["f1_exact"]) == (2, 3, 0.5) and d["kappa"] is not None
    r = runner.invoke(app, ["qa", "evaluate", str(a), str(b), "--json"])
    assert r.exit_code == 0, r.output
    e = json.loads(r.stdout)
    assert e["micro"]["precision"] == 0.5 and e["per_class"]["PER"]["support"] == 2
    assert "micro avg" in runner.invoke(app, ["qa", "evaluate", str(a), str(b)]).stdout
