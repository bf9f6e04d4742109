"""``labelgate convert | formats | detect | validate | stats``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from labelgate.cli._render import console, emit_json, fail
from labelgate.core import Item, LabelgateError
from labelgate.core.checks import dataset_stats, validate_dataset


def parse_options(pairs: list[str] | None) -> dict[str, object]:
    """``KEY=VALUE`` pairs to codec options; true/false, integers and floats are converted."""
    out: dict[str, object] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            fail(f"option {pair!r} is not KEY=VALUE (for example --option scheme=iobes)")
        value: object = raw
        if raw.lower() in ("true", "false"):
            value = raw.lower() == "true"
        else:
            for cast in (int, float):
                try:
                    value = cast(raw)
                    break
                except ValueError:
                    continue
        out[key.replace("-", "_")] = value
    return out


def media_index(path: Path, images: Path | None) -> set[str]:
    """Every path suffix (``a/b/c.jpg``, ``b/c.jpg``, ``c.jpg``) of the files under the folder
    where a dataset's media may live: --images if given, else the dataset's folder (its parent
    when the dataset sits in an ``annotations`` or ``labels`` folder, as COCO and YOLO lay them out)."""
    root = images if images else (path if path.is_dir() else path.parent)
    if not images and root.name.lower() in ("annotations", "labels"):
        root = root.parent
    suffixes: set[str] = set()
    for dirpath, _, files in os.walk(root):
        parts = Path(dirpath).relative_to(root).parts
        for f in files:
            for i in range(len(parts) + 1):
                suffixes.add("/".join((*parts[i:], f)))
    return suffixes


def _read(path: Path, fmt: str | None, images: Path | None = None, options: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    from labelgate import formats

    opts = dict(options or {})
    if images:
        opts["images"] = images
    with console.status(f"reading {path}", spinner="dots"):
        return formats.read(path, fmt, **opts)


def convert(
    src: Annotated[Path, typer.Argument(help="Dataset to read (file or directory).")],
    dst: Annotated[Path, typer.Argument(help="Where to write.")],
    to: Annotated[str, typer.Option("--to", help="Target format (see `labelgate formats`).")],
    from_: Annotated[str | None, typer.Option("--from", help="Source format; detected when omitted.")] = None,
    images: Annotated[Path | None, typer.Option(help="Image directory, for formats that need image sizes or pixels.")] = None,
    report: Annotated[Path | None, typer.Option(help="Write the conversion report as JSON here.")] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    read_option: Annotated[list[str] | None, typer.Option("--read-option", "-r",
                           help="Reader option KEY=VALUE, repeatable (e.g. -r strict=true).")] = None,
    option: Annotated[list[str] | None, typer.Option("--option", "-o",
                      help="Writer option KEY=VALUE, repeatable (e.g. -o scheme=iobes, -o task=segment).")] = None,
) -> None:
    """Convert a dataset between formats, reporting exactly what the target could not hold."""
    from labelgate import formats
    from labelgate.formats._io import atomic_file

    try:
        ds = _read(src, from_, images, parse_options(read_option))
        options = parse_options(option)
        if images:
            options.setdefault("images", images)
        with console.status(f"writing {to} to {dst}", spinner="dots"):
            rep = formats.write(ds, dst, to, **options)
    except LabelgateError as e:
        fail(str(e))
    if report:
        import orjson

        with atomic_file(report) as fh:
            fh.write(orjson.dumps(rep.to_dict(), option=orjson.OPT_INDENT_2))
    if json_out:
        emit_json(rep.to_dict())
    else:
        console.print(rep.summary(), highlight=False)


def list_formats(json_out: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List the codecs and what each can hold."""
    from labelgate import formats

    codecs = formats.all_codecs()
    if json_out:
        emit_json({c.name: {"description": c.description, **c.capabilities.to_dict()} for c in codecs})
        return
    table = Table("format", "geometries", "per item", "description")
    for c in codecs:
        caps = c.capabilities.to_dict()
        table.add_row(c.name, ", ".join(caps["geometries"]), str(caps["annotations_per_item"]), c.description)  # type: ignore[arg-type]
    console.print(table)


def detect_cmd(path: Path) -> None:
    """Print the format of a dataset path."""
    from labelgate import formats

    try:
        console.print(formats.detect(path), highlight=False)
    except LabelgateError as e:
        fail(str(e))


def validate(
    path: Path,
    from_: Annotated[str | None, typer.Option("--from")] = None,
    images: Annotated[Path | None, typer.Option(help="Check that media exist under this directory.")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Check a dataset: out-of-bounds or degenerate boxes, invalid polygons, duplicate ids,
    unknown classes, missing media. Exits 1 when any error is found."""
    try:
        ds = _read(path, from_, images)
    except LabelgateError as e:
        fail(str(e))
    known = media_index(path, images)

    def exists(item: Item) -> bool:
        media = Path(item.media or "")
        return media.exists() if media.is_absolute() else media.as_posix() in known

    findings = validate_dataset(ds, exists)
    errors = [f for f in findings if f.severity == "error"]
    if json_out:
        emit_json({"items": len(ds.items), "regions": ds.region_count, "errors": len(errors),
                   "findings": [f.to_dict() for f in findings]})
    else:
        for f in findings[:200]:
            colour = "red" if f.severity == "error" else "yellow"
            console.print(f"[{colour}]{f.severity}[/] {f.code} {f.where}: {f.message}", highlight=False)
        if len(findings) > 200:
            console.print(f"... and {len(findings) - 200} more (use --json for all)")
        console.print(f"{len(ds.items)} items, {ds.region_count} regions: {len(errors)} errors, "
                      f"{len(findings) - len(errors)} warnings", highlight=False)
    if errors:
        raise typer.Exit(1)


def stats(
    path: Path,
    from_: Annotated[str | None, typer.Option("--from")] = None,
    json_out: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Per-class counts, objects per item, box size distribution, class balance."""
    try:
        ds = _read(path, from_)
    except LabelgateError as e:
        fail(str(e))
    s = dataset_stats(ds)
    if json_out:
        emit_json(s)
        return
    console.print(f"{s['items']} items, {s['annotations']} annotations, {s['regions']} regions, {s['tracks']} tracks")
    table = Table("class", "count", "share")
    for name, count in s["classes"].items():
        table.add_row(name, str(count), f"{s['class_share'][name]:.1%}")
    console.print(table)
    for key in ("objects_per_item", "box_width", "box_height"):
        d = s[key]
        if d:
            console.print(f"{key}: " + ", ".join(f"{k}={v:.1f}" for k, v in d.items()))
    console.print(f"box sizes (COCO): {s['box_size_coco']}; balance: {s['class_balance']}")
