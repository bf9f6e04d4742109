"""Colours and label PNGs shared by the VOC and PNG-mask codecs.

Label images come in three encodings: palette PNGs (mode ``P``, pixel = index into a colour
table, as Pascal VOC ships them), single-channel index PNGs (mode ``L`` or 16-bit ``I;16``,
pixel = index) and RGB PNGs (pixel = a colour that a colour map turns into an index).
:func:`read_label_png` turns any of them into an index array; :func:`write_label_png` writes one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from labelgate.core.errors import FormatError

__all__ = [
    "VOC_CLASSES",
    "hex_to_rgb",
    "natural_key",
    "read_label_png",
    "rgb_to_hex",
    "voc_colormap",
    "write_label_png",
]

VOC_CLASSES = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat", "chair", "cow",
    "diningtable", "dog", "horse", "motorbike", "person", "pottedplant", "sheep", "sofa", "train", "tvmonitor",
)
"""Pascal VOC's class list; the position is the class index in its segmentation PNGs."""

_HEX = re.compile(r"^#[0-9a-f]{6}$")


def voc_colormap(n: int = 256) -> npt.NDArray[np.uint8]:
    """The Pascal VOC colour table: colour ``i`` spreads the bits of ``i`` over R, G and B,
    most significant first (index 1 = (128, 0, 0), 2 = (0, 128, 0), 255 = (224, 224, 192))."""
    idx = np.arange(n, dtype=np.int64)
    cmap = np.zeros((n, 3), dtype=np.int64)
    for shift in range(8):
        for channel in range(3):
            bit = (idx >> (3 * shift + channel)) & 1
            cmap[:, channel] |= bit << (7 - shift)
    return cmap.astype(np.uint8)


def rgb_to_hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def hex_to_rgb(color: str) -> tuple[int, int, int] | None:
    """``"#rrggbb"`` (any case) as a tuple; None if ``color`` is not in that form."""
    c = color.strip().lower()
    if not _HEX.match(c):
        return None
    return (int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16))


def natural_key(s: str) -> tuple[Any, ...]:
    """Sort key putting ``img2`` before ``img10``."""
    parts = re.split(r"(\d+)", s)
    return tuple(int(p) if i % 2 else p for i, p in enumerate(parts))


def _pack(rgb: npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.int64]:
    a = rgb.astype(np.int64)
    return (a[..., 0] << 16) | (a[..., 1] << 8) | a[..., 2]


def read_label_png(path: Path, colors: Mapping[tuple[int, int, int], int] | None) -> npt.NDArray[np.int64]:
    """The index image stored in ``path``.

    Palette and single-channel PNGs give their pixel values; RGB(A) PNGs are mapped through
    ``colors`` (colour -> index). A colour missing from ``colors`` is an error naming the pixel.
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            arr = np.asarray(im)
    except (OSError, UnidentifiedImageError) as e:
        raise FormatError(f"cannot read PNG: {e}", path=path) from None
    if mode in ("P", "L", "I;16", "I;16B", "I", "1"):
        return arr.astype(np.int64)
    if mode in ("RGB", "RGBA"):
        if colors is None:
            raise FormatError("an RGB label image needs a colour map (labelmap or classes file)", path=path)
        packed = _pack(arr[..., :3])
        uniq, inverse = np.unique(packed, return_inverse=True)
        lut = np.empty(len(uniq), dtype=np.int64)
        table = {(r << 16) | (g << 8) | b: i for (r, g, b), i in colors.items()}
        for j, value in enumerate(uniq.tolist()):
            index = table.get(value)
            if index is None:
                ys, xs = np.nonzero(packed == value)
                rgb = (value >> 16, (value >> 8) & 255, value & 255)
                raise FormatError(
                    f"colour {rgb} is not in the colour map; add it to the labelmap or re-export the masks",
                    path=path,
                    where=f"pixel x={int(xs[0])}, y={int(ys[0])}",
                )
            lut[j] = index
        return lut[inverse].reshape(packed.shape)
    raise FormatError(f"unsupported PNG mode {mode!r}; expected palette, grey or RGB", path=path)


def write_label_png(fh: BinaryIO, index: npt.NDArray[np.integer[Any]], palette: npt.NDArray[np.uint8] | None) -> None:
    """Write an index image: a palette PNG when ``palette`` (N x 3) is given and indices fit in
    a byte, else an 8- or 16-bit grey PNG holding the indices themselves."""
    from PIL import Image

    top = int(index.max()) if index.size else 0
    if top > 65535:
        raise FormatError(f"index {top} does not fit in a 16-bit PNG")
    if palette is not None and top <= 255:
        im = Image.fromarray(index.astype(np.uint8))
        pal = np.zeros((256, 3), dtype=np.uint8)
        pal[: min(256, len(palette))] = palette[:256]
        im.putpalette(pal.ravel().tolist())
    elif top <= 255:
        im = Image.fromarray(index.astype(np.uint8))
    else:
        im = Image.fromarray(index.astype(np.uint16))
    im.save(fh, format="PNG", optimize=False, compress_level=1)
