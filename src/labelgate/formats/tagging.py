"""Token tag schemes (IOB1, IOB2/BIO, IOE1, IOE2, IOBES, BILOU): decode tags to chunks, encode
chunks to tags, convert between schemes, and find malformed tag sequences.

Two decoding modes:

* **default** (lenient) follows the chunking rules of seqeval's default ``get_entities`` for every
  tag, well formed or not (BILOU's ``L-``/``U-`` read as ``E-``/``S-``), so a tagger's output is
  scored the way the community scores it.
* **strict** keeps only chunks that are well formed in the declared scheme, as seqeval's strict
  mode (``seqeval.scheme.Entities``) does, and reports every malformed chunk and every tag whose
  prefix the scheme does not allow as a :class:`Finding` with its token index.

A :class:`Chunk` covers tokens ``[start, end)`` (end exclusive). In IOB1 ``B-`` only separates
two adjacent chunks of one type; in IOE1 ``E-`` only ends a chunk followed by one of its type.

Strict mode equals seqeval's for IOB2, IOE2, IOBES and BILOU on every input, and for IOB1 on
well-formed input (tests check both). Where they part: a malformed IOB1 chunk (``O B-X I-X``) is
dropped whole here, while seqeval keeps its ``I-X`` tail; and seqeval's IOE1 class (marked
incomplete in its source) misses a chunk that starts with ``E-`` (``E-X I-X`` is two chunks).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum

from labelgate.core.errors import InvariantError

__all__ = [
    "Chunk",
    "Finding",
    "Scheme",
    "check",
    "convert",
    "decode",
    "decode_strict",
    "encode",
    "infer_scheme",
]


class Scheme(str, Enum):
    IOB1 = "iob1"
    IOB2 = "iob2"
    IOE1 = "ioe1"
    IOE2 = "ioe2"
    IOBES = "iobes"
    BILOU = "bilou"

    @classmethod
    def parse(cls, value: str | Scheme) -> Scheme:
        """A scheme from its name, case-insensitive; ``bio`` means IOB2, ``bioes`` IOBES."""
        if isinstance(value, Scheme):
            return value
        name = str(value).strip().lower()
        name = _ALIASES.get(name, name)
        try:
            return cls(name)
        except ValueError:
            known = ", ".join(s.value for s in cls)
            raise InvariantError(f"unknown tag scheme {value!r}; known: {known} (and bio, bioes)") from None

    @property
    def prefixes(self) -> frozenset[str]:
        """The tag prefixes this scheme allows (``O`` included)."""
        return _PREFIXES[self]


_ALIASES = {"bio": "iob2", "iob": "iob2", "bioes": "iobes", "iobes": "iobes", "biluo": "bilou"}
_PREFIXES = {
    Scheme.IOB1: frozenset("IOB"),
    Scheme.IOB2: frozenset("IOB"),
    Scheme.IOE1: frozenset("IOE"),
    Scheme.IOE2: frozenset("IOE"),
    Scheme.IOBES: frozenset("IOBES"),
    Scheme.BILOU: frozenset("BILOU"),
}
_KNOWN = frozenset("IOBESLU")


@dataclass(frozen=True, slots=True)
class Chunk:
    """Tokens ``[start, end)`` of one sentence labelled ``label``."""

    start: int
    end: int
    label: str


@dataclass(frozen=True, slots=True)
class Finding:
    """A malformed part of a tag sequence: ``token`` (0-based in its sentence), the tag found
    there, what is wrong, and where the sentence sits (document, sentence index, file line)."""

    token: int
    tag: str
    message: str
    sentence: int | None = None
    doc: str | None = None
    line: int | None = None

    def located(self, *, doc: str | None = None, sentence: int | None = None, line: int | None = None) -> Finding:
        return replace(self, doc=doc, sentence=sentence, line=line)

    @property
    def where(self) -> str:
        parts = []
        if self.doc is not None:
            parts.append(f"document {self.doc!r}")
        if self.sentence is not None:
            parts.append(f"sentence {self.sentence}")
        parts.append(f"token {self.token}")
        if self.line is not None:
            parts.append(f"line {self.line}")
        return ", ".join(parts)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


# --- parsing --------------------------------------------------------------------------------

_Tok = tuple[str, str]  # (prefix character, entity type)
_OUT: _Tok = ("O", "_")


def _lenient_tok(tag: str) -> _Tok:
    # seqeval get_entities: the first character is the prefix; the type is what follows the
    # first "-" after it (or the whole rest), "_" when empty.
    if not tag:
        return ("", "_")
    rest = tag[1:]
    return (tag[0], rest.split("-", 1)[-1] or "_")


def _strict_tok(tag: str) -> _Tok:
    # seqeval.scheme.Token: prefix first character, type the rest with "-" stripped at both ends.
    if not tag:
        return ("", "_")
    return (tag[0], tag[1:].strip("-") or "_")


# --- default (lenient) decoding -----------------------------------------------------------------


_ALWAYS_CLOSED = frozenset("ES")  # a chunk ends after E- and S-
_OPEN = frozenset("BI")  # ... after B- or I- when B-, S- or O follows
_CLOSES_OPEN = frozenset("BSO")
_ALWAYS_OPENS = frozenset("BS")  # a chunk starts at B- and S-
_CONTINUES = frozenset("EI")  # ... at E- or I- after E-, S- or O
_AFTER_CLOSED = frozenset("ESO")
_UNTYPED = frozenset("O.")  # and, for any other prefix, wherever the type changes


def _lenient(toks: Sequence[_Tok]) -> list[Chunk]:
    chunks: list[Chunk] = []
    pp, pt = "O", ""
    begin = 0
    for i, (cp, ct) in enumerate([*toks, _OUT]):
        if pp in _ALWAYS_CLOSED or (pp in _OPEN and cp in _CLOSES_OPEN) or (pt != ct and pp not in _UNTYPED):
            chunks.append(Chunk(begin, i, pt))
        if cp in _ALWAYS_OPENS or (cp in _CONTINUES and pp in _AFTER_CLOSED) or (pt != ct and cp not in _UNTYPED):
            begin = i
        pp, pt = cp, ct
    return chunks


_BILOU_AS_IOBES = {"L": "E", "U": "S"}


def decode(tags: Sequence[str], scheme: Scheme | str = Scheme.IOB2, *, strict: bool = False) -> list[Chunk]:
    """The chunks of one sentence's tags; see the module docstring for the two modes."""
    if strict:
        return decode_strict(tags, scheme)[0]
    s = Scheme.parse(scheme)
    tags = list(tags)
    if tags.count("O") == len(tags):
        return []
    toks = [_lenient_tok(t) for t in tags]
    if s is Scheme.BILOU:
        toks = [(_BILOU_AS_IOBES.get(p, p), ty) for p, ty in toks]
    return _lenient(toks)


# --- strict decoding and findings -------------------------------------------------------------


def decode_strict(tags: Sequence[str], scheme: Scheme | str = Scheme.IOB2) -> tuple[list[Chunk], list[Finding]]:
    """Well-formed chunks of one sentence, and a finding for each malformed chunk and each tag
    whose prefix ``scheme`` does not allow (such tags count as ``O``)."""
    s = Scheme.parse(scheme)
    allowed = s.prefixes
    findings: list[Finding] = []
    raw = [_strict_tok(t) for t in tags]
    toks: list[_Tok] = []
    for i, (tag, tok) in enumerate(zip(tags, raw, strict=True)):
        if tok[0] in allowed:
            toks.append(_OUT if tok[0] == "O" else tok)
            continue
        toks.append(_OUT)
        what = "an empty tag" if not tag else f"prefix {tok[0]!r}" if tok[0] in _KNOWN else f"unknown prefix {tok[0]!r}"
        findings.append(Finding(i, tag, f"{tag!r}: {what} is not allowed in {s.name} (allowed: {_list(allowed)})"))
    mapped = [(_BILOU_AS_IOBES.get(p, p), ty) for p, ty in toks] if s is Scheme.BILOU else toks
    kept: list[Chunk] = []
    for c in _lenient(mapped):
        problem = _GRAMMAR[s](c, toks)
        if problem is None:
            kept.append(c)
        else:
            findings.append(Finding(c.start, tags[c.start], problem))
    findings.sort(key=lambda f: f.token)
    return kept, findings


def check(tags: Sequence[str], scheme: Scheme | str = Scheme.IOB2) -> list[Finding]:
    """Every malformed chunk and disallowed prefix in one sentence (empty when well formed)."""
    return decode_strict(tags, scheme)[1]


def _list(prefixes: frozenset[str]) -> str:
    return ", ".join(sorted(prefixes))


def _span(c: Chunk) -> str:
    return f"token {c.start}" if c.end - c.start == 1 else f"tokens {c.start}-{c.end - 1}"


def _begins_with(c: Chunk, toks: Sequence[_Tok], first: str, single: str | None, last: str | None) -> str | None:
    """Grammar of the B-style schemes: ``single-X`` alone, or ``first-X (I-X)* last-X``."""
    prefs = [toks[i][0] for i in range(c.start, c.end)]
    x = c.label
    if single is not None and prefs == [single]:
        return None
    if prefs[0] != first:
        expected = f"{first}-{x}" + (f" or {single}-{x}" if single else "")
        return f"{x} chunk at {_span(c)} begins with {prefs[0]}-{x}; expected {expected}"
    if last is None:
        return None
    if len(prefs) == 1:
        return f"{first}-{x} at token {c.start} is not closed by {last}-{x} (a one-token chunk is {single}-{x})"
    if prefs[-1] != last:
        return f"{x} chunk at {_span(c)} is not closed by {last}-{x}"
    return None


def _iob1(c: Chunk, toks: Sequence[_Tok]) -> str | None:
    if toks[c.start][0] == "I":
        return None
    if c.start > 0 and toks[c.start - 1] in (("I", c.label), ("B", c.label)):
        return None
    return f"B-{c.label} at token {c.start} does not follow a {c.label} chunk (IOB1 begins chunks with I-)"


def _ioe1(c: Chunk, toks: Sequence[_Tok]) -> str | None:
    if toks[c.end - 1][0] == "I":
        return None
    if c.end < len(toks) and toks[c.end] in (("I", c.label), ("E", c.label)):
        return None
    return f"E-{c.label} at token {c.end - 1} is not followed by a {c.label} chunk (IOE1 ends chunks with I-)"


def _ioe2(c: Chunk, toks: Sequence[_Tok]) -> str | None:
    if toks[c.end - 1][0] == "E":
        return None
    return f"{c.label} chunk at {_span(c)} is not closed by E-{c.label}"


_GRAMMAR = {
    Scheme.IOB1: _iob1,
    Scheme.IOB2: lambda c, t: _begins_with(c, t, "B", None, None),
    Scheme.IOE1: _ioe1,
    Scheme.IOE2: _ioe2,
    Scheme.IOBES: lambda c, t: _begins_with(c, t, "B", "S", "E"),
    Scheme.BILOU: lambda c, t: _begins_with(c, t, "B", "U", "L"),
}


# --- encoding -----------------------------------------------------------------------------------


def encode(chunks: Sequence[Chunk], length: int, scheme: Scheme | str = Scheme.IOB2) -> list[str]:
    """Tags for a sentence of ``length`` tokens holding ``chunks`` (non-overlapping)."""
    s = Scheme.parse(scheme)
    ordered = sorted(chunks, key=lambda c: (c.start, c.end))
    tags = ["O"] * length
    prev_end, prev_label = -1, ""
    for k, c in enumerate(ordered):
        if not (0 <= c.start < c.end <= length):
            raise InvariantError(f"chunk {c} lies outside a sentence of {length} tokens")
        if c.start < prev_end:
            raise InvariantError(f"chunk {c} overlaps the chunk before it; tags cannot hold overlapping chunks")
        if not c.label or any(ch.isspace() for ch in c.label):
            raise InvariantError(f"chunk {c}: a label in a tag must be non-empty and free of whitespace")
        x = c.label
        n = c.end - c.start
        body = [f"I-{x}"] * n
        touching_before = prev_end == c.start and prev_label == x
        nxt = ordered[k + 1] if k + 1 < len(ordered) else None
        touching_after = nxt is not None and nxt.start == c.end and nxt.label == x
        if s is Scheme.IOB2 or (s is Scheme.IOB1 and touching_before):
            body[0] = f"B-{x}"
        elif s is Scheme.IOE2 or (s is Scheme.IOE1 and touching_after):
            body[-1] = f"E-{x}"
        elif s in (Scheme.IOBES, Scheme.BILOU):
            one, first, last = ("S", "B", "E") if s is Scheme.IOBES else ("U", "B", "L")
            if n == 1:
                body[0] = f"{one}-{x}"
            else:
                body[0], body[-1] = f"{first}-{x}", f"{last}-{x}"
        tags[c.start : c.end] = body
        prev_end, prev_label = c.end, x
    return tags


def convert(
    tags: Sequence[str], source: Scheme | str, target: Scheme | str, *, strict: bool = False
) -> list[str]:
    """Re-tag one sentence from ``source`` to ``target`` (overlapping lenient chunks, which only
    malformed input yields, keep the first)."""
    chunks: list[Chunk] = []
    end = 0
    for c in decode(tags, source, strict=strict):
        if c.start >= end:
            chunks.append(c)
            end = c.end
    return encode(chunks, len(tags), target)


def infer_scheme(prefixes: set[str]) -> Scheme:
    """A best guess from the tag prefixes seen: BILOU if L/U occur, IOBES if S or both B and E,
    IOE2 if E without B, else IOB2 (whose lenient decoding also reads IOB1)."""
    if prefixes & {"L", "U"}:
        return Scheme.BILOU
    if "S" in prefixes or {"B", "E"} <= prefixes:
        return Scheme.IOBES
    if "E" in prefixes:
        return Scheme.IOE2
    return Scheme.IOB2
