"""Media and export storage behind one interface: a local directory by default."""

from labelgate.storage.base import MediaStorage, check_key
from labelgate.storage.local import LocalStorage

__all__ = ["LocalStorage", "MediaStorage", "check_key"]
