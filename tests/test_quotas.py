"""Credits: charged with the job, refunded on failure or early cancel, limits named in every
refusal — on real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.core.commands import Core
from bot.core.replies import store_refusal
from storage.db import read_transaction
from storage.errors import OutOfCredits, QueueFull, TooSoon
from storage.models import Charge, Job
from storage.store import Store
from tests.conftest import FakeClock
from tests.quota_helpers import refunded, request, roomy_config, submit
from videobot.config import Config, PresetConfig, QuotasConfig, config_from_dict
from videobot.costs import credit_cost
from videobot.users import UserRef

ALICE = UserRef("console", "alice")


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return roomy_config(tmp_path, database_url)


def test_cost_is_proportional_to_the_work_and_the_preset_factor() -> None:
    preset = PresetConfig()
    assert credit_cost(request(), preset) == 1
    assert credit_cost(request().replace(frames=32, steps=8), preset) == 4
    assert credit_cost(request().replace(width=32), preset) == 0.5
    heavy = PresetConfig(cost_factor=2.5)
    assert credit_cost(request(), heavy) == 2.5


async def test_concurrent_submissions_spend_exactly_the_credits_left(store: Store) -> None:
    await submit(store, ALICE, cost=15)  # 5 of the default 20 left
    results = await asyncio.gather(*(submit(store, ALICE) for _ in range(50)),
                                   return_exceptions=True)
    accepted = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, OutOfCredits)]
    assert (len(accepted), len(refused)) == (5, 45)
    async with read_transaction(store.engine) as conn:
        assert await conn.scalar(select(func.sum(Charge.credits))) == 20
        assert await conn.scalar(select(func.count()).select_from(Job)) == 6
    assert (await store.submissions.quota(ALICE)).left == 0


async def test_failed_job_is_refunded(store: Store) -> None:
    job_id = await submit(store, ALICE, cost=3)
    assert (await store.submissions.quota(ALICE)).used == 3
    claimed = await store.leases.claim_next_job("w")
    assert claimed is not None
    await store.leases.finish_failed(claimed.id, claimed.attempt, "out of memory")
    assert await refunded(store, job_id)
    assert (await store.submissions.quota(ALICE)).used == 0


async def test_cancel_before_start_is_refunded_and_mid_render_is_not(store: Store) -> None:
    early = await submit(store, ALICE, cost=2)
    await store.cancels.request(early, ALICE)
    assert await refunded(store, early)
    late = await submit(store, ALICE, cost=2)
    claimed = await store.leases.claim_next_job("w")
    assert claimed is not None and claimed.id == late
    await store.cancels.request(late, ALICE)
    await store.leases.finish_cancelled(claimed.id, claimed.attempt)
    assert not await refunded(store, late)
    assert (await store.submissions.quota(ALICE)).used == 2


async def test_mid_render_refund_when_configured_and_exhausted_jobs_refunded(
    store: Store, clock: FakeClock
) -> None:
    generous = Store.on(store.engine, lease_seconds=30, max_attempts=1, clock=clock,
                        quota_config=QuotasConfig(refund_cancel_mid_render=True))
    cancelled = await submit(generous, ALICE, cost=2)
    claimed = await generous.leases.claim_next_job("w")
    assert claimed is not None
    await generous.cancels.request(cancelled, ALICE)
    await generous.leases.finish_cancelled(claimed.id, claimed.attempt)
    assert await refunded(generous, cancelled)
    abandoned = await submit(generous, ALICE, cost=2)
    assert await generous.leases.claim_next_job("w") is not None
    clock.advance(31)  # the worker died: its lease runs out with no attempt left
    assert await generous.leases.expire_leases() == 1
    assert (await generous.jobs.require(abandoned)).status == "failed"
    assert await refunded(generous, abandoned)


async def test_rolling_window_gives_credits_back_and_refusal_says_when(
    store: Store, clock: FakeClock
) -> None:
    await submit(store, ALICE, cost=12)
    clock.advance(3600)
    await submit(store, ALICE, cost=8)
    with pytest.raises(OutOfCredits) as refusal:
        await submit(store, ALICE, cost=5)
    assert store_refusal(refusal.value) == (
        "this clip costs 5 credits and you have 0 left of 20 per 24 h; enough come back at "
        "2026-01-02 12:00 UTC")
    assert (refusal.value.cost, refusal.value.state.left) == (5, 0)
    clock.advance(23 * 3600 + 1)  # the first charge has left the window, the second not
    await submit(store, ALICE, cost=12)
    assert (await store.submissions.quota(ALICE)).used == 20


async def test_daily_reset_at_the_configured_hour(store: Store, clock: FakeClock) -> None:
    daily = Store.on(store.engine, lease_seconds=30, max_attempts=3, clock=clock,
                     quota_config=QuotasConfig(credits=2, reset_hour_utc=6))
    await submit(daily, ALICE, cost=2)
    with pytest.raises(OutOfCredits) as out:
        await submit(daily, ALICE)
    assert "per day; enough come back at 2026-01-02 06:00" in store_refusal(out.value)
    clock.advance(18 * 3600)  # 06:00 the next day
    await submit(daily, ALICE, cost=2)


async def test_queue_length_and_interval_refusals_name_the_limit(
    store: Store, clock: FakeClock
) -> None:
    strict = Store.on(store.engine, lease_seconds=30, max_attempts=3, clock=clock,
                      quota_config=QuotasConfig(max_queue_length=2, min_interval_seconds=10))
    await submit(strict, ALICE)
    with pytest.raises(TooSoon) as too_soon:
        await submit(strict, ALICE)
    assert store_refusal(too_soon.value) == "one request every 10 s at most; try again in 10 s"
    assert (too_soon.value.interval, too_soon.value.wait) == (10, 10)
    clock.advance(10)
    await submit(strict, ALICE)
    clock.advance(10)
    with pytest.raises(QueueFull) as full:
        await submit(strict, UserRef("console", "bob"))
    assert store_refusal(full.value).startswith("the queue is full (2 jobs waiting, the limit)")
    assert full.value.limit == 2


async def test_quota_and_history_commands(store: Store, config: Config) -> None:
    core = Core(store=store, config=config)
    reply = await core.handle(ALICE, "/video a kite --frames 32")
    assert reply.job is not None
    assert reply.text.endswith("Cost: 2 credits; 18 credits left.")
    await core.handle(ALICE, f"/cancel {reply.job.id}")
    await core.handle(ALICE, "/video a boat")
    assert (await core.handle(ALICE, "/quota")).text == (
        "You have 19 credits left: 1 used of 20 per 24 h.\n"
        "Credits come back from 2026-01-02 12:00 UTC.")
    history = (await core.handle(ALICE, "/history")).text.splitlines()
    assert history[0] == "Your last 2 jobs:"
    assert history[1].endswith("queued, 1 credit: a boat")
    assert history[2].endswith("cancelled, 2 credits refunded: a kite")
    refusal = await core.handle(ALICE, "/video a storm --frames 64 --steps 50")
    assert refusal.job is None
    assert refusal.text.startswith("Sorry: this clip costs 50 credits and you have 19 left of "
                                   "20 per 24 h; that is more than your whole allowance")


async def test_a_tier_raises_the_allowance_of_users_it_names_or_groups(
    tmp_path: Path, database_url: str
) -> None:
    from storage.connect import close_store, open_store

    config = config_from_dict({
        "data_dir": str(tmp_path / "data"), "default_preset": "tiny",
        "database": {"url": database_url},
        "quotas": {"credits": 2, "tiers": {
            "supporters": {"credits": 5, "priority": 1, "telegram_chats": [-100]},
            "staff": {"credits": 50, "priority": 2, "users": ["telegram:9"]},
        }},
    })
    store = await open_store(config)
    try:
        core = Core(store=store, config=config)
        plain = UserRef("telegram", "1")
        in_chat = UserRef("telegram", "2", groups=frozenset({"telegram-chat:-100"}))
        staff = UserRef("telegram", "9", groups=frozenset({"telegram-chat:-100"}))
        for user, expected in ((plain, "1 credit left"), (in_chat, "4 credits left"),
                               (staff, "49 credits left")):
            reply = await core.handle(user, "/video a red ball")
            assert reply.job is not None, reply.text
            assert reply.text.endswith(f"Cost: 1 credit; {expected}."), reply.text
        assert (await store.submissions.quota(in_chat)).credits == 5
        # The same user writing from elsewhere is back on the default allowance.
        elsewhere = UserRef("telegram", "2")
        refused = await core.handle(elsewhere, "/video a red ball")
        assert refused.job is not None  # 2 - 1 spent = 1 left: still enough
        assert (await core.handle(elsewhere, "/video a red ball")).job is None
        # /quota counts in the tier of where it is asked from, as a /video from there would:
        # before any submission too, and after one made elsewhere.
        newcomer = UserRef("telegram", "3", groups=frozenset({"telegram-chat:-100"}))
        assert (await core.handle(newcomer, "/quota")).text == (
            "You have 5 credits left: 0 used of 5 per 24 h.")
        assert (await core.handle(elsewhere, "/quota")).text.startswith(
            "You have 0 credits left: 2 used of 2 per 24 h.")
        assert (await core.handle(in_chat, "/quota")).text.startswith(
            "You have 3 credits left: 2 used of 5 per 24 h.")
    finally:
        await close_store(store)
