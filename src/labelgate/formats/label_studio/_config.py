"""The labeling config written beside the tasks (Label Studio needs one to import them), which
also carries the class list, its order and colours, back to the reader."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

from labelgate.core import FormatError, LabelClass, LabelSchema
from labelgate.formats._io import parse_xml

__all__ = ["CONTROL_TAGS", "config_path", "config_xml", "schema_from_config"]

CONTROL_TAGS = {
    "rectanglelabels": "RectangleLabels",
    "polygonlabels": "PolygonLabels",
    "brushlabels": "BrushLabels",
    "keypointlabels": "KeyPointLabels",
    "labels": "Labels",
    "choices": "Choices",
    "textarea": "TextArea",  # per-region attributes
    "number": "Number",
}


def config_path(tasks: Path) -> Path:
    """``<stem>.label_config.xml`` beside the tasks file."""
    return tasks.with_name(f"{tasks.stem}.label_config.xml")


def config_xml(schema: LabelSchema, objects: list[str], controls: list[tuple[str, str, str]]) -> bytes:
    """``objects``: data keys ("image", "text"); ``controls``: (result type, from_name, to_name).
    Every control lists every class, so unused classes survive."""
    view = ET.Element("View")
    for key in objects:
        ET.SubElement(view, "Image" if key == "image" else "Text", name=key, value=f"${key}")
    if not controls:
        key = objects[0] if objects else "image"
        if not objects:
            ET.SubElement(view, "Image", name="image", value="$image")
        controls = [("rectanglelabels" if key == "image" else "labels", "label", key)]
    for kind, from_name, to_name in controls:
        attrs = {"name": from_name, "toName": to_name}
        if kind == "choices":
            attrs["choice"] = "multiple"
        if kind in ("textarea", "number"):
            ET.SubElement(view, CONTROL_TAGS[kind], {**attrs, "perRegion": "true"})
            continue
        ctl = ET.SubElement(view, CONTROL_TAGS[kind], attrs)
        for c in schema.classes:
            el = ET.SubElement(ctl, "Choice" if kind == "choices" else "Label", value=c.name)
            if c.color is not None:
                el.set("background", c.color)
    ET.indent(view, space="  ")
    data = ET.tostring(view, encoding="utf-8") + b"\n"
    bad = re.search(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]", data)
    if bad:
        raise FormatError(f"a class or attribute name holds control character {bad.group()!r}, which the labeling "
                          "config (XML) cannot hold; rename it and write again")
    return data


def schema_from_config(path: Path) -> LabelSchema | None:
    """Classes (first-seen order) and colours of a labeling config; None if there is none."""
    if not path.is_file():
        return None
    root = parse_xml(path).getroot()
    classes: dict[str, str | None] = {}
    for el in root.iter():
        if el.tag in ("Label", "Choice"):
            name = el.get("value")
            if not name:
                raise FormatError(f"<{el.tag}> without a value", path=path, where=f"<{el.tag}>")
            if name not in classes or classes[name] is None:
                classes[name] = el.get("background")
    return LabelSchema(tuple(LabelClass(n, color=c) for n, c in classes.items()))
