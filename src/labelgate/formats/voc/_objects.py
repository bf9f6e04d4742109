"""One VOC annotation XML file -> item fields and object rows.

Conventions (the writer follows the same ones):

- Coordinates are kept verbatim: ``<xmin>1</xmin>`` is ``x1 = 1.0``; nothing is shifted.
- ``truncated``/``difficult`` become bool attributes; ``0`` (VOC's default, always written) reads
  as absent. ``pose`` is a text attribute when present. ``occluded`` is :attr:`Region.occluded`.
- ``<actions>`` children become bool attributes; Datumaro's ``<attributes>`` block gives text
  attributes. ``<part>`` elements become Box regions grouped with their object; ``<group>``
  (our extension, ignored by other readers) keeps :attr:`Region.group`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from labelgate.core.errors import FormatError
from labelgate.formats._io import parse_xml

__all__ = ["DEFAULT_SUBSET", "ParsedFile", "VocObject", "parse_annotation_file"]

DEFAULT_SUBSET = "default"
"""The ImageSets list holding items without a subset (Datumaro's name); read back as no subset."""



@dataclass
class VocObject:
    label: str
    box: tuple[float, float, float, float]
    attributes: dict[str, Any] = field(default_factory=dict)
    occluded: bool = False
    group: int | None = None
    parts: list[tuple[str, tuple[float, float, float, float]]] = field(default_factory=list)


@dataclass
class ParsedFile:
    filename: str | None
    size: tuple[int, int] | None
    objects: list[VocObject]


def _text(el: Any, tag: str, strip: bool = True) -> str | None:
    child = el.find(tag)
    if child is None:
        return None
    return (child.text or "").strip() if strip else (child.text or "")


def _number(text: str | None, path: Path, where: str, tag: str = "") -> float:
    """A coordinate; the error (built only on failure) names the element."""
    try:
        value = float(text) if text is not None and "_" not in text else None
    except ValueError:
        value = None
    if value is not None and math.isfinite(value):
        return value
    place = f"{where} {tag}".strip()
    if text is None:
        raise FormatError("missing coordinate", path=path, where=place)
    if value is not None:
        raise FormatError(f"coordinate {text!r} is not finite", path=path, where=place)
    raise FormatError(f"coordinate {text!r} is not a number", path=path, where=place)


def _flag(text: str, path: Path, where: str, tag: str = "") -> bool:
    t = text.strip().lower()
    if t in ("1", "true", "yes"):
        return True
    if t in ("0", "false", "no", ""):
        return False
    raise FormatError(f"{text!r} is not a flag (0 or 1)", path=path, where=f"{where} {tag}".strip())


def _int(text: str | None, path: Path, where: str) -> int:
    try:
        return int(text or "")
    except ValueError:
        raise FormatError(f"{text!r} is not an integer", path=path, where=where) from None


def _bndbox(bb: Any, path: Path, where: str) -> tuple[float, float, float, float]:
    if bb is None:
        raise FormatError("object has no <bndbox>", path=path, where=where)
    found: dict[str, str] = {}
    for c in bb:
        found.setdefault(c.tag, c.text or "")
    g = found.get
    x1 = _number(g("xmin"), path, where, "<bndbox>/<xmin>")
    y1 = _number(g("ymin"), path, where, "<bndbox>/<ymin>")
    x2 = _number(g("xmax"), path, where, "<bndbox>/<xmax>")
    y2 = _number(g("ymax"), path, where, "<bndbox>/<ymax>")
    if x2 < x1 or y2 < y1:
        raise FormatError(f"box is inverted (xmin={x1}, ymin={y1}, xmax={x2}, ymax={y2})", path=path, where=where)
    return (x1, y1, x2, y2)


def _children(el: Any) -> tuple[dict[str, Any], list[Any]]:
    """An element's children by tag (the first of each) and its ``<part>`` children, in one pass."""
    first: dict[str, Any] = {}
    parts = []
    for child in el:
        if child.tag == "part":
            parts.append(child)
        elif child.tag not in first:
            first[child.tag] = child
    return first, parts


def _object(el: Any, k: int, path: Path) -> VocObject:
    where = f"<object> #{k}"
    found, parts = _children(el)
    name_el = found.get("name")
    name = None if name_el is None else name_el.text
    if not name:
        raise FormatError("object has no <name>", path=path, where=where)
    where = f"<object> #{k} ({name})"
    obj = VocObject(name, _bndbox(found.get("bndbox"), path, where))
    pose = found.get("pose")
    if pose is not None:
        obj.attributes["pose"] = pose.text or ""
    for tag in ("truncated", "difficult"):
        t = found.get(tag)
        if t is not None and _flag(t.text or "", path, where, f"<{tag}>"):
            obj.attributes[tag] = True
    occ = found.get("occluded")
    obj.occluded = occ is not None and _flag(occ.text or "", path, where, "<occluded>")
    g = found.get("group")
    if g is not None:
        obj.group = _int((g.text or "").strip(), path, f"{where} <group>")
    actions = found.get("actions")
    if actions is not None:
        for a in actions:
            obj.attributes[a.tag] = _flag(a.text or "", path, where, f"<actions>/<{a.tag}>")
    attrs = found.get("attributes")
    if attrs is not None:
        for i, a in enumerate(attrs.findall("attribute"), 1):
            aname = _text(a, "name", strip=False)
            if not aname:
                raise FormatError("attribute has no <name>", path=path, where=f"{where} <attributes> #{i}")
            obj.attributes[aname] = _text(a, "value", strip=False) or ""
    for i, part in enumerate(parts, 1):
        pwhere = f"{where} <part> #{i}"
        pname = _text(part, "name", strip=False)
        if not pname:
            raise FormatError("part has no <name>", path=path, where=pwhere)
        obj.parts.append((pname, _bndbox(part.find("bndbox"), path, pwhere)))
    return obj


def parse_annotation_file(path: Path) -> ParsedFile:
    """Parse one annotation file (with defusedxml); every error names the file and element."""
    root = parse_xml(path).getroot()
    if root.tag != "annotation":
        raise FormatError(f"root element is <{root.tag}>, expected <annotation>", path=path)
    filename = _text(root, "filename", strip=False) or None
    size = None
    size_el = root.find("size")
    if size_el is not None:
        w, h = _text(size_el, "width"), _text(size_el, "height")
        if w is None or h is None:
            raise FormatError("<size> needs <width> and <height>", path=path, where="<size>")
        width, height = _int(w, path, "<size>/<width>"), _int(h, path, "<size>/<height>")
        depth = _text(size_el, "depth")
        if depth:
            _int(depth, path, "<size>/<depth>")
        if width == height == 0:
            size = None  # some tools write 0 x 0 for "unknown"
        elif width <= 0 or height <= 0:
            raise FormatError(f"image size {width}x{height} is not positive", path=path, where="<size>")
        else:
            size = (width, height)
    objects = [_object(el, k, path) for k, el in enumerate(root.findall("object"), 1)]
    return ParsedFile(filename, size, objects)
