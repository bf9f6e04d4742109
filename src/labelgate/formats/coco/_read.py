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
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from labelgate.core import Annotation, Dataset, Item, LabelClass, LabelSchema, Skeleton
from labelgate.core.errors import FormatError, InvariantError
from labelgate.core.geometry import GeometryKind, Keypoints
from labelgate.core.table import NO_ID, RegionTable
from labelgate.formats._io import load_json
from labelgate.formats.coco._bulk import annotations_over, items_from
from labelgate.formats.coco._payload import decoder, keypoints_from

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


@dataclass
class _Part:
    items: list[Item]
    ann_item: list[int]  # per table annotation block: index into items
    table: RegionTable


def _load(path: Path, subset: str | None) -> _Doc:
    doc = load_json(path)
    if not isinstance(doc, dict):
        raise FormatError("a COCO file must hold a JSON object with images, annotations and categories", path=path)
    out = []
    for key in ("images", "annotations", "categories"):
        v = doc.get(key, [])
        if not isinstance(v, list) or not all(type(x) is dict for x in v[:1]):
            raise FormatError(f"{key!r} must be a list of objects", path=path, where=key)
        out.append(v)
    return _Doc(path, subset, *out)


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

    if not all(type(im) is dict for im in d.images):
        i = next(i for i, im in enumerate(d.images) if type(im) is not dict)
        raise FormatError("an image must be a JSON object", path=d.path, where=f"images[{i}]")
    items = items_from(d.images, d.subset, slow)
    return items, np.asarray([it.number for it in items], dtype=np.int64)


def _bad_ann(d: _Doc, message: str, row: int) -> FormatError:
    a = d.annotations[row]
    aid = a.get("id") if isinstance(a, dict) else None
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


def _bboxes(d: _Doc, boxes: list[Any]) -> npt.NDArray[np.float64]:
    """x1, y1, x2, y2 per annotation (NaN where there is no bbox)."""
    n = len(boxes)
    try:
        fast = set(map(len, boxes)) <= {4}
    except TypeError:  # a missing bbox (None) or a number: checked one by one below
        fast = False
    if fast:
        try:
            out = np.fromiter(chain.from_iterable(boxes), dtype=np.float64, count=4 * n).reshape(n, 4)
        except (TypeError, ValueError):
            pass
        else:
            if not np.isnan(out).any():
                return _corners(d, out)
    out = np.full((n, 4), np.nan)
    for i, b in enumerate(boxes):
        if b is None:
            continue
        if not (isinstance(b, list) and len(b) == 4 and all(type(v) in (int, float) for v in b)):
            raise _bad_ann(d, f"bbox must be 4 numbers [x, y, width, height], got {b!r}", i)
        out[i] = b
    return _corners(d, out)


def _corners(d: _Doc, xywh: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    if np.any(xywh[:, 2:] < 0):
        raise _bad_ann(d, "bbox width and height must not be negative", int(np.flatnonzero((xywh[:, 2:] < 0).any(axis=1))[0]))
    xywh[:, 2:] = _far_corner(xywh[:, :2], xywh[:, 2:])
    return xywh


def _far_corner(x1: npt.NDArray[np.float64], w: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The x2 whose float64 difference ``x2 - x1`` is ``w``: the inverse of how writers (ours
    included) compute COCO widths.

    That is ``x1 + w`` rounded to nearest, except where the exact sum lies halfway between two
    floats: rounding to even then picks one of them, while the writer may have had the other
    (0.002 + (0.018 - 0.002) == 0.018000000000000002). Halfway sums are found with an exact
    two-sum; of the two neighbours, the one whose difference gives back ``w`` wins, and if both
    do, the one with the shorter decimal form, as a person or tool writing coordinates meant."""
    s = x1 + w
    with np.errstate(invalid="ignore"):
        bp = s - x1
        err = (x1 - (s - bp)) + (w - bp)  # s + err == x1 + w exactly (Knuth's two-sum)
        tie = (np.abs(err) * 2 == np.spacing(np.abs(s))) & (err != 0)
        if not tie.any():
            return s
        other = np.nextafter(s[tie], np.copysign(np.inf, err[tie]))
        a, b = x1[tie], w[tie]
        s_ok, o_ok = (s[tie] - a) == b, (other - a) == b
        pick = np.where(o_ok & ~s_ok, other, s[tie])
        both = np.flatnonzero(s_ok & o_ok)
        if len(both):
            pick[both] = _shorter(pick[both], other[both])
        s[tie] = pick
    return s


def _shorter(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Per pair of neighbouring floats, the one that is a decimal with fewer digits after the
    point (``a`` when neither or both are). ``rint(v * 10**k) / 10**k`` is the float nearest a
    k-decimal number, so ``v`` has at most k decimals exactly when it comes back unchanged."""
    out = a.copy()
    open_ = np.ones(len(a), dtype=bool)
    for k in range(18):
        scale = 10.0**k
        a_k = np.rint(a * scale) / scale == a
        b_k = np.rint(b * scale) / scale == b
        take = open_ & b_k & ~a_k
        out[take] = b[take]
        open_ &= ~(a_k | b_k)
        if not open_.any():
            break
    return out


def _part(d: _Doc, schema: LabelSchema, cat_index: dict[int, int]) -> _Part:
    items, numbers = _items(d)
    anns, n = d.annotations, len(d.annotations)
    ids: npt.NDArray[np.int64] | None
    crowd: npt.NDArray[np.bool_] | None
    try:
        standard = sum(map(len, anns)) == len(_STANDARD) * n
        if standard:
            try:
                img = np.fromiter(map(itemgetter("image_id"), anns), dtype=np.int64, count=n)
                cat = np.fromiter(map(itemgetter("category_id"), anns), dtype=np.int64, count=n)
                ids = np.fromiter(map(itemgetter("id"), anns), dtype=np.int64, count=n)
                crowd = np.fromiter(map(itemgetter("iscrowd"), anns), dtype=bool, count=n)
                segs: Any = map(itemgetter("segmentation"), anns)
                boxes = list(map(itemgetter("bbox"), anns))
            except (KeyError, TypeError, ValueError, OverflowError):
                standard = False
        present: set[str] = set(_STANDARD) if standard else set().union(*map(dict.keys, anns))
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
    bbox = _bboxes(d, boxes)
    kind = _kinds(d, segs, bbox)
    geometry: list[Any] = anns
    score = extra = None
    if "score" in present:
        raw = [a.get("score") for a in anns]
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
    return _Part(items, list(range(len(items))), table)


def _first_of(rows: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    first = np.ones(len(rows), dtype=bool)
    first[1:] = rows[1:] != rows[:-1]
    return first


def _kinds(d: _Doc, segs: Any, bbox: npt.NDArray[np.float64]) -> npt.NDArray[np.uint8]:
    """Geometry kind per annotation from its segmentation (an iterable, consumed once)."""
    n = len(d.annotations)
    try:
        lens = np.fromiter(map(len, segs), dtype=np.int64, count=n)
    except TypeError:
        raw = [a.get("segmentation") for a in d.annotations]
        lens = np.asarray([0 if s is None else len(s) if isinstance(s, (list, dict)) else -1 for s in raw], dtype=np.int64)
        if np.any(lens < 0):
            i = int(np.flatnonzero(lens < 0)[0])
            raise _bad_ann(d, f"segmentation must be a list of polygons or an RLE dict, got {raw[i]!r}", i) from None
    kind = np.where(lens == 0, _K_BOX, np.where(lens == 1, _K_POLY, _K_MULTI)).astype(np.uint8)
    anns = d.annotations
    for i in np.flatnonzero(lens == 2).tolist():
        if type(anns[i].get("segmentation")) is dict:
            kind[i] = _K_MASK
    no_box = (kind == _K_BOX) & np.isnan(bbox[:, 0])
    kind[no_box] = _K_TAG
    return kind


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


def _concat(parts: Sequence[_Part], schema: LabelSchema) -> Dataset:
    """Merge per-file parts into one dataset backed by one table. Items repeated across files
    (instances and keypoints of the same images) are kept once; files' items are ordered by image
    id when there are several files."""
    if len(parts) == 1:
        part = parts[0]
        return Dataset(part.items, annotations_over(part.items, part.table), schema)
    items: dict[str, Item] = {}
    blocks: list[tuple[int, int, int, int]] = []  # (image id, part, annotation, sequence)
    for p, part in enumerate(parts):
        for a, it in enumerate(part.items):
            prev = items.setdefault(it.id, it)
            if (prev.subset, prev.number) != (it.subset, it.number):
                raise InvariantError(f"image {it.media!r} appears in two files with different subsets or image ids "
                                     f"({prev.subset}/{prev.number} and {it.subset}/{it.number}); read the files separately")
            blocks.append((it.number if it.number is not None else 0, p, a, len(blocks)))
    blocks.sort(key=lambda b: (b[0], b[3]))
    items = {it.id: it for it in sorted(items.values(), key=lambda it: it.number if it.number is not None else 0)}
    tables = [pt.table for pt in parts]
    base = np.cumsum([0] + [len(t) for t in tables])
    rows = np.concatenate([np.arange(tables[p].offsets[a], tables[p].offsets[a + 1]) + base[p] for _, p, a, _ in blocks]
                          or [np.zeros(0, np.int64)]).astype(np.int64)
    counts = [int(tables[p].offsets[a + 1] - tables[p].offsets[a]) for _, p, a, _ in blocks]
    t = _stack(tables, rows, counts, schema)
    anns = [Annotation.from_table(parts[p].items[a].id, t, t.rows_of(i)) for i, (_, p, a, _) in enumerate(blocks)]
    return Dataset(items.values(), anns, schema)


def _stack(tables: Sequence[RegionTable], rows: Any, counts: list[int], schema: LabelSchema) -> RegionTable:
    def col(name: str, fill: Any) -> Any:
        cols = [getattr(t, name) for t in tables]
        if all(c is None for c in cols):
            return None
        return np.concatenate([c if c is not None else np.full(len(t), fill) for c, t in zip(cols, tables, strict=True)])[rows]

    def lst(name: str) -> list[Any] | None:
        cols = [getattr(t, name) for t in tables]
        if all(c is None for c in cols):
            return None
        flat = list(chain.from_iterable(c if c is not None else [None] * len(t) for c, t in zip(cols, tables, strict=True)))
        return [flat[i] for i in rows.tolist()]

    decoders = [t.decode for t in tables]

    def decode(payload: Any) -> Any:
        # every file's decoder behaves the same but names its own file; use the first that works
        return decoders[0](payload) if decoders[0] is not None else payload

    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return RegionTable(labels=schema.names, label=np.concatenate([t.label for t in tables])[rows],
                       kind=np.concatenate([t.kind for t in tables])[rows], bbox=np.concatenate([t.bbox for t in tables])[rows],
                       offsets=offsets, score=col("score", np.nan), ids=col("ids", NO_ID), crowd=col("crowd", False),
                       geometry=lst("geometry"), extra=lst("extra"), decode=decode)


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
            return _concat(parts, schema)
        except InvariantError as e:
            raise FormatError(str(e), path=docs[0].path if len(docs) == 1 else docs[0].path.parent) from None
    finally:
        if enabled:
            if made >= _FREEZE_AT:
                gc.freeze()
            gc.enable()
