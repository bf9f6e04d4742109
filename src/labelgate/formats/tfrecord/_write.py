"""A dataset to TFRecord files (one per subset) with TF Object Detection API keys, images
embedded, instance masks as PNG, and ``label_map.pbtxt`` beside them."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from labelgate.core import Dataset, GeometryKind, Item, Mask, Region, rle
from labelgate.core.errors import FormatError
from labelgate.formats._io import atomic_dir, atomic_file
from labelgate.formats._media import ImageIndex
from labelgate.formats.capabilities import Capabilities, restrict
from labelgate.formats.report import ConversionReport
from labelgate.formats.tfrecord._example import BytesList, encode_example
from labelgate.formats.tfrecord._labelmap import format_label_map
from labelgate.formats.tfrecord._read import LABEL_MAP, NO_SUBSET, SUFFIXES
from labelgate.formats.tfrecord._records import write_records

__all__ = ["CAPABILITIES", "write_tfrecord"]

CAPABILITIES = Capabilities(
    geometries=frozenset({GeometryKind.BOX, GeometryKind.MASK}),
    region_fields=frozenset({"crowd"}),
    item_fields=frozenset({"media", "size", "subset"}),
    schema_fields=frozenset({"ids"}),
    notes="boxes as float32 fractions of the image size; images embedded (pass --images); masks as PNG",
)


def _class_ids(ds: Dataset) -> dict[str, int]:
    taken = {c.id for c in ds.schema.classes if c.id is not None}
    out: dict[str, int] = {}
    nxt = 1
    for c in ds.schema.classes:
        if c.id is not None:
            out[c.name] = c.id
            continue
        while nxt in taken:
            nxt += 1
        out[c.name] = nxt
        taken.add(nxt)
    return out


def _image(it: Item, index: ImageIndex | None, images: Path | None) -> Path:
    candidates: list[Path] = []
    if it.media:
        m = Path(it.media)
        candidates += [images / m] if images is not None else []
        candidates += [m] if m.is_absolute() else []
    for c in candidates:
        if c.is_file():
            return c
    if index is not None:
        keys = [f"{it.subset}/{it.id}", it.id] if it.subset else [it.id]
        for k in keys:
            found = index.find(k)
            if found is not None:
                return Path(found)
    hint = f"not found under {images}" if images else "pass --images DIR (the folder with the images)"
    raise FormatError(f"item {it.id!r}: the image ({it.media or it.id}) is embedded in the record but {hint}",
                      where=f"item {it.id!r}")


def _png(mask: Mask) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rle.decode(mask)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def _example(it: Item, regions: list[Region], ids: dict[str, int], images: Path | None, index: ImageIndex | None,
             report: ConversionReport) -> bytes:
    from PIL import Image, UnidentifiedImageError

    img = _image(it, index, images)
    data = img.read_bytes()
    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt = (im.format or img.suffix.lstrip(".")).lower()
            size = (int(im.size[0]), int(im.size[1]))
    except (OSError, UnidentifiedImageError) as e:
        raise FormatError(f"cannot read the image: {e}", path=img, where=f"item {it.id!r}") from None
    w, h = it.size or size
    if it.size is not None and it.size != size:
        report.warnings.append(f"item {it.id!r}: item size {w}x{h} differs from its image {size[0]}x{size[1]}")
    keep: list[Region] = []
    for r in regions:
        g = r.geometry
        if isinstance(g, Mask) and (g.width, g.height) != (w, h):
            report.drop("geometry.mask", it.id, f"dropped: mask is {g.width}x{g.height}, the image {w}x{h}")
            continue
        keep.append(r)
    box = np.array([_bounds(r) for r in keep], dtype=np.float64).reshape(len(keep), 4)
    feats: dict[str, Any] = {
        "image/height": [h],
        "image/width": [w],
        "image/filename": BytesList([(it.media or img.name).encode()]),
        "image/source_id": BytesList([it.id.encode()]),
        "image/encoded": BytesList([data]),
        "image/format": BytesList([fmt.encode()]),
        "image/object/bbox/xmin": (box[:, 0] / w).astype(np.float32),
        "image/object/bbox/xmax": (box[:, 2] / w).astype(np.float32),
        "image/object/bbox/ymin": (box[:, 1] / h).astype(np.float32),
        "image/object/bbox/ymax": (box[:, 3] / h).astype(np.float32),
        "image/object/class/text": BytesList([r.label.encode() for r in keep]),
        "image/object/class/label": [ids[r.label] for r in keep],
        "image/object/is_crowd": [int(r.crowd) for r in keep],
    }
    if any(isinstance(r.geometry, Mask) for r in keep):
        empty = None
        pngs = []
        for r in keep:
            if isinstance(r.geometry, Mask):
                pngs.append(_png(r.geometry))
            else:
                empty = empty or _png(rle.encode(np.zeros((h, w), np.uint8)))
                pngs.append(empty)
        feats["image/object/mask"] = BytesList(pngs)
    return encode_example(feats)


def _bounds(r: Region) -> tuple[float, float, float, float]:
    from labelgate.core import bounds

    b = bounds(r.geometry)
    return b if b is not None else (0.0, 0.0, 0.0, 0.0)


def write_tfrecord(dataset: Dataset, path: Path, *, images: Path | None = None) -> ConversionReport:
    report = ConversionReport("tfrecord", str(path))
    ds, _ = restrict(dataset, CAPABILITIES, report)
    ids = _class_ids(ds)
    index = ImageIndex(images) if images is not None else None
    single = path.suffix in SUFFIXES
    groups: dict[str, list[Item]] = {}
    for it in ds.items.values():
        name = path.stem if single else (it.subset or NO_SUBSET)
        if single and it.subset != (None if path.stem == NO_SUBSET else path.stem):
            report.drop("item.subset", it.id, f"dropped: every item of {path.name} reads as subset {path.stem!r}")
        groups.setdefault(name, []).append(it)
    regions = {a.item_id: list(a.regions) for a in ds.annotations}

    def examples(its: list[Item]) -> Iterator[bytes]:  # one image in memory at a time
        return (_example(it, regions.get(it.id, []), ids, images, index, report) for it in its)

    label_map = format_label_map([(ids[c.name], c.name) for c in ds.schema.classes])
    if single:
        with atomic_file(path) as fh:
            write_records(fh, examples(groups.get(path.stem, [])))
        with atomic_file(path.parent / LABEL_MAP, "w") as fh:
            fh.write(label_map)
    else:
        with atomic_dir(path) as tmp:
            for name, its in groups.items():
                with open(tmp / f"{name}.tfrecord", "wb") as fh:
                    write_records(fh, examples(its))
            (tmp / LABEL_MAP).write_text(label_map, encoding="utf-8")
    report.items = len(ds.items)
    report.regions = sum(len(a) for a in ds.annotations)
    report.files = len(groups) + 1
    return report
