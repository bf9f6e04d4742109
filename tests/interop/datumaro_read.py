"""Run by the Datumaro venv's Python (not by pytest): import each ``[KEY:]FORMAT=PATH`` argument with
``datumaro.Dataset.import_from`` and print, as one JSON object, every item's boxes
``[label, x1, y1, x2, y2]`` (plus ``{track_id, outside, keyframe}`` for video tracks) and the
label names, and its masks (set pixels), polygons, polylines and points; an import error is
printed with its causes."""

from __future__ import annotations

import json
import sys

TRACK_KEYS = ("track_id", "outside", "keyframe")


def main(specs: list[str]) -> dict[str, object]:
    import datumaro as dm
    import numpy as np
    from datumaro.components.annotation import AnnotationType

    out: dict[str, object] = {"datumaro": dm.__version__}
    for spec in specs:
        name, path = spec.split("=", 1)
        key, _, fmt = name.rpartition(":")  # "KEY:FORMAT=PATH" reports under KEY
        key = key or fmt
        try:
            ds = dm.Dataset.import_from(path, fmt)
            labels = ds.categories()[AnnotationType.label]
            items: dict[str, list[list[object]]] = {}
            shapes: dict[str, list[list[object]]] = {}
            for item in ds:
                boxes = []
                others: list[list[object]] = []
                for ann in item.annotations:
                    if ann.type == AnnotationType.mask:
                        pixels = np.argwhere(ann.image > 0)  # (row, column) of every set pixel
                        others.append(["mask", labels[ann.label].name, pixels.tolist()])
                    elif ann.type in (AnnotationType.polygon, AnnotationType.points, AnnotationType.polyline):
                        others.append([ann.type.name, labels[ann.label].name, [float(v) for v in ann.points]])
                    elif ann.type == AnnotationType.bbox:
                        x, y, w, h = ann.get_bbox()
                        box: list[object] = [labels[ann.label].name, x, y, x + w, y + h]
                        track = {k: ann.attributes[k] for k in TRACK_KEYS if k in ann.attributes}
                        boxes.append([*box, track] if track else box)
                items[item.id] = sorted(boxes, key=json.dumps)
                shapes[item.id] = others
            out[key] = {"items": items, "shapes": shapes, "labels": [c.name for c in labels]}
        except Exception as e:  # any import failure is reported to the test, which fails with the chain
            chain = []
            err: BaseException | None = e
            while err is not None:
                chain.append(f"{type(err).__name__}: {err}")
                err = err.__cause__ or err.__context__
            out[key] = {"error": " <- ".join(chain)}
    return out


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
