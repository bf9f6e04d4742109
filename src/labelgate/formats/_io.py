"""File helpers every codec shares: atomic output, strict decoding, safe XML and JSON parsing."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from labelgate.core.errors import FormatError

__all__ = ["atomic_dir", "atomic_file", "json_floats", "load_json", "parse_xml", "read_bytes", "read_text"]


@contextlib.contextmanager
def atomic_file(path: Path, mode: str = "wb") -> Iterator[Any]:
    """Write to a temporary file beside ``path`` and rename it into place only on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path: Path) -> Iterator[Path]:
    """Build a directory under a temporary name beside ``path``; on success merge it into
    ``path`` (created if missing), file by file with renames; on failure remove it whole."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    try:
        if path.is_dir() and not any(path.iterdir()):
            path.rmdir()  # an empty target is replaced whole: one rename instead of one per file
        if not path.exists():
            os.replace(tmp, path)
            return
        for src in sorted(tmp.rglob("*")):
            rel = src.relative_to(tmp)
            dst = path / rel
            if src.is_dir():
                dst.mkdir(parents=True, exist_ok=True)
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dst)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def read_text(path: Path) -> str:
    """UTF-8 text (a BOM is allowed); an error names the file, line and column of a bad byte."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise FormatError(
            f"not valid UTF-8 (byte 0x{data[e.start]:02x}); re-save the file as UTF-8",
            path=path,
            where=f"line {line}, column {col}",
        ) from None


def read_bytes(path: Path) -> bytes:
    """The file's bytes; an unreadable file is a :class:`FormatError` naming it."""
    try:
        return path.read_bytes()
    except OSError as e:
        raise FormatError(f"cannot read: {e.strerror}", path=path) from None


def load_json(path: Path, data: bytes | None = None) -> Any:
    """Parse a JSON file (or its ``data``, already read) with orjson; errors name the file, line and column."""
    if data is None:
        data = read_bytes(path)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as e:
        if "utf-8" in str(e).lower() or "surrogate" in str(e).lower():
            read_text(path)
        raise FormatError(f"malformed JSON: {e.msg}", path=path, where=f"line {e.lineno}, column {e.colno}") from None


def parse_xml(path: Path) -> Any:
    """Parse XML safely: entity expansion, external entities and DTDs are refused.

    A document in an ASCII-compatible encoding without ``<!DOCTYPE`` cannot declare entities,
    so it goes to the C parser (several times faster); anything else goes through defusedxml.
    """
    import xml.etree.ElementTree as ET

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import parse

    try:
        data = path.read_bytes()
    except OSError as e:
        raise FormatError(f"cannot read: {e.strerror}", path=path) from None
    try:
        head = data[3:].lstrip() if data.startswith(b"\xef\xbb\xbf") else data.lstrip()
        if head.startswith(b"<") and b"<!DOCTYPE" not in data and b"<!ENTITY" not in data:
            return ET.ElementTree(ET.fromstring(data))
        return parse(io.BytesIO(data), forbid_dtd=True)
    except DefusedXmlException as e:
        raise FormatError(
            f"unsafe XML refused ({type(e).__name__}): DTDs and entities are not allowed", path=path
        ) from None
    except ET.ParseError as e:
        line, col = e.position
        raise FormatError(f"malformed XML: {e}", path=path, where=f"line {line}, column {col + 1}") from None


def json_floats(values: Any) -> list[str]:
    """Each float of a 1-D array as orjson writes a Python float (numpy's float64 prints the same),
    formatted in one call: for building JSON text of many numbers without a Python float each."""
    import numpy as np

    if not len(values):
        return []
    return orjson.dumps(np.ascontiguousarray(values, dtype=np.float64), option=orjson.OPT_SERIALIZE_NUMPY).decode()[1:-1].split(",")
