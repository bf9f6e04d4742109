"""SegmentationClass / SegmentationObject PNGs.

SegmentationObject pixel ``k`` (1..254) is the instance drawn for the item's ``k``-th ``<object>``;
its class is the SegmentationClass value under it (index into the labelmap). 0 is background
and 255 VOC's "void" border; neither is an object. Palette, grey and RGB PNGs are all read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from labelgate.core import Mask, rle
from labelgate.core.errors import FormatError
from labelgate.formats._palette import read_label_png, voc_colormap
from labelgate.formats.voc._labelmap import Labelmap

__all__ = ["VOID", "find_png", "read_segmentation", "render_segmentation"]

VOID = 255
_INSTANCE_COLORS = {(int(r), int(g), int(b)): i for i, (r, g, b) in enumerate(voc_colormap())}


def find_png(folder: Path, item_id: str) -> Path | None:
    p = folder / f"{item_id}.png"
    return p if p.is_file() else None


def _class_name(index: int, labelmap: Labelmap, path: Path, where: str) -> str:
    if index >= len(labelmap.names):
        raise FormatError(
            f"class index {index} is outside the labelmap's {len(labelmap.names)} classes",
            path=path,
            where=where,
        )
    return labelmap.names[index]


def read_segmentation(
    class_png: Path | None,
    object_png: Path | None,
    labelmap: Labelmap,
    size: tuple[int, int] | None,
) -> tuple[dict[int, tuple[str, Mask]], list[tuple[str, Mask]]]:
    """``(instances, semantic)``: instance id -> (class, mask) when SegmentationObject exists,
    else one (class, mask) per class present in SegmentationClass."""
    classes = None
    if class_png is not None:
        classes = read_label_png(class_png, labelmap.color_index())
        _check_size(classes, size, class_png)
    if object_png is None:
        semantic: list[tuple[str, Mask]] = []
        if classes is not None:
            for c in np.unique(classes).tolist():
                if c in (0, VOID):
                    continue
                name = _class_name(c, labelmap, class_png, "pixel value")  # type: ignore[arg-type]
                semantic.append((name, rle.encode(classes == c)))
        return {}, semantic
    objects = read_label_png(object_png, _INSTANCE_COLORS)
    _check_size(objects, size, object_png)
    if classes is None:
        raise FormatError("SegmentationObject PNG has no SegmentationClass PNG to give its classes", path=object_png)
    if classes.shape != objects.shape:
        raise FormatError(f"size {objects.shape[::-1]} differs from its SegmentationClass PNG {classes.shape[::-1]}", path=object_png)
    instances: dict[int, tuple[str, Mask]] = {}
    for k in np.unique(objects).tolist():
        if k in (0, VOID):
            continue
        inside = objects == k
        values = classes[inside]
        values = values[(values != 0) & (values != VOID)]
        if values.size == 0:
            raise FormatError(
                f"instance {k} covers only background or void pixels in SegmentationClass, so it has no class",
                path=object_png,
            )
        c = int(np.bincount(values).argmax())
        instances[k] = (_class_name(c, labelmap, class_png, f"under instance {k}"), rle.encode(inside))  # type: ignore[arg-type]
    return instances, []


def _check_size(arr: npt.NDArray[np.int64], size: tuple[int, int] | None, path: Path) -> None:
    if size is not None and (arr.shape[1], arr.shape[0]) != size:
        raise FormatError(
            f"PNG is {arr.shape[1]}x{arr.shape[0]} but the annotation's <size> is {size[0]}x{size[1]}", path=path
        )


def render_segmentation(
    masks: list[tuple[int, int, Mask]],
    shape: tuple[int, int],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint8], list[int]]:
    """Paint ``(instance id, class index, mask)`` in order into class and instance images;
    returns them and the instance ids whose pixels a later mask painted over."""
    h, w = shape
    cls = np.zeros((h, w), dtype=np.uint8)
    inst = np.zeros((h, w), dtype=np.uint8)
    covered: list[int] = []
    for k, c, m in masks:
        inside = rle.decode(m).astype(bool)
        if np.any(inst[inside]):
            covered.extend(int(v) for v in np.unique(inst[inside]) if v)
        inst[inside] = k
        cls[inside] = c
    return cls, inst, covered
