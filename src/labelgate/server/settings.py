"""The one settings class: every value can be set with a ``LABELGATE_`` environment variable."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "origin_of"]

_DEFAULT_PORTS = {"http": "80", "https": "443"}


def origin_of(url: str) -> str | None:
    """A web origin as browsers compare them: ``scheme://host[:port]``, lower case, without the scheme's
    default port; None when ``url`` has no http(s) scheme or host."""
    try:
        parts = urlsplit(url.strip())
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return f"{scheme}://{host}" if port is None or str(port) == _DEFAULT_PORTS[scheme] else f"{scheme}://{host}:{port}"


class Settings(BaseSettings):
    """Server configuration. ``LABELGATE_DATA_DIR=/srv/lg`` sets ``data_dir`` and so on."""

    model_config = SettingsConfigDict(env_prefix="LABELGATE_", extra="ignore")

    data_dir: Path = Field(Path("labelgate-data"), description="SQLite database, media and exports live here.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db; default SQLite in data_dir."
    )
    database_schema: str | None = Field(None, description="PostgreSQL schema (search_path) to use.")
    host: str = "127.0.0.1"
    port: int = 8080
    access_log: bool = Field(True, description="Log every request (uvicorn's access log); off behind a proxy that logs.")
    storage: str = Field("local", pattern="^(local|s3)$", description="Where media and exports live: local or s3.")
    s3_bucket: str | None = Field(None, description="Bucket for storage=s3.")
    s3_prefix: str = Field("labelgate", description="Key prefix inside the bucket.")
    s3_endpoint_url: str | None = Field(None, description="For S3-compatible services (MinIO, Ceph ...).")
    s3_region: str | None = None
    session_cookie: str = "labelgate_session"
    trusted_origins: str = Field("", description="Comma-separated origins (scheme://host[:port]) besides the server's "
                                                 "own whose pages may send writes with the session cookie (a UI served "
                                                 "from elsewhere). Cookie-carrying writes and logins from any other "
                                                 "origin get 403.")
    session_days: float = Field(14.0, gt=0)
    secure_cookies: bool = Field(False, description="Mark the session cookie Secure (set when serving over HTTPS).")
    max_upload_bytes: int = Field(512 * 1024 * 1024, gt=0, description="Largest accepted upload.")
    max_archive_bytes: int = Field(8 * 1024**3, gt=0, description="Largest total size an uploaded archive may unpack to.")
    max_archive_files: int = Field(200_000, gt=0, description="Most files an uploaded archive may hold.")
    max_compression_ratio: float = Field(200.0, gt=1, description="Refuse archive members compressed more than this (bombs).")
    login_attempts: int = Field(10, ge=1, description="Failed logins allowed per user and client per window.")
    login_window_s: float = Field(300.0, gt=0, description="Seconds a failed login counts against that limit. Failures are "
                                                           "kept in the database, so all server processes share it.")
    auth_cache_s: float = Field(
        5.0, ge=0, description="How long a verified API token or session is trusted without looking it up again. "
                               "Revocation, logout and deactivation apply at once in the process that made them, "
                               "in other server processes within this time (0: look up on every request).")
    @field_validator("trusted_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        for entry in filter(None, (v.strip() for v in value.split(","))):
            if origin_of(entry) is None or urlsplit(entry).path not in ("", "/") or urlsplit(entry).query:
                raise ValueError(f"{entry!r} is not an origin: write scheme://host[:port], e.g. https://labels.example.com")
        return value

    job_queue: str = Field("inprocess", pattern="^(inprocess|redis)$",
                           description="inprocess (threads in the server) or redis (run `labelgate serve --worker`).")
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="For job_queue=redis.")
    redis_queue: str = Field("labelgate", description="The rq queue's name.")
    migrate_on_start: bool = Field(True, description="Run pending migrations when the app starts.")
    job_workers: int = Field(2, ge=1)
    server_processes: int = Field(1, ge=1, description="Server processes sharing the database (`labelgate serve "
                                                        "--workers` sets it). With one, on SQLite with in-process jobs, "
                                                        "short annotator writes run on the event loop when the write "
                                                        "lock is free (a thread hop costs more CPU than the work).")
    request_threads: int = Field(8, ge=1, description="Threads per server process that run request handlers (their "
                                                       "blocking database work); more only queue on the GIL.")
    argon2_time_cost: int = Field(3, ge=1)
    argon2_memory_kib: int = Field(65536, ge=8)
    webhook_attempts: int = Field(5, ge=1, description="Delivery attempts per webhook event before giving up.")
    webhook_backoff_s: float = Field(2.0, ge=0, description="First retry delay; doubles after each failed attempt.")
    webhook_timeout_s: float = Field(10.0, gt=0)
    task_lock_s: float = Field(600.0, gt=0, description="How long next-task reserves a task for its annotator.")
    workflow_snapshot_every: int = Field(
        5000, ge=0, description="Store a project's workflow engine state every this many log records, so a restart "
                                "replays only the records after it (0: never; the whole log is replayed).")
    workflow_snapshot_idle_s: float = Field(
        2.0, ge=0, description="A due snapshot is taken once its project has had no event for this long, or at "
                               "once when the unsnapshotted tail has grown past 5 snapshot intervals; a separate "
                               "process takes it, never the request that made it due.")

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from the environment alone (``LABELGATE_*``)."""
        return cls()  # type: ignore[call-arg]  # pydantic-settings fills fields from the environment

    @property
    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'labelgate.db').resolve()}"

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "storage"

    @property
    def upload_dir(self) -> Path:
        return self.data_dir / "uploads"
