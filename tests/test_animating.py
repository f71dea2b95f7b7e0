"""Animating a picture sent without a command (bot/core/animating.py): which preset and prompt
the Animate button and the "Animate" message command queue, through the real core and store."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.core.animating import (
    ANIMATE_PROMPT,
    DEMO_ANIMATE_PROMPT,
    animate_options,
    can_animate,
)
from bot.core.attachments import AttachedImage
from bot.core.commands import Core
from bot.core.parsing import VideoOptions
from storage.inputs import input_image
from storage.store import Store
from videobot.config import Config, config_from_dict
from videobot.users import UserRef

ALICE = UserRef("console", "alice")
#: The embedded presets (demo takes a picture, tiny does not) and an image-to-video one.
PRESETS: dict[str, Any] = {
    "demo": {"backend": "demo", "model": "builtin:demo", "width": 64, "height": 64},
    "tiny": {},
    "animate": {"model": "builtin:tiny-wan-i2v", "frames": 5, "width": 48, "height": 32},
}


def configured(tmp_path: Path, default: str, names: tuple[str, ...]) -> Config:
    return config_from_dict({"data_dir": str(tmp_path / "data"), "default_preset": default,
                             "presets": {name: PRESETS[name] for name in names}})


def picture() -> AttachedImage:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 10, 40)).save(out, format="PNG")
    data = out.getvalue()

    async def fetch() -> bytes:
        return data

    return AttachedImage(fetch, len(data))


@pytest.mark.parametrize(("default", "served", "text", "options"), [
    ("demo", None, "", VideoOptions(DEMO_ANIMATE_PROMPT, {})),
    ("tiny", None, "", VideoOptions(ANIMATE_PROMPT, {"preset": "animate"})),
    ("tiny", {"demo", "tiny"}, "", VideoOptions(DEMO_ANIMATE_PROMPT, {"preset": "demo"})),
    ("tiny", None, "a cat yawns --seed 3",
     VideoOptions("a cat yawns", {"preset": "animate", "seed": 3})),
    ("tiny", None, "--preset demo", VideoOptions(DEMO_ANIMATE_PROMPT, {"preset": "demo"})),
    ("animate", None, "--frames 9", VideoOptions(ANIMATE_PROMPT, {"frames": 9})),
], ids=["demo default", "a text-only default", "only the served", "the caption",
        "the caption's preset", "options alone"])
def test_the_preset_and_prompt_of_an_animated_picture(
        tmp_path: Path, default: str, served: set[str] | None, text: str,
        options: VideoOptions) -> None:
    config = configured(tmp_path, default, ("demo", "tiny", "animate"))
    assert animate_options(text, config, served) == options


def test_nothing_is_offered_when_no_preset_takes_a_picture(tmp_path: Path) -> None:
    assert not can_animate(configured(tmp_path, "tiny", ("tiny",)))
    assert can_animate(configured(tmp_path, "tiny", ("tiny", "demo")))


async def test_a_picture_is_queued_with_the_default_prompt(store: Store, tmp_path: Path) -> None:
    core = Core(store=store, config=configured(tmp_path, "tiny", ("demo", "tiny")))
    reply = await core.animate_picture(ALICE, picture(), reply_target={"chat": 1})
    assert reply.job is not None, reply.text
    assert (reply.job.request.preset, reply.job.request.prompt) == ("demo", DEMO_ANIMATE_PROMPT)
    assert await input_image(store.engine, reply.job.id) is not None


@pytest.mark.parametrize(("text", "refusal"), [
    ("", "Sorry: the preset tiny makes videos from text only, not from a picture; no preset "
         "here animates a picture."),
    ("a cat --frames lots", "Sorry: --frames needs a whole number, not 'lots'."),
], ids=["no served preset takes a picture", "a wrong option"])
async def test_a_refused_picture_queues_nothing(store: Store, tmp_path: Path, text: str,
                                                refusal: str) -> None:
    core = Core(store=store, config=configured(tmp_path, "tiny", ("demo", "tiny")),
                local_presets=frozenset({"tiny"}))
    reply = await core.animate_picture(ALICE, picture(), text)
    assert (reply.text, reply.job, reply.refused) == (refusal, None, True)
    assert await store.jobs.jobs_of(ALICE) == []


@pytest.mark.parametrize(("platform", "how"), [
    ("telegram", "send a photo with /animate as its caption, or reply /animate to one"),
    ("discord", "use /animate's image option, or Animate in the Apps menu of a message with "
                "a picture"),
    ("console", "add --image FILE, e.g. /animate --image ball.png it rolls away"),
])
async def test_animate_without_a_picture_names_the_presets_that_take_one(
        store: Store, tmp_path: Path, platform: str, how: str) -> None:
    core = Core(store=store, config=configured(tmp_path, "tiny", ("demo", "tiny", "animate")))
    user = UserRef(platform, "7")
    reply = await core.handle(user, "/animate a cat yawns")
    assert reply.text == ("Sorry: /animate needs a picture (PNG, JPEG or WebP) to animate: "
                          f"{how}; presets that animate a picture: animate, demo.")
    assert reply.refused
    assert await store.jobs.jobs_of(user) == []


async def test_animate_where_no_preset_takes_a_picture_says_so(store: Store,
                                                              tmp_path: Path) -> None:
    core = Core(store=store, config=configured(tmp_path, "tiny", ("demo", "tiny")),
                local_presets=frozenset({"tiny"}))
    reply = await core.handle(ALICE, "/animate")
    assert reply.text.endswith("; no preset here animates a picture.")
    assert reply.refused


async def test_animate_with_a_picture_queues_it_as_the_animate_button_does(
        store: Store, tmp_path: Path) -> None:
    core = Core(store=store, config=configured(tmp_path, "tiny", ("demo", "tiny", "animate")))
    reply = await core.handle(ALICE, "/animate --seed 4", image=picture())
    assert reply.job is not None, reply.text
    request = reply.job.request
    assert (request.preset, request.prompt, request.seed) == ("animate", ANIMATE_PROMPT, 4)
    assert await input_image(store.engine, reply.job.id) is not None
