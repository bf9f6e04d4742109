"""Write a (restricted) :class:`Dataset` as CVAT for images 1.1 or CVAT for video 1.1 XML.

The writer checks, value by value, what would not read back unchanged and records it in the
report (attribute values changed to text, polygon holes, keypoint visibility without a
skeleton, masks on images of another size, renamed items, one-frame tracks, ...).
"""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Mapping
from pathlib import PurePosixPath

from labelgate.core import (
    AttributeSpec,
    AttrValue,
    Classification,
    Dataset,
    FormatError,
    Item,
    ItemKind,
    Keypoints,
    Mask,
    Polygon,
    Provenance,
    Region,
    Source,
    Track,
)
from labelgate.formats.cvat._meta import labels_element, spec_round_trips
from labelgate.formats.cvat._reader import frame_item_id, item_ids
from labelgate.formats.cvat._shapes import Shape, shape_element
from labelgate.formats.cvat._values import attr_from_text, attr_to_text
from labelgate.formats.report import ConversionReport

__all__ = ["cvat_document"]


_NOT_XML = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


class _Writer:
    def __init__(self, ds: Dataset, report: ConversionReport) -> None:
        self.ds = ds
        self.report = report
        self.classes = {c.name: c for c in ds.schema.classes}
        self.regions = 0

    def specs(self, label: str) -> Mapping[str, AttributeSpec]:
        cls = self.classes.get(label)
        return {} if cls is None else {a.name: a for a in cls.attributes}

    def attributes(self, attrs: Mapping[str, AttrValue], label: str, where: str) -> dict[str, AttrValue]:
        """The attributes as written; reports values CVAT would change or refuse."""
        specs = self.specs(label)
        out: dict[str, AttrValue] = {}
        for name, value in attrs.items():
            spec = specs.get(name)
            if spec is not None and spec.check(value):
                self.report.drop("region.attributes", f"{where} {name}={value!r}", "dropped: not allowed by the schema")
                continue
            try:
                back = attr_from_text(attr_to_text(value), spec)
            except ValueError:
                back = None
            if back != value or type(back) is not type(value):
                self.report.drop("region.attributes", f"{where} {name}={value!r}", "changed type: CVAT keeps text")
            out[name] = value
        return out

    def schema(self) -> ET.Element:
        s = self.ds.schema
        if s.attributes:
            self.report.drop("schema.attributes", "dataset", "dropped: CVAT has no dataset-wide attributes")
        for c in s.classes:
            if c.skeleton is not None and c.skeleton.sigmas is not None:
                self.report.drop("schema.skeleton.sigmas", c.name)
            for spec in c.attributes:
                if not spec_round_trips(spec):
                    self.report.drop("schema.attributes", f"{c.name}.{spec.name}", "changed: CVAT keeps text")
        return labels_element(s)

    def shape(self, r: Region, where: str, size: tuple[int, int] | None) -> tuple[Shape, tuple[str, ...] | None] | None:
        """The shape to write for ``r`` and its skeleton point names; None to leave it out."""
        g = r.geometry
        skeleton = None
        if isinstance(g, Polygon) and g.holes:
            self.report.drop("geometry.polygon.holes", where, "dropped: CVAT polygons have no holes")
            g = Polygon(g.points)
        elif isinstance(g, Keypoints):
            cls = self.classes.get(r.label)
            if cls is not None and cls.skeleton is not None and len(cls.skeleton.points) == len(g):
                skeleton = cls.skeleton.points
            elif any(v != 2 for v in g.visibility):
                self.report.drop("region.keypoints.visibility", where, "set to 2: CVAT points need a skeleton label")
        elif isinstance(g, Mask):
            if size is None or size != (g.width, g.height):
                self.report.drop("geometry.mask", where, "dropped: the image size is unknown or not the mask's")
                return None
            if g.area == 0:
                self.report.drop("geometry.mask", where, "dropped: empty mask")
                return None
        attrs = self.attributes(r.attributes, r.label, where)
        return Shape(g, r.occluded, r.z_order, r.group, attrs), skeleton

    # -- CVAT for images -----------------------------------------------------------------------
    def unique_names(self, items: list[Item], names: list[str]) -> list[str]:
        """Names unique within each subset (CVAT keys images by name): a name shared by several
        images becomes the item id plus the name's extension."""
        seen = Counter((it.subset, n) for it, n in zip(items, names, strict=True))
        out = []
        for it, n in zip(items, names, strict=True):
            if seen[(it.subset, n)] > 1:
                n2 = it.id + PurePosixPath(n).suffix
                self.report.drop("item.media", f"{it.id}: {n} -> {n2}", "renamed: several images share the name")
                n = n2
            out.append(n)
        if len(set(zip((it.subset for it in items), out, strict=True))) != len(out):
            raise FormatError("two images would share one name in CVAT XML even after renaming by item id; "
                              "give the items distinct ids or media names")
        return out

    def images(self, root: ET.Element, meta: ET.Element) -> None:
        items = [it for it in self.ds.items.values() if it.kind is ItemKind.IMAGE]
        for it in self.ds.items.values():
            if it.kind is not ItemKind.IMAGE:
                self.report.drop(f"item.kind.{it.kind.value}", it.id, "dropped: CVAT for images holds images")
        names = []
        for it in items:
            for f in ("video", "frame"):
                if getattr(it, f) is not None:
                    self.report.drop(f"item.{f}", it.id, "dropped: CVAT for images has no video frames")
            if it.media is None:
                self.report.drop("item.media", it.id, "set to the item id: CVAT names every image")
            names.append(it.media or it.id)
        names = self.unique_names(items, names)
        for it, back in zip(items, item_ids([(n, it.subset) for n, it in zip(names, items, strict=True)]), strict=True):
            if back != it.id:
                self.report.drop("item.id", f"{it.id} -> {back}", "renamed: CVAT keys images by file name")
        used = {it.number for it in items if it.number is not None}
        next_number = 0
        subsets = list(dict.fromkeys(it.subset for it in items if it.subset is not None))
        container = _sub(meta, "project" if subsets else "task")
        _sub(container, "name", "labelgate")
        _sub(container, "size", str(len(items)))
        _sub(container, "mode", "annotation")
        if subsets:
            tasks = _sub(container, "tasks")
            for sub in subsets:
                t = _sub(tasks, "task")
                _sub(t, "name", sub)
                _sub(t, "size", str(sum(1 for it in items if it.subset == sub)))
                _sub(t, "mode", "annotation")
                _sub(t, "subset", sub)
            _sub(container, "subsets", "\n".join(subsets))
        container.append(self.schema())
        by_item = self.ds.by_item()
        for it, name in zip(items, names, strict=True):
            number = it.number
            if number is None:
                while next_number in used:
                    next_number += 1
                number = next_number
                used.add(number)
                self.report.drop("item.number", f"{it.id} -> {number}", "assigned: CVAT numbers every image")
            attrs = {"id": str(number), "name": name}
            if it.subset is not None:
                attrs["subset"] = it.subset
            if it.width is not None and it.height is not None:
                attrs["width"], attrs["height"] = str(it.width), str(it.height)
            el = _sub(root, "image")
            el.attrib.update(attrs)
            for a in by_item[it.id]:
                for k, r in enumerate(a.regions):
                    where = f"{it.id} region {k}"
                    made = self.shape(r, where, it.size)
                    if made is not None and shape_element(el, r.label, made[0], made[1]) is not None:
                        self.regions += 1

    # -- CVAT for video ------------------------------------------------------------------------
    def video(self, root: ET.Element, meta: ET.Element) -> None:
        ds = self.ds
        frames_items = [it for it in ds.items.values() if it.kind is ItemKind.VIDEO_FRAME]
        for it in ds.items.values():
            if it.kind is not ItemKind.VIDEO_FRAME:
                self.report.drop(f"item.kind.{it.kind.value}", it.id, "dropped: CVAT for video holds frames of one video")
        videos = {it.video for it in frames_items} | {t.video for t in ds.tracks}
        videos.discard(None)
        if len(videos) > 1:
            raise FormatError(f"CVAT for video holds one video, this dataset has {sorted(v for v in videos if v)}; "
                              "write each video to its own file")
        video = next(iter(videos), None)
        frames = sorted({it.frame for it in frames_items if it.frame is not None}
                        | {s.frame for t in ds.tracks for s in t.shapes})
        step = 0
        for f0, f1 in itertools.pairwise(frames):
            step = math.gcd(step, f1 - f0)
        step = step or 1
        if frames and len(range(frames[0], frames[-1] + 1, step)) != len(frames):
            self.report.drop("item.frames", f"frames {frames[0]}..{frames[-1]} step {step}",
                             "added: CVAT keeps a frame range, the missing frames appear on reading")
        sizes = {it.size for it in frames_items if it.size is not None}
        size = sizes.pop() if len(sizes) == 1 else None
        for it in frames_items:
            if it.size is not None and it.size != size:
                self.report.drop("item.size", it.id, "dropped: CVAT for video has one frame size")
            if it.frame is not None and it.id != frame_item_id(it.frame):
                self.report.drop("item.id", f"{it.id} -> {frame_item_id(it.frame)}", "renamed: CVAT names frames by number")
            for f, default in (("media", None), ("number", None), ("subset", None)):
                if getattr(it, f) != default:
                    self.report.drop(f"item.{f}", it.id, "dropped: CVAT for video does not keep it")
        task = _sub(meta, "task")
        _sub(task, "name", video or "labelgate")
        _sub(task, "size", str(len(frames)))
        _sub(task, "mode", "interpolation")
        if frames:
            _sub(task, "start_frame", str(frames[0]))
            _sub(task, "stop_frame", str(frames[-1]))
            _sub(task, "frame_filter", f"step={step}" if step != 1 else "")
        task.append(self.schema())
        if size is not None:
            orig = _sub(task, "original_size")
            _sub(orig, "width", str(size[0]))
            _sub(orig, "height", str(size[1]))
        if video is not None:
            _sub(meta, "source", video)
        tracks = list(ds.tracks)
        next_id = max((t.id for t in tracks), default=-1) + 1
        tags: list[tuple[int, Region]] = []
        for a in ds.annotations:
            it = ds.items[a.item_id]
            if it.kind is not ItemKind.VIDEO_FRAME or it.frame is None:
                continue
            for k, r in enumerate(a.regions):
                if isinstance(r.geometry, Classification):
                    tags.append((it.frame, r))
                    continue
                self.report.drop("region.video_frame", f"{it.id} region {k}", "written as a one-frame track")
                tracks.append(_one_frame_track(next_id, r, it.frame, step, video))
                next_id += 1
        for t in tracks:
            self.track(root, t, size)
        for frame, r in tags:
            made = self.shape(r, f"frame {frame} tag", size)
            if made is not None:
                shape_element(root, r.label, made[0], None, {"frame": str(frame)})
                self.regions += 1

    def track(self, root: ET.Element, t: Track, size: tuple[int, int] | None) -> None:
        attrs = {"id": str(t.id), "label": t.label}
        prov = t.provenance
        attrs["source"] = "auto" if prov.source is Source.MODEL else "manual"
        if prov != Provenance(Source.MODEL if prov.source is Source.MODEL else Source.HUMAN):
            self.report.drop("track.provenance", f"track {t.id}", "kept only whether a person or a model made it")
        if t.group is not None:
            attrs["group_id"] = str(t.group)
        el = _sub(root, "track")
        el.attrib.update(attrs)
        specs = self.specs(t.label)
        for n in t.attributes:
            spec = specs.get(n)
            if spec is None or spec.mutable:
                self.report.drop("track.attributes", f"track {t.id} {n}", "moved to the shapes: not an immutable attribute")
        for s in t.shapes:
            where = f"track {t.id} frame {s.frame}"
            for n in s.attributes:
                spec = specs.get(n)
                if spec is not None and not spec.mutable:
                    self.report.drop("track.shape.attributes", f"{where} {n}", "moved to the track: immutable attribute")
            region = Region(s.geometry, t.label, attributes={**t.attributes, **s.attributes},
                            z_order=s.z_order, occluded=s.occluded)
            made = self.shape(region, where, size)
            if made is None:
                continue
            extra = {"frame": str(s.frame), "outside": "1" if s.outside else "0", "keyframe": "1" if s.keyframe else "0"}
            shape_element(el, None, made[0], made[1], extra)
            self.regions += 1


def _one_frame_track(tid: int, r: Region, frame: int, step: int, video: str | None) -> Track:
    from labelgate.core import TrackShape

    shapes = (
        TrackShape(frame, r.geometry, True, False, r.occluded, r.z_order, dict(r.attributes)),
        TrackShape(frame + step, r.geometry, True, True, r.occluded, r.z_order, dict(r.attributes)),
    )
    return Track(tid, r.label, shapes, video, {}, r.group)


def cvat_document(ds: Dataset, report: ConversionReport, mode: str) -> tuple[bytes, int]:
    """The XML document for ``ds`` in ``mode`` ("images" or "video") and the shapes written."""
    w = _Writer(ds, report)
    root = ET.Element("annotations")
    _sub(root, "version", "1.1")
    meta = _sub(root, "meta")
    if mode == "video":
        w.video(root, meta)
    else:
        if ds.tracks:
            for t in ds.tracks:
                report.drop("track", f"track {t.id}", "dropped: write with mode='video' to keep tracks")
        w.images(root, meta)
    ET.indent(root, space="  ")
    data = ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
    bad = _NOT_XML.search(data)
    if bad:
        context = data[max(0, bad.start() - 60) : bad.start()].decode("utf-8", "replace")
        raise FormatError(f"a name or value holds control character {bad.group()!r}, which XML cannot hold "
                          f"(after ...{context!r}); remove it and write again")
    return data, w.regions

