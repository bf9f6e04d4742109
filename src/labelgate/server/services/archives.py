"""Safe extraction of uploaded zip and tar archives.

Every member is checked before anything is written: no absolute paths, no ``..``, no symlinks,
hard links or devices, no more than the configured number of files, no more than the configured
total size, and no member compressed beyond the configured ratio (decompression bombs). Sizes are
counted again while extracting, so lying headers do not help.
"""

from __future__ import annotations

import stat
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from labelgate.core.errors import InvariantError
from labelgate.server.errors import PayloadTooLarge

__all__ = ["Limits", "extract", "is_archive", "safe_member_name"]


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_files: int
    max_ratio: float


def is_archive(path: Path) -> bool:
    return zipfile.is_zipfile(path) or _is_tar(path)


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except OSError:
        return False


def safe_member_name(name: str, archive: str) -> str:
    """The member's normalised relative path, or :class:`InvariantError` for an unsafe one."""
    if "\x00" in name or "\\" in name:
        raise InvariantError(f"{archive}: member {name!r} has a backslash or NUL byte in its name")
    p = PurePosixPath(name)
    if p.is_absolute() or name.startswith("/"):
        raise InvariantError(f"{archive}: member {name!r} has an absolute path; refusing the archive")
    parts = [x for x in p.parts if x not in ("", ".")]
    if ".." in parts:
        raise InvariantError(f"{archive}: member {name!r} points outside the archive (..); refusing the archive")
    if not parts:
        raise InvariantError(f"{archive}: member {name!r} has an empty name")
    return "/".join(parts)


def _copy(src: IO[bytes], dst: Path, budget: int, archive: str, name: str) -> int:
    dst.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with dst.open("wb") as out:
        while chunk := src.read(1 << 20):
            n += len(chunk)
            if n > budget:
                raise PayloadTooLarge(f"{archive}: unpacking {name!r} goes past the limit on unpacked size")
            out.write(chunk)
    return n


def _zip_members(zf: zipfile.ZipFile, archive: str, limits: Limits) -> Iterator[tuple[zipfile.ZipInfo, str]]:
    infos = [i for i in zf.infolist() if not i.is_dir()]
    if len(infos) > limits.max_files:
        raise PayloadTooLarge(f"{archive}: {len(infos)} files is over the limit of {limits.max_files}")
    total = 0
    for info in infos:
        name = safe_member_name(info.filename, archive)
        file_type = stat.S_IFMT(info.external_attr >> 16)  # 0 when the zip records no Unix type
        if file_type and file_type != stat.S_IFREG:
            raise InvariantError(f"{archive}: member {info.filename!r} is a symlink or special file; refusing the archive")
        total += info.file_size
        if total > limits.max_bytes:
            raise PayloadTooLarge(f"{archive}: unpacks to more than {limits.max_bytes} bytes")
        if info.compress_size and info.file_size / info.compress_size > limits.max_ratio:
            raise InvariantError(f"{archive}: member {info.filename!r} is compressed {info.file_size // info.compress_size}x "
                                 f"(limit {limits.max_ratio:g}x); refusing a possible decompression bomb")
        yield info, name


def _tar_members(tf: tarfile.TarFile, archive: str, limits: Limits) -> Iterator[tuple[tarfile.TarInfo, str]]:
    members = tf.getmembers()
    files = [m for m in members if not m.isdir()]
    if len(files) > limits.max_files:
        raise PayloadTooLarge(f"{archive}: {len(files)} files is over the limit of {limits.max_files}")
    total = 0
    for m in files:
        name = safe_member_name(m.name, archive)
        if not m.isfile():
            raise InvariantError(f"{archive}: member {m.name!r} is a link or special file; refusing the archive")
        total += m.size
        if total > limits.max_bytes:
            raise PayloadTooLarge(f"{archive}: unpacks to more than {limits.max_bytes} bytes")
        yield m, name


def extract(path: Path, dest: Path, limits: Limits, archive_name: str) -> list[str]:
    """Check every member, then extract regular files under ``dest``; returns their relative paths."""
    out: list[str] = []
    budget = limits.max_bytes
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            checked = list(_zip_members(zf, archive_name, limits))
            for info, name in checked:
                with zf.open(info) as src:
                    budget -= _copy(src, dest / name, budget, archive_name, name)
                out.append(name)
        return out
    try:
        with tarfile.open(path) as tf:
            checked_tar = list(_tar_members(tf, archive_name, limits))
            for member, name in checked_tar:
                member_file = tf.extractfile(member)
                if member_file is None:
                    raise InvariantError(f"{archive_name}: member {member.name!r} cannot be read")
                with member_file:
                    budget -= _copy(member_file, dest / name, budget, archive_name, name)
                out.append(name)
    except tarfile.TarError as e:
        raise InvariantError(f"{archive_name}: not a readable zip or tar archive ({e})") from None
    return out
