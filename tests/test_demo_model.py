"""The embedded demo model: data, training, weights, backend, checker, geometry, captioner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from generator.backends.base import GenerationStopped
from generator.backends.demo import captions, data
from generator.backends.demo.backend import DemoBackend
from generator.backends.demo.captioner import describe
from generator.backends.demo.checker import judge, largest_whole, object_masks
from generator.backends.demo.geometry import geometric_shape, is_square, is_triangle
from generator.backends.demo.train import TrainSettings, train_demo
from generator.backends.demo.vocab import Vocab, shipped_vocab, words
from videobot.config import PresetConfig
from videobot.params import RenderRequest

DEMO = PresetConfig(name="demo", backend="demo", model="builtin:demo")


def request(prompt: str, seed: int = 0, **changes: int) -> RenderRequest:
    base = RenderRequest(prompt=prompt, negative_prompt="", frames=16, fps=8, width=64,
                         height=64, steps=4, guidance=1.0, seed=seed, preset="demo")
    return base.replace(**changes)


def render(backend: DemoBackend, prompt: str, seed: int = 0, **changes: int) -> np.ndarray:
    return backend.generate(request(prompt, seed, **changes), lambda _s, _t: None,
                            lambda: False)


@pytest.fixture(scope="module")
def backend() -> Iterator[DemoBackend]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the model is tiny: more threads only wait on each other
    yield DemoBackend.load(DEMO, device="cpu", models_dir=Path("/nonexistent"))
    torch.set_num_threads(threads)


def _named(text: str, table: dict[str, tuple[str, ...]]) -> set[str]:
    padded = f" {' '.join(words(text))} "
    return {key for key, options in table.items()
            if any(f" {' '.join(words(o))} " in padded for o in options)}


def test_data_is_deterministic_and_held_out_combos_are_never_sampled() -> None:
    first = data.sample_specs(np.random.default_rng(5), 50)
    again = data.sample_specs(np.random.default_rng(5), 50)
    assert first == again
    assert all(np.array_equal(data.render(a), data.render(b)) for a, b in zip(first, again,
                                                                              strict=True))
    assert not {(s.shape, s.colour, s.motion) for s in first} & set(data.HELD_OUT)
    assert len(data.HELD_OUT) == 21 and len(data.TRAIN_COMBOS) == 126


def test_captions_name_exactly_their_labels() -> None:
    rng = np.random.default_rng(0)
    for spec in data.sample_specs(rng, 300, data.ALL_COMBOS):
        text = captions.caption(rng, spec.shape, spec.colour, spec.motion)
        assert _named(text, captions.SHAPE_WORDS) == {spec.shape}, text
        assert _named(text, captions.COLOUR_WORDS) == {spec.colour}, text
        assert spec.motion in _named(text, captions.MOTION_PHRASES), text
        assert Vocab.build().unknown(text) == []


def test_checker_reads_ground_truth_clips() -> None:
    for spec in data.sample_specs(np.random.default_rng(1), 100, data.ALL_COMBOS):
        seen = judge(data.render(spec))
        assert (seen.shape, seen.colour, seen.motion) == (spec.shape, spec.colour, spec.motion)


def test_tokenizer_lowercases_strips_punctuation_and_maps_unknown_words() -> None:
    vocab = Vocab.build()
    assert vocab.encode("A RED, ball!") == vocab.encode("a red ball")
    assert vocab.encode("a zebra")[1] == 1


def test_a_short_training_run_lowers_its_losses_and_saves_loadable_weights(
    tmp_path: Path,
) -> None:
    tiny = TrainSettings(batch=8, base=16, eval_every_s=1000, val_size=8, captioner_share=0.2,
                         reader_share=0.2, report_clips=4)
    metrics = train_demo(tmp_path, minutes=0.4, seed=1, progress=False, settings=tiny)
    assert metrics["steps"] > 10
    # The sprite loss is free of the batches' noise: it falls from the first steps.
    assert metrics["last_sprite"] < metrics["first_sprite"]
    assert {p.name for p in tmp_path.iterdir()} == {
        "generator.safetensors", "captioner.safetensors", "reader.safetensors", "vocab.json"}
    trained = PresetConfig(name="t", backend="demo", model=tmp_path.name)
    clip = render(DemoBackend.load(trained, device="cpu", models_dir=tmp_path.parent), "a box")
    assert clip.shape == (16, 64, 64, 3)


def test_shipped_weights_are_small() -> None:
    folder = Path(__file__).parents[1] / "generator/backends/demo/weights"
    assert sum(p.stat().st_size for p in folder.iterdir()) <= 20 * 2**20


def test_generate_reports_steps_and_fits_the_requested_size(backend: DemoBackend) -> None:
    steps: list[tuple[int, int]] = []
    clip = backend.generate(request("a green box rising", frames=24, width=256, height=128),
                            lambda s, t: steps.append((s, t)), lambda: False)
    assert clip.shape == (24, 128, 256, 3) and clip.dtype == np.uint8
    assert steps[-1] == (4, 4) and [s for s, _ in steps] == sorted(s for s, _ in steps)


def test_generate_stops_when_asked(backend: DemoBackend) -> None:
    with pytest.raises(GenerationStopped):
        backend.generate(request("a red ball"), lambda _s, _t: None, lambda: True)


def test_same_seed_same_clip_other_seed_other_clip(backend: DemoBackend) -> None:
    a, b = render(backend, "a blue circle falling", 7), render(backend, "a blue circle falling", 7)
    c = render(backend, "a blue circle falling", 8)
    assert np.array_equal(a, b)
    assert np.abs(a.astype(int) - c.astype(int)).mean() > 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_red_ball_moving_left_is_red_and_moves_left(backend: DemoBackend, seed: int) -> None:
    seen = judge(render(backend, "a red ball moving to the left", seed, width=256, height=256))
    assert (seen.colour, seen.motion) == ("red", "left")


def test_describe_names_a_generated_clip(backend: DemoBackend) -> None:
    clip = render(backend, "a yellow square growing", 3, width=256, height=256)
    assert describe(clip) == "a yellow square growing"
    truth = data.render(data.ClipSpec("triangle", "white", "right", (0.2, 0.5, 0.5, 0.5)))
    assert describe(truth) == "a white triangle moving right"


def test_unknown_words() -> None:
    unknown_words = shipped_vocab().unknown
    assert unknown_words("A red ball moving to the left!") == []
    assert unknown_words("please make an orange box rising") == []
    assert unknown_words("a purple cat playing the piano") == ["cat", "playing", "piano"]


def _mask(shape: str, x: float, y: float, half: float) -> np.ndarray:
    return data.shape_masks(shape, np.array([x]), np.array([y]), np.array([half]))[0]


def test_geometry_reads_crisp_shapes_of_every_size_and_place() -> None:
    rng = np.random.default_rng(4)
    for shape in data.SHAPES:
        for _ in range(300):
            half = rng.uniform(4, 24)
            x, y = rng.uniform(half + 1, 63 - half, 2)
            assert geometric_shape(_mask(shape, x, y, half)) == shape, (shape, half)


def test_geometry_refuses_rounded_corners_blunt_vertices_and_ovals() -> None:
    ys, xs = np.mgrid[0:64, 0:64] + 0.5
    square = _mask("square", 32, 32, 12)
    rounded = square & ~(((np.abs(xs - 32) > 6.2) & (np.abs(ys - 32) > 6.2))
                         & ((np.abs(xs - 32) - 6.2) ** 2 + (np.abs(ys - 32) - 6.2) ** 2 > 16))
    assert geometric_shape(square) == "square"
    assert not is_square(rounded)  # corners rounded with a 4-pixel radius
    triangle = _mask("triangle", 32, 32, 12)
    blunt = triangle & (ys > 26)  # the apex cut off: a trapezoid
    assert geometric_shape(triangle) == "triangle" and not is_triangle(blunt)
    assert not is_triangle(triangle & (np.abs(xs - 32) < 9))  # base vertices cut off
    oval = ((xs - 32) / 14) ** 2 + ((ys - 32) / 8) ** 2 <= 1
    assert geometric_shape(oval) == ""
    ragged = square & ~((xs.astype(int) + ys.astype(int)) % 5 == 0) & (np.abs(xs - 32) > 8)
    assert geometric_shape(ragged) == ""


@pytest.mark.parametrize("shape", data.SHAPES)
def test_generated_shapes_are_crisp(backend: DemoBackend, shape: str) -> None:
    crisp = 0
    for colour in data.COLOURS:
        for seed in range(4):
            clip = render(backend, f"a {colour} {shape} moving left", seed, width=128,
                          height=128)
            masks, _ = object_masks(clip)
            crisp += geometric_shape(largest_whole(masks)) == shape
    assert crisp >= 0.95 * 4 * len(data.COLOURS)
