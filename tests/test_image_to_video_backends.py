"""Image to video on the real families' pipelines, tiny and random, built offline: the picture
reaches the pipeline as its `image=` at the request's size (seen by the pipeline's own video
processor, swapped for a recording subclass), changes the clip, and is refused or required as
each family says. One renders through a real worker process."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from diffusers.video_processor import VideoProcessor
from PIL import Image

from bot.core.commands import Core
from bot.core.parsing import VideoOptions
from generator.backends.base import GenerationFailed
from generator.backends.diffusers_backend import DiffusersBackend
from generator.backends.image_pipelines import PICTURE_NEEDED
from storage.connect import close_store, open_store
from storage.models import JobStatus
from tests.processes import videobot
from videobot.config import PresetConfig, load_config
from videobot.params import RenderRequest
from videobot.users import parse_user

pytestmark = pytest.mark.timeout(240)

#: builtin -> (family, pipeline class that animates the picture, frames, width, height): a
#: size that is not square, so that a swapped width and height would show.
I2V = {
    "tiny-wan22": ("wan-5b", "WanImageToVideoPipeline", 5, 64, 32),
    "tiny-ltx": ("ltx", "LTXImageToVideoPipeline", 9, 64, 32),
    "tiny-wan-i2v": ("wan-i2v", "WanImageToVideoPipeline", 5, 48, 32),
    # Its learned position embeddings make it render one size only, as the real one.
    "tiny-cogvideox-i2v": ("cogvideox-i2v", "CogVideoXImageToVideoPipeline", 9, 64, 64),
    "tiny-hunyuan-i2v": ("hunyuan-i2v", "HunyuanVideoImageToVideoPipeline", 5, 48, 32),
}


class RecordingVideoProcessor(VideoProcessor):
    """The pipeline's video processor, keeping every picture it is asked to preprocess."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: list[tuple[Any, int | None, int | None]] = []

    def preprocess(self, image: Any, height: int | None = None, width: int | None = None,
                   *args: Any, **kwargs: Any) -> Any:
        self.seen.append((image, height, width))
        return super().preprocess(image, height, width, *args, **kwargs)


def request(name: str, seed: int = 1) -> RenderRequest:
    _family, _class, frames, width, height = I2V[name]
    return RenderRequest(prompt="a red ball rolling", negative_prompt="", frames=frames, fps=8,
                         width=width, height=height, steps=2, guidance=5.0, seed=seed,
                         preset="tiny")


def picture(width: int, height: int, left: int = 255) -> np.ndarray:
    """A picture whose left half is `left` grey and right half black."""
    image = np.zeros((height, width, 3), np.uint8)
    image[:, : width // 2] = left
    return image


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@dataclass
class Loaded:
    name: str
    backend: DiffusersBackend


@pytest.fixture(scope="module", params=sorted(I2V))
def loaded(request: pytest.FixtureRequest, models_dir: Path) -> Iterator[Loaded]:
    preset = PresetConfig(model=f"builtin:{request.param}")
    backend = DiffusersBackend.load(preset, device="cpu", models_dir=models_dir)
    yield Loaded(request.param, backend)
    backend.close()


def recording(backend: DiffusersBackend) -> RecordingVideoProcessor:
    """Swap the image pipeline's video processor for a recording one of the same settings."""
    pipe = backend.image_pipeline()
    processor = RecordingVideoProcessor(**pipe.video_processor.config)
    pipe.video_processor = processor
    return processor


def test_the_family_and_pipeline_of_each_model(loaded: Loaded) -> None:
    family, pipeline, *_ = I2V[loaded.name]
    backend = loaded.backend
    assert backend.family.name == family
    assert type(backend.image_pipeline()).__name__ == pipeline


def test_the_picture_reaches_the_pipeline_at_the_requests_size(loaded: Loaded) -> None:
    ask, backend = request(loaded.name), loaded.backend
    given = picture(ask.width, ask.height)
    processor = recording(backend)
    steps: list[tuple[int, int]] = []

    clip = backend.generate(ask, lambda s, t: steps.append((s, t)), lambda: False, image=given)

    assert clip.shape == (ask.frames, ask.height, ask.width, 3)
    assert steps == [(1, 2), (2, 2)]
    image, height, width = processor.seen[0]
    assert isinstance(image, Image.Image)
    assert (image.size, height, width) == ((ask.width, ask.height), ask.height, ask.width)
    assert np.array_equal(np.asarray(image), given)


def test_another_picture_makes_another_clip(loaded: Loaded) -> None:
    ask, backend = request(loaded.name), loaded.backend
    bright = backend.generate(ask, lambda s, t: None, lambda: False,
                              image=picture(ask.width, ask.height))
    again = backend.generate(ask, lambda s, t: None, lambda: False,
                             image=picture(ask.width, ask.height))
    dark = backend.generate(ask, lambda s, t: None, lambda: False,
                            image=picture(ask.width, ask.height, left=40))
    assert np.array_equal(bright, again)
    assert not np.array_equal(bright, dark)


def test_an_image_to_video_model_needs_a_picture(loaded: Loaded) -> None:
    ask, backend = request(loaded.name), loaded.backend
    if backend.family.image == "optional":  # one model for both: text alone renders
        assert backend.generate(ask, lambda s, t: None, lambda: False).shape[0] == ask.frames
        return
    steps: list[tuple[int, int]] = []
    with pytest.raises(GenerationFailed) as refused:
        backend.generate(ask, lambda s, t: steps.append((s, t)), lambda: False)
    assert (refused.value.reason, steps) == (PICTURE_NEEDED, [])


def test_a_one_size_model_refuses_another_size_before_any_step(models_dir: Path) -> None:
    backend = DiffusersBackend.load(PresetConfig(model="builtin:tiny-cogvideox-i2v"),
                                    device="cpu", models_dir=models_dir)
    ask = request("tiny-cogvideox-i2v").replace(width=96)
    with pytest.raises(GenerationFailed) as refused:
        backend.generate(ask, lambda s, t: None, lambda: False, image=picture(96, 64))
    assert refused.value.reason == ("this model renders only 64x64 clips; ask for --width 64 "
                                    "--height 64")


def png(image: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="PNG")
    return out.getvalue()


async def test_an_image_to_video_preset_renders_through_a_worker_process(
    tmp_path: Path
) -> None:
    data, config_path = tmp_path / "data", tmp_path / "config.toml"
    config_path.write_text('default_preset = "animate"\n[worker]\nwarm_up = true\n'
                           '[presets.animate]\nmodel = "builtin:tiny-wan-i2v"\n'
                           "frames = 5\nwidth = 48\nheight = 32\nsteps = 2\n")
    config = load_config(config_path, data_dir=data)
    store = await open_store(config)
    try:
        submitted = await Core(store=store, config=config).submit_video(
            parse_user("console:alice"), VideoOptions("a red ball rolling", {"seed": 3}),
            image=png(picture(48, 32)))
    finally:
        await close_store(store)

    burst = await asyncio.to_thread(videobot, "worker", "--burst", data_dir=data,
                                    config=config_path)
    assert burst.returncode == 0, burst.stderr

    store = await open_store(config)
    try:
        job = await store.jobs.require(submitted.job.id)
    finally:
        await close_store(store)
    assert job.status == JobStatus.SUCCEEDED, job.error
    assert job.clip is not None
    with av.open(job.clip.video_path) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert (frames, stream.width, stream.height) == (5, 48, 32)


@pytest.mark.parametrize("name", ["tiny-wan-i2v", "tiny-cogvideox-i2v", "tiny-hunyuan-i2v"])
def test_previews_of_an_image_to_video_model_use_its_text_kins_factors(
    models_dir: Path, name: str
) -> None:
    preset = PresetConfig(model=f"builtin:{name}", preview_every_steps=1)
    backend = DiffusersBackend.load(preset, device="cpu", models_dir=models_dir)
    ask = request(name)
    previews: list[tuple[int, int, int]] = []
    backend.generate(ask.replace(steps=3), lambda s, t: None, lambda: False,
                     image=picture(ask.width, ask.height),
                     on_preview=lambda step, total, frames: previews.append(
                         (step, total, frames.shape[-1])))
    assert previews == [(1, 3, 3), (2, 3, 3)]  # RGB frames after each step but the last
