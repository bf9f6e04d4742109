"""The other image tools in a real browser: model predictions shown dashed and accepted (edited
in the same action, or all at once), per-region attributes, polygon vertices (add, close, move,
delete), keypoints along a class's skeleton, and a whole-image classification."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import shot
from tests.e2e.live import Live, image_project, login, member
from tests.e2e.test_annotate import drag, open_next_task, regions, to_screen, wait_saved

pytestmark = pytest.mark.browser

SCHEMA = {"classes": [
    {"name": "Product", "attributes": [{"name": "brand", "type": "select", "values": ["acme", "globex"]}]},
    {"name": "Person", "skeleton": {"points": ["head", "hand"], "edges": [[0, 1]]}},
    {"name": "Damaged"},
]}


def predictions_file(path: Path) -> Path:
    coco = {"images": [{"id": 1, "file_name": "shelf000.png", "width": 960, "height": 640}],
            "categories": [{"id": 1, "name": "Product"}],
            "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [40, 40, 100, 150], "area": 15000,
                             "iscrowd": 0, "score": 0.9, "segmentation": []},
                            {"id": 2, "image_id": 1, "category_id": 1, "bbox": [400, 40, 80, 150], "area": 12000,
                             "iscrowd": 0, "score": 0.8, "segmentation": []}]}
    path.write_text(json.dumps(coco))
    return path


def click(page: Any, x: float, y: float) -> None:
    page.mouse.click(*to_screen(page, x, y))


def test_predictions_attributes_polygon_keypoints(live: Live, page: Any, tag: str, tmp_path: Path) -> None:
    admin = live.user(f"admin_{tag}", superuser=True)
    ann = live.user(f"ann_{tag}")
    pid = image_project(live, admin, tmp_path / "media", n_images=1, schema=SCHEMA, name=f"tools {tag}")
    member(live, admin, pid, ann, "annotator")
    with live.client(admin) as c:
        c.import_file(pid, predictions_file(tmp_path / "preds.json"), format="coco", kind="predictions",
                      model="detector", model_version="1")

    login(page, live.url, ann.username)
    task_id = open_next_task(page, live, pid)
    assert page.evaluate("window.__lg.editor.predictions.length") == 2
    shot(page, "predictions")

    # drag the first prediction: accepted and moved in one action (one undo step)
    click(page, 90, 100)
    drag(page, (90, 100), (100, 110))
    assert [r["geometry"] for r in regions(page)] == [{"type": "box", "x1": 50, "y1": 50, "x2": 150, "y2": 200}]
    assert page.evaluate("window.__lg.editor.predictions.length") == 1
    page.select_option("select[name=brand]", "globex")
    assert regions(page)[0]["attributes"] == {"brand": "globex"}
    page.keyboard.press("Control+z")  # attribute
    page.keyboard.press("Control+z")  # accept + move
    assert regions(page) == [] and page.evaluate("window.__lg.editor.predictions.length") == 2
    page.keyboard.press("Escape")
    page.keyboard.press("a")  # accept all predictions as they are
    assert [r["geometry"]["x1"] for r in regions(page)] == [40, 400]
    click(page, 90, 100)
    page.select_option("select[name=brand]", "acme")
    page.keyboard.press("Escape")

    # polygon: four clicks, close on the first vertex, then drag one vertex and delete another
    page.keyboard.press("3")
    page.keyboard.press("p")
    for x, y in ((600, 400), (700, 400), (700, 500), (600, 500)):
        click(page, x, y)
    click(page, 600, 400)
    poly = regions(page)[-1]
    assert poly["label"] == "Damaged" and poly["geometry"]["points"] == [600, 400, 700, 400, 700, 500, 600, 500]
    page.keyboard.press("v")
    click(page, 650, 450)
    drag(page, (700, 500), (720, 520))
    page.keyboard.down("Alt")
    click(page, 600, 500)
    page.keyboard.up("Alt")
    assert regions(page)[-1]["geometry"]["points"] == [600, 400, 700, 400, 720, 520]

    # keypoints along Person's skeleton (head, hand)
    page.keyboard.press("Escape")  # deselect, so the hotkey picks the next label instead of relabelling
    page.keyboard.press("2")
    page.keyboard.press("k")
    click(page, 300, 300)
    click(page, 330, 360)
    kp = regions(page)[-1]
    assert kp["label"] == "Person"
    assert kp["geometry"] == {"type": "keypoints", "points": [300, 300, 330, 360], "visibility": [2, 2]}

    page.keyboard.press("3")
    page.keyboard.press("c")  # the whole image is "Damaged"
    wait_saved(page)
    shot(page, "tools")
    expected = regions(page)
    page.click("#submit")
    page.wait_for_selector("text=No task left for you")
    with live.client(admin) as c:
        stored = next(a for a in c.task(task_id)["annotations"] if a["author_name"] == ann.username)
    def canon(g: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in g.items() if not (k == "holes" and v == [])}

    assert [(r["label"], canon(r["geometry"])) for r in stored["regions"]] == [(r["label"], r["geometry"]) for r in expected]
    assert stored["regions"][0]["attributes"] == {"brand": "acme"}
    assert [r["geometry"]["type"] for r in stored["regions"]] == ["box", "box", "polygon", "keypoints", "classification"]


def test_rotated_box(live: Live, page: Any, tag: str, tmp_path: Path) -> None:
    import math

    admin = live.user(f"admin_{tag}", superuser=True)
    ann = live.user(f"ann_{tag}")
    pid = image_project(live, admin, tmp_path / "media", n_images=1, schema=SCHEMA, name=f"obb {tag}")
    member(live, admin, pid, ann, "annotator")
    login(page, live.url, ann.username)
    task_id = open_next_task(page, live, pid)
    page.keyboard.press("o")
    drag(page, (100, 100), (200, 160))
    assert regions(page)[0]["geometry"] == {"type": "rotated_box", "cx": 150, "cy": 130, "width": 100, "height": 60, "angle": 0}
    click(page, 150, 130)
    page.keyboard.press("}")
    page.keyboard.press("]")
    assert regions(page)[0]["geometry"]["angle"] == 16
    scale = page.evaluate("window.__lg.editor.view.scale")
    a = math.radians(16)
    d = 30 + 24 / scale
    drag(page, (150 + d * math.sin(a), 130 - d * math.cos(a)), (250, 130))  # the rotation handle, to the right
    g = regions(page)[0]["geometry"]
    assert abs(g["angle"] - 90) < 0.5 and (g["cx"], g["cy"], g["width"], g["height"]) == (150, 130, 100, 60)
    shot(page, "rotated")
    page.click("#submit")
    page.wait_for_selector("text=No task left for you")
    with live.client(admin) as c:
        stored = next(a for a in c.task(task_id)["annotations"] if a["author_name"] == ann.username)
    assert stored["regions"][0]["geometry"] == g


def test_brush_and_eraser_mask(live: Live, page: Any, tag: str, tmp_path: Path) -> None:
    from labelgate.core.rle import decode
    from labelgate.formats.native import geometry_from_dict

    admin = live.user(f"admin_{tag}", superuser=True)
    ann = live.user(f"ann_{tag}")
    pid = image_project(live, admin, tmp_path / "media", n_images=1, schema=SCHEMA, name=f"masks {tag}")
    member(live, admin, pid, ann, "annotator")
    login(page, live.url, ann.username)
    task_id = open_next_task(page, live, pid)
    page.keyboard.press("3")
    page.keyboard.press("m")
    drag(page, (300, 300), (400, 300), steps=10)
    (r,) = regions(page)
    assert r["label"] == "Damaged" and r["geometry"]["type"] == "mask"
    assert (r["geometry"]["width"], r["geometry"]["height"]) == (960, 640)
    page.keyboard.press("e")
    drag(page, (350, 270), (350, 330), steps=10)
    shot(page, "mask")
    page.click("#submit")
    page.wait_for_selector("text=No task left for you")
    with live.client(admin) as c:
        stored = next(a for a in c.task(task_id)["annotations"] if a["author_name"] == ann.username)
    mask = decode(geometry_from_dict(stored["regions"][0]["geometry"]))  # type: ignore[arg-type]
    assert mask.shape == (640, 960)
    assert mask[300, 310] and mask[300, 395] and not mask[300, 350] and not mask[100, 100]
    assert 1500 < int(mask.sum()) < 3100
