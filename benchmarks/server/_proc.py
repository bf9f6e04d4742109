"""A server's process tree as /proc shows it: CPU seconds and peak memory summed over the process and
its descendants (``labelgate serve --workers N`` and ``label-studio start`` both serve from children)."""

from __future__ import annotations

import os

__all__ = ["cpu_s", "peak_rss_mb", "tree"]


def tree(pid: int) -> list[int]:
    """The process and its descendants."""
    out = [pid]
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as fh:
                for child in fh.read().split():
                    out += tree(int(child))
    except FileNotFoundError:
        pass
    return out


def cpu_s(pid: int) -> float:
    """User + system CPU seconds the tree has used (wall time swings with other jobs on the machine)."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as fh:
                fields = fh.read().rpartition(")")[2].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM), summed over the tree."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as fh:
                total += next((int(line.split()[1]) for line in fh if line.startswith("VmHWM:")), 0)
        except FileNotFoundError:
            continue
    return total / 1024
