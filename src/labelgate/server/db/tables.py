"""Every table, as SQLAlchemy Core. Only repositories write SQL against them.

Timestamps are stored timezone-aware (UTC). JSON columns hold Labelgate native-format dicts
(schema, item, regions) so one codec defines their shape.
"""


import sqlalchemy as sa

__all__ = [
    "annotations",
    "api_tokens",
    "audit_answers",
    "events",
    "exports",
    "guidelines",
    "imports",
    "jobs",
    "login_failures",
    "memberships",
    "metadata",
    "projects",
    "sessions",
    "tasks",
    "users",
    "webhook_deliveries",
    "webhooks",
    "workflow_annotations",
    "workflow_gates",
    "workflow_records",
    "workflow_snapshots",
    "workflows",
]

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

TS = sa.DateTime(timezone=True)
JSON = sa.JSON()


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


users = sa.Table(
    "users", metadata,
    _id(),
    sa.Column("username", sa.String(150), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=True),
    sa.Column("is_superuser", sa.Boolean, nullable=False, default=False),
    sa.Column("is_active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", TS, nullable=False),
)

sessions = sa.Table(
    "sessions", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("expires_at", TS, nullable=False),
)

# Failed logins (and password checks), one row per key they count against (``user:<name>``,
# ``client:<address>``), so every server process shares one limit. ``at`` is seconds since the epoch;
# rows older than the window are deleted by the next attempt.
login_failures = sa.Table(
    "login_failures", metadata,
    _id(),
    sa.Column("key", sa.String(255), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Index("ix_login_failures_key", "key", "at"),
    sa.Index("ix_login_failures_at", "at"),
)

api_tokens = sa.Table(
    "api_tokens", metadata,
    _id(),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("last_used_at", TS, nullable=True),
    sa.Column("revoked", sa.Boolean, nullable=False, default=False),
)

projects = sa.Table(
    "projects", metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("label_schema", JSON, nullable=False),
    sa.Column("settings", JSON, nullable=False),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
)

memberships = sa.Table(
    "memberships", metadata,
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("created_at", TS, nullable=False),
)

guidelines = sa.Table(
    "guidelines", metadata,
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_at", TS, nullable=False),
)

tasks = sa.Table(
    "tasks", metadata,
    _id(),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    sa.Column("key", sa.String(1000), nullable=False),
    sa.Column("item", JSON, nullable=False),
    sa.Column("n_submitted", sa.Integer, nullable=False, default=0),
    sa.Column("completed", sa.Boolean, nullable=False, default=False),
    sa.Column("lock_user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("lock_expires_at", TS, nullable=True),
    sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.UniqueConstraint("project_id", "key", name="uq_tasks_project_key"),
    sa.Index("ix_tasks_project_open", "project_id", "completed", "id"),
)

annotations = sa.Table(
    "annotations", metadata,
    _id(),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("author_name", sa.String(200), nullable=True),
    sa.Column("source", sa.String(20), nullable=False),
    sa.Column("model", sa.String(200), nullable=True),
    sa.Column("model_version", sa.String(100), nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("regions", JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Column("lead_time", sa.Float, nullable=True),
    sa.Column("import_id", sa.Integer, sa.ForeignKey("imports.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("submitted_at", TS, nullable=True),
    sa.UniqueConstraint("task_id", "author_id", name="uq_annotations_task_author"),
    sa.Index("ix_annotations_task", "task_id", "status"),
    sa.Index("ix_annotations_author", "author_id", "status", "project_id"),  # a person's open drafts
)

events = sa.Table(
    "events", metadata,
    _id(),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=True),
    sa.Column("annotation_id", sa.Integer, nullable=True),
    sa.Column("actor_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("data", JSON, nullable=False),
    sa.Column("created_at", TS, nullable=False),
    sa.Index("ix_events_task", "task_id", "id"),
)

imports = sa.Table(
    "imports", metadata,
    _id(),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("format", sa.String(50), nullable=False),
    sa.Column("filename", sa.String(500), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("model", sa.String(200), nullable=True),
    sa.Column("model_version", sa.String(100), nullable=True),
    sa.Column("n_tasks", sa.Integer, nullable=False),
    sa.Column("n_annotations", sa.Integer, nullable=False),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.UniqueConstraint("project_id", "content_hash", "kind", name="uq_imports_project_hash"),
)

jobs = sa.Table(
    "jobs", metadata,
    sa.Column("id", sa.String(36), primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=True, index=True),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("done", sa.Integer, nullable=False, default=0),
    sa.Column("total", sa.Integer, nullable=True),
    sa.Column("error", sa.Text, nullable=True),
    sa.Column("result", JSON, nullable=True),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("started_at", TS, nullable=True),
    sa.Column("finished_at", TS, nullable=True),
)

exports = sa.Table(
    "exports", metadata,
    _id(),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("format", sa.String(50), nullable=False),
    sa.Column("filter", sa.String(20), nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("job_id", sa.String(36), sa.ForeignKey("jobs.id", ondelete="SET NULL"), nullable=True),
    sa.Column("manifest", JSON, nullable=True),
    sa.Column("content_hash", sa.String(64), nullable=True),
    sa.Column("report", JSON, nullable=True),
    sa.Column("created_by", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("finished_at", TS, nullable=True),
    sa.UniqueConstraint("project_id", "version", name="uq_exports_project_version"),
)

webhooks = sa.Table(
    "webhooks", metadata,
    _id(),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("secret", sa.String(200), nullable=False),
    sa.Column("events", JSON, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", TS, nullable=False),
)

webhook_deliveries = sa.Table(
    "webhook_deliveries", metadata,
    _id(),
    sa.Column("webhook_id", sa.Integer, sa.ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("event", sa.String(40), nullable=False),
    sa.Column("payload", JSON, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("last_status", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("delivered_at", TS, nullable=True),
)

# -- the workflow engine (labelgate.workflow): per-project config, its append-only event log, the guideline
# version each annotation was made under, and the quality gate checked (or overridden) for each export

workflows = sa.Table(
    "workflows", metadata,
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("config", JSON, nullable=False),
    sa.Column("created_at", TS, nullable=False),
)

workflow_records = sa.Table(
    "workflow_records", metadata,
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("event", JSON, nullable=False),
)

workflow_annotations = sa.Table(
    "workflow_annotations", metadata,
    sa.Column("annotation_id", sa.Integer, sa.ForeignKey("annotations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True),
    sa.Column("guideline_version", sa.Integer, nullable=True),
    sa.Column("engine_id", sa.String(40), nullable=False),
)

# the engine's state pickled at log record ``seq`` (one per project, replaced as the log grows), so that a
# process builds it by loading the snapshot and replaying only the records after it
workflow_snapshots = sa.Table(
    "workflow_snapshots", metadata,
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created_at", TS, nullable=False),
)

workflow_gates = sa.Table(
    "workflow_gates", metadata,
    sa.Column("export_id", sa.Integer, sa.ForeignKey("exports.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("result", JSON, nullable=False),
)

# Consistency audits: an annotator's second answer on a task of theirs re-served unannounced. Kept apart
# from ``annotations`` (one per task and author) so that exports, task progress and agreement never see
# them and the original annotation is never touched. status: open (served) | draft | submitted | skipped |
# expired (the lease ended unanswered).
audit_answers = sa.Table(
    "audit_answers", metadata,
    _id(),
    sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    sa.Column("task_id", sa.Integer, sa.ForeignKey("tasks.id", ondelete="CASCADE"), nullable=False),
    sa.Column("author_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    sa.Column("annotation_id", sa.Integer, sa.ForeignKey("annotations.id", ondelete="SET NULL"), nullable=True),  # the first answer
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("regions", JSON, nullable=True),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Column("lead_time", sa.Float, nullable=True),
    sa.Column("guideline_version", sa.Integer, nullable=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("updated_at", TS, nullable=False),
    sa.Column("submitted_at", TS, nullable=True),
    sa.Index("ix_audit_answers_author", "author_id", "task_id", "status"),
    sa.Index("ix_audit_answers_project", "project_id", "author_id"),
)
