"""Blobs as files under one root directory."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from labelgate.core.errors import NotFoundError
from labelgate.storage.base import MediaStorage, check_key

__all__ = ["LocalStorage"]


class LocalStorage(MediaStorage):
    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, key: str) -> Path:
        """The file that holds ``key`` (checked to lie under the root)."""
        p = (self.root / check_key(key)).resolve()
        if not p.is_relative_to(self.root):
            raise NotFoundError(f"storage key {key!r} resolves outside the storage root")
        return p

    def put(self, key: str, data: BinaryIO) -> int:
        dst = self.path(key)
        dst.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".tmp", dir=dst.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                shutil.copyfileobj(data, fh, 1 << 20)
                fh.flush()
                os.fsync(fh.fileno())
                n = fh.tell()
            os.replace(tmp, dst)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        return n

    def open(self, key: str) -> BinaryIO:
        p = self.path(key)
        try:
            return p.open("rb")
        except FileNotFoundError:
            raise NotFoundError(f"no stored object {key!r}") from None

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            raise NotFoundError(f"no stored object {key!r}") from None

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(key).unlink()

    def list(self, prefix: str = "") -> Iterator[str]:
        base = self.path(prefix) if prefix else self.root
        if not base.is_dir():
            return iter(())
        keys = sorted(
            p.relative_to(self.root).as_posix()
            for p in base.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )
        return iter(keys)
