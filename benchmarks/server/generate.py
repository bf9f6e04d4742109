"""Generate a Labelgate native file with N tasks of K pre-annotated boxes each (model predictions)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import orjson

CLASSES = ["Product", "Price tag", "Empty slot"]


def generate(path: Path, n_tasks: int, boxes: int, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 600, (n_tasks, boxes, 2)).round(1)
    wh = rng.uniform(5, 40, (n_tasks, boxes, 2)).round(1)
    labels = rng.integers(0, len(CLASSES), (n_tasks, boxes))
    scores = rng.uniform(0.3, 1.0, (n_tasks, boxes)).round(3)
    items, anns = [], []
    for i in range(n_tasks):
        key = f"img_{i:07d}"
        items.append({"id": key, "media": f"{key}.jpg", "width": 640, "height": 640})
        x1, y1 = xy[i, :, 0].tolist(), xy[i, :, 1].tolist()
        x2 = (xy[i, :, 0] + wh[i, :, 0]).round(1).tolist()
        y2 = (xy[i, :, 1] + wh[i, :, 1]).round(1).tolist()
        lab, sc = labels[i].tolist(), scores[i].tolist()
        regions = [{"geometry": {"type": "box", "x1": x1[j], "y1": y1[j], "x2": x2[j], "y2": y2[j]},
                    "label": CLASSES[lab[j]], "score": sc[j]} for j in range(boxes)]
        anns.append({"item": key, "provenance": {"source": "model", "model": "bench", "model_version": "1"},
                     "regions": regions})
    doc = {"labelgate": 1, "schema": {"classes": [{"name": c} for c in CLASSES]}, "items": items,
           "annotations": anns}
    path.write_bytes(orjson.dumps(doc))
    return path


if __name__ == "__main__":
    generate(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))


def generate_coco(path: Path, n_images: int, boxes: int, seed: int = 0) -> Path:
    """The same kind of data as a COCO file (the format the benchmark imports and exports)."""
    rng = np.random.default_rng(seed)
    n = n_images * boxes
    xy = rng.uniform(0, 600, (n, 2)).round(1)
    wh = rng.uniform(5, 40, (n, 2)).round(1)
    cats = rng.integers(1, len(CLASSES) + 1, n).tolist()
    scores = rng.uniform(0.3, 1.0, n).round(3).tolist()
    bb = np.hstack([xy, wh]).tolist()
    images = [{"id": i + 1, "file_name": f"img_{i:07d}.jpg", "width": 640, "height": 640} for i in range(n_images)]
    anns = [{"id": j + 1, "image_id": j // boxes + 1, "category_id": cats[j], "bbox": bb[j], "area": bb[j][2] * bb[j][3],
             "iscrowd": 0, "segmentation": [], "score": scores[j]} for j in range(n)]
    doc = {"images": images, "annotations": anns,
           "categories": [{"id": i + 1, "name": c, "supercategory": ""} for i, c in enumerate(CLASSES)]}
    path.write_bytes(orjson.dumps(doc))
    return path
