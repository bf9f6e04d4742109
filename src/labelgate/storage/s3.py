"""Blobs in an S3-compatible bucket (AWS S3, MinIO, Ceph ...), through boto3 (the ``s3`` extra)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, BinaryIO

from labelgate.core.errors import MissingDependencyError, NotFoundError
from labelgate.storage.base import MediaStorage, check_key

__all__ = ["S3Storage"]


class S3Storage(MediaStorage):
    """Keys live under ``prefix`` in ``bucket``. Credentials come from boto3's usual chain
    (environment, config files, instance roles). ``client`` may be given (tests, custom sessions)."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None, region: str | None = None,
                 client: Any = None) -> None:
        if client is None:
            try:
                import boto3
            except ImportError as e:
                raise MissingDependencyError("boto3", "s3", "S3 storage") from e
            client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def _missing(self, e: Exception) -> bool:
        code = getattr(e, "response", {}).get("Error", {}).get("Code")
        return code in ("404", "NoSuchKey", "NotFound")

    def put(self, key: str, data: BinaryIO) -> int:
        counter = _Counting(data)
        self.client.upload_fileobj(counter, self.bucket, self._key(key))  # one object appears whole or not at all
        return counter.n

    def open(self, key: str) -> BinaryIO:
        from botocore.exceptions import ClientError

        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
        except ClientError as e:
            if self._missing(e):
                raise NotFoundError(f"no stored object {key!r}") from None
            raise
        return body  # botocore's StreamingBody reads like a binary file

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except NotFoundError:
            return False
        return True

    def size(self, key: str) -> int:
        from botocore.exceptions import ClientError

        try:
            return int(self.client.head_object(Bucket=self.bucket, Key=self._key(key))["ContentLength"])
        except ClientError as e:
            if self._missing(e):
                raise NotFoundError(f"no stored object {key!r}") from None
            raise

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def list(self, prefix: str = "") -> Iterator[str]:
        start = self.prefix + (check_key(prefix) + "/" if prefix else "")
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start):
            keys.extend(obj["Key"][len(self.prefix):] for obj in page.get("Contents", ()))
        return iter(sorted(keys))

    def url_for(self, key: str, expires_s: int = 300) -> str | None:
        return str(self.client.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": self._key(key)},
                                                      ExpiresIn=expires_s))


class _Counting(io.RawIOBase):
    """Counts the bytes boto3 reads from the source stream."""

    def __init__(self, src: BinaryIO) -> None:
        self.src = src
        self.n = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.src.read(size)
        self.n += len(chunk)
        return chunk

    def readinto(self, b: Any) -> int:
        chunk = self.read(len(b))
        b[: len(chunk)] = chunk
        return len(chunk)
