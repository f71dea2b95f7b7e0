"""Replies that say what happened: options a model ignores are neither applied nor charged
and are named; an aspect-ratio cap; cancels and history that tell the refund; counts in the
singular; progress without a step count for a model that has no steps."""

from __future__ import annotations

import dataclasses

import pytest

from bot.core import replies
from bot.core.commands import Core
from storage.admin import Stats
from storage.store import Store
from tests.conftest import FakeClock
from videobot.config import DEMO_PRESET, Config, ConfigError, config_from_dict
from videobot.costs import credit_cost
from videobot.users import UserRef

ALICE = UserRef("console", "alice")


@pytest.fixture
def core(store: Store, config: Config) -> Core:
    return Core(store=store, config=config)


async def test_options_the_demo_model_ignores_are_not_applied_charged_or_hidden(
    core: Core, store: Store
) -> None:
    plain = await core.handle(ALICE, "/video a red ball --preset demo --seed 3")
    asked = await core.handle(ALICE, "/video a red ball --preset demo --seed 3 --steps 50 "
                                     "--guidance 9 --negative blur --frames 32")
    assert plain.job is not None and asked.job is not None
    assert (plain.job.cost, asked.job.cost) == (1.0, 2.0)  # only --frames counts
    request = asked.job.request
    assert (request.steps, request.guidance, request.negative_prompt) == (4, 0.0, "")
    assert request.frames == 32
    assert ("Note: preset demo does not use --steps, --guidance, --negative: ignored, and not "
            "charged") in asked.text
    assert "--steps 50" not in asked.text and "50 steps" not in asked.text
    assert "does not use" not in plain.text
    # The buttons' reroll stores the request as rendered: nothing to note the second time.
    again = await core.rerun(ALICE, asked.job.id, new_seed=True)
    assert again.job is not None and "does not use" not in again.text


async def test_a_preset_declares_the_options_its_model_uses(store: Store,
                                                            config: Config) -> None:
    tiny = dataclasses.replace(config.presets["tiny"], used_options=("frames", "width",
                                                                     "height", "seed"))
    core = Core(store=store, config=dataclasses.replace(config, presets={"tiny": tiny}))
    reply = await core.handle(ALICE, "/video a kite --steps 8 --guidance 3")
    assert reply.job is not None and reply.job.cost == 1.0
    assert "preset tiny does not use --steps, --guidance" in reply.text
    # Where steps count (the default for diffusers), they are applied and charged.
    full = await Core(store=store, config=config).handle(ALICE, "/video a kite --steps 8")
    assert full.job is not None and (full.job.cost, full.job.request.steps) == (2.0, 8)
    assert "does not use" not in full.text


def test_cost_counts_only_what_the_model_uses() -> None:
    from videobot.params import RenderRequest

    base = RenderRequest(prompt="x", negative_prompt="", frames=16, fps=8, width=256,
                         height=256, steps=4, guidance=0.0, seed=1, preset="demo")
    assert credit_cost(base.replace(steps=50), DEMO_PRESET) == 1.0
    assert credit_cost(base.replace(width=512), DEMO_PRESET) == 2.0


@pytest.mark.parametrize(("size", "shape"), [("2000x16", "125:1"), ("16x2000", "1:125"),
                                             ("512x64", "8:1")])
async def test_the_aspect_ratio_is_capped_per_preset(core: Core, store: Store, size: str,
                                                     shape: str) -> None:
    width, height = size.split("x")
    reply = await core.handle(ALICE, f"/video a ball --preset demo --width {width} "
                                     f"--height {height}")
    assert reply.job is None
    assert reply.text == (f"Sorry: {size} has an aspect ratio of {shape}; preset demo allows "
                          "from 1:4 to 4:1.")
    assert await store.jobs.jobs_of(ALICE) == []
    wide = await core.handle(ALICE, "/video a ball --preset demo --width 256 --height 64")
    assert wide.job is not None  # 4:1 is allowed


@pytest.mark.parametrize(("table", "message"), [
    ("max_aspect_ratio = 0.5", "presets.p.max_aspect_ratio: must be 1 or more"),
    ("width = 512\nheight = 64", "presets.p.width: 512x64 is wider or taller than "
                                 "max_aspect_ratio (4:1)"),
    ('used_options = ["frames", "speed"]', "presets.p.used_options: unknown option 'speed'"),
])
def test_bad_shape_keys_name_the_key(table: str, message: str) -> None:
    import tomllib

    raw = tomllib.loads(f"default_preset = \"p\"\n[presets.p]\n{table}\n")
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config_from_dict(raw)


async def test_history_tells_refunds_and_counts_in_the_singular(core: Core) -> None:
    first = await core.handle(ALICE, "/video a kite --frames 32")
    assert first.job is not None
    history = (await core.handle(ALICE, "/history")).text.splitlines()
    assert history == ["Your last job:", f"  #{first.job.id} queued, 2 credits: a kite"]
    cancelled = await core.handle(ALICE, "/cancel")
    assert cancelled.text == f"Job #{first.job.id} cancelled; 2 credits refunded."
    history = (await core.handle(ALICE, "/history")).text.splitlines()
    assert history[1] == f"  #{first.job.id} cancelled, 2 credits refunded: a kite"


async def test_progress_counts_steps_only_for_models_that_have_them(
    core: Core, store: Store, clock: FakeClock
) -> None:
    demo = await core.handle(ALICE, "/video a red ball --preset demo")
    tiny = await core.handle(ALICE, "/video a red ball --preset tiny")
    assert demo.job is not None and tiny.job is not None
    for preset in ("demo", "tiny"):
        claimed = await store.leases.claim_next_job(f"w-{preset}", [preset])
        assert claimed is not None
        await store.leases.renew_lease(claimed.id, claimed.attempt, step=0, total=4)
    # Nothing reported yet: no bar stuck at "step 0/4 0%".
    status = (await core.handle(ALICE, f"/status {tiny.job.id}")).text
    assert status.splitlines()[0] == f"Job #{tiny.job.id}: rendering…"
    await store.leases.renew_lease(demo.job.id, 1, step=2, total=4)
    await store.leases.renew_lease(tiny.job.id, 1, step=2, total=4)
    clock.advance(1)
    assert (await core.handle(ALICE, f"/status {demo.job.id}")).text.splitlines()[0] == (
        f"Job #{demo.job.id}: rendering [#####-----] 50%, ETA 1 s")
    assert (await core.handle(ALICE, f"/status {tiny.job.id}")).text.splitlines()[0] == (
        f"Job #{tiny.job.id}: rendering [#####-----] step 2/4 50%, ETA 1 s")


def test_stats_say_render_time_and_counts_read_well() -> None:
    from datetime import timedelta

    stats = Stats(by_status={"succeeded": 2}, credits=2.0, gpu_seconds=1.5, top_users=[],
                  failure_rate=0.0, median_wait_s=None, median_render_s=None)
    report = replies.stats_report(stats, timedelta(hours=24))
    assert "render time: 1.5 s" in report and "GPU" not in report
    assert replies.banned("console:bob", 1) == ("console:bob is banned; 1 waiting job "
                                                "cancelled and refunded.")
