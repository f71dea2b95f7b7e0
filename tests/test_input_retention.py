"""Images sent with requests are stored with their job like a clip (a file on SQLite, bytes in
the database on PostgreSQL) and deleted by retention with the clips; the row stays, saying the
job had a picture that is gone (a rerun must not quietly render from the text alone)."""

from __future__ import annotations

from pathlib import Path

from storage.inputs import JobImage, input_image, job_image, prepare_input
from storage.retention import prune_clips
from storage.store import Store
from tests.conftest import FakeClock
from videobot.config import Config
from videobot.params import RenderRequest
from videobot.users import UserRef

REQUEST = RenderRequest(prompt="a red ball", negative_prompt="", frames=8, fps=8, width=64,
                        height=64, steps=2, guidance=0.0, seed=1, preset="tiny")


async def test_an_input_image_lives_as_long_as_clips_do(store: Store, config: Config,
                                                        clock: FakeClock) -> None:
    in_database = config.storage.clips_in_database(config.database_url)
    folder = config.data_dir / "inputs"
    stored = await prepare_input(b"\x89PNG fitted", width=64, height=64, folder=folder,
                                 in_database=in_database)
    job = (await store.submissions.submit(UserRef("console", "alice"), REQUEST,
                                          max_queued_per_user=3, input_image=stored)).job
    assert await input_image(store.engine, job.id) == b"\x89PNG fitted"
    files = list(folder.glob("*.png")) if folder.exists() else []
    assert len(files) == (0 if in_database else 1)

    clock.advance(6 * 86400)
    report = await prune_clips(store.context, keep_days=7, drop_delivered_hours=0,
                               clips_dir=config.data_dir / "clips")
    assert report.input_rows == 0 and await input_image(store.engine, job.id) is not None
    clock.advance(2 * 86400)
    report = await prune_clips(store.context, keep_days=7, drop_delivered_hours=0,
                               clips_dir=config.data_dir / "clips")
    assert report.input_rows == 1 and await input_image(store.engine, job.id) is None
    assert await job_image(store.engine, job.id) == JobImage(None, 64, 64)
    assert not any(Path(f).exists() for f in files)
    clock.advance(86400)  # removed once: a later pass finds nothing more to remove
    report = await prune_clips(store.context, keep_days=7, drop_delivered_hours=0,
                               clips_dir=config.data_dir / "clips")
    assert report.input_rows == 0
