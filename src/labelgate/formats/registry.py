"""The explicit codec registry: names map to modules, loaded on first use.

Built-in codecs are listed here by name; third-party codecs register through the
``labelgate.codecs`` entry-point group with the same ``"module:attribute"`` form. Names are never
derived from class names and nothing is discovered by importing every file.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from labelgate.core import Dataset
from labelgate.core.errors import DetectionError, FormatError
from labelgate.formats.capabilities import Capabilities
from labelgate.formats.report import ConversionReport

__all__ = ["BUILTIN", "Codec", "CodecInfo", "all_codecs", "detect", "get_codec", "names"]


@runtime_checkable
class Codec(Protocol):
    """What a codec provides. ``detect`` returns a confidence in [0, 1] (0: not this format)."""

    name: str
    description: str
    capabilities: Capabilities

    def detect(self, path: Path) -> float: ...

    def read(self, path: Path, **options: Any) -> Dataset: ...

    def write(self, dataset: Dataset, path: Path, **options: Any) -> ConversionReport: ...


BUILTIN: dict[str, str] = {
    "native": "labelgate.formats.native:CODEC",
    "coco": "labelgate.formats.coco:CODEC",
    "cvat": "labelgate.formats.cvat:CODEC",
    "label_studio": "labelgate.formats.label_studio:CODEC",
    "yolo": "labelgate.formats.yolo:CODEC",
    "tfrecord": "labelgate.formats.tfrecord:CODEC",
    "voc": "labelgate.formats.voc:CODEC",
    "png_masks": "labelgate.formats.png_masks:CODEC",
    "conll": "labelgate.formats.conll:CODEC",
    "spans_jsonl": "labelgate.formats.spans_jsonl:CODEC",
}


@dataclass(frozen=True)
class CodecInfo:
    name: str
    target: str
    builtin: bool


_loaded: dict[str, Codec] = {}


def _targets() -> dict[str, CodecInfo]:
    out = {n: CodecInfo(n, t, True) for n, t in BUILTIN.items()}
    for ep in entry_points(group="labelgate.codecs"):
        if ep.name in out:
            continue  # built-ins cannot be shadowed
        out[ep.name] = CodecInfo(ep.name, ep.value, False)
    return out


def names() -> list[str]:
    """Every registered codec name, built-ins first."""
    return list(_targets())


def get_codec(name: str) -> Codec:
    """The codec registered as ``name``."""
    if name in _loaded:
        return _loaded[name]
    info = _targets().get(name)
    if info is None:
        raise FormatError(f"unknown format {name!r}; known formats: {', '.join(names())}")
    module_name, _, attr = info.target.partition(":")
    module = importlib.import_module(module_name)
    codec = getattr(module, attr)
    if codec.name != name:
        raise FormatError(f"codec registered as {name!r} calls itself {codec.name!r}")
    _loaded[name] = codec
    return codec


def all_codecs() -> list[Codec]:
    return [get_codec(n) for n in names()]


def detect(path: str | Path) -> str:
    """The name of the one codec that recognises ``path`` best.

    Raises :class:`DetectionError` when none does, or when two claim it with equal confidence.
    """
    p = Path(path)
    if not p.exists():
        raise DetectionError("no such file or directory", path=p)
    scores = []
    for codec in all_codecs():
        score = codec.detect(p)
        if score > 0:
            scores.append((score, codec.name))
    if not scores:
        raise DetectionError(
            "no known format recognises this path; pass --from FORMAT (see `labelgate formats`)",
            path=p,
        )
    scores.sort(reverse=True)
    if len(scores) > 1 and scores[0][0] == scores[1][0]:
        raise DetectionError(
            f"ambiguous: {scores[0][1]} and {scores[1][1]} both match; pass --from FORMAT", path=p
        )
    return scores[0][1]
