"""Write a restricted dataset as a Pascal VOC directory.

XML is built as text with string formatting (one string per file, plain ``write``), which is what
makes large exports fast; text is escaped with :func:`xml.sax.saxutils.escape`. Coordinates are
written exactly as stored: integral values without a decimal point, others with ``repr``.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from labelgate.core import Box, Dataset, Item, Mask, Region, bounds
from labelgate.core.errors import FormatError
from labelgate.formats._palette import voc_colormap, write_label_png
from labelgate.formats.report import ConversionReport
from labelgate.formats.voc._labelmap import Labelmap, format_labelmap
from labelgate.formats.voc._objects import DEFAULT_SUBSET
from labelgate.formats.voc._segmentation import VOID, render_segmentation

__all__ = ["write_voc"]

_TAG = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\r\ud800-\udfff\ufffe\uffff]")
_MAX_INSTANCES = VOID - 1


def _num(v: float) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() else repr(v)


def _esc(text: str, where: str) -> str:
    if _BAD_XML.search(text):
        raise FormatError(f"text {text!r} has characters XML 1.0 cannot hold; remove them first", where=where)
    return escape(text)


def _box_xml(b: tuple[float, float, float, float], indent: str) -> str:
    return (
        f"{indent}<bndbox>\n{indent}  <xmin>{_num(b[0])}</xmin>\n{indent}  <ymin>{_num(b[1])}</ymin>\n"
        f"{indent}  <xmax>{_num(b[2])}</xmax>\n{indent}  <ymax>{_num(b[3])}</ymax>\n{indent}</bndbox>\n"
    )


def _attributes_xml(attrs: Mapping[str, Any], report: ConversionReport, where: str) -> tuple[str, str, str]:
    """(standard elements, <actions> block, <attributes> block) for a region's attributes."""
    flags = {"truncated": "0", "difficult": "0"}
    pose = ""
    actions: list[str] = []
    block: list[str] = []
    for k, v in attrs.items():
        if k in flags and isinstance(v, bool):
            flags[k] = "1" if v else "0"
            if not v:
                report.drop("region.attributes", where, f"{k}=False written as VOC's default 0, read back as absent")
        elif k == "pose" and isinstance(v, str):
            pose = f"    <pose>{_esc(v, where)}</pose>\n"
        elif isinstance(v, bool) and _TAG.match(k) and not k.lower().startswith("xml"):
            actions.append(f"      <{k}>{int(v)}</{k}>\n")
        else:
            if not isinstance(v, str):
                report.drop("region.attributes", where, "non-text value written as text")
            text = ("true" if v else "false") if isinstance(v, bool) else str(v)
            block.append(
                f"      <attribute>\n        <name>{_esc(k, where)}</name>\n"
                f"        <value>{_esc(text, where)}</value>\n      </attribute>\n"
            )
    std = f"{pose}    <truncated>{flags['truncated']}</truncated>\n    <difficult>{flags['difficult']}</difficult>\n"
    act = f"    <actions>\n{''.join(actions)}    </actions>\n" if actions else ""
    blk = f"    <attributes>\n{''.join(block)}    </attributes>\n" if block else ""
    return std, act, blk


def _is_part(r: Region, parent: Region, schema_parent: Mapping[str, str | None]) -> bool:
    return (
        isinstance(r.geometry, Box)
        and parent.group is not None
        and r.group == parent.group
        and schema_parent.get(r.label) == parent.label
        and not r.attributes
        and not r.occluded
    )


def _item_xml(
    item: Item,
    regions: tuple[Region, ...],
    schema_parent: Mapping[str, str | None],
    report: ConversionReport,
) -> tuple[str, list[tuple[int, str, Mask]]]:
    """The annotation file of one item and the masks to paint (instance id, label, mask)."""
    where = item.id
    head = ["<annotation>\n"]
    if item.media is not None:
        head.append(f"  <filename>{_esc(item.media, where)}</filename>\n")
    if item.width is not None:
        head.append(f"  <size>\n    <width>{item.width}</width>\n    <height>{item.height}</height>\n    <depth>3</depth>\n  </size>\n")
    body: list[str] = []
    masks: list[tuple[int, str, Mask]] = []
    i, n, k = 0, len(regions), 0
    while i < n:
        r = regions[i]
        i += 1
        g = r.geometry
        if isinstance(g, Mask):
            b = bounds(g)
            if b is None:
                report.drop("geometry.mask", where, "dropped (empty mask)")
                continue
            if k + 1 > _MAX_INSTANCES:
                report.drop("geometry.mask", where, f"dropped (SegmentationObject holds {_MAX_INSTANCES} objects)")
                continue
            if item.width is not None and (g.width, g.height) != (item.width, item.height):
                report.drop("geometry.mask", where, "dropped (mask size differs from the image size)")
                continue
            masks.append((k + 1, r.label, g))
        else:
            assert isinstance(g, Box)
            b = (g.x1, g.y1, g.x2, g.y2)
        k += 1
        parts = []
        while i < n and _is_part(regions[i], r, schema_parent):
            p = regions[i].geometry
            assert isinstance(p, Box)
            parts.append(
                f"    <part>\n      <name>{_esc(regions[i].label, where)}</name>\n"
                f"{_box_xml((p.x1, p.y1, p.x2, p.y2), '      ')}    </part>\n"
            )
            i += 1
        std, act, blk = _attributes_xml(r.attributes, report, where)
        group = f"    <group>{r.group}</group>\n" if r.group is not None else ""
        body.append(
            f"  <object>\n    <name>{_esc(r.label, where)}</name>\n{std}    <occluded>{int(r.occluded)}</occluded>\n"
            f"{group}{_box_xml(b, '    ')}{''.join(parts)}{act}{blk}  </object>\n"
        )
    head.append(f"  <segmented>{1 if masks else 0}</segmented>\n")
    return "".join(head) + "".join(body) + "</annotation>\n", masks


def _safe_rel(name: str, what: str) -> str:
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts):
        raise FormatError(f"{what} {name!r} cannot be used as a relative file path; rename it first")
    return name


def write_voc(ds: Dataset, out: Path, report: ConversionReport, images: Path | None = None) -> None:
    """Write ``ds`` (already restricted to VOC's capabilities) into the empty directory ``out``."""
    text, labelmap = format_labelmap(ds.schema, report)
    (out / "labelmap.txt").write_text(text, encoding="utf-8")
    index = {name: i for i, name in enumerate(labelmap.names)}
    schema_parent = {c.name: c.parent for c in ds.schema.classes}
    by_item: dict[str, tuple[Region, ...]] = {}
    for a in ds.annotations:
        by_item[a.item_id] = by_item.get(a.item_id, ()) + a.regions
    ann_dir = out / "Annotations"
    ann_dir.mkdir()
    subsets: dict[str, list[str]] = {}
    segmented: dict[str, list[str]] = {}
    files = 1
    regions = 0
    for item in ds.items.values():
        _safe_rel(item.id, "item id")
        regs = by_item.get(item.id, ())
        regions += len(regs)
        xml, masks = _item_xml(item, regs, schema_parent, report)
        target = ann_dir / f"{item.id}.xml"
        if "/" in item.id:
            target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(xml)
        files += 1
        subset = item.subset if item.subset is not None else DEFAULT_SUBSET
        if item.subset == DEFAULT_SUBSET:
            report.drop("item.subset", item.id, f"subset {DEFAULT_SUBSET!r} is read back as no subset")
        subsets.setdefault(_safe_rel(subset, "subset"), []).append(item.id)
        if masks:
            files += _write_masks(out, item, masks, index, labelmap, report)
            segmented.setdefault(subset, []).append(item.id)
        if images is not None and item.media is not None:
            files += _copy_image(images, out, item, report)
    for folder, lists in (("Main", subsets), ("Segmentation", segmented)):
        d = out / "ImageSets" / folder
        d.mkdir(parents=True, exist_ok=True)
        for name, ids in lists.items():
            (d / f"{name}.txt").write_text("".join(f"{i}\n" for i in ids), encoding="utf-8")
            files += 1
    report.items, report.regions, report.files = len(ds.items), regions, files


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
        c = index[label]
        if c >= VOID:
            report.drop("geometry.mask", item.id, f"dropped (class index {c} collides with VOC's void index 255)")
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
