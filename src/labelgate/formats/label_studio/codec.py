"""The Label Studio codec: tasks JSON (with a labeling config beside it) <-> Dataset."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from labelgate.core import (
    Annotation,
    AttrValue,
    Classification,
    Dataset,
    FormatError,
    GeometryKind,
    InvariantError,
    Item,
    ItemKind,
    Keypoints,
    LabelSchema,
    Mask,
    Polygon,
    Region,
    RotatedBox,
    Source,
    TextSpan,
)
from labelgate.core.geometry import Geometry
from labelgate.formats._io import atomic_file, load_json
from labelgate.formats.capabilities import Capabilities, restrict
from labelgate.formats.label_studio._config import config_path, config_xml, schema_from_config
from labelgate.formats.label_studio._results import FROM_NAMES, LABEL_KEYS, region_from_result, result_of
from labelgate.formats.label_studio._tasks import derived_id, item_from_task, provenance_from, provenance_to
from labelgate.formats.report import ConversionReport

__all__ = ["CODEC", "LabelStudioCodec"]

_SPATIAL = frozenset({"rectanglelabels", "polygonlabels", "brushlabels", "keypointlabels"})
_SHAPES = _SPATIAL | {"labels"}
_PER_REGION = frozenset({"choices", "textarea", "number", "rating"})


def _key(rid: object) -> str:
    return "" if rid is None else str(rid)


def _primary_results(results: list[Any]) -> dict[str, int]:
    """For each result id, the index of the result that holds the region: its shape (or span)
    result, else its first choices result. Other per-region results with the id are attributes."""
    primary: dict[str, int] = {}
    for j, res in enumerate(results):
        if isinstance(res, dict) and res.get("id") is not None and res.get("type") in _SHAPES:
            primary.setdefault(_key(res["id"]), j)
    for j, res in enumerate(results):
        if isinstance(res, dict) and res.get("id") is not None and res.get("type") == "choices":
            primary.setdefault(_key(res["id"]), j)
    return primary


def _per_region_value(res: dict[str, Any]) -> AttrValue:
    """The value of a per-region result: choices joined by commas, text lines joined, a number."""
    value = res.get("value") or {}
    kind = res.get("type")
    v = value.get({"choices": "choices", "textarea": "text", "number": "number", "rating": "rating"}[str(kind)])
    if kind in ("choices", "textarea"):
        if not (isinstance(v, list) and all(isinstance(x, str) for x in v)):
            raise ValueError(f"a per-region {kind} needs a list of strings, got {v!r}")
        return ("," if kind == "choices" else "\n").join(v)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"a per-region {kind} needs a number, got {v!r}")
    return v


def _tasks_file(path: Path) -> Path:
    if path.is_dir():
        main = path / "tasks.json"
        if main.is_file():
            return main
        files = sorted(path.glob("*.json"))
        if len(files) == 1:
            return files[0]
        raise FormatError("expected tasks.json (or a single .json file) here", path=path)
    return path


# -- reading ------------------------------------------------------------------------------------


def _read(path: Path, on_unsupported: str) -> Dataset:
    if on_unsupported not in ("error", "skip"):
        raise FormatError(f"on_unsupported must be 'error' or 'skip', got {on_unsupported!r}")
    file = _tasks_file(path)
    tasks = load_json(file)
    if isinstance(tasks, dict) and "data" in tasks:
        tasks = [tasks]
    if not isinstance(tasks, list):
        raise FormatError("expected a list of Label Studio tasks", path=file, where="top level")
    skipped: dict[str, int] = {}
    items: list[Item] = []
    annotations: list[Annotation] = []
    used: list[str] = []
    for ti, task in enumerate(tasks):
        where = f"task[{ti}]"
        if not isinstance(task, dict):
            raise FormatError("task is not an object", path=file, where=where)
        if "id" in task:
            where += f" (id {task['id']})"
        entries: list[tuple[str, int, dict[str, Any]]] = []
        for key in ("annotations", "predictions"):
            lst = task.get(key) or []
            if not isinstance(lst, list):
                raise FormatError(f"'{key}' must be a list", path=file, where=where)
            entries += [(key, i, e) for i, e in enumerate(lst)]
        size = None
        for _, _, e in entries:
            for res in (e.get("result") or []) if isinstance(e, dict) else []:
                if isinstance(res, dict) and res.get("type") in _SPATIAL:
                    w, h = res.get("original_width"), res.get("original_height")
                    if type(w) is int and type(h) is int and w > 0 and h > 0:  # bad ones fail with their result
                        size = (w, h)
                        break
            if size is not None:
                break
        try:
            item = item_from_task(task, ti, size)
        except (ValueError, InvariantError, TypeError) as e:
            raise FormatError(str(e), path=file, where=f"{where}.data") from None
        items.append(item)
        for key, i, entry in entries:
            ewhere = f"{where}.{key}[{i}]"
            if not isinstance(entry, dict):
                raise FormatError("not an object", path=file, where=ewhere)
            if entry.get("was_cancelled") is True:
                skipped["cancelled annotation"] = skipped.get("cancelled annotation", 0) + 1
                continue
            results = entry.get("result") or []
            if not isinstance(results, list):
                raise FormatError("'result' must be a list", path=file, where=ewhere)
            regions: list[tuple[str, Region]] = []
            primary = _primary_results(results)
            per_region: dict[str, dict[str, AttrValue]] = {}
            for j, res in enumerate(results):
                rwhere = f"{ewhere}.result[{j}]"
                if not isinstance(res, dict):
                    raise FormatError("result is not an object", path=file, where=rwhere)
                kind = res.get("type")
                rwhere += f" ({kind}, id {res.get('id')!r})"
                if kind in _PER_REGION and primary.get(_key(res.get("id")), j) != j:
                    # a per-region control (perRegion="true"): an attribute of the shape with this id
                    try:
                        per_region.setdefault(_key(res["id"]), {})[str(res.get("from_name") or kind)] = _per_region_value(res)
                    except ValueError as e:
                        raise FormatError(str(e), path=file, where=rwhere) from None
                    continue
                if kind not in LABEL_KEYS:
                    if on_unsupported == "skip":
                        skipped[f"result type {kind}"] = skipped.get(f"result type {kind}", 0) + 1
                        continue
                    raise FormatError(f"unsupported result type {kind!r}; read with on_unsupported='skip' to leave "
                                      f"such results out", path=file, where=rwhere)
                try:
                    got = region_from_result(res, item.text)
                except (ValueError, InvariantError) as e:
                    raise FormatError(str(e), path=file, where=rwhere) from None
                if not got:
                    if on_unsupported == "skip":
                        skipped["result without a label"] = skipped.get("result without a label", 0) + 1
                        continue
                    raise FormatError("result has no label; read with on_unsupported='skip' to leave such results out",
                                      path=file, where=rwhere)
                regions += [(_key(res.get("id")), r) for r in got]
                used += [r.label for r in got]
            try:
                prov = provenance_from(entry, key == "predictions")
            except (ValueError, InvariantError) as e:
                raise FormatError(str(e), path=file, where=ewhere) from None
            aid = entry.get("id")
            final = [replace(r, attributes=per_region[rid]) if rid in per_region else r for rid, r in regions]
            annotations.append(Annotation(item.id, final, prov, None if aid is None else str(aid)))
    schema = schema_from_config(config_path(file)) or LabelSchema()
    try:
        ds = Dataset(items, annotations, schema.with_classes(used))
    except InvariantError as e:
        raise FormatError(f"{e}; give each task a distinct image or meta.labelgate.id", path=file) from None
    if skipped:
        ds.metadata["label_studio_skipped"] = skipped
    return ds


# -- writing ------------------------------------------------------------------------------------


class _Writer:
    def __init__(self, ds: Dataset, report: ConversionReport) -> None:
        self.ds = ds
        self.report = report
        self.regions = 0
        self.next_id = 0
        self.controls: dict[tuple[str, str], str] = {}
        self.attr_controls: dict[tuple[str, str], str] = {}
        self.numbers = {it.number for it in ds.items.values() if it.number is not None}
        self.next_number = 1
        kinds = {it.kind for it in ds.items.values()}
        self.primary = "text" if kinds == {ItemKind.TEXT} else "image"

    def fresh_id(self) -> str:
        self.next_id += 1
        return f"lg{self.next_id}"  # not a number: reads back as "no region id"

    def geometries(self, r: Region, item: Item, where: str) -> list[Geometry]:
        """What to write for ``r`` (several single points for multi-point keypoints)."""
        g = r.geometry
        spatial = not isinstance(g, (TextSpan, Classification))
        if spatial and item.size is None:
            self.report.drop(f"geometry.{GeometryKind(_kind(g)).name.lower()}", where,
                             "dropped: percent coordinates need the image size")
            return []
        if isinstance(g, RotatedBox) and g.angle == 0:
            self.report.drop("geometry.rotated_box", where, "written as a box: its angle is 0")
        if isinstance(g, Polygon) and g.holes:
            self.report.drop("geometry.polygon.holes", where, "dropped: Label Studio polygons have no holes")
            return [Polygon(g.points)]
        if isinstance(g, Keypoints) and (len(g) != 1 or g.visibility[0] != 2):
            self.report.drop("geometry.keypoints", where, "split into single visible points: Label Studio "
                             "keypoints are one point each")
            return [Keypoints(g.points[2 * i : 2 * i + 2], (2,)) for i, v in enumerate(g.visibility) if v > 0]
        if isinstance(g, Mask) and item.size != (g.width, g.height):
            self.report.drop("geometry.mask", where, "dropped: the mask's size is not the image's")
            return []
        if isinstance(g, TextSpan) and (item.text is None or g.end > len(item.text)):
            self.report.drop("geometry.text_span", where, "dropped: the span is outside the item's text")
            return []
        return [g]

    def results(self, a: Annotation, item: Item, to_name: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        last_choice: tuple[dict[str, Any], Region] | None = None
        for k, r in enumerate(a.regions):
            where = f"{item.id} region {k}"
            if (isinstance(r.geometry, Classification) and last_choice is not None and r.id is None
                    and last_choice[1].id is None and last_choice[1].score == r.score
                    and not r.attributes and not last_choice[1].attributes):
                last_choice[0]["value"]["choices"].append(r.label)  # one result holds several choices
                self.regions += 1
                continue
            last_choice = None
            for g in self.geometries(r, item, where):
                res = result_of(r, g, item.size, item.text, to_name)
                res["from_name"] = self.control(res["type"], to_name)
                res = {"id": str(r.id) if r.id is not None else self.fresh_id(), **res}
                out.append(res)
                out += self.attribute_results(r, res["id"], to_name, where)
                self.regions += 1
                if isinstance(g, Classification):
                    last_choice = (res, r)
        return out

    def attribute_results(self, r: Region, rid: str, to_name: str, where: str) -> list[dict[str, Any]]:
        """Per-region results (sharing the region's id) holding its attributes: numbers as
        ``number``, text as ``textarea``."""
        out = []
        reserved = {name for (_, _), name in self.controls.items()} | set(FROM_NAMES.values())
        for name, v in r.attributes.items():
            if name in reserved or any(name.startswith(f"{n}_") for n in FROM_NAMES.values()):
                self.report.drop("region.attributes", f"{where} {name}", "dropped: the name is one of the writer's controls")
                continue
            if isinstance(v, bool):
                self.report.drop("region.attributes", f"{where} {name}", "changed type: written as text")
            value: dict[str, Any]
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                kind, value = "number", {"number": v}
            else:
                kind, value = "textarea", {"text": [attr_text(v)]}
            self.attr_controls.setdefault((name, to_name), kind)
            out.append({"id": rid, "type": kind, "from_name": name, "to_name": to_name, "value": value})
        return out

    def control(self, kind: str, to_name: str) -> str:
        name = FROM_NAMES[kind] if to_name == self.primary else f"{FROM_NAMES[kind]}_{to_name}"
        self.controls.setdefault((kind, to_name), name)
        return name

    def task(self, item: Item, index: int, anns: list[Annotation]) -> dict[str, Any]:
        if item.kind is ItemKind.TEXT:
            key, value = "text", item.text or ""
            if item.media is not None:
                self.report.drop("item.media", item.id, "dropped: a text task holds the text itself")
        else:
            key = "image"
            if item.text is not None:
                self.report.drop("item.text", item.id, "dropped: an image task holds no text")
            if item.media is None:
                self.report.drop("item.media", item.id, "set to the item id: a task needs its image")
            value = item.media or item.id
        extra: dict[str, Any] = {}
        task: dict[str, Any] = {"id": item.number}
        if item.number is None:  # Label Studio and its converter need task ids
            while self.next_number in self.numbers:
                self.next_number += 1
            task["id"] = self.next_number
            self.numbers.add(self.next_number)
            extra["number"] = None
        task["data"] = {key: value}
        if derived_id(value, item.kind, item.number, index) != item.id:
            extra["id"] = item.id
        humans: list[dict[str, Any]] = []
        models: list[dict[str, Any]] = []
        seen_model = False
        spatial = False
        for a in anns:
            entry: dict[str, Any] = {}
            if a.id is not None:
                entry["id"] = int(a.id) if a.id.isdigit() and str(int(a.id)) == a.id else a.id
            entry["result"] = self.results(a, item, key)
            spatial = spatial or any("original_width" in res for res in entry["result"])
            provenance_to(a.provenance, entry)
            if a.provenance.source is Source.MODEL:
                models.append(entry)
                seen_model = True
            else:
                if seen_model:
                    self.report.drop("annotation.order", item.id, "moved: Label Studio lists people's "
                                     "annotations before predictions")
                humans.append(entry)
        task["annotations"] = humans
        task["predictions"] = models
        if item.size is not None and not spatial:
            extra["width"], extra["height"] = item.size
        if extra:
            task["meta"] = {"labelgate": extra}
        return task


def attr_text(v: AttrValue) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _kind(g: Geometry) -> int:
    from labelgate.core import kind_of

    return int(kind_of(g))


def _write(ds: Dataset, path: Path, report: ConversionReport) -> tuple[Path, int]:
    w = _Writer(ds, report)
    by_item = ds.by_item()
    tasks = [w.task(it, i, by_item[it.id]) for i, it in enumerate(ds.items.values())]
    objects = list(dict.fromkeys("text" if it.kind is ItemKind.TEXT else "image" for it in ds.items.values()))
    controls = [(kind, name, to) for (kind, to), name in w.controls.items()]
    controls += [(kind, name, to) for (name, to), kind in w.attr_controls.items()]
    file = path if path.suffix.lower() == ".json" else path / "tasks.json"
    config = config_xml(ds.schema, objects, controls)
    data = orjson.dumps(tasks, option=orjson.OPT_INDENT_2)
    with atomic_file(config_path(file)) as fh:
        fh.write(config)
    with atomic_file(file) as fh:
        fh.write(data)
    return file, w.regions


class LabelStudioCodec:
    name = "label_studio"
    description = "Label Studio tasks JSON (annotations and predictions; rectangles, polygons, brush, keypoints, spans, choices)"
    capabilities = Capabilities(
        geometries=frozenset({
            GeometryKind.BOX,
            GeometryKind.ROTATED_BOX,
            GeometryKind.POLYGON,
            GeometryKind.KEYPOINTS,
            GeometryKind.MASK,
            GeometryKind.TEXT_SPAN,
            GeometryKind.CLASSIFICATION,
        }),
        item_kinds=frozenset({ItemKind.IMAGE, ItemKind.TEXT}),
        region_fields=frozenset({"id", "score", "attributes"}),
        item_fields=frozenset({"media", "size", "number", "text"}),
        schema_fields=frozenset({"colors"}),
        per_item="many",
        provenance=True,
        notes=(
            "Coordinates are percentages of the image size: they round-trip within 1e-6 relative "
            "(1e-9 px absolute near 0). Keypoints are single visible points. The class list and colours "
            "travel in <tasks>.label_config.xml beside the tasks file."
        ),
    )

    def detect(self, path: Path) -> float:
        if path.is_dir():
            path = path / "tasks.json"
        if not (path.is_file() and path.suffix.lower() == ".json"):
            return 0.0
        with path.open("rb") as fh:
            head = fh.read(4096).lstrip()
        return 0.8 if head.startswith(b"[") and b'"data"' in head else 0.0

    def read(self, path: Path, **options: Any) -> Dataset:
        """Option ``on_unsupported``: "error" (default) or "skip" for result types Labelgate does
        not model (textarea, relation, rating, ...) and results without a label; skipped counts
        (and cancelled annotations, always left out) go to ``metadata["label_studio_skipped"]``."""
        return _read(Path(path), options.pop("on_unsupported", "error"))

    def write(self, dataset: Dataset, path: Path, **options: Any) -> ConversionReport:
        """Write ``tasks.json`` and ``tasks.label_config.xml`` into directory ``path`` (or the
        file ``path`` if it ends in .json, with ``<stem>.label_config.xml`` beside it)."""
        report = ConversionReport(self.name)
        ds, report = restrict(dataset, self.capabilities, report)
        file, regions = _write(ds, Path(path), report)
        report.path = str(file)
        report.items = len(ds.items)
        report.regions = regions
        report.files = 2
        return report


CODEC = LabelStudioCodec()
