"""Seeded generator of COCO instance files for the format benchmarks.

Sizes: small (5k images, 50k objects), medium (50k / 500k), large (120k / 1.2M). Half the objects
are boxes (``segmentation: []``), half polygons of 4-10 vertices with their bounding box, like
the instance files detectors train on. Same seed, same bytes.

    python benchmarks/formats/generate.py --size small --out benchmarks/_work/small.json
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import orjson

__all__ = ["SIZES", "generate"]

SIZES = {"small": (5_000, 50_000), "medium": (50_000, 500_000), "large": (120_000, 1_200_000)}
N_CLASSES = 80


def generate(n_images: int, n_objects: int, seed: int = 0) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    widths = rng.choice([640, 800, 1024, 1280], n_images)
    heights = rng.choice([480, 600, 768, 720], n_images)
    images = [
        {"id": i + 1, "file_name": f"{i + 1:012d}.jpg", "width": int(w), "height": int(h)}
        for i, (w, h) in enumerate(zip(widths.tolist(), heights.tolist(), strict=True))
    ]
    categories = [{"id": c + 1, "name": f"class_{c:02d}", "supercategory": f"group_{c // 10}"} for c in range(N_CLASSES)]
    img = np.sort(rng.integers(0, n_images, n_objects))
    w, h = widths[img].astype(float), heights[img].astype(float)
    bw = np.round(rng.uniform(0.02, 0.5, n_objects) * w, 2)
    bh = np.round(rng.uniform(0.02, 0.5, n_objects) * h, 2)
    x = np.round(rng.uniform(0, 1, n_objects) * (w - bw), 2)
    y = np.round(rng.uniform(0, 1, n_objects) * (h - bh), 2)
    cat = rng.integers(1, N_CLASSES + 1, n_objects)
    is_poly = rng.random(n_objects) < 0.5
    n_vertices = rng.integers(4, 11, n_objects)
    annotations = []
    columns = (img, cat, x, y, bw, bh, is_poly, n_vertices)
    for k, (i, c, xx, yy, ww, hh, poly, nv) in enumerate(zip(*(col.tolist() for col in columns), strict=True)):
        seg: list[list[float]] = []
        bbox = [xx, yy, ww, hh]
        if poly:
            a = np.sort(rng.uniform(0, 2 * np.pi, nv))
            px = np.round(xx + ww * (0.5 + 0.5 * np.cos(a)), 2)
            py = np.round(yy + hh * (0.5 + 0.5 * np.sin(a)), 2)
            seg = [np.column_stack([px, py]).ravel().tolist()]
            x1, y1 = float(px.min()), float(py.min())
            bbox = [x1, y1, round(float(px.max()) - x1, 2), round(float(py.max()) - y1, 2)]
        annotations.append({
            "id": k + 1, "image_id": i + 1, "category_id": c, "segmentation": seg,
            "area": round(bbox[2] * bbox[3], 2), "bbox": bbox, "iscrowd": 0,
        })
    return {"info": {"description": f"labelgate benchmark seed {seed}"}, "licenses": [],
            "images": images, "annotations": annotations, "categories": categories}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size", choices=sorted(SIZES), default="small")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    n_images, n_objects = SIZES[a.size]
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_bytes(orjson.dumps(generate(n_images, n_objects, a.seed)))
    print(a.out, a.out.stat().st_size // 1_000_000, "MB")


if __name__ == "__main__":
    main()
