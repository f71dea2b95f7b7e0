"""SQLAlchemy models of the job table and its neighbours. Migrations live in `migrations/`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        # SQLite has no time zones: store naive UTC so that string comparison orders by time.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class JobStatus:
    """The states of a job. `delivered` is not a status: see `Job.delivered_at`."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    FINAL = (SUCCEEDED, FAILED, CANCELLED)
    ALL = (QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED)


class JobKind:
    """What a job makes: a clip (`video`), or the caption of another job's clip (`describe`),
    kept as the job's text and delivered to the chat as a message."""

    VIDEO = "video"
    DESCRIBE = "describe"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """One platform identity, e.g. `telegram:12345`."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("platform", "platform_user_id", name="uq_users_identity"),
        Index("ix_users_platform_username", "platform", "username"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(32))
    platform_user_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(256), default="")
    #: The platform's handle, lower case, without "@" (Telegram usernames); "" if none.
    username: Mapped[str] = mapped_column(String(64), default="", server_default="")
    #: The quota tier of the user's last submission ("" for none), and its priority.
    tier: Mapped[str] = mapped_column(String(64), default="", server_default="")
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Job(Base):
    """A request for one clip and everything the queue knows about it."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_created", "status", "created_at"),
        Index("ix_jobs_user_status", "user_id", "status"),
        Index("ix_jobs_user_started", "user_id", "started_at"),  # when a user was last served
        Index("ix_jobs_undelivered", "platform", "delivered_at", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    platform: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    preset: Mapped[str] = mapped_column(String(64))
    prompt: Mapped[str] = mapped_column(Text)
    negative_prompt: Mapped[str] = mapped_column(Text, default="")
    frames: Mapped[int] = mapped_column(Integer)
    fps: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    steps: Mapped[int] = mapped_column(Integer)
    guidance: Mapped[float] = mapped_column(Float)
    seed: Mapped[int] = mapped_column(BigInteger)
    notes: Mapped[list[str]] = mapped_column(JSON, default=list)
    reply_target: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer)
    worker_id: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    progress_step: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: The API key that queued it (its webhook gets the job's end); None for chat jobs.
    api_key_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: The job whose settings and seed this one reuses with a new prompt (an API remix).
    remixed_from_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: The job whose clip this one continues (/extend): its clip is the source's followed by
    #: the continuation. No foreign key: retention may remove the source first.
    extends_job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: When its owner deleted it through the API: hidden there from then on, clip removed.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: How long its clip took to render, kept with the job (the clip row goes with retention)
    #: for the statistics and the metrics; None until it succeeds.
    render_seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    #: A `JobKind`; a describe job names the job whose clip it captions, and keeps the caption.
    kind: Mapped[str] = mapped_column(String(16), default=JobKind.VIDEO,
                                      server_default=JobKind.VIDEO)
    source_job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    result_text: Mapped[str | None] = mapped_column(Text, nullable=True)


class Clip(Base):
    """The stored result of a succeeded job: an MP4 and its poster."""

    __tablename__ = "clips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), unique=True)
    attempt: Mapped[int] = mapped_column(Integer)
    video_path: Mapped[str] = mapped_column(Text)
    poster_path: Mapped[str] = mapped_column(Text)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    frames: Mapped[int] = mapped_column(Integer)
    fps: Mapped[int] = mapped_column(Integer)
    duration_s: Mapped[float] = mapped_column(Float)
    size_bytes: Mapped[int] = mapped_column(Integer)
    render_seconds: Mapped[float] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: The MP4 and poster themselves, when clips travel through the database (workers on
    #: other hosts share no folder with the bot); None when they are files at the paths.
    video_data: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    poster_data: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class Worker(Base):
    """A generator process, as it registered itself; `heartbeat_at` says whether it lives."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    host: Mapped[str] = mapped_column(String(256))
    pid: Mapped[int] = mapped_column(Integer)
    device: Mapped[str] = mapped_column(String(64))
    presets: Mapped[list[str]] = mapped_column(JSON, default=list)
    version: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    current_job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: What keeps the worker from serving, for the admins ("" when nothing does), and since
    #: when: e.g. a clips folder it cannot write.
    problem: Mapped[str] = mapped_column(Text, default="", server_default="")
    problem_since: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    #: The preset whose model is loaded ("" before one is), as of the last heartbeat.
    loaded_preset: Mapped[str] = mapped_column(String(64), default="", server_default="")
    #: The device's memory in use and in all, in bytes, as of the last heartbeat; None on a
    #: device that reports none (the CPU).
    memory_used_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    memory_total_bytes: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Preview(Base):
    """The latest preview of a rendering job (a JPEG of a few frames), replaced as the render
    moves on and written by the attempt that holds the job. The image is a file (`path`) or,
    when clips travel through the database, its bytes (`image`)."""

    __tablename__ = "previews"

    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), primary_key=True)
    attempt: Mapped[int] = mapped_column(Integer)
    step: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    frames: Mapped[int] = mapped_column(Integer)
    path: Mapped[str | None] = mapped_column(Text, nullable=True)
    image: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Charge(Base):
    """The credits one job cost its user: written with the job, marked refunded (never
    deleted) when the job fails or is cancelled before it ran."""

    __tablename__ = "charges"
    __table_args__ = (Index("ix_charges_user_charged", "user_id", "charged_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    credits: Mapped[float] = mapped_column(Float)
    charged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class QuotaOverride(Base):
    """An admin's allowance for one user, replacing the configured default."""

    __tablename__ = "quota_overrides"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    credits: Mapped[float] = mapped_column(Float)
    window_hours: Mapped[float | None] = mapped_column(Float, nullable=True)
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Ban(Base):
    """A user who may not submit jobs."""

    __tablename__ = "bans"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    banned_by: Mapped[str] = mapped_column(String(192))
    banned_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Setting(Base):
    """A setting admins change at run time (the queue's pause, the default allowance)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class AuditEntry(Base):
    """One admin action, or one refused prompt: who, when, what, on whom."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(192))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(192), default="")
    detail: Mapped[str] = mapped_column(Text, default="")


class JobInput(Base):
    """An image sent with a request (`input_reference`), fitted to the preset's size: a file
    in the data folder (`path`), or its bytes in `data` when clips travel in the database."""

    __tablename__ = "job_inputs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), unique=True)
    path: Mapped[str] = mapped_column(Text)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    data: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)


class ApiKey(Base):
    """A key of the HTTP API. It acts as one chat identity (`user_id`); only its SHA-256 is
    stored, never the key itself."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(64), default="")
    #: The key's first characters, so that its owner can tell their keys apart.
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: May act for any user and read every video.
    admin: Mapped[bool] = mapped_column(Boolean, default=False)
    #: This key's own webhook (else `[api] webhook_url`), and the secret that signs it.
    webhook_url: Mapped[str] = mapped_column(Text, default="")
    webhook_secret: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(192))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class WebhookEvent(Base):
    """The outbox: an event about an API job, written in the transaction that ends the job,
    and sent until a webhook answers 2xx, under the same id on every try."""

    __tablename__ = "webhook_events"
    __table_args__ = (Index("ix_webhook_events_next_attempt_at", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    #: When to try (again); None once it is sent or given up.
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: Why the last try failed, or why the event was given up ("" while none did).
    last_error: Mapped[str] = mapped_column(Text, default="")
