"""Engine snapshots: a project's workflow state (with its quality accumulators) pickled at a log record,
so that a process builds the engine by loading the snapshot and replaying only the records after it
instead of the whole log (at 100k tasks, tens of seconds).

A snapshot is taken off the request path (:mod:`.workflow_snapshotter`): a separate process builds the
engine from the stored log as any new process would, and stores it tagged with the record count it covers,
so it never runs ahead of the log. It holds everything but the configuration (rebuilt from the stored workflow JSON and plugged
back in on load). Its fingerprint covers the configuration and the source of every module whose objects
it holds; when either differs (another configuration, an upgraded server) or the data does not load,
the snapshot is ignored and the log replayed in full, so a snapshot can make a start faster but never
change what the engine holds. Snapshots are pickles: they are read only from the server's own database,
which anyone able to write could use to change every answer anyway.
"""

from __future__ import annotations

import copyreg
import gc
import hashlib
import io
import logging
import pickle
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import orjson

from labelgate.quality import drift, gold
from labelgate.server.services import quality_book
from labelgate.server.services.quality_book import QualityBook
from labelgate.workflow import WorkflowConfig, WorkflowState

__all__ = ["FORMAT", "Restored", "due", "dump", "fingerprint", "restore"]

FORMAT = 1
log = logging.getLogger(__name__)


@cache
def _code_hash() -> str:
    import labelgate.workflow as wf

    files = sorted(Path(wf.__file__).parent.glob("*.py"))
    files += [Path(m.__file__) for m in (drift, gold, quality_book) if m.__file__]
    h = hashlib.sha256(f"{FORMAT}:{sys.version_info[:2]}".encode())
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def due(seq: int, snapshot_seq: int, every: int) -> bool:
    """Whether a log of ``seq`` records wants a new snapshot, the last covering ``snapshot_seq``: when it
    has grown by ``every`` records since, and by a tenth of its length (a snapshot costs time in proportion
    to the state, so a long log takes them further apart: the replayed tail stays under a tenth of the
    log). ``every`` 0: never."""
    return bool(every) and seq - snapshot_seq >= max(every, seq // 10)


def fingerprint(conf: dict[str, Any]) -> str:
    """What a snapshot must match to be used: the workflow JSON and the code of the state's classes."""
    return hashlib.sha256(_code_hash().encode() + orjson.dumps(conf, option=orjson.OPT_SORT_KEYS)).hexdigest()


_LOADING: ContextVar[WorkflowConfig | None] = ContextVar("workflow_snapshot_config", default=None)


def _config() -> WorkflowConfig:
    """Stands for the configuration in a snapshot: on load, the one :func:`restore` was given."""
    config = _LOADING.get()
    if config is None:
        raise pickle.UnpicklingError("a workflow snapshot is loaded only through restore(), which supplies the config")
    return config


def _reduce_config(config: WorkflowConfig) -> tuple[Any, tuple[()]]:
    return _config, ()


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic collector: (un)pickling millions of objects otherwise triggers it over and over
    (measured at 20k tasks: loading 5.5 s with it, 1.1 s without)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def dump(state: WorkflowState, book: QualityBook, max_task: int) -> bytes:
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = {**copyreg.dispatch_table, WorkflowConfig: _reduce_config}  # looked up in C, per type
    with _no_gc():
        pickler.dump((len(state.log), state, book, max_task))
    return zlib.compress(buf.getvalue(), 1)


@dataclass
class Restored:
    seq: int
    state: WorkflowState
    book: QualityBook
    max_task: int


def restore(data: bytes, seq: int, config: WorkflowConfig) -> Restored | None:
    """The snapshot's contents with ``config`` plugged in, or None when it does not load as one (the
    caller then replays the log in full)."""
    token = _LOADING.set(config)
    try:
        with _no_gc():
            n, state, book, max_task = pickle.loads(zlib.decompress(data))
    except (pickle.UnpicklingError, zlib.error, EOFError, AttributeError, ImportError, TypeError, ValueError) as exc:
        log.warning("ignoring a workflow snapshot that does not load (%s); replaying the log", exc)
        return None
    finally:
        _LOADING.reset(token)
    if not (isinstance(state, WorkflowState) and isinstance(book, QualityBook) and n == seq == len(state.log)
            and state.config is config):
        log.warning("ignoring a workflow snapshot whose contents do not match its record count; replaying the log")
        return None
    return Restored(seq, state, book, int(max_task))
