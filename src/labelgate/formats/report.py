"""What a conversion could not carry over, counted by field, with examples."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as _field
from typing import Any

__all__ = ["ConversionReport", "Loss"]


@dataclass
class Loss:
    """One kind of loss: ``field`` (e.g. ``region.score``, ``geometry.polygon``), how many
    values were dropped or changed, what was done, and up to five example locations."""

    field: str
    action: str
    count: int = 0
    examples: list[str] = _field(default_factory=list)


@dataclass
class ConversionReport:
    """Returned by every writer. ``lossless`` is true when nothing was dropped or changed."""

    format: str
    path: str | None = None
    items: int = 0
    regions: int = 0
    files: int = 0
    losses: dict[str, Loss] = _field(default_factory=dict)
    warnings: list[str] = _field(default_factory=list)

    def drop(self, field_name: str, where: str, action: str = "dropped", count: int = 1) -> None:
        """Record that ``field_name`` at ``where`` could not be kept (``action`` says what happened)."""
        key = f"{field_name}:{action}"
        loss = self.losses.get(key)
        if loss is None:
            loss = self.losses[key] = Loss(field_name, action)
        loss.count += count
        if len(loss.examples) < 5:
            loss.examples.append(where)

    @property
    def lossless(self) -> bool:
        return not self.losses

    @property
    def dropped_fields(self) -> set[str]:
        return {loss.field for loss in self.losses.values()}

    def merge(self, other: ConversionReport) -> None:
        for key, loss in other.losses.items():
            mine = self.losses.setdefault(key, Loss(loss.field, loss.action))
            mine.count += loss.count
            mine.examples.extend(loss.examples[: 5 - len(mine.examples)])
        self.warnings.extend(other.warnings)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "path": self.path,
            "items": self.items,
            "regions": self.regions,
            "files": self.files,
            "lossless": self.lossless,
            "losses": [
                {"field": v.field, "action": v.action, "count": v.count, "examples": v.examples}
                for v in sorted(self.losses.values(), key=lambda x: (x.field, x.action))
            ],
            "warnings": self.warnings,
        }

    def summary(self) -> str:
        if self.lossless:
            return f"{self.format}: {self.items} items, {self.regions} regions, nothing lost"
        lines = [f"{self.format}: {self.items} items, {self.regions} regions; not kept:"]
        for v in sorted(self.losses.values(), key=lambda x: x.field):
            lines.append(f"  {v.field}: {v.count} {v.action} (e.g. {', '.join(v.examples[:3])})")
        return "\n".join(lines)
