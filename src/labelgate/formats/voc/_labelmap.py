"""``labelmap.txt`` as Datumaro writes it: one ``name:r,g,b:part1,part2:action1,action2`` line
per class; the line's position is the class index in SegmentationClass PNGs.

Mapping to the schema: a line is a :class:`LabelClass` with its colour (``#rrggbb``); a part
listed on class P's line is a class whose ``parent`` is P; actions are P's checkbox attributes.
Line 0 is VOC's background (index 0 = no object): it becomes a class only if a region uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from labelgate.core import AttributeSpec, AttributeType, LabelClass, LabelSchema
from labelgate.core.errors import FormatError
from labelgate.formats._io import read_text
from labelgate.formats._palette import VOC_CLASSES, hex_to_rgb, rgb_to_hex, voc_colormap
from labelgate.formats.report import ConversionReport

__all__ = ["BACKGROUND", "Labelmap", "format_labelmap", "parse_labelmap"]

BACKGROUND = "background"
_FORBIDDEN = (":", ",", "\n", "\r")


@dataclass
class Labelmap:
    """Class names by index, their colours, and the schema they describe."""

    names: list[str]
    colors: list[tuple[int, int, int] | None]
    schema: LabelSchema

    @classmethod
    def default(cls) -> Labelmap:
        """Pascal VOC's 21 classes with its palette, used when a dataset has no labelmap."""
        cmap = voc_colormap()
        colors: list[tuple[int, int, int] | None] = [
            (int(r), int(g), int(b)) for r, g, b in cmap[: len(VOC_CLASSES)]
        ]
        return cls(list(VOC_CLASSES), colors, LabelSchema())

    def palette(self) -> npt.NDArray[np.uint8]:
        """256 colours: the labelmap's own where given, VOC's palette elsewhere."""
        pal = voc_colormap()
        for i, c in enumerate(self.colors[:256]):
            if c is not None:
                pal[i] = c
        return pal

    def color_index(self) -> dict[tuple[int, int, int], int]:
        """Colour -> class index for RGB masks (VOC's palette colour where a class has none;
        255's colour is VOC's "void" border)."""
        cmap = voc_colormap()
        out = {(int(r), int(g), int(b)): 255 for r, g, b in cmap[255:256]}
        for i in range(len(self.names)):
            c = self.colors[i] if self.colors[i] is not None else tuple(int(v) for v in cmap[i % 256])
            out[c] = i  # type: ignore[index]
        return out


def parse_labelmap(path: Path) -> Labelmap:
    """Read a labelmap; errors name the file and line."""
    names: list[str] = []
    colors: list[tuple[int, int, int] | None] = []
    parts: dict[str, list[str]] = {}
    actions: dict[str, list[str]] = {}
    for lineno, raw in enumerate(read_text(path).splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split(":")
        where = f"line {lineno}"
        if len(fields) > 4:
            raise FormatError("expected name:r,g,b:parts:actions (a name may not contain ':')", path=path, where=where)
        fields += [""] * (4 - len(fields))
        name, color, part_list, action_list = (f.strip() for f in fields)
        if not name:
            raise FormatError("empty class name", path=path, where=where)
        if name in names:
            raise FormatError(f"class {name!r} is listed twice", path=path, where=where)
        rgb: tuple[int, int, int] | None = None
        if color:
            try:
                r, g, b = (int(v) for v in color.split(","))
            except ValueError:
                raise FormatError(f"colour {color!r} is not three integers r,g,b", path=path, where=where) from None
            if not all(0 <= v <= 255 for v in (r, g, b)):
                raise FormatError(f"colour {color!r} has a component outside 0..255", path=path, where=where)
            rgb = (r, g, b)
        names.append(name)
        colors.append(rgb)
        parts[name] = [p.strip() for p in part_list.split(",") if p.strip()]
        actions[name] = [a.strip() for a in action_list.split(",") if a.strip()]
    parent_of: dict[str, str] = {}
    for name in names:
        for p in parts[name]:
            parent_of.setdefault(p, name)
    classes = []
    for name, rgb in zip(names, colors, strict=True):
        classes.append(_class(name, rgb, parent_of.get(name), actions[name]))
    extra = [p for p in dict.fromkeys(parent_of) if p not in names]
    classes += [_class(p, None, parent_of[p], []) for p in extra]
    return Labelmap(names, colors, LabelSchema(tuple(classes)))


def _class(name: str, rgb: tuple[int, int, int] | None, parent: str | None, actions: list[str]) -> LabelClass:
    attrs = tuple(AttributeSpec(a, AttributeType.CHECKBOX) for a in actions)
    return LabelClass(name, color=None if rgb is None else rgb_to_hex(rgb), parent=parent, attributes=attrs)


def format_labelmap(schema: LabelSchema, report: ConversionReport, fill: bool = False) -> tuple[str, Labelmap]:
    """The labelmap text for ``schema`` (background first) and the :class:`Labelmap` it encodes.

    With ``fill`` (segmentation PNGs were written and some class has a colour), classes without
    one get their VOC palette colour, since readers such as Datumaro then need every colour.

    Losses (a colour not in ``#rrggbb`` form, attribute specs that are not plain checkboxes,
    parents outside the schema) are recorded in ``report``; names the file cannot hold raise.
    """
    classes = list(schema.classes)
    bg = schema.get(BACKGROUND)
    if bg is not None and classes[0].name != BACKGROUND:
        report.drop("schema.order", BACKGROUND, "moved to index 0 (VOC's background index)")
    children: dict[str, list[str]] = {}
    for c in classes:
        if c.parent is None:
            continue
        parent = schema.get(c.parent)
        if parent is None:
            report.drop("schema.parent", f"{c.name} (parent {c.parent!r})", "dropped (the parent is not a class)")
        elif parent.parent is not None and parent.parent in schema:
            report.drop("schema.parent", c.name, "dropped (VOC holds one level of parts)")
        else:
            children.setdefault(c.parent, []).append(c.name)
    parts = {p for ps in children.values() for p in ps}
    ordered = [bg if bg is not None else LabelClass(BACKGROUND)]
    ordered += [c for c in classes if c.name != BACKGROUND and c.name not in parts]
    read_order = [c.name for c in ordered[1:]] + [p for c in ordered for p in children.get(c.name, ())]
    if read_order != [c.name for c in classes if c.name != BACKGROUND]:
        report.drop("schema.order", "classes", "part classes come back after all other classes")
    for name in parts:
        part = schema.get(name)
        assert part is not None
        if part.color is not None:
            report.drop("schema.color", name, "dropped (labelmap parts have no colour)")
        if part.attributes:
            report.drop("schema.attributes", name, "dropped (labelmap parts have no actions)")
    lines = ["# label:color_rgb:parts:actions"]
    names: list[str] = []
    colors: list[tuple[int, int, int] | None] = []
    for c in ordered:
        for text in (c.name, *children.get(c.name, ()), *(a.name for a in c.attributes)):
            bad = [ch for ch in _FORBIDDEN if ch in text]
            if bad or text != text.strip() or text.startswith("#"):
                raise FormatError(
                    f"class, part or action name {text!r} cannot be written to labelmap.txt "
                    f"(it contains {bad[0] if bad else 'outer spaces or a leading #'!r}); rename it first"
                )
        rgb = None
        if c.color is not None:
            rgb = hex_to_rgb(c.color)
            if rgb is None or rgb_to_hex(rgb) != c.color:
                report.drop("schema.color", c.name, "not #rrggbb; normalised or dropped")
        actions = []
        for a in c.attributes:
            if a.type is AttributeType.CHECKBOX and not a.values and a.default is None and not a.mutable:
                actions.append(a.name)
            else:
                report.drop("schema.attributes", f"{c.name}.{a.name}", "dropped (VOC keeps only checkbox actions)")
        if rgb is None and fill:
            rgb = tuple(int(v) for v in voc_colormap()[len(names) % 256])  # type: ignore[assignment]
            if c.name in schema:
                report.drop("schema.color", c.name, "VOC palette colour written (once one class has a colour, all need one)")
        color = "" if rgb is None else ",".join(str(v) for v in rgb)
        lines.append(f"{c.name}:{color}:{','.join(children.get(c.name, ()))}:{','.join(actions)}")
        names.append(c.name)
        colors.append(rgb)
    if schema.attributes:
        report.drop("schema.attributes", "dataset", "dropped (VOC has no dataset-wide attributes)")
    return "\n".join(lines) + "\n", Labelmap(names, colors, schema)
