"""Write a restricted dataset as a Pascal VOC directory: one annotation file per item (written
with plain ``open``/``write``), ImageSets lists, labelmap, segmentation PNGs and images."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from labelgate.core import Dataset, Item, LabelSchema, Mask
from labelgate.core.errors import FormatError
from labelgate.formats._palette import voc_colormap, write_label_png
from labelgate.formats.report import ConversionReport
from labelgate.formats.voc._labelmap import Labelmap, format_labelmap
from labelgate.formats.voc._objects import DEFAULT_SUBSET
from labelgate.formats.voc._segmentation import VOID, render_segmentation
from labelgate.formats.voc._xml import Plain, Row, item_xml, plain_item_xml, rows_of

__all__ = ["restricted_rows", "write_voc"]


def _safe_rel(name: str, what: str) -> str:
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or "\x00" in name or any(p in ("", ".", "..") for p in parts):
        raise FormatError(f"{what} {name!r} cannot be used as a relative file path; rename it first")
    return name


def restricted_rows(ds: Dataset) -> Iterator[list[Row]]:
    """Rows per item of a dataset that :func:`restrict` produced (one annotation per item)."""
    by_item = {a.item_id: a for a in ds.annotations}
    for item_id in ds.items:
        a = by_item.get(item_id)
        yield [] if a is None else rows_of(a.regions)


def write_voc(
    items: Iterable[Item],
    rows: Iterable[list[Row] | Plain],
    schema: LabelSchema,
    out: Path,
    report: ConversionReport,
    images: Path | None = None,
) -> None:
    """Write items with their rows (already restricted to VOC's capabilities) into ``out``."""
    _, labelmap = format_labelmap(schema, ConversionReport("voc"))
    index = {name: i for i, name in enumerate(labelmap.names)}
    schema_parent = {c.name: c.parent for c in schema.classes}
    names: dict[str, str] = {}
    ann_dir = out / "Annotations"
    ann_dir.mkdir()
    subsets: dict[str, list[str]] = {}
    segmented: dict[str, list[str]] = {}
    tagged: dict[str, dict[str, int]] = {}
    files = 1
    regions = 0
    n_items = 0
    prefix = f"{ann_dir}{os.sep}"
    for item, regs in zip(items, rows, strict=True):
        item_id = item.id
        if "/" in item_id or "\\" in item_id or "\x00" in item_id or item_id in (".", ".."):
            _safe_rel(item_id, "item id")
            Path(f"{prefix}{item_id}.xml").parent.mkdir(parents=True, exist_ok=True)
        n_items += 1
        masks: list[tuple[int, str, Mask]]
        tags: list[tuple[str, int]]
        if isinstance(regs, Plain):  # boxes only, their text already formatted in bulk
            regions += len(regs.objects)
            xml, masks, tags = plain_item_xml(item, regs), [], []
        else:
            regions += len(regs)
            xml, masks, tags = item_xml(item, regs, schema_parent, names, report)
        with open(f"{prefix}{item_id}.xml", "w", encoding="utf-8") as fh:
            fh.write(xml)
        files += 1
        subset = item.subset if item.subset is not None else DEFAULT_SUBSET
        if item.subset == DEFAULT_SUBSET:
            report.drop("item.subset", item.id, f"subset {DEFAULT_SUBSET!r} is read back as no subset")
        listed = subsets.get(subset)
        if listed is None:
            listed = subsets[_safe_rel(subset, "subset")] = []
        listed.append(item_id)
        if tags:
            tagged[item.id] = _check_tags(item.id, tags, index, report)
        if masks:
            files += _write_masks(out, item, masks, index, labelmap, report)
            segmented.setdefault(subset, []).append(item.id)
        if images is not None and item.media is not None:
            files += _copy_image(images, out, item, report)
    fill = bool(segmented) and any(c is not None for c in labelmap.colors)
    text, _ = format_labelmap(schema, report, fill)
    (out / "labelmap.txt").write_text(text, encoding="utf-8")
    for folder, lists in (("Main", subsets), ("Segmentation", segmented)):
        d = out / "ImageSets" / folder
        d.mkdir(parents=True, exist_ok=True)
        for name, ids in lists.items():
            (d / f"{name}.txt").write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
            files += 1
    if tagged:
        files += _write_tag_lists(out / "ImageSets" / "Main", subsets, tagged, labelmap.names)
    report.items, report.regions, report.files = n_items, regions, files


def _check_tags(item_id: str, tags: list[tuple[str, int]], index: Mapping[str, int], report: ConversionReport) -> dict[str, int]:
    out: dict[str, int] = {}
    last = -1
    for label, presence in tags:
        i = index.get(label)
        if i is None:
            report.drop("geometry.classification", item_id, "dropped (a part class has no per-class list)")
            continue
        if label in out:
            report.drop("geometry.classification", item_id, "dropped (the same image label twice)")
            continue
        if i < last:
            report.drop("region.order", item_id, "image labels come back in class order")
        last = max(last, i)
        out[label] = presence
    return out


def _write_tag_lists(main: Path, subsets: Mapping[str, list[str]], tagged: Mapping[str, Mapping[str, int]],
                     classes: list[str]) -> int:
    """``<class>_<subset>.txt`` for every class and subset: ``id  1`` present, ``id  0`` difficult,
    ``id -1`` absent (VOC's classification lists)."""
    files = 0
    for subset, ids in subsets.items():
        for c in classes:
            lines = "".join(f"{i} {tagged.get(i, {}).get(c, -1):2d}\n" for i in ids)
            (main / f"{c}_{subset}.txt").write_text(lines, encoding="utf-8")
            files += 1
    return files


def _write_masks(
    out: Path,
    item: Item,
    masks: list[tuple[int, str, Mask]],
    index: Mapping[str, int],
    labelmap: Labelmap,
    report: ConversionReport,
) -> int:
    paint = []
    for k, label, m in masks:
        c = index.get(label, VOID)
        if c >= VOID:
            report.drop("geometry.mask", item.id, "dropped (its class has no SegmentationClass index below 255)")
            continue
        paint.append((k, c, m))
    if not paint:
        return 0
    shape = (paint[0][2].height, paint[0][2].width)
    same = [p for p in paint if (p[2].height, p[2].width) == shape]
    if len(same) != len(paint):
        report.drop("geometry.mask", item.id, "dropped (masks of one image differ in size)", len(paint) - len(same))
    cls, inst, covered = render_segmentation(same, shape)
    if covered:
        report.drop("geometry.mask", item.id, "pixels painted over by a later object (VOC holds one object per pixel)", len(covered))
    for folder, arr, pal in (("SegmentationClass", cls, labelmap.palette()), ("SegmentationObject", inst, voc_colormap())):
        target = out / folder / f"{item.id}.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "wb") as fh:
            write_label_png(fh, arr, pal)
    return 2


def _copy_image(images: Path, out: Path, item: Item, report: ConversionReport) -> int:
    assert item.media is not None
    src = images / _safe_rel(item.media, "media path")
    if not src.is_file():
        report.warnings.append(f"{item.id}: image {src} not found; not copied")
        return 0
    dst = out / "JPEGImages" / item.media
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(src, dst)
    return 1
