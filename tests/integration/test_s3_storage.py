"""The server on S3-compatible storage (moto's in-process S3): media redirect to signed URLs,
export snapshots stored as objects and downloaded through the API."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

moto = pytest.importorskip("moto")
boto3 = pytest.importorskip("boto3")

from labelgate.core.errors import InvariantError  # noqa: E402
from labelgate.server import Runtime, Settings, create_app  # noqa: E402
from labelgate.server.services import auth, projects  # noqa: E402
from labelgate.storage import S3Storage  # noqa: E402
from tests.integration.conftest import FAST_HASH, TestClient  # noqa: E402
from tests.integration.test_media import png  # noqa: E402


def test_server_on_s3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    with moto.mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="lg-media")
        settings = Settings(data_dir=tmp_path, storage="s3", s3_bucket="lg-media", s3_region="us-east-1", **FAST_HASH)
        rt = Runtime.open(settings)
        try:
            assert isinstance(rt.storage, S3Storage)
            root = auth.create_user(rt, None, "root", "root-password", True)
            token = auth.create_token(rt, root, "t")[1]
            p = projects.create_project(rt, root, "s3", label_schema={"classes": [{"name": "Product"}]})
            h = {"Authorization": f"Token {token}"}
            with TestClient(create_app(runtime=rt)) as c:
                r = c.post(f"/api/v1/projects/{p.id}/media", headers=h, files={"file": ("a.png", png(), "image/png")})
                assert r.status_code == 201, r.text
                assert list(rt.storage.list(f"media/{p.id}")) == [f"media/{p.id}/a.png"]
                t = c.get(f"/api/v1/projects/{p.id}/tasks", headers=h).json()["tasks"][0]
                r = c.get(f"/api/v1/tasks/{t['id']}/media", headers=h, follow_redirects=False)
                assert r.status_code == 307 and "lg-media" in r.headers["location"] and "Signature" in r.headers["location"]
                started = c.post(f"/api/v1/projects/{p.id}/exports", headers=h, json={"format": "native"}).json()
                deadline = time.monotonic() + 30
                while c.get(f"/api/v1/jobs/{started['job']['id']}", headers=h).json()["status"] != "succeeded":
                    assert time.monotonic() < deadline
                    time.sleep(0.05)
                raw = c.get(f"/api/v1/exports/{started['export']['id']}/files/dataset.json", headers=h).content
                assert raw.startswith(b'{"labelgate"')
                with rt.storage.open(f"exports/{p.id}/1/dataset.json") as fh:
                    assert fh.read() == raw
        finally:
            rt.close()


def test_s3_needs_a_bucket(tmp_path: Path) -> None:
    with pytest.raises(InvariantError, match="LABELGATE_S3_BUCKET"):
        Runtime.open(Settings(data_dir=tmp_path, storage="s3", **FAST_HASH))


def test_a_registered_bucket_becomes_tasks_served_by_signed_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(k, v)
    with moto.mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="shelves")
        for key in ("cam1/a.jpg", "cam1/b.png", "cam2/notes.txt"):
            s3.put_object(Bucket="shelves", Key=f"store7/{key}", Body=b"x")
        rt = Runtime.open(Settings(data_dir=tmp_path, **FAST_HASH))
        try:
            root = auth.create_user(rt, None, "root", "root-password", True)
            h = {"Authorization": f"Token {auth.create_token(rt, root, 't')[1]}"}
            p = projects.create_project(rt, root, "bucket", label_schema={"classes": [{"name": "Product"}]},
                                        settings={"media_s3": {"bucket": "shelves", "prefix": "store7", "region": "us-east-1"}})
            with TestClient(create_app(runtime=rt)) as c:
                r = c.post(f"/api/v1/projects/{p.id}/media/scan", headers=h)
                assert r.json() == {"files": 2, "new_tasks": 2, "skipped": ["cam2/notes.txt"]}
                t = next(t for t in c.get(f"/api/v1/projects/{p.id}/tasks", headers=h).json()["tasks"] if t["key"] == "a")
                assert t["item"] == {"id": "a", "media": "cam1/a.jpg"}
                r = c.get(f"/api/v1/tasks/{t['id']}/media", headers=h, follow_redirects=False)
                assert r.status_code == 307 and "shelves" in r.headers["location"] and "store7/cam1/a.jpg" in r.headers["location"]
                bad = c.patch(f"/api/v1/projects/{p.id}", headers=h, json={"settings": {"media_s3": {"bucket": "x", "acl": "public"}}})
                assert bad.status_code == 422 and "unknown keys" in bad.json()["error"]["message"]
        finally:
            rt.close()
