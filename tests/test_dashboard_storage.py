"""The dashboard's reads in storage, on SQLite and PostgreSQL: the gallery's filters, the
series the Stats page charts, the Users page's figures, the audit filters, what /metrics
reports, and the worker registry's model and memory."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.core.replies import workers_listing
from generator.device_memory import device_memory
from storage.admin import AdminStore, AuditFilter
from storage.gallery import Gallery, GalleryFilter
from storage.models import JobStatus
from storage.monitoring import RENDER_BUCKETS, metrics_snapshot
from storage.people import People
from storage.retention import prune_clips
from storage.stats_series import StatsSeries, spread
from storage.store import Store
from storage.videos import Videos
from storage.workers import DeviceMemory, WorkerRegistry
from tests.conftest import FakeClock
from videobot.media.clip import EncodedClip
from videobot.params import RenderRequest
from videobot.users import UserRef

ALICE = UserRef("console", "alice")
BOB = UserRef("telegram", "4242")


def request(prompt: str, preset: str = "tiny", seed: int = 7) -> RenderRequest:
    return RenderRequest(prompt=prompt, negative_prompt="", frames=8, fps=8, width=32,
                         height=32, steps=4, guidance=1.0, seed=seed, preset=preset)


def clip(render_seconds: float) -> EncodedClip:
    return EncodedClip(video_path=Path("/x.mp4"), poster_path=Path("/x.jpg"), width=32,
                       height=32, frames=8, fps=8, duration_s=1.0, size_bytes=10,
                       render_seconds=render_seconds)


async def queue(store: Store, user: UserRef, prompt: str, preset: str = "tiny",
                cost: float = 0.0) -> int:
    job = await store.submissions.enqueue(user, request(prompt, preset), max_queued_per_user=100,
                                          cost=cost)
    return job.id


async def run(store: Store, clock: FakeClock, *, wait: float, render: float,
              outcome: str = JobStatus.SUCCEEDED) -> int:
    """Claim the next job after `wait` seconds and end it `render` seconds later."""
    clock.advance(wait)
    claimed = await store.leases.claim_next_job("w1")
    assert claimed is not None
    clock.advance(render)
    if outcome == JobStatus.SUCCEEDED:
        await store.leases.finish_succeeded(claimed.id, claimed.attempt, clip(render))
    else:
        await store.leases.finish_failed(claimed.id, claimed.attempt, "the GPU ran out of memory")
    return claimed.id


async def test_the_gallery_filters_by_user_preset_and_status_newest_first(
        store: Store, clock: FakeClock) -> None:
    first = await queue(store, ALICE, "a red ball")
    await run(store, clock, wait=1, render=2)
    second = await queue(store, BOB, "a blue box", preset="demo")
    await run(store, clock, wait=1, render=2, outcome=JobStatus.FAILED)
    third = await queue(store, ALICE, "a green ball")
    await store.cancels.request(third, None)
    deleted = await queue(store, BOB, "deleted")
    await run(store, clock, wait=1, render=1)
    await Videos(store.context).delete(deleted, None)
    await queue(store, ALICE, "still waiting")  # not finished: not in the gallery
    gallery = Gallery(store.context)

    async def ids(owner: UserRef | None = None, **chosen: object) -> list[int]:
        page = await gallery.page(owner, GalleryFilter(**chosen))
        return [job.id for job in page.jobs]

    assert await ids() == [third, second, first]
    assert await ids(user=ALICE) == [third, first]
    assert await ids(preset="demo") == [second]
    assert await ids(status=JobStatus.FAILED) == [second]
    assert await ids(BOB) == [second]
    assert await ids(BOB, user=ALICE) == []  # a plain user's own jobs only, whatever is asked
    page = await gallery.page(None, GalleryFilter(), limit=2)
    assert [job.id for job in page.jobs] == [third, second] and page.has_more
    older = await gallery.page(None, GalleryFilter(), before=second, limit=2)
    assert [job.id for job in older.jobs] == [first] and not older.has_more
    choices = await gallery.choices(None)
    assert [user.key for user in choices.users] == ["console:alice", "telegram:4242"]
    assert choices.presets == ["demo", "tiny"]
    assert [user.key for user in (await gallery.choices(BOB)).users] == ["telegram:4242"]


async def test_the_stats_series_buckets_outcomes_waits_renders_and_failures(
        store: Store, clock: FakeClock) -> None:
    start = clock.now
    await queue(store, ALICE, "one")
    await run(store, clock, wait=10, render=4)
    await queue(store, ALICE, "two", preset="demo")
    await run(store, clock, wait=30, render=1, outcome=JobStatus.FAILED)
    clock.advance(3600)
    await queue(store, BOB, "three")
    await run(store, clock, wait=20, render=8)
    cancelled = await queue(store, BOB, "four")
    await store.cancels.request(cancelled, None)
    clock.advance(60)
    series = await StatsSeries(store.context).jobs(period=timedelta(hours=3),
                                                   bucket=timedelta(hours=1))
    assert series.buckets == 3
    assert series.start == clock.now - timedelta(hours=3)
    first, second = (int((at - series.start) / series.bucket)
                     for at in (start, start + timedelta(seconds=3700)))
    assert (first, second) == (1, 2)
    assert series.outcomes[JobStatus.SUCCEEDED] == [0, 1, 1]
    assert series.outcomes[JobStatus.FAILED] == [0, 1, 0]
    assert series.outcomes[JobStatus.CANCELLED] == [0, 0, 1]
    assert series.waits == [None, 20.0, 20.0]  # medians of (10, 30) and (20)
    assert set(series.renders) == {"tiny"}  # a failed job rendered no clip
    assert (series.renders["tiny"].count, series.renders["tiny"].median) == (2, 6.0)
    assert series.failures == [("the GPU ran out of memory", 1)]
    typical = await StatsSeries(store.context).typical_seconds(start)
    assert typical == {"tiny": 6.0}  # claim to clip, succeeded jobs only


def test_spread_takes_the_median_and_the_nearest_rank_90th_percentile() -> None:
    figures = spread([float(n) for n in range(1, 11)])
    assert (figures.count, figures.median, figures.p90) == (10, 5.5, 9.0)
    assert spread([3.0]).p90 == 3.0


async def test_people_have_their_credits_tier_ban_and_activity(
        store: Store, clock: FakeClock) -> None:
    admin = AdminStore(store.context)
    await queue(store, ALICE, "one", cost=2.5)
    clock.advance(5)
    await queue(store, BOB, "two", cost=1.0)
    await admin.set_quota("shell:ops", BOB, 7.0, None)
    await admin.ban("shell:ops", ALICE, "spam")
    people = {person.user.key: person for person in await People(store.context).listing()}
    alice, bob = people["console:alice"], people["telegram:4242"]
    assert (alice.quota.used, alice.quota.left, alice.jobs) == (0.0, 20.0, 1)  # refunded
    assert alice.ban is not None and (alice.ban.reason, alice.ban.banned_by) == ("spam",
                                                                                 "shell:ops")
    assert (bob.quota.used, bob.quota.credits, bob.quota.left) == (1.0, 7.0, 6.0)
    assert bob.own_allowance and not alice.own_allowance and bob.ban is None
    assert list(people) == ["telegram:4242", "console:alice"]  # the latest job first
    found = await People(store.context).listing(search="4242")
    assert [person.user.key for person in found] == ["telegram:4242"]


async def test_the_audit_log_is_filtered_and_paged(store: Store) -> None:
    admin = AdminStore(store.context)
    await admin.ban("shell:ops", ALICE, "spam links")
    await admin.set_paused("telegram:1", True)
    await admin.unban("shell:ops", ALICE)
    await admin.record("console:bob", "prompt refused", "console:bob", "dragon: a dragon")
    every = await admin.audit(10)
    assert [entry.action for entry in every] == ["prompt refused", "unban", "pause", "ban"]
    assert [e.action for e in await admin.audit(10, chosen=AuditFilter(actor="OPS"))] == [
        "unban", "ban"]
    assert [e.action for e in await admin.audit(10, chosen=AuditFilter(action="ban"))] == [
        "ban"]
    assert [e.action for e in await admin.audit(10, chosen=AuditFilter(text="links"))] == [
        "ban"]
    assert [e.action for e in await admin.audit(10, chosen=AuditFilter(target="alice"))] == [
        "unban", "ban"]
    assert [e.action for e in await admin.audit(10, chosen=AuditFilter(text="100%"))] == []
    assert [e.action for e in await admin.audit(2, before=every[1].id)] == ["pause", "ban"]
    assert await admin.audit_actions() == ["ban", "pause", "prompt refused", "unban"]


async def test_the_metrics_snapshot_counts_from_the_tables(
        store: Store, clock: FakeClock) -> None:
    await queue(store, ALICE, "one", cost=1.0)
    await run(store, clock, wait=1, render=3)
    await queue(store, ALICE, "two", cost=2.0)
    await run(store, clock, wait=1, render=45, outcome=JobStatus.FAILED)  # refunded
    await queue(store, BOB, "three", preset="demo", cost=0.5)
    await run(store, clock, wait=1, render=0.5)
    await queue(store, BOB, "waiting")
    registry = WorkerRegistry(store.engine, clock=store.clock)
    await registry.register(worker_id="a", host="h", pid=1, device="cpu", presets=["tiny"],
                            version="1")
    await registry.register(worker_id="b", host="h", pid=2, device="cpu", presets=["tiny"],
                            version="1")
    await registry.beat("b", status=WorkerRegistry.GONE, current_job_id=None)
    snapshot = await metrics_snapshot(store.context, alive_since=clock.now - timedelta(seconds=15))
    assert snapshot.jobs_by_status == {"queued": 1, "running": 0, "succeeded": 2, "failed": 1,
                                       "cancelled": 0}
    assert (snapshot.queue_length, snapshot.workers_alive) == (1, 1)
    assert (snapshot.credits_charged, snapshot.credits_refunded) == (3.5, 2.0)
    tiny, demo = snapshot.renders["tiny"], snapshot.renders["demo"]
    assert (tiny.count, tiny.total_seconds) == (1, 3.0)
    assert tiny.buckets == tuple(1 if bound >= 3.0 else 0 for bound in RENDER_BUCKETS)
    assert demo.buckets[0] == 1 and demo.count == 1
    assert snapshot.webhook_backlog == 0


async def test_workers_report_their_model_and_device_memory(
        store: Store, clock: FakeClock) -> None:
    registry = WorkerRegistry(store.engine, clock=store.clock)
    await registry.register(worker_id="gpu1:7:cuda:0", host="gpu1", pid=7, device="cuda:0",
                            presets=["wan"], version="0.1.0")
    [fresh] = await registry.all()
    assert (fresh.loaded_preset, fresh.memory) == ("", None)
    memory = DeviceMemory(used_bytes=20 * 1024**3, total_bytes=80 * 1024**3)
    await registry.beat("gpu1:7:cuda:0", status=WorkerRegistry.BUSY, current_job_id=3,
                        loaded_preset="wan", memory=memory)
    [busy] = await registry.all()
    assert (busy.loaded_preset, busy.memory, busy.current_job_id) == ("wan", memory, 3)
    # A beat that does not say (the stop beat) keeps what the last one said.
    await registry.beat("gpu1:7:cuda:0", status=WorkerRegistry.GONE, current_job_id=None)
    [stopped] = await registry.all()
    assert (stopped.loaded_preset, stopped.memory) == ("wan", memory)
    assert "model wan loaded; memory 20.0 of 80.0 GiB" in workers_listing([stopped], clock.now,
                                                                  timedelta(seconds=30))


def test_a_cpu_or_a_missing_gpu_reports_no_memory() -> None:
    assert device_memory("cpu") is None
    assert device_memory("cuda:7") is None  # the CPU build of torch here: no CUDA at all


async def test_a_job_keeps_its_render_seconds_after_retention_drops_the_clip_row(
        store: Store, clock: FakeClock, tmp_path: Path) -> None:
    await queue(store, ALICE, "one")
    job_id = await run(store, clock, wait=1, render=2.5)
    record = await store.jobs.require(job_id)
    assert record.clip is not None and record.clip.render_seconds == 2.5
    clock.advance(8 * 86400)
    await prune_clips(store.context, keep_days=7, drop_delivered_hours=0, clips_dir=tmp_path)
    assert (await store.jobs.require(job_id)).clip is None
    snapshot = await metrics_snapshot(store.context, alive_since=clock.now)
    assert snapshot.renders["tiny"].total_seconds == 2.5
