"""Streaming a stored file out of a response, in one place for every router that serves files."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

__all__ = ["Readable", "file_chunks"]


class Readable(Protocol):
    """A binary file as storage backends and spooled temporary files hand it out."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


def file_chunks(fh: Readable, size: int = 1 << 16) -> Iterator[bytes]:
    """The file's bytes in ``size`` chunks; the file is closed when the stream ends or is dropped."""
    try:
        while chunk := fh.read(size):
            yield chunk
    finally:
        fh.close()
