"""Plain, frozen views of rows, as the store hands them out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.models import JobKind, JobStatus
from videobot.media.clip import EncodedClip
from videobot.params import RenderRequest
from videobot.users import UserRef


@dataclass(frozen=True)
class JobRecord:
    """A job row, its owner, and its clip once there is one."""

    id: int
    user: UserRef
    status: str
    request: RenderRequest
    notes: tuple[str, ...]
    reply_target: dict[str, Any]
    attempts: int
    max_attempts: int
    worker_id: str | None
    progress_step: int
    progress_total: int
    cancel_requested: bool
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    delivered_at: datetime | None
    heartbeat_at: datetime | None
    clip: EncodedClip | None = None
    #: Credits charged for the job (refunded or not); 0 when it was free.
    cost: float = 0.0
    #: Whether the charge was given back (a failure, a cancel before the render began).
    refunded: bool = False
    #: Where the job came from and where its result goes: its owner's platform, or "api".
    front_door: str = ""
    #: The API key that queued it; the job it remixes; when its owner deleted it (API).
    api_key_id: int | None = None
    remixed_from: int | None = None
    deleted_at: datetime | None = None
    #: A `JobKind`; a describe job's source job, and the caption once it succeeded.
    kind: str = JobKind.VIDEO
    source_job_id: int | None = None
    result_text: str | None = None
    #: The job whose clip this one extends (/extend), or None.
    extends: int | None = None

    @property
    def is_final(self) -> bool:
        return self.status in JobStatus.FINAL

    @property
    def describes(self) -> bool:
        """Whether the job captions another job's clip rather than making one."""
        return self.kind == JobKind.DESCRIBE


@dataclass(frozen=True)
class ApiOrigin:
    """What the HTTP API records with a job it queues: the key that asked (its webhook hears
    of the job's end) and the job it remixes."""

    api_key_id: int
    remixed_from: int | None = None


@dataclass(frozen=True)
class ClaimedJob:
    """A job a worker holds a lease on. (id, attempt) fences every write it makes."""

    id: int
    attempt: int
    request: RenderRequest
    lease_expires_at: datetime
    #: A `JobKind`, and for a describe job the job whose clip it captions.
    kind: str = JobKind.VIDEO
    source_job_id: int | None = None
    #: The job whose clip this one continues (/extend), or None.
    extends: int | None = None


@dataclass(frozen=True)
class PreviewImage:
    """A preview of a clip forming, as a worker hands it in: a JPEG of `frames` frames side by
    side, `width` x `height` pixels in all, after `step` of `total` denoising steps."""

    step: int
    total: int
    width: int
    height: int
    frames: int
    jpeg: bytes


@dataclass(frozen=True)
class PreviewRecord:
    """The latest stored preview of a job, as readers get it (`PreviewStore.latest`)."""

    job_id: int
    attempt: int
    step: int
    total: int
    width: int
    height: int
    frames: int
    #: The JPEG itself, whether it was stored as a file or in the database.
    jpeg: bytes
    updated_at: datetime
