"""TFRecord (TF Object Detection API keys) to a dataset."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np

from labelgate.core import Annotation, Box, Dataset, Item, LabelClass, LabelSchema, Region, rle
from labelgate.core.errors import FormatError, InvariantError
from labelgate.formats.tfrecord._example import FeatureValue, decode_example
from labelgate.formats.tfrecord._labelmap import parse_label_map
from labelgate.formats.tfrecord._records import iter_records

__all__ = ["LABEL_MAP", "SUFFIXES", "read_tfrecord", "record_files"]

LABEL_MAP = "label_map.pbtxt"
SUFFIXES = (".tfrecord", ".tfrecords", ".record", ".tfrec")
NO_SUBSET = "default"


def record_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise FormatError("no such file or directory", path=path)
    files = sorted(p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file())
    if not files:
        raise FormatError(f"no TFRecord files ({', '.join(SUFFIXES)}) in this directory", path=path)
    return files


class _Ctx:
    def __init__(self, path: Path, unlabelled: str) -> None:
        self.unlabelled = unlabelled
        lm = (path if path.is_dir() else path.parent) / LABEL_MAP
        self.entries = parse_label_map(lm) if lm.is_file() else []
        self.label_map = lm if lm.is_file() else None
        self.by_id = dict(self.entries)


def read_tfrecord(path: Path, *, unlabelled: str = "error", check_crc: bool = True) -> Dataset:
    """``unlabelled``: what to do with an object that has neither a class text nor a known class
    id: "error" (default), "skip", or any other string to use as its label."""
    ctx = _Ctx(path, unlabelled)
    items: list[Item] = []
    anns: list[Annotation] = []
    seen: dict[str, str] = {}
    for f in record_files(path):
        subset = None if f.stem == NO_SUBSET else f.stem
        for index, offset, payload in iter_records(f, check_crc=check_crc):
            where = f"record {index} at byte {offset}"
            try:
                ex = decode_example(payload)
            except (ValueError, UnicodeDecodeError) as e:
                raise FormatError(f"not a tf.train.Example: {e}", path=f, where=where) from None
            try:
                item, regions = _record(ex, ctx, subset, index)
            except (InvariantError, ValueError) as e:
                raise FormatError(str(e), path=f, where=where) from None
            if item.id in seen:
                raise FormatError(f"item id {item.id!r} (image/source_id) appears again; first in {seen[item.id]}",
                                  path=f, where=where)
            seen[item.id] = f"{f.name} {where}"
            items.append(item)
            anns.append(Annotation(item.id, regions))
    schema = LabelSchema(tuple(LabelClass(n, id=i) for i, n in ctx.entries))
    schema = schema.with_classes(r.label for a in anns for r in a.regions)
    return Dataset(items, anns, schema)


def _text(ex: dict[str, FeatureValue], key: str) -> str | None:
    v = ex.get(key)
    if not isinstance(v, list) or not v or not isinstance(v[0], bytes):
        return None
    return v[0].decode("utf-8")


def _int(ex: dict[str, FeatureValue], key: str) -> int | None:
    v = ex.get(key)
    if isinstance(v, list) and v and isinstance(v[0], int):
        return v[0]
    return None


def _floats(ex: dict[str, FeatureValue], key: str) -> np.ndarray[Any, np.dtype[np.float32]]:
    v = ex.get(key)
    if v is None or (isinstance(v, list) and not v):
        return np.zeros(0, np.float32)
    if not isinstance(v, np.ndarray):
        raise ValueError(f"{key}: expected a float_list")
    return v


def _record(ex: dict[str, FeatureValue], ctx: _Ctx, subset: str | None, index: int) -> tuple[Item, list[Region]]:
    filename = _text(ex, "image/filename") or None
    source = _text(ex, "image/source_id") or None
    item_id = source or (filename.rsplit("/", 1)[-1].rsplit(".", 1)[0] if filename else f"{subset or NO_SUBSET}_{index}")
    h, w = _int(ex, "image/height"), _int(ex, "image/width")
    if h is None or w is None:
        w, h = _size_from_image(ex)
    item = Item(item_id, media=filename, width=w, height=h, subset=subset)
    xmin, xmax = _floats(ex, "image/object/bbox/xmin"), _floats(ex, "image/object/bbox/xmax")
    ymin, ymax = _floats(ex, "image/object/bbox/ymin"), _floats(ex, "image/object/bbox/ymax")
    n = len(xmin)
    if not (len(xmax) == len(ymin) == len(ymax) == n):
        raise ValueError(f"bbox lists differ in length: xmin {n}, xmax {len(xmax)}, ymin {len(ymin)}, ymax {len(ymax)}")
    texts = ex.get("image/object/class/text", [])
    labels = ex.get("image/object/class/label", [])
    masks: Any = ex.get("image/object/mask", [])
    if isinstance(masks, np.ndarray) and len(masks):  # numerical masks: n x height x width floats
        if n == 0 or len(masks) != n * h * w:
            raise ValueError(f"image/object/mask has {len(masks)} floats; expected {n} boxes x {h} x {w}")
        masks = list(masks.reshape(n, h, w) > 0.5)
    crowd = ex.get("image/object/is_crowd", [])
    for key, values in (("class/text", texts), ("class/label", labels), ("mask", masks), ("is_crowd", crowd)):
        if len(values) not in (0, n):
            raise ValueError(f"image/object/{key} has {len(values)} values for {n} boxes")
    regions: list[Region] = []
    for j in range(n):
        label = _label(texts, labels, j, ctx)
        if label is None:
            continue
        box = Box(float(xmin[j]) * w, float(ymin[j]) * h, float(xmax[j]) * w, float(ymax[j]) * h)
        geometry: Any = box
        if masks:
            geometry = _mask(masks[j], w, h, j) or box
        regions.append(Region(geometry, label, crowd=bool(crowd[j]) if len(crowd) else False))
    return item, regions


def _label(texts: Any, labels: Any, j: int, ctx: _Ctx) -> str | None:
    if len(texts) and texts[j]:
        return str(texts[j].decode("utf-8"))
    if len(labels) and labels[j] != 0:
        cid = int(labels[j])
        if cid in ctx.by_id:
            return ctx.by_id[cid]
        if ctx.label_map is not None:
            raise ValueError(f"object {j}: class id {cid} is not in {ctx.label_map}")
        return str(cid)
    if ctx.unlabelled == "skip":
        return None
    if ctx.unlabelled == "error":
        raise ValueError(f"object {j} has no class text and no class id; read with unlabelled='skip' to leave such "
                         "objects out, or unlabelled='NAME' to give them a label")
    return ctx.unlabelled


def _mask(png: Any, w: int, h: int, j: int) -> Any:
    from PIL import Image, UnidentifiedImageError

    if isinstance(png, np.ndarray):
        return rle.encode(png) if png.any() else None
    try:
        with Image.open(io.BytesIO(png)) as im:
            arr = np.asarray(im)
    except (OSError, UnidentifiedImageError) as e:
        raise ValueError(f"object {j}: mask is not a readable image ({e})") from None
    if arr.ndim == 3:
        arr = arr[..., 0]
    if arr.shape != (h, w):
        raise ValueError(f"object {j}: mask is {arr.shape[1]}x{arr.shape[0]}, the image {w}x{h}")
    if not arr.any():
        return None
    return rle.encode(arr)


def _size_from_image(ex: dict[str, FeatureValue]) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    enc = ex.get("image/encoded")
    if not isinstance(enc, list) or not enc or not isinstance(enc[0], bytes) or not enc[0]:
        raise ValueError("no image/height and image/width, and no image/encoded to read the size from")
    try:
        with Image.open(io.BytesIO(enc[0])) as im:
            return int(im.size[0]), int(im.size[1])
    except (OSError, UnidentifiedImageError) as e:
        raise ValueError(f"no image/height and image/width, and image/encoded is not readable ({e})") from None
