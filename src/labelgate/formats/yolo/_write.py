"""Writing a dataset as an Ultralytics YOLO dataset: ``data.yaml`` and one label file per item.

Rows come from the dataset's columnar table; coordinates are normalised with numpy and each
group of equal-length lines is formatted with one ``%`` operation, so there is no Python work
per coordinate.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import yaml

from labelgate.core import (
    Box,
    Dataset,
    GeometryKind,
    Item,
    Keypoints,
    LabelSchema,
    Polygon,
    Region,
    RegionTable,
    RotatedBox,
    bounds,
    kind_of,
)
from labelgate.core.errors import FormatError
from labelgate.formats._columnar import Mask, Rows, TablePlan, restrict_table
from labelgate.formats._io import atomic_dir
from labelgate.formats._media import ImageIndex, image_size
from labelgate.formats.capabilities import Capabilities, restrict
from labelgate.formats.report import ConversionReport

__all__ = ["TASK_GEOMETRY", "capabilities_for", "write_yolo"]

TASK_GEOMETRY = {
    "detect": GeometryKind.BOX,
    "segment": GeometryKind.POLYGON,
    "pose": GeometryKind.KEYPOINTS,
    "obb": GeometryKind.ROTATED_BOX,
}
F64 = npt.NDArray[np.float64]


def capabilities_for(task: str) -> Capabilities:
    """What one YOLO export holds: the task's geometry, a confidence, image size and split."""
    if task not in TASK_GEOMETRY:
        raise FormatError(f"unknown YOLO task {task!r}; expected one of {', '.join(TASK_GEOMETRY)}")
    return Capabilities(
        geometries=frozenset({TASK_GEOMETRY[task]}),
        region_fields=frozenset({"score"}),
        item_fields=frozenset({"size", "subset"}),
        notes=f"task={task}; image sizes come from the images (pass --images when reading)",
    )


def _converter(task: str, report: ConversionReport) -> Callable[[Region, str], Region | None]:
    def convert(r: Region, where: str) -> Region | None:
        g = r.geometry
        new: Any = None
        if task == "detect":
            b = bounds(g)
            new = None if b is None else Box(*b)
        elif task == "segment" and isinstance(g, (Box, RotatedBox)):
            rb = RotatedBox(g.x1 + g.width / 2, g.y1 + g.height / 2, g.width, g.height) if isinstance(g, Box) else g
            new = Polygon(tuple(v for c in rb.corners() for v in c))
        elif task == "obb" and isinstance(g, Box):
            new = RotatedBox(g.x1 + g.width / 2, g.y1 + g.height / 2, g.width, g.height, 0.0)
        if new is None:
            return None
        report.drop(f"geometry.{kind_of(g).name.lower()}", where, f"converted to {TASK_GEOMETRY[task].name.lower()}")
        return replace(r, geometry=new)

    return convert


def _source_image(it: Item, original: Dataset, index: ImageIndex | None) -> str | None:
    """The item's image under the ``images`` folder: by its media path, else by subset and id."""
    if index is None:
        return None
    media = original.items[it.id].media
    keys = [os.path.splitext(media)[0]] if media else []
    keys += [f"{it.subset}/{it.id}", it.id] if it.subset else [it.id]
    return next((p for k in keys if (p := index.find(k)) is not None), None)


def _sizes(items: list[Item], original: Dataset, index: ImageIndex | None, need: npt.NDArray[np.bool_]) -> F64:
    wh = np.zeros((len(items), 2), dtype=np.float64)
    for i, it in enumerate(items):
        if it.width is not None and it.height is not None:
            wh[i] = (it.width, it.height)
            continue
        if not need[i]:
            continue
        found = _source_image(it, original, index)
        if found is None:
            hint = f"no image for it under {index.root}" if index else "pass --images DIR so the sizes can be read from the images"
            raise FormatError(f"item {it.id!r} has no width and height, needed to normalise its coordinates; {hint}",
                              where=f"item {it.id!r}")
        wh[i] = image_size(found)
    return wh


def _copy_images(items: list[Item], original: Dataset, index: ImageIndex | None, tmp: Path, layout: str) -> list[str]:
    """Hard-link (or copy) every item's image into the dataset; returns the suffixes."""
    if index is None:
        raise FormatError("copy_images needs the folder with the images: pass --images DIR")
    exts = []
    for it in items:
        src = _source_image(it, original, index)
        if src is None:
            raise FormatError(f"item {it.id!r}: no image for it under {index.root}", where=f"item {it.id!r}")
        ext = os.path.splitext(src)[1]
        rel = f"images/{it.subset}/{it.id}{ext}" if it.subset else f"images/{it.id}{ext}"
        if layout == "darknet":
            rel = f"obj_{it.subset or 'train'}_data/{it.id}{ext}"
        dst = tmp / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dst)
        except OSError:
            shutil.copyfile(src, dst)
        exts.append(ext)
    return exts


def _fmt(columns: str, n: int, precision: int) -> str:
    """A ``%`` format for one line: ``d`` columns are integers, ``g`` columns floats."""
    g = f"%.{precision}g"
    return " ".join("%d" if c == "d" else g for c in columns) + "\n" if n else ""


def _lines(values: F64, columns: str, precision: int) -> list[str]:
    m = len(values)
    if not m:
        return []
    text = (_fmt(columns, m, precision) * m) % tuple(values.ravel().tolist())
    return text.split("\n")[:-1]


def write_yolo(
    dataset: Dataset,
    path: Path,
    *,
    task: str = "detect",
    images: Path | None = None,
    convert: bool = False,
    precision: int = 10,
    layout: str = "ultralytics",
    copy_images: bool = False,
) -> ConversionReport:
    if layout not in ("ultralytics", "darknet"):
        raise FormatError(f"unknown YOLO layout {layout!r}; expected 'ultralytics' or 'darknet'")
    if layout == "darknet" and task != "detect":
        raise FormatError(f"the Darknet layout holds boxes only; use layout='ultralytics' for task={task!r}")
    caps = capabilities_for(task)
    report = ConversionReport("yolo", str(path))
    plan = None
    if task == "detect":  # table-backed boxes: restricted column-wise, without a region object per row
        plan = restrict_table(dataset, caps, report, convertible=_has_box if convert else None, converted="converted to box")
    if plan is None:
        plan = _restricted_plan(dataset, caps, task, convert, report)
    items, table, rows, row_item = plan.items, plan.table, plan.rows, plan.row_item
    n_rows = len(rows)
    per_item = np.bincount(row_item, minlength=len(items)) if n_rows else np.zeros(len(items), dtype=np.int64)
    index = ImageIndex(images) if images is not None else None
    wh = _sizes(items, dataset, index, per_item > 0)
    lines: list[str] | npt.NDArray[Any] = []
    kpt_k = _keypoint_count(dataset, table) if task == "pose" else 0
    dropped = 0
    if table is not None and n_rows:
        names = plan.schema.names
        lut = np.array([names.index(n) if n in plan.schema else -1 for n in table.labels], dtype=np.float64)
        cls = lut[table.label[rows]]
        size = wh[row_item]
        score = table.score[rows] if table.score is not None else np.full(n_rows, np.nan)
        lines = _task_lines(task, table, rows, cls, size, score, precision, kpt_k, report, row_item, items)
        dropped = int(sum(x is None for x in lines)) if task == "pose" else 0
    out_files = _layout(items) if layout == "ultralytics" else _darknet_layout(items, report)
    row_ends = np.cumsum(per_item)
    with atomic_dir(path) as tmp:
        made: set[str] = set()
        start = 0
        base = str(tmp)
        if layout == "ultralytics":
            (tmp / "labels").mkdir()  # even without items, so that data.yaml's splits exist
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0)
        for i, rel in enumerate(out_files):
            end = int(row_ends[i])
            folder, _, _ = rel.rpartition("/")
            if folder not in made:
                os.makedirs(f"{base}/{folder}", exist_ok=True)
                made.add(folder)
            fd = os.open(f"{base}/{rel}", flags, 0o644)
            try:
                if end > start:
                    chunk = lines[start:end]
                    if dropped:
                        chunk = [x for x in chunk if x is not None]
                    if len(chunk) > 0:
                        _write_all(fd, ("\n".join(chunk) + "\n").encode())
            finally:
                os.close(fd)
            start = end
        exts = _copy_images(items, dataset, index, tmp, layout) if copy_images else None
        if layout == "ultralytics":
            _write_yaml(tmp, items, plan.schema, task, kpt_k, report)
            meta = 1
        else:
            meta = _write_darknet(tmp, items, dataset, plan.schema, out_files, exts)
        meta += len(items) if copy_images else 0
    report.items = len(items)
    report.regions = n_rows - dropped
    report.files = len(items) + meta
    return report


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _has_box(table: RegionTable, rows: Rows) -> Mask:
    """Rows the detect converter turns into boxes: those with bounds (the file's box, if it gave one)."""
    return np.isfinite(table.bbox[rows]).all(axis=1)


def _restricted_plan(dataset: Dataset, caps: Capabilities, task: str, convert: bool, report: ConversionReport) -> TablePlan:
    if task == "pose":  # boxes grouped with keypoints are the pose lines' boxes (see _pose_pairs)
        caps = replace(caps, geometries=caps.geometries | {GeometryKind.BOX}, region_fields=caps.region_fields | {"group"})
    ds, _ = restrict(dataset, caps, report, _converter(task, report) if convert else None)
    items = list(ds.items.values())
    table = ds.table()
    counts = np.array([len(a) for a in ds.annotations], dtype=np.int64)
    pos = {it.id: i for i, it in enumerate(items)}
    ann_item = np.array([pos[a.item_id] for a in ds.annotations], dtype=np.int64)
    row_item = np.repeat(ann_item, counts)
    order = np.argsort(row_item, kind="stable")
    return TablePlan(items, ds.schema, table, order.astype(np.int64), row_item[order])


def _keypoint_count(dataset: Dataset, table: Any) -> int:
    """K of kpt_shape: the skeleton's point count, else the most common count (1 if none)."""
    for c in dataset.schema.classes:
        if c.skeleton is not None:
            return len(c.skeleton.points)
    geoms = table.geometry if table is not None and table.geometry is not None else []
    lengths = [len(g) for g in geoms if isinstance(g, Keypoints)]
    return max(set(lengths), key=lengths.count) if lengths else 1


def _task_lines(
    task: str, table: Any, rows: npt.NDArray[np.int64], cls: F64, size: F64, score: F64, precision: int, k: int,
    report: ConversionReport, row_item: npt.NDArray[np.int64], items: list[Item],
) -> Any:
    n = len(cls)
    out = np.empty(n, dtype=object)
    has = np.isfinite(score)
    if task == "detect":
        b = table.bbox[rows]
        w, h = size[:, 0], size[:, 1]
        vals = np.column_stack([cls, (b[:, 0] + b[:, 2]) / 2 / w, (b[:, 1] + b[:, 3]) / 2 / h,
                                (b[:, 2] - b[:, 0]) / w, (b[:, 3] - b[:, 1]) / h, score])
        if not has.any():
            return _lines(vals[:, :5], "dgggg", precision)
        if has.all():
            return _lines(vals, "dggggg", precision)
        groups = {5: np.arange(n)}
        cols = {5: "dgggg"}
    else:
        geoms = [table.geometry_at(r) for r in rows.tolist()]
        boxes = _pose_pairs(table, rows, row_item, items, report) if task == "pose" else {}
        groups_l: dict[int, list[int]] = {}
        rowvals: list[list[float]] = []
        for r in range(n):
            g = geoms[r]
            if isinstance(g, Polygon) and g.holes:
                report.drop("geometry.polygon.holes", items[int(row_item[r])].id, "dropped (a YOLO polygon has no holes)",
                            len(g.holes))
            v = None if isinstance(g, Box) else _geometry_values(task, g, size[r], k, boxes.get(r))
            if v is None:
                if not isinstance(g, Box):
                    report.drop("geometry.keypoints.count", items[int(row_item[r])].id, f"dropped: not {k} keypoints (kpt_shape)")
                rowvals.append([])
                continue
            groups_l.setdefault(len(v), []).append(r)
            rowvals.append(v)
        groups = {m: np.asarray(rs) for m, rs in groups_l.items()}
        cols = {m: ("d" + "g" * m) if task != "pose" else ("d" + "gggg" + "ggd" * k) for m in groups}
        vals_by: dict[int, F64] = {m: np.column_stack([cls[rs], np.array([rowvals[r] for r in rs.tolist()], dtype=np.float64),
                                                       score[rs]]) for m, rs in groups.items()}
    for m, rs in groups.items():
        block = vals[rs] if task == "detect" else vals_by[m]
        for with_conf in (False, True):
            sel = has[rs] == with_conf
            if not sel.any():
                continue
            v = block[sel] if with_conf else block[sel][:, :-1]
            out[rs[sel]] = _lines(v, cols[m] + ("g" if with_conf else ""), precision)
    return out


def _pose_pairs(table: Any, rows: npt.NDArray[np.int64], row_item: npt.NDArray[np.int64], items: list[Item],
                report: ConversionReport) -> dict[int, tuple[float, float, float, float]]:
    """The box of each keypoints row that has one: a box of the same item, label and group (the
    COCO codec's way of keeping a keypoints object's bbox). Other boxes cannot be pose lines and
    other groups are not written; both are reported."""
    extra = table.extra
    kinds = table.kind[rows]
    labels = table.label[rows]

    def group(j: int) -> Any:
        e = extra[int(rows[j])] if extra is not None else None
        return e.get("group") if e else None

    free: dict[tuple[int, int, Any], list[int]] = {}
    for j in np.flatnonzero(kinds == GeometryKind.BOX).tolist():
        g = group(j)
        if g is not None:
            free.setdefault((int(row_item[j]), int(labels[j]), g), []).append(j)
    out: dict[int, tuple[float, float, float, float]] = {}
    for j in np.flatnonzero(kinds == GeometryKind.KEYPOINTS).tolist():
        g = group(j)
        if g is None:
            continue
        match = free.get((int(row_item[j]), int(labels[j]), g))
        if match:
            out[j] = tuple(table.bbox[int(rows[match.pop(0)])].tolist())
        else:
            report.drop("region.group", items[int(row_item[j])].id)
    unpaired = {j for js in free.values() for j in js}
    for j in np.flatnonzero(kinds == GeometryKind.BOX).tolist():
        if group(j) is not None and j not in unpaired:
            continue  # paired: written as its pose line's box
        report.drop("geometry.box", items[int(row_item[j])].id, "dropped (a pose line needs keypoints)")
    return out


def _geometry_values(task: str, g: Any, size: F64, k: int, box_xyxy: tuple[float, ...] | None = None) -> list[float] | None:
    w, h = float(size[0]), float(size[1])
    if task == "segment":
        assert isinstance(g, Polygon)
        pts = np.asarray(g.points, dtype=np.float64).reshape(-1, 2) / (w, h)
        return pts.ravel().tolist()
    if task == "obb":
        assert isinstance(g, RotatedBox)
        return (np.asarray(g.corners(), dtype=np.float64) / (w, h)).ravel().tolist()
    assert isinstance(g, Keypoints)
    if len(g) != k:
        return None
    b = box_xyxy or bounds(g) or (0.0, 0.0, 0.0, 0.0)
    box = [(b[0] + b[2]) / 2 / w, (b[1] + b[3]) / 2 / h, (b[2] - b[0]) / w, (b[3] - b[1]) / h]
    pts = np.asarray(g.points, dtype=np.float64).reshape(-1, 2) / (w, h)
    return box + np.column_stack([pts, np.asarray(g.visibility, dtype=np.float64)]).ravel().tolist()


def _layout(items: list[Item]) -> list[str]:
    out = []
    seen: dict[str, str] = {}
    for it in items:
        rel = f"labels/{it.subset}/{it.id}.txt" if it.subset else f"labels/{it.id}.txt"
        if rel in seen:
            raise FormatError(f"items {seen[rel]!r} and {it.id!r} would both be written to {rel}; rename one",
                              where=f"item {it.id!r}")
        seen[rel] = it.id
        out.append(rel)
    return out


def _darknet_layout(items: list[Item], report: ConversionReport) -> list[str]:
    out = []
    for it in items:
        if it.subset is None:
            report.drop("item.subset", it.id, "written as 'train' (Darknet lists every image under a subset)")
        out.append(f"obj_{it.subset or 'train'}_data/{it.id}.txt")
    return out


def _write_darknet(root: Path, items: list[Item], original: Dataset, schema: LabelSchema, files: list[str],
                   exts: list[str] | None) -> int:
    """obj.names, obj.data and one list of images per subset, paths written as ``data/...``
    the way Darknet and CVAT expect them."""
    lists: dict[str, list[str]] = {}
    for i, (it, rel) in enumerate(zip(items, files, strict=True)):
        media = original.items[it.id].media
        ext = exts[i] if exts else os.path.splitext(media)[1] if media and os.path.splitext(media)[1] else ".jpg"
        lists.setdefault(it.subset or "train", []).append(f"data/{rel[:-4]}{ext}")
    (root / "obj.names").write_text("".join(f"{n}\n" for n in schema.names), encoding="utf-8")
    lines = [f"classes = {len(schema)}", *(f"{s} = data/{s}.txt" for s in lists), "names = data/obj.names", "backup = backup/"]
    (root / "obj.data").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for s, paths in lists.items():
        (root / f"{s}.txt").write_text("\n".join(paths) + "\n", encoding="utf-8")
    return 2 + len(lists)


def _write_yaml(root: Path, items: list[Item], schema: LabelSchema, task: str, k: int, report: ConversionReport) -> None:
    subsets = list(dict.fromkeys(it.subset for it in items if it.subset))
    cfg: dict[str, Any] = {}
    if subsets:
        for s in subsets:
            cfg[s] = f"images/{s}"
        if any(it.subset is None for it in items):
            report.warnings.append("items without a subset are written to labels/ and belong to no split in data.yaml")
    else:
        cfg["train"] = "images"
        cfg["val"] = "images"
    cfg["names"] = dict(enumerate(schema.names))
    cfg["task"] = task
    if task == "pose":
        cfg["kpt_shape"] = [k, 3]
    text = yaml.safe_dump(cfg, sort_keys=False, allow_unicode=True)
    (root / "data.yaml").write_text(text, encoding="utf-8")
