"""Everything a service needs, built once from the settings: database, job queue, storage."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from argon2 import PasswordHasher

from labelgate.core.errors import InvariantError
from labelgate.jobs import InProcessQueue, JobQueue, RedisQueue, set_resources
from labelgate.server.db import Database, upgrade
from labelgate.server.services.credentials import CredentialCache
from labelgate.server.services.ratelimit import LoginLimiter
from labelgate.server.settings import Settings
from labelgate.storage import LocalStorage, MediaStorage, S3Storage

__all__ = ["Runtime"]


@dataclass
class Runtime:
    settings: Settings
    db: Database
    storage: MediaStorage
    queue: JobQueue
    hasher: PasswordHasher
    login_limiter: LoginLimiter = field(init=False)
    credentials: CredentialCache = field(init=False)
    _closing: list[Callable[[], None]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        self.login_limiter = LoginLimiter(self.db, self.settings.login_attempts, self.settings.login_window_s)
        self.credentials = CredentialCache(self.settings.auth_cache_s)

    @classmethod
    def open(cls, settings: Settings, migrate: bool = True) -> Runtime:
        """Connect, migrate (unless told not to) and start the job queue."""
        storage = _storage(settings)
        db = Database(settings)
        if migrate and settings.migrate_on_start:
            upgrade(db)
        hasher = PasswordHasher(time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib,
                                parallelism=1)
        queue: JobQueue
        if settings.job_queue == "redis":
            queue = RedisQueue(settings.redis_url, settings.redis_queue)  # jobs run in `labelgate serve --worker` processes
        else:
            queue = InProcessQueue(workers=settings.job_workers)
        rt = cls(settings, db, storage, queue, hasher)
        if isinstance(queue, InProcessQueue):
            queue.resources["runtime"] = rt
        return rt

    def work(self, burst: bool = False) -> bool:
        """Be a worker: run queued jobs in this process (Redis queue only)."""
        if not isinstance(self.queue, RedisQueue):
            raise InvariantError("a worker needs LABELGATE_JOB_QUEUE=redis; in-process jobs run inside the server")
        set_resources({"runtime": self})
        return self.queue.work(burst=burst)

    def on_close(self, fn: Callable[[], None]) -> None:
        """Have :meth:`close` call ``fn`` first (background work a service started in this process)."""
        self._closing.append(fn)

    def close(self) -> None:
        while self._closing:
            self._closing.pop()()
        self.queue.close()
        self.db.dispose()


def _storage(settings: Settings) -> MediaStorage:
    """The one storage backend the settings name; no fallback from one to another."""
    if settings.storage == "s3":
        if not settings.s3_bucket:
            raise InvariantError("LABELGATE_STORAGE=s3 needs LABELGATE_S3_BUCKET")
        return S3Storage(settings.s3_bucket, settings.s3_prefix, settings.s3_endpoint_url, settings.s3_region)
    return LocalStorage(settings.storage_dir)
