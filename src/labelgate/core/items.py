"""Items: the things that get labelled (an image, a frame of a video, a text document)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from labelgate.core.errors import InvariantError

__all__ = ["Item", "ItemKind"]


class ItemKind(str, Enum):
    IMAGE = "image"
    VIDEO_FRAME = "video_frame"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class Item:
    """One unit of labelling.

    ``id`` is the portable key (for images, the file name without extension, as VOC and YOLO
    key them); ``number`` is the numeric id formats such as COCO and CVAT carry; ``media`` is the
    file path or URI relative to the dataset's media root; ``subset`` a split such as "train".
    """

    id: str
    kind: ItemKind = ItemKind.IMAGE
    media: str | None = None
    width: int | None = None
    height: int | None = None
    text: str | None = None
    video: str | None = None
    frame: int | None = None
    number: int | None = None
    subset: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise InvariantError(f"Item: id must be a non-empty string, got {self.id!r}")
        object.__setattr__(self, "kind", ItemKind(self.kind))
        for name in ("width", "height"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v <= 0):
                raise InvariantError(f"Item {self.id!r}: {name} must be a positive integer, got {v!r}")
        if (self.width is None) != (self.height is None):
            raise InvariantError(f"Item {self.id!r}: width and height must be given together")
        if self.kind is ItemKind.TEXT and self.text is None:
            raise InvariantError(f"Item {self.id!r}: a text item needs its text")
        if self.kind is ItemKind.VIDEO_FRAME and (self.frame is None or self.frame < 0):
            raise InvariantError(f"Item {self.id!r}: a video frame needs a frame index >= 0")

    @property
    def size(self) -> tuple[int, int] | None:
        """``(width, height)`` when known."""
        if self.width is None or self.height is None:
            return None
        return (self.width, self.height)
