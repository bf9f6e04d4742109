"""One virtualenv per peer tool under benchmarks/_venvs/ (git-ignored), created with pip.

Each peer runs in its own interpreter as a subprocess, so its imports, its dependencies and its
memory never mix with Labelgate's. A peer that fails to install is recorded, not faked.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PEERS", "Peer", "ensure"]

VENVS = Path(__file__).resolve().parents[1] / "_venvs"


@dataclass(frozen=True)
class Peer:
    name: str
    requirements: tuple[str, ...]

    @property
    def root(self) -> Path:
        return VENVS / self.name

    @property
    def python(self) -> Path:
        return self.root / "bin" / "python"

    @property
    def error_file(self) -> Path:
        return VENVS / f"{self.name}.error.txt"


PEERS = (
    Peer("globox", ("globox", "orjson")),
    Peer("datumaro", ("datumaro",)),
    Peer("supervision", ("supervision",)),
    Peer("label-studio-converter", ("label-studio-converter",)),
)


def ensure(peer: Peer) -> str | None:
    """Create the peer's venv if needed; None when ready, else the installation error."""
    ok = peer.root / ".installed"
    if ok.exists():
        return None
    if peer.error_file.exists():
        return peer.error_file.read_text()
    VENVS.mkdir(parents=True, exist_ok=True)
    venv.EnvBuilder(with_pip=True, clear=True).create(peer.root)
    cmd = [str(peer.python), "-m", "pip", "install", "--disable-pip-version-check", "-q", *peer.requirements]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-15:]
        msg = f"pip install {' '.join(peer.requirements)} failed (exit {proc.returncode}):\n" + "\n".join(tail)
        peer.error_file.write_text(msg)
        return msg
    ok.write_text(" ".join(peer.requirements))
    return None


if __name__ == "__main__":
    for p in PEERS:
        if len(sys.argv) > 1 and p.name not in sys.argv[1:]:
            continue
        err = ensure(p)
        print(p.name, "ok" if err is None else f"FAILED: {err}", flush=True)
