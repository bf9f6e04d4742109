"""Reading YOLO label files into one columnar :class:`RegionTable`.

Lines are split with ``str.split`` and parsed in groups of equal length by numpy; every check
(class id, count of values, finite coordinates, image size) is vectorised and, when it fails,
traced back to the label file and line.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from labelgate.core import (
    Annotation,
    Dataset,
    GeometryKind,
    InvariantError,
    Item,
    Keypoints,
    LabelSchema,
    Polygon,
    RegionTable,
    RotatedBox,
    bounds,
)
from labelgate.core.errors import FormatError
from labelgate.formats._io import read_text
from labelgate.formats._media import ImageIndex, image_size
from labelgate.formats.yolo._layout import LabelFile, Layout, find_layout, natural_key

__all__ = ["read_yolo"]

TASKS = ("detect", "segment", "pose", "obb")
F64 = npt.NDArray[np.float64]


class _Rows:
    """Parsed lines, as float arrays grouped by their count of values, and where each row came
    from. Each file is parsed on its own (faster and far leaner than keeping every token)."""

    def __init__(self) -> None:
        self.arrays: dict[int, list[F64]] = {}
        self.rows: dict[int, list[npt.NDArray[np.int64]]] = {}
        self.counts: list[int] = []
        self.lines: dict[int, list[int]] = {}
        self.n = 0

    def add_file(self, text: str, path: str) -> None:
        """Add the rows of the next file (one file per item, in item order)."""
        parts = [line.split() for line in text.splitlines()]
        numbers: list[int] | None = None
        if parts and not all(parts):
            keep = [i for i, p in enumerate(parts) if p]
            numbers = self.lines[len(self.counts)] = [i + 1 for i in keep]
            parts = [parts[i] for i in keep]
        m = len(parts)
        if m:
            lengths = set(map(len, parts))
            if len(lengths) == 1:
                self._add(len(parts[0]), parts, np.arange(self.n, self.n + m), path, numbers or list(range(1, m + 1)))
            else:
                by: dict[int, list[int]] = {}
                for j, p in enumerate(parts):
                    by.setdefault(len(p), []).append(j)
                for n, js in by.items():
                    self._add(n, [parts[j] for j in js], self.n + np.asarray(js, dtype=np.int64), path,
                              [numbers[j] if numbers else j + 1 for j in js])
        self.counts.append(m)
        self.n += m

    def _add(self, n: int, parts: list[list[str]], rows: npt.NDArray[np.int64], path: str, numbers: list[int]) -> None:
        try:
            arr = np.array(parts, dtype=np.float64)
        except ValueError:
            for p, line in zip(parts, numbers, strict=True):
                for token in p:
                    try:
                        float(token)
                    except ValueError:
                        raise FormatError(f"{token!r} is not a number", path=path, where=f"line {line}") from None
            raise
        self.arrays.setdefault(n, []).append(arr)
        self.rows.setdefault(n, []).append(rows)

    def place(self, row: int) -> tuple[int, int]:
        """(file index, line number) of a row."""
        offsets = np.cumsum([0, *self.counts])
        f = int(np.searchsorted(offsets, row, side="right")) - 1
        j = row - int(offsets[f])
        return f, self.lines[f][j] if f in self.lines else j + 1


def read_yolo(path: Path, images: Path | None = None, task: str | None = None) -> Dataset:
    layout = find_layout(path)
    task = task or layout.task
    if task is not None and task not in TASKS:
        raise FormatError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}", path=path)
    if task is None and layout.kpt_shape is not None:
        task = "pose"
    if task == "pose" and layout.kpt_shape is None:
        raise FormatError("task 'pose' needs kpt_shape: [K, 2|3] in data.yaml", path=path)
    files = _assign_ids(layout.files)
    extra = ImageIndex(images) if images is not None else None
    items: list[Item] = []
    rows = _Rows()
    sizes: list[tuple[int, int] | None] = []
    for item_id, lf in files:
        img = _find_image(lf, extra)
        # the media path is the item id plus the image's suffix, so that formats which key items
        # by their file name (COCO, VOC) give the same ids back
        media = None if img is None else item_id + os.path.splitext(img)[1]
        size = image_size(img) if img is not None else None
        sizes.append(size)
        items.append(Item(
            item_id,
            media=media,
            width=None if size is None else size[0],
            height=None if size is None else size[1],
            subset=lf.subset,
        ))
        rows.add_file(_label_text(lf.path), lf.path)
    table = _build_table(rows, layout, task, files, sizes)
    anns = [Annotation.from_table(it.id, table, table.rows_of(i)) for i, it in enumerate(items)]
    return Dataset(items, anns, LabelSchema.from_names(layout.names))


def _label_text(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return ""
    except OSError as e:
        raise FormatError(f"cannot read: {e.strerror}", path=path) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return read_text(Path(path))  # raises with the line and column


def _assign_ids(files: list[LabelFile]) -> list[tuple[str, LabelFile]]:
    count: dict[str, int] = {}
    for lf in files:
        count[lf.rel] = count.get(lf.rel, 0) + 1
    out = []
    for lf in files:
        item_id = lf.rel if count[lf.rel] == 1 or lf.subset is None else f"{lf.subset}/{lf.rel}"
        out.append((item_id, lf))
    ids = [i for i, _ in out]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        paths = [str(lf.path) for i, lf in out if i == dup]
        raise FormatError(f"two label files map to the item {dup!r}: {', '.join(paths)}", path=paths[0])
    out.sort(key=lambda t: natural_key(t[0]))
    return out


def _find_image(lf: LabelFile, extra: ImageIndex | None) -> str | None:
    """The item's image file, if it can be found."""
    if lf.image is not None and os.path.isfile(lf.image):
        return lf.image
    if lf.images is not None:
        found = lf.images.find(lf.rel)
        if found is not None:
            return found
    if extra is not None:
        for key in ((f"{lf.subset}/{lf.rel}", lf.rel) if lf.subset else (lf.rel,)):
            found = extra.find(key)
            if found is not None:
                return found
    return None


def _fail(rows: _Rows, files: list[tuple[str, LabelFile]], row: int, message: str) -> FormatError:
    f, line = rows.place(row)
    return FormatError(message, path=files[f][1].path, where=f"line {line}")


def _parse_group(rows: _Rows, files: list[tuple[str, LabelFile]], n: int) -> tuple[F64, npt.NDArray[np.int64]]:
    arr = np.concatenate(rows.arrays[n])
    where = np.concatenate(rows.rows[n])
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        raise _fail(rows, files, int(where[np.flatnonzero(bad)[0]]), "a value is not a finite number")
    return arr, where


def _shape_of(n: int, task: str | None, kpt: tuple[int, int] | None) -> tuple[str, bool] | None:
    """What a line of ``n`` values holds for ``task``: (kind, has_confidence), None if nothing."""
    if task == "pose":
        assert kpt is not None
        base = 5 + kpt[0] * kpt[1]
        return ("pose", n == base + 1) if n in (base, base + 1) else None
    if task == "obb":
        return ("obb", n == 10) if n in (9, 10) else None
    if n in (5, 6):
        return ("box", n == 6)
    if n >= 7:
        return ("polygon", n % 2 == 0)
    return None


def _expected(task: str | None, kpt: tuple[int, int] | None) -> str:
    if task == "pose":
        assert kpt is not None
        return f"'class cx cy w h' and {kpt[0]} keypoints of {kpt[1]} values (then an optional confidence)"
    if task == "obb":
        return "'class x1 y1 x2 y2 x3 y3 x4 y4' (then an optional confidence)"
    return "'class cx cy w h', or 'class x1 y1 x2 y2 x3 y3 ...' (a polygon), then an optional confidence"


def _build_table(
    rows: _Rows, layout: Layout, task: str | None, files: list[tuple[str, LabelFile]], sizes: list[tuple[int, int] | None]
) -> RegionTable:
    n_rows = rows.n
    n_items = len(files)
    item = np.repeat(np.arange(n_items, dtype=np.int64), rows.counts)
    wh = np.array([s if s is not None else (0, 0) for s in sizes], dtype=np.float64).reshape(n_items, 2)
    missing = np.flatnonzero(wh[item, 0] == 0) if n_rows else np.array([], dtype=np.int64)
    if missing.size:
        r = int(missing[0])
        raise _fail(rows, files, r, "no image found for this label file, so its normalised coordinates cannot be "
                    "turned into pixels; pass --images DIR (the folder with the images)")
    label = np.zeros(n_rows, dtype=np.int32)
    kind = np.zeros(n_rows, dtype=np.uint8)
    bbox = np.zeros((n_rows, 4), dtype=np.float64)
    score = np.full(n_rows, np.nan)
    geometry: list[Any] | None = None
    pose_boxes: dict[int, tuple[float, ...]] = {}
    n_classes = len(layout.names)
    for n in sorted(rows.arrays):
        shape = _shape_of(n, task, layout.kpt_shape)
        if shape is None:
            first = int(min(r[0] for r in rows.rows[n]))
            raise _fail(rows, files, first, f"{n} values on this line; expected {_expected(task, layout.kpt_shape)}")
        arr, where = _parse_group(rows, files, n)
        cls = arr[:, 0]
        bad = (cls != np.floor(cls)) | (cls < 0) | (cls >= n_classes)
        if bad.any():
            r = int(where[np.flatnonzero(bad)[0]])
            raise _fail(rows, files, r, f"class id {cls[np.flatnonzero(bad)[0]]:g} is not one of 0..{n_classes - 1} "
                        f"(the {n_classes} names in the dataset's class list)")
        label[where] = cls.astype(np.int32)
        what, conf = shape
        if conf:
            score[where] = arr[:, -1]
            arr = arr[:, :-1]
        size = wh[item[where]]
        if what == "box":
            _boxes(arr, size, where, bbox, rows, files)
            continue
        geometry = geometry if geometry is not None else [None] * n_rows
        try:
            geoms = _shapes(what, arr, size, layout.kpt_shape)
        except InvariantError as e:
            raise _fail(rows, files, int(where[0]), str(e)) from None
        kind[where] = _KIND[what]
        for r, g in zip(where.tolist(), geoms, strict=True):
            geometry[r] = g
            b = bounds(g)
            bbox[r] = b if b is not None else _NAN4
        if what == "pose":
            pose_boxes.update(_pose_boxes(arr, size, where, bbox, rows, files))
    if pose_boxes:
        assert geometry is not None
        return _with_pose_boxes(layout.names, label, kind, bbox, score, geometry, item, n_items, pose_boxes)
    counts = np.bincount(item, minlength=n_items) if n_rows else np.zeros(n_items, dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(counts)))
    return RegionTable(
        labels=layout.names,
        label=label,
        kind=kind,
        bbox=bbox,
        offsets=offsets,
        score=score if np.isfinite(score).any() else None,
        geometry=geometry,
    )


def _pose_boxes(arr: F64, size: F64, where: npt.NDArray[np.int64], bounds_: F64, rows: _Rows,
                files: list[tuple[str, LabelFile]]) -> dict[int, tuple[float, ...]]:
    """The object boxes of pose lines that are not just the bounds of their labelled keypoints
    (which is what writers put there when they know no better), by row."""
    if np.any(arr[:, 3:5] < 0):
        raise _fail(rows, files, int(where[np.flatnonzero((arr[:, 3:5] < 0).any(axis=1))[0]]),
                    "box width and height must not be negative")
    half = arr[:, 3:5] / 2
    box = np.column_stack([(arr[:, 1:3] - half) * size, (arr[:, 1:3] + half) * size])
    kb = bounds_[where]
    tol = 1e-8 * size.max(axis=1)
    no_kpts = np.isnan(kb).any(axis=1)
    differs = np.where(no_kpts, np.abs(box).max(axis=1) > tol, np.abs(np.nan_to_num(box - kb)).max(axis=1) > tol)
    return {int(where[i]): tuple(box[i].tolist()) for i in np.flatnonzero(differs).tolist()}


def _with_pose_boxes(names: list[str], label: npt.NDArray[np.int32], kind: npt.NDArray[np.uint8], bbox: F64, score: F64,
                     geometry: list[Any], item: npt.NDArray[np.int64], n_items: int,
                     boxes: dict[int, tuple[float, ...]]) -> RegionTable:
    """Each pose object with its own box becomes a keypoints region followed by a box region,
    both in one group (the way the COCO codec keeps keypoints with their bbox)."""
    at = np.array(sorted(boxes), dtype=np.int64)
    src = np.insert(np.arange(len(label)), at + 1, at)  # the row each output row copies
    is_box = np.zeros(len(src), dtype=bool)
    is_box[at + np.arange(1, len(at) + 1)] = True
    out_kind = kind[src].copy()
    out_kind[is_box] = GeometryKind.BOX
    out_bbox = bbox[src].copy()
    out_bbox[is_box] = np.array([boxes[r] for r in at.tolist()], dtype=np.float64).reshape(len(at), 4)
    group = {int(r): g for g, r in enumerate(at.tolist(), 1)}
    out_geometry: list[Any] = []
    extra: list[dict[str, Any] | None] = []
    for j, r in enumerate(src.tolist()):
        out_geometry.append(None if is_box[j] else geometry[r])
        extra.append({"group": group[r]} if r in group else None)
    out_score = score[src]
    out_score[is_box] = np.nan
    counts = np.bincount(item[src], minlength=n_items)
    return RegionTable(
        labels=names,
        label=label[src],
        kind=out_kind,
        bbox=out_bbox,
        offsets=np.concatenate(([0], np.cumsum(counts))),
        score=out_score if np.isfinite(out_score).any() else None,
        geometry=out_geometry,
        extra=extra,
    )


_NAN4 = (np.nan, np.nan, np.nan, np.nan)
_KIND = {"polygon": GeometryKind.POLYGON, "obb": GeometryKind.ROTATED_BOX, "pose": GeometryKind.KEYPOINTS}


def _boxes(arr: F64, size: F64, where: npt.NDArray[np.int64], bbox: F64, rows: _Rows, files: list[tuple[str, LabelFile]]) -> None:
    neg = (arr[:, 3] < 0) | (arr[:, 4] < 0)
    if neg.any():
        raise _fail(rows, files, int(where[np.flatnonzero(neg)[0]]), "box width and height must not be negative")
    w, h = size[:, 0], size[:, 1]
    half_w, half_h = arr[:, 3] / 2, arr[:, 4] / 2
    bbox[where, 0] = (arr[:, 1] - half_w) * w
    bbox[where, 1] = (arr[:, 2] - half_h) * h
    bbox[where, 2] = (arr[:, 1] + half_w) * w
    bbox[where, 3] = (arr[:, 2] + half_h) * h


def _points(arr: F64, size: F64) -> F64:
    pts = arr.reshape(len(arr), -1, 2).copy()
    pts *= size[:, None, :]
    return pts


def _shapes(what: str, arr: F64, size: F64, kpt: tuple[int, int] | None) -> list[Any]:
    if what == "polygon":
        return [Polygon(tuple(p)) for p in _points(arr[:, 1:], size).reshape(len(arr), -1).tolist()]
    if what == "obb":
        pts = _points(arr[:, 1:], size)
        c = pts.mean(axis=1)
        d01 = pts[:, 1] - pts[:, 0]
        d12 = pts[:, 2] - pts[:, 1]
        w = np.hypot(d01[:, 0], d01[:, 1])
        h = np.hypot(d12[:, 0], d12[:, 1])
        # the angle from the longer edge: the short one is ill-conditioned for thin boxes
        ang_w = np.degrees(np.arctan2(d01[:, 1], d01[:, 0]))
        ang_h = np.degrees(np.arctan2(d12[:, 1], d12[:, 0])) - 90.0
        ang_h = np.where(ang_h <= -180.0, ang_h + 360.0, ang_h)
        ang = np.where(w >= h, ang_w, ang_h)
        return [RotatedBox(*v) for v in np.column_stack([c, w, h, ang]).tolist()]
    assert kpt is not None
    k, d = kpt
    raw = arr[:, 5:].reshape(len(arr), k, d)
    xy = raw[:, :, :2] * size[:, None, :]
    if d == 3:
        vis = raw[:, :, 2]
        if np.any((vis != 0) & (vis != 1) & (vis != 2)):
            raise InvariantError("keypoint visibility must be 0, 1 or 2")
        vis = vis.astype(np.int64)
    else:
        vis = np.where((raw[:, :, 0] != 0) | (raw[:, :, 1] != 0), 2, 0)
    return [Keypoints(tuple(p), tuple(v)) for p, v in zip(xy.reshape(len(arr), -1).tolist(), vis.tolist(), strict=True)]
