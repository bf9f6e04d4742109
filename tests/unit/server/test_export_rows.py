"""Export helpers that batch per-row work give what the per-row way gives."""

from __future__ import annotations

import pytest

pytest.importorskip("fastapi")

from labelgate.formats import ConversionReport
from labelgate.server.services.exports import _drop_each


@pytest.mark.parametrize("n", [0, 1, 5, 6, 40])
@pytest.mark.parametrize("before", [0, 3])
def test_drop_each_reports_what_one_drop_per_place_reports(n: int, before: int) -> None:
    where = [f"item{i}" for i in range(n)]
    one_by_one, batched = ConversionReport("coco"), ConversionReport("coco")
    for r in (one_by_one, batched):
        for i in range(before):
            r.drop("annotation.provenance", f"earlier{i}")
    for w in where:
        one_by_one.drop("annotation.provenance", w, "merged")
    _drop_each(batched, "annotation.provenance", where, "merged")
    assert batched.to_dict() == one_by_one.to_dict()
