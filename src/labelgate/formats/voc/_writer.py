"""Write a restricted dataset as a Pascal VOC directory.

XML is built as text with string formatting (one string per file, plain ``write``), which is what
makes large exports fast; text is escaped with :func:`xml.sax.saxutils.escape`. Coordinates are
written exactly as stored: integral values without a decimal point, others with ``repr``.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import numpy.typing as npt

from labelgate.core import Box, Classification, Dataset, Item, LabelSchema, Mask, Region, bounds
from labelgate.core.errors import FormatError
from labelgate.formats._palette import voc_colormap, write_label_png
from labelgate.formats.report import ConversionReport
from labelgate.formats.voc._labelmap import Labelmap, format_labelmap
from labelgate.formats.voc._objects import DEFAULT_SUBSET
from labelgate.formats.voc._segmentation import VOID, render_segmentation

__all__ = ["Row", "format_numbers", "restricted_rows", "rows_of", "write_voc"]

_TAG = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\r\ud800-\udfff\ufffe\uffff]")
_MAX_INSTANCES = VOID - 1


def _num(v: float) -> str:
    v = float(v)
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def format_numbers(values: npt.NDArray[np.float64]) -> npt.NDArray[np.str_]:
    """:func:`_num` for a whole array at once (numpy's shortest round-trip float repr)."""
    text = values.astype(str)
    whole = (np.floor(values) == values) & (np.abs(values) < 1e15)
    if whole.any():
        text[whole] = values[whole].astype(np.int64).astype(str)
    return text


def _esc(text: str, where: str) -> str:
    if _BAD_XML.search(text):
        raise FormatError(f"text {text!r} has characters XML 1.0 cannot hold; remove them first", where=where)
    return escape(text)


def _box_xml(b: tuple[str, str, str, str], indent: str) -> str:
    return (
        f"{indent}<bndbox>\n{indent}  <xmin>{b[0]}</xmin>\n{indent}  <ymin>{b[1]}</ymin>\n"
        f"{indent}  <xmax>{b[2]}</xmax>\n{indent}  <ymax>{b[3]}</ymax>\n{indent}</bndbox>\n"
    )


def _attributes_xml(attrs: Mapping[str, Any], report: ConversionReport, where: str) -> tuple[str, str, str]:
    """(standard elements, <actions> block, <attributes> block) for a region's attributes."""
    flags = {"truncated": "0", "difficult": "0"}
    pose = ""
    actions: list[str] = []
    block: list[str] = []
    for k, v in attrs.items():
        if not k:
            report.drop("region.attributes", where, "dropped (an attribute needs a name)")
        elif k in flags and isinstance(v, bool):
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


Row = tuple[str, "tuple[str, str, str, str] | None", "Mask | None", "Mapping[str, Any] | None"]
"""One region to write: label, formatted box corners (None for a mask), mask, extra fields
(``attributes``, ``occluded``, ``group``) or None when all are defaults. A row with neither
corners nor mask is an image-level label (a Classification)."""

_NO_EXTRA: Mapping[str, Any] = {}


def rows_of(regions: tuple[Region, ...]) -> list[Row]:
    """Rows of restricted regions (boxes and masks only)."""
    out: list[Row] = []
    for r in regions:
        g = r.geometry
        extra = {"attributes": r.attributes, "occluded": r.occluded, "group": r.group}
        if isinstance(g, Mask):
            out.append((r.label, None, g, extra))
        elif isinstance(g, Classification):
            out.append((r.label, None, None, extra))
        else:
            assert isinstance(g, Box)
            out.append((r.label, (_num(g.x1), _num(g.y1), _num(g.x2), _num(g.y2)), None, extra))
    return out


def _is_part(row: Row, parent_label: str, parent_group: int | None, schema_parent: Mapping[str, str | None]) -> bool:
    extra = row[3] or _NO_EXTRA
    return (
        row[1] is not None
        and parent_group is not None
        and extra.get("group") == parent_group
        and schema_parent.get(row[0]) == parent_label
        and not extra.get("attributes")
        and not extra.get("occluded")
    )


def _mask_coords(item: Item, mask: Mask, k: int, report: ConversionReport, quiet: bool = False) -> tuple[str, str, str, str] | None:
    """The bndbox text of a mask that can be instance ``k`` of ``item``; None (reported) if not."""
    problem = None
    b = bounds(mask)
    if b is None:
        problem = "dropped (empty mask)"
    elif k > _MAX_INSTANCES:
        problem = f"dropped (SegmentationObject holds {_MAX_INSTANCES} objects)"
    elif item.width is not None and (mask.width, mask.height) != (item.width, item.height):
        problem = "dropped (mask size differs from the image size)"
    if problem is not None or b is None:
        if not quiet:
            report.drop("geometry.mask", item.id, problem or "dropped")
        return None
    return (_num(b[0]), _num(b[1]), _num(b[2]), _num(b[3]))


def _pairs(row: Row, box_label: str, box: tuple[str, str, str, str], group: int) -> bool:
    """Whether ``row`` is the instance mask of the box object just written (same group, no
    fields of its own, and not readable as a mask-only object: other class or other bounds)."""
    label, _, mask, extra = row
    if mask is None or extra is None or extra.get("group") != group or extra.get("attributes") or extra.get("occluded"):
        return False
    b = bounds(mask)
    return b is not None and (label != box_label or (_num(b[0]), _num(b[1]), _num(b[2]), _num(b[3])) != box)


def _item_xml(
    item: Item,
    rows: list[Row],
    schema_parent: Mapping[str, str | None],
    names: dict[str, str],
    report: ConversionReport,
) -> tuple[str, list[tuple[int, str, Mask]], list[tuple[str, int]]]:
    """The annotation file of one item, the masks to paint (instance id, label, mask) and the
    image labels (label, presence)."""
    where = item.id
    head = ["<annotation>\n"]
    if item.media is not None:
        head.append(f"  <filename>{_esc(item.media, where)}</filename>\n")
    if item.width is not None:
        head.append(f"  <size>\n    <width>{item.width}</width>\n    <height>{item.height}</height>\n    <depth>3</depth>\n  </size>\n")
    body: list[str] = []
    masks: list[tuple[int, str, Mask]] = []
    tags_out_of_order = False
    i, n, k = 0, len(rows), 0
    tags: list[tuple[str, int]] = []
    while i < n:
        label, coords, mask, extra = rows[i]
        i += 1
        if coords is None and mask is None:
            tags.append((label, _tag_presence(extra, where, report)))
            continue
        if tags and not tags_out_of_order:
            tags_out_of_order = True
            report.drop("region.order", where, "image labels come back after the objects, in class order")
        if mask is not None:
            coords = _mask_coords(item, mask, k + 1, report)
            if coords is None:
                continue
            masks.append((k + 1, label, mask))
        assert coords is not None
        k += 1
        name = names.get(label)
        if name is None:
            name = names[label] = _esc(label, where)
        if extra is None:
            body.append(
                f"  <object>\n    <name>{name}</name>\n    <truncated>0</truncated>\n    <difficult>0</difficult>\n"
                f"    <occluded>0</occluded>\n    <bndbox>\n      <xmin>{coords[0]}</xmin>\n      <ymin>{coords[1]}</ymin>\n"
                f"      <xmax>{coords[2]}</xmax>\n      <ymax>{coords[3]}</ymax>\n    </bndbox>\n  </object>\n"
            )
            continue
        group = extra.get("group")
        parts = []
        while i < n and _is_part(rows[i], label, group, schema_parent):
            p = rows[i]
            assert p[1] is not None
            pname = names.get(p[0]) or _esc(p[0], where)
            parts.append(f"    <part>\n      <name>{pname}</name>\n{_box_xml(p[1], '      ')}    </part>\n")
            i += 1
        if mask is None and group is not None and i < n and _pairs(rows[i], label, coords, group):
            # a hand-drawn box and its instance mask (as VOC ships them): one object, one instance
            paired = rows[i][2]
            assert paired is not None
            if _mask_coords(item, paired, k, report, quiet=True) is not None:
                masks.append((k, rows[i][0], paired))
                i += 1
        std, act, blk = _attributes_xml(extra.get("attributes") or _NO_EXTRA, report, where)
        grp = f"    <group>{group}</group>\n" if group is not None else ""
        body.append(
            f"  <object>\n    <name>{name}</name>\n{std}    <occluded>{int(bool(extra.get('occluded')))}</occluded>\n"
            f"{grp}{_box_xml(coords, '    ')}{''.join(parts)}{act}{blk}  </object>\n"
        )
    head.append(f"  <segmented>{1 if masks else 0}</segmented>\n")
    return "".join(head) + "".join(body) + "</annotation>\n", masks, tags


def _tag_presence(extra: Mapping[str, Any] | None, where: str, report: ConversionReport) -> int:
    """1, or 0 for a difficult image label (VOC's per-class lists); other fields are reported."""
    if not extra:
        return 1
    attrs = dict(extra.get("attributes") or {})
    difficult = attrs.pop("difficult", False)
    if attrs or not isinstance(difficult, bool):
        report.drop("region.attributes", where, "dropped (image labels hold only difficult)")
    for name in ("occluded", "group"):
        if extra.get(name) not in (None, False):
            report.drop(f"region.{name}", where, "dropped (image labels hold only difficult)")
    return 0 if difficult is True else 1


def _safe_rel(name: str, what: str) -> str:
    parts = name.split("/")
    if name.startswith("/") or "\\" in name or any(p in ("", ".", "..") for p in parts):
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
    rows: Iterable[list[Row]],
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
        if "/" in item_id or "\\" in item_id or item_id in (".", ".."):
            _safe_rel(item_id, "item id")
            Path(f"{prefix}{item_id}.xml").parent.mkdir(parents=True, exist_ok=True)
        n_items += 1
        regions += len(regs)
        xml, masks, tags = _item_xml(item, regs, schema_parent, names, report)
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
