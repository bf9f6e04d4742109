"""One CVAT shape element <-> one geometry (plus the shape's common XML attributes).

Shapes: ``box`` (``rotation`` makes it a :class:`RotatedBox`), ``polygon``, ``polyline``,
``points`` (keypoints, all visible), ``skeleton`` (keypoints with per-point ``outside`` and
``occluded``, i.e. COCO visibility 0 and 1), ``mask`` (RLE of the shape's box) and ``tag``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field

from labelgate.core import (
    AttributeSpec,
    AttrValue,
    Box,
    Classification,
    Geometry,
    Keypoints,
    LabelClass,
    Mask,
    Polygon,
    Polyline,
    RotatedBox,
)
from labelgate.formats.cvat._values import (
    attr_from_text,
    attr_to_text,
    box_text,
    mask_from_crop,
    mask_to_crop,
    num,
    parse_points,
    points_text,
    rotated_from_corners,
)

__all__ = ["SHAPE_TAGS", "Shape", "geometry_from", "read_attributes", "read_shape", "shape_element", "write_attributes"]

SHAPE_TAGS = frozenset({"box", "polygon", "polyline", "points", "mask", "skeleton", "tag"})


@dataclass
class Shape:
    """What a shape element holds besides its label."""

    geometry: Geometry
    occluded: bool = False
    z_order: int = 0
    group: int | None = None
    attributes: dict[str, AttrValue] = field(default_factory=dict)
    outside: bool = False
    keyframe: bool = True


def _flag(el: ET.Element, name: str) -> bool:
    v = el.get(name, "0").strip().lower()
    if v in ("1", "true"):
        return True
    if v in ("0", "false", ""):
        return False
    raise ValueError(f"{name}={v!r} is not 0 or 1")


def _float(el: ET.Element, name: str) -> float:
    v = el.get(name)
    if v is None:
        raise ValueError(f"missing attribute {name!r}")
    try:
        return float(v)
    except ValueError:
        raise ValueError(f"{name}={v!r} is not a number") from None


def _int(el: ET.Element, name: str) -> int:
    v = el.get(name)
    if v is None:
        raise ValueError(f"missing attribute {name!r}")
    try:
        return int(v)
    except ValueError:
        raise ValueError(f"{name}={v!r} is not an integer") from None


def read_attributes(el: ET.Element, specs: Mapping[str, AttributeSpec]) -> dict[str, AttrValue]:
    out: dict[str, AttrValue] = {}
    for a in el.findall("attribute"):
        name = a.get("name")
        if not name:
            raise ValueError("<attribute> without a name")
        out[name] = attr_from_text(a.text or "", specs.get(name))
    return out


def write_attributes(el: ET.Element, attributes: Mapping[str, AttrValue]) -> None:
    for k, v in attributes.items():
        a = ET.SubElement(el, "attribute", name=k)
        a.text = attr_to_text(v)


def _skeleton_from(el: ET.Element, cls: LabelClass | None) -> Keypoints:
    if cls is None or cls.skeleton is None:
        raise ValueError("a <skeleton> needs a skeleton label in <meta>")
    names = cls.skeleton.points
    index = {n: i for i, n in enumerate(names)}
    pts = [0.0] * (2 * len(names))
    vis = [0] * len(names)
    for p in el.findall("points"):
        name = p.get("label", "")
        i = index.get(name)
        if i is None:
            raise ValueError(f"skeleton point {name!r} is not one of {list(names)}")
        xy = parse_points(p.get("points", ""))
        if len(xy) != 2:
            raise ValueError(f"skeleton point {name!r} must have exactly one x,y pair")
        pts[2 * i : 2 * i + 2] = xy
        vis[i] = 0 if _flag(p, "outside") else 1 if _flag(p, "occluded") else 2
    return Keypoints(tuple(pts), tuple(vis))


def geometry_from(el: ET.Element, cls: LabelClass | None, size: tuple[int, int] | None) -> Geometry:
    """The geometry of shape element ``el``; raises ValueError (or InvariantError) if malformed."""
    tag = el.tag
    if tag == "box":
        if "rotation" in el.attrib:
            vals = [el.get(k) for k in ("xtl", "ytl", "xbr", "ybr")]
            for k in ("xtl", "ytl", "xbr", "ybr"):
                _float(el, k)
            xtl, ytl, xbr, ybr = (str(v) for v in vals)
            return rotated_from_corners(xtl, ytl, xbr, ybr, _float(el, "rotation"))
        return Box(_float(el, "xtl"), _float(el, "ytl"), _float(el, "xbr"), _float(el, "ybr"))
    if tag in ("polygon", "polyline", "points"):
        pts = parse_points(el.get("points") or "")
        if tag == "polygon":
            return Polygon(pts)
        if tag == "polyline":
            return Polyline(pts)
        return Keypoints(pts, (2,) * (len(pts) // 2))
    if tag == "skeleton":
        return _skeleton_from(el, cls)
    if tag == "mask":
        if size is None:
            raise ValueError("a <mask> needs the image's width and height")
        return mask_from_crop(
            el.get("rle") or "", _int(el, "left"), _int(el, "top"), _int(el, "width"), _int(el, "height"), *size
        )
    if tag == "tag":
        return Classification()
    raise ValueError(f"unsupported shape <{tag}>")


def read_shape(el: ET.Element, cls: LabelClass | None, size: tuple[int, int] | None,
               specs: Mapping[str, AttributeSpec]) -> Shape:
    z = el.get("z_order")
    group = el.get("group_id")
    return Shape(
        geometry_from(el, cls, size),
        occluded=_flag(el, "occluded"),
        z_order=0 if z is None else _int(el, "z_order"),
        group=None if group is None else _int(el, "group_id"),
        attributes=read_attributes(el, specs),
        outside=_flag(el, "outside"),
        keyframe=_flag(el, "keyframe") if "keyframe" in el.attrib else True,
    )


def shape_element(parent: ET.Element, label: str | None, shape: Shape, skeleton: tuple[str, ...] | None,
                  extra: Mapping[str, str] | None = None) -> ET.Element | None:
    """Append the element for ``shape`` to ``parent``; None (nothing appended) for an empty mask.

    ``skeleton`` names the points when keypoints are to be written as a ``<skeleton>``.
    """
    g = shape.geometry
    attrs: dict[str, str] = dict(extra or {})
    if label is not None:  # track shapes take the track's label
        attrs["label"] = label
        attrs["source"] = "manual"
    tag: str
    if isinstance(g, Box):
        tag = "box"
        attrs.update(xtl=num(g.x1), ytl=num(g.y1), xbr=num(g.x2), ybr=num(g.y2))
    elif isinstance(g, RotatedBox):
        tag = "box"
        xtl, ytl, xbr, ybr = box_text(g)
        attrs.update(xtl=xtl, ytl=ytl, xbr=xbr, ybr=ybr, rotation=num(g.angle))
    elif isinstance(g, Polygon):
        tag, attrs["points"] = "polygon", points_text(g.points)
    elif isinstance(g, Polyline):
        tag, attrs["points"] = "polyline", points_text(g.points)
    elif isinstance(g, Keypoints):
        tag = "skeleton" if skeleton is not None else "points"
        if skeleton is None:
            attrs["points"] = points_text(g.points)
    elif isinstance(g, Mask):
        crop = mask_to_crop(g)
        if crop is None:
            return None
        tag = "mask"
        text, left, top, width, height = crop
        attrs.update(rle=text, left=str(left), top=str(top), width=str(width), height=str(height))
    elif isinstance(g, Classification):
        tag = "tag"
    else:
        raise TypeError(f"CVAT cannot hold {type(g).__name__}")
    if tag != "tag" or shape.occluded:
        attrs["occluded"] = "1" if shape.occluded else "0"
    if tag != "tag" or shape.z_order:
        attrs["z_order"] = str(shape.z_order)
    if shape.group is not None:
        attrs["group_id"] = str(shape.group)
    el = ET.SubElement(parent, tag, attrs)
    if isinstance(g, Keypoints) and skeleton is not None:
        for i, name in enumerate(skeleton):
            v = g.visibility[i]
            ET.SubElement(el, "points", {
                "label": name, "source": "manual",
                "outside": "1" if v == 0 else "0", "occluded": "1" if v == 1 else "0",
                "points": points_text(g.points[2 * i : 2 * i + 2]),
            })
    write_attributes(el, shape.attributes)
    return el
