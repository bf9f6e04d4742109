"""The format commands of the CLI, end to end through typer, on the native format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from labelgate import formats
from labelgate.cli import app
from labelgate.core import Annotation, Box, Dataset, Item, LabelSchema, Region

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def native_file(tmp_path: Path) -> Path:
    ds = Dataset(
        [Item("a", width=10, height=10, media="a.jpg"), Item("b", width=10, height=10)],
        [Annotation("a", [Region(Box(0, 0, 4, 4), "cat", id=1), Region(Box(2, 2, 30, 4), "cat", id=2)]),
         Annotation("b", [Region(Box(0, 0, 5, 5), "dog", id=3)])],
        LabelSchema.from_names(["cat", "dog"]),
    )
    path = tmp_path / "in.json"
    formats.write(ds, path, "native")
    return path


def test_detect_and_formats(native_file: Path) -> None:
    r = runner.invoke(app, ["detect", str(native_file)])
    assert r.exit_code == 0 and r.stdout.strip() == "native"
    r = runner.invoke(app, ["formats", "--json"])
    assert r.exit_code == 0
    assert "native" in json.loads(r.stdout)


def test_detect_unknown_path_fails_clearly(tmp_path: Path) -> None:
    p = tmp_path / "x.unknown"
    p.write_text("hello")
    r = runner.invoke(app, ["detect", str(p)])
    assert r.exit_code == 1
    assert "no known format" in r.stderr


def test_convert_writes_report(native_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    rep = tmp_path / "report.json"
    r = runner.invoke(app, ["convert", str(native_file), str(out), "--to", "native", "--report", str(rep), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(rep.read_text())["lossless"] is True
    assert formats.read(out) == formats.read(native_file)


def test_convert_bad_input_exits_nonzero_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"labelgate": 1, "items": [')
    out = tmp_path / "out.json"
    r = runner.invoke(app, ["convert", str(bad), str(out), "--to", "native", "--from", "native"])
    assert r.exit_code == 1
    assert "malformed JSON" in r.stderr and "line 1" in r.stderr
    assert not out.exists()


def test_validate_reports_and_fails(native_file: Path) -> None:
    r = runner.invoke(app, ["validate", str(native_file), "--json"])
    assert r.exit_code == 1
    found = json.loads(r.stdout)
    codes = {f["code"] for f in found["findings"]}
    assert codes == {"geometry.out_of_bounds", "media.missing"}


def test_stats_json(native_file: Path) -> None:
    r = runner.invoke(app, ["stats", str(native_file), "--json"])
    assert r.exit_code == 0
    s = json.loads(r.stdout)
    assert s["classes"] == {"cat": 2, "dog": 1}
    assert s["regions"] == 3


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    import typer.main

    def walk(group: object, prefix: str) -> list[str]:
        out = []
        for name, cmd in group.commands.items():  # type: ignore[attr-defined]
            full = f"{prefix} {name}"
            out.extend(walk(cmd, full) if hasattr(cmd, "commands") else [full])
        return out

    missing = [c for c in walk(typer.main.get_group(app), "labelgate") if c not in readme]
    assert not missing, f"commands not documented in README.md: {missing}"


def test_convert_passes_codec_options(tmp_path: Path) -> None:
    from labelgate.core import ItemKind, TextSpan

    text = "Anna lives in New York"
    ds = Dataset([Item("d0", ItemKind.TEXT, text=text)],
                 [Annotation("d0", [Region(TextSpan(0, 4), "PER"), Region(TextSpan(14, 22), "LOC")])],
                 LabelSchema.from_names(["PER", "LOC"]))
    src = tmp_path / "in.json"
    formats.write(ds, src, "native")
    out = tmp_path / "out.conll"
    r = runner.invoke(app, ["convert", str(src), str(out), "--to", "conll", "-o", "scheme=iobes", "--json"])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout)
    tags = [line.split()[-1] for line in Path(report["path"]).read_text().splitlines() if line.strip() and "DOCSTART" not in line]
    assert tags == ["S-PER", "O", "O", "B-LOC", "E-LOC"]


def test_convert_rejects_malformed_option(native_file: Path, tmp_path: Path) -> None:
    r = runner.invoke(app, ["convert", str(native_file), str(tmp_path / "o.json"), "--to", "native", "-o", "novalue"])
    assert r.exit_code == 1
    assert "KEY=VALUE" in r.stderr


@pytest.mark.parametrize("rel", ["voc_dataset/voc_dataset1", "coco_dataset/coco/annotations/instances_train.json", "yolo_dataset/strict"])
def test_validate_finds_media_where_each_format_keeps_it(interop: Path, rel: str) -> None:
    r = runner.invoke(app, ["validate", str(interop / rel), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["errors"] == 0


@pytest.mark.parametrize("to", ["yolo", "voc", "cvat", "coco"])
def test_convert_refuses_a_bad_coco_segmentation_naming_it_and_writes_nothing(tmp_path: Path, to: str) -> None:
    bad = tmp_path / "instances.json"
    bad.write_text(json.dumps({
        "images": [{"id": 1, "file_name": "a.jpg", "width": 4, "height": 4}], "categories": [{"id": 1, "name": "x"}],
        "annotations": [{"id": 42, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "area": 1, "iscrowd": 0,
                         "segmentation": [[0, 0, 1, 0, 1]]}]}))
    out = tmp_path / "out"
    r = runner.invoke(app, ["convert", str(bad), str(out), "--to", to, "--from", "coco"])
    assert r.exit_code == 1, r.output
    assert "id 42" in r.stderr and "segmentation[0]" in r.stderr and "odd count" in r.stderr
    assert not out.exists()
