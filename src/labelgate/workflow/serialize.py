"""Events to and from plain dicts (JSON-ready when the answers are), so a caller can store the log
and :func:`labelgate.workflow.replay` it later. Effects are not stored: replay recomputes them."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from labelgate.core.errors import InvariantError
from labelgate.workflow.effects import Record
from labelgate.workflow.events import (
    AddGold,
    AddMember,
    AddTasks,
    Adjudicate,
    Event,
    Flag,
    PromoteGold,
    PublishGuideline,
    RegionVerdict,
    Release,
    Reopen,
    RequestTask,
    Resume,
    Review,
    SetPriority,
    Skip,
    Submit,
    TaskSpec,
    Tick,
)

__all__ = ["event_from_dict", "event_to_dict", "record_from_dict", "record_to_dict"]

EVENT_TYPES: dict[str, type] = {cls.__name__: cls for cls in (
    AddTasks, AddGold, PromoteGold, AddMember, RequestTask, Submit, Skip, Release, Review, Adjudicate, PublishGuideline,
    Resume, Reopen, SetPriority, Flag, Tick)}


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def event_to_dict(event: Event) -> dict[str, Any]:
    if type(event).__name__ not in EVENT_TYPES:
        raise InvariantError(f"event_to_dict: {type(event).__name__} is not a workflow event")
    return {"type": type(event).__name__, **_plain(event)}


def event_from_dict(data: Mapping[str, Any]) -> Event:
    fields = dict(data)
    name = fields.pop("type", None)
    cls = EVENT_TYPES.get(name) if isinstance(name, str) else None
    if cls is None:
        raise InvariantError(f"event_from_dict: unknown event type {name!r}; known: {sorted(EVENT_TYPES)}")
    try:
        if cls is AddTasks:
            return AddTasks([TaskSpec(**t) for t in fields["tasks"]])
        if cls is Review:
            fields["regions"] = tuple(RegionVerdict(**r) for r in fields.get("regions", ()))
        elif cls is AddMember:
            fields["roles"] = frozenset(fields.get("roles", ()))
            fields["groups"] = frozenset(fields.get("groups", ()))
        elif cls is Adjudicate:
            fields["sources"] = tuple(fields["sources"])
        event: Event = cls(**fields)
    except (KeyError, TypeError) as exc:
        raise InvariantError(f"event_from_dict: a {name} event has wrong fields ({exc}): {sorted(fields)}") from None
    return event


def record_to_dict(record: Record) -> dict[str, Any]:
    return {"seq": record.seq, "at": record.at, "event": event_to_dict(record.event)}


def record_from_dict(data: Mapping[str, Any]) -> Record:
    """A stored log line back as a record (without effects; :func:`replay` recomputes them)."""
    try:
        return Record(int(data["seq"]), float(data["at"]), event_from_dict(data["event"]), ())
    except KeyError as exc:
        raise InvariantError(f"record_from_dict: a log record needs seq, at and event; missing {exc}") from None
