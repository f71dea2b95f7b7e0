"""The rules of /extend, through the real core and store (SQLite and PostgreSQL) with clips
rendered by an in-process worker (the fast stand-in model): a clip grows until its preset's
`max_seconds`, a text-only preset is refused with the presets that can, and every other
refusal names the problem and queues nothing. The demo model's own extension is judged in
tests/test_extend_jobs.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.core import replies
from bot.core.commands import Core
from generator.extending import source_gone
from storage.errors import JobNotFound
from storage.models import JobStatus
from storage.records import JobRecord
from storage.store import Store
from tests.backends import StripesBackend, stand_in_worker
from videobot.config import Config, ConfigError, config_from_dict
from videobot.media.frames import read_frames
from videobot.users import parse_user

ALICE, BOB = parse_user("console:alice"), parse_user("console:bob")
DEMO = {"backend": "demo", "model": "builtin:demo", "family": "demo", "width": 64,
        "height": 64, "guidance": 0.0}


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return config_from_dict({
        "data_dir": str(tmp_path / "data"), "default_preset": "demo",
        "database": {"url": database_url}, "limits": {"max_queued_per_user": 10},
        "worker": {"switch_presets": True, "switch_after_seconds": 0},
        "presets": {"demo": DEMO, "short": {**DEMO, "max_seconds": 3.0}, "tiny": {}},
    })


@pytest.fixture
def core(store: Store, config: Config) -> Core:
    return Core(store=store, config=config)


async def render(store: Store, config: Config) -> None:
    await stand_in_worker(store, config, StripesBackend()).run(burst=True)


async def queued(core: Core, line: str, user: str = "console:alice") -> JobRecord:
    reply = await core.handle(parse_user(user), line)
    assert reply.job is not None, reply.text
    return reply.job


async def refused(core: Core, line: str, user: str = "console:alice") -> str:
    """The refusal of `line`, having checked that it queued nothing."""
    before = len(await core.store.jobs.active_jobs())
    reply = await core.handle(parse_user(user), line)
    assert reply.job is None and reply.refused, reply.text
    assert len(await core.store.jobs.active_jobs()) == before
    return reply.text


async def finished(core: Core, config: Config, line: str) -> JobRecord:
    job = await queued(core, line)
    await render(core.store, config)
    done = await core.store.jobs.require(job.id)
    assert done.status == JobStatus.SUCCEEDED, done.error
    return done


async def test_a_clip_grows_until_its_presets_max_seconds(core: Core, config: Config) -> None:
    job = await finished(core, config, "/video a red ball moving right --seed 3")
    lengths = []
    for _ in range(3):  # 2 s, then 15 frames (1.875 s) more each time: 7.6 s of the 8 allowed
        extension = await finished(core, config, "/extend")
        assert extension.extends == job.id
        assert extension.clip is not None and job.clip is not None
        if not job.clip.in_database:
            before, after = read_frames(job.clip.video_path), read_frames(
                extension.clip.video_path)
            assert np.abs(after[:len(before)].astype(int) - before.astype(int)).mean() < 3
        job = extension
        lengths.append(job.clip.frames if job.clip else 0)
    assert lengths == [31, 46, 61]
    assert await refused(core, "/extend") == "Sorry: " + replies.extend_too_long(
        job.id, 61 / 8, 15 / 8, 8.0, "demo") + "."
    assert await refused(core, "/extend") == (
        f"Sorry: job #{job.id}'s clip is 7.6 s long; 1.9 s more would pass the 8 s that clips "
        "of the preset demo may reach.")

    short = await finished(core, config, "/video a red ball moving right --preset short")
    assert "the 3 s that clips of the preset short" in await refused(core, f"/extend {short.id}")


async def test_a_text_only_preset_is_refused_naming_the_presets_that_can(
    core: Core, config: Config
) -> None:
    job = await finished(core, config, "/video a kite --preset tiny --frames 8")
    assert await refused(core, f"/extend {job.id}") == (
        "Sorry: the preset tiny makes clips from text only and cannot continue one; the "
        "presets that can extend a clip: demo, short.")


async def test_an_extension_keeps_the_settings_and_takes_a_new_prompt(
    core: Core, config: Config
) -> None:
    source = await finished(core, config, "/video a red ball moving right --seed 9 --frames 8")
    job = await queued(core, f"/extend #{source.id} and now it falls")
    assert job.request.prompt == "and now it falls"
    assert job.request.replace(prompt="", frames=8) == source.request.replace(prompt="")
    assert job.request.frames == 16  # the preset's length is what is added, and charged
    assert job.cost == (await queued(core, "/video x --seed 9")).cost
    await render(core.store, config)
    done = await core.store.jobs.require(job.id)
    assert done.clip is not None and done.clip.frames == 8 + 15
    assert replies.extends_line(source.id) in replies.caption(done)


async def test_what_cannot_be_extended_is_refused_with_the_reason(
    core: Core, config: Config
) -> None:
    assert await refused(core, "/extend") == f"Sorry: {replies.NO_CLIP_TO_EXTEND}."
    waiting = await queued(core, "/video a red ball")
    assert await refused(core, f"/extend {waiting.id}") == (
        f"Sorry: job #{waiting.id} has no clip to extend (it is queued).")
    assert await refused(core, "/extend") == f"Sorry: {replies.NO_CLIP_TO_EXTEND}."
    await render(core.store, config)
    assert await refused(core, f"/extend {waiting.id}", "console:bob") == (
        f"Sorry: job #{waiting.id} belongs to someone else.")
    assert await refused(core, "/extend 99") == (
        f"Sorry: {replies.store_refusal(JobNotFound(99))}.")
    assert await refused(core, "/extend #x") == f"Sorry: {replies.extend_bad_job('#x')}."
    clip = (await core.store.jobs.require(waiting.id)).clip
    assert clip is not None
    if clip.in_database:
        return  # a clip kept in the database does not go missing by itself
    clip.video_path.unlink()
    assert await refused(core, f"/extend {waiting.id}") == (
        f"Sorry: {replies.clip_gone(waiting.id)}.")


async def test_the_worker_fails_an_extension_whose_clip_went_missing(
    core: Core, config: Config
) -> None:
    source = await finished(core, config, "/video a red ball")
    assert source.clip is not None
    if source.clip.in_database:
        pytest.skip("a clip kept in the database does not go missing by itself")
    job = await queued(core, "/extend")
    source.clip.video_path.unlink()
    await render(core.store, config)
    failed = await core.store.jobs.require(job.id)
    assert (failed.status, failed.error) == (JobStatus.FAILED, source_gone(source.id))


@pytest.mark.parametrize("value", [-1.0, 1.5, 2.0])
def test_a_max_seconds_no_clip_could_grow_to_is_refused_naming_the_key(
    tmp_path: Path, value: float
) -> None:
    with pytest.raises(ConfigError) as refused:
        config_from_dict({"data_dir": str(tmp_path), "default_preset": "demo",
                          "presets": {"demo": {**DEMO, "max_seconds": value}}})
    assert str(refused.value) == (
        "presets.demo.max_seconds: must be 0 (four times the clip) or longer than the "
        f"preset's clip (2 s), not {value:g}")


async def test_reroll_and_same_seed_on_an_extension_extend_its_source_again(
    core: Core, config: Config
) -> None:
    source = await finished(core, config, "/video a red ball moving right --seed 4")
    extension = await finished(core, config, f"/extend {source.id} now faster")
    for new_seed in (False, True):
        reply = await core.rerun(ALICE, extension.id, new_seed=new_seed)
        assert reply.job is not None, reply.text
        again = reply.job
        assert (again.extends, again.request.prompt) == (source.id, "now faster")
        assert (again.request.seed == 4) is not new_seed
        assert again.request.replace(seed=4) == extension.request
    assert (await core.rerun(BOB, extension.id, new_seed=True)).text == (
        f"Sorry: job #{extension.id} belongs to someone else.")
