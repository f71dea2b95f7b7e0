"""A model that renders one size only (CogVideoX-5b-I2V: 720x480; the tiny random one: 64x64):
a request of another size is set to that size, with a note, before it is queued, in chat and
over the HTTP API, so that the worker never gets a size it must fail."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.core.attachments import AttachedImage
from bot.core.commands import Core
from storage.inputs import input_image
from storage.store import Store
from tests.api_helpers import ALICE, Api, api_config
from videobot.config import Config, ConfigError, PresetConfig, config_from_dict
from videobot.one_size import fixed_size
from videobot.users import parse_user

pytestmark = pytest.mark.timeout(120)

#: The real CogVideoX-5b-I2V as config.example.toml ships it (no worker loads it here: its
#: jobs wait), and the tiny random one.
PRESETS: dict[str, Any] = {
    "cogi2v": {"model": "THUDM/CogVideoX-5b-I2V", "family": "cogvideox-i2v", "frames": 49,
               "width": 720, "height": 480, "max_frames": 49, "max_pixels": 345600},
    "tinyi2v": {"model": "builtin:tiny-cogvideox-i2v", "frames": 9, "width": 64,
                "height": 64},
}


@pytest.mark.parametrize(("preset", "size"), [
    (PresetConfig(model="THUDM/CogVideoX-5b-I2V", family="cogvideox-i2v"), (720, 480)),
    (PresetConfig(model="builtin:tiny-cogvideox-i2v"), (64, 64)),
    (PresetConfig(model="org/cogvideox", family="cogvideox"), None),
    (PresetConfig(model="builtin:tiny-wan-i2v"), None),
    (PresetConfig(name="demo", backend="demo", model="builtin:demo"), None),
])
def test_which_presets_render_one_size(preset: PresetConfig,
                                       size: tuple[int, int] | None) -> None:
    assert fixed_size(preset) == size


def test_a_one_size_preset_configured_at_another_size_is_refused_at_load() -> None:
    with pytest.raises(ConfigError) as refused:
        config_from_dict({"default_preset": "cog", "presets": {"cog": {
            **PRESETS["cogi2v"], "width": 512, "height": 512}}})
    assert str(refused.value) == ("presets.cog.width: the preset's model renders 720x480 only; "
                                  "set width = 720 and height = 480")
    assert config_from_dict({"default_preset": "cog", "presets": {"cog": PRESETS["cogi2v"]}})


def png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return api_config(tmp_path, database_url, presets=PRESETS, default_preset="tinyi2v")


async def test_chat_sets_another_size_to_the_models_own_before_queuing(
    store: Store, config: Config
) -> None:
    core = Core(store=store, config=config)
    picture = AttachedImage(fetch=lambda: _ready(png(512, 512)))
    reply = await core.handle(parse_user(ALICE), "/video a cat wakes up --preset cogi2v "
                              "--width 512 --height 512", image=picture)
    assert reply.job is not None and not reply.refused
    assert "size 512x512 set to 720x480 (the preset cogi2v renders 720x480 only)" in reply.text
    job = await store.jobs.require(reply.job.id)
    assert (job.request.width, job.request.height) == (720, 480)
    assert "size 512x512 set to 720x480 (the preset cogi2v renders 720x480 only)" in job.notes
    stored = await input_image(store.engine, job.id)  # the picture fitted to the right size
    assert stored is not None
    with Image.open(io.BytesIO(stored)) as image:
        assert image.size == (720, 480)


async def test_the_models_own_size_asked_gets_no_note(store: Store, config: Config) -> None:
    core = Core(store=store, config=config)
    picture = AttachedImage(fetch=lambda: _ready(png(64, 64)))
    reply = await core.handle(parse_user(ALICE), "/video a cat --preset tinyi2v",
                              image=picture)
    assert reply.job is not None and "set to" not in reply.text
    assert (reply.job.request.width, reply.job.request.height) == (64, 64)


async def test_the_api_sets_another_size_to_the_models_own_before_queuing(api: Api) -> None:
    client = api.client(await api.key())
    video = await client.videos.create(prompt="a cat wakes up", model="tinyi2v", size="96x48",
                                       input_reference=("cat.png", png(96, 48), "image/png"))
    assert (video.status, video.size) == ("queued", "64x64")
    assert "size 96x48 set to 64x64 (the preset tinyi2v renders 64x64 only)" in (
        video.model_extra or {})["notes"]
    job = await api.store.jobs.require(int(video.id.removeprefix("video_")))
    assert (job.request.width, job.request.height) == (64, 64)
    assert await api.jobs() == 1


async def _ready(data: bytes) -> bytes:
    return data
