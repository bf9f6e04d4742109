"""Media: uploaded files and archives (stored under ``media/<project>/``), a local directory
registered in place (project setting ``media_dir``, superusers only), or URLs on the items.
Media are served through the API with the same access control as everything else."""

from __future__ import annotations

import shutil
import tempfile
import warnings
from collections import Counter
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from PIL import Image, UnidentifiedImageError

from labelgate.core.errors import InvariantError, NotFoundError
from labelgate.server.db.repos import tasks as tasks_repo
from labelgate.server.domain import Role, User
from labelgate.server.services.access import project_for
from labelgate.server.services.archives import Limits, extract, is_archive, safe_member_name
from labelgate.server.services.runtime import Runtime
from labelgate.storage import LocalStorage, S3Storage

__all__ = [
    "IMAGE_SUFFIXES", "MediaSource", "MediaUpload", "image_size", "media_key", "media_source", "scan_media", "upload_media",
]

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp"})
URL_LIST_SUFFIXES = frozenset({".txt", ".urls"})
MAX_URLS = 1_000_000


@dataclass(frozen=True)
class MediaUpload:
    files: int
    new_tasks: int
    skipped: list[str]


@dataclass(frozen=True)
class MediaSource:
    """Where a task's media is: ``kind`` is "url" (redirect), "file" (a local path) or "stored" (a storage key)."""

    kind: str
    value: str


def media_key(project_id: int, rel: str) -> str:
    return f"media/{project_id}/{rel}"


def image_size(path: Path, name: str) -> tuple[int, int]:
    """Width and height from the header; refuses unreadable images and pixel bombs."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(path) as im:
                return int(im.size[0]), int(im.size[1])
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise InvariantError(f"{name}: too many pixels (over {Image.MAX_IMAGE_PIXELS}); refusing a decompression bomb") from None
        except (UnidentifiedImageError, OSError) as e:
            raise InvariantError(f"{name}: not a readable image ({e})") from None


def _create_missing_tasks(rt: Runtime, actor: User, project_id: int, items: list[tuple[str, dict[str, Any]]]) -> int:
    """One task per item whose id the project does not have yet, each with its ``task.created``
    event, in one transaction (a manager's); how many were created."""
    with rt.db.write() as conn:
        project_for(conn, project_id, actor, Role.MANAGER)
        existing = tasks_repo.existing_keys(conn, project_id, [k for k, _ in items])
        new = [(k, it) for k, it in items if k not in existing]
        ids = tasks_repo.insert_tasks(conn, project_id, new)
        tasks_repo.add_events(conn, [{"project_id": project_id, "task_id": ids[k], "kind": "task.created",
                                      "actor_id": actor.id, "data": {"media": it["media"]}} for k, it in new])
    return len(new)


def upload_media(rt: Runtime, actor: User, project_id: int, path: Path, filename: str) -> MediaUpload:
    """Store an image or an archive of images; every new image becomes a task (id = file stem).
    Nothing is stored unless every member passes the checks."""
    with rt.db.read() as conn:
        project_for(conn, project_id, actor, Role.MANAGER)
    if PurePosixPath(filename).suffix.lower() in URL_LIST_SUFFIXES:
        return _url_list(rt, actor, project_id, path, filename)
    s = rt.settings
    with tempfile.TemporaryDirectory(prefix="media-", dir=s.upload_dir) as tmp:
        root = Path(tmp)
        if is_archive(path):
            names = extract(path, root, Limits(s.max_archive_bytes, s.max_archive_files, s.max_compression_ratio), filename)
        else:
            name = safe_member_name(PurePosixPath(filename).name, filename)
            shutil.copyfile(path, root / name)
            names = [name]
        images = [n for n in names if PurePosixPath(n).suffix.lower() in IMAGE_SUFFIXES]
        skipped = [n for n in names if n not in set(images)]
        if not images:
            raise InvariantError(f"{filename}: no images found (looked for {', '.join(sorted(IMAGE_SUFFIXES))})")
        stems = Counter(PurePosixPath(n).stem for n in images)
        dup = [n for n in images if stems[PurePosixPath(n).stem] > 1]
        if dup:
            raise InvariantError(f"{filename}: images {dup[:4]} share a file name; item ids are file names without extension")
        items: list[tuple[str, dict[str, Any]]] = []
        for n in images:
            w, h = image_size(root / n, n)
            items.append((PurePosixPath(n).stem, {"id": PurePosixPath(n).stem, "media": n, "width": w, "height": h}))
        for n in images:
            with (root / n).open("rb") as fh:
                rt.storage.put(media_key(project_id, n), fh)
    created = _create_missing_tasks(rt, actor, project_id, items)
    return MediaUpload(len(images), created, skipped)


def _url_list(rt: Runtime, actor: User, project_id: int, path: Path, filename: str) -> MediaUpload:
    """A text file of http(s) URLs, one per line (blank lines and ``#`` comments ignored): one task
    per URL, its id the URL's file name without extension."""
    from urllib.parse import unquote, urlsplit

    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise InvariantError(f"{filename}: not UTF-8 text ({e})") from None
    items: list[tuple[str, dict[str, Any]]] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(lines, 1):
        url = raw.strip()
        if not url or url.startswith("#"):
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvariantError(f"{filename}, line {n}: {url[:200]!r} is not an http(s) URL")
        key = PurePosixPath(unquote(parts.path)).stem or parts.netloc
        if key in seen:
            raise InvariantError(f"{filename}, line {n}: item id {key!r} (from the file name) repeats line {seen[key]}")
        seen[key] = n
        items.append((key, {"id": key, "media": url}))
        if len(items) > MAX_URLS:
            raise InvariantError(f"{filename}: more than {MAX_URLS} URLs; split the list")
    if not items:
        raise InvariantError(f"{filename}: no URLs found")
    created = _create_missing_tasks(rt, actor, project_id, items)
    return MediaUpload(len(items), created, [])


def media_source(rt: Runtime, actor: User, task_id: int) -> MediaSource:
    with rt.db.read() as conn:
        task = tasks_repo.task(conn, task_id)
        missing = NotFoundError(f"task {task_id} does not exist or you are not a member of its project")
        if task is None:
            raise missing
        try:
            project = project_for(conn, task.project_id, actor)
        except NotFoundError:
            raise missing from None
    media = task.item.get("media")
    if not media:
        raise NotFoundError(f"task {task_id} has no media")
    if media.startswith(("http://", "https://")):
        return MediaSource("url", media)
    try:
        rel = safe_member_name(media, f"task {task_id}")
    except InvariantError:
        raise InvariantError(f"task {task_id}: media path {media!r} is absolute or leaves the media root; "
                             "use a path relative to the project's media") from None
    bucket = project.settings.get("media_s3")
    if bucket:
        url = _bucket_storage(bucket).url_for(rel)
        assert url is not None
        return MediaSource("url", url)
    media_dir = project.settings.get("media_dir")
    if media_dir:
        root = Path(str(media_dir)).resolve()
        p = (root / rel).resolve()
        if not p.is_relative_to(root) or not p.is_file():
            raise NotFoundError(f"task {task_id}: {media!r} is not a file under the project's media directory")
        return MediaSource("file", str(p))
    key = media_key(task.project_id, rel)
    if not rt.storage.exists(key):
        raise NotFoundError(f"task {task_id}: media {media!r} has not been uploaded")
    if isinstance(rt.storage, LocalStorage):
        return MediaSource("file", str(rt.storage.path(key)))
    return MediaSource("stored", key)


def _bucket_storage(conf: dict[str, Any]) -> S3Storage:
    return S3Storage(conf["bucket"], conf.get("prefix") or "", conf.get("endpoint_url"), conf.get("region"))


def scan_media(rt: Runtime, actor: User, project_id: int) -> MediaUpload:
    """Tasks for every image in the project's registered source (``media_dir`` or ``media_s3``)
    that has none yet. Local images get their size from the header; bucket images are not
    downloaded, so theirs stays unknown until a client loads them."""
    with rt.db.read() as conn:
        project = project_for(conn, project_id, actor, Role.MANAGER)
    media_dir, bucket = project.settings.get("media_dir"), project.settings.get("media_s3")
    if not media_dir and not bucket:
        raise InvariantError(f"project {project_id} has no media_dir or media_s3 to scan; a superuser registers one")
    items: list[tuple[str, dict[str, Any]]] = []
    skipped: list[str] = []
    if bucket:
        names = list(_bucket_storage(bucket).list())
    else:
        root = Path(str(media_dir)).resolve()
        names = sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                       if p.is_file() and not p.is_symlink() and p.resolve().is_relative_to(root))
    seen: dict[str, str] = {}
    for n in names:
        if PurePosixPath(n).suffix.lower() not in IMAGE_SUFFIXES:
            skipped.append(n)
            continue
        key = PurePosixPath(n).stem
        if key in seen:
            raise InvariantError(f"{n} and {seen[key]} share a file name; item ids are file names without extension")
        seen[key] = n
        item: dict[str, Any] = {"id": key, "media": n}
        if media_dir:
            item["width"], item["height"] = image_size(Path(str(media_dir)) / n, n)
        items.append((key, item))
    created = _create_missing_tasks(rt, actor, project_id, items)
    return MediaUpload(len(items), created, skipped[:100])
