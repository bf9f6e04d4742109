"""COCO JSON: instances (boxes, polygons, RLE masks with iscrowd), person keypoints with
skeletons, image-level labels, image_info, and detection results (``score``).

Reading builds one columnar table for the whole file, checks every segmentation as it reads
(a malformed one is refused there, naming the annotation and the field) and decodes polygons and
masks lazily; writing serialises from the table. See :data:`CAPABILITIES` for what survives a round trip.
"""

from __future__ import annotations

from labelgate.formats.coco._codec import CAPABILITIES, CODEC, CocoCodec, annotation_files, subset_of

__all__ = ["CAPABILITIES", "CODEC", "CocoCodec", "annotation_files", "subset_of"]
