"""Video tracks: one object followed over frames, with keyframes and an outside flag (CVAT's model)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from labelgate.core.annotations import AttrValue, Provenance
from labelgate.core.errors import InvariantError
from labelgate.core.geometry import Geometry, kind_of

__all__ = ["Track", "TrackShape"]


@dataclass(frozen=True, slots=True)
class TrackShape:
    """The track's shape at ``frame``. ``outside`` marks the object leaving the view from this
    frame on; ``keyframe`` marks shapes drawn by a person (others are interpolated)."""

    frame: int
    geometry: Geometry
    keyframe: bool = True
    outside: bool = False
    occluded: bool = False
    z_order: int = 0
    attributes: Mapping[str, AttrValue] = field(default_factory=dict)

    def __post_init__(self) -> None:
        kind_of(self.geometry)
        if not isinstance(self.frame, int) or self.frame < 0:
            raise InvariantError(f"TrackShape: frame must be an integer >= 0, got {self.frame!r}")


@dataclass(frozen=True, slots=True)
class Track:
    """An object across frames of ``video`` (the video id its frames' items share)."""

    id: int
    label: str
    shapes: tuple[TrackShape, ...]
    video: str | None = None
    attributes: Mapping[str, AttrValue] = field(default_factory=dict)
    group: int | None = None
    provenance: Provenance = field(default_factory=Provenance)

    def __post_init__(self) -> None:
        if not self.label:
            raise InvariantError(f"Track {self.id}: label must not be empty")
        shapes = tuple(sorted(self.shapes, key=lambda s: s.frame))
        if not shapes:
            raise InvariantError(f"Track {self.id}: needs at least one shape")
        frames = [s.frame for s in shapes]
        if len(set(frames)) != len(frames):
            raise InvariantError(f"Track {self.id}: two shapes on one frame")
        kinds = {type(s.geometry) for s in shapes}
        if len(kinds) != 1:
            raise InvariantError(f"Track {self.id}: shapes must share one geometry type, got {kinds}")
        object.__setattr__(self, "shapes", shapes)

    @property
    def frames(self) -> tuple[int, int]:
        """First and last frame with a shape."""
        return (self.shapes[0].frame, self.shapes[-1].frame)
