"""Atomic output: nothing partial is left behind when a write fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from labelgate.core import FormatError
from labelgate.formats._io import atomic_dir, atomic_file, parse_xml, read_text


def test_atomic_file_keeps_old_content_on_failure(tmp_path: Path) -> None:
    p = tmp_path / "out.json"
    p.write_text("old")
    with pytest.raises(RuntimeError), atomic_file(p, "w") as fh:
        fh.write("new partial")
        raise RuntimeError("boom")
    assert p.read_text() == "old"
    assert list(tmp_path.iterdir()) == [p]


def test_atomic_dir_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "export"
    with pytest.raises(RuntimeError), atomic_dir(target) as d:
        (d / "a.txt").write_text("x")
        raise RuntimeError("boom")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_atomic_dir_merges_into_existing(tmp_path: Path) -> None:
    target = tmp_path / "export"
    (target / "keep").mkdir(parents=True)
    (target / "keep" / "old.txt").write_text("old")
    with atomic_dir(target) as d:
        (d / "sub").mkdir()
        (d / "sub" / "new.txt").write_text("new")
    assert (target / "keep" / "old.txt").read_text() == "old"
    assert (target / "sub" / "new.txt").read_text() == "new"


def test_read_text_names_line_and_column_of_bad_byte(tmp_path: Path) -> None:
    p = tmp_path / "t.txt"
    p.write_bytes(b"ok\nab\xffcd\n")
    with pytest.raises(FormatError, match=r"line 2, column 3"):
        read_text(p)


def test_parse_xml_refuses_entity_expansion(tmp_path: Path) -> None:
    p = tmp_path / "bomb.xml"
    p.write_text('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>')
    with pytest.raises(FormatError, match="unsafe XML"):
        parse_xml(p)


def test_parse_xml_malformed_names_place(tmp_path: Path) -> None:
    p = tmp_path / "bad.xml"
    p.write_text("<a>\n<b></a>")
    with pytest.raises(FormatError, match="line 2"):
        parse_xml(p)
