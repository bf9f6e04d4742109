"""Taking workflow engine snapshots off the request path.

A request that makes a project's snapshot due (:func:`.workflow_snapshots.due`) only marks it here. One
thread per server process (:func:`snapshotter`, started on the first mark, stopped by
``Runtime.close()``, which the app's lifespan calls at shutdown) takes a due project's snapshot once the
project has had no event for ``workflow_snapshot_idle_s``, or at once when its unsnapshotted tail has
grown past ``BUSY_FACTOR`` snapshot intervals, and at shutdown takes every due one.

It takes it in a child process (:func:`main`) that builds
the engine from the database exactly as a process without it in memory does (stored snapshot + the
records after it), pickles it and stores it tagged with the record count it covers, unless a snapshot
covering as many records is stored already. So snapshotting never holds the project's engine lock nor
this process's GIL (pickling millions of objects holds the GIL for seconds at a time), and the state
stored is by construction the replay of exactly the records its tag counts.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import orjson

from labelgate.server.db.repos import workflow as repo
from labelgate.server.services.runtime import Runtime
from labelgate.server.services.workflow_snapshots import due
from labelgate.server.settings import Settings

if TYPE_CHECKING:
    from labelgate.server.services.workflow_host import ProjectEngine

__all__ = ["BUSY_FACTOR", "Snapshotter", "Taken", "snapshotter", "take"]

BUSY_FACTOR = 5  # a busy project is snapshotted anyway once its tail is this many intervals long
RETRY_S = 60.0  # after a failed snapshot, wait this long before trying the project again (doubling, up to an hour)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Taken:
    """A child's report: the log records the snapshot covers, whether it stored it (False: one covering
    as many was there already), and its size and seconds."""

    seq: int
    stored: bool
    nbytes: int = 0
    seconds: float = 0.0


@dataclass
class _Due:
    engine: ProjectEngine
    last_event: float  # time.monotonic() of the project's last committed event seen here


class Snapshotter:
    """The due projects of one process and the thread that snapshots them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._due: dict[int, _Due] = {}
        self._retry: dict[int, tuple[float, float]] = {}  # project -> (not before, delay) after failures
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.taken: deque[tuple[int, Taken]] = deque(maxlen=100)  # (project, report) of the latest snapshots taken

    def mark(self, engine: ProjectEngine) -> None:
        """Note that ``engine``'s project (whose session just committed) is due a snapshot. Cheap: no I/O."""
        with self._cond:
            if self._stopping:
                return
            self._due[engine.project_id] = _Due(engine, time.monotonic())
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="labelgate-snapshots", daemon=True)
                self._thread.start()
            self._cond.notify()

    def due_projects(self) -> list[int]:
        with self._cond:
            return sorted(self._due)

    def flush(self) -> list[int]:
        """Snapshot every due project now, busy or not (shutdown, tests); the projects snapshotted."""
        return self._pass(force=True)

    def stop(self) -> None:
        """End the thread, snapshotting the due projects first (graceful shutdown)."""
        with self._cond:
            self._stopping = True
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join()
        self._pass(force=True)

    def _ready(self, now: float, force: bool) -> tuple[list[int], float | None]:
        """The projects to snapshot now, and how long until the next one may be (None: none due)."""
        ready, wait = [], None
        for pid, d in self._due.items():
            if pid in self._retry and not force:
                at = self._retry[pid][0]
            else:
                seq, covered = len(d.engine.state.log), d.engine.snapshot_seq
                busy = seq - covered < BUSY_FACTOR * max(self.settings.workflow_snapshot_every, seq // 10)
                at = d.last_event + self.settings.workflow_snapshot_idle_s if busy else now
            if force or at <= now:
                ready.append(pid)
            else:
                wait = at - now if wait is None else min(wait, at - now)
        return ready, wait

    def _run(self) -> None:
        while True:
            with self._cond:
                ready, wait = self._ready(time.monotonic(), False)
                if not ready:
                    if self._stopping:
                        return
                    self._cond.wait(wait)
                    continue
            self._pass(False, ready)

    def _pass(self, force: bool, ready: list[int] | None = None) -> list[int]:
        if ready is None:
            with self._cond:
                ready = self._ready(time.monotonic(), force)[0]
        done = []
        for pid in ready:
            with self._cond:
                d = self._due.get(pid)
            if d is None:
                continue
            try:
                got = _in_child(self.settings, pid)
            except Exception:  # a snapshot only makes starts faster: log, retry later, never fail a request
                with self._cond:
                    delay = min(2 * self._retry.get(pid, (0.0, RETRY_S / 2))[1], 3600.0)
                    self._retry[pid] = (time.monotonic() + delay, delay)
                log.exception("workflow snapshot of project %s failed; retrying in %.0f s", pid, delay)
                continue
            done.append(pid)
            with self._cond:
                self.taken.append((pid, got))
                d = self._due.get(pid, d)
                before, d.engine.snapshot_seq = d.engine.snapshot_seq, max(d.engine.snapshot_seq, got.seq)
                self._retry.pop(pid, None)
                if d.engine.snapshot_seq == before or not due(len(d.engine.state.log), d.engine.snapshot_seq,
                                                              self.settings.workflow_snapshot_every):
                    self._due.pop(pid, None)  # (covered nothing new: the workflow is gone; a commit marks it again)
        return done


def _in_child(settings: Settings, project_id: int) -> Taken:
    """Run :func:`take` in a child process (see the module docstring)."""
    code = f"from {__name__} import main; main()"  # not -m: the package imports this module before runpy would
    proc = subprocess.run([sys.executable, "-c", code, str(project_id)], input=settings.model_dump_json().encode(),
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"the snapshot process exited with {proc.returncode}: "
                           f"{proc.stderr.decode(errors='replace')[-2000:]}")
    return Taken(**orjson.loads(proc.stdout.splitlines()[-1]))


def take(settings: Settings, project_id: int) -> Taken:
    """Build ``project_id``'s engine from the database as a new process would, and store its snapshot
    tagged with the records it covers (unless a snapshot covering as many is stored already). Nothing is
    built when the stored snapshot is not due for renewal (another process took it meanwhile)."""
    from labelgate.server.db import Database
    from labelgate.server.services.workflow_host import stored_engine
    from labelgate.server.services.workflow_snapshots import dump, fingerprint

    t = time.perf_counter()
    db = Database(settings)
    try:
        with db.read() as conn:
            conf = repo.config(conn, project_id)
            if conf is None:
                return Taken(0, False)
            stored = repo.snapshot_seq(conn, project_id)
            if stored is not None and stored[1] == fingerprint(conf) and not due(
                    repo.log_length(conn, project_id), stored[0], settings.workflow_snapshot_every):
                return Taken(stored[0], False)
            engine = stored_engine(conn, project_id, conf)
        seq = len(engine.state.log)
        if seq <= engine.snapshot_seq:
            return Taken(engine.snapshot_seq, False)
        data = dump(engine.state, engine.book, engine.max_task)
        with db.write() as conn:
            written = repo.save_snapshot(conn, project_id, seq, fingerprint(conf), data)
        return Taken(seq, written, len(data), round(time.perf_counter() - t, 3))
    finally:
        db.dispose()


def snapshotter(rt: Runtime) -> Snapshotter:
    """The runtime's snapshotter (created on first use and stopped by ``rt.close()``)."""
    found = rt.__dict__.get("_workflow_snapshotter")
    if found is None:
        with _GUARD:
            found = rt.__dict__.get("_workflow_snapshotter")
            if found is None:
                found = rt.__dict__["_workflow_snapshotter"] = Snapshotter(rt.settings)
                rt.on_close(found.stop)
    assert isinstance(found, Snapshotter)
    return found


_GUARD = threading.Lock()


def main() -> None:
    """The child: settings (JSON) on stdin, the project id as argument; the :class:`Taken` as JSON on stdout."""
    settings = Settings.model_validate_json(sys.stdin.buffer.read())
    got = take(settings, int(sys.argv[1]))
    sys.stdout.write(orjson.dumps(got.__dict__).decode() + "\n")
