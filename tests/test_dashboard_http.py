"""The dashboard without a browser, on SQLite and PostgreSQL: sign-in (a wrong key, the
slow-down of repeated failures), sessions (expiry, forgery, revoked keys, cookie flags),
CSRF, who sees which jobs and clips, escaping, and every action landing in the database
through the core."""

from __future__ import annotations

import asyncio
import logging
import re
import stat
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from bot.web.dashboard.sessions import SECRET_FILE, SESSION_COOKIE, Signer, session_secret
from generator.previews import preview_image
from storage.admin import AdminStore
from storage.connect import close_store, open_store
from storage.db import read_transaction
from storage.models import ApiKey, AuditEntry, Ban, Job, JobStatus, QuotaOverride
from storage.previews import PreviewStore
from storage.store import Store
from storage.workers import DeviceMemory, WorkerRegistry
from tests.api_helpers import ALICE, BOB, Api, api_config, user
from tests.conftest import FakeClock
from tests.dashboard_helpers import queued, render_all, started_dashboard, visitor
from videobot.config import Config

pytestmark = pytest.mark.timeout(120)
SCRIPT = "a red ball <script>alert('x')</script> & friends"


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return api_config(tmp_path, database_url, limits={"max_queued_per_user": 10},
                      api={"session_hours": 1.0})


@pytest.fixture
async def api(store: Store, config: Config) -> AsyncIterator[Api]:
    async with started_dashboard(store, config) as started:
        yield started


def rows(html: str) -> list[int]:
    """The job ids of the queue's rows on a page."""
    return [int(found) for found in re.findall(r'<tr id="job-(\d+)"', html)]


async def job_status(store: Store, job_id: int) -> str:
    return (await store.jobs.require(job_id)).status


async def test_a_wrong_key_gets_the_form_again_with_the_reason_and_no_job(
        api: Api, store: Store) -> None:
    await queued(store, user(ALICE), "a secret prompt of alice")
    async with visitor(api) as browser:
        page = await browser.sign_in("vb-not-a-key")
        assert page.status == 401 and page.url.endswith("/dashboard/signin")
        assert "the API key is unknown or has been revoked" in page.text
        assert "a secret prompt" not in page.text and browser.cookie(SESSION_COOKIE) is None
        queue = await browser.get("/dashboard/queue")
        assert queue.url.endswith("/dashboard/signin?next=/dashboard/queue")
        assert rows(queue.text) == []
        empty = await browser.post("/dashboard/signin", {"key": "  "})
        assert empty.status == 400 and "enter an API key" in empty.text


async def test_an_admin_sees_every_users_jobs_and_a_plain_user_only_their_own(
        api: Api, store: Store) -> None:
    alices = await queued(store, user(ALICE), "a red ball")
    bobs = await queued(store, user(BOB), "a blue box")
    async with visitor(api) as admin, visitor(api) as alice:
        page = await admin.sign_in(await api.key("shell:ops", admin=True))
        assert page.status == 200 and page.url.endswith("/dashboard/queue")
        assert rows(page.text) == [alices.id, bobs.id]
        assert "console:alice" in page.text and "telegram:4242" in page.text
        page = await alice.sign_in(await api.key(ALICE))
        assert rows(page.text) == [alices.id] and "a blue box" not in page.text
        assert "Workers" not in page.text  # no admin pages in a plain user's menu
        for path in ("/dashboard/workers", "/dashboard/users", "/dashboard/audit",
                     "/dashboard/stats"):
            refused = await alice.get(path)
            assert refused.status == 403 and "only the bot's admins" in refused.plain
        paused = await alice.post("/dashboard/queue/pause")
        assert paused.status == 403 and not await AdminStore(store.context).paused()


async def test_a_key_of_a_configured_admin_is_an_admin(
        tmp_path: Path, database_url: str, clock: FakeClock) -> None:
    config = api_config(tmp_path, database_url, console={"admins": ["root"]})
    store = await open_store(config, clock=clock)
    try:
        await queued(store, user(BOB), "a blue box")
        async with started_dashboard(store, config) as api, visitor(api) as root:
            page = await root.sign_in(await api.key("console:root"))
            assert "a blue box" in page.text and "Workers" in page.text
    finally:
        await close_store(store)


async def test_a_post_without_the_pages_token_is_refused_and_changes_nothing(
        api: Api, store: Store) -> None:
    job = await queued(store, user(ALICE), "a red ball")
    async with visitor(api) as alice, visitor(api) as other:
        await alice.sign_in(await api.key(ALICE))
        await other.sign_in(await api.key(ALICE))
        for form in ({}, {"csrf": ""}, {"csrf": "forged"}, {"csrf": other.last.csrf}):
            refused = await alice.post(f"/dashboard/jobs/{job.id}/cancel", form, token=False)
            assert refused.status == 403, form
            assert "did not come from this dashboard" in refused.text
        assert await job_status(store, job.id) == JobStatus.QUEUED
        await alice.get("/dashboard/queue")
        done = await alice.post(f"/dashboard/jobs/{job.id}/cancel")
        assert done.status == 200 and f"Job #{job.id} cancelled." in done.text
        assert await job_status(store, job.id) == JobStatus.CANCELLED
        # The sign-in form's token is bound to its own cookie: one from elsewhere fails.
        async with visitor(api) as stranger:
            await stranger.get("/dashboard/signin")
            forged = await stranger.post("/dashboard/signin", {"key": await api.key(BOB),
                                                               "csrf": alice.last.csrf},
                                         token=False)
            assert forged.status == 403 and stranger.cookie(SESSION_COOKIE) is None


async def test_a_session_ends_after_its_hours_and_with_its_key(
        api: Api, store: Store, clock: FakeClock) -> None:
    await queued(store, user(ALICE), "a red ball")
    key = await api.key(ALICE)
    async with visitor(api) as alice:
        await alice.sign_in(key)
        clock.advance(3599)
        assert (await alice.get("/dashboard/queue")).url.endswith("/dashboard/queue")
        clock.advance(2)
        expired = await alice.get("/dashboard/queue")
        assert "/dashboard/signin?next=" in expired.url and rows(expired.text) == []
        await alice.sign_in(key)
        record = await api.keys.find(key)
        assert record is not None
        await api.keys.revoke("shell:test", record.id)
        assert "/dashboard/signin" in (await alice.get("/dashboard/queue")).url


async def test_a_forged_or_tampered_session_cookie_is_not_a_session(
        api: Api, store: Store, clock: FakeClock) -> None:
    await queued(store, user(ALICE), "a red ball")
    admin_key = await api.key("shell:ops", admin=True)
    async with visitor(api) as admin:
        await admin.sign_in(admin_key)
        genuine = admin.cookie(SESSION_COOKIE)
        assert genuine is not None
    mine = await api.keys.find(admin_key)
    assert mine is not None
    # Signed with another secret; the payload changed under the genuine signature.
    _session, other_secret = Signer(b"x" * 48).new_session(mine.id, clock.now,
                                                           timedelta(hours=1))
    body, mac = genuine.split(".")
    tampered = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + mac
    for forged in (other_secret, tampered, "garbage", body + ".", ""):
        async with visitor(api) as browser:
            browser.session.cookie_jar.update_cookies({SESSION_COOKIE: forged})
            page = await browser.get("/dashboard/queue")
            assert "/dashboard/signin" in page.url and rows(page.text) == [], forged


async def test_session_cookies_are_httponly_strict_and_secure_over_https(api: Api) -> None:
    key = await api.key(ALICE)
    async with visitor(api) as browser:
        await browser.get("/dashboard/signin")
        for proto, secure in (("http", False), ("https", True)):
            headers = {"X-Forwarded-Proto": proto}
            async with browser.session.post(
                    f"{api.root}/dashboard/signin", allow_redirects=False, headers=headers,
                    data={"key": key, "csrf": browser.last.csrf}) as answer:
                assert answer.status == 303
                cookie = next(v for v in answer.headers.getall("Set-Cookie")
                              if v.startswith(SESSION_COOKIE))
                assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
                assert ("Secure" in cookie) is secure
                assert key not in cookie
            await browser.get("/dashboard/signin")


async def test_repeated_failed_sign_ins_from_one_address_are_slowed_down(api: Api) -> None:
    key = await api.key(ALICE)
    async with visitor(api) as browser:
        for _ in range(4):  # three free failures, then a wait of 2 s
            assert (await browser.sign_in("vb-wrong")).status == 401
        refused = await browser.sign_in(key)  # even the right key waits its turn
        assert refused.status == 429 and "too many failed sign-ins" in refused.text
        assert browser.cookie(SESSION_COOKIE) is None
        await asyncio.sleep(2.1)
        assert (await browser.sign_in(key)).url.endswith("/dashboard/queue")


async def test_another_users_clip_is_not_found_and_prompts_are_shown_as_text(
        api: Api, store: Store) -> None:
    alices = await queued(store, user(ALICE), SCRIPT)
    bobs = await queued(store, user(BOB), "a blue square moving up")
    assert await render_all(api) == 2
    async with visitor(api) as bob, visitor(api) as admin:
        await bob.sign_in(await api.key(BOB))
        for path in ("", "/video", "/poster"):
            page = await bob.get(f"/dashboard/clips/{alices.id}{path}")
            assert page.status == 404 and SCRIPT not in page.text
            assert "there is no such page" in page.text
        assert (await bob.get(f"/dashboard/clips/{bobs.id}/poster")).status == 200
        await admin.sign_in(await api.key("shell:ops", admin=True))
        for path in ("/dashboard/clips", f"/dashboard/clips/{alices.id}", "/dashboard/users"):
            page = await admin.get(path)
            assert page.status == 200
            assert "<script>alert" not in page.text
        gallery = (await admin.get("/dashboard/clips")).text
        assert "a red ball &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; friends" in gallery
        async with admin.session.get(f"{api.root}/dashboard/clips/{alices.id}/video") as video:
            assert video.content_type == "video/mp4" and (await video.read())[4:8] == b"ftyp"


async def test_a_preview_is_served_only_to_a_signed_in_viewer_of_its_job(
        api: Api, store: Store, config: Config) -> None:
    alices = await queued(store, user(ALICE), "a red ball moving to the left")
    claimed = await store.leases.claim_next_job("w1")
    assert claimed is not None and claimed.id == alices.id
    path = f"/dashboard/clips/{alices.id}/preview"
    async with visitor(api) as alice, visitor(api) as bob, visitor(api) as nobody:
        await alice.sign_in(await api.key(ALICE))
        assert (await alice.get(path)).status == 404  # none yet
        image = preview_image(2, 4, np.full((2, 20, 30, 3), 90, np.uint8))
        await PreviewStore.of(store.context, config).save(claimed.id, claimed.attempt, image)
        async with alice.session.get(api.root + path) as answer:
            assert (answer.status, answer.content_type) == (200, "image/jpeg")
            assert await answer.read() == image.jpeg
        await bob.sign_in(await api.key(BOB))
        assert (await bob.get(path)).status == 404
        async with nobody.session.get(api.root + path, allow_redirects=False) as answer:
            assert answer.status == 303 and "/dashboard/signin" in answer.headers["Location"]


async def test_the_queue_stream_sends_escaped_rows_with_progress(
        api: Api, store: Store) -> None:
    job = await queued(store, user(ALICE), SCRIPT)
    claimed = await store.leases.claim_next_job("w1")
    assert claimed is not None
    await store.leases.renew_lease(claimed.id, claimed.attempt, step=1, total=4)
    async with visitor(api) as alice:
        await alice.sign_in(await api.key(ALICE))
        async with alice.session.get(f"{api.root}/dashboard/queue/stream") as stream:
            assert stream.content_type == "text/event-stream"
            async with asyncio.timeout(10):
                while True:
                    line = (await stream.content.readline()).decode()
                    if line.startswith("data: "):
                        break
        assert f'id=\\"job-{job.id}\\"' in line and 'value=\\"25\\"' in line
        assert "&lt;script&gt;" in line and "<script>" not in line


async def test_actions_go_through_the_core_into_the_database(
        api: Api, store: Store) -> None:
    bobs = await queued(store, user(BOB), "a blue box")
    async with visitor(api) as admin:
        await admin.sign_in(await api.key("shell:ops", admin=True))
        page = await admin.post("/dashboard/queue/pause")
        assert "The queue is paused" in page.text and await AdminStore(store.context).paused()
        await admin.post("/dashboard/queue/resume")
        assert not await AdminStore(store.context).paused()
        await admin.get("/dashboard/users")
        page = await admin.post("/dashboard/users/quota", {"user": "console:alice",
                                                           "credits": "50", "window": "24"})
        assert "console:alice now has 50 credits per 24 h." in page.text
        page = await admin.post("/dashboard/users/ban", {"user": "telegram:4242",
                                                         "reason": "spam links"})
        assert "telegram:4242 is banned; 1 waiting job cancelled and refunded." in page.text
        assert await job_status(store, bobs.id) == JobStatus.CANCELLED
        bad = await admin.post("/dashboard/users/unban", {"user": "two words"})
        assert "the user must be one word" in bad.text
        await admin.post("/dashboard/users/unban", {"user": "telegram:4242"})
        bob_key = await api.keys.find(await api.key(BOB))
        assert bob_key is not None
        page = await admin.post(f"/dashboard/keys/{bob_key.id}/revoke")
        assert f"API key #{bob_key.id}" in page.text and "is revoked" in page.text
        await admin.post(f"/dashboard/jobs/{bobs.id}/cancel")  # already ended: refused, said
        assert "has already finished" in (admin.last.text if admin.last else "")
    async with read_transaction(store.engine) as conn:
        override = (await conn.execute(select(QuotaOverride.credits,
                                              QuotaOverride.window_hours))).one()
        bans = (await conn.execute(select(Ban.user_id))).all()
        revoked = await conn.scalar(select(ApiKey.revoked_at).where(ApiKey.id == bob_key.id))
        actions = (await conn.execute(select(AuditEntry.actor, AuditEntry.action)
                                      .order_by(AuditEntry.id))).all()
    assert tuple(override) == (50.0, 24.0) and bans == [] and revoked is not None
    assert [action for actor, action in actions if actor == "shell:ops"] == [
        "pause", "resume", "quota set", "ban", "unban", "apikey revoke"]


async def test_rerun_queues_the_same_seed_for_the_viewer_and_delete_removes_the_clip(
        api: Api, store: Store) -> None:
    job = await queued(store, user(ALICE), "a green triangle moving down", seed=77)
    await render_all(api)
    rendered = await store.jobs.require(job.id)
    assert rendered.clip is not None
    in_database = rendered.clip.in_database  # PostgreSQL keeps clips in the database
    assert (await store.jobs.clip_data(job.id) is not None if in_database
            else Path(rendered.clip.video_path).exists())
    async with visitor(api) as alice:
        await alice.sign_in(await api.key(ALICE))
        await alice.get(f"/dashboard/clips/{job.id}")
        page = await alice.post(f"/dashboard/clips/{job.id}/rerun")
        assert page.url.endswith("/dashboard/queue") and "queued" in page.text
        await alice.get(f"/dashboard/clips/{job.id}")
        page = await alice.post(f"/dashboard/clips/{job.id}/delete")
        assert f"Job #{job.id} is deleted" in page.text
        assert (await alice.get(f"/dashboard/clips/{job.id}")).status == 404
    async with read_transaction(store.engine) as conn:
        again = (await conn.execute(select(Job.seed, Job.prompt, Job.platform, Job.api_key_id)
                                    .where(Job.id > job.id))).one()
    assert (again.seed, again.prompt, again.platform) == (77, "a green triangle moving down",
                                                          "api")
    assert again.api_key_id is not None
    assert (await store.jobs.require(job.id)).deleted_at is not None
    assert (await store.jobs.clip_data(job.id) is None if in_database
            else not Path(rendered.clip.video_path).exists())


async def test_the_gallery_filters_from_the_url(api: Api, store: Store) -> None:
    await queued(store, user(ALICE), "a red ball")
    await queued(store, user(BOB), "a blue box")
    await render_all(api)
    cancelled = await queued(store, user(BOB), "a white square")
    await store.cancels.request(cancelled.id, None)
    async with visitor(api) as admin:
        await admin.sign_in(await api.key("shell:ops", admin=True))

        async def cards(query: str) -> list[int]:
            page = await admin.get(f"/dashboard/clips{query}")
            return [int(n) for n in re.findall(r'id="clip-(\d+)"', page.text)]

        assert await cards("") == [3, 2, 1]
        assert await cards("?user=telegram:4242") == [3, 2]
        assert await cards("?user=telegram:4242&status=succeeded") == [2]
        assert await cards("?preset=demo&status=cancelled") == [3]
        assert await cards("?preset=nothing") == []


async def test_workers_stats_and_audit_pages_show_the_tables(
        api: Api, store: Store, clock: FakeClock) -> None:
    await queued(store, user(ALICE), "a red ball")
    await render_all(api)
    registry = WorkerRegistry(store.engine, clock=store.clock)
    for worker_id in ("gpu1:1:cuda:0", "gpu2:2:cuda:0", "gpu3:3:cuda:0"):
        await registry.register(worker_id=worker_id, host=worker_id.split(":")[0], pid=1,
                                device="cuda:0", presets=["demo"], version="0.1.0")
    await registry.beat("gpu1:1:cuda:0", status=WorkerRegistry.BUSY, current_job_id=1,
                        loaded_preset="demo", memory=DeviceMemory(6 * 1024**3, 24 * 1024**3))
    await registry.beat("gpu3:3:cuda:0", status=WorkerRegistry.GONE, current_job_id=None)
    clock.advance(10)
    await registry.beat("gpu1:1:cuda:0", status=WorkerRegistry.BUSY, current_job_id=1)
    clock.advance(25)  # gpu2 silent for 35 s: longer than the 30 s lease
    async with visitor(api) as admin:
        await admin.sign_in(await api.key("shell:ops", admin=True))
        workers = (await admin.get("/dashboard/workers")).text
        states = re.findall(r'<span class="state (\w+)">', workers)
        assert states == ["rendering", "lost", "gone"]
        assert "6.0 / 24.0 GiB" in workers and '<meter min="0" max="100" value="25">' in workers
        stats = (await admin.get("/dashboard/stats")).text
        assert stats.count("<svg") == 3 and '<rect class="bar succeeded"' in stats
        assert "1 succeeded" in stats
        week = (await admin.get("/dashboard/stats?period=week")).text
        assert 'aria-current="page">last week' in week
        await admin.post("/dashboard/queue/pause")
        audit = (await admin.get("/dashboard/audit?action=pause")).text
        assert "<td>pause</td>" in audit and "<td>apikey create</td>" not in audit
        everything = (await admin.get("/dashboard/audit")).text
        assert "<td>apikey create</td>" in everything


async def test_the_session_secret_is_made_once_private_and_never_logged(
        api: Api, config: Config, caplog: pytest.LogCaptureFixture) -> None:
    path = config.data_dir / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_bytes()
    assert session_secret("", config.data_dir) == secret and len(secret) >= 32
    assert session_secret("c" * 40, config.data_dir) == b"c" * 40
    caplog.set_level(logging.DEBUG)
    key = await api.key(ALICE)
    async with visitor(api) as alice:
        await alice.sign_in("vb-wrong-key-shown-nowhere")
        await alice.sign_in(key)
        await alice.get("/dashboard/queue")
    for text in (secret.decode(), key, "vb-wrong-key-shown-nowhere"):
        assert text not in caplog.text
