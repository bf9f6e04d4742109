"""Finding image files and reading their sizes (header only), for codecs that store normalised
coordinates (YOLO) or embed the pixels (TFRecord)."""

from __future__ import annotations

import os
from pathlib import Path

from labelgate.core.errors import FormatError

__all__ = ["IMAGE_EXTENSIONS", "ImageIndex", "image_size"]

IMAGE_EXTENSIONS = frozenset(
    {".bmp", ".dng", ".jpeg", ".jpg", ".mpo", ".png", ".tif", ".tiff", ".webp", ".pfm", ".gif"}
)
"""Suffixes (lower case) taken for images when a directory is scanned."""


class ImageIndex:
    """The images under a directory, keyed by their path relative to it without the suffix
    (``"train/a"`` for ``train/a.jpg``), found with one recursive scan on first use."""

    __slots__ = ("_stems", "root")

    def __init__(self, root: Path) -> None:
        self.root = root
        self._stems: dict[str, str] | None = None

    def _scan(self) -> dict[str, str]:
        stems: dict[str, str] = {}
        if not self.root.is_dir():
            return stems
        root = str(self.root)
        cut = len(root) + 1
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            prefix = dirpath[cut:].replace(os.sep, "/")
            for name in sorted(filenames):
                stem, ext = os.path.splitext(name)
                if ext.lower() in IMAGE_EXTENSIONS:
                    key = f"{prefix}/{stem}" if prefix else stem
                    stems.setdefault(key, os.path.join(dirpath, name))
        return stems

    @property
    def stems(self) -> dict[str, str]:
        if self._stems is None:
            self._stems = self._scan()
        return self._stems

    def find(self, stem: str) -> str | None:
        """The image whose relative path without suffix is ``stem``, if any."""
        return self.stems.get(stem)


def image_size(path: str | Path) -> tuple[int, int]:
    """``(width, height)`` of an image, read from its header (by ``imagesize``, which reads only
    the header bytes; Pillow for the formats it does not know)."""
    import imagesize
    from PIL import Image, UnidentifiedImageError

    try:
        w, h = imagesize.get(path)
    except (OSError, ValueError):
        w = h = -1
    if w > 0 and h > 0:
        return int(w), int(h)

    try:
        with Image.open(path) as im:
            w, h = im.size
    except (OSError, UnidentifiedImageError) as e:
        raise FormatError(f"cannot read the image size: {e}", path=path) from None
    return int(w), int(h)
