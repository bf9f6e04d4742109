"""Media and export storage behind one interface: a local directory by default, an
S3-compatible bucket at scale (``LABELGATE_STORAGE=s3``)."""

from labelgate.storage.base import MediaStorage, check_key
from labelgate.storage.local import LocalStorage
from labelgate.storage.s3 import S3Storage

__all__ = ["LocalStorage", "MediaStorage", "S3Storage", "check_key"]
