"""A generated retail-shelf dataset: shelves of product boxes whose true positions are known.

Deterministic for a seed. Two simulated annotators and a model see the same truth with
controlled noise, so quality numbers computed on it have an honest answer.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from labelgate.core import (
    Annotation,
    Box,
    Dataset,
    Item,
    LabelClass,
    LabelSchema,
    Provenance,
    Region,
    Source,
)

__all__ = ["CLASSES", "render_shelf", "shelf_dataset", "shelf_truth", "write_shelf_images"]

CLASSES = ("Product", "Price tag", "Empty slot")


def shelf_truth(n_images: int = 20, seed: int = 0, width: int = 640, height: int = 480) -> Dataset:
    """Truth only: ``n_images`` shelves, each with rows of products, price tags and gaps."""
    rng = np.random.default_rng(seed)
    schema = LabelSchema(tuple(LabelClass(n, id=i + 1) for i, n in enumerate(CLASSES)))
    items, anns = [], []
    next_id = 1
    for i in range(n_images):
        item = Item(f"shelf_{i:04d}", media=f"shelf_{i:04d}.png", width=width, height=height, number=i + 1)
        regions = []
        shelves = int(rng.integers(2, 5))
        row_h = height / shelves
        for s in range(shelves):
            y_base = (s + 1) * row_h - 6
            x = float(rng.integers(4, 20))
            while x < width - 40:
                w = float(rng.integers(24, 70))
                h = float(min(row_h - 24, rng.integers(30, 110)))
                if x + w > width - 2:
                    break
                label = "Empty slot" if rng.random() < 0.12 else "Product"
                regions.append(Region(Box(x, y_base - h, x + w, y_base), label, id=next_id))
                next_id += 1
                if label == "Product" and rng.random() < 0.35:
                    regions.append(Region(Box(x + 2, y_base + 1, min(x + 26, width), min(y_base + 5, height)), "Price tag", id=next_id))
                    next_id += 1
                x += w + float(rng.integers(2, 12))
        items.append(item)
        anns.append(Annotation(item.id, regions, Provenance(Source.GOLD, author="generator")))
    return Dataset(items, anns, schema, metadata={"generator": "labelgate.samples.shelf", "seed": seed})


def _noisy(truth: Dataset, rng: np.random.Generator, jitter: float, p_miss: float, p_confuse: float,
           provenance: Provenance, scores: bool = False) -> list[Annotation]:
    out = []
    labels = list(CLASSES)
    for a in truth.annotations:
        it = truth.items[a.item_id]
        w, h = it.width or 0, it.height or 0
        regs = []
        for r in a.regions:
            if rng.random() < p_miss:
                continue
            b = r.geometry
            assert isinstance(b, Box)
            d = rng.normal(0, jitter, 4)
            # clamped into the image (a corner pushed past the edge used to invert the box)
            x1, y1 = min(float(w), max(0.0, b.x1 + d[0])), min(float(h), max(0.0, b.y1 + d[1]))
            x2, y2 = min(float(w), max(x1 + 1, b.x2 + d[2])), min(float(h), max(y1 + 1, b.y2 + d[3]))
            label = r.label
            if rng.random() < p_confuse:
                label = labels[(labels.index(label) + 1) % len(labels)]
            score = float(np.clip(rng.beta(5, 1.5), 0, 1)) if scores else None
            regs.append(Region(Box(round(x1, 1), round(y1, 1), round(x2, 1), round(y2, 1)), label, score=score))
        out.append(Annotation(a.item_id, regs, provenance))
    return out


def shelf_dataset(n_images: int = 20, seed: int = 0, noise: float = 1.0) -> Dataset:
    """Truth plus two annotators (``anna``, ``ben``) and a model's predictions on every image."""
    truth = shelf_truth(n_images, seed)
    rng = np.random.default_rng(seed + 1)
    anns = list(truth.annotations)
    anns += _noisy(truth, rng, 1.5 * noise, 0.03 * noise, 0.04 * noise, Provenance(Source.HUMAN, author="anna"))
    anns += _noisy(truth, rng, 2.0 * noise, 0.05 * noise, 0.08 * noise, Provenance(Source.HUMAN, author="ben"))
    anns += _noisy(truth, rng, 3.0 * noise, 0.10 * noise, 0.10 * noise,
                   Provenance(Source.MODEL, model="shelf-detector", model_version="0.1"), scores=True)
    return Dataset(truth.items.values(), anns, truth.schema, metadata=truth.metadata)


def render_shelf(truth: Dataset, item_id: str, seed: int = 0) -> Image.Image:
    """A picture of one generated shelf: planks, product boxes where the truth says, price tags
    and dark empty slots, so boxes drawn on it land on visible objects."""
    from PIL import ImageDraw

    item = truth.items[item_id]
    w, h = item.width or 640, item.height or 480
    rng = np.random.default_rng([seed, item.number or 0])
    img = Image.new("RGB", (w, h), (232, 228, 220))
    draw = ImageDraw.Draw(img)
    regions = [r for a in truth.annotations if a.item_id == item_id for r in a.regions]
    bottoms = sorted({round(r.geometry.y2) for r in regions if r.label != "Price tag" and isinstance(r.geometry, Box)})
    for y in bottoms:  # the planks products stand on
        draw.rectangle([0, y, w, min(h, y + 7)], fill=(139, 94, 60))
    for r in regions:
        b = r.geometry
        assert isinstance(b, Box)
        box = [b.x1, b.y1, b.x2, b.y2]
        if r.label == "Product":
            base = tuple(int(v) for v in rng.integers(40, 220, 3))
            draw.rectangle(box, fill=base, outline=(30, 30, 30))
            band = b.y1 + (b.y2 - b.y1) * float(rng.uniform(0.25, 0.55))
            draw.rectangle([b.x1 + 2, band, b.x2 - 2, band + max(3.0, (b.y2 - b.y1) * 0.15)],
                           fill=tuple(255 - v for v in base))
        elif r.label == "Empty slot":
            draw.rectangle(box, fill=(70, 66, 60))
        else:
            draw.rectangle(box, fill=(250, 250, 245), outline=(200, 30, 30))
            draw.line([b.x1 + 2, (b.y1 + b.y2) / 2, b.x2 - 3, (b.y1 + b.y2) / 2], fill=(20, 20, 20))
    return img


def write_shelf_images(truth: Dataset, directory: Path, seed: int = 0) -> list[Path]:
    """Render every item of ``truth`` as ``directory / item.media`` (PNG); returns the paths."""
    out = []
    for item_id, item in truth.items.items():
        path = directory / (item.media or f"{item_id}.png")
        path.parent.mkdir(parents=True, exist_ok=True)
        render_shelf(truth, item_id, seed).save(path, "PNG", optimize=False)
        out.append(path)
    return out
