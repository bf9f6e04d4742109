"""Where a YOLO dataset keeps its class names, splits, label files and images.

Three layouts are understood:

* Ultralytics: ``data.yaml`` with ``names`` (list or ``{index: name}``), optional ``path`` and
  ``train``/``val``/``test`` (a directory of images, a ``.txt`` list of images, or a list of
  either); labels live where the image path has ``labels`` in place of ``images``.
* Darknet: ``obj.data`` (``names = data/obj.names``, ``train = data/train.txt`` ...), list files
  of images, label files beside the images (``obj_train_data/1.txt``).
* Loose: ``obj.names`` beside ``labels/`` (or ``Annotations/``), whose first-level folders are
  splits, with images under ``images/`` (or ``Images/``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from labelgate.core.errors import FormatError
from labelgate.formats._io import read_text
from labelgate.formats._media import ImageIndex

__all__ = ["YAML_NAMES", "LabelFile", "Layout", "find_layout", "natural_key"]

YAML_NAMES = ("data.yaml", "dataset.yaml", "data.yml")
_SPLIT_KEYS = ("train", "val", "test")
_NOT_SPLITS = frozenset({"path", "names", "nc", "kpt_shape", "flip_idx", "download", "task", "yaml_file", "channels"})


@dataclass
class LabelFile:
    """One item: its label file (may not exist: an image without labels), id and split."""

    path: str
    rel: str
    subset: str | None
    images: ImageIndex | None
    image: str | None = None


@dataclass
class Layout:
    kind: str
    root: Path
    names: list[str]
    kpt_shape: tuple[int, int] | None = None
    task: str | None = None
    files: list[LabelFile] = field(default_factory=list)


_DIGITS = re.compile(r"(\d+)")


def natural_key(s: str) -> tuple[Any, ...]:
    """Sort key that orders ``img2`` before ``img10``."""
    parts = _DIGITS.split(s)
    parts[1::2] = [int(p) for p in parts[1::2]]
    return tuple(parts)


def find_layout(path: Path) -> Layout:
    """Discover the layout at ``path`` (a directory, a data.yaml or an obj.data)."""
    if path.is_file():
        if path.suffix in (".yaml", ".yml"):
            return _ultralytics(path)
        if path.name == "obj.data":
            return _darknet(path)
        raise FormatError("not a YOLO dataset: expected a directory, a data.yaml or an obj.data", path=path)
    if not path.is_dir():
        raise FormatError("no such file or directory", path=path)
    for name in YAML_NAMES:
        if (path / name).is_file():
            return _ultralytics(path / name)
    if (path / "obj.data").is_file():
        return _darknet(path / "obj.data")
    if (path / "obj.names").is_file():
        return _loose(path)
    raise FormatError("not a YOLO dataset: no data.yaml, obj.data or obj.names here", path=path)


def _names_from_yaml(raw: Any, path: Path) -> list[str]:
    if isinstance(raw, list):
        names = [str(n) for n in raw]
    elif isinstance(raw, dict):
        try:
            keys = sorted(int(k) for k in raw)
        except (TypeError, ValueError):
            raise FormatError("names: keys must be class indices 0, 1, ...", path=path, where="names") from None
        if keys != list(range(len(keys))):
            raise FormatError(f"names: indices must run 0..{len(keys) - 1} without gaps, got {keys}", path=path, where="names")
        names = [str(raw[k] if k in raw else raw[str(k)]) for k in keys]
    else:
        raise FormatError("names: expected a list or a mapping of index to name", path=path, where="names")
    if any(not n for n in names) or len(set(names)) != len(names):
        raise FormatError("names: class names must be non-empty and unique", path=path, where="names")
    return names


def _label_dir(image_dir: Path) -> Path:
    parts = list(image_dir.parts)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            return Path(*parts)
    return image_dir


def _ultralytics(yaml_path: Path) -> Layout:
    try:
        cfg = yaml.safe_load(read_text(yaml_path))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else None
        raise FormatError(f"malformed YAML: {e}", path=yaml_path, where=where) from None
    if not isinstance(cfg, dict) or "names" not in cfg:
        raise FormatError("data.yaml has no 'names' (the class list)", path=yaml_path)
    names = _names_from_yaml(cfg["names"], yaml_path)
    base = yaml_path.parent
    if isinstance(cfg.get("path"), str):
        p = Path(cfg["path"])
        p = p if p.is_absolute() else base / p
        base = p if p.is_dir() else base
    kpt = cfg.get("kpt_shape")
    kpt_shape = None
    if kpt is not None:
        if not (isinstance(kpt, list) and len(kpt) == 2 and all(isinstance(v, int) for v in kpt) and kpt[1] in (2, 3) and kpt[0] > 0):
            raise FormatError(f"kpt_shape must be [K, 2] or [K, 3], got {kpt!r}", path=yaml_path, where="kpt_shape")
        kpt_shape = (kpt[0], kpt[1])
    task = cfg.get("task")
    layout = Layout("ultralytics", base, names, kpt_shape, task if isinstance(task, str) else None)
    # split -> label directories (or explicit label files from list files)
    dirs: dict[Path, list[str]] = {}
    listed: list[tuple[str, Path]] = []
    for key, value in cfg.items():
        if key in _NOT_SPLITS or not (key in _SPLIT_KEYS or isinstance(value, (str, list))):
            continue
        entries = value if isinstance(value, list) else [value]
        for entry in entries:
            if not isinstance(entry, str):
                continue
            p = Path(os.path.normpath(entry if os.path.isabs(entry) else base / entry))
            if not p.exists():  # Roboflow writes "../valid/images" for <root>/valid/images or <root>/val/images
                retry = [base / entry[3:]] if entry.startswith("../") else []
                p = next((Path(os.path.normpath(q)) for q in (*retry, base / key / "images") if q.exists()), p)
            if p.suffix == ".txt" and p.is_file():
                for line in read_text(p).splitlines():
                    line = line.strip()
                    if line:  # as Ultralytics: "./x" is relative to the list file, "x" to the dataset
                        img = Path(line)
                        if not img.is_absolute():
                            img = p.parent / line[2:] if line.startswith("./") else base / img
                        listed.append((key, Path(os.path.normpath(img))))
            elif p.is_dir() or key in _SPLIT_KEYS:
                dirs.setdefault(p, []).append(key)
    if not listed and not any(d.is_dir() or _label_dir(d).is_dir() for d in dirs):
        # Roboflow exports name splits that are not there; their folders are <split>/images
        dirs = {d / "images": [d.name] for d in sorted(base.iterdir())
                if d.is_dir() and ((d / "images").is_dir() or (d / "labels").is_dir())}
    claimed: set[str] = set()
    indexes: dict[Path, ImageIndex] = {}
    for image_dir, keys in dirs.items():
        subset = keys[0] if len(set(keys)) == 1 else None
        label_dir = _label_dir(image_dir)
        if not image_dir.is_dir() and not label_dir.is_dir() and {"train", "val"} & set(keys):
            raise FormatError(f"split {keys[0]!r} names {image_dir}, which does not exist (nor {label_dir}); "
                              "fix the path in data.yaml", path=yaml_path, where=keys[0])
        _collect(layout, label_dir, indexes.setdefault(image_dir, ImageIndex(image_dir)), subset, claimed)
    for key, img in listed:
        label = str(_label_dir(img.parent) / (img.stem + ".txt"))
        if label in claimed:
            continue
        claimed.add(label)
        layout.files.append(LabelFile(label, img.stem, key, None, str(img)))
    labels_root = base / "labels"
    if labels_root.is_dir():
        _collect(layout, labels_root, indexes.get(base / "images") or ImageIndex(base / "images"), None, claimed)
    return layout


def _collect(layout: Layout, label_dir: Path, images: ImageIndex, subset: str | None, claimed: set[str]) -> None:
    """Add the label files under ``label_dir`` and the images without one."""
    seen: set[str] = set()
    if label_dir.is_dir():
        root = str(label_dir)
        cut = len(root) + 1
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            prefix = dirpath[cut:].replace(os.sep, "/")
            for name in filenames:
                if not name.endswith(".txt"):
                    continue
                p = os.path.join(dirpath, name)
                if p in claimed:
                    continue
                claimed.add(p)
                rel = f"{prefix}/{name[:-4]}" if prefix else name[:-4]
                seen.add(rel)
                layout.files.append(LabelFile(p, rel, subset, images))
    for rel in images.stems:
        p = os.path.join(label_dir, f"{rel}.txt")
        if rel not in seen and p not in claimed:
            claimed.add(p)
            layout.files.append(LabelFile(p, rel, subset, images))


def _kv_file(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for i, line in enumerate(read_text(path).splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise FormatError(f"expected 'key = value', got {line!r}", path=path, where=f"line {i}")
        out[key.strip()] = value.strip()
    return out


def _in_root(root: Path, value: str) -> Path:
    """Darknet paths are written as ``data/...`` relative to the folder that holds obj.data."""
    p = Path(value)
    if p.is_absolute():
        return p
    if p.parts and p.parts[0] == "data" and not (root / p).exists():
        p = Path(*p.parts[1:])
    return root / p


def _read_names(path: Path) -> list[str]:
    if not path.is_file():
        raise FormatError("class names file not found", path=path)
    names = [line.strip() for line in read_text(path).splitlines() if line.strip()]
    if len(set(names)) != len(names):
        raise FormatError("class names must be unique", path=path)
    return names


def _darknet(obj_data: Path) -> Layout:
    root = obj_data.parent
    cfg = _kv_file(obj_data)
    names = _read_names(_in_root(root, cfg["names"]) if "names" in cfg else root / "obj.names")
    if cfg.get("classes", str(len(names))).strip() != str(len(names)):
        raise FormatError(f"classes = {cfg['classes']} but the names file lists {len(names)} classes", path=obj_data)
    layout = Layout("darknet", root, names)
    claimed: set[str] = set()
    for key, value in cfg.items():
        if key in ("classes", "names", "backup", "eval"):
            continue
        lst = _in_root(root, value)
        if lst.suffix != ".txt" or not lst.is_file():
            continue
        for line in read_text(lst).splitlines():
            if line.strip():
                img = _in_root(root, line.strip())
                label = str(img.with_suffix(".txt"))
                if label not in claimed:
                    claimed.add(label)
                    layout.files.append(LabelFile(label, _darknet_rel(img, root), key, None, str(img)))
    for d in sorted(root.glob("obj_*_data")):
        if d.is_dir():
            _collect(layout, d, ImageIndex(d), d.name[4:-5], claimed)
    return layout


def _darknet_rel(img: Path, root: Path) -> str:
    """The image's path below its ``obj_<subset>_data`` folder, without the suffix."""
    try:
        parts = img.relative_to(root).with_suffix("").parts
    except ValueError:
        return img.stem
    return "/".join(parts[1:]) if len(parts) > 1 else parts[0]


def _loose(root: Path) -> Layout:
    names = _read_names(root / "obj.names")
    labels, images = ("Annotations", "Images") if (root / "Annotations").is_dir() else ("labels", "images")
    layout = Layout("loose", root, names)
    claimed: set[str] = set()
    label_root, image_root = root / labels, root / images
    if label_root.is_dir():
        for entry in sorted(label_root.iterdir()):
            if entry.is_dir():
                _collect(layout, entry, ImageIndex(image_root / entry.name), entry.name, claimed)
    _collect(layout, label_root, ImageIndex(image_root), None, claimed)
    return layout
