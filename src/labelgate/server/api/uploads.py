"""Receiving uploads: size-limited, streamed to a private temporary file, removed afterwards."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

from fastapi import Request, UploadFile

from labelgate.server.errors import PayloadTooLarge
from labelgate.server.settings import Settings

__all__ = ["check_length", "received", "safe_name"]

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(filename: str | None) -> str:
    """The upload's base name with anything but letters, digits, ``._-`` replaced; never a path."""
    base = (filename or "upload").replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).lstrip(".")
    return base[:200] or "upload"


def check_length(request: Request, settings: Settings) -> None:
    """Refuse early when the declared body is already over the limit."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > settings.max_upload_bytes + 64 * 1024:
        raise PayloadTooLarge(f"upload of {int(declared)} bytes is over the limit of {settings.max_upload_bytes} bytes "
                              "(LABELGATE_MAX_UPLOAD_BYTES)")


@contextlib.contextmanager
def received(upload: UploadFile, settings: Settings) -> Iterator[Path]:
    """Copy the upload into a temporary directory, enforcing the size limit; yields its path."""
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="upload-", dir=settings.upload_dir) as tmp:
        path = Path(tmp) / safe_name(upload.filename)
        n = 0
        with path.open("wb") as out:
            while chunk := upload.file.read(1 << 20):
                n += len(chunk)
                if n > settings.max_upload_bytes:
                    raise PayloadTooLarge(f"upload {upload.filename!r} is over the limit of "
                                          f"{settings.max_upload_bytes} bytes (LABELGATE_MAX_UPLOAD_BYTES)")
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        yield path
