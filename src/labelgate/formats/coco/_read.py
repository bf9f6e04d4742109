"""Read COCO JSON into one columnar :class:`RegionTable` per dataset.

The hot path touches each annotation dict a handful of times through C-level iteration
(``map(itemgetter(...))`` into ``np.fromiter``) and keeps the dicts themselves as the lazy geometry
payloads, so reading a million boxes costs little more than parsing the JSON.
"""

from __future__ import annotations

import gc
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter, contains, itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from labelgate.core import Dataset, Item, LabelClass, LabelSchema, Skeleton
from labelgate.core.errors import FormatError, InvariantError
from labelgate.core.geometry import GeometryKind, Keypoints
from labelgate.core.table import NO_ID, RegionTable
from labelgate.formats._io import load_json, read_bytes
from labelgate.formats.coco._boxes import bboxes
from labelgate.formats.coco._bulk import items_from
from labelgate.formats.coco._merge import Part, concat
from labelgate.formats.coco._payload import decoder, keypoints_from
from labelgate.formats.coco._segments import MASK, parts, rle_sizes
from labelgate.formats.coco._typed import UNSET
from labelgate.formats.coco._typed import decode as decode_typed

__all__ = ["read_files"]

_STANDARD = ("id", "image_id", "category_id", "segmentation", "area", "bbox", "iscrowd")
_FREEZE_AT = 100_000
_K_BOX, _K_POLY, _K_MULTI = int(GeometryKind.BOX), int(GeometryKind.POLYGON), int(GeometryKind.MULTI_POLYGON)
_K_KP, _K_MASK, _K_TAG = int(GeometryKind.KEYPOINTS), int(GeometryKind.MASK), int(GeometryKind.CLASSIFICATION)


@dataclass
class _Doc:
    path: Path
    subset: str | None
    images: list[Any]
    annotations: list[Any]
    categories: list[Any]
    typed: bool = False  # images and annotations are msgspec structs (coco/_typed.py), not dicts


def _load(path: Path, subset: str | None) -> _Doc:
    data = read_bytes(path)
    typed = decode_typed(data)
    if typed is not None and not any("keypoints" in c or "skeleton" in c for c in typed.categories):
        return _Doc(path, subset, typed.images, typed.annotations, typed.categories, typed=True)
    del typed
    doc = load_json(path, data)
    if not isinstance(doc, dict):
        raise FormatError("a COCO file must hold a JSON object with images, annotations and categories", path=path)
    out = []
    for key in ("images", "annotations", "categories"):
        v = doc.get(key, [])
        if not isinstance(v, list) or not all(type(x) is dict for x in v[:1]):
            raise FormatError(f"{key!r} must be a list of objects", path=path, where=key)
        out.append(v)
    return _Doc(path, subset, out[0], out[1], out[2])


def _skeleton(cat: dict[str, Any], docs: Sequence[_Doc], path: Path, i: int) -> Skeleton | None:
    names = cat.get("keypoints")
    edges = cat.get("skeleton") or []
    if names is None and not edges:
        return None
    try:
        flat = [int(v) for e in edges for v in e]
        if len(flat) != 2 * len(edges):
            raise InvariantError("each skeleton edge must be a pair of point numbers")
        # COCO numbers points from 1; some tools (Datumaro) write 0-based edges: a 0 tells.
        base = 0 if (flat and min(flat) == 0) else 1
        pairs = tuple((flat[j] - base, flat[j + 1] - base) for j in range(0, len(flat), 2))
        if not names:
            n = max([*(v + 1 for v in flat if base == 0), *(v for v in flat if base == 1), 0])
            for d in docs:
                if d.typed:  # typed annotations have no keypoints
                    continue
                for a in d.annotations:
                    if a.get("category_id") == cat.get("id") and isinstance(a.get("keypoints"), list):
                        n = max(n, len(a["keypoints"]) // 3)
            if n == 0:
                return None
            names = [str(j + 1) for j in range(n)]
        return Skeleton(tuple(str(s) for s in names), pairs)
    except (InvariantError, TypeError, ValueError) as e:
        raise FormatError(f"bad keypoint skeleton: {e}", path=path, where=f"categories[{i}] (id {cat.get('id')!r})") from None


def _schema(docs: Sequence[_Doc]) -> tuple[LabelSchema, dict[int, int]]:
    """One schema for all files: classes by name, richer definitions (a skeleton) win."""
    classes: dict[str, LabelClass] = {}
    by_id: dict[int, str] = {}
    for d in docs:
        seen: set[str] = set()
        for i, c in enumerate(d.categories):
            cid, name = c.get("id"), c.get("name")
            if type(cid) is not int or not isinstance(name, str) or not name:
                raise FormatError("a category needs an integer id and a non-empty name", path=d.path, where=f"categories[{i}]")
            if name in seen or by_id.get(cid, name) != name:
                raise FormatError(f"category {name!r} (id {cid}) clashes with another category of the same name or id; "
                                  "names and ids must be unique", path=d.path, where=f"categories[{i}]")
            seen.add(name)
            by_id[cid] = name
            sup = c.get("supercategory") or None
            skel = _skeleton(c, docs, d.path, i)
            prev = classes.get(name)
            if prev is None or (prev.skeleton is None and skel is not None):
                classes[name] = LabelClass(name, prev.id if prev else cid, parent=sup if isinstance(sup, str) else None, skeleton=skel)
    schema = LabelSchema(tuple(classes.values()))
    return schema, {cid: schema.index(n) for cid, n in by_id.items()}


def _items(d: _Doc) -> tuple[list[Item], npt.NDArray[np.int64]]:
    def slow(i: int, im: dict[str, Any]) -> Item:
        try:
            num, fn = im["id"], im["file_name"]
            if type(num) is not int or not isinstance(fn, str) or not fn:
                raise InvariantError("an image needs an integer 'id' and a non-empty 'file_name'")
            stem = posixpath.splitext(fn)[0]
            return Item(stem or fn, media=fn, width=im.get("width"), height=im.get("height"), number=num, subset=d.subset)
        except KeyError as e:
            raise FormatError(f"image has no {e.args[0]!r}", path=d.path, where=f"images[{i}]") from None
        except (InvariantError, TypeError) as e:
            raise FormatError(str(e), path=d.path, where=f"images[{i}] (id {im.get('id')!r})") from None

    if not d.typed and not all(type(im) is dict for im in d.images):
        i = next(i for i, im in enumerate(d.images) if type(im) is not dict)
        raise FormatError("an image must be a JSON object", path=d.path, where=f"images[{i}]")
    items = items_from(d.images, d.subset, slow, typed=d.typed)
    return items, np.asarray([it.number for it in items], dtype=np.int64)


def _bad_ann(d: _Doc, message: str, row: int) -> FormatError:
    a = d.annotations[row]
    aid = a.get("id") if isinstance(a, dict) else getattr(a, "id", None)
    return FormatError(message, path=d.path, where=f"annotations[{row}] (id {aid!r})")


def _ints(d: _Doc, key: str, default: int | None, exact: bool) -> npt.NDArray[np.int64]:
    """An integer column; ``exact`` when every annotation is known to have ``key``."""
    anns, n = d.annotations, len(d.annotations)
    get = itemgetter(key) if exact or default is None else (lambda a: a.get(key, default))
    try:
        return np.fromiter(map(get, anns), dtype=np.int64, count=n)
    except (KeyError, TypeError, ValueError, OverflowError):
        for i, a in enumerate(anns):
            v = a.get(key, default)
            if type(v) not in (int, bool):
                raise _bad_ann(d, f"{key!r} must be an integer, got {v!r}" if key in a else f"no {key!r}", i) from None
        raise


def _lookup(keys: npt.NDArray[np.int64], values: npt.NDArray[np.int64], d: _Doc, what: str) -> npt.NDArray[np.int64]:
    """Positions of ``values`` in ``keys`` (unique); an unknown value is an error."""
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    if len(sk) and np.any(sk[1:] == sk[:-1]):
        dup = int(sk[1:][sk[1:] == sk[:-1]][0])
        raise FormatError(f"{what} id {dup} is used twice", path=d.path, where=f"{what}s")
    pos = np.searchsorted(sk, values)
    pos = np.minimum(pos, max(len(sk) - 1, 0))
    bad = np.flatnonzero(sk[pos] != values) if len(sk) else np.arange(len(values))
    if len(bad):
        i = int(bad[0])
        raise _bad_ann(d, f"{what}_id {int(values[i])} is not among the file's {what}s", i)
    return order[pos]


def _part(d: _Doc, schema: LabelSchema, cat_index: dict[int, int]) -> Part:
    items, numbers = _items(d)
    anns, n = d.annotations, len(d.annotations)
    ids: npt.NDArray[np.int64] | None
    crowd: npt.NDArray[np.bool_] | None
    scores: list[Any] = []
    segs: list[Any]
    if d.typed:  # every annotation has the standard keys with checked types, and maybe a score
        img, cat, ids, crowd, segs, boxes, scores = _typed_columns(anns)
        standard = True
        present = {*_STANDARD, "score"} if scores else set(_STANDARD)
    else:
        try:
            standard = sum(map(len, anns)) == len(_STANDARD) * n
            if standard:
                try:
                    img = np.fromiter(map(itemgetter("image_id"), anns), dtype=np.int64, count=n)
                    cat = np.fromiter(map(itemgetter("category_id"), anns), dtype=np.int64, count=n)
                    ids = np.fromiter(map(itemgetter("id"), anns), dtype=np.int64, count=n)
                    crowd = np.fromiter(map(itemgetter("iscrowd"), anns), dtype=bool, count=n)
                    segs = list(map(itemgetter("segmentation"), anns))
                    boxes = list(map(itemgetter("bbox"), anns))
                    # exactly the seven standard keys each (an eighth key elsewhere would need its column)
                    standard = all(map(contains, anns, repeat("area")))
                except (KeyError, TypeError, ValueError, OverflowError):
                    standard = False
            present = set(_STANDARD) if standard else set().union(*map(dict.keys, anns))
        except TypeError:
            raise _bad_ann(d, "an annotation must be a JSON object", next(i for i, a in enumerate(anns) if type(a) is not dict)) from None
    if not standard:
        img = _ints(d, "image_id", None, True)
        cat = _ints(d, "category_id", None, True)
        ids = _ints(d, "id", NO_ID, False) if "id" in present else None
        crowd = _ints(d, "iscrowd", 0, False).astype(bool) if "iscrowd" in present else None
        segs = [a.get("segmentation") for a in anns]
        boxes = [a.get("bbox") for a in anns]
    item_of = _lookup(numbers, img, d, "image")
    cat_keys = np.asarray(list(cat_index), dtype=np.int64)
    label = np.asarray(list(cat_index.values()), dtype=np.int32)[_lookup(cat_keys, cat, d, "category")] if n else np.zeros(0, np.int32)
    bbox = bboxes(boxes, lambda message, row: _bad_ann(d, message, row), checked=d.typed)
    kind = _kinds(d, segs, bbox)
    _check_masks(d, segs, kind, items, item_of)
    geometry: list[Any] = anns
    score = extra = None
    if "score" in present and d.typed and scores.count(UNSET) == 0 and scores.count(None) == 0:
        score = np.fromiter(scores, dtype=np.float64, count=n)  # msgspec checked each: a number
    elif "score" in present:
        raw = [None if s is UNSET else s for s in scores] if d.typed else [a.get("score") for a in anns]
        bad = [i for i, s in enumerate(raw) if s is not None and type(s) not in (int, float)]
        if bad:
            raise _bad_ann(d, f"score must be a number, got {raw[bad[0]]!r}", bad[0])
        score = np.asarray([np.nan if s is None else s for s in raw], dtype=np.float64)
    if "attributes" in present or "group" in present:
        extra = [_extra(d, a, i) for i, a in enumerate(anns)]
    rows = None
    if "keypoints" in present:
        rows, kind, geometry, bbox, extra = _expand_keypoints(d, kind, geometry, bbox, extra, ids)
        img, label = img[rows], label[rows]
        item_of = item_of[rows]
        ids = None if ids is None else np.where(_first_of(rows), ids[rows], NO_ID)
        crowd = None if crowd is None else crowd[rows]
        score = None if score is None else np.where(_first_of(rows), score[rows], np.nan)
    if len(item_of) and np.any(item_of[1:] < item_of[:-1]):
        order = np.argsort(item_of, kind="stable")
        item_of, label, kind, bbox = item_of[order], label[order], kind[order], bbox[order]
        ids = None if ids is None else ids[order]
        crowd = None if crowd is None else crowd[order]
        score = None if score is None else score[order]
        geometry = [geometry[i] for i in order.tolist()]
        extra = None if extra is None else [extra[i] for i in order.tolist()]
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    np.cumsum(np.bincount(item_of, minlength=len(items)), out=offsets[1:])
    try:
        table = RegionTable(labels=schema.names, label=label, kind=kind, bbox=bbox, offsets=offsets, score=score, ids=ids,
                            crowd=crowd, geometry=geometry, extra=extra, decode=decoder(d.path))
    except InvariantError as e:
        raise FormatError(str(e), path=d.path, where="annotations") from None
    return Part(items, table)


def _typed_columns(anns: list[Any]) -> tuple[Any, ...]:
    """image_id, category_id, id and iscrowd columns, segmentations, boxes and scores of typed annotations."""
    n = len(anns)
    img = np.fromiter(map(attrgetter("image_id"), anns), dtype=np.int64, count=n)
    cat = np.fromiter(map(attrgetter("category_id"), anns), dtype=np.int64, count=n)
    ids = np.fromiter(map(attrgetter("id"), anns), dtype=np.int64, count=n)
    crowd = np.fromiter(map(attrgetter("iscrowd"), anns), dtype=bool, count=n)
    scores = list(map(attrgetter("score"), anns))
    if scores.count(UNSET) == n:  # C-level identity count: no scores in the file
        scores = []
    return img, cat, ids, crowd, list(map(attrgetter("segmentation"), anns)), list(map(attrgetter("bbox"), anns)), scores


def _first_of(rows: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    first = np.ones(len(rows), dtype=bool)
    first[1:] = rows[1:] != rows[:-1]
    return first


def _kinds(d: _Doc, segs: list[Any], bbox: npt.NDArray[np.float64]) -> npt.NDArray[np.uint8]:
    """Geometry kind per annotation from its segmentation (polygons list or RLE dict), each
    segmentation checked (coco/_segments.py)."""
    n_parts = parts(segs, d.typed, lambda message, row: _bad_ann(d, message, row))
    kind = np.where(n_parts == 0, _K_BOX, np.where(n_parts == 1, _K_POLY, _K_MULTI)).astype(np.uint8)
    kind[n_parts == MASK] = _K_MASK
    no_box = (kind == _K_BOX) & np.isnan(bbox[:, 0])
    kind[no_box] = _K_TAG
    return kind


def _check_masks(d: _Doc, segs: list[Any], kind: npt.NDArray[np.uint8], items: list[Item], item_of: npt.NDArray[np.int64]) -> None:
    """Each RLE's counts (coco/_segments.py), and its size against its image's where the image has one."""
    rows = np.flatnonzero(kind == _K_MASK).tolist()
    if not rows:
        return
    sizes = rle_sizes(segs, rows, lambda message, row: _bad_ann(d, message, row))
    images = item_of[rows]
    height = np.asarray([-1 if it.height is None or it.width is None else it.height for it in items], dtype=np.int64)[images]
    width = np.asarray([-1 if it.width is None else it.width for it in items], dtype=np.int64)[images]
    wrong = np.flatnonzero((height >= 0) & ((sizes[:, 0] != height) | (sizes[:, 1] != width)))
    if len(wrong):
        j = int(wrong[0])
        it = items[int(images[j])]
        raise _bad_ann(d, f"segmentation.size {sizes[j].tolist()} is not image {it.number}'s [height, width] "
                          f"[{it.height}, {it.width}]", rows[j])


def _extra(d: _Doc, a: dict[str, Any], i: int) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    attrs = a.get("attributes")
    if attrs:
        if type(attrs) is not dict:
            raise _bad_ann(d, f"attributes must be an object, got {attrs!r}", i)
        attrs = dict(attrs)
        occ = attrs.get("occluded")
        if type(occ) is bool:
            del attrs["occluded"]
            if occ:
                out["occluded"] = True
        bad = [k for k, v in attrs.items() if type(v) not in (str, int, float, bool)]
        if bad:
            raise _bad_ann(d, f"attribute {bad[0]!r} must be a string, number or boolean, got {attrs[bad[0]]!r}", i)
        if attrs:
            out["attributes"] = attrs
    g = a.get("group")
    if g is not None:
        if type(g) is not int:
            raise _bad_ann(d, f"group must be an integer, got {g!r}", i)
        if g:
            out["group"] = g
    return out or None


def _expand_keypoints(
    d: _Doc, kind: Any, geometry: list[Any], bbox: Any, extra: list[Any] | None, ids: Any
) -> tuple[Any, Any, list[Any], Any, list[Any] | None]:
    """A keypoints annotation becomes a keypoints region, followed (same group) by its
    segmentation, or by its box when that is not the keypoints' own bounds."""
    rows: list[int] = []
    kinds: list[int] = []
    geo: list[Any] = []
    boxes: list[Any] = []
    ext: list[Any] = []
    for i, a in enumerate(d.annotations):
        e = extra[i] if extra is not None else None
        kps = a.get("keypoints")
        if not kps:
            rows.append(i)
            kinds.append(int(kind[i]))
            geo.append(geometry[i])
            boxes.append(bbox[i])
            ext.append(e)
            continue
        try:
            kp = keypoints_from(kps)
        except InvariantError as err:
            raise _bad_ann(d, str(err), i) from None
        follow: list[int] = []
        if kind[i] in (_K_POLY, _K_MULTI, _K_MASK):
            follow.append(int(kind[i]))
        elif kind[i] == _K_BOX and not np.allclose(bbox[i], _kp_box(kp), rtol=1e-12, atol=0.0):
            follow.append(_K_BOX)
        if follow:
            group = (e or {}).get("group") or (ids[i] if ids is not None and ids[i] != NO_ID else i + 1)
            e = {**(e or {}), "group": int(group)}
        rows.append(i)
        kinds.append(_K_KP)
        geo.append(kp)
        boxes.append(np.full(4, np.nan))
        ext.append(e)
        for k in follow:
            rows.append(i)
            kinds.append(k)
            geo.append(a)
            boxes.append(bbox[i])
            ext.append({"group": e["group"]} if e else None)
    extra_out = ext if any(x is not None for x in ext) else None
    return (np.asarray(rows, dtype=np.int64), np.asarray(kinds, dtype=np.uint8), geo,
            np.asarray(boxes, dtype=np.float64).reshape(len(rows), 4), extra_out)


def _kp_box(kp: Keypoints) -> tuple[float, float, float, float]:
    """The bbox a writer gives a lone keypoints annotation, as x1, y1, x2, y2."""
    from labelgate.core.geometry import bounds

    b = bounds(kp)
    return b if b is not None else (0.0, 0.0, 0.0, 0.0)


def read_files(files: Sequence[tuple[Path, str | None]]) -> Dataset:
    """Read COCO files (path, subset) into one dataset.

    The garbage collector is paused while the JSON is parsed and the columns are built (the
    objects made are acyclic, so collecting would only cost time). After a large read the
    objects made are moved out of the collector's sight with ``gc.freeze()``, as CPython
    recommends for big long-lived data, so the next collection does not walk them all.
    """
    enabled = gc.isenabled()
    gc.disable()
    made = 0
    try:
        docs = [_load(p, s) for p, s in files]
        made = sum(len(d.annotations) for d in docs)
        schema, cat_index = _schema(docs)
        parts = [_part(d, schema, cat_index) for d in docs]
        try:
            return concat(parts, schema)
        except InvariantError as e:
            raise FormatError(str(e), path=docs[0].path if len(docs) == 1 else docs[0].path.parent) from None
    finally:
        if enabled:
            if made >= _FREEZE_AT:
                gc.freeze()
            gc.enable()
