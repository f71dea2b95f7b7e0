"""The console's previews: while a clip renders, the path of its latest preview (written into
the data folder) is printed under the progress, at most one every few seconds per job; on
SQLite and PostgreSQL (where the preview travels in the database), with a real worker
rendering a tiny Wan pipeline with `preview_every_steps = 1`."""

from __future__ import annotations

import asyncio
import io
import itertools
import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.adapters.console import ConsoleAdapter
from bot.adapters.console_previews import ConsolePreviews
from bot.core.commands import Core
from bot.delivery import DeliveryLoop
from generator.backends.loader import ResidentBackend
from generator.backends.tiny_models import ensure_builtin_model
from generator.previews import preview_image
from generator.worker import Worker
from storage.previews import PreviewStore
from storage.store import Store
from tests.dashboard_helpers import queued
from videobot.config import Config, config_from_dict
from videobot.users import UserRef

pytestmark = pytest.mark.timeout(120)
LINE = re.compile(r"Job #(\d+): step (\d+)/(\d+), preview: (\S+)$")
ALICE = UserRef("console", "alice", "alice")


@pytest.fixture(scope="module")
def tiny_wan(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return ensure_builtin_model("tiny-wan", tmp_path_factory.mktemp("models"))


class Ticks:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_newer_preview_is_written_and_named_at_most_once_a_while(
        store: Store, config: Config) -> None:
    job = await queued(store, ALICE, "a red ball")
    claimed = await store.leases.claim_next_job("w1")
    assert claimed is not None
    previews = PreviewStore.of(store.context, config)
    ticks = Ticks()
    lines = ConsolePreviews(previews, folder=config.data_dir / "clips", every_s=3.0,
                            clock=ticks)
    assert await lines.line_for(await store.jobs.require(job.id)) is None  # none stored yet

    await previews.save(claimed.id, claimed.attempt,
                        preview_image(2, 8, np.full((2, 20, 30, 3), 200, np.uint8)))
    first = await lines.line_for(await store.jobs.require(job.id))
    assert first is not None
    found = LINE.match(first)
    assert found is not None and found.group(2, 3) == ("2", "8")
    written = Path(found.group(4))
    assert written.parent == config.data_dir / "clips"
    with Image.open(written) as image:
        assert (image.format, image.size) == ("JPEG", (60, 20))

    await previews.save(claimed.id, claimed.attempt,
                        preview_image(4, 8, np.full((2, 20, 30, 3), 40, np.uint8)))
    ticks.now += 2.9  # too soon after the last line
    assert await lines.line_for(await store.jobs.require(job.id)) is None
    ticks.now += 0.2
    second = await lines.line_for(await store.jobs.require(job.id))
    assert second is not None and "step 4/8" in second
    ticks.now += 10  # no newer preview: nothing to say
    assert await lines.line_for(await store.jobs.require(job.id)) is None
    # The first file stays as it was: each line names what it showed.
    with Image.open(written) as image:
        assert np.asarray(image).mean() > 180
    await store.leases.finish_failed(claimed.id, claimed.attempt, "stopped")
    assert await lines.line_for(await store.jobs.require(job.id)) is None  # over


async def test_the_console_prints_preview_paths_while_a_worker_renders(
        store: Store, config: Config, tiny_wan: Path) -> None:
    config = config_from_dict({
        "data_dir": str(config.data_dir), "default_preset": "wan",
        "database": {"url": config.database_url},
        # A small clip with a preview after each step, whose render still lasts several of
        # the worker's progress ticks (0.2 s; previews are stored on them) on a quiet machine.
        "presets": {"wan": {"model": str(tiny_wan), "family": "wan", "frames": 33,
                            "steps": 96, "max_steps": 96, "preview_every_steps": 1}},
        "quotas": {"credits": 100.0},
    })
    said: list[tuple[float, str]] = []
    console = ConsoleAdapter(
        core=Core(store=store, config=config), store=store, user_name="alice",
        stdin=io.StringIO("/video a red ball\n"),
        write=lambda text: said.append((time.monotonic(), text)), preview_every_s=0.5)
    delivery = DeliveryLoop(store=store, adapters={"console": console},
                            clips_dir=config.data_dir / "clips", poll_interval=0.05)
    resident = ResidentBackend(device="cpu", models_dir=config.data_dir / "models")
    worker = Worker(store=store, config=config, worker_id="w1", backends=resident,
                    clips_dir=config.data_dir / "clips")
    stop = asyncio.Event()
    tasks = [asyncio.create_task(delivery.run(stop)), asyncio.create_task(worker.run())]
    try:
        await asyncio.wait_for(console.run(), 90)
    finally:
        stop.set()
        worker.request_stop()
        await asyncio.gather(*tasks)
        resident.close()
    assert said[-1][1].startswith("Job #1 done: ")
    shown = [(at, LINE.match(text)) for at, text in said if LINE.match(text)]
    assert shown, [text for _, text in said]
    steps = [int(found.group(2)) for _, found in shown if found]
    assert steps == sorted(set(steps)) and all(1 <= step < 96 for step in steps)
    for _, found in shown:
        assert found is not None
        with Image.open(found.group(4)) as image:
            assert image.format == "JPEG"
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(shown)]
    assert all(gap >= 0.5 for gap in gaps), gaps
    print(f"{len(shown)} preview lines over {said[-1][0] - said[0][0]:.1f} s")
