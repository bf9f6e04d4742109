"""QualityReport: JSON that parses everywhere, and a self-contained HTML page with figures."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest

from labelgate.core import Annotation, Box, Dataset, Item, Region
from labelgate.quality.evaluation import coco_evaluate
from labelgate.quality.report import QualityReport, annotator_scores
from labelgate.quality.spans import span_agreement
from labelgate.quality.spatial import compare, spatial_agreement

A = {"i": [Region(Box(0, 0, 10, 10), "cat"), Region(Box(20, 20, 30, 30), "dog")], "j": [Region(Box(0, 0, 10, 10), "cat")]}
B = {"i": [Region(Box(1, 0, 10, 10), "cat"), Region(Box(20, 20, 30, 31), "cat")], "j": []}


def _images(page: str) -> list[bytes]:
    return [base64.b64decode(b) for b in re.findall(r"src='data:image/png;base64,([^']+)'", page)]


def test_json_is_valid_and_complete() -> None:
    rep = QualityReport(pairs=[compare(A, B)], spans={"x vs y": span_agreement({"d": [(0, 1, "A")]}, {"d": []})},
                        sections={"categorical": {"fleiss_kappa": 0.5}})
    d = json.loads(rep.to_json())  # strict JSON: NaN would fail here
    assert d["pairs"][0]["f1"] == pytest.approx(2 / 5)
    assert d["pairs"][0]["conflicts"][0]["kind"] in {"label_mismatch", "missing", "extra", "low_overlap"}
    assert d["annotators"]["a"]["lo"] <= d["annotators"]["a"]["f1"] <= d["annotators"]["a"]["hi"]
    assert d["spans"]["x vs y"]["kappa"] is None and d["sections"]["categorical"]["fleiss_kappa"] == 0.5
    nan_pair = compare({"i": []}, {"i": [Region(Box(0, 0, 1, 1), "x")]})
    assert json.loads(QualityReport(pairs=[nan_pair]).to_json())["pairs"][0]["mean_iou"] is None


def test_html_is_self_contained_with_figures(tmp_path: Path) -> None:
    items = [Item("i", width=50, height=50), Item("j", width=50, height=50)]
    gt = Dataset(items, [Annotation(k, v) for k, v in A.items()])
    pred = Dataset(items, [Annotation(k, [Region(r.geometry, r.label, score=0.9) for r in v]) for k, v in B.items()])
    rep = QualityReport(title="Shelf <audit>", multi=spatial_agreement({"a": A, "b": B, "c": A}),
                        evaluation=coco_evaluate(gt, pred), sections={"note": {"k": "v"}})
    out = rep.write_html(tmp_path / "r.html")
    page = out.read_text(encoding="utf-8")
    assert "Shelf &lt;audit&gt;" in page and "<script" not in page
    assert not re.search(r"(src|href)=['\"]?https?:", page)
    pngs = _images(page)
    assert len(pngs) == 5 and all(p.startswith(b"\x89PNG") for p in pngs)
    assert "Krippendorff" in page and "label_mismatch" in page and "AP50" in page


def test_annotator_scores_pool_their_pairs() -> None:
    m = spatial_agreement({"a": A, "b": B, "c": A})
    s = annotator_scores(m.pairs)
    assert set(s) == {"a", "b", "c"} and s["a"]["pairs"] == 2
    ab, ac = m.pairs[0], m.pairs[1]
    want = 2 * (ab.agreed + ac.agreed) / (ab.n_a + ab.n_b + ac.n_a + ac.n_b)
    assert s["a"]["f1"] == pytest.approx(want)
    assert s["a"]["lo"] <= want <= s["a"]["hi"]
    assert np.isclose(compare(A, A).f1_interval(), (1.0, 1.0)).all()
