"""Media upload (files and archives, safely), serving with range requests and access control."""

from __future__ import annotations

import io
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

from fastapi.testclient import TestClient
from PIL import Image

from tests.integration.conftest import World


def png(w: int = 8, h: int = 6, color: tuple[int, int, int] = (200, 10, 10)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), color).save(buf, "PNG")
    return buf.getvalue()


def pixel_bomb_png(w: int = 30000, h: int = 30000) -> bytes:
    """A PNG header that claims a huge image (no pixel data needed to trip the check)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b"")


def zip_bytes(members: dict[str, bytes], symlink: str | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (0o120777 << 16)
            zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


def _upload(c: TestClient, w: World, data: bytes, name: str, role: str = "manager"):
    return c.post(f"/api/v1/projects/{w.project_id}/media", headers=w[role].headers,
                  files={"file": (name, data, "application/octet-stream")})


def _task_count(c: TestClient, w: World) -> int:
    return c.get(f"/api/v1/projects/{w.project_id}/tasks", headers=w["manager"].headers).json()["total"]


def test_upload_image_then_serve_with_ranges(app_client: TestClient, world: World) -> None:
    c = app_client
    data = png(16, 9)
    r = _upload(c, world, data, "shelf_1.png")
    assert r.status_code == 201, r.text
    assert r.json() == {"files": 1, "new_tasks": 1, "skipped": []}
    task = c.get(f"/api/v1/projects/{world.project_id}/tasks", headers=world["manager"].headers).json()["tasks"][0]
    assert task["item"] == {"id": "shelf_1", "media": "shelf_1.png", "width": 16, "height": 9}
    url = f"/api/v1/tasks/{task['id']}/media"
    r = c.get(url, headers=world["annotator"].headers)
    assert r.status_code == 200 and r.content == data and r.headers["content-type"] == "image/png"
    r = c.get(url, headers={**world["annotator"].headers, "Range": "bytes=0-9"})
    assert r.status_code == 206 and r.content == data[:10]
    assert r.headers["content-range"] == f"bytes 0-9/{len(data)}"
    assert c.get(url).status_code == 401
    assert c.get(url, headers=world["outsider"].headers).status_code == 404
    # uploading the same image again replaces the file and adds no task
    assert _upload(c, world, data, "shelf_1.png").json()["new_tasks"] == 0


def test_archives_become_tasks(app_client: TestClient, world: World) -> None:
    c = app_client
    z = zip_bytes({"train/a.png": png(), "train/b.jpg": png(), "notes.txt": b"hello"})
    r = _upload(c, world, z, "batch.zip")
    assert r.status_code == 201, r.text
    assert r.json() == {"files": 2, "new_tasks": 2, "skipped": ["notes.txt"]}
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        data = png()
        info = tarfile.TarInfo("c.png")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    assert _upload(c, world, buf.getvalue(), "more.tar.gz").json()["new_tasks"] == 1
    keys = sorted(t["key"] for t in c.get(f"/api/v1/projects/{world.project_id}/tasks",
                                          headers=world["manager"].headers).json()["tasks"])
    assert keys == ["a", "b", "c"]


def test_hostile_uploads_are_refused_and_nothing_is_stored(app_client: TestClient, world: World, runtime) -> None:
    c = app_client
    tar_link = io.BytesIO()
    with tarfile.open(fileobj=tar_link, mode="w") as tf:
        link = tarfile.TarInfo("evil.png")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        tf.addfile(link)
    cases = [
        (zip_bytes({"ok.png": png(), "../../escape.png": png()}), "t.zip", 422, "outside the archive"),
        (zip_bytes({"/abs.png": png()}), "t.zip", 422, "absolute path"),
        (zip_bytes({"ok.png": png()}, symlink="link.png"), "t.zip", 422, "symlink"),
        (tar_link.getvalue(), "t.tar", 422, "link or special file"),
        (zip_bytes({"zeros.png": b"\x00" * (8 << 20)}), "bomb.zip", 422, "decompression bomb"),
        (pixel_bomb_png(), "huge.png", 422, "too many pixels"),
        (b"not an image at all", "fake.png", 422, "not a readable image"),
        (zip_bytes({"readme.txt": b"x"}), "none.zip", 422, "no images found"),
        (zip_bytes({"a/x.png": png(), "b/x.png": png()}), "dup.zip", 422, "share a file name"),
    ]
    for data, name, status, message in cases:
        r = _upload(c, world, data, name)
        assert r.status_code == status, (name, r.text)
        assert message in r.json()["error"]["message"], (name, r.json())
    old = runtime.settings.max_upload_bytes
    runtime.settings.max_upload_bytes = 100
    try:
        r = _upload(c, world, png(64, 64, (1, 2, 3)) + b"\x00" * 200, "big.png")
        assert r.status_code == 413, r.text
    finally:
        runtime.settings.max_upload_bytes = old
    assert _task_count(c, world) == 0
    assert list(runtime.storage.list(f"media/{world.project_id}")) == []
    leftovers = [q for q in runtime.settings.upload_dir.rglob("*") if q.is_file()]
    assert leftovers == []
    assert _upload(c, world, png(), "x.png", role="annotator").status_code == 403


def test_url_media_redirect_and_registered_directory(app_client: TestClient, world: World, tmp_path: Path) -> None:
    c, m, su = app_client, world["manager"].headers, world["superuser"].headers
    items = [{"id": "remote", "media": "https://example.org/img/remote.jpg"}, {"id": "local", "media": "sub/local.png"},
             {"id": "escape", "media": "../secret.png"}]
    tasks = {t["key"]: t["id"] for t in c.post(f"/api/v1/projects/{world.project_id}/tasks", headers=m,
                                               json={"items": items}).json()}
    r = c.get(f"/api/v1/tasks/{tasks['remote']}/media", headers=m, follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "https://example.org/img/remote.jpg"
    assert c.get(f"/api/v1/tasks/{tasks['local']}/media", headers=m).status_code == 404
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "local.png").write_bytes(png())
    (tmp_path.parent / "secret.png").write_bytes(b"TOP-SECRET-BYTES")
    url = f"/api/v1/projects/{world.project_id}"
    assert c.patch(url, headers=m, json={"settings": {"media_dir": str(tmp_path)}}).status_code == 403
    assert c.patch(url, headers=su, json={"settings": {"media_dir": "relative/dir"}}).status_code == 422
    assert c.patch(url, headers=su, json={"settings": {"media_dir": str(tmp_path)}}).status_code == 200
    r = c.get(f"/api/v1/tasks/{tasks['local']}/media", headers=world["annotator"].headers)
    assert r.status_code == 200 and r.content == png()
    r = c.get(f"/api/v1/tasks/{tasks['escape']}/media", headers=m)
    assert r.status_code == 422 and b"TOP-SECRET" not in r.content and "leaves the media root" in r.text


def test_url_lists_become_tasks_that_redirect(app_client: TestClient, world: World) -> None:
    c = app_client
    urls = b"# shelves on the CDN\nhttps://cdn.example.org/s/a.jpg\n\nhttps://cdn.example.org/s/b%20c.png\n"
    r = _upload(c, world, urls, "list.txt")
    assert r.status_code == 201 and r.json() == {"files": 2, "new_tasks": 2, "skipped": []}
    tasks = {t["key"]: t for t in c.get(f"/api/v1/projects/{world.project_id}/tasks",
                                        headers=world["manager"].headers).json()["tasks"]}
    assert set(tasks) == {"a", "b c"}
    r = c.get(f"/api/v1/tasks/{tasks['a']['id']}/media", headers=world["annotator"].headers, follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "https://cdn.example.org/s/a.jpg"
    for body, message in [(b"file:///etc/passwd\n", "not an http(s) URL"), (b"http://x/a.jpg\nhttp://y/a.png\n", "repeats line 1"),
                          (b"\n# nothing\n", "no URLs")]:
        r = _upload(c, world, body, "bad.txt")
        assert r.status_code == 422 and message in r.json()["error"]["message"], r.text
    assert _task_count(c, world) == 2


def test_deleting_a_project_removes_its_stored_media(app_client: TestClient, world: World, runtime) -> None:
    c = app_client
    assert _upload(c, world, png(), "gone.png").status_code == 201
    assert list(runtime.storage.list(f"media/{world.project_id}")) == [f"media/{world.project_id}/gone.png"]
    assert c.delete(f"/api/v1/projects/{world.project_id}", headers=world["admin"].headers).status_code == 204
    assert list(runtime.storage.list(f"media/{world.project_id}")) == []


def test_scan_a_registered_directory_into_tasks(app_client: TestClient, world: World, tmp_path: Path) -> None:
    c, m, su = app_client, world["manager"].headers, world["superuser"].headers
    url = f"/api/v1/projects/{world.project_id}"
    r = c.post(f"{url}/media/scan", headers=m)
    assert r.status_code == 422 and "no media_dir or media_s3" in r.json()["error"]["message"]
    (tmp_path / "aisle1").mkdir()
    (tmp_path / "aisle1" / "s1.png").write_bytes(png(10, 20))
    (tmp_path / "s2.jpg").write_bytes(png(30, 40))
    (tmp_path / "readme.md").write_text("not an image")
    (tmp_path / "link.png").symlink_to(tmp_path.parent)  # links are not followed out of the directory
    assert c.patch(url, headers=su, json={"settings": {"media_dir": str(tmp_path)}}).status_code == 200
    r = c.post(f"{url}/media/scan", headers=m)
    assert r.status_code == 200 and r.json() == {"files": 2, "new_tasks": 2, "skipped": ["readme.md"]}
    items = {t["key"]: t["item"] for t in c.get(f"{url}/tasks", headers=m).json()["tasks"]}
    assert items == {"s1": {"id": "s1", "media": "aisle1/s1.png", "width": 10, "height": 20},
                     "s2": {"id": "s2", "media": "s2.jpg", "width": 30, "height": 40}}
    assert c.post(f"{url}/media/scan", headers=m).json()["new_tasks"] == 0
    assert c.post(f"{url}/media/scan", headers=world["annotator"].headers).status_code == 403
