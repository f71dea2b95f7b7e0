"""Fair scheduling: claims go round-robin across users, and the queue positions users are
shown follow the same order — on real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

from storage.admin import AdminStore
from storage.db import read_transaction, write_transaction
from storage.fairness import NEVER, Waiting, fair_order
from storage.models import Charge, Job, JobStatus, User
from storage.store import Store
from tests.conftest import FakeClock
from tests.quota_helpers import request, roomy_config, submit
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


async def test_a_late_user_is_not_starved(store: Store, clock: FakeClock) -> None:
    alice_jobs = [await submit(store, ALICE) for _ in range(50)]
    clock.advance(1)
    bob_job = await submit(store, BOB)
    assert await store.jobs.queue_position(bob_job) == 2
    assert [job.id for job in await store.jobs.active_jobs()][:3] == [alice_jobs[0], bob_job,
                                                                       alice_jobs[1]]
    claim = store.leases.claim_next_job
    first, second = await claim("w1"), await claim("w2")
    assert first is not None and second is not None
    assert (first.id, second.id) == (alice_jobs[0], bob_job)


async def test_least_recently_served_goes_first_once_jobs_finish(
    store: Store, clock: FakeClock
) -> None:
    a1, a2 = await submit(store, ALICE), await submit(store, ALICE)
    claimed = await store.leases.claim_next_job("w")
    assert claimed is not None and claimed.id == a1
    await store.leases.finish_failed(claimed.id, claimed.attempt, "boom")
    clock.advance(1)
    c1 = await submit(store, CAROL)
    # Nobody is rendering: Carol was never served, Alice just was.
    assert [await store.jobs.queue_position(j) for j in (c1, a2)] == [1, 2]
    nxt = await store.leases.claim_next_job("w")
    assert nxt is not None and nxt.id == c1


async def test_concurrent_fair_claims_take_each_job_once(store: Store) -> None:
    for user in (ALICE, BOB, CAROL):
        for _ in range(3):
            await submit(store, user)
    claims = await asyncio.gather(*(store.leases.claim_next_job(f"w{i}") for i in range(12)))
    taken = [claim.id for claim in claims if claim is not None]
    assert sorted(taken) == list(range(1, 10))


async def test_running_limit_per_user_and_pause(store: Store, clock: FakeClock) -> None:
    limited = Store.on(store.engine, lease_seconds=30, max_attempts=3, clock=clock,
                       quota_config=QuotasConfig(credits=100, max_running_per_user=1))
    a1 = await submit(limited, ALICE)
    await submit(limited, ALICE)
    b1 = await submit(limited, BOB)
    claims = [await limited.leases.claim_next_job("w") for _ in range(3)]
    assert [c.id if c else None for c in claims] == [a1, b1, None]
    admin = AdminStore(limited.context)
    await admin.set_paused("shell:root", True)
    await limited.leases.finish_failed(a1, 1, "boom")
    assert await limited.leases.claim_next_job("w") is None  # paused: nothing starts
    await admin.set_paused("shell:root", False)
    assert await limited.leases.claim_next_job("w") is not None


async def test_positions_are_the_replayed_claim_order(store: Store, clock: FakeClock) -> None:
    """Property: on random queues (equal times, jobs rendering, users served before, clocks
    going back), the position `submit` reports and `queue_position` gives every waiting job
    is its place in `fair_order`, the replay of the claims."""
    users = [UserRef("console", f"user{n}") for n in range(5)]
    start = clock.now
    for seed in range(40):
        rng = random.Random(seed)
        # Half the queues have users of several tiers (a user's tier is that of their last
        # submission, and the same for all their waiting jobs).
        tiers = {user.key: ("", 0) if seed % 2 else (f"t{n}", n)
                 for user in users for n in [rng.randrange(-1, 2)]}
        async with write_transaction(store.engine) as conn:
            await conn.execute(delete(Charge))
            await conn.execute(delete(Job))
        for _ in range(rng.randrange(1, 20)):
            clock.now = start + timedelta(seconds=rng.randrange(3))
            user = rng.choice(users)
            submitted = await store.submissions.submit(user, request(), cost=1,
                                                       max_queued_per_user=1000,
                                                       tier=tiers[user.key])
            if rng.random() < 0.3:  # it started at once: rendering, or already done
                status = rng.choice([JobStatus.RUNNING, JobStatus.SUCCEEDED])
                await _started(store, submitted.job.id, status,
                               start - timedelta(seconds=rng.randrange(3)))
            else:
                order = await _replayed_order(store)
                assert submitted.position == order.index(submitted.job.id) + 1, seed
        order = await _replayed_order(store)
        positions = [await store.jobs.queue_position(job_id) for job_id in order]
        assert positions == list(range(1, len(order) + 1)), seed


async def test_jobs_queued_together_are_told_their_places_with_all_of_them_in(
    store: Store, clock: FakeClock
) -> None:
    """On SQLite, submissions arriving together share one transaction and one count of the
    positions, made once all of them are in: each is told its place in the replayed order
    of the queue as committed, although a later one of the batch may go before it."""
    if store.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL commits each submission alone, with the positions of then")
    await store.submissions.submit(ALICE, request(), max_queued_per_user=100)
    # Alice's second job is submitted first, but Bob's first goes before it.
    submit = store.submissions.submit
    together = await asyncio.gather(submit(ALICE, request(), max_queued_per_user=100),
                                    submit(BOB, request(), max_queued_per_user=100))
    assert [submitted.position for submitted in together] == [3, 2]
    users = [UserRef("console", f"user{n}") for n in range(6)]
    for seed in range(20):
        rng = random.Random(seed)
        clock.advance(1)
        batch = await asyncio.gather(*(
            store.submissions.submit(rng.choice(users), request(), max_queued_per_user=100)
            for _ in range(rng.randrange(1, 12))))
        order = await _replayed_order(store)
        assert [s.position for s in batch] == [order.index(s.job.id) + 1 for s in batch], seed


async def test_a_loaded_models_jobs_go_first_until_another_has_waited_too_long(
    store: Store, clock: FakeClock
) -> None:
    """`switch_after`: a worker with `a` loaded takes `a`'s jobs ahead of their turn, and a
    job for another preset once it has waited that long, in its turn among them."""
    wait = timedelta(seconds=120)
    enqueue = store.submissions.enqueue
    other = await enqueue(ALICE, request().replace(preset="b"), max_queued_per_user=10)
    clock.advance(1)
    mine = await enqueue(BOB, request().replace(preset="a"), max_queued_per_user=10)
    claimed = await store.leases.claim_next_job("w", loaded="a", switch_after=wait)
    assert claimed is not None and claimed.id == mine.id
    await store.leases.finish_failed(claimed.id, claimed.attempt, "done")  # out of the way
    clock.advance(1)
    later = await enqueue(CAROL, request().replace(preset="a"), max_queued_per_user=10)
    clock.advance(wait.total_seconds())
    # Alice's job has now waited longer than `wait`: it goes in its turn, before Carol's.
    claimed = await store.leases.claim_next_job("w", loaded="a", switch_after=wait)
    assert claimed is not None and claimed.id == other.id
    claimed = await store.leases.claim_next_job("w", loaded="a", switch_after=wait)
    assert claimed is not None and claimed.id == later.id


async def _started(store: Store, job_id: int, status: str, at: datetime) -> None:
    async with write_transaction(store.engine) as conn:
        await conn.execute(update(Job).where(Job.id == job_id)
                           .values(status=status, started_at=at, attempts=1))


async def _replayed_order(store: Store) -> list[int]:
    """`fair_order` over the job table as it is, gathered here independently of the store."""
    async with read_transaction(store.engine) as conn:
        rows = (await conn.execute(select(Job.id, Job.user_id, Job.status, Job.created_at,
                                          Job.started_at))).all()
        priority = {u: p for u, p in (await conn.execute(select(User.id, User.priority)))}
    running: defaultdict[int, int] = defaultdict(int)
    served: dict[int, datetime] = {}
    for row in rows:
        running[row.user_id] += row.status == JobStatus.RUNNING
        if row.started_at is not None:
            served[row.user_id] = max(served.get(row.user_id, NEVER), row.started_at)
    waiting = [Waiting(row.id, row.user_id, row.created_at) for row in rows
               if row.status == JobStatus.QUEUED]
    return fair_order(waiting, dict(running), served, priority)


def test_fair_order_breaks_ties_between_equally_served_users_by_tier_priority() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    waiting = [Waiting(1, 10, t), Waiting(2, 10, t), Waiting(3, 20, t.replace(minute=1))]
    assert fair_order(waiting, {}, {}) == [1, 3, 2]
    assert fair_order(waiting, {}, {}, {20: 1}) == [3, 1, 2]
    # Priority does not beat the round-robin: a user served less recently still goes first.
    assert fair_order(waiting, {}, {20: t}, {20: 1}) == [1, 3, 2]


async def test_a_higher_tier_is_claimed_first_among_users_never_served(
    store: Store, clock: FakeClock
) -> None:
    plain, supporter = UserRef("console", "plain"), UserRef("console", "supporter")
    first = await store.submissions.submit(plain, request(), max_queued_per_user=10)
    clock.advance(1)
    second = await store.submissions.submit(supporter, request(), max_queued_per_user=10,
                                            tier=("supporters", 1))
    assert (first.position, second.position) == (1, 1)
    assert await store.jobs.queue_position(first.job.id) == 2
    claimed = await store.leases.claim_next_job("w")
    assert claimed is not None and claimed.id == second.job.id
