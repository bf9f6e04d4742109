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


def test_parse_xml_refuses_dtd_in_utf16(tmp_path: Path) -> None:
    p = tmp_path / "bomb16.xml"
    doc = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>'
    p.write_bytes(doc.encode("utf-16"))
    with pytest.raises(FormatError, match="unsafe XML"):
        parse_xml(p)


def test_parse_xml_fast_and_safe_paths_agree(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    doc = '<?xml version="1.0"?>\n<annotation><object><name>caf\u00e9 &amp; co</name><x a="1"/></object></annotation>'
    plain = tmp_path / "plain.xml"
    plain.write_text(doc, encoding="utf-8")
    bom16 = tmp_path / "utf16.xml"
    bom16.write_bytes(doc.replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16"))
    a, b = parse_xml(plain).getroot(), parse_xml(bom16).getroot()
    assert ET.tostring(a) == ET.tostring(b)
    assert a.find("object/name").text == "caf\u00e9 & co"


def test_atomic_dir_replaces_empty_target_whole(tmp_path: Path) -> None:
    target = tmp_path / "export"
    target.mkdir()
    with atomic_dir(target) as d:
        (d / "a.txt").write_text("x")
    assert (target / "a.txt").read_text() == "x"
    assert [p.name for p in tmp_path.iterdir()] == ["export"]
