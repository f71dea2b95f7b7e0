"""Which preview a chat's status message shows and when (`StatusPreviews`), on SQLite and
PostgreSQL, with previews saved as a worker saves them."""

from __future__ import annotations

import numpy as np

from bot.adapters.status_previews import StatusPreviews
from generator.previews import preview_image
from storage.previews import PreviewStore
from storage.store import Store
from tests.dashboard_helpers import queued
from videobot.config import Config
from videobot.users import UserRef

ALICE = UserRef("telegram", "1001", "Alice")


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_newer_preview_is_due_at_most_once_a_while(store: Store,
                                                           config: Config) -> None:
    job = await queued(store, ALICE, "a red ball")
    previews = PreviewStore.of(store.context, config)
    ticks = Ticks()
    pictures = StatusPreviews(previews, every_s=5.0, clock=ticks)
    assert await pictures.due(job) is None  # queued: nothing to show
    claimed = await store.leases.claim_next_job("w1")
    assert claimed is not None
    running = await store.jobs.require(job.id)
    assert await pictures.due(running) is None  # no preview stored yet

    await previews.save(claimed.id, claimed.attempt,
                        preview_image(2, 8, np.full((2, 20, 30, 3), 200, np.uint8)))
    first = await pictures.due(running)
    assert first is not None and first.step == 2
    assert await pictures.due(running) is not None  # not taken yet: still due
    pictures.shown(first)
    assert pictures.last_shown(job.id) == first

    await previews.save(claimed.id, claimed.attempt,
                        preview_image(4, 8, np.full((2, 20, 30, 3), 40, np.uint8)))
    ticks.now += 4.9  # the last picture changed too recently
    assert await pictures.due(running) is None
    ticks.now += 0.2
    second = await pictures.due(running)
    assert second is not None and second.step == 4 and second.jpeg != first.jpeg
    pictures.shown(second)
    ticks.now += 60  # nothing newer: nothing due
    assert await pictures.due(running) is None

    await store.leases.finish_failed(claimed.id, claimed.attempt, "stopped")
    assert await pictures.due(await store.jobs.require(job.id)) is None  # over
    pictures.forget(job.id)
    assert pictures.last_shown(job.id) is None
