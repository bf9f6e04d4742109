"""Pairwise box agreement at scale: Labelgate's columnar path against a plain per-image
shapely + scipy loop, same data, same process.

Data (seeded): ``--images`` images, each with Poisson(10) true boxes of 5 classes; 3 annotators
each drop 5% of the boxes, jitter corners by 3% of the box size, relabel 5%, and add an extra box
to 5% of the images. Each annotator's labels are one Dataset backed by one columnar RegionTable,
as the fast codecs build them.

- Baseline: for every image and every annotator pair, shapely 2 boxes, a vectorised pairwise
  ``shapely.intersection`` for the IoU matrix, ``scipy.optimize.linear_sum_assignment`` on it,
  and the counts (matches, same-label matches, IoU sum, label confusion). Its input is already
  grouped per image (grouping is not timed).
- Labelgate: ``labelgate.quality.compare`` on the two annotators' Datasets, for each of the 3
  pairs (F1, class-agnostic F1, mean IoU, kappa, confusion with the unmatched row/column and the
  full conflict list), and ``spatial_agreement`` (the 3 pairs plus Krippendorff's alpha over object
  clusters). Counts must equal the baseline's (asserted).

Writes the ``## Quality: spatial and evaluation`` section of benchmarks/RESULTS.md together with
``benchmarks/quality/coco_eval.py`` (run that one after this one; ``--no-write`` to skip).

    .venv/bin/python benchmarks/quality/spatial.py [--images 100000]
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from labelgate.core import Annotation, Dataset, Item, Provenance, RegionTable
from labelgate.quality import compare, spatial_agreement

OUT = Path(__file__).resolve().parents[1] / "_work" / "quality_spatial.json"
N_CLASSES = 5


def make(images: int, annotators: int = 3, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per annotator: (image index per box, boxes N x 4, label per box), sorted by image."""
    rng = np.random.default_rng(seed)
    n = rng.poisson(10, images)
    img = np.repeat(np.arange(images), n)
    xy = rng.uniform(0, 600, (len(img), 2))
    wh = rng.uniform(10, 120, (len(img), 2))
    truth = np.hstack([xy, xy + wh])
    label = rng.integers(0, N_CLASSES, len(img))
    out = []
    for _ in range(annotators):
        keep = rng.random(len(img)) >= 0.05
        size = np.hstack([wh, wh])[keep]
        b = truth[keep] + rng.normal(0, 0.03, (int(keep.sum()), 4)) * size
        b[:, 2:] = np.maximum(b[:, 2:], b[:, :2] + 1)
        lab = np.where(rng.random(int(keep.sum())) < 0.05, rng.integers(0, N_CLASSES, int(keep.sum())), label[keep])
        extra = np.flatnonzero(rng.random(images) < 0.05)
        exy = rng.uniform(0, 600, (len(extra), 2))
        eb = np.hstack([exy, exy + 40])
        i = np.concatenate([img[keep], extra])
        order = np.argsort(i, kind="stable")
        out.append((i[order], np.vstack([b, eb])[order], np.concatenate([lab, rng.integers(0, N_CLASSES, len(extra))])[order]))
    return out


def to_dataset(images: int, img: np.ndarray, boxes: np.ndarray, label: np.ndarray, author: str) -> Dataset:
    counts = np.bincount(img, minlength=images)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    table = RegionTable(labels=[f"class{k}" for k in range(N_CLASSES)], label=label, kind=np.zeros(len(img), dtype=np.uint8),
                        bbox=boxes, offsets=offsets)
    prov = Provenance(author=author)
    items = [Item(f"img{i:07d}", width=800, height=800) for i in range(images)]
    anns = [Annotation.from_table(items[i].id, table, table.rows_of(i), prov) for i in range(images)]
    return Dataset(items, anns)


def baseline(images: int, per_image: list[list[tuple[np.ndarray, np.ndarray]]], threshold: float = 0.5) -> dict[str, Any]:
    import shapely
    from scipy.optimize import linear_sum_assignment

    results = {}
    k = len(per_image)
    for x in range(k):
        for y in range(x + 1, k):
            matched = agreed = n_a = n_b = 0
            iou_sum = 0.0
            conf = np.zeros((N_CLASSES + 1, N_CLASSES + 1), dtype=np.int64)
            for i in range(images):
                ba, la = per_image[x][i]
                bb, lb = per_image[y][i]
                n_a += len(ba)
                n_b += len(bb)
                if len(ba) and len(bb):
                    sa = shapely.box(ba[:, 0], ba[:, 1], ba[:, 2], ba[:, 3])
                    sb = shapely.box(bb[:, 0], bb[:, 1], bb[:, 2], bb[:, 3])
                    inter = shapely.area(shapely.intersection(sa[:, None], sb[None, :]))
                    union = shapely.area(sa)[:, None] + shapely.area(sb)[None, :] - inter
                    iou = inter / union
                    w = np.where(iou >= threshold, iou, 0.0)
                    r, c = linear_sum_assignment(w, maximize=True)
                    ok = iou[r, c] >= threshold
                    r, c = r[ok], c[ok]
                else:
                    r = c = np.zeros(0, dtype=np.intp)
                    iou = np.zeros((len(ba), len(bb)))
                matched += len(r)
                agreed += int((la[r] == lb[c]).sum())
                iou_sum += float(iou[r, c].sum())
                np.add.at(conf, (la[r], lb[c]), 1)
                ua = np.setdiff1d(np.arange(len(ba)), r)
                ub = np.setdiff1d(np.arange(len(bb)), c)
                np.add.at(conf, (la[ua], np.full(len(ua), N_CLASSES)), 1)
                np.add.at(conf, (np.full(len(ub), N_CLASSES), lb[ub]), 1)
            results[f"{x}-{y}"] = {"matched": matched, "agreed": agreed, "n_a": n_a, "n_b": n_b,
                                   "mean_iou": iou_sum / matched if matched else float("nan"), "confusion": conf}
    return results


def run(images: int) -> dict[str, Any]:
    data = make(images)
    datasets = [to_dataset(images, *d, author=f"ann{k}") for k, d in enumerate(data)]
    per_image = []
    for img, boxes, label in data:
        starts = np.searchsorted(img, np.arange(images + 1))
        per_image.append([(boxes[starts[i]:starts[i + 1]], label[starts[i]:starts[i + 1]]) for i in range(images)])
    n_boxes = sum(len(d[0]) for d in data)

    compare(datasets[0], datasets[1])  # warm-up: imports (scipy, ...) are not what is measured
    t, c = time.perf_counter(), time.process_time()
    ref = baseline(images, per_image)
    t_base, c_base = time.perf_counter() - t, time.process_time() - c

    t, c = time.perf_counter(), time.process_time()
    ours = {f"{x}-{y}": compare(datasets[x], datasets[y]) for x in range(3) for y in range(x + 1, 3)}
    t_pairs, c_pairs = time.perf_counter() - t, time.process_time() - c
    for key, p in ours.items():
        r = ref[key]
        assert (p.matched, p.agreed, p.n_a, p.n_b) == (r["matched"], r["agreed"], r["n_a"], r["n_b"]), key
        assert abs(p.mean_iou - r["mean_iou"]) < 1e-9, key
        assert (p.confusion == r["confusion"]).all(), key

    t, c = time.perf_counter(), time.process_time()
    full = spatial_agreement({f"ann{k}": d for k, d in enumerate(datasets)})
    t_full, c_full = time.perf_counter() - t, time.process_time() - c
    return {"images": images, "boxes": n_boxes, "baseline_s": t_base, "pairs_s": t_pairs, "full_s": t_full,
            "baseline_cpu_s": c_base, "pairs_cpu_s": c_pairs, "full_cpu_s": c_full,
            "f1": full.mean["f1"], "alpha": full.alpha, "clusters": full.clusters,
            "python": platform.python_version(), "numpy": np.__version__}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=100_000)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    res = run(args.images)
    print(json.dumps(res, indent=2))
    if not args.no_write:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(json.dumps(res, indent=2))
        from coco_eval import write_results  # type: ignore[import-not-found]

        write_results()


if __name__ == "__main__":
    main()
