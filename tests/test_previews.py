"""Previews of a clip forming: made from the latents of each family's tiny pipeline with the
family's published factors (no VAE call), stored with the job's progress by the attempt that
holds it, read back as "the latest preview of job N", and removed by retention."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from generator.backends.diffusers_backend import DiffusersBackend
from generator.backends.latent_preview import PREVIEW_FRAMES, PREVIEW_SIDE, vae_latent_channels
from generator.backends.latent_rgb import BY_FAMILY
from generator.backends.loader import ResidentBackend
from generator.backends.tiny_models import ensure_builtin_model
from generator.previews import preview_image
from generator.worker import Worker
from storage.errors import LeaseLost
from storage.previews import PreviewStore
from storage.retention import prune_clips
from storage.store import Store
from tests.conftest import FakeClock
from videobot.config import Config, PresetConfig, config_from_dict
from videobot.params import RenderRequest
from videobot.users import UserRef

#: builtin -> (family, frames that fit it)
FAMILIES = {
    "tiny-wan": ("wan", 9),
    "tiny-wan22": ("wan-5b", 9),
    "tiny-ltx": ("ltx", 17),
    "tiny-cogvideox": ("cogvideox", 17),
    "tiny-hunyuan": ("hunyuan", 9),
    "tiny-text-to-video-sd": ("text-to-video-sd", 8),
    "tiny-animatediff": ("animatediff", 8),
}


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    for name in FAMILIES:
        ensure_builtin_model(name, folder)
    return folder


def render_with_previews(backend: DiffusersBackend, frames: int,
                         steps: int = 4) -> list[tuple[int, int, np.ndarray]]:
    previews: list[tuple[int, int, np.ndarray]] = []
    request = RenderRequest(prompt="a red ball", negative_prompt="", frames=frames, fps=8,
                            width=96, height=64, steps=steps, guidance=5.0, seed=3,
                            preset="p")
    backend.generate(request, lambda _s, _t: None, lambda: False,
                     on_preview=lambda step, total, shown: previews.append((step, total, shown)))
    return previews


@pytest.mark.parametrize("model", sorted(FAMILIES))
def test_each_family_previews_its_latents_at_a_small_size_as_they_change(
    models_dir: Path, model: str
) -> None:
    family, frames = FAMILIES[model]
    preset = PresetConfig(model=str(models_dir / model), family=family, preview_every_steps=1)
    backend = DiffusersBackend.load(preset, device="cpu", models_dir=models_dir)
    assert backend.renders_previews
    assert vae_latent_channels(backend.pipe) == BY_FAMILY[family].channels
    previews = render_with_previews(backend, frames)
    # After steps 1, 2 and 3 of 4 (the clip itself follows the last).
    assert [(step, total) for step, total, _ in previews] == [(1, 4), (2, 4), (3, 4)]
    for _, _, shown in previews:
        count, height, width, channels = shown.shape
        assert shown.dtype == np.uint8 and channels == 3
        assert 1 <= count <= PREVIEW_FRAMES
        # The clip's 3:2 shape, its longer side PREVIEW_SIDE pixels.
        assert (width, height) == (PREVIEW_SIDE, round(PREVIEW_SIDE * 64 / 96))
    first, last = previews[0][2], previews[-1][2]
    assert np.abs(first.astype(int) - last.astype(int)).mean() > 0.5


def test_previews_every_few_steps_and_none_without_a_listener(models_dir: Path) -> None:
    preset = PresetConfig(model=str(models_dir / "tiny-wan"), family="wan",
                          preview_every_steps=2)
    backend = DiffusersBackend.load(preset, device="cpu", models_dir=models_dir)
    assert [step for step, _, _ in render_with_previews(backend, 5, steps=7)] == [2, 4, 6]
    plain = DiffusersBackend.load(PresetConfig(model=str(models_dir / "tiny-wan")),
                                  device="cpu", models_dir=models_dir)
    assert not plain.renders_previews


def test_factors_that_do_not_fit_the_model_are_refused_at_load(models_dir: Path) -> None:
    # Wan 2.2 5B's 48-channel VAE under the Wan 2.1 family: a wrong family, said so.
    wrong = PresetConfig(name="w", model=str(models_dir / "tiny-wan22"), family="wan",
                         preview_every_steps=1)
    with pytest.raises(ValueError, match=r"preset w: preview_every_steps: the wan family's "
                                         r"factors are for 16 latent channels.*has 48"):
        DiffusersBackend.load(wrong, device="cpu", models_dir=models_dir)
    generic = PresetConfig(name="g", model=str(models_dir / "tiny-wan"), family="generic",
                           preview_every_steps=1)
    with pytest.raises(ValueError, match="no published latent-to-RGB factors for the family "
                                         "generic"):
        DiffusersBackend.load(generic, device="cpu", models_dir=models_dir)


def test_the_preview_is_one_jpeg_of_the_frames_side_by_side() -> None:
    frames = np.zeros((3, 90, 160, 3), np.uint8)
    frames[1] = 255
    image = preview_image(2, 10, frames)
    assert (image.step, image.total, image.frames) == (2, 10, 3)
    decoded = Image.open(io.BytesIO(image.jpeg))
    assert decoded.format == "JPEG" and decoded.size == (image.width, image.height) == (480, 90)
    middle = np.asarray(decoded)[:, 160:320].mean()
    assert middle > 240 and np.asarray(decoded)[:, :160].mean() < 15


ALICE = UserRef("console", "alice")


def request(**changes: Any) -> RenderRequest:
    return RenderRequest(prompt="a red ball", negative_prompt="", frames=9, fps=8, width=32,
                         height=32, steps=6, guidance=5.0, seed=1,
                         preset="wan").replace(**changes)


def preview_store(store: Store, config: Config) -> PreviewStore:
    return PreviewStore(store.context, folder=config.data_dir / "clips",
                        in_database=config.storage.clips_in_database(config.database_url))


async def test_a_preview_is_fenced_by_its_attempt_and_read_back_as_the_latest(
    store: Store, config: Config, clock: FakeClock
) -> None:
    previews = preview_store(store, config)
    job = await store.submissions.enqueue(ALICE, request(preset="tiny"), max_queued_per_user=5)
    first = await store.leases.claim_next_job("w1")
    assert first is not None and await previews.latest(job.id) is None
    frames = np.full((2, 20, 30, 3), 100, np.uint8)
    await previews.save(job.id, first.attempt, preview_image(1, 6, frames))
    clock.advance(store.context.lease.total_seconds() + 1)
    second = await store.leases.claim_next_job("w2")
    assert second is not None and second.attempt == 2
    with pytest.raises(LeaseLost):
        await previews.save(job.id, first.attempt, preview_image(2, 6, frames))
    await previews.save(job.id, second.attempt, preview_image(4, 6, frames * 2))
    latest = await previews.latest(job.id)
    assert latest is not None
    assert (latest.attempt, latest.step, latest.total, latest.frames) == (2, 4, 6, 2)
    assert Image.open(io.BytesIO(latest.jpeg)).size == (60, 20)
    # An hour after the job finished, retention removes it (row and file).
    await store.leases.finish_failed(job.id, second.attempt, "stopped")
    clock.advance(2 * 3600)
    report = await prune_clips(store.context, keep_days=7, drop_delivered_hours=0,
                               clips_dir=config.data_dir / "clips")
    assert report.previews == 1 and await previews.latest(job.id) is None
    assert not list((config.data_dir / "clips").glob("*preview*"))


@pytest.fixture
def wan_config(config: Config, models_dir: Path) -> Config:
    return config_from_dict({
        "data_dir": str(config.data_dir), "default_preset": "wan",
        "database": {"url": config.database_url},
        "queue": {"heartbeat_seconds": 0.2, "lease_seconds": 30},
        "presets": {"wan": {"model": str(models_dir / "tiny-wan"), "family": "wan",
                            "preview_every_steps": 2, "max_frames": 64}},
    })


async def test_the_worker_stores_previews_while_it_renders(
    store: Store, wan_config: Config, models_dir: Path
) -> None:
    job = await store.submissions.enqueue(ALICE, request(steps=12, width=64, height=64, frames=17),
                                          max_queued_per_user=5)
    worker = Worker(store=store, config=wan_config, worker_id="w1",
                    backends=ResidentBackend(device="cpu", models_dir=models_dir),
                    clips_dir=wan_config.data_dir / "clips")
    assert await worker.run(burst=True) == 1
    assert (await store.jobs.require(job.id)).status == "succeeded"
    latest = await preview_store(store, wan_config).latest(job.id)
    # Previews after steps 2, 4, ... 10 of 12; the last one written stays until retention.
    assert latest is not None and latest.step in (2, 4, 6, 8, 10) and latest.total == 12
    image = Image.open(io.BytesIO(latest.jpeg))
    assert image.size == (latest.width, latest.height)
    assert latest.height == PREVIEW_SIDE and latest.width == latest.frames * PREVIEW_SIDE
