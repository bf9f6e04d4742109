"""Dataset formats: an explicit registry of codecs, each reading and writing one format.

``read(path, format=None)`` detects the format when none is named; ``write`` returns a
:class:`ConversionReport` naming everything the target format could not hold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labelgate.core import Dataset
from labelgate.formats.capabilities import Capabilities, restrict
from labelgate.formats.registry import Codec, all_codecs, detect, get_codec, names
from labelgate.formats.report import ConversionReport, Loss

__all__ = [
    "Capabilities",
    "Codec",
    "ConversionReport",
    "Loss",
    "all_codecs",
    "detect",
    "get_codec",
    "names",
    "read",
    "restrict",
    "write",
]


def read(path: str | Path, format: str | None = None, **options: Any) -> Dataset:
    """Read a dataset from ``path``, detecting its format unless ``format`` is given."""
    p = Path(path)
    name = format or detect(p)
    return get_codec(name).read(p, **options)


def write(dataset: Dataset, path: str | Path, format: str, **options: Any) -> ConversionReport:
    """Write ``dataset`` to ``path`` in ``format``; output appears only if the write succeeds."""
    return get_codec(format).write(dataset, Path(path), **options)
