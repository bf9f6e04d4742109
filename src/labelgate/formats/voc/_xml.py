"""The text of one VOC annotation file, built with string formatting (no element tree).

Text is escaped with :func:`xml.sax.saxutils.escape`; coordinates are written exactly as stored:
integral values without a decimal point, others with the shortest round-trip ``repr``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
import numpy.typing as npt

from labelgate.core import Box, Classification, Item, Mask, Region, bounds
from labelgate.core.errors import FormatError
from labelgate.formats.report import ConversionReport
from labelgate.formats.voc._segmentation import VOID

__all__ = ["Coords", "Plain", "Row", "as_numbers", "item_xml", "plain_item_xml", "plain_objects", "rows_of"]

_TAG = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\r\ud800-\udfff\ufffe\uffff]")
_MAX_INSTANCES = VOID - 1


Coords = tuple[float, float, float, float]
"""Box corners as numbers whose ``str`` is their text: ints for integral values, else floats."""


def _num(v: float) -> float:
    v = float(v)
    return int(v) if v.is_integer() and abs(v) < 1e15 else v


def as_numbers(values: npt.NDArray[np.float64]) -> list[list[float]]:
    """:func:`_num` for a whole N x 4 array at once."""
    whole = (np.floor(values) == values) & (np.abs(values) < 1e15)
    out = values.astype(object)
    if whole.any():
        out[whole] = values[whole].astype(np.int64).astype(object)
    return out.tolist()


def _esc(text: str, where: str) -> str:
    if _BAD_XML.search(text):
        raise FormatError(f"text {text!r} has characters XML 1.0 cannot hold; remove them first", where=where)
    return escape(text)


def _box_xml(b: Coords, indent: str) -> str:
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


Row = tuple[str, "Coords | None", "Mask | None", "Mapping[str, Any] | None"]
"""One region to write: label, box corners (:data:`Coords`; None for a mask), mask, extra fields
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


def _mask_coords(item: Item, mask: Mask, k: int, report: ConversionReport, quiet: bool = False) -> Coords | None:
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


def _pairs(row: Row, box_label: str, box: Coords, group: int) -> bool:
    """Whether ``row`` is the instance mask of the box object just written (same group, no
    fields of its own, and not readable as a mask-only object: other class or other bounds)."""
    label, _, mask, extra = row
    if mask is None or extra is None or extra.get("group") != group or extra.get("attributes") or extra.get("occluded"):
        return False
    b = bounds(mask)
    return b is not None and (label != box_label or (_num(b[0]), _num(b[1]), _num(b[2]), _num(b[3])) != box)


def item_xml(
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


_PLAIN_OBJECT = ("  <object>\n    <name>%s</name>\n    <truncated>0</truncated>\n    <difficult>0</difficult>\n"
                 "    <occluded>0</occluded>\n    <bndbox>\n      <xmin>%s</xmin>\n      <ymin>%s</ymin>\n"
                 "      <xmax>%s</xmax>\n      <ymax>%s</ymax>\n    </bndbox>\n  </object>\n")


@dataclass(frozen=True, slots=True)
class Plain:
    """An item's rows when all are plain boxes, as their ``<object>`` text (see :func:`plain_objects`)."""

    objects: list[str]


def plain_objects(names: list[str], coords: list[list[float]]) -> list[str]:
    """The ``<object>`` text of many boxes without attributes, group or mask, in one pass:
    the text :func:`item_xml` writes for each (``names`` already escaped)."""
    return list(map(_PLAIN_OBJECT.__mod__, zip(names, *zip(*coords, strict=True), strict=True))) if coords else []


def plain_item_xml(item: Item, plain: Plain) -> str:
    """:func:`item_xml` for an item whose rows are all plain boxes, given their ``<object>`` text."""
    where = item.id
    head = "<annotation>\n"
    if item.media is not None:
        head += f"  <filename>{_esc(item.media, where)}</filename>\n"
    if item.width is not None:
        head += f"  <size>\n    <width>{item.width}</width>\n    <height>{item.height}</height>\n    <depth>3</depth>\n  </size>\n"
    return f"{head}  <segmented>0</segmented>\n{''.join(plain.objects)}</annotation>\n"


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
