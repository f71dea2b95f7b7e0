"""Describe jobs beside the HTTP API and the dashboard, on SQLite and PostgreSQL: the API
lists and reads videos only (a describe job is not one), and the dashboard's queue lists a
waiting describe job, labelled with what it describes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import openai
import pytest

from bot.core.commands import Core
from storage.store import Store
from tests.api_helpers import ALICE, Api, api_config, user
from tests.dashboard_helpers import queued, render_all, started_dashboard, visitor
from videobot.config import Config

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return api_config(tmp_path, database_url)


@pytest.fixture
async def api(store: Store, config: Config) -> AsyncIterator[Api]:
    async with started_dashboard(store, config) as started:
        yield started


async def test_the_api_shows_no_describe_job_and_the_queue_labels_it(
        api: Api, store: Store, config: Config) -> None:
    clip = await queued(store, user(ALICE), "a red ball moving to the left")
    assert await render_all(api) == 1
    answer = await Core(store=store, config=config).handle(user(ALICE), f"/describe {clip.id}")
    described = answer.job
    assert described is not None and described.describes

    client = api.client(await api.key(ALICE))
    assert [video.id async for video in await client.videos.list()] == [f"video_{clip.id}"]
    with pytest.raises(openai.NotFoundError):
        await client.videos.retrieve(f"video_{described.id}")

    async with visitor(api) as alice:
        await alice.sign_in(await api.key(ALICE))
        page = await alice.get("/dashboard/queue")
    assert page.status == 200
    assert f'<tr id="job-{described.id}"' in page.text
    assert f"a description of job #{clip.id}" in page.text
    assert f'/clips/{described.id}"' not in page.text  # no clip page to link to
