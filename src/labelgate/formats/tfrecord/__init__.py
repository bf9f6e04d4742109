"""TFRecord with TF Object Detection API keys, read and written without TensorFlow.

Records are framed and checked (masked CRC32C) in ``_records``, and ``tf.train.Example`` is
encoded by hand in ``_example``. Keys: ``image/encoded`` (the image, embedded),
``image/format``, ``image/filename`` (the item's media), ``image/source_id`` (the item id),
``image/height``, ``image/width``, ``image/object/bbox/{xmin,xmax,ymin,ymax}`` (float32
fractions), ``image/object/class/text``, ``image/object/class/label`` (ids from
``label_map.pbtxt``, 1-based), ``image/object/is_crowd`` and ``image/object/mask`` (PNG).
A directory holds one ``<subset>.tfrecord`` per subset (``default`` for none).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from labelgate.core import Dataset
from labelgate.formats.report import ConversionReport
from labelgate.formats.tfrecord._read import LABEL_MAP, SUFFIXES, read_tfrecord
from labelgate.formats.tfrecord._write import CAPABILITIES, write_tfrecord

__all__ = ["CODEC", "TFRecordCodec"]


class TFRecordCodec:
    name = "tfrecord"
    description = "TFRecord with TF Object Detection API keys (images embedded, PNG masks, label_map.pbtxt)"
    capabilities = CAPABILITIES

    def detect(self, path: Path) -> float:
        if path.is_file():
            return 0.9 if path.suffix in SUFFIXES else 0.0
        if path.is_dir() and any(p.suffix in SUFFIXES for p in path.iterdir()):
            return 0.9 if (path / LABEL_MAP).is_file() else 0.6
        return 0.0

    def read(self, path: Path, **options: Any) -> Dataset:
        return read_tfrecord(path, unlabelled=str(options.get("unlabelled", "error")),
                             check_crc=bool(options.get("check_crc", True)))

    def write(self, dataset: Dataset, path: Path, **options: Any) -> ConversionReport:
        images = options.get("images")
        return write_tfrecord(dataset, path, images=Path(images) if images else None)


CODEC = TFRecordCodec()
