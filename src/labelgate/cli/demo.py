"""``labelgate demo``: the main job. Until the server lands it generates the retail-shelf sample,
converts it to every registered format, reads each back, validates it and prints what each
format could not hold."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from labelgate.cli._render import console


def demo(
    out: Annotated[Path, typer.Option(help="Where to write the demo dataset and its conversions.")] = Path("labelgate-data/demo"),
    images: Annotated[int, typer.Option(help="Number of generated shelf images.")] = 50,
) -> None:
    """Generate the retail-shelf demo dataset, convert it to every format, validate each."""
    from labelgate import formats
    from labelgate.core import GeometryKind
    from labelgate.core.checks import dataset_stats, validate_dataset
    from labelgate.samples.shelf import shelf_dataset

    ds = shelf_dataset(images, seed=0)
    console.print(f"generated {len(ds.items)} shelf images, {ds.region_count} regions in {len(ds.annotations)} annotations")
    table = Table("format", "items", "regions", "validation errors", "not kept")
    for codec in formats.all_codecs():
        if GeometryKind.BOX not in codec.capabilities.geometries:
            continue  # text formats
        dst = out / codec.name
        report = formats.write(ds, dst, codec.name)
        back = formats.read(report.path or dst, codec.name)
        errors = [f for f in validate_dataset(back) if f.severity == "error"]
        table.add_row(codec.name, str(len(back.items)), str(back.region_count), str(len(errors)),
                      ", ".join(sorted(report.dropped_fields)) or "nothing")
    console.print(table)
    s = dataset_stats(ds)
    console.print(f"classes: {s['classes']}")
    console.print(f"written under {out}")
