"""The webhook outbox on SQLite and PostgreSQL: an event is written in the transaction that ends
an API job, whichever way it ends, and none for chat jobs or deleted videos."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from storage.admin import AdminStore
from storage.outbox import Outbox
from storage.records import ApiOrigin
from storage.store import Store
from storage.videos import Videos
from tests.conftest import FakeClock
from videobot.media.clip import EncodedClip
from videobot.params import RenderRequest
from videobot.users import UserRef

ALICE = UserRef("telegram", "1")
REQUEST = RenderRequest(prompt="a red ball", negative_prompt="", frames=8, fps=8, width=64,
                        height=64, steps=2, guidance=0.0, seed=1, preset="tiny")
CLIP = EncodedClip(video_path=Path("/nowhere.mp4"), poster_path=Path("/nowhere.jpg"), width=64,
                   height=64, frames=8, fps=8, duration_s=1.0, size_bytes=1, render_seconds=0.1)


async def queue(store: Store, *, api: bool = True) -> int:
    submitted = await store.submissions.submit(ALICE, REQUEST, max_queued_per_user=50,
                                               api=ApiOrigin(1) if api else None)
    return submitted.job.id


async def claimed(store: Store) -> tuple[int, int]:
    job = await store.leases.claim_next_job("w1")
    assert job is not None
    return job.id, job.attempt


async def kinds(store: Store, clock: FakeClock) -> dict[int, str]:
    return {event.job_id: event.type for event in await Outbox(store.engine).due(clock())}


async def test_every_end_of_an_api_job_writes_its_event(store: Store,
                                                        clock: FakeClock) -> None:
    done, failed, chat = await queue(store), await queue(store), await queue(store, api=False)
    await store.leases.finish_succeeded(*await claimed(store), CLIP)
    await store.leases.finish_failed(*await claimed(store), "out of memory")
    await store.leases.finish_succeeded(*await claimed(store), CLIP)
    cancelled = await queue(store)
    await store.cancels.request(cancelled, None)
    banned = await queue(store)
    await AdminStore(store.context).ban("shell:root", ALICE, "spam")
    assert await kinds(store, clock) == {done: "video.completed", failed: "video.failed",
                                         cancelled: "video.failed", banned: "video.failed"}
    assert chat not in await kinds(store, clock)
    job = await store.jobs.require(done)
    assert (job.front_door, job.user, job.api_key_id) == ("api", ALICE, 1)


async def test_a_job_whose_worker_died_for_good_and_a_deleted_one(store: Store,
                                                                  clock: FakeClock) -> None:
    exhausted, deleted = await queue(store), await queue(store)
    for _ in range(3):  # max_attempts: every attempt's lease runs out
        await claimed(store)
        clock.advance(store.context.lease.total_seconds() + 1)
    await store.leases.expire_leases()
    await Videos(store.context).delete(deleted, ALICE)
    assert await kinds(store, clock) == {exhausted: "video.failed"}


async def test_a_failed_send_waits_its_turn_and_a_given_up_one_is_not_due(
        store: Store, clock: FakeClock) -> None:
    await store.cancels.request(await queue(store), None)
    outbox = Outbox(store.engine)
    [event] = await outbox.due(clock())
    await outbox.mark_failed(event.id, "HTTP 500", clock() + timedelta(seconds=5))
    assert await outbox.due(clock()) == []
    clock.advance(5)
    [again] = await outbox.due(clock())
    assert (again.event_id, again.attempts) == (event.event_id, 1)
    await outbox.mark_failed(event.id, "HTTP 500", None)
    clock.advance(10**6)
    assert await outbox.due(clock()) == []
