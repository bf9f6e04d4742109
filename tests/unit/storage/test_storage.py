"""Contract of every storage backend (local directory today)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from labelgate.core.errors import InvariantError, NotFoundError
from labelgate.storage import LocalStorage, MediaStorage, S3Storage


@pytest.fixture(params=["local", "s3"])
def storage(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    if request.param == "local":
        yield LocalStorage(tmp_path / "store")
        return
    moto = pytest.importorskip("moto")
    boto3 = pytest.importorskip("boto3")
    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
        client.create_bucket(Bucket="media")
        yield S3Storage("media", prefix="lg", client=client)


def test_put_open_size_list_delete(storage: MediaStorage) -> None:
    assert storage.put("a/b/c.txt", io.BytesIO(b"hello")) == 5
    storage.put("a/d.bin", io.BytesIO(b"\x00" * 10))
    with storage.open("a/b/c.txt") as fh:
        assert fh.read() == b"hello"
    assert storage.size("a/d.bin") == 10
    assert list(storage.list("a")) == ["a/b/c.txt", "a/d.bin"]
    assert storage.exists("a/d.bin")
    storage.delete("a/d.bin")
    storage.delete("a/d.bin")
    assert not storage.exists("a/d.bin")
    with pytest.raises(NotFoundError):
        storage.open("a/d.bin")
    with pytest.raises(NotFoundError):
        storage.size("missing")


@pytest.mark.parametrize("key", ["../x", "/etc/passwd", "a/../../x", "a//b", "a\\b", "", "a/./b", "x\x00y"])
def test_unsafe_keys_are_refused(storage: MediaStorage, key: str) -> None:
    with pytest.raises(InvariantError):
        storage.put(key, io.BytesIO(b"x"))


def test_failed_write_leaves_nothing(storage: MediaStorage) -> None:
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, b) -> int:  # type: ignore[no-untyped-def]
            raise OSError("disk went away")

    with pytest.raises(OSError):
        storage.put("k/file", Broken())  # type: ignore[arg-type]
    assert not storage.exists("k/file")
    assert list(storage.list("k")) == []


def test_s3_gives_presigned_urls_local_does_not(storage: MediaStorage) -> None:
    storage.put("m/a.png", io.BytesIO(b"png"))
    url = storage.url_for("m/a.png")
    if isinstance(storage, S3Storage):
        assert url is not None and "m/a.png" in url and "Signature" in url
    else:
        assert url is None
