"""Every exception Labelgate raises on purpose.

::

    LabelgateError
     +-- InvariantError        a value object was built with impossible values (core)
     +-- FormatError           a dataset file could not be read or written (formats)
     |    +-- DetectionError   no codec, or several, claim a path
     |    +-- MissingDependencyError  an optional extra is not installed
     +-- QualityError          a metric was asked of data it cannot take (quality)
     +-- NotFoundError         a named thing does not exist (server, CLI)
     +-- ConflictError         a stale write (server)
     +-- PermissionDenied      the caller may not do this (server)

Messages say what was wrong, where (file, line, field, id) and, where it helps, what to do.
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "DetectionError",
    "FormatError",
    "InvariantError",
    "LabelgateError",
    "MissingDependencyError",
    "NotFoundError",
    "PermissionDenied",
    "QualityError",
]


class LabelgateError(Exception):
    """Base class of every error Labelgate raises on purpose."""


class InvariantError(LabelgateError, ValueError):
    """A core value was constructed with values that break its invariants."""


class FormatError(LabelgateError):
    """A dataset file is malformed or cannot be written.

    ``path`` names the file and ``where`` the place inside it (line, element, key, record).
    """

    def __init__(self, message: str, *, path: object = None, where: str | None = None) -> None:
        self.path = None if path is None else str(path)
        self.where = where
        self.detail = message
        parts = []
        if self.path:
            parts.append(self.path)
        if where:
            parts.append(where)
        prefix = ": ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class DetectionError(FormatError):
    """No codec (or more than one) recognises a path."""


class MissingDependencyError(LabelgateError, ImportError):
    """An optional dependency is needed; the message names the extra to install."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the optional package {package!r}: "
            f"pip install 'labelgate[{extra}]'"
        )


class QualityError(LabelgateError, ValueError):
    """A quality computation was given data it cannot take."""


class NotFoundError(LabelgateError, LookupError):
    """A named object does not exist."""


class ConflictError(LabelgateError):
    """A write was based on a stale version."""


class PermissionDenied(LabelgateError):
    """The caller is not allowed to perform this operation."""
