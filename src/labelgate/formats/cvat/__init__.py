"""CVAT for images 1.1 and CVAT for video 1.1 XML.

Images: one ``annotations.xml`` whose ``<image>`` elements carry boxes (rotated with
``rotation``), polygons, polylines, points, skeletons, masks and tags; items with a subset are
written as a CVAT project export (one task per subset, ``subset`` on each image). Video: tracks
with per-frame shapes (keyframe, outside, occluded, z-order, attributes) and tags per frame;
items are the video's frames, named ``frame_000123`` as CVAT names frame images.
"""

from labelgate.formats.cvat.codec import CODEC, CvatCodec

__all__ = ["CODEC", "CvatCodec"]
