"""The UI's pure modules run in Chromium against Python oracles: the mask RLE codec against
labelgate.core.rle, rotated-box corners against core.RotatedBox, and hit tests on polygons against
shapely."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from labelgate.core import RotatedBox
from labelgate.core.rle import decode, encode
from tests.e2e.live import Live

pytestmark = pytest.mark.browser


@pytest.fixture
def js(live: Live, page: Any) -> Any:
    page.goto(f"{live.url}/ui/#/login")
    page.wait_for_selector("input[name=username]")
    return page


def test_mask_rle_matches_core(js: Any) -> None:
    rng = np.random.default_rng(5)
    for h, w, p in ((7, 5, 0.5), (40, 31, 0.1), (16, 16, 0.9), (3, 4, 0.0), (3, 4, 1.0)):
        a = (rng.random((h, w)) < p).astype(np.uint8)
        got = js.evaluate("""async ([w, h, flat]) => { const m = await import('/ui/js/canvas/masks.js');
            const g = m.encode(w, h, (i) => flat[i] === 1); return [g.counts, Array.from(m.decode(g))]; }""",
                          [w, h, a.ravel().tolist()])
        expected = encode(a)
        assert got[0] == list(expected.counts)
        assert got[1] == decode(expected).ravel().tolist()


def test_rotated_corners_match_core(js: Any) -> None:
    for cx, cy, w, h, angle in ((50, 40, 30, 10, 0), (50, 40, 30, 10, 33), (0, 0, 4, 2, -120.5)):
        got = js.evaluate("""async (g) => { const m = await import('/ui/js/canvas/geometry.js');
            return m.corners(g); }""", {"type": "rotated_box", "cx": cx, "cy": cy, "width": w, "height": h, "angle": angle})
        expected = RotatedBox(cx, cy, w, h, angle).corners()
        assert np.allclose(got, expected, atol=1e-9)


def test_polygon_hit_test_matches_shapely(js: Any) -> None:
    shapely = pytest.importorskip("shapely")
    pts = [10, 10, 60, 15, 70, 60, 35, 40, 12, 55]
    poly = shapely.Polygon(np.array(pts).reshape(-1, 2))
    rng = np.random.default_rng(1)
    probes = [(float(x), float(y)) for x, y in rng.uniform(0, 80, (200, 2))]
    probes = [p for p in probes if poly.exterior.distance(shapely.Point(p)) > 1e-6]
    got = js.evaluate("""async ([pts, probes]) => { const m = await import('/ui/js/canvas/geometry.js');
        const g = { type: 'polygon', points: pts }; return probes.map(([x, y]) => m.contains(g, x, y, 0)); }""",
                      [pts, probes])
    assert got == [poly.contains(shapely.Point(p)) for p in probes]
