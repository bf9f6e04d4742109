"""One Label Studio result <-> one region.

Image results use percentages of ``original_width``/``original_height``; rectangles rotate
about their top-left corner (Label Studio's convention), so a :class:`RotatedBox` is written
as that corner, its size and its angle. Text spans use offsets in UTF-16 code units, as the
browser counts them; the model counts code points, so offsets are converted both ways.
"""

from __future__ import annotations

import math
import re
from typing import Any

from labelgate.core import (
    Box,
    Classification,
    Geometry,
    Keypoints,
    Mask,
    Polygon,
    Region,
    RotatedBox,
    TextSpan,
)
from labelgate.formats.label_studio._brush import decode_brush, encode_brush

__all__ = ["FROM_NAMES", "LABEL_KEYS", "region_from_result", "result_of", "utf16_to_index"]

_INT = re.compile(r"-?[0-9]+")

# result type -> the key of its label list inside ``value``
LABEL_KEYS = {
    "rectanglelabels": "rectanglelabels",
    "polygonlabels": "polygonlabels",
    "brushlabels": "brushlabels",
    "keypointlabels": "keypointlabels",
    "labels": "labels",
    "choices": "choices",
}
FROM_NAMES = {
    "rectanglelabels": "bbox",
    "polygonlabels": "polygon",
    "brushlabels": "brush",
    "keypointlabels": "keypoint",
    "labels": "label",
    "choices": "choice",
}


def _utf16_offsets(text: str) -> list[int]:
    """``out[i]``: UTF-16 offset of code point ``i`` (``len(text) + 1`` entries)."""
    out = [0]
    for ch in text:
        out.append(out[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return out


def utf16_to_index(text: str, offset: int) -> int:
    """Code point index of UTF-16 ``offset``; ValueError if it splits a character or overruns."""
    table = _utf16_offsets(text)
    lo, hi = 0, len(table) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if table[mid] == offset:
            return mid
        if table[mid] < offset:
            lo = mid + 1
        else:
            hi = mid - 1
    raise ValueError(f"offset {offset} is not on a character boundary of the {table[-1]}-unit text")


def result_of(r: Region, geometry: Geometry, size: tuple[int, int] | None, text: str | None,
              to_name: str) -> dict[str, Any]:
    """The result for ``r`` (with ``geometry``, maybe changed by the writer). ``size`` is
    ``(width, height)`` of the image; the caller checks it is known for spatial geometry."""
    value: dict[str, Any]
    g = geometry
    if isinstance(g, TextSpan):
        assert text is not None
        u = _utf16_offsets(text)
        kind = "labels"
        value = {"start": u[g.start], "end": u[g.end], "text": text[g.start : g.end]}
    elif isinstance(g, Classification):
        kind = "choices"
        value = {}
    else:
        assert size is not None
        w, h = size
        if isinstance(g, Box):
            kind = "rectanglelabels"
            value = {"x": g.x1 / w * 100, "y": g.y1 / h * 100, "width": g.width / w * 100,
                     "height": g.height / h * 100, "rotation": 0}
        elif isinstance(g, RotatedBox):
            kind = "rectanglelabels"
            x0, y0 = g.corners()[0]
            value = {"x": x0 / w * 100, "y": y0 / h * 100, "width": g.width / w * 100,
                     "height": g.height / h * 100, "rotation": g.angle}
        elif isinstance(g, Polygon):
            kind = "polygonlabels"
            p = g.points
            value = {"points": [[p[i] / w * 100, p[i + 1] / h * 100] for i in range(0, len(p), 2)], "closed": True}
        elif isinstance(g, Keypoints):
            kind = "keypointlabels"
            value = {"x": g.points[0] / w * 100, "y": g.points[1] / h * 100}
        elif isinstance(g, Mask):
            kind = "brushlabels"
            value = {"format": "rle", "rle": encode_brush(g)}
        else:
            raise TypeError(f"Label Studio cannot hold {type(g).__name__}")
    value[LABEL_KEYS[kind]] = [r.label]
    out: dict[str, Any] = {"type": kind, "from_name": FROM_NAMES[kind], "to_name": to_name, "value": value}
    if kind not in ("labels", "choices"):
        assert size is not None
        out["original_width"], out["original_height"] = size
        out["image_rotation"] = 0
    if r.score is not None:
        out["score"] = r.score
    return out


def _num(value: dict[str, Any], key: str) -> float:
    v = value.get(key)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise ValueError(f"value.{key} must be a number, got {v!r}")
    return float(v)


def _size(result: dict[str, Any]) -> tuple[int, int]:
    w, h = result.get("original_width"), result.get("original_height")
    if not (isinstance(w, int) and isinstance(h, int) and w > 0 and h > 0):
        raise ValueError(f"needs positive integer original_width and original_height, got {w!r} x {h!r}")
    return w, h


def geometry_from_result(result: dict[str, Any], text: str | None) -> Geometry:
    kind = result.get("type")
    value = result.get("value")
    if not isinstance(value, dict):
        raise ValueError("result has no 'value' object")
    if kind == "choices":
        return Classification()
    if kind == "labels":
        if text is None:
            raise ValueError("a 'labels' span needs a text task")
        start, end = value.get("start"), value.get("end")
        if not (isinstance(start, int) and isinstance(end, int)):
            raise ValueError(f"span start/end must be integers, got {start!r}, {end!r}")
        return TextSpan(utf16_to_index(text, start), utf16_to_index(text, end))
    w, h = _size(result)
    if kind == "rectanglelabels":
        x, y = _num(value, "x") * w / 100, _num(value, "y") * h / 100
        bw, bh = _num(value, "width") * w / 100, _num(value, "height") * h / 100
        angle = float(value.get("rotation") or 0)
        if angle == 0:
            return Box(x, y, x + bw, y + bh)
        a = math.radians(angle)
        c, s = math.cos(a), math.sin(a)
        cx = x + (bw / 2) * c - (bh / 2) * s
        cy = y + (bw / 2) * s + (bh / 2) * c
        return RotatedBox(cx, cy, bw, bh, angle)
    if kind == "polygonlabels":
        pts = value.get("points")
        if not isinstance(pts, list):
            raise ValueError("value.points must be a list of [x, y] percentages")
        flat: list[float] = []
        for p in pts:
            if not (isinstance(p, list) and len(p) == 2):
                raise ValueError(f"polygon point {p!r} is not [x, y]")
            flat += [_num({"x": p[0]}, "x") * w / 100, _num({"y": p[1]}, "y") * h / 100]
        return Polygon(tuple(flat))
    if kind == "keypointlabels":
        return Keypoints((_num(value, "x") * w / 100, _num(value, "y") * h / 100), (2,))
    if kind == "brushlabels":
        if value.get("format", "rle") != "rle" or "rle" not in value:
            raise ValueError("brush value must have format 'rle' and an 'rle' list")
        return decode_brush(value["rle"], w, h)
    raise ValueError(f"unsupported result type {kind!r}")


def labels_of(result: dict[str, Any]) -> list[str]:
    kind = result.get("type")
    value = result.get("value") or {}
    key = LABEL_KEYS.get(str(kind))
    labels = value.get(key) if key else None
    if labels is None:
        return []
    if not isinstance(labels, list) or not all(isinstance(x, str) and x for x in labels):
        raise ValueError(f"value.{key} must be a list of label names, got {labels!r}")
    return labels


def region_from_result(result: dict[str, Any], text: str | None) -> list[Region]:
    """One region per label of ``result`` (Label Studio allows several labels on one shape)."""
    geometry = geometry_from_result(result, text)
    rid = result.get("id")
    # Label Studio ids are strings; numeric ones are the model's region ids, others (random
    # ids made by the browser) have no place in the model
    region_id = int(rid) if isinstance(rid, str) and _INT.fullmatch(rid) else None
    score = result.get("score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, (int, float))):
        raise ValueError(f"score must be a number, got {score!r}")
    return [Region(geometry, label, id=region_id, score=None if score is None else float(score))
            for label in labels_of(result)]
