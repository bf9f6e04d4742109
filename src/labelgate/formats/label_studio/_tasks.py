"""Label Studio tasks JSON <-> items and annotations (with provenance).

A task holds ``data`` (``image`` URL/path or ``text``), ``annotations`` (people: author in
``completed_by``, ``created_at``, ``lead_time``; ``ground_truth`` marks gold) and
``predictions`` (models: ``model_version``; Labelgate adds ``model`` when it knows the name).
What Label Studio has no field for (an item id that is not the image's file name, the size
of an image without spatial results, that a task id was made up because the item had no
number) goes in ``meta.labelgate``, which Label Studio keeps.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlparse

from labelgate.core import Item, ItemKind, Provenance, Source

__all__ = ["derived_id", "item_from_task", "provenance_from", "provenance_to"]


def derived_id(data_value: str, kind: ItemKind, number: int | None, index: int) -> str:
    """The item id a reader gives a task without ``meta.labelgate.id``."""
    if kind is ItemKind.TEXT:
        return f"task{number if number is not None else index}"
    name = PurePosixPath(urlparse(data_value).path or data_value).name
    stem = PurePosixPath(name).stem if PurePosixPath(name).suffix else name
    return stem or data_value


def item_from_task(task: dict[str, Any], index: int, size: tuple[int, int] | None) -> Item:
    """The item of ``task``; raises ValueError naming the field at fault."""
    data = task.get("data")
    if not isinstance(data, dict):
        raise ValueError("task has no 'data' object")
    number = task.get("id")
    if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
        raise ValueError(f"task id must be an integer, got {number!r}")
    extra = (task.get("meta") or {}).get("labelgate") or {}
    if not isinstance(extra, dict):
        raise ValueError("meta.labelgate must be an object")
    if "number" in extra and extra["number"] is None:
        number = None  # the task id was made up by the writer for Label Studio's sake
    if size is None and "width" in extra:
        size = (extra["width"], extra["height"])
    w, h = size if size is not None else (None, None)
    if isinstance(data.get("text"), str):
        kind, value = ItemKind.TEXT, data["text"]
        iid = extra.get("id") or derived_id(value, kind, number, index)
        return Item(iid, kind, text=value, number=number, width=w, height=h)
    for key in ("image", "img", "url"):
        if isinstance(data.get(key), str) and data[key]:
            value = data[key]
            iid = extra.get("id") or derived_id(value, ItemKind.IMAGE, number, index)
            return Item(iid, ItemKind.IMAGE, media=value, width=w, height=h, number=number)
    raise ValueError(f"data has no 'image' or 'text' string (keys: {sorted(data)})")


def _author(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, dict):
        v = v.get("email") or v.get("id")
    return None if v is None else str(v)


def _time(v: Any) -> datetime | None:
    if v is None:
        return None
    if not isinstance(v, str):
        raise ValueError(f"created_at must be an ISO 8601 string, got {v!r}")
    try:
        return datetime.fromisoformat(v)
    except ValueError:
        raise ValueError(f"created_at {v!r} is not an ISO 8601 time") from None


def provenance_from(entry: dict[str, Any], prediction: bool) -> Provenance:
    lead = entry.get("lead_time")
    if lead is not None and (isinstance(lead, bool) or not isinstance(lead, (int, float))):
        raise ValueError(f"lead_time must be a number of seconds, got {lead!r}")
    if prediction:
        source = Source.MODEL
    elif entry.get("consensus") is True:
        source = Source.CONSENSUS
    else:
        source = Source.GOLD if entry.get("ground_truth") is True else Source.HUMAN
    version = entry.get("model_version")
    model = entry.get("model")
    return Provenance(
        source,
        author=_author(entry.get("completed_by")),
        model=model if isinstance(model, str) else None,
        model_version=version if isinstance(version, str) and version else None,
        created_at=_time(entry.get("created_at")),
        lead_time=None if lead is None else float(lead),
    )


def provenance_to(p: Provenance, entry: dict[str, Any]) -> None:
    """Fill an annotation or prediction dict with ``p``."""
    if p.source is Source.GOLD:
        entry["ground_truth"] = True
    if p.source is Source.CONSENSUS:
        entry["consensus"] = True  # Labelgate's own key; Label Studio ignores it
    if p.author is not None:
        entry["completed_by"] = int(p.author) if p.author.isdigit() and str(int(p.author)) == p.author else p.author
    if p.model is not None:
        entry["model"] = p.model
    if p.model_version is not None:
        entry["model_version"] = p.model_version
    if p.created_at is not None:
        entry["created_at"] = p.created_at.isoformat()
    if p.lead_time is not None:
        entry["lead_time"] = p.lead_time
