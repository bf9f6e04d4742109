"""The canonical annotation model. Imports nothing else of Labelgate's."""

from labelgate.core import rle
from labelgate.core.annotations import Annotation, AttrValue, Provenance, Region, Source
from labelgate.core.dataset import Dataset
from labelgate.core.errors import (
    ConflictError,
    DetectionError,
    FormatError,
    InvariantError,
    LabelgateError,
    MissingDependencyError,
    NotFoundError,
    PermissionDenied,
    QualityError,
)
from labelgate.core.geometry import (
    Box,
    Classification,
    Geometry,
    GeometryKind,
    Keypoints,
    Mask,
    MultiPolygon,
    Polygon,
    Polyline,
    RotatedBox,
    TextSpan,
    bounds,
    kind_of,
)
from labelgate.core.items import Item, ItemKind
from labelgate.core.schema import AttributeSpec, AttributeType, LabelClass, LabelSchema, Skeleton
from labelgate.core.table import NO_ID, RegionTable
from labelgate.core.tracks import Track, TrackShape

__all__ = [
    "NO_ID",
    "rle",
    "Annotation",
    "AttrValue",
    "AttributeSpec",
    "AttributeType",
    "Box",
    "Classification",
    "ConflictError",
    "Dataset",
    "DetectionError",
    "FormatError",
    "Geometry",
    "GeometryKind",
    "InvariantError",
    "Item",
    "ItemKind",
    "Keypoints",
    "LabelClass",
    "LabelSchema",
    "LabelgateError",
    "Mask",
    "MissingDependencyError",
    "MultiPolygon",
    "NotFoundError",
    "PermissionDenied",
    "Polygon",
    "Polyline",
    "Provenance",
    "QualityError",
    "Region",
    "RegionTable",
    "RotatedBox",
    "Skeleton",
    "Source",
    "TextSpan",
    "Track",
    "TrackShape",
    "bounds",
    "kind_of",
]
