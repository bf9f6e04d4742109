"""COCO segmentations checked when a file is read, so that a bad one is refused there, naming the
annotation and the field, and never reaches a conversion, an export or the database.

A polygon is a flat list of an even number, at least 6, of finite numbers; a segmentation is a
list of polygons or an RLE dict (``size`` [height, width] and ``counts``, a list of run lengths
or pycocotools' compressed string, summing to height x width).

The checks run over whole columns: the typed reader's polygons are still JSON text
(:class:`msgspec.Raw`), so one ``bytes.translate`` deletes every number and what is left, brackets
and commas, says how many numbers each polygon holds; the general reader's polygons are counted
with C-level ``map``. Only when a column fails (or holds RLE dicts, always few) does a per
annotation check run, to say which annotation is wrong and how.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from itertools import chain, compress, repeat
from operator import attrgetter
from typing import Annotated, Any

import msgspec
import numpy as np
import numpy.typing as npt
import orjson

from labelgate.core.errors import FormatError
from labelgate.formats.coco._rle_string import decode_strings

__all__ = ["MASK", "parts", "rle_sizes"]

Bad = Callable[[str, int], FormatError]
MASK = -1
"""``parts`` of an annotation whose segmentation is an RLE dict."""

I64 = npt.NDArray[np.int64]
_NUMBER_TEXT = b"0123456789+-.eE \t\r\n"
_OPEN, _CLOSE, _COMMA, _BRACE, _NULL = (ord(c) for c in "[],{n")
_EXPONENT = np.frombuffer(b"eE", dtype=np.uint8)
_FLOAT_DIGITS = 309  # an integer part this long may exceed the largest float (1.8e308): infinity to a JSON parser
_BLOCK = (_FLOAT_DIGITS + 1) // 2  # text cut in blocks this long: a run of _FLOAT_DIGITS digits covers a whole one
_ZERO, _NINE = np.uint8(ord("0")), np.uint8(ord("9"))
_EMPTY = np.zeros(0, dtype=np.int64)
_NOT_A_SEGMENTATION = -2
_CHUNK = 1 << 12  # a chunk's joined text (~200 kB) stays in the CPU's cache through every pass


def parts(segs: list[Any], typed: bool, bad: Bad) -> I64:
    """Per annotation, its number of polygons (0: no segmentation, None or []) or :data:`MASK`;
    a malformed segmentation raises ``bad(message, row)``. ``typed``: each segmentation is JSON
    text (:class:`msgspec.Raw`, coco/_typed.py); otherwise parsed JSON."""
    if not typed:
        return _parsed_parts(segs, bad)
    out = np.zeros(len(segs), dtype=np.int64)
    for lo in range(0, len(segs), _CHUNK):  # the joined text of a chunk at a time: little memory on top
        out[lo : lo + _CHUNK] = _typed_parts(segs[lo : lo + _CHUNK], _shifted(bad, lo))
    return out


def _shifted(bad: Bad, lo: int) -> Bad:
    return lambda message, row: bad(message, lo + row)


def _parsed_parts(segs: list[Any], bad: Bad) -> I64:
    n = len(segs)
    try:
        out = np.fromiter(map(len, segs), dtype=np.int64, count=n)
        types = set(map(type, segs))
    except TypeError:  # None, a number
        types = {object}
    if not types <= {list, dict}:
        out = np.asarray([_parts_of(s) for s in segs], dtype=np.int64)
        if np.any(out == _NOT_A_SEGMENTATION):
            i = int(np.flatnonzero(out == _NOT_A_SEGMENTATION)[0])
            raise bad(_not_a_segmentation(segs[i]), i)
    elif dict in types:
        for i in range(n):
            if type(segs[i]) is dict:
                out[i] = MASK
    polygons = out > 0
    if polygons.any() and not _polygons_ok(segs if types == {list} else list(compress(segs, polygons.tolist()))):
        _first_problem(segs, np.flatnonzero(polygons).tolist(), bad, parsed=True)
    return out


def _parts_of(seg: Any) -> int:
    if seg is None:
        return 0
    if type(seg) is dict:
        return MASK
    if type(seg) is list:
        return len(seg)
    return _NOT_A_SEGMENTATION


def _polygons_ok(lists: list[Any]) -> bool:
    """Whether every polygon of parsed JSON is a list of an even number >= 6 of ints and floats
    (orjson parses no NaN or infinity)."""
    polygons = list(chain.from_iterable(lists))
    if not set(map(type, polygons)) <= {list}:
        return False
    lens = np.fromiter(map(len, polygons), dtype=np.int64, count=len(polygons))
    if not bool(np.all((lens >= 6) & (lens % 2 == 0))):
        return False
    return set(map(type, chain.from_iterable(polygons))) <= {int, float}


def _typed_parts(raws: list[Any], bad: Bad) -> I64:
    """:func:`parts` of segmentations as JSON text, joined by NUL bytes (which JSON text cannot
    hold). Deleting every number character leaves, per list, ``[``, its polygons (each ``[``
    k commas ``]``) with commas between them, and ``]``; the parser checked the syntax, so k
    commas separate k + 1 numbers. Lists whose text says anything else, or that may hold a number
    too large for a float (:func:`_may_overflow`), get the per annotation check."""
    n = len(raws)
    out = np.zeros(n, dtype=np.int64)
    if not n:
        return out
    lens = np.fromiter(map(len, raws), dtype=np.int64, count=n)
    starts = np.zeros(n, dtype=np.int64)
    np.cumsum(lens[:-1] + 1, out=starts[1:])
    blob = b"\0".join(raws)
    first = np.frombuffer(blob, dtype=np.uint8)[starts]
    is_list = first == _OPEN
    out[first == _BRACE] = MASK
    other = np.flatnonzero(~is_list & (first != _BRACE) & (first != _NULL))
    if len(other):
        _first_problem(raws, other.tolist(), bad, parsed=False)
    rows = np.flatnonzero(is_list)
    if not len(rows):
        return out
    if len(rows) < n:
        blob = b"\0".join(compress(raws, is_list.tolist()))
        lens = lens[rows]
    polys, suspects = _bracket_counts(blob, lens)
    if polys is None:  # something other than numbers and lists: look at each
        _first_problem(raws, rows.tolist(), bad, parsed=False)
        polys = np.fromiter((len(orjson.loads(memoryview(raws[i]))) for i in rows.tolist()), dtype=np.int64, count=len(rows))
    elif len(suspects):
        _first_problem(raws, rows[suspects].tolist(), bad, parsed=False)
        polys[suspects] = [len(orjson.loads(memoryview(raws[i]))) for i in rows[suspects].tolist()]
    out[rows] = polys
    return out


def _bracket_counts(blob: bytes, lens: I64) -> tuple[I64 | None, I64]:
    """Polygons per list of ``blob`` (NUL-joined JSON lists of ``lens`` bytes) and the lists the
    per annotation check must look at; None when the text holds more than numbers and lists."""
    rest = blob.translate(None, _NUMBER_TEXT)
    if rest.translate(None, b"\0,[]"):  # strings, literals, objects
        return None, _EMPTY
    q = np.frombuffer(rest, dtype=np.uint8)
    marks = np.flatnonzero(q != _COMMA)  # brackets and the NULs between lists, in order
    b = q[marks]
    is_sep = b == 0
    inner = b == _OPEN
    inner[:1] = False  # each list's own "[" is the first mark or follows a NUL
    inner[1:] &= ~is_sep[:-1]
    opens = np.flatnonzero(inner)
    if len(opens) and not np.all(b[opens + 1] == _CLOSE):  # a list inside a polygon
        return None, _EMPTY
    m = len(lens)
    list_of_mark = np.cumsum(is_sep)  # for a bracket, its list's index
    k = marks[opens + 1] - marks[opens] - 1  # commas in each polygon
    of_polygon = list_of_mark[opens]
    polys = np.bincount(of_polygon, minlength=m)
    seps = marks[is_sep]
    chars = np.diff(np.concatenate(([-1], seps, [len(rest)]))) - 1
    commas = chars - np.bincount(list_of_mark[~is_sep], minlength=m)
    inner_commas = np.bincount(of_polygon, weights=k, minlength=m).astype(np.int64)
    outer_commas = commas - inner_commas
    suspect = np.zeros(m, dtype=bool)
    suspect[of_polygon[(k < 5) | (k % 2 == 0)]] = True
    suspect |= outer_commas != np.maximum(polys - 1, 0)
    suspect |= (polys == 0) & (lens != 2)  # "[5]" leaves "[]" too
    # a literal of _FLOAT_DIGITS digits needs that many characters of number text besides one per other number
    room = (lens - chars) - (inner_commas + polys) >= _FLOAT_DIGITS - 1
    hits = _may_overflow(blob, bool(room.any()))
    if len(hits):
        suspect[np.searchsorted(np.cumsum(lens + 1), hits, side="right")] = True
    return polys.astype(np.int64), np.flatnonzero(suspect)


def _may_overflow(blob: bytes, long_numbers: bool) -> I64:
    """Offsets in ``blob`` of what may make a number too large for a float, infinity to every JSON
    parser: an exponent, or (when ``long_numbers``: some list has room for one) a run of
    :data:`_FLOAT_DIGITS` digits, found as a :data:`_BLOCK` of the text that is all digits. A run
    half as long, or a long fraction, is finite but rare: it costs its list a look."""
    text = np.frombuffer(blob, dtype=np.uint8)
    hits = np.flatnonzero(np.isin(text, _EXPONENT)) if b"e" in blob or b"E" in blob else _EMPTY
    if long_numbers:
        m = len(text) // _BLOCK
        blocks = text[: m * _BLOCK].reshape(m, _BLOCK)
        no_low = np.flatnonzero(blocks.min(axis=1) >= _ZERO)  # number text is rarely without , . - or space
        all_digits = no_low[blocks[no_low].max(axis=1) <= _NINE]
        hits = np.concatenate((hits, all_digits * _BLOCK))
    return hits


def _first_problem(segs: list[Any], rows: list[int], bad: Bad, parsed: bool) -> None:
    """Raise for the first of ``rows`` whose segmentation is malformed."""
    for i in rows:
        problem = _problem(segs[i]) if parsed else _raw_problem(segs[i])
        if problem:
            raise bad(problem, i)


def _raw_problem(raw: Any) -> str:
    try:
        seg = orjson.loads(memoryview(raw))
    except orjson.JSONDecodeError as e:
        return f"segmentation: {e.msg}"
    if seg is None or type(seg) is dict:
        return ""
    return _problem(seg)


def _problem(seg: Any) -> str:
    """What is wrong with a segmentation that is not an RLE dict ('' when nothing)."""
    if type(seg) is not list:
        return _not_a_segmentation(seg)
    for j, p in enumerate(seg):
        if type(p) is not list:
            return f"segmentation[{j}] must be a list of x, y coordinates, got {_short(p)}"
        for v in p:
            if type(v) not in (int, float) or not math.isfinite(v):
                return f"segmentation[{j}]: coordinate {_short(v)} is not a finite number"
        if len(p) % 2:
            return f"segmentation[{j}] has {len(p)} coordinates, an odd count; expected x, y pairs"
        if len(p) < 6:
            return f"segmentation[{j}] has {len(p)} coordinates; a polygon needs at least 6 (3 x, y points)"
    return ""


def _not_a_segmentation(seg: Any) -> str:
    return f"segmentation must be a list of polygons or an RLE dict, got {_short(seg)}"


_MAX = 1 << 31  # a side: far above any image, and height x width stays within int64
_Run = Annotated[int, msgspec.Meta(ge=0, lt=_MAX * _MAX)]  # a run can cover an image
_Side = Annotated[int, msgspec.Meta(ge=0, lt=_MAX)]


class _Rle(msgspec.Struct):
    """A valid RLE's types (other keys are let be); its total is checked apart."""

    size: tuple[_Side, _Side]
    counts: list[_Run] | str


def rle_sizes(segs: list[Any], rows: list[int], bad: Bad) -> I64:
    """[height, width] of each RLE dict ``segs[rows[j]]`` (an m x 2 array; JSON text on the
    typed path), after checking each one: its size, and counts that are run lengths (integers
    >= 0) summing to height x width."""
    rles = []
    for i in rows:
        seg = segs[i]
        if type(seg) is not dict:  # JSON text: parsed as the general path's parser parses the whole file
            try:
                seg = orjson.loads(memoryview(seg))
            except orjson.JSONDecodeError as e:  # a number too large for a float, in any of its keys
                raise bad(f"segmentation: {e.msg}", i) from None
        try:
            rles.append(msgspec.convert(seg, _Rle))
        except msgspec.ValidationError as e:
            raise bad(_rle_problem(seg, e), i) from None
    sizes = np.fromiter(chain.from_iterable(map(attrgetter("size"), rles)), dtype=np.int64, count=2 * len(rles)).reshape(-1, 2)
    counts = list(map(attrgetter("counts"), rles))
    is_string = np.fromiter(map(isinstance, counts, repeat(str)), dtype=bool, count=len(counts))
    totals: list[int] = list(map(sum, (c if type(c) is list else () for c in counts)))  # Python ints: no overflow
    strings = np.flatnonzero(is_string).tolist()
    if strings:
        decoded = decode_strings([counts[j] for j in strings])
        for s, j in enumerate(strings):
            if decoded.problem[s]:
                raise bad(f"segmentation.counts: {decoded.problem[s]}", rows[j])
        for j, total in zip(strings, decoded.totals().tolist(), strict=True):
            totals[j] = total
    for j, (total, (h, w)) in enumerate(zip(totals, sizes.tolist(), strict=True)):
        if total != h * w:
            raise bad(f"segmentation.counts: run lengths sum to {total}, expected height x width = {h} x {w} = {h * w}", rows[j])
    return sizes


def _rle_problem(rle: dict[str, Any], e: msgspec.ValidationError) -> str:
    """What is wrong with an RLE dict msgspec refused."""
    size, counts = rle.get("size"), rle.get("counts")
    if "size" not in rle:
        return "segmentation (an RLE dict) has no 'size'"
    if not (type(size) is list and len(size) == 2 and all(type(v) is int and 0 <= v < _MAX for v in size)):
        return f"segmentation.size must be [height, width], two integers from 0 to 2**31 - 1, got {_short(size)}"
    if "counts" not in rle:
        return "segmentation (an RLE dict) has no 'counts'"
    if type(counts) is list:
        v = next((v for v in counts if type(v) is not int or not 0 <= v < _MAX * _MAX), None)
        what = "not an integer" if type(v) is not int else "negative" if v < 0 else "too large for any image"
        return f"segmentation.counts: run length {_short(v)} is {what}"
    return f"segmentation.counts must be a list of run lengths or a compressed RLE string, got {_short(counts)} ({e})"


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 60 else s[:57] + "..."
