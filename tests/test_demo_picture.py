"""The demo model from a picture (image to video) and extending a clip, judged from the
pixels: the colour and shape of the picture are kept, the prompt's motion is followed, the
first frame is the picture; unreadable pictures are refused with a sentence that says what
the model can animate."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from generator.backends.base import GenerationFailed
from generator.backends.demo import anchored, data, samples
from generator.backends.demo.backend import DemoBackend, seed_layout, seed_speed
from generator.backends.demo.checker import judge, object_masks
from videobot.config import PresetConfig
from videobot.params import RenderRequest

DEMO = PresetConfig(name="demo", backend="demo", model="builtin:demo")
REFUSAL = ("the demo model cannot read this picture ({}); it animates one circle, square or "
           "triangle in red, green, blue, yellow, purple, orange or white on a plain background")


def request(prompt: str, seed: int = 0, size: int = 64) -> RenderRequest:
    return RenderRequest(prompt=prompt, negative_prompt="", frames=16, fps=8, width=size,
                         height=size, steps=4, guidance=1.0, seed=seed, preset="demo")


def animate(backend: DemoBackend, prompt: str, picture: np.ndarray, seed: int = 0) -> np.ndarray:
    return backend.generate(request(prompt, seed, picture.shape[0]), lambda _s, _t: None,
                            lambda: False, image=picture)


@pytest.fixture(scope="module")
def backend() -> Iterator[DemoBackend]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the model is tiny: more threads only wait on each other
    yield DemoBackend.load(DEMO, device="cpu", models_dir=Path("/nonexistent"))
    torch.set_num_threads(threads)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    """Overlap of the object masks of two frames."""
    masks, _ = object_masks(np.stack([a, b]))
    return float((masks[0] & masks[1]).sum() / max((masks[0] | masks[1]).sum(), 1))


def readable_pictures(motion: str) -> list[tuple[anchored.AnchoredSpec, int]]:
    """A fresh picture of each shape and colour with a seed to animate it with `motion`,
    placed so that the checker reads its true clip right (the object stays in frame)."""
    rng = np.random.default_rng(100 + data.MOTIONS.index(motion))
    pictures = []
    for shape in data.SHAPES:
        for colour in data.COLOURS:
            while True:
                seed = int(rng.integers(2**31))
                spec = samples.picture_spec(rng, (shape, colour, motion),
                                            seed_speed(seed_layout(seed)))
                truth = judge(anchored.render_anchored(spec))
                if (truth.shape, truth.colour, truth.motion) == (shape, colour, motion):
                    pictures.append((spec, seed))
                    break
    return pictures


@pytest.mark.parametrize("motion", data.MOTIONS)
def test_unseen_pictures_of_each_shape_and_colour_are_animated_with_the_prompts_motion(
    backend: DemoBackend, motion: str
) -> None:
    rng = np.random.default_rng(data.MOTIONS.index(motion))
    shapes_kept = 0
    for spec, seed in readable_pictures(motion):
        picture = samples.picture_of(spec)
        prompt = samples.prompt_for(rng, spec)
        clip = animate(backend, prompt, picture, seed)
        seen = judge(clip)
        assert (seen.colour, seen.motion) == (spec.colour, motion), (spec, prompt)
        assert iou(clip[0], picture) >= 0.8, spec
        shapes_kept += seen.shape == spec.shape
    # Judged by strict geometry on the largest whole frame (a grown shape is the hardest).
    assert shapes_kept >= 0.85 * len(data.SHAPES) * len(data.COLOURS)


def test_the_picture_wins_over_the_prompts_shape_and_colour(
    backend: DemoBackend, caplog: pytest.LogCaptureFixture
) -> None:
    spec = anchored.AnchoredSpec("circle", "red", "right", (20.0, 30.0, 9.0), 0.5)
    with caplog.at_level(logging.INFO, logger="generator.backends.demo.backend"):
        clip = animate(backend, "a blue square moving right", samples.picture_of(spec))
    seen = judge(clip)
    assert (seen.colour, seen.shape, seen.motion) == ("red", "circle", "right")
    assert ("the picture shows a red circle, so the prompt's square and blue were not used"
            in caplog.text)


def test_a_large_picture_on_a_light_background_is_the_first_frame(backend: DemoBackend) -> None:
    spec = anchored.AnchoredSpec("triangle", "purple", "up", (40.0, 44.0, 10.0), 0.5,
                                 background=(225, 225, 210))
    picture = samples.upscale(samples.picture_of(spec), 256)
    clip = animate(backend, "drifting upward", picture)
    assert clip.shape == (16, 256, 256, 3)
    assert iou(clip[0], picture) >= 0.8
    assert np.abs(clip[0, :8, :8].astype(int) - (225, 225, 210)).max() <= 2  # its background
    seen = judge(clip)
    assert (seen.colour, seen.shape, seen.motion) == ("purple", "triangle", "up")


def test_the_same_picture_prompt_and_seed_give_the_same_clip(backend: DemoBackend) -> None:
    picture = samples.picture_of(anchored.AnchoredSpec("square", "green", "down",
                                                       (30.0, 20.0, 8.0), 0.5))
    first = animate(backend, "falling", picture, 5)
    assert np.array_equal(first, animate(backend, "falling", picture, 5))


@pytest.mark.parametrize(("kind", "problem"), [
    ("photograph", "its background is not one plain colour"),
    ("noise", "its background is not one plain colour"),
    ("two shapes", "it shows more than one shape"),
    ("empty", "it shows no shape"),
    ("cut off", "the shape is cut off by the picture's edge"),
])
def test_a_picture_it_cannot_read_is_refused_with_what_it_can_animate(
    backend: DemoBackend, kind: str, problem: str
) -> None:
    picture = samples.UNREADABLE[kind](np.random.default_rng(3))
    with pytest.raises(GenerationFailed) as refused:
        animate(backend, "moving left", picture)
    assert refused.value.reason == REFUSAL.format(problem)


def star(size: int = 64) -> np.ndarray:
    """A five-pointed yellow star on the dark background."""
    ys, xs = np.mgrid[0:size, 0:size] + 0.5 - size / 2
    angle, radius = np.arctan2(ys, xs), np.hypot(xs, ys)
    picture = np.zeros((size, size, 3), np.uint8)
    picture[:] = data.BACKGROUND
    picture[radius <= 0.36 * size * (0.55 + 0.45 * np.cos(5 * angle))] = data.PALETTE["yellow"]
    return picture


def bar(size: int = 64) -> np.ndarray:
    """A long red bar on the dark background."""
    ys, xs = np.mgrid[0:size, 0:size]
    picture = np.zeros((size, size, 3), np.uint8)
    picture[(np.abs(xs - 32) <= 14) & (np.abs(ys - 32) <= 3)] = data.PALETTE["red"]
    return picture


@pytest.mark.parametrize("picture", [star(), bar()], ids=["star", "bar"])
def test_a_shape_it_does_not_know_is_refused(backend: DemoBackend, picture: np.ndarray) -> None:
    with pytest.raises(GenerationFailed) as refused:
        animate(backend, "moving left", picture)
    problem = "the shape is not a circle, a square or an upright triangle"
    assert refused.value.reason == REFUSAL.format(problem)


MOTION_WORDS = {"left": "moving left", "right": "moving right", "up": "moving up",
                "down": "moving down", "growing": "growing", "shrinking": "shrinking"}


def seed_with_room(motion: str) -> int:
    """A seed whose text-only clip of `motion` ends where going on as fast for one more clip
    keeps the object whole in frame (so the checker can judge the continuation)."""
    for seed in range(1000):
        x, y, half = data.trajectory(motion, seed_layout(seed)[0].numpy())
        change = (x[-1] - x[0], y[-1] - y[0], half[-1] - half[0])
        speed = anchored.speed_for_change(motion, change) or 0.0
        x, y, half = anchored.anchored_trajectory(motion, (x[-1], y[-1], half[-1]), speed)
        if (x - half).min() > 2 and (x + half).max() < 62 and (y - half).min() > 2 \
                and (y + half).max() < 62:
            return seed
    raise AssertionError(f"no seed leaves room to go on {motion}")


def centres_and_sizes(clip: np.ndarray) -> np.ndarray:
    """(T, 3): the object's centroid x, y and the square root of its area, per frame, in
    pixels of 64x64 frames."""
    masks, _ = object_masks(clip)
    ys, xs = np.mgrid[0:64, 0:64]
    areas = masks.sum((1, 2))
    return np.stack([(masks * xs).sum((1, 2)) / areas, (masks * ys).sum((1, 2)) / areas,
                     np.sqrt(areas)], 1)


@pytest.mark.parametrize("motion", MOTION_WORDS)
def test_an_extended_clip_opens_where_the_original_ended_and_moves_on_as_fast(
    backend: DemoBackend, motion: str
) -> None:
    ask = request(f"an orange box {MOTION_WORDS[motion]}", seed_with_room(motion), 128)
    original = backend.generate(ask, lambda _s, _t: None, lambda: False)
    start = backend.continue_from(original)
    extension = backend.generate(ask, lambda _s, _t: None, lambda: False,
                                 image=start.image, state=start.state)
    before, after = centres_and_sizes(original), centres_and_sizes(extension)
    assert iou(extension[0], original[-1]) >= 0.85
    assert np.abs(after[0] - before[-1]).max() <= 1.0  # pixels at 64x64
    seen = judge(extension)
    assert (seen.motion, seen.shape, seen.colour) == (motion, "square", "orange")
    assert judge(np.concatenate([original, extension])).motion == motion
    moved, moves = before[-1] - before[0], after[-1] - after[0]
    axis = int(np.argmax(np.abs(moved)))
    if motion == "shrinking":  # it was small already: it shrinks on until it is a dot
        assert moves[axis] < 0 and after[-1, axis] < 0.6 * after[0, axis]
    else:
        assert 0.75 <= moves[axis] / moved[axis] <= 1.33  # as fast as before


def test_extending_from_the_last_frame_alone_keeps_the_direction(backend: DemoBackend) -> None:
    ask = request("a green ball falling", seed_with_room("down"), 128)
    original = backend.generate(ask, lambda _s, _t: None, lambda: False)
    extension = backend.generate(ask, lambda _s, _t: None, lambda: False, image=original[-1])
    assert iou(extension[0], original[-1]) >= 0.85
    assert judge(extension).motion == "down"
    assert judge(np.concatenate([original, extension])).motion == "down"


def test_a_clip_whose_shape_has_left_cannot_be_extended(backend: DemoBackend) -> None:
    gone = anchored.render_anchored(anchored.AnchoredSpec("circle", "red", "right",
                                                          (50.0, 30.0, 6.0), 1.0))
    with pytest.raises(GenerationFailed) as refused:
        backend.continue_from(gone)
    assert refused.value.reason == "the end of this clip shows no whole shape to continue from"
