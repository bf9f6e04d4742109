"""CVAT's ``<labels>`` block and the label schema: classes, colours, attributes, skeletons.

Skeleton classes are written as CVAT does: a label of ``<type>skeleton</type>`` whose points
are sub-labels (``<type>points</type>`` with ``<parent>``), and whose edges are ``<line>``
elements with ``data-node-from``/``data-node-to`` in the label's ``<svg>`` text.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from typing import Any

from labelgate.core import AttributeSpec, AttributeType, LabelClass, LabelSchema, Skeleton
from labelgate.formats.cvat._values import attr_from_text, attr_to_text

__all__ = ["labels_element", "schema_from_labels", "spec_round_trips"]

_TAG = re.compile(r"<(line|circle)\b([^>]*)>")
_ATTR = re.compile(r"([\w-]+)\s*=\s*\"([^\"]*)\"")


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


def _attribute_element(parent: ET.Element, spec: AttributeSpec) -> None:
    a = _sub(parent, "attribute")
    _sub(a, "name", spec.name)
    _sub(a, "mutable", "True" if spec.mutable else "False")
    _sub(a, "input_type", spec.type.value)
    if spec.default is not None:
        _sub(a, "default_value", attr_to_text(spec.default))
    _sub(a, "values", "\n".join(spec.values))


def _spec_from(el: ET.Element, label: str) -> AttributeSpec:
    name = (el.findtext("name") or "").strip()
    if not name:
        raise ValueError(f"label {label!r}: an attribute has no <name>")
    kind = (el.findtext("input_type") or "text").strip().lower()
    try:
        atype = AttributeType(kind)
    except ValueError:
        raise ValueError(
            f"label {label!r}, attribute {name!r}: input_type {kind!r} is not one of "
            f"{[t.value for t in AttributeType]}"
        ) from None
    raw = el.findtext("values")
    values: tuple[str, ...] = ()
    if raw:
        values = tuple(raw.split("\n")) if "\n" in raw else tuple(raw.split())
    mutable = (el.findtext("mutable") or "false").strip().lower() in ("true", "1")
    default_el = el.find("default_value")
    default = None
    if default_el is not None:
        bare = AttributeSpec(name, atype, values, None, mutable)
        text = default_el.text or ""
        # CVAT accepts a default outside the listed values; keep it as text in that case.
        try:
            default = attr_from_text(text, _unchecked(bare))
        except ValueError:
            default = text
    return AttributeSpec(name, atype, values, default, mutable)


def _unchecked(spec: AttributeSpec) -> AttributeSpec:
    """The same type without the list of allowed values (so parsing only checks the type)."""
    if spec.type in (AttributeType.SELECT, AttributeType.RADIO):
        return AttributeSpec(spec.name, AttributeType.TEXT)
    return AttributeSpec(spec.name, spec.type)


def spec_round_trips(spec: AttributeSpec) -> bool:
    """Whether CVAT's text form of ``spec`` reads back as ``spec``."""
    holder = ET.Element("attributes")
    _attribute_element(holder, spec)
    try:
        back = _spec_from(holder[0], "?")
    except ValueError:
        return False
    return back == spec and type(back.default) is type(spec.default)


def _svg(sk: Skeleton) -> str:
    n = len(sk.points)
    parts = []
    pos = []
    for i in range(n):
        a = 2 * math.pi * i / n
        pos.append((round(50 + 40 * math.cos(a), 3), round(50 + 40 * math.sin(a), 3)))
    for a, b in sk.edges:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        parts.append(
            f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="black" data-type="edge" '
            f'data-node-from="{a + 1}" stroke-width="0.5" data-node-to="{b + 1}"></line>'
        )
    for i, name in enumerate(sk.points):
        x, y = pos[i]
        parts.append(
            f'<circle r="1.5" stroke="black" fill="#b3b3b3" cx="{x}" cy="{y}" stroke-width="0.1" '
            f'data-type="element node" data-element-id="{i + 1}" data-node-id="{i + 1}" '
            f'data-label-name="{_escape_attr(name)}"></circle>'
        )
    return "".join(parts)


def _escape_attr(s: str) -> str:
    return s.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def _unescape_attr(s: str) -> str:
    return s.replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _edges_from_svg(svg: str, points: tuple[str, ...], label: str) -> tuple[tuple[int, int], ...]:
    node_names: dict[str, str] = {}
    lines: list[dict[str, str]] = []
    for tag, body in _TAG.findall(svg):
        attrs = dict(_ATTR.findall(body))
        if tag == "circle" and "data-node-id" in attrs and "data-label-name" in attrs:
            node_names[attrs["data-node-id"]] = _unescape_attr(attrs["data-label-name"])
        elif tag == "line" and "data-node-from" in attrs and "data-node-to" in attrs:
            lines.append(attrs)
    index = {name: i for i, name in enumerate(points)}
    edges = []
    for attrs in lines:
        ends = []
        for key in ("data-node-from", "data-node-to"):
            node = attrs[key]
            if node in node_names:
                i = index.get(node_names[node])
            else:  # no circle names the node: CVAT numbers nodes in sub-label order from 1
                i = int(node) - 1 if node.isdigit() and 0 < int(node) <= len(points) else None
            if i is None:
                raise ValueError(f"skeleton {label!r}: an edge refers to unknown node {node!r}")
            ends.append(i)
        edges.append((ends[0], ends[1]))
    return tuple(edges)


def labels_element(schema: LabelSchema) -> ET.Element:
    """``<labels>`` for ``schema`` (dataset-wide attributes and OKS sigmas are not written)."""
    labels = ET.Element("labels")
    for c in schema.classes:
        el = _sub(labels, "label")
        _sub(el, "name", c.name)
        if c.color is not None:
            _sub(el, "color", c.color)
        if c.skeleton is not None:
            _sub(el, "type", "skeleton")
        if c.parent is not None:
            _sub(el, "parent", c.parent)
        attrs = _sub(el, "attributes")
        for spec in c.attributes:
            _attribute_element(attrs, spec)
        if c.skeleton is not None:
            _sub(el, "svg", _svg(c.skeleton))
            for p in c.skeleton.points:
                sub = _sub(labels, "label")
                _sub(sub, "name", p)
                _sub(sub, "type", "points")
                _sub(sub, "parent", c.name)
                _sub(sub, "attributes")
    return labels


def schema_from_labels(labels: ET.Element | None) -> LabelSchema:
    """The schema of a ``<labels>`` element; raises ValueError naming the label at fault."""
    if labels is None:
        return LabelSchema()
    raw: list[dict[str, Any]] = []
    for el in labels.findall("label"):
        name = el.findtext("name")
        if not name:
            raise ValueError(f"<label> #{len(raw) + 1} has no <name>")
        raw.append({
            "name": name,
            "type": (el.findtext("type") or "").strip(),
            "parent": el.findtext("parent") or None,
            "color": el.findtext("color") or None,
            "attrs": tuple(_spec_from(a, name) for a in el.iterfind("attributes/attribute")),
            "svg": el.findtext("svg") or "",
        })
    skeletons = {r["name"] for r in raw if r["type"] == "skeleton"}
    sub_points: dict[str, list[str]] = {s: [] for s in skeletons}
    classes_raw = []
    for r in raw:
        if r["type"] == "points" and r["parent"] in skeletons:
            sub_points[r["parent"]].append(r["name"])
        else:
            classes_raw.append(r)
    classes = []
    for r in classes_raw:
        skeleton = None
        if r["name"] in skeletons:
            pts = tuple(sub_points[r["name"]])
            if not pts:
                raise ValueError(f"skeleton label {r['name']!r} has no point sub-labels")
            skeleton = Skeleton(pts, _edges_from_svg(r["svg"], pts, r["name"]))
        classes.append(LabelClass(r["name"], None, r["color"], r["parent"], r["attrs"], skeleton))
    return LabelSchema(tuple(classes))
