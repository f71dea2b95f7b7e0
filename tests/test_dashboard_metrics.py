"""`GET /metrics` on SQLite and PostgreSQL: who may read it (an admin key, an allow-listed
address, not a plain key nor a forwarded outsider), and its values against the database,
read back with prometheus-client's own parser."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from storage.db import read_transaction
from storage.models import Charge, Job
from storage.store import Store
from storage.workers import WorkerRegistry
from tests.api_helpers import ALICE, BOB, Api, api_config, user
from tests.conftest import FakeClock
from tests.dashboard_helpers import queued, render_all, request, started_dashboard
from videobot.config import Config

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    # The test client is 127.0.0.1, a trusted proxy here: what it forwards is believed.
    return api_config(tmp_path, database_url, quotas={"credits": 100},
                      api={"metrics_allow": ["10.1.0.0/16"], "trusted_proxies": ["127.0.0.1"]})


@pytest.fixture
async def api(store: Store, config: Config) -> AsyncIterator[Api]:
    async with started_dashboard(store, config) as started:
        yield started


async def scrape(api: Api, **headers: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(
            f"{api.root}/metrics", headers=headers) as answer:
        return answer.status, await answer.text()


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


async def test_metrics_need_an_admin_key_or_an_allowed_address(api: Api) -> None:
    status, text = await scrape(api)
    assert status == 401 and "admin API key" in text and "metrics_allow" in text
    status, _ = await scrape(api, Authorization=f"Bearer {await api.key(ALICE)}")
    assert status == 401
    status, _ = await scrape(api, Authorization="Bearer vb-unknown")
    assert status == 401
    status, _ = await scrape(api, Authorization=f"Bearer {await api.key('shell:ops', admin=True)}")
    assert status == 200
    status, _ = await scrape(api, **{"X-Forwarded-For": "10.1.2.3"})
    assert status == 200
    # The nearest address that is not a trusted proxy counts, not one a client wrote first.
    status, _ = await scrape(api, **{"X-Forwarded-For": "10.1.2.3, 203.0.113.9"})
    assert status == 401


async def test_metrics_values_match_the_database(
        api: Api, store: Store, clock: FakeClock) -> None:
    enqueue = store.submissions.enqueue
    await enqueue(user(ALICE), request("a red ball moving left"), max_queued_per_user=9,
                  cost=2.0)
    await enqueue(user(BOB), request("a blue box moving up"), max_queued_per_user=9,
                  cost=1.0)
    assert await render_all(api) == 2
    cancelled = await queued(store, user(BOB), "a green triangle")
    await store.cancels.request(cancelled.id, None)
    await queued(store, user(ALICE), "a white circle")
    registry = WorkerRegistry(store.engine, clock=store.clock)
    await registry.register(worker_id="w", host="h", pid=1, device="cpu", presets=["demo"],
                            version="1")
    admin = await api.key("shell:ops", admin=True)
    status, text = await scrape(api, Authorization=f"Bearer {admin}")
    assert status == 200
    found = samples(text)
    async with read_transaction(store.engine) as conn:
        by_status = dict((await conn.execute(select(Job.status, func.count())
                                             .group_by(Job.status))).all())
        charged = await conn.scalar(select(func.sum(Charge.credits)))
        renders = (await conn.execute(select(Job.render_seconds)
                                      .where(Job.render_seconds.is_not(None)))).scalars().all()
    for state in ("queued", "running", "succeeded", "failed", "cancelled"):
        assert found[("videobot_jobs", (("state", state),))] == by_status.get(state, 0)
    assert found[("videobot_queue_length", ())] == by_status["queued"] == 1
    assert found[("videobot_workers_alive", ())] == 1
    assert found[("videobot_webhook_backlog", ())] == 0
    assert found[("videobot_credits_charged_total", ())] == charged == 3.0
    assert found[("videobot_credits_refunded_total", ())] == 0.0
    assert found[("videobot_credits_spent", ())] == 3.0
    assert found[("videobot_render_seconds_count", (("preset", "demo"),))] == len(renders) == 2
    assert found[("videobot_render_seconds_sum", (("preset", "demo"),))] == pytest.approx(
        sum(renders))
    assert found[("videobot_render_seconds_bucket", (("le", "+Inf"), ("preset", "demo")))] == 2
    assert found[("videobot_render_seconds_bucket", (("le", "1800.0"), ("preset", "demo")))] == 2
