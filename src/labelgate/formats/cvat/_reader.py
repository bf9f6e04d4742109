"""Read CVAT for images 1.1 and CVAT for video 1.1 XML into a :class:`Dataset`."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from typing import Any

from labelgate.core import (
    Annotation,
    AttributeSpec,
    Classification,
    Dataset,
    FormatError,
    InvariantError,
    Item,
    ItemKind,
    LabelClass,
    LabelSchema,
    Provenance,
    Region,
    Source,
    Track,
    TrackShape,
)
from labelgate.formats._io import parse_xml
from labelgate.formats.cvat._meta import schema_from_labels
from labelgate.formats.cvat._shapes import SHAPE_TAGS, read_attributes, read_shape

__all__ = ["annotation_files", "frame_item_id", "item_ids", "read_cvat"]

_STEP = re.compile(r"step\s*=\s*(\d+)")


def frame_item_id(frame: int) -> str:
    """Item id of a video frame, as CVAT names frame images (and Datumaro keys them)."""
    return f"frame_{frame:06d}"


def item_ids(entries: list[tuple[str, str | None]]) -> list[str]:
    """Item ids for ``(image name, subset)`` pairs: the file name without directories and
    extension; where that is ambiguous, the name's path without extension; where that still
    is, prefixed by the subset (as in CVAT project exports, one name in several subsets)."""

    def stem(p: PurePosixPath) -> str:
        return str(p.with_suffix("")) if p.suffix and p.stem else str(p)

    paths = [PurePosixPath(name) for name, _ in entries]
    ids = [stem(PurePosixPath(p.name)) for p in paths]
    for key in (lambda i: stem(paths[i]), lambda i: f"{entries[i][1]}/{stem(paths[i])}" if entries[i][1] else stem(paths[i])):
        counts = Counter(ids)
        ids = [key(i) if counts[x] > 1 else x for i, x in enumerate(ids)]
    return ids


def annotation_files(path: Path) -> list[tuple[Path, str | None]]:
    """The XML files to read and the subset a file's stem gives its images (Datumaro's layout
    of one file per subset), or None for ``annotations.xml`` and a file given directly."""
    if path.is_file():
        return [(path, None)]
    if not path.is_dir():
        raise FormatError("no such file or directory", path=path)
    main = path / "annotations.xml"
    if main.is_file():
        return [(main, None)]
    files = sorted(p for p in path.glob("*.xml") if p.is_file())
    if not files:
        raise FormatError("no CVAT XML file here (expected annotations.xml or <subset>.xml)", path=path)
    return [(f, f.stem) for f in files]


class _Reader:
    def __init__(self, on_unsupported: str) -> None:
        if on_unsupported not in ("error", "skip"):
            raise FormatError(f"on_unsupported must be 'error' or 'skip', got {on_unsupported!r}")
        self.skip = on_unsupported == "skip"
        self.skipped: dict[str, int] = {}
        self.classes: dict[str, LabelClass] = {}
        self.strict_labels = False
        self.path: Path = Path()

    # -- helpers -------------------------------------------------------------------------------
    def fail(self, message: str, where: str) -> FormatError:
        return FormatError(message, path=self.path, where=where)

    def unsupported(self, what: str, where: str, hint: str) -> None:
        if not self.skip:
            raise self.fail(f"{what}; {hint}, or read with on_unsupported='skip' to leave such shapes out", where)
        self.skipped[what] = self.skipped.get(what, 0) + 1

    def label_of(self, el: ET.Element, where: str) -> str | None:
        label = el.get("label") or ""
        if not label:
            self.unsupported("shape without a label", where, "give it a label in CVAT")
            return None
        if self.strict_labels and label not in self.classes:
            raise self.fail(f"unknown label {label!r}; <meta> declares {list(self.classes)}", where)
        return label

    def specs(self, label: str) -> Mapping[str, AttributeSpec]:
        cls = self.classes.get(label)
        return {} if cls is None else {a.name: a for a in cls.attributes}

    # -- meta ----------------------------------------------------------------------------------
    def meta(self, root: ET.Element) -> tuple[LabelSchema, ET.Element | None]:
        meta = root.find("meta")
        task = None
        labels = None
        if meta is not None:
            task = meta.find("task")
            if task is None:
                task = meta.find("project")
            labels = meta.find(".//labels")
        try:
            schema = schema_from_labels(labels)
        except (ValueError, InvariantError) as e:
            raise self.fail(str(e), "<meta>/<labels>") from None
        self.strict_labels = labels is not None
        self.classes = {c.name: c for c in schema.classes}
        return schema, task

    # -- CVAT for images -----------------------------------------------------------------------
    def images(self, root: ET.Element, stem_subset: str | None) -> tuple[list[dict[str, Any]], list[list[Region]]]:
        entries: list[dict[str, Any]] = []
        regions: list[list[Region]] = []
        for k, im in enumerate(root.findall("image")):
            name = im.get("name")
            where = f"<image> #{k + 1}" + (f" name={name!r}" if name else "")
            if not name:
                raise self.fail("<image> has no name", where)
            try:
                number = int(im.get("id", str(k)))
                w, h = im.get("width"), im.get("height")
                size = (int(w), int(h)) if w is not None and h is not None else None
            except ValueError as e:
                raise self.fail(f"bad id, width or height: {e}", where) from None
            subset = im.get("subset") or stem_subset
            regs: list[Region] = []
            sources = set()
            for j, el in enumerate(im):
                swhere = f"{where}, shape #{j + 1} <{el.tag}>"
                if el.tag not in SHAPE_TAGS:
                    self.unsupported(f"unsupported shape <{el.tag}>", swhere, "convert it to a polygon or box in CVAT")
                    continue
                label = self.label_of(el, swhere)
                if label is None:
                    continue
                try:
                    s = read_shape(el, self.classes.get(label), size, self.specs(label))
                    sources.add((el.get("source") or "manual").lower())
                    regs.append(Region(s.geometry, label, attributes=s.attributes, group=s.group,
                                       z_order=s.z_order, occluded=s.occluded))
                except (ValueError, InvariantError) as e:
                    raise self.fail(str(e), swhere) from None
            # shapes a model made and nobody touched (CVAT marks edited ones "semi-auto")
            model = sources == {"auto"}
            entries.append({"name": name, "number": number, "size": size, "subset": subset, "model": model})
            regions.append(regs)
        return entries, regions

    # -- CVAT for video ------------------------------------------------------------------------
    def video(self, root: ET.Element, task: ET.Element | None) -> tuple[list[Item], list[Annotation], list[Track]]:
        meta = root.find("meta")
        video = (meta.findtext("source") if meta is not None else None) or None
        if video is None and task is not None:
            video = task.findtext("name") or None
        size = None
        frames: set[int] = set()
        if task is not None:
            try:
                ow, oh = task.findtext("original_size/width"), task.findtext("original_size/height")
                if ow and oh:
                    size = (int(ow), int(oh))
                start, stop = task.findtext("start_frame"), task.findtext("stop_frame")
                m = _STEP.search(task.findtext("frame_filter") or "")
                step = int(m.group(1)) if m else 1
                if start and stop:
                    frames.update(range(int(start), int(stop) + 1, max(step, 1)))
            except ValueError as e:
                raise self.fail(f"bad frame range or size: {e}", "<meta>/<task>") from None
        tracks: list[Track] = []
        for k, tr in enumerate(root.findall("track")):
            where = f"<track> #{k + 1} id={tr.get('id')!r}"
            label = self.label_of(tr, where)
            if label is None:
                continue
            specs = self.specs(label)
            shapes = []
            track_attrs: dict[str, Any] = {}
            try:
                tid = int(tr.get("id", ""))
                group = int(tr.attrib["group_id"]) if "group_id" in tr.attrib else None
                for j, el in enumerate(tr):
                    swhere = f"{where}, shape #{j + 1} <{el.tag}>"
                    if el.tag not in SHAPE_TAGS - {"tag"}:
                        self.unsupported(f"unsupported shape <{el.tag}>", swhere, "convert it in CVAT")
                        continue
                    try:
                        s = read_shape(el, self.classes.get(label), size, specs)
                        frame = int(el.get("frame", ""))
                    except (ValueError, InvariantError) as e:
                        raise self.fail(str(e), swhere) from None
                    mutable = {}
                    for n, v in s.attributes.items():
                        spec = specs.get(n)
                        if spec is not None and not spec.mutable:
                            track_attrs.setdefault(n, v)
                        else:
                            mutable[n] = v
                    frames.add(frame)
                    shapes.append(TrackShape(frame, s.geometry, s.keyframe, s.outside, s.occluded, s.z_order, mutable))
                if not shapes:
                    continue
                source = (tr.get("source") or "manual").lower()
                prov = Provenance(Source.MODEL) if source in ("auto", "semi-auto") else Provenance()
                tracks.append(Track(tid, label, tuple(shapes), video, track_attrs, group, prov))
            except FormatError:
                raise
            except (ValueError, InvariantError) as e:
                raise self.fail(str(e), where) from None
        tags: dict[int, list[Region]] = {}
        for k, el in enumerate(root.findall("tag")):
            where = f"<tag> #{k + 1}"
            label = self.label_of(el, where)
            if label is None:
                continue
            try:
                frame = int(el.get("frame", ""))
                group = int(el.attrib["group_id"]) if "group_id" in el.attrib else None
                attrs = read_attributes(el, self.specs(label))
            except ValueError as e:
                raise self.fail(str(e), where) from None
            frames.add(frame)
            tags.setdefault(frame, []).append(Region(Classification(), label, attributes=attrs, group=group))
        w, h = size if size is not None else (None, None)
        items = [Item(frame_item_id(f), ItemKind.VIDEO_FRAME, video=video, frame=f, width=w, height=h)
                 for f in sorted(frames)]
        anns = [Annotation(it.id, tags.get(it.frame or 0, [])) for it in items]
        return items, anns, tracks


def read_cvat(path: Path, on_unsupported: str = "error") -> Dataset:
    """Read a CVAT XML file, or a directory holding ``annotations.xml`` or ``<subset>.xml`` files."""
    r = _Reader(on_unsupported)
    schema = LabelSchema()
    entries: list[dict[str, Any]] = []
    regions: list[list[Region]] = []
    frame_items: list[Item] = []
    frame_anns: list[Annotation] = []
    tracks: list[Track] = []
    for file, stem_subset in annotation_files(path):
        r.path = file
        root = parse_xml(file).getroot()
        if root.tag != "annotations":
            raise FormatError(f"root element is <{root.tag}>, expected <annotations> (is this CVAT XML?)", path=file)
        file_schema, task = r.meta(root)
        schema = LabelSchema(schema.classes + tuple(c for c in file_schema.classes if c.name not in schema))
        mode = (task.findtext("mode") or "").strip() if task is not None else ""
        if root.find("image") is None and (root.find("track") is not None or mode == "interpolation"):
            its, anns, trs = r.video(root, task)
            frame_items += its
            frame_anns += anns
            tracks += trs
        else:
            found, regs = r.images(root, stem_subset)
            entries += found
            regions += regs
    ids = item_ids([(e["name"], e["subset"]) for e in entries])
    items: list[Item] = []
    for iid, e in zip(ids, entries, strict=True):
        w, h = e["size"] if e["size"] is not None else (None, None)
        items.append(Item(iid, media=e["name"], width=w, height=h, number=e["number"], subset=e["subset"]))
    annotations = [Annotation(it.id, regs, Provenance(Source.MODEL) if e["model"] else None)
                   for it, regs, e in zip(items, regions, entries, strict=True)]
    # files without a <labels> block name their classes only in the shapes
    schema = schema.with_classes([r.label for regs in regions for r in regs] + [t.label for t in tracks]
                                 + [r.label for a in frame_anns for r in a.regions])
    try:
        ds = Dataset(items + frame_items, annotations + frame_anns, schema, tracks)
    except InvariantError as e:
        raise FormatError(f"{e}; give each image a unique name", path=path) from None
    if r.skipped:
        ds.metadata["cvat_skipped"] = dict(r.skipped)
    return ds
