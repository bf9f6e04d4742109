"""The job-queue interface every backend implements."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from labelgate.core.errors import LabelgateError

__all__ = ["JobContext", "JobQueue", "resolve_target"]


@dataclass(frozen=True)
class JobContext:
    """What a running job receives: its id and the resources the queue's owner registered."""

    job_id: str
    resources: Mapping[str, Any] = field(default_factory=dict)


def resolve_target(target: str) -> Callable[..., Any]:
    """The callable named by ``"package.module:function"``."""
    module_name, sep, attr = target.partition(":")
    if not sep or not module_name or not attr:
        raise LabelgateError(f"job target {target!r} is not of the form 'module:function'")
    module = importlib.import_module(module_name)
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise LabelgateError(f"job target {target!r}: {attr!r} is not a callable in {module_name}")
    return fn


class JobQueue(ABC):
    """Runs ``target(ctx, **kwargs)`` in the background, at most once per enqueue.

    Enqueue only after the transaction that recorded the job has committed.
    """

    @abstractmethod
    def enqueue(self, job_id: str, target: str, kwargs: Mapping[str, Any]) -> None:
        """Schedule a job. ``kwargs`` must be JSON-serialisable."""

    @abstractmethod
    def join(self, timeout: float | None = None) -> bool:
        """Wait until every job enqueued so far has finished; False if ``timeout`` ran out."""

    @abstractmethod
    def close(self) -> None:
        """Stop accepting jobs and wait for running ones."""
