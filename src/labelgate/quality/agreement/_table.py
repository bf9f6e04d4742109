"""The ratings table every agreement coefficient reads: integer category codes, units x raters.

Accepted inputs (see :func:`rating_table`):

- wide form: a list of lists, a 2-D numpy array (numeric with NaN, or object with None/NaN) or a
  pandas DataFrame; rows are units, columns raters, a missing rating is None, NaN, pandas NA or "";
- long form: records ``(unit, rater, label)`` (tuples or mappings with those keys; ``annotator`` may
  stand for ``rater``) or a DataFrame with columns ``unit``, ``rater`` (or ``annotator``), ``label``;
- a :class:`RatingTable` (returned unchanged) or :meth:`RatingTable.from_counts` for a units x
  categories count table (Fleiss 1971 layout) when the raters are not known.

Category order: the declared ``categories`` when given (ratings outside them are an error);
otherwise the sorted distinct values when they sort (numbers, or strings), else first appearance.
Units nobody rated and raters who rated nothing are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from labelgate.core.errors import QualityError

__all__ = ["RatingTable", "rating_table"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
MISSING = -1


def _is_missing(value: object) -> bool:
    if value is None or type(value).__name__ in ("NAType", "NaTType"):  # pandas' NA and NaT, without importing pandas
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return bool(isinstance(value, str) and value == "")


PAIRWISE_MAX_RATERS = 8  # up to this many raters, per-unit sums come from rater pairs, not the n x q matrix


@dataclass(frozen=True, eq=False)
class RatingTable:
    """Category codes (``-1`` = missing) for units x raters, with the category list they index.

    ``codes`` is None when the table was built from a count table (no rater identities). The
    units x categories count matrix is built on first use; with few raters the coefficients get
    their per-unit sums from rater pairs instead (:meth:`pair_agreement`), which is faster.
    """

    categories: tuple[Any, ...]
    codes: IntArray | None = None
    units: tuple[Any, ...] | None = None
    raters: tuple[Any, ...] | None = None
    given_counts: IntArray | None = field(default=None, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def counts(self) -> IntArray:
        """units x categories: how many raters chose each category for each unit."""
        if self.given_counts is not None:
            return self.given_counts
        if "counts" not in self._cache:
            assert self.codes is not None
            self._cache["counts"] = _count_matrix(self.codes, self.q)
        counts: IntArray = self._cache["counts"]
        return counts

    @property
    def n_units(self) -> int:
        return int(self.codes.shape[0] if self.codes is not None else self.counts.shape[0])

    @property
    def n_raters(self) -> int | None:
        return None if self.codes is None else int(self.codes.shape[1])

    @property
    def q(self) -> int:
        return len(self.categories)

    @property
    def per_unit(self) -> IntArray:
        """Number of ratings of each unit."""
        if "per_unit" not in self._cache:
            if self._pairwise:
                assert self.codes is not None
                self._cache["per_unit"] = np.count_nonzero(self.codes >= 0, axis=1).astype(np.int64)
            else:
                self._cache["per_unit"] = self.counts.sum(axis=1)
        per_unit: IntArray = self._cache["per_unit"]
        return per_unit

    @property
    def _pairwise(self) -> bool:
        return self.codes is not None and self.codes.shape[1] <= PAIRWISE_MAX_RATERS

    def _codes_q(self) -> IntArray:
        """Codes with missing mapped to ``q`` (an extra, zero-weight slot for gathers)."""
        if "codes_q" not in self._cache:
            assert self.codes is not None
            fresh = self.codes.copy(order="K")  # keeps the column-major layout (np.where would not)
            fresh[fresh < 0] = self.q
            self._cache["codes_q"] = fresh
        codes_q: IntArray = self._cache["codes_q"]
        return codes_q

    def pair_agreement(self, w: FloatArray) -> FloatArray:
        """Per unit, sum over ordered pairs of distinct ratings of w[c, c'] (= sum_k C_ik((CW^T)_ik - 1))."""
        if not self._pairwise:
            c = self.counts.astype(np.float64)
            cw = c if _is_identity(w) else c @ w.T
            out: FloatArray = (c * (cw - 1.0)).sum(axis=1)
            return out
        assert self.codes is not None
        codes, r = self.codes, self.codes.shape[1]
        total = np.zeros(codes.shape[0], dtype=np.float64)
        if _is_identity(w):
            for j in range(r):
                cj = codes[:, j]
                for k in range(j + 1, r):
                    total += (cj == codes[:, k]) & (cj >= 0)
            return 2.0 * total
        q = self.q
        sym = np.zeros((q + 1, q + 1))
        sym[:q, :q] = w + w.T
        codes_q = self._codes_q()
        for j in range(r):
            for k in range(j + 1, r):
                total += sym[codes_q[:, j], codes_q[:, k]]
        return total

    def unit_sums(self, vec: FloatArray) -> FloatArray:
        """Per unit, sum_k C_ik vec_k."""
        if not self._pairwise:
            out: FloatArray = self.counts @ vec
            return out
        ext = np.append(np.asarray(vec, dtype=np.float64), 0.0)
        codes_q = self._codes_q()
        total = np.zeros(codes_q.shape[0], dtype=np.float64)
        for j in range(codes_q.shape[1]):
            total += ext[codes_q[:, j]]
        return total

    def category_totals(self, unit_weights: FloatArray | None = None) -> FloatArray:
        """Per category, sum_i u_i C_ik (u = 1 when no weights)."""
        if not self._pairwise:
            counts = self.counts.astype(np.float64)
            out: FloatArray = counts.sum(axis=0) if unit_weights is None else unit_weights @ counts
            return out
        codes_q = self._codes_q()
        column_major = bool(codes_q.flags.f_contiguous)
        flat = codes_q.ravel(order="F" if column_major else "C")
        weights = None
        if unit_weights is not None:
            r = codes_q.shape[1]
            weights = np.tile(unit_weights, r) if column_major else np.repeat(unit_weights, r)
        totals: FloatArray = np.bincount(flat, weights=weights, minlength=self.q + 1)[: self.q].astype(np.float64)
        return totals

    @classmethod
    def from_codes(cls, codes: IntArray, categories: Sequence[Any], units: Sequence[Any] | None = None,
                   raters: Sequence[Any] | None = None) -> RatingTable:
        """Build from integer codes (``-1`` missing); drops empty units and raters."""
        codes = np.asfortranarray(codes, dtype=np.int64)  # column-major: per-rater passes read contiguous memory
        if codes.ndim != 2:
            raise QualityError(f"ratings must be a 2-D units x raters table, got {codes.ndim} dimension(s)")
        rated = codes >= 0
        keep_units = rated.any(axis=1)
        keep_raters = rated.any(axis=0)
        if not keep_units.all() or not keep_raters.all():
            codes = codes[keep_units][:, keep_raters]
            units = None if units is None else tuple(u for u, k in zip(units, keep_units, strict=True) if k)
            raters = None if raters is None else tuple(r for r, k in zip(raters, keep_raters, strict=True) if k)
        return cls(categories=tuple(categories), codes=codes,
                   units=None if units is None else tuple(units), raters=None if raters is None else tuple(raters))

    @classmethod
    def from_counts(cls, counts: npt.ArrayLike, categories: Sequence[Any] | None = None) -> RatingTable:
        """Build from a units x categories table of how many raters chose each category."""
        arr = np.asarray(counts)
        if arr.ndim != 2 or not np.issubdtype(arr.dtype, np.number):
            raise QualityError("a count table must be a 2-D numeric units x categories array")
        if (arr < 0).any() or (arr != np.round(arr)).any():
            raise QualityError("a count table holds non-negative whole numbers of raters")
        cats = tuple(range(arr.shape[1])) if categories is None else tuple(categories)
        if len(cats) != arr.shape[1]:
            raise QualityError(f"{len(cats)} categories declared for a count table with {arr.shape[1]} columns")
        arr = arr.astype(np.int64)
        return cls(categories=cats, given_counts=arr[arr.sum(axis=1) > 0])

    def require_codes(self, metric: str) -> IntArray:
        if self.codes is None:
            raise QualityError(f"{metric} needs rater identities; a count table has none: pass units x raters ratings")
        return self.codes

    def subset(self, idx: npt.NDArray[np.intp]) -> RatingTable:
        """The table restricted to (possibly repeated) unit indices, for the bootstrap."""
        if self.codes is not None:
            return RatingTable.from_codes(self.codes[idx], self.categories, raters=self.raters)
        return RatingTable(categories=self.categories, given_counts=self.counts[idx])


def _is_identity(w: FloatArray) -> bool:
    return w.shape[0] == w.shape[1] and bool(np.array_equal(w, np.eye(w.shape[0])))


def _count_matrix(codes: IntArray, q: int) -> IntArray:
    """units x categories counts, by one bincount over ``unit * q + code`` (missing to a spare bin)."""
    n, _ = codes.shape
    if n == 0 or q == 0:
        return np.zeros((n, q), dtype=np.int64)
    flat = np.where(codes >= 0, codes + (np.arange(n, dtype=np.int64) * q)[:, None], n * q)
    return np.bincount(flat.ravel(order="K"), minlength=n * q + 1)[: n * q].reshape(n, q).astype(np.int64, copy=False)


def _order(values: Iterable[Any]) -> list[Any]:
    distinct = list(dict.fromkeys(values))
    try:
        return sorted(distinct)
    except TypeError:
        return distinct


def _codes_numeric(arr: npt.NDArray[Any], categories: Sequence[Any] | None) -> tuple[IntArray, list[Any]]:
    values = np.asfortranarray(arr, dtype=np.float64)  # column-major, as RatingTable keeps codes
    present = ~np.isnan(values)
    if categories is None:
        flat = values.ravel(order="K")
        lo, hi = float(np.fmin.reduce(flat)), float(np.fmax.reduce(flat))  # fmin/fmax skip NaN
        if not present.any():
            return np.full(values.shape, MISSING, dtype=np.int64), []
        size = int(hi - lo) + 1 if hi - lo < 1 << 20 else 0
        if size:  # small whole-number labels: a lookup table, O(n), no sort
            missing = ~present
            with np.errstate(invalid="ignore"):
                shifted_f = values - lo  # elementwise ops keep the column-major layout
                shifted_f[missing] = size
                shifted = shifted_f.astype(np.int64)
            whole = bool(((shifted + lo == values) | missing).all())
        else:
            whole = False
        if whole:
            seen = np.bincount(shifted.ravel(order="K"), minlength=size + 1)[:size] > 0
            lut = np.append(np.cumsum(seen) - 1, MISSING)
            cats_f = np.flatnonzero(seen) + lo
            codes = lut[shifted.ravel(order="F")].reshape(values.shape, order="F")
        else:
            cats_f, inverse = np.unique(values[present], return_inverse=True)
            codes = np.full(values.shape, MISSING, dtype=np.int64)
            codes[present] = inverse
        as_int = np.issubdtype(arr.dtype, np.integer) or bool((cats_f == np.floor(cats_f)).all())
        cats = [int(c) if as_int else float(c) for c in cats_f]
        return codes, cats
    observed = values[present]
    cats = list(categories)
    cat_values = np.asarray([float(c) for c in cats]) if all(isinstance(c, int | float | np.number) for c in cats) else None
    if cat_values is None:
        return _codes_objects(arr.astype(object), categories)
    order = np.argsort(cat_values, kind="stable")
    pos = np.searchsorted(cat_values[order], observed)
    pos = np.clip(pos, 0, len(cats) - 1)
    ok = cat_values[order][pos] == observed
    if not ok.all():
        bad = observed[~ok][0]
        where = np.argwhere(present & (values == bad))[0]
        raise QualityError(f"rating {bad!r} (unit row {where[0]}, rater column {where[1]}) is not among the declared "
                           f"categories {cats!r}: declare it or fix the rating")
    codes = np.full(values.shape, MISSING, dtype=np.int64)
    codes[present] = order[pos]
    return codes, cats


def _codes_objects(arr: npt.NDArray[Any], categories: Sequence[Any] | None) -> tuple[IntArray, list[Any]]:
    flat = arr.ravel().tolist()
    missing = [_is_missing(v) for v in flat]
    cats = _order(v for v, m in zip(flat, missing, strict=True) if not m) if categories is None else list(categories)
    lut = {c: i for i, c in enumerate(cats)}
    out = np.empty(len(flat), dtype=np.int64)
    width = arr.shape[1] if arr.ndim == 2 else 1
    for i, (v, m) in enumerate(zip(flat, missing, strict=True)):
        if m:
            out[i] = MISSING
            continue
        code = lut.get(v)
        if code is None:
            raise QualityError(f"rating {v!r} (unit row {i // width}, rater column {i % width}) is not among the "
                               f"declared categories {cats!r}: declare it or fix the rating")
        out[i] = code
    return out.reshape(arr.shape), cats


def _from_long(records: Sequence[Any], categories: Sequence[Any] | None) -> RatingTable:
    units: dict[Hashable, int] = {}
    raters: dict[Hashable, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    labels: list[Any] = []
    seen: set[tuple[int, int]] = set()
    for index, rec in enumerate(records):
        if isinstance(rec, Mapping):
            try:
                unit, label = rec["unit"], rec["label"]
                rater = rec["rater"] if "rater" in rec else rec["annotator"]
            except KeyError as exc:
                raise QualityError(f"record {index}: long-form records need keys unit, rater (or annotator), label; "
                                   f"missing {exc}") from None
        else:
            if len(rec) != 3:
                raise QualityError(f"record {index}: expected (unit, rater, label), got {len(rec)} fields")
            unit, rater, label = rec
        u = units.setdefault(unit, len(units))
        r = raters.setdefault(rater, len(raters))
        if (u, r) in seen:
            raise QualityError(f"record {index}: rater {rater!r} rated unit {unit!r} twice; keep one rating per pair")
        seen.add((u, r))
        rows.append(u)
        cols.append(r)
        labels.append(label)
    grid = np.full((len(units), len(raters)), None, dtype=object)
    grid[np.asarray(rows, dtype=np.intp), np.asarray(cols, dtype=np.intp)] = labels if labels else None
    codes, cats = _codes_objects(grid, categories)
    return RatingTable.from_codes(codes, cats, units=list(units), raters=list(raters))


def _looks_long(data: Sequence[Any]) -> bool:
    first = data[0]
    if isinstance(first, Mapping):
        return True
    return isinstance(first, tuple) and len(first) == 3 and all(isinstance(r, tuple) for r in data[:50])


def rating_table(data: Any, categories: Sequence[Any] | None = None) -> RatingTable:
    """Normalise any accepted input (see the module docstring) into a :class:`RatingTable`."""
    if isinstance(data, RatingTable):
        return data
    if categories is not None and len(set(categories)) != len(list(categories)):
        raise QualityError(f"declared categories repeat a value: {list(categories)!r}")
    module = type(data).__module__
    if module.startswith("pandas") and hasattr(data, "columns"):
        cols = {str(c) for c in data.columns}
        rater_col = "rater" if "rater" in cols else "annotator"
        if {"unit", rater_col, "label"} <= cols:
            recs = list(zip(data["unit"].tolist(), data[rater_col].tolist(), data["label"].tolist(), strict=True))
            return _from_long(recs, categories)
        arr = data.to_numpy()
        raters = list(data.columns)
        units: list[Any] | None = list(data.index)
    elif isinstance(data, np.ndarray):
        arr, raters, units = data, None, None
    else:
        seq = list(data)
        if not seq:
            raise QualityError("no ratings given")
        if _looks_long(seq):
            return _from_long(seq, categories)
        arr = np.empty((len(seq), len(seq[0])), dtype=object)
        for i, row in enumerate(seq):
            if len(row) != arr.shape[1]:
                raise QualityError(f"unit row {i} has {len(row)} ratings, row 0 has {arr.shape[1]}: pad with None")
            arr[i, :] = list(row)
        raters, units = None, None
    if arr.ndim != 2:
        raise QualityError(f"ratings must be a 2-D units x raters table, got shape {arr.shape}")
    if arr.dtype.kind in "iuf":  # booleans keep True/False labels through the object path
        codes, cats = _codes_numeric(arr, categories)
    else:
        codes, cats = _codes_objects(arr, categories)
    return RatingTable.from_codes(codes, cats, units=units, raters=raters)
