"""PNG label masks: semantic class masks and, optionally, instance-id masks.

Layout::

    classes.txt          line i = the class of pixel value i: ``name`` or ``name:r,g,b``
                         (line 0 is the unlabelled background, value 0)
    masks/<id>.png       class of every pixel (palette PNG with the class colours, or a grey
                         PNG holding the class index: ``encoding="palette" | "index"``)
    instances/<id>.png   instance id of every pixel, 0 = none (``mode="instance"``, the default)
    images/<id>.<ext>    the images, copied there when ``images=DIR`` is given to write; read
                         sets an item's media from here (or from ``images=DIR`` given to read)

Reading gives one Mask region per instance (its class is the class under most of its pixels),
or, without an instance PNG, one Mask per class present. Writing paints regions in order, so a
later region covers an earlier one where they overlap; each covered pixel is reported. Boxes,
polygons and rotated boxes are rasterised (reported). Item ids come back in natural order.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from labelgate.core import Annotation, Dataset, GeometryKind, Item, LabelClass, LabelSchema, Mask, Region, kind_of, rle
from labelgate.core.errors import FormatError
from labelgate.formats._io import atomic_dir, read_text
from labelgate.formats._media import ImageIndex
from labelgate.formats._palette import hex_to_rgb, natural_key, read_label_png, rgb_to_hex, voc_colormap, write_label_png
from labelgate.formats._raster import RASTERISABLE, to_mask
from labelgate.formats.capabilities import Capabilities, restrict
from labelgate.formats.report import ConversionReport

__all__ = ["CODEC", "PngMasksCodec"]

CLASSES = "classes.txt"
MASKS = "masks"
INSTANCES = "instances"
IMAGES = "images"
BACKGROUND = "background"
_RGB = re.compile(r"^(\d{1,3}),(\d{1,3}),(\d{1,3})$")


def _parse_classes(path: Path) -> LabelSchema:
    classes: list[LabelClass] = []
    lines = [(n, ln.strip()) for n, ln in enumerate(read_text(path).splitlines(), 1)]
    lines = [(n, ln) for n, ln in lines if ln and not ln.startswith("#")]
    for n, line in lines[1:]:
        name, color = line, None
        head, sep, tail = line.rpartition(":")
        if sep and _RGB.match(tail.strip()):
            rgb = tuple(int(v) for v in tail.strip().split(","))
            if any(v > 255 for v in rgb):
                raise FormatError(f"colour {tail!r} has a component above 255", path=path, where=f"line {n}")
            name, color = head.strip(), rgb_to_hex(rgb)  # type: ignore[arg-type]
        if not name:
            raise FormatError("empty class name", path=path, where=f"line {n}")
        if any(c.name == name for c in classes):
            raise FormatError(f"class {name!r} is listed twice", path=path, where=f"line {n}")
        classes.append(LabelClass(name, color=color))
    return LabelSchema(tuple(classes))


def _normalised(color: str | None) -> str | None:
    rgb = None if color is None else hex_to_rgb(color)
    return None if rgb is None else rgb_to_hex(rgb)


def _class_line(c: LabelClass) -> str:
    rgb = None if c.color is None else hex_to_rgb(c.color)
    return c.name if rgb is None else f"{c.name}:{rgb[0]},{rgb[1]},{rgb[2]}"


def _palette(schema: LabelSchema) -> npt.NDArray[np.uint8]:
    pal = voc_colormap()
    for i, c in enumerate(schema.classes[:255], 1):
        rgb = hex_to_rgb(c.color) if c.color else None
        if rgb is not None:
            pal[i] = rgb
    return pal


def _color_index(schema: LabelSchema) -> dict[tuple[int, int, int], int]:
    pal = _palette(schema)
    out = {(0, 0, 0): 0}
    for i in range(1, min(len(schema), 255) + 1):
        r, g, b = (int(v) for v in pal[i])
        out[(r, g, b)] = i
    return out


def _read_item(item_id: str, masks_png: Path, inst_png: Path | None, schema: LabelSchema) -> tuple[Item, list[Region]]:
    classes = read_label_png(masks_png, _color_index(schema))
    h, w = classes.shape
    top = int(classes.max()) if classes.size else 0
    if top > len(schema):
        ys, xs = np.nonzero(classes == top)
        raise FormatError(
            f"class index {top} but {CLASSES} lists {len(schema)} classes",
            path=masks_png, where=f"pixel x={int(xs[0])}, y={int(ys[0])}",
        )
    names = schema.names
    regions: list[Region] = []
    if inst_png is None:
        for c in np.unique(classes).tolist():
            if c:
                regions.append(Region(rle.encode(classes == c), names[c - 1]))
        return Item(item_id, width=w, height=h), regions
    colors = {(int(r), int(g), int(b)): i for i, (r, g, b) in enumerate(voc_colormap())}
    inst = read_label_png(inst_png, colors)
    if inst.shape != classes.shape:
        raise FormatError(f"size {w}x{h} of {masks_png.name} differs from this instance PNG", path=inst_png)
    for k in np.unique(inst).tolist():
        if not k:
            continue
        inside = inst == k
        under = classes[inside]
        under = under[under != 0]
        if under.size == 0:
            raise FormatError(f"instance {k} lies only on unlabelled pixels of {masks_png.name}, so it has no class", path=inst_png)
        c = int(np.bincount(under).argmax())
        regions.append(Region(rle.encode(inside), names[c - 1]))
    return Item(item_id, width=w, height=h), regions


def _paint(item: Item, regions: tuple[Region, ...], index: dict[str, int], report: ConversionReport) -> tuple[Any, Any, int]:
    assert item.width is not None and item.height is not None
    cls = np.zeros((item.height, item.width), dtype=np.int64)
    inst = np.zeros((item.height, item.width), dtype=np.int64)
    k = 0
    for r in regions:
        m = r.geometry
        assert isinstance(m, Mask)
        if (m.width, m.height) != (item.width, item.height):
            report.drop("geometry.mask", item.id, "dropped (mask size differs from the image size)")
            continue
        inside = rle.decode(m).astype(bool)
        if not inside.any():
            report.drop("geometry.mask", item.id, "dropped (empty mask)")
            continue
        k += 1
        covered = int(np.count_nonzero(inst[inside]))
        if covered:
            report.drop("geometry.mask", item.id, "pixels covered by a later region (one region per pixel)", covered)
        inst[inside] = k
        cls[inside] = index[r.label]
    return cls, inst, k


def _copy_images(src: Path, dst: Path, original: Dataset, kept: Dataset, report: ConversionReport) -> int:
    """Copy each kept item's image to ``images/<id><suffix>``, where :meth:`read` finds it."""
    copied = 0
    for item_id in kept.items:
        media = original.items[item_id].media
        if media is None:
            continue
        source = src / media
        if not source.is_file():
            report.warnings.append(f"{item_id}: image {source} not found; not copied")
            continue
        target = dst / f"{item_id}{source.suffix}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        copied += 1
    return copied


class PngMasksCodec:
    name = "png_masks"
    description = "PNG label masks: semantic (palette or class index) and instance-id PNGs with classes.txt"
    capabilities = Capabilities(
        geometries=frozenset({GeometryKind.MASK}),
        item_fields=frozenset({"size"}),
        schema_fields=frozenset({"colors"}),
        notes="one region per pixel (later regions cover earlier ones); boxes and polygons rasterised; "
        "semantic mode merges regions of a class; items come back in natural id order",
    )

    def detect(self, path: Path) -> float:
        if path.is_dir() and (path / CLASSES).is_file() and (path / MASKS).is_dir():
            return 0.8 if next((path / MASKS).rglob("*.png"), None) is not None or not any((path / MASKS).iterdir()) else 0.0
        return 0.0

    def read(self, path: Path, **options: Any) -> Dataset:
        images = options.pop("images", None)
        if options:
            raise FormatError(f"unknown read option(s) for png_masks: {', '.join(sorted(options))}")
        if not (path / CLASSES).is_file():
            raise FormatError(f"no {CLASSES} here; it names the class of each pixel value", path=path)
        schema = _parse_classes(path / CLASSES)
        mask_dir, inst_dir = path / MASKS, path / INSTANCES
        files = {p.relative_to(mask_dir).with_suffix("").as_posix(): p for p in mask_dir.rglob("*.png")} if mask_dir.is_dir() else {}
        pictures = ImageIndex(Path(images) if images is not None else path / IMAGES)
        items, anns = [], []
        for item_id in sorted(files, key=natural_key):
            inst = inst_dir / f"{item_id}.png"
            item, regions = _read_item(item_id, files[item_id], inst if inst.is_file() else None, schema)
            found = pictures.find(item_id)
            if found is not None:
                item = replace(item, media=Path(found).relative_to(pictures.root).as_posix())
            items.append(item)
            anns.append(Annotation(item_id, regions))
        return Dataset(items, anns, schema)

    def write(self, dataset: Dataset, path: Path, **options: Any) -> ConversionReport:
        images = options.pop("images", None)
        mode = options.pop("mode", "instance")
        encoding = options.pop("encoding", "palette")
        if options:
            raise FormatError(f"unknown write option(s) for png_masks: {', '.join(sorted(options))}")
        if mode not in ("instance", "semantic") or encoding not in ("palette", "index"):
            raise FormatError(f"mode={mode!r}, encoding={encoding!r}: expected mode instance|semantic, encoding palette|index")
        report = ConversionReport(self.name)

        def convert(r: Region, where: str) -> Region | None:
            item = dataset.items.get(where)
            if not isinstance(r.geometry, RASTERISABLE):
                return None
            if item is None or item.width is None or item.height is None:
                raise FormatError(f"item {where!r} has no image size, which rasterising its regions needs; set it first")
            report.drop(f"geometry.{kind_of(r.geometry).name.lower()}", where, "rasterised to a mask")
            return replace(r, geometry=to_mask(r.geometry, item.width, item.height))

        ds, report = restrict(dataset, self.capabilities, report, convert=convert)
        schema = ds.schema
        for c in schema.classes:
            bad = [ch for ch in ":\n\r" if ch in c.name] or (["#"] if c.name.startswith("#") else [])
            if bad or c.name != c.name.strip():
                raise FormatError(f"class name {c.name!r} cannot be written to {CLASSES}; rename it first")
            if c.color != _normalised(c.color):
                report.drop("schema.color", c.name, "not #rrggbb; normalised or dropped")
        if encoding == "palette" and len(schema) > 255:
            raise FormatError(f"{len(schema)} classes do not fit a palette PNG (255 at most); use encoding='index'")
        index = {c.name: i for i, c in enumerate(schema.classes, 1)}
        palette = _palette(schema) if encoding == "palette" else None
        by_item = {a.item_id: a.regions for a in ds.annotations}
        files = 1
        with atomic_dir(path) as tmp:
            lines = [BACKGROUND] + [_class_line(c) for c in schema.classes]
            (tmp / CLASSES).write_text("\n".join(lines) + "\n", encoding="utf-8")
            for item in ds.items.values():
                files += self._write_item(tmp, item, by_item.get(item.id, ()), index, palette, mode, report)
            if images is not None:
                files += _copy_images(Path(images), tmp / IMAGES, dataset, ds, report)
        report.items, report.regions, report.files, report.path = len(ds.items), ds.region_count, files, str(path)
        return report

    def _write_item(self, out: Path, item: Item, regions: tuple[Region, ...], index: dict[str, int],
                    palette: npt.NDArray[np.uint8] | None, mode: str, report: ConversionReport) -> int:
        parts = item.id.split("/")
        if item.id.startswith("/") or "\\" in item.id or "\x00" in item.id or any(p in ("", ".", "..") for p in parts):
            raise FormatError(f"item id {item.id!r} cannot be used as a relative file path; rename it first")
        if item.width is None:
            sizes = {(r.geometry.width, r.geometry.height) for r in regions if isinstance(r.geometry, Mask)}
            if len(sizes) != 1:
                raise FormatError(f"item {item.id!r} has no image size, which its mask PNG needs; set it first")
            w, h = sizes.pop()
            item = replace(item, width=w, height=h)
            report.drop("item.size", item.id, "taken from its masks")
        cls, inst, k = _paint(item, regions, index, report)
        if mode == "semantic":
            labels = list(dict.fromkeys(r.label for r in regions))
            if len(labels) < k:
                report.drop("region", item.id, "merged into one mask per class (semantic mode)", k - len(labels))
            if labels != sorted(labels, key=index.__getitem__):
                report.drop("region.order", item.id, "classes come back in class order (semantic mode)")
        written = 0
        for folder, arr, pal in ((MASKS, cls, palette), (INSTANCES, inst, None)):
            if folder == INSTANCES and mode == "semantic":
                continue
            target = out / folder / f"{item.id}.png"
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "wb") as fh:
                write_label_png(fh, arr, pal)
            written += 1
        return written


CODEC = PngMasksCodec()
