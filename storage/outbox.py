"""The webhook outbox: an event for each API job that ends, written in the transaction that
ends it, so that a crash can lose neither the job's end nor its event. The bot process sends
them (`bot/web/webhooks.py`), marking each sent only once a webhook answered 2xx."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.db import read_transaction, write_transaction
from storage.models import ApiKey, Job, JobStatus, WebhookEvent

#: The `platform` of the jobs the HTTP API queued: where their results go.
API_FRONT_DOOR = "api"
COMPLETED = "video.completed"
FAILED = "video.failed"


async def record_ended(conn: AsyncConnection, job_ids: Collection[int], now: datetime) -> None:
    """Add the event of each of `job_ids` that the API queued, has ended and is not deleted,
    inside the caller's transaction (the one that ended them)."""
    if not job_ids:
        return
    kind = case((Job.status == JobStatus.SUCCEEDED, literal(COMPLETED)), else_=literal(FAILED))
    ended = select(Job.id, kind, literal(now, WebhookEvent.created_at.type), literal(0),
                   literal(now, WebhookEvent.next_attempt_at.type), literal("")).where(
        Job.id.in_(list(job_ids)), Job.platform == API_FRONT_DOOR, Job.deleted_at.is_(None),
        Job.status.in_(JobStatus.FINAL))
    await conn.execute(insert(WebhookEvent).from_select(
        ["job_id", "type", "created_at", "attempts", "next_attempt_at", "last_error"], ended))


@dataclass(frozen=True)
class DueEvent:
    """An event to send now, with the webhook of the key that queued its job (if it has one)."""

    id: int
    job_id: int
    type: str
    created_at: datetime
    attempts: int
    key_webhook_url: str
    key_webhook_secret: str

    @property
    def event_id(self) -> str:
        """The event's id, the same on every try (Standard Webhooks' `webhook-id`)."""
        return f"evt_{self.id}"


class Outbox:
    """The sender's side of the outbox."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def due(self, now: datetime, limit: int = 50) -> list[DueEvent]:
        """Events whose (next) try is due, oldest first."""
        query = (
            select(WebhookEvent.id, WebhookEvent.job_id, WebhookEvent.type,
                   WebhookEvent.created_at, WebhookEvent.attempts,
                   func.coalesce(ApiKey.webhook_url, ""), func.coalesce(ApiKey.webhook_secret, ""))
            .join(Job, Job.id == WebhookEvent.job_id)
            .outerjoin(ApiKey, ApiKey.id == Job.api_key_id)
            .where(WebhookEvent.next_attempt_at <= now)
            .order_by(WebhookEvent.next_attempt_at, WebhookEvent.id).limit(limit)
        )
        async with read_transaction(self.engine) as conn:
            return [DueEvent(*row) for row in await conn.execute(query)]

    async def mark_sent(self, event_id: int, now: datetime) -> None:
        """A webhook answered 2xx: the event is done."""
        await self._update(event_id, attempts=WebhookEvent.attempts + 1, sent_at=now,
                           next_attempt_at=None, last_error="")

    async def mark_failed(self, event_id: int, error: str, retry_at: datetime | None) -> None:
        """Count a failed try; `retry_at` None gives the event up."""
        await self._update(event_id, attempts=WebhookEvent.attempts + 1,
                           next_attempt_at=retry_at, last_error=error[:500])

    async def _update(self, event_id: int, **values: object) -> None:
        async with write_transaction(self.engine) as conn:
            await conn.execute(update(WebhookEvent).where(WebhookEvent.id == event_id)
                               .values(**values))
