"""The TF Object Detection API label map (``label_map.pbtxt``): ``item { id: 1 name: 'cat' }``."""

from __future__ import annotations

import re
from pathlib import Path

from labelgate.core.errors import FormatError
from labelgate.formats._io import read_text

__all__ = ["format_label_map", "parse_label_map"]

_TOKEN = re.compile(
    r"""\s*(?:(?P<comment>\#[^\n]*)|(?P<str>'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")|(?P<word>[A-Za-z_][\w.]*)|"""
    r"""(?P<num>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)|(?P<punct>[{}:\[\],;<>]))"""
)


def _unquote(s: str) -> str:
    body = s[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def _tokens(text: str, path: Path) -> list[tuple[str, str, int]]:
    out: list[tuple[str, str, int]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            line = text.count("\n", 0, pos) + 1
            raise FormatError(f"unexpected text {text[pos:pos + 20].strip()!r}", path=path, where=f"line {line}")
        kind = m.lastgroup or ""
        if kind != "comment":
            out.append((kind, m.group(kind), text.count("\n", 0, m.start(kind)) + 1))
        pos = m.end()
    return out


def parse_label_map(path: Path) -> list[tuple[int, str]]:
    """``[(id, name), ...]`` in file order; ``display_name`` is used when ``name`` is absent."""
    toks = _tokens(read_text(path), path)
    out: list[tuple[int, str]] = []
    i = 0

    def fail(msg: str, j: int) -> FormatError:
        line = toks[min(j, len(toks) - 1)][2] if toks else 1
        return FormatError(msg, path=path, where=f"line {line}")

    while i < len(toks):
        if toks[i][1] != "item" or i + 1 >= len(toks) or toks[i + 1][1] != "{":
            raise fail("expected 'item {'", i)
        i += 2
        fields: dict[str, str] = {}
        while i < len(toks) and toks[i][1] != "}":
            if toks[i][0] != "word" or i + 2 >= len(toks) or toks[i + 1][1] != ":":
                raise fail("expected 'key: value' inside item", i)
            kind, value = toks[i + 2][0], toks[i + 2][1]
            fields[toks[i][1]] = _unquote(value) if kind == "str" else value
            i += 3
            if i < len(toks) and toks[i][1] in (",", ";"):
                i += 1
        if i >= len(toks):
            raise fail("item is not closed with '}'", i)
        start = i
        i += 1
        if "id" not in fields or not re.fullmatch(r"-?\d+", fields["id"]):
            raise fail("item needs an integer id", start)
        name = fields.get("name", fields.get("display_name"))
        if not name:
            raise fail("item needs a name", start)
        out.append((int(fields["id"]), name))
    ids = [i for i, _ in out]
    if len(set(ids)) != len(ids):
        raise FormatError("an id appears in two items", path=path)
    return out


def format_label_map(entries: list[tuple[int, str]]) -> str:
    def quote(s: str) -> str:
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"

    return "\n".join(f"item {{\n  id: {i}\n  name: {quote(n)}\n}}\n" for i, n in entries)
