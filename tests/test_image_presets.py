"""Which presets take a picture: the `image` key of a preset (default: its family's), checked
at load; a request that does not fit (a picture to a text-only preset, none to an
image-to-video one) is refused before anything is written or queued, in chat and over the
HTTP API, with a reply that names the presets that would take it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openai
import pytest
from PIL import Image

from bot.core.commands import Core, Submission
from bot.core.errors import PictureRefused
from bot.core.parsing import VideoOptions
from storage.store import Store
from tests.api_helpers import ALICE, Api, api_config
from videobot.config import Config, ConfigError, PresetConfig, config_from_dict
from videobot.image_presets import image_mode
from videobot.users import parse_user

pytestmark = pytest.mark.timeout(120)

#: The embedded presets (demo: optional; tiny: none) and an image-to-video one.
PRESETS: dict[str, Any] = {
    "demo": {"backend": "demo", "model": "builtin:demo", "width": 64, "height": 64},
    "tiny": {},
    "animate": {"model": "builtin:tiny-wan-i2v", "frames": 5, "width": 48, "height": 32},
}
TEXT_ONLY = ("Sorry: the preset tiny makes videos from text only, not from a picture; presets "
             "that animate a picture: animate, demo.")
NEEDS_ONE = ("Sorry: the preset animate animates a picture: send one with the prompt; presets "
             "that render from text alone: demo, tiny.")


@pytest.mark.parametrize(("preset", "mode"), [
    (PresetConfig(name="demo", backend="demo", model="builtin:demo"), "optional"),
    (PresetConfig(), "none"),
    (PresetConfig(model="builtin:tiny-wan"), "none"),
    (PresetConfig(model="builtin:tiny-wan22"), "optional"),
    (PresetConfig(model="builtin:tiny-ltx"), "optional"),
    (PresetConfig(model="builtin:tiny-wan-i2v"), "required"),
    (PresetConfig(model="builtin:tiny-cogvideox-i2v"), "required"),
    (PresetConfig(model="org/some-i2v", family="hunyuan-i2v"), "required"),
    (PresetConfig(model="org/unknown"), "none"),
    (PresetConfig(model="org/unknown", image="required"), "required"),
    (PresetConfig(model="builtin:tiny-wan22", image="required"), "required"),
])
def test_a_presets_image_mode_defaults_to_its_familys(preset: PresetConfig, mode: str) -> None:
    assert image_mode(preset) == mode


@pytest.mark.parametrize(("preset", "error"), [
    ({"image": "sometimes"},
     "presets.x.image: must be one of auto, none, optional, required, not 'sometimes'"),
    ({"model": "builtin:tiny-wan", "image": "optional"},
     "presets.x.image: the wan family makes videos from text only; use none or auto"),
    ({"family": "cogvideox-i2v", "model": "org/cogvideox-i2v", "image": "optional"},
     "presets.x.image: the cogvideox-i2v family animates a picture and needs one with every "
     "clip; use required or auto"),
])
def test_a_wrong_image_key_is_refused_at_load(preset: dict[str, Any], error: str) -> None:
    with pytest.raises(ConfigError) as refused:
        config_from_dict({"default_preset": "x", "presets": {"x": preset}})
    assert str(refused.value) == error


def test_a_generic_pipeline_or_a_narrower_choice_loads() -> None:
    config = config_from_dict({"default_preset": "a", "presets": {
        "a": {"model": "org/unknown", "image": "required"},
        "b": {"model": "builtin:tiny-ltx", "image": "none"},
        "c": {"backend": "demo", "model": "builtin:demo", "width": 64, "height": 64,
              "image": "required"},
    }})
    assert [image_mode(config.presets[name]) for name in "abc"] == ["required", "none",
                                                                    "required"]


def png(width: int = 64, height: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def config(tmp_path: Path, database_url: str) -> Config:
    return api_config(tmp_path, database_url, presets=PRESETS)


def inputs(config: Config) -> list[Path]:
    folder = config.data_dir / "inputs"
    return sorted(folder.iterdir()) if folder.exists() else []


async def test_chat_refuses_a_missing_picture_naming_the_text_presets(
    store: Store, config: Config
) -> None:
    core = Core(store=store, config=config)
    alice = parse_user(ALICE)
    reply = await core.handle(alice, "/video a cat --preset animate")
    assert (reply.text, reply.refused) == (NEEDS_ONE, True)
    assert await store.jobs.jobs_of(alice) == []
    queued = await core.handle(alice, "/video a red ball --preset tiny")
    assert queued.job is not None and not queued.refused


async def with_picture(core: Core, preset: str) -> Submission:
    return await core.submit_video(parse_user(ALICE), VideoOptions("a red ball",
                                                                   {"preset": preset}),
                                   image=png())


async def test_a_picture_to_a_text_only_preset_is_refused_and_nothing_is_written(
    store: Store, config: Config
) -> None:
    core = Core(store=store, config=config)
    with pytest.raises(PictureRefused) as refused:
        await with_picture(core, "tiny")
    assert f"Sorry: {refused.value}." == TEXT_ONLY
    assert (await store.jobs.jobs_of(parse_user(ALICE)), inputs(config)) == ([], [])
    for preset in ("demo", "animate"):
        assert (await with_picture(core, preset)).job.request.preset == preset
    in_database = config.storage.clips_in_database(config.database_url)
    assert len(inputs(config)) == (0 if in_database else 2)


async def test_the_api_refuses_both_with_the_input_reference_named(api: Api) -> None:
    client = api.client(await api.key())
    with pytest.raises(openai.BadRequestError) as text_only:
        await client.videos.create(prompt="a red ball", model="tiny",
                                   input_reference=("red.png", png(), "image/png"))
    with pytest.raises(openai.BadRequestError) as needs_one:
        await client.videos.create(prompt="a red ball", model="animate")
    for refused, sentence in ((text_only, TEXT_ONLY), (needs_one, NEEDS_ONE)):
        body = refused.value.body
        assert isinstance(body, dict)
        assert (body["message"], body["param"]) == (
            sentence.removeprefix("Sorry: ").removesuffix("."), "input_reference")
    assert (await api.jobs(), await api.charges()) == (0, 0)
    video = await client.videos.create(prompt="a red ball", model="animate",
                                       input_reference=("red.png", png(48, 32), "image/png"))
    assert video.status == "queued"
