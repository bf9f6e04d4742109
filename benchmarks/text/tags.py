"""Tag decoding and CoNLL/span-JSONL I/O at CoNLL-2003 scale, with seqeval side by side.

Data (seeded): ``--docs`` documents x 15 sentences x 14 tokens (946 docs: 198,660 tokens, about
CoNLL-2003 English train's 203,621), IOB2 tags with about 18% entity tokens of 4 types.

- Default decoding: ``seqeval.metrics.sequence_labeling.get_entities`` per sentence vs
  ``labelgate.formats.tagging.decode``; strict: ``seqeval.scheme.Entities(..., IOB2)`` vs
  ``decode_strict`` (which also produces the findings). Results must be equal or the run fails.
- Codec timings (no peer reads CoNLL into a span model): read lenient, read strict, write IOBES,
  write and read span JSONL.

Times are the best of ``--repeat`` runs (wall clock), peer and Labelgate alternating.
Writes the ``## Text: tag schemes and CoNLL`` section of benchmarks/RESULTS.md (``--no-write`` to skip).

    .venv/bin/python benchmarks/text/tags.py [--docs 946] [--repeat 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seqeval.metrics.sequence_labeling import get_entities
from seqeval.scheme import IOB2, Entities

from labelgate import formats
from labelgate.formats import tagging

RESULTS = Path(__file__).resolve().parents[1] / "RESULTS.md"
SECTION = "## Text: tag schemes and CoNLL"
TYPES = ("PER", "LOC", "ORG", "MISC")


def corpus(docs: int, seed: int = 0) -> tuple[str, list[list[str]]]:
    rnd = random.Random(seed)
    lines: list[str] = []
    sentences: list[list[str]] = []
    n = 0
    for _ in range(docs):
        lines.append("-DOCSTART- -X- -X- O\n\n")
        for _ in range(15):
            tags: list[str] = []
            for _ in range(14):
                r = rnd.random()
                if r < 0.82:
                    tag = "O"
                elif tags and tags[-1] != "O" and r < 0.91:
                    tag = "I-" + tags[-1][2:]
                else:
                    tag = "B-" + rnd.choice(TYPES)
                tags.append(tag)
                lines.append(f"w{n} NNP B-NP {tag}\n")
                n += 1
            sentences.append(tags)
            lines.append("\n")
    return "".join(lines), sentences


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=int, default=946)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    text, sentences = corpus(args.docs)
    tokens = sum(map(len, sentences))
    rows: list[tuple[str, str, float | None, float]] = []

    peer_d = ours_d = peer_s = ours_s = float("inf")
    for _ in range(args.repeat):  # alternate peer and ours
        t, theirs = best(lambda: [get_entities(s) for s in sentences], 1)
        peer_d = min(peer_d, t)
        t, mine = best(lambda: [tagging.decode(s, "iob2") for s in sentences], 1)
        ours_d = min(ours_d, t)
        t, theirs_s = best(lambda: Entities(sentences, IOB2).entities, 1)
        peer_s = min(peer_s, t)
        t, mine_s = best(lambda: [tagging.decode_strict(s, "iob2") for s in sentences], 1)
        ours_s = min(ours_s, t)
    assert [[(c.label, c.start, c.end - 1) for c in s] for s in mine] == [[tuple(e) for e in s] for s in theirs]
    assert [[(c.label, c.start, c.end) for c in s[0]] for s in mine_s] == [[(e.tag, e.start, e.end) for e in s] for s in theirs_s]
    rows.append(("decode, default mode", "seqeval get_entities", peer_d, ours_d))
    rows.append(("decode, strict IOB2 (+ findings)", "seqeval Entities", peer_s, ours_s))

    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        src = d / "train.conll"
        src.write_text(text, encoding="utf-8")
        t, ds = best(lambda: formats.read(src, "conll", scheme="iob2"), args.repeat)
        rows.append(("CoNLL read (lenient)", "", None, t))
        t, _ = best(lambda: formats.read(src, "conll", scheme="iob2", strict=True), args.repeat)
        rows.append(("CoNLL read (strict)", "", None, t))
        t, _ = best(lambda: formats.write(ds, d / "out.conll", "conll", scheme="iobes"), args.repeat)
        rows.append(("CoNLL write (IOBES)", "", None, t))
        t, _ = best(lambda: formats.write(ds, d / "out.jsonl", "spans_jsonl"), args.repeat)
        rows.append(("span JSONL write", "", None, t))
        t, back = best(lambda: formats.read(d / "out.jsonl", "spans_jsonl"), args.repeat)
        rows.append(("span JSONL read", "", None, t))
        assert back == ds
        regions = ds.region_count

    load = os.getloadavg()[0]
    lines = [
        SECTION, "",
        f"`benchmarks/text/tags.py`: {args.docs} documents, {len(sentences):,} sentences, {tokens:,} tokens, "
        f"{regions:,} entities (IOB2); best of {args.repeat} runs, peer and Labelgate alternating; Python "
        f"{platform.python_version()}, on a shared machine (load average {load:.1f} at the end). Chunks equal "
        "seqeval's (asserted).", "",
        "| step | peer | peer s | Labelgate s | speed-up (peer / Labelgate) |",
        "|---|---|---:|---:|---:|",
    ]
    for name, peer, pt, ot in rows:
        ratio = f"{pt / ot:.1f}x" if pt else ""
        lines.append(f"| {name} | {peer} | {'' if pt is None else f'{pt:.3f}'} | {ot:.3f} | {ratio} |")
    section = "\n".join(lines) + "\n"
    print(section)
    if not args.no_write:
        write_section(section)


def write_section(text: str) -> None:
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    start = old.find(SECTION)
    if start < 0:
        new = old.rstrip("\n") + "\n\n" + text
    else:
        end = old.find("\n## ", start + len(SECTION))
        new = old[:start] + text + ("" if end < 0 else old[end:])
    RESULTS.write_text(new)


if __name__ == "__main__":
    main()
