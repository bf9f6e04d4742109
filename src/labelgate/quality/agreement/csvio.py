"""Ratings from CSV files, in long or wide form, for the ``labelgate qa`` commands.

- Long form: a header naming a unit column (``unit``, ``item``, ``task``, ``subject`` or ``id``), a
  rater column (``rater``, ``annotator``, ``coder``, ``observer`` or ``user``) and a ``label`` column
  (or ``rating``, ``value``, ``category``, ``answer``); one rating per row.
- Wide form: any other header; one row per unit, one column per rater, an empty cell is missing.
  When the first header cell is a unit column name (or empty) that column holds unit ids.

Labels that all parse as integers become ints, else as numbers become floats, else stay strings,
so that interval and ratio levels work on numeric files.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from labelgate.core.errors import FormatError

__all__ = ["RatingsFile", "read_gold_csv", "read_ratings_csv"]

UNIT = ("unit", "item", "task", "subject", "id", "unit_id", "item_id", "task_id")
RATER = ("rater", "annotator", "coder", "observer", "user", "rater_id", "annotator_id")
LABEL = ("label", "rating", "value", "category", "answer", "class")


@dataclass(frozen=True)
class RatingsFile:
    """What a ratings CSV held: ``records`` (unit, rater, label) either way, and its form."""

    form: str  # "long" or "wide"
    records: list[tuple[Any, Any, Any]]


def _rows(path: Path) -> list[list[str]]:
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = [row for row in csv.reader(fh) if any(cell.strip() for cell in row)]
    except UnicodeDecodeError as exc:
        raise FormatError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", path=path) from None
    except (OSError, csv.Error) as exc:
        raise FormatError(str(exc), path=path) from None
    if len(rows) < 2:
        raise FormatError("expected a header row and at least one data row", path=path)
    return rows


def _column(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    for name in names:
        if name in lowered:
            return lowered.index(name)
    return None


def _typed(labels: list[str]) -> list[Any]:
    for kind in (int, float):
        try:
            return [kind(v) for v in labels]
        except ValueError:
            continue
    return labels


def _typed_records(raw: list[tuple[str, str, str]]) -> list[tuple[Any, Any, Any]]:
    labels = _typed([lab for _, _, lab in raw])
    return [(u, r, lab) for (u, r, _), lab in zip(raw, labels, strict=True)]


def read_ratings_csv(path: str | Path, *, typed: bool = True) -> RatingsFile:
    """Read a long- or wide-form ratings CSV (module docstring); ``typed=False`` keeps labels as text."""
    path = Path(path)
    rows = _rows(path)
    header = rows[0]
    unit, rater, label = _column(header, UNIT), _column(header, RATER), _column(header, LABEL)
    if unit is not None and rater is not None and label is not None:
        raw: list[tuple[str, str, str]] = []
        for line, row in enumerate(rows[1:], start=2):
            if len(row) < max(unit, rater, label) + 1:
                raise FormatError(f"row has {len(row)} cells, the header {len(header)}", path=path, where=f"line {line}")
            if not row[label].strip():
                continue  # an empty label is a missing rating
            raw.append((row[unit].strip(), row[rater].strip(), row[label].strip()))
        return RatingsFile("long", _typed_records(raw) if typed else list(raw))
    first = header[0].strip().lower()
    has_ids = first in UNIT or first == ""
    raters = header[1:] if has_ids else header
    if not raters:
        raise FormatError("a wide ratings file needs at least one rater column", path=path, where="line 1")
    raw = []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise FormatError(f"row has {len(row)} cells, the header {len(header)}", path=path, where=f"line {line}")
        unit_id = row[0].strip() if has_ids else str(line - 1)
        cells = row[1:] if has_ids else row
        raw.extend((unit_id, r.strip(), cell.strip()) for r, cell in zip(raters, cells, strict=True) if cell.strip())
    return RatingsFile("wide", _typed_records(raw) if typed else list(raw))


def read_gold_csv(path: str | Path) -> dict[Any, Any]:
    """Gold answers (labels kept as text): a CSV with a unit column and a label column (names as in long form)."""
    path = Path(path)
    rows = _rows(path)
    unit, label = _column(rows[0], UNIT), _column(rows[0], LABEL)
    if unit is None or label is None:
        raise FormatError(f"a gold file needs a unit column ({', '.join(UNIT[:3])}) and a label column "
                          f"({', '.join(LABEL[:3])}); header is {rows[0]!r}", path=path, where="line 1")
    gold: dict[Any, Any] = {}
    for line, row in enumerate(rows[1:], start=2):
        if len(row) < max(unit, label) + 1:
            raise FormatError(f"row has {len(row)} cells, the header {len(rows[0])}", path=path, where=f"line {line}")
        u, lab = row[unit].strip(), row[label].strip()
        if u in gold and gold[u] != lab:
            raise FormatError(f"unit {u!r} has two gold labels ({gold[u]!r}, {lab!r})", path=path, where=f"line {line}")
        gold[u] = lab
    return gold
