"""Fair scheduling: claims go round-robin across users, and the queue positions users are
shown follow the same order — on real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from storage.admin import AdminStore
from storage.fairness import Waiting, fair_order
from storage.jobs import JobStore
from tests.conftest import FakeClock
from tests.quota_helpers import roomy_config, submit
from videobot.config import Config, QuotasConfig
from videobot.users import UserRef

ALICE = UserRef("console", "alice")
BOB = UserRef("console", "bob")
CAROL = UserRef("console", "carol")


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return roomy_config(tmp_path, database_url, quotas={"credits": 1000})


def test_fair_order_takes_turns_between_users() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    waiting = [Waiting(1, 10, t), Waiting(2, 10, t), Waiting(3, 10, t), Waiting(4, 20, t),
               Waiting(5, 30, t), Waiting(6, 20, t)]
    assert fair_order(waiting, {}, {}) == [1, 4, 5, 2, 6, 3]
    # User 10 has a job rendering, so the others go first.
    assert fair_order(waiting, {10: 1}, {}) == [4, 5, 1, 6, 2, 3]
    # Same running count: the user served longest ago goes first.
    assert fair_order(waiting, {}, {10: t, 20: t.replace(hour=1)})[:3] == [5, 1, 4]


async def test_a_late_user_is_not_starved(store: JobStore, clock: FakeClock) -> None:
    alice_jobs = [await submit(store, ALICE) for _ in range(50)]
    clock.advance(1)
    bob_job = await submit(store, BOB)
    assert await store.queue_position(bob_job) == 2
    assert [job.id for job in await store.active_jobs()][:3] == [alice_jobs[0], bob_job,
                                                                  alice_jobs[1]]
    first, second = await store.claim_next_job("w1"), await store.claim_next_job("w2")
    assert first is not None and second is not None
    assert (first.id, second.id) == (alice_jobs[0], bob_job)


async def test_least_recently_served_goes_first_once_jobs_finish(
    store: JobStore, clock: FakeClock
) -> None:
    a1, a2 = await submit(store, ALICE), await submit(store, ALICE)
    claimed = await store.claim_next_job("w")
    assert claimed is not None and claimed.id == a1
    await store.finish_failed(claimed.id, claimed.attempt, "boom")
    clock.advance(1)
    c1 = await submit(store, CAROL)
    # Nobody is rendering: Carol was never served, Alice just was.
    assert [await store.queue_position(j) for j in (c1, a2)] == [1, 2]
    nxt = await store.claim_next_job("w")
    assert nxt is not None and nxt.id == c1


async def test_concurrent_fair_claims_take_each_job_once(store: JobStore) -> None:
    for user in (ALICE, BOB, CAROL):
        for _ in range(3):
            await submit(store, user)
    claims = await asyncio.gather(*(store.claim_next_job(f"w{i}") for i in range(12)))
    taken = [claim.id for claim in claims if claim is not None]
    assert sorted(taken) == list(range(1, 10))


async def test_running_limit_per_user_and_pause(store: JobStore, clock: FakeClock) -> None:
    limited = JobStore(store.engine, lease_seconds=30, max_attempts=3, clock=clock,
                       quota_config=QuotasConfig(credits=100, max_running_per_user=1))
    a1 = await submit(limited, ALICE)
    await submit(limited, ALICE)
    b1 = await submit(limited, BOB)
    claims = [await limited.claim_next_job("w") for _ in range(3)]
    assert [c.id if c else None for c in claims] == [a1, b1, None]
    admin = AdminStore(limited)
    await admin.set_paused("shell:root", True)
    await limited.finish_failed(a1, 1, "boom")
    assert await limited.claim_next_job("w") is None  # paused: nothing starts
    await admin.set_paused("shell:root", False)
    assert await limited.claim_next_job("w") is not None
