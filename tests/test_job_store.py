"""The job store's lifecycle and invariants on a real SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.core.replies import store_refusal
from storage.db import read_transaction
from storage.errors import JobAlreadyFinished, JobNotFound, LeaseLost, NotJobOwner, TooManyQueued
from storage.leases import EXHAUSTED_ERROR
from storage.models import Charge, Job, JobStatus, User
from storage.store import Store
from tests.conftest import FakeClock
from videobot.media.clip import EncodedClip
from videobot.params import RenderRequest
from videobot.users import UserRef

ALICE = UserRef("console", "alice")
BOB = UserRef("console", "bob")


def request(prompt: str = "a red ball", seed: int = 7) -> RenderRequest:
    return RenderRequest(prompt=prompt, negative_prompt="", frames=8, fps=8, width=32,
                         height=32, steps=2, guidance=1.0, seed=seed, preset="tiny")


def clip_record() -> EncodedClip:
    return EncodedClip(video_path=Path("/x.mp4"), poster_path=Path("/x.jpg"), width=32,
                       height=32, frames=8, fps=8, duration_s=1.0, size_bytes=10,
                       render_seconds=0.5)


async def enqueue(store: Store, user: UserRef = ALICE, limit: int = 100) -> int:
    job = await store.submissions.enqueue(user, request(), max_queued_per_user=limit)
    return job.id


async def test_enqueue_stores_request_and_queue_order(store: Store, clock: FakeClock) -> None:
    first = await enqueue(store)
    clock.advance(1)
    second = await enqueue(store, BOB)
    job = await store.jobs.require(first)
    assert job.status == JobStatus.QUEUED
    assert job.request == request()
    assert job.user.key == "console:alice"
    assert await store.jobs.queue_position(first) == 1
    assert await store.jobs.queue_position(second) == 2
    claimed = await store.leases.claim_next_job("w1")
    assert claimed is not None and claimed.id == first and claimed.attempt == 1
    assert await store.jobs.queue_position(second) == 1
    assert await store.jobs.queue_position(first) is None


async def test_per_user_queue_limit_is_checked_in_the_insert_transaction(
    store: Store,
) -> None:
    results = await asyncio.gather(
        *(store.submissions.enqueue(ALICE, request(), max_queued_per_user=3) for _ in range(8)),
        return_exceptions=True,
    )
    accepted = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, TooManyQueued)]
    assert len(accepted) == 3 and len(refused) == 5
    assert "limit: 3 per user" in store_refusal(refused[0])
    assert refused[0].limit == 3
    assert len(await store.jobs.jobs_of(ALICE, active_only=True)) == 3


async def test_concurrent_claims_take_each_job_once(store: Store) -> None:
    ids = {await enqueue(store) for _ in range(5)}
    claims = await asyncio.gather(*(store.leases.claim_next_job(f"w{i}") for i in range(12)))
    taken = [c.id for c in claims if c is not None]
    assert sorted(taken) == sorted(ids)


async def test_expired_lease_is_claimed_again_and_stale_writes_are_fenced(
    store: Store, clock: FakeClock
) -> None:
    job_id = await enqueue(store)
    first = await store.leases.claim_next_job("w1")
    assert first is not None
    assert await store.leases.claim_next_job("w2") is None  # lease still held
    clock.advance(store.context.lease.total_seconds() + 1)
    second = await store.leases.claim_next_job("w2")
    assert second is not None and second.id == job_id and second.attempt == 2
    with pytest.raises(LeaseLost):
        await store.leases.renew_lease(job_id, first.attempt, step=1, total=2)
    with pytest.raises(LeaseLost):
        await store.leases.finish_succeeded(job_id, first.attempt, clip_record())
    job = await store.jobs.require(job_id)
    assert job.clip is None and job.status == JobStatus.RUNNING and job.worker_id == "w2"
    await store.leases.finish_succeeded(job_id, second.attempt, clip_record())
    job = await store.jobs.require(job_id)
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 2 and job.clip is not None


async def test_job_fails_with_a_message_after_max_attempts(
    store: Store, clock: FakeClock
) -> None:
    job_id = await enqueue(store)
    for _ in range(store.context.max_attempts):
        assert await store.leases.claim_next_job("w") is not None
        clock.advance(store.context.lease.total_seconds() + 1)
    assert await store.leases.claim_next_job("w") is None
    job = await store.jobs.require(job_id)
    assert job.status == JobStatus.FAILED
    assert job.error == EXHAUSTED_ERROR
    assert job.attempts == store.context.max_attempts


async def test_heartbeat_extends_the_lease(store: Store, clock: FakeClock) -> None:
    await enqueue(store)
    claimed = await store.leases.claim_next_job("w1")
    assert claimed is not None
    for _ in range(5):
        clock.advance(store.context.lease.total_seconds() * 0.6)
        assert await store.leases.renew_lease(claimed.id, claimed.attempt, step=1, total=2) is False
        assert await store.leases.claim_next_job("w2") is None
    job = await store.jobs.require(claimed.id)
    assert (job.progress_step, job.progress_total) == (1, 2)


async def test_refusals_carry_their_data_and_no_sentence(store: Store) -> None:
    """The store says what it refused with data; the bot words it (bot.core.replies)."""
    queued = await enqueue(store)
    with pytest.raises(NotJobOwner) as not_owner:
        await store.cancels.request(queued, BOB)
    with pytest.raises(JobNotFound) as missing:
        await store.cancels.request(9999, ALICE)
    await store.cancels.request(queued, ALICE)
    with pytest.raises(JobAlreadyFinished) as finished:
        await store.cancels.request(queued, ALICE)
    assert (not_owner.value.job_id, missing.value.job_id) == (queued, 9999)
    assert (finished.value.job_id, finished.value.status) == (queued, JobStatus.CANCELLED)
    assert str(missing.value) == "JobNotFound(job_id=9999)"
    assert [store_refusal(error.value) for error in (not_owner, missing, finished)] == [
        f"job #{queued} belongs to someone else", "there is no job #9999",
        f"job #{queued} has already finished (cancelled)"]


async def test_cancel_queued_running_and_refusals(store: Store) -> None:
    queued = await enqueue(store)
    running = await enqueue(store)
    with pytest.raises(NotJobOwner):
        await store.cancels.request(queued, BOB)
    with pytest.raises(JobNotFound):
        await store.cancels.request(9999, ALICE)
    assert (await store.jobs.require(queued)).status == JobStatus.QUEUED  # nothing changed
    claimed = await store.leases.claim_next_job("w")
    assert claimed is not None and claimed.id == queued
    cancelled = await store.cancels.request(running, ALICE)
    assert cancelled.status == JobStatus.CANCELLED
    asked = await store.cancels.request(queued, ALICE)
    assert asked.status == JobStatus.RUNNING and asked.cancel_requested
    assert await store.leases.renew_lease(claimed.id, claimed.attempt) is True
    await store.leases.finish_cancelled(claimed.id, claimed.attempt)
    with pytest.raises(JobAlreadyFinished):
        await store.cancels.request(queued, ALICE)


async def test_release_returns_the_job_without_spending_an_attempt(store: Store) -> None:
    job_id = await enqueue(store)
    claimed = await store.leases.claim_next_job("w1")
    assert claimed is not None
    await store.leases.release(claimed.id, claimed.attempt)
    job = await store.jobs.require(job_id)
    assert job.status == JobStatus.QUEUED and job.attempts == 0
    again = await store.leases.claim_next_job("w2")
    assert again is not None and again.attempt == 1


async def test_delivery_is_recorded_once(store: Store) -> None:
    job_id = await enqueue(store)
    claimed = await store.leases.claim_next_job("w")
    assert claimed is not None
    assert await store.deliveries.undelivered(["console"]) == []
    assert await store.deliveries.mark_delivered(job_id) is False  # not finished yet
    await store.leases.finish_failed(claimed.id, claimed.attempt, "boom")
    pending = await store.deliveries.undelivered(["console"])
    assert [j.id for j in pending] == [job_id] and pending[0].error == "boom"
    assert await store.deliveries.undelivered(["telegram"]) == []
    assert await store.deliveries.mark_delivered(job_id, {"result_message_id": 42}) is True
    assert await store.deliveries.mark_delivered(job_id, {"result_message_id": 43}) is False
    assert await store.deliveries.undelivered(["console"]) == []
    # The platform's answer is recorded with the delivery, in its transaction, once.
    assert (await store.jobs.require(job_id)).reply_target["result_message_id"] == 42


async def test_warm_up_leaves_no_row_and_takes_no_job_number(store: Store) -> None:
    await store.submissions.warm_up()
    await store.submissions.warm_up()  # a restart warms up again
    async with read_transaction(store.engine) as conn:
        counts = [await conn.scalar(select(func.count()).select_from(model))
                  for model in (User, Job, Charge)]
    assert counts == [0, 0, 0]
    submitted = await store.submissions.submit(ALICE, request(), max_queued_per_user=5, cost=1)
    assert (submitted.job.id, submitted.position, submitted.credits_left) == (1, 1, 19)
