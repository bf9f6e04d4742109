"""One timed benchmark task, run in the interpreter of the tool under test (a peer's own venv).

    python tasks.py TOOL TASK WORK OUT

TOOL: floor | labelgate | pycocotools | globox | datumaro | supervision | label-studio-converter
TASK: load | coco2yolo | coco2voc | yolo2coco. WORK holds coco/ and yolo/ (see run.py); OUT is
an empty folder for the output. Prints one JSON line: wall seconds and CPU seconds (user + system
of this process; the task only, imports excluded) and the process's peak resident memory in MB. Only the tool's own modules are imported.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

COCO_FILE = "coco/annotations/instances_train.json"


def _peak_rss_mb() -> float:
    """This process's peak resident memory since it started. ``ru_maxrss`` survives exec, so a
    task started by a runner that had just generated a large dataset would report the runner's
    peak; the kernel's VmHWM belongs to this program's own address space."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---- the floor: the least work any tool must do -------------------------------------------------


def _floor_doc(work: Path) -> Any:
    import orjson

    gc.freeze()
    gc.disable()
    return orjson.loads((work / COCO_FILE).read_bytes())


def _floor_columns(doc: Any) -> Any:
    from itertools import chain
    from operator import itemgetter

    import numpy as np

    imgs, anns = doc["images"], doc["annotations"]
    n = len(anns)
    img_ids = np.fromiter(map(itemgetter("id"), imgs), np.int64, len(imgs))
    a_img = np.fromiter(map(itemgetter("image_id"), anns), np.int64, n)
    a_cat = np.fromiter(map(itemgetter("category_id"), anns), np.int64, n)
    box = np.fromiter(chain.from_iterable(map(itemgetter("bbox"), anns)), np.float64, 4 * n).reshape(n, 4)
    order = np.argsort(img_ids)
    pos = order[np.searchsorted(img_ids[order], a_img)]
    rows = np.argsort(pos, kind="stable")
    cat_ids = [c["id"] for c in doc["categories"]]
    cat_index = np.zeros(max(cat_ids) + 1, np.int64)
    cat_index[cat_ids] = np.arange(len(cat_ids))
    bounds = np.searchsorted(pos[rows], np.arange(len(imgs) + 1))
    return imgs, pos[rows], cat_index[a_cat[rows]], box[rows], bounds


def floor_load(work: Path, out: Path) -> int:
    return len(_floor_doc(work)["annotations"])


def floor_coco2yolo(work: Path, out: Path) -> int:
    import numpy as np

    doc = _floor_doc(work)
    imgs, img, cls, box, bounds = _floor_columns(doc)
    wh = np.asarray([(im["width"], im["height"]) for im in imgs], np.float64)[img]
    xywhn = np.column_stack([(box[:, 0] + box[:, 2] / 2) / wh[:, 0], (box[:, 1] + box[:, 3] / 2) / wh[:, 1],
                             box[:, 2] / wh[:, 0], box[:, 3] / wh[:, 1]])
    lines = list(map("%d %.6f %.6f %.6f %.6f\n".__mod__, zip(cls.tolist(), *xywhn.T.tolist(), strict=True)))
    labels = out / "labels" / "train"
    labels.mkdir(parents=True)
    b = bounds.tolist()
    for i, im in enumerate(imgs):
        if b[i + 1] > b[i]:
            with open(labels / (os.path.splitext(im["file_name"])[0] + ".txt"), "w") as fh:
                fh.write("".join(lines[b[i] : b[i + 1]]))
    names = "".join(f"  {i}: {c['name']}\n" for i, c in enumerate(doc["categories"]))
    (out / "data.yaml").write_text(f"path: .\ntrain: images/train\nval: images/train\nnames:\n{names}")
    return len(lines)


def floor_coco2voc(work: Path, out: Path) -> int:
    doc = _floor_doc(work)
    imgs, _img, cls, box, bounds = _floor_columns(doc)
    names = [c["name"] for c in doc["categories"]]
    obj = ("<object><name>%s</name><bndbox><xmin>%r</xmin><ymin>%r</ymin><xmax>%r</xmax><ymax>%r</ymax>"
           "</bndbox></object>")
    x2 = box[:, 0] + box[:, 2]
    y2 = box[:, 1] + box[:, 3]
    objs = list(map(obj.__mod__, zip([names[c] for c in cls.tolist()], box[:, 0].tolist(), box[:, 1].tolist(),
                                     x2.tolist(), y2.tolist(), strict=True)))
    ann = out / "Annotations"
    ann.mkdir(parents=True)
    b = bounds.tolist()
    for i, im in enumerate(imgs):
        head = (f"<annotation><filename>{im['file_name']}</filename><size><width>{im['width']}</width>"
                f"<height>{im['height']}</height><depth>3</depth></size>")
        with open(ann / (os.path.splitext(im["file_name"])[0] + ".xml"), "w") as fh:
            fh.write(head + "".join(objs[b[i] : b[i + 1]]) + "</annotation>\n")
    return len(objs)


def floor_yolo2coco(work: Path, out: Path) -> int:
    import numpy as np
    import orjson
    import yaml
    from PIL import Image

    gc.freeze()
    gc.disable()
    root = work / "yolo"
    names = yaml.safe_load((root / "data.yaml").read_text())["names"]
    images, anns = [], []
    for i, entry in enumerate(sorted(os.scandir(root / "images" / "train"), key=lambda e: e.name)):
        with Image.open(entry.path) as im:
            w, h = im.size
        images.append({"id": i + 1, "file_name": entry.name, "width": w, "height": h})
        label = root / "labels" / "train" / (os.path.splitext(entry.name)[0] + ".txt")
        if not label.exists():
            continue
        a = np.array(label.read_text().split(), dtype=np.float64).reshape(-1, 5)
        a[:, 1:] *= (w, h, w, h)
        a[:, 1:3] -= a[:, 3:] / 2
        for c, x, y, bw, bh in a.tolist():
            anns.append({"id": len(anns) + 1, "image_id": i + 1, "category_id": int(c) + 1, "bbox": [x, y, bw, bh],
                         "area": bw * bh, "iscrowd": 0, "segmentation": []})
    cats = [{"id": int(k) + 1, "name": v} for k, v in names.items()]
    (out / "instances.json").write_bytes(orjson.dumps({"images": images, "annotations": anns, "categories": cats}))
    return len(anns)


# ---- Labelgate --------------------------------------------------------------------------------


def labelgate_load(work: Path, out: Path) -> int:
    from labelgate import formats

    return len(formats.read(work / COCO_FILE, "coco").table())


def labelgate_coco2yolo(work: Path, out: Path) -> int:
    from labelgate import formats

    return formats.write(formats.read(work / COCO_FILE, "coco"), out, "yolo", convert=True).regions


def labelgate_coco2voc(work: Path, out: Path) -> int:
    from labelgate import formats

    return formats.write(formats.read(work / COCO_FILE, "coco"), out, "voc").regions


def labelgate_yolo2coco(work: Path, out: Path) -> int:
    from labelgate import formats

    return formats.write(formats.read(work / "yolo", "yolo"), out / "instances_default.json", "coco").regions


# ---- peers -------------------------------------------------------------------------------------


def pycocotools_load(work: Path, out: Path) -> int:
    from pycocotools.coco import COCO

    return len(COCO(str(work / COCO_FILE)).anns)


def _globox_label_ids(work: Path) -> dict[str, int]:
    import orjson

    cats = orjson.loads((work / COCO_FILE).read_bytes())["categories"]
    return {c["name"]: i for i, c in enumerate(cats)}


def globox_load(work: Path, out: Path) -> int:
    from globox import AnnotationSet

    return sum(len(a.boxes) for a in AnnotationSet.from_coco(work / COCO_FILE))


def globox_coco2yolo(work: Path, out: Path) -> int:
    from globox import AnnotationSet

    s = AnnotationSet.from_coco(work / COCO_FILE)
    s.save_yolo_v5(out / "labels", label_to_id=_globox_label_ids(work))
    return sum(len(a.boxes) for a in s)


def globox_coco2voc(work: Path, out: Path) -> int:
    from globox import AnnotationSet

    s = AnnotationSet.from_coco(work / COCO_FILE)
    s.save_pascal_voc(out / "Annotations")
    return sum(len(a.boxes) for a in s)


def globox_yolo2coco(work: Path, out: Path) -> int:
    from globox import AnnotationSet

    s = AnnotationSet.from_yolo_v5(work / "yolo" / "labels" / "train", image_folder=work / "yolo" / "images" / "train")
    s.save_coco(out / "instances.json", auto_ids=True)
    return sum(len(a.boxes) for a in s)


def datumaro_load(work: Path, out: Path) -> int:
    import datumaro as dm

    ds = dm.Dataset.import_from(str(work / "coco"), "coco_instances")
    return sum(len(item.annotations) for item in ds)


def datumaro_coco2yolo(work: Path, out: Path) -> int:
    import datumaro as dm

    ds = dm.Dataset.import_from(str(work / "coco"), "coco_instances")
    ds.export(str(out), "yolo", save_media=False)
    return sum(len(item.annotations) for item in ds)


def datumaro_coco2voc(work: Path, out: Path) -> int:
    import datumaro as dm

    ds = dm.Dataset.import_from(str(work / "coco"), "coco_instances")
    ds.export(str(out), "voc_detection", save_media=False)
    return sum(len(item.annotations) for item in ds)


def datumaro_yolo2coco(work: Path, out: Path) -> int:
    import datumaro as dm

    ds = dm.Dataset.import_from(str(work / "yolo"), "yolo")  # Datumaro's advice: "yolo" detects the Ultralytics layout
    ds.export(str(out), "coco_instances", save_media=False)
    return sum(len(item.annotations) for item in ds)


def _sv_coco(work: Path) -> Any:
    import supervision as sv

    return sv.DetectionDataset.from_coco(str(work / "coco" / "images" / "train"), str(work / COCO_FILE))


def supervision_load(work: Path, out: Path) -> int:
    return sum(len(d) for _, _, d in _sv_coco(work))


def supervision_coco2yolo(work: Path, out: Path) -> int:
    ds = _sv_coco(work)
    ds.as_yolo(annotations_directory_path=str(out / "labels"), data_yaml_path=str(out / "data.yaml"))
    return sum(len(d) for _, _, d in ds)


def supervision_coco2voc(work: Path, out: Path) -> int:
    ds = _sv_coco(work)
    ds.as_pascal_voc(annotations_directory_path=str(out / "Annotations"))
    return sum(len(d) for _, _, d in ds)


def supervision_yolo2coco(work: Path, out: Path) -> int:
    import supervision as sv

    y = work / "yolo"
    ds = sv.DetectionDataset.from_yolo(str(y / "images" / "train"), str(y / "labels" / "train"), str(y / "data.yaml"))
    ds.as_coco(annotations_path=str(out / "instances.json"))
    return sum(len(d) for _, _, d in ds)


def _ls(src_kind: str, work: Path, out: Path) -> tuple[Any, Path]:
    from label_studio_converter import Converter

    tasks = out / "_ls" / "tasks.json"
    tasks.parent.mkdir(parents=True)
    if src_kind == "coco":
        from label_studio_converter.imports.coco import convert_coco_to_ls

        convert_coco_to_ls(str(work / COCO_FILE), str(tasks))
    else:
        from label_studio_converter.imports.yolo import convert_yolo_to_ls

        convert_yolo_to_ls(str(work / "yolo_ls"), str(tasks))
    # the importers write tasks without ids, which the exporters require: number them
    import json as _json

    data = _json.loads(tasks.read_text())
    for i, t in enumerate(data):
        t.setdefault("id", i + 1)
    tasks.write_text(_json.dumps(data))
    config = next(tasks.parent.glob("*.xml"))
    return Converter(config=str(config), project_dir=str(out / "_ls"), download_resources=False), tasks


def label_studio_converter_coco2yolo(work: Path, out: Path) -> int:
    conv, tasks = _ls("coco", work, out)
    conv.convert_to_yolo(str(tasks), str(out / "yolo"), is_dir=False)
    return -1


def label_studio_converter_coco2voc(work: Path, out: Path) -> int:
    conv, tasks = _ls("coco", work, out)
    conv.convert_to_voc(str(tasks), str(out / "voc"), is_dir=False)
    return -1


def label_studio_converter_yolo2coco(work: Path, out: Path) -> int:
    conv, tasks = _ls("yolo", work, out)
    conv.convert_to_coco(str(tasks), str(out / "coco"), is_dir=False)
    return -1


IMPORTS = {
    "floor": ("orjson", "numpy", "yaml", "PIL.Image"),
    "labelgate": ("labelgate.formats", "labelgate.formats.coco", "labelgate.formats.yolo", "labelgate.formats.voc"),
    "pycocotools": ("pycocotools.coco",),
    "globox": ("globox", "orjson"),
    "datumaro": ("datumaro", "datumaro.plugins.data_formats.coco.importer"),
    "supervision": ("supervision",),
    "label-studio-converter": ("label_studio_converter", "label_studio_converter.imports.coco",
                               "label_studio_converter.imports.yolo"),
}


def main() -> None:
    import importlib

    tool, task, work, out = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
    fn = globals().get(f"{tool.replace('-', '_')}_{task}")
    if fn is None:
        print(json.dumps({"error": "not applicable"}))
        return
    for module in IMPORTS.get(tool, ()):
        # imports are not part of the task's time; a missing module fails the task itself below
        with contextlib.suppress(ImportError):
            importlib.import_module(module)
    if tool == "labelgate":  # the registry reads entry points once per process: setup, like imports
        from labelgate import formats

        for name in ("coco", "yolo", "voc"):
            formats.get_codec(name)
    out.mkdir(parents=True, exist_ok=True)
    t, c = time.perf_counter(), time.process_time()
    n = fn(work, out)
    seconds, cpu = time.perf_counter() - t, time.process_time() - c
    rss = _peak_rss_mb()
    print(json.dumps({"seconds": seconds, "cpu": cpu, "maxrss_mb": rss, "objects": n}))
    sys.stdout.flush()
    os._exit(0)  # skip tearing down millions of objects: no tool is charged for its exit


if __name__ == "__main__":
    main()
