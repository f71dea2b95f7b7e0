"""MagCache and TaylorSeer on the tiny pipelines of each family they support: put on at load
with their authors' settings for the family, checked against the pipeline (refused where
they cannot work), fitted to each render's steps, and skipping real work in a render."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from diffusers import MagCacheConfig, TaylorSeerCacheConfig

from generator.backends.base import GenerationStopped
from generator.backends.caches import TAYLORSEER_INTERVAL, mag_settings
from generator.backends.diffusers_backend import DiffusersBackend
from generator.backends.tiny_models import ensure_builtin_model
from videobot.config import PresetConfig
from videobot.params import RenderRequest

#: builtin -> (family, frames that fit it, the first block's attention input projection)
MODELS = {
    "tiny-wan": ("wan", 5, "blocks.0.attn1.to_q"),
    "tiny-wan22": ("wan-5b", 5, "blocks.0.attn1.to_q"),
    "tiny-ltx": ("ltx", 9, "transformer_blocks.0.attn1.to_q"),
    "tiny-cogvideox": ("cogvideox", 9, "transformer_blocks.0.attn1.to_q"),
    "tiny-hunyuan": ("hunyuan", 5, "transformer_blocks.0.attn.to_q"),
}
MAG_MODELS = ("tiny-wan", "tiny-wan22", "tiny-hunyuan")


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    for name in (*MODELS, "tiny-text-to-video-sd"):
        ensure_builtin_model(name, folder)
    return folder


def load(models_dir: Path, model: str, **options: Any) -> DiffusersBackend:
    family = MODELS[model][0] if model in MODELS else "auto"
    preset = PresetConfig(name="p", model=str(models_dir / model), family=family, **options)
    return DiffusersBackend.load(preset, device="cpu", models_dir=models_dir)


def render(backend: DiffusersBackend, model: str, steps: int,
           stop_after: int | None = None) -> np.ndarray:
    request = RenderRequest(prompt="a red ball", negative_prompt="", frames=MODELS[model][1],
                            fps=8, width=32, height=32, steps=steps, guidance=5.0, seed=2,
                            preset="p")
    seen: list[int] = []
    return backend.generate(request, lambda step, _total: seen.append(step),
                            lambda: stop_after is not None and len(seen) >= stop_after)


def computed(backend: DiffusersBackend, model: str, steps: int) -> int:
    """How many times the first block's attention really ran in a render of `steps`."""
    calls = []
    probe = backend.pipe.transformer.get_submodule(MODELS[model][2])
    handle = probe.register_forward_hook(lambda *_: calls.append(1))
    try:
        render(backend, model, steps)
    finally:
        handle.remove()
    return len(calls)


@pytest.mark.parametrize("model", MAG_MODELS)
def test_mag_cache_uses_its_authors_ratios_for_the_family_and_skips_steps(
    models_dir: Path, model: str
) -> None:
    family = MODELS[model][0]
    plain = computed(load(models_dir, model), model, 20)
    backend = load(models_dir, model, cache="mag")
    config = backend.pipe.transformer._cache_config
    assert isinstance(config, MagCacheConfig)
    published = mag_settings(family, backend.pipe.transformer.config.num_layers)
    assert published is not None
    assert (config.threshold, config.max_skip_steps, config.retention_ratio) == (
        published.threshold, published.max_skip_steps, published.retention_ratio)
    cached = computed(backend, model, 20)
    # Fitted to the render's 20 steps (the published ratios are for 50).
    assert config.num_inference_steps == 20 and len(config.mag_ratios) == 20
    assert 0 < cached < plain


def test_mag_cache_is_refused_where_no_calibration_is_published(models_dir: Path) -> None:
    for model in ("tiny-ltx", "tiny-cogvideox"):
        with pytest.raises(ValueError, match=r"preset p: cache = 'mag' needs magnitude ratios "
                                             r"calibrated for the model.*not for the "):
            load(models_dir, model, cache="mag")


def test_a_mag_threshold_in_the_preset_replaces_the_published_one(models_dir: Path) -> None:
    backend = load(models_dir, "tiny-wan", cache="mag", cache_threshold=0.03)
    assert backend.pipe.transformer._cache_config.threshold == 0.03


@pytest.mark.parametrize("model", sorted(MODELS))
def test_taylorseer_forecasts_between_full_steps_every_fifth(models_dir: Path,
                                                             model: str) -> None:
    plain = computed(load(models_dir, model), model, 10)
    backend = load(models_dir, model, cache="taylorseer")
    config = backend.pipe.transformer._cache_config
    assert isinstance(config, TaylorSeerCacheConfig)
    assert (config.cache_interval, config.max_order) == (TAYLORSEER_INTERVAL, 1)
    # Full steps 0, 2 and 7 of 10: the rest are forecast.
    assert computed(backend, model, 10) == plain * 3 // 10


def test_taylorseer_is_refused_for_a_unet(models_dir: Path) -> None:
    with pytest.raises(ValueError, match="UNet3DConditionModel has none"):
        load(models_dir, "tiny-text-to-video-sd", cache="taylorseer")


@pytest.mark.parametrize("cache", ["mag", "taylorseer"])
def test_a_stopped_render_leaves_nothing_behind_for_the_next(models_dir: Path,
                                                             cache: str) -> None:
    fresh = render(load(models_dir, "tiny-wan", cache=cache), "tiny-wan", 12)
    backend = load(models_dir, "tiny-wan", cache=cache)
    with pytest.raises(GenerationStopped):
        render(backend, "tiny-wan", 12, stop_after=8)
    assert np.array_equal(render(backend, "tiny-wan", 12), fresh)
