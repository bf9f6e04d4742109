"""The storage interface: flat keys (``a/b/c.png``) mapping to immutable byte blobs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import BinaryIO

from labelgate.core.errors import InvariantError

__all__ = ["MediaStorage", "check_key"]


def check_key(key: str) -> str:
    """``key`` if it is a safe relative key: no absolute path, no ``..``, no empty or dot parts,
    no backslashes or NUL bytes. Raises :class:`InvariantError` naming the problem otherwise."""
    if not isinstance(key, str) or not key:
        raise InvariantError(f"storage key must be a non-empty string, got {key!r}")
    if "\\" in key or "\x00" in key:
        raise InvariantError(f"storage key {key!r} contains a backslash or NUL byte")
    if key.startswith("/"):
        raise InvariantError(f"storage key {key!r} is absolute; keys are relative")
    for part in key.split("/"):
        if part in ("", ".", ".."):
            raise InvariantError(f"storage key {key!r} has an empty, '.' or '..' part")
    return key


class MediaStorage(ABC):
    """Where blobs live. Writes are atomic: a key either holds the whole blob or nothing."""

    @abstractmethod
    def put(self, key: str, data: BinaryIO) -> int:
        """Store the stream under ``key``; returns the number of bytes written."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """A readable binary stream; :class:`NotFoundError` if absent."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def size(self, key: str) -> int:
        """Size in bytes; :class:`NotFoundError` if absent."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; absent keys are ignored."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[str]:
        """Every key under ``prefix`` (a ``/``-separated folder), sorted."""

    def url_for(self, key: str, expires_s: int = 300) -> str | None:
        """A short-lived URL clients may fetch the blob from directly, or None (serve it yourself)."""
        return None
