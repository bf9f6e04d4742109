"""Checking regions sent by clients or files against a project's label schema."""

from __future__ import annotations

from typing import Any

from labelgate.core import LabelSchema, Region
from labelgate.core.errors import InvariantError
from labelgate.formats.native import region_from_dict, region_to_dict

__all__ = ["check_labels", "parse_regions"]

MAX_REGIONS = 100_000


def check_labels(schema: LabelSchema, region: Region, where: str) -> None:
    """Raise :class:`InvariantError` if the region's label or attributes break the schema."""
    cls = schema.get(region.label)
    if cls is None:
        raise InvariantError(f"{where}: label {region.label!r} is not in the project's label schema {schema.names}")
    specs = {a.name: a for a in (*schema.attributes, *cls.attributes)}
    for name, value in region.attributes.items():
        spec = specs.get(name)
        if spec is None:
            raise InvariantError(f"{where}: attribute {name!r} is not defined for class {region.label!r}")
        problem = spec.check(value)
        if problem:
            raise InvariantError(f"{where}: {problem}")


def parse_regions(schema: LabelSchema, regions: Any) -> list[dict[str, Any]]:
    """Validate client-sent native region dicts; return their canonical form."""
    if not isinstance(regions, list):
        raise InvariantError("regions must be a JSON array of region objects")
    if len(regions) > MAX_REGIONS:
        raise InvariantError(f"{len(regions)} regions in one annotation; the limit is {MAX_REGIONS}")
    out = []
    for i, d in enumerate(regions):
        where = f"regions[{i}]"
        if not isinstance(d, dict):
            raise InvariantError(f"{where}: expected an object, got {type(d).__name__}")
        try:
            region = region_from_dict(d)
        except KeyError as e:
            raise InvariantError(f"{where}: missing key {e}") from None
        except (TypeError, ValueError) as e:
            raise InvariantError(f"{where}: {e}") from None
        check_labels(schema, region, where)
        out.append(region_to_dict(region))
    return out
