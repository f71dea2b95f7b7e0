"""A preset's memory and speed options reach the pipeline: each test loads a tiny random
pipeline through `DiffusersBackend.load` and checks the pipeline's own state, then (where a
CPU can) renders through it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from diffusers import FasterCacheConfig, FirstBlockCacheConfig, PyramidAttentionBroadcastConfig
from diffusers.hooks.group_offloading import _is_group_offload_enabled
from diffusers.models.attention_dispatch import AttentionBackendName

from generator.backends.base import GenerationFailed
from generator.backends.diffusers_backend import DiffusersBackend
from generator.backends.tiny_models import ensure_builtin_model
from videobot.config import ConfigError, PresetConfig, config_from_dict
from videobot.params import RenderRequest


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("models")
    for name in ("tiny-wan", "tiny-ltx", "tiny-text-to-video-sd", "tiny-cogvideox",
                 "tiny-hunyuan"):
        ensure_builtin_model(name, folder)
    return folder


def load(models_dir: Path, model: str = "tiny-wan", **options: Any) -> DiffusersBackend:
    preset = PresetConfig(model=str(models_dir / model), **options)
    return DiffusersBackend.load(preset, device="cpu", models_dir=models_dir)


def render(backend: DiffusersBackend, frames: int = 5, on_step: Any = None) -> np.ndarray:
    request = RenderRequest(prompt="a red ball", negative_prompt="", frames=frames, fps=8,
                            width=32, height=32, steps=2, guidance=5.0, seed=1, preset="tiny")
    return backend.generate(request, on_step or (lambda _s, _t: None), lambda: False)


def test_plain_load_applies_nothing(models_dir: Path) -> None:
    pipe = load(models_dir).pipe
    assert pipe.transformer.device.type == "cpu"
    assert not pipe.vae.use_tiling and not pipe.vae.use_slicing
    assert not pipe.transformer.is_cache_enabled
    assert getattr(pipe, "_offload_device", None) is None
    assert pipe.transformer.blocks[0]._compiled_call_impl is None


def test_vae_tiling_and_slicing_go_through_pipe_vae(models_dir: Path) -> None:
    backend = load(models_dir, vae_tiling=True, vae_slicing=True)
    assert backend.pipe.vae.use_tiling and backend.pipe.vae.use_slicing
    assert render(backend).shape == (5, 32, 32, 3)


def test_model_offload_installs_accelerate_hooks(models_dir: Path) -> None:
    backend = load(models_dir, offload="model")
    pipe = backend.pipe
    assert pipe._offload_device is not None
    assert hasattr(pipe.transformer, "_hf_hook") and hasattr(pipe.vae, "_hf_hook")
    assert render(backend).shape == (5, 32, 32, 3)


def test_group_offload_groups_every_model_component(models_dir: Path) -> None:
    backend = load(models_dir, offload="group", group_offload_blocks=2)
    pipe = backend.pipe
    assert _is_group_offload_enabled(pipe.transformer)
    assert _is_group_offload_enabled(pipe.text_encoder)
    assert render(backend).shape == (5, 32, 32, 3)


def test_fp8_weights_store_the_denoiser_in_float8_and_still_render(models_dir: Path) -> None:
    backend = load(models_dir, fp8_weights=True)
    transformer = backend.pipe.transformer
    dtypes = {p.dtype for name, p in transformer.named_parameters() if "blocks." in name
              and name.endswith("weight") and "norm" not in name}
    assert torch.float8_e4m3fn in dtypes
    # Patch embedding and norms stay in full precision (diffusers' skip patterns).
    assert transformer.patch_embedding.weight.dtype == torch.float32
    assert backend.pipe.text_encoder.dtype == torch.float32
    assert render(backend).shape == (5, 32, 32, 3)


@pytest.mark.parametrize(("model", "frames", "cache", "config_class"), [
    ("tiny-wan", 5, "first-block", FirstBlockCacheConfig),
    ("tiny-wan", 5, "pyramid", PyramidAttentionBroadcastConfig),
    ("tiny-ltx", 9, "pyramid", PyramidAttentionBroadcastConfig),
    ("tiny-cogvideox", 9, "faster", FasterCacheConfig),
    ("tiny-hunyuan", 5, "faster", FasterCacheConfig),
])
def test_cache_hooks_are_enabled_on_the_transformer(models_dir: Path, model: str, frames: int,
                                                    cache: str, config_class: type) -> None:
    backend = load(models_dir, model, cache=cache, cache_threshold=0.05)
    transformer = backend.pipe.transformer
    assert transformer.is_cache_enabled
    assert isinstance(transformer._cache_config, config_class)
    if cache == "first-block":
        assert transformer._cache_config.threshold == 0.05
    assert render(backend, frames=frames).shape == (frames, 32, 32, 3)


def test_faster_cache_is_refused_where_its_guidance_model_does_not_hold(
    models_dir: Path,
) -> None:
    # Wan runs its guidance passes one by one; LTX packs its latents: FasterCache breaks both.
    for model in ("tiny-wan", "tiny-ltx"):
        with pytest.raises(ValueError, match="works with CogVideoX and HunyuanVideo"):
            load(models_dir, model, cache="faster")


def test_a_blurring_cache_threshold_is_warned_about(
    models_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    load(models_dir, cache="first-block", cache_threshold=0.25)
    assert "blurs motion" in caplog.text


def test_cache_hooks_need_a_denoiser_that_has_them(models_dir: Path) -> None:
    with pytest.raises(ValueError, match="UNet3DConditionModel has none"):
        load(models_dir, "tiny-text-to-video-sd", cache="first-block")


def test_attention_backend_is_set_on_every_attention_processor(models_dir: Path) -> None:
    backend = load(models_dir, attention_backend="_native_math")
    processors = [m.processor for m in backend.pipe.transformer.modules()
                  if hasattr(m, "processor") and hasattr(m.processor, "_attention_backend")]
    assert processors
    assert {p._attention_backend for p in processors} == {AttentionBackendName._NATIVE_MATH}
    assert render(backend).shape == (5, 32, 32, 3)


def test_regional_compile_compiles_each_repeated_block(models_dir: Path) -> None:
    transformer = load(models_dir, compile="regional").pipe.transformer
    assert transformer._repeated_blocks == ["WanTransformerBlock"]
    assert all(block._compiled_call_impl is not None for block in transformer.blocks)
    assert transformer._compiled_call_impl is None


def test_regional_compile_finds_the_blocks_cogvideox_does_not_declare(
    models_dir: Path,
) -> None:
    transformer = load(models_dir, "tiny-cogvideox", compile="regional").pipe.transformer
    assert transformer._repeated_blocks == ["CogVideoXBlock"]
    assert all(block._compiled_call_impl is not None
               for block in transformer.transformer_blocks)
    assert transformer._compiled_call_impl is None


def test_full_compile_compiles_the_whole_denoiser(models_dir: Path) -> None:
    unet = load(models_dir, "tiny-text-to-video-sd", compile="regional").pipe.unet
    # A UNet declares no repeated blocks: regional falls back to the whole model.
    assert unet._compiled_call_impl is not None


def test_pipeline_args_reach_the_call_and_unknown_ones_fail_at_load(models_dir: Path) -> None:
    backend = load(models_dir, "tiny-ltx",
                   pipeline_args={"decode_timestep": 0.05, "decode_noise_scale": 0.025})
    assert backend._call_kwargs(_request())["decode_timestep"] == 0.05
    assert render(backend, frames=9).shape == (9, 32, 32, 3)
    with pytest.raises(ValueError, match=r"pipeline_args\.decode_timestep: WanPipeline takes no"):
        load(models_dir, pipeline_args={"decode_timestep": 0.05})


def _request() -> RenderRequest:
    return RenderRequest(prompt="p", negative_prompt="", frames=9, fps=24, width=32,
                         height=32, steps=2, guidance=3.0, seed=1, preset="tiny")


class OutOfMemoryOnStep:
    """A step callback that raises CUDA's out-of-memory error on its first `times` calls."""

    def __init__(self, times: int) -> None:
        self.left = times

    def __call__(self, step: int, total: int) -> None:
        if self.left > 0:
            self.left -= 1
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")


def test_out_of_memory_retries_once_with_vae_tiling(models_dir: Path) -> None:
    backend = load(models_dir, "tiny-text-to-video-sd")
    assert not backend.pipe.vae.use_tiling
    clip = render(backend, frames=8, on_step=OutOfMemoryOnStep(1))
    assert clip.shape == (8, 32, 32, 3)
    # The lighter setting stays for the next jobs.
    assert backend.pipe.vae.use_tiling


def test_out_of_memory_with_tiling_on_retries_with_model_offload(models_dir: Path) -> None:
    backend = load(models_dir, "tiny-text-to-video-sd", vae_tiling=True)
    render(backend, frames=8, on_step=OutOfMemoryOnStep(1))
    assert backend.pipe._offload_device is not None


def test_out_of_memory_twice_fails_the_render_with_a_reason(models_dir: Path) -> None:
    backend = load(models_dir, "tiny-text-to-video-sd")
    with pytest.raises(GenerationFailed, match="ran out of memory for 8 frames at 32x32"):
        render(backend, frames=8, on_step=OutOfMemoryOnStep(2))
    # The backend still renders afterwards.
    assert render(backend, frames=8).shape == (8, 32, 32, 3)


def test_out_of_memory_without_fallback_fails_at_once(models_dir: Path) -> None:
    backend = load(models_dir, "tiny-text-to-video-sd", oom_fallback=False)
    with pytest.raises(GenerationFailed, match="ran out of memory"):
        render(backend, frames=8, on_step=OutOfMemoryOnStep(1))
    assert not backend.pipe.vae.use_tiling


@pytest.mark.parametrize(("options", "message"), [
    ({"offload": "disk"}, "presets.x.offload: must be one of none, model, sequential, group"),
    ({"compile": "yes"}, "presets.x.compile: must be one of none, regional, full"),
    ({"cache": "magic"}, "presets.x.cache: must be one of none, first-block, pyramid"),
    ({"cache_threshold": 1.5}, "presets.x.cache_threshold: must be between 0 and 1"),
    ({"time_limit_seconds": 0}, "presets.x.time_limit_seconds: must be positive"),
    ({"pipeline_args": {"a": [1]}}, "presets.x.pipeline_args: must be a table of strings"),
    ({"backend": "demo", "vae_tiling": True},
     "presets.x.vae_tiling: only diffusers presets take"),
])
def test_bad_options_are_config_errors_naming_the_key(options: dict[str, Any],
                                                      message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_from_dict({"default_preset": "x", "presets": {"x": options}})


def test_an_animatediff_preset_adds_its_motion_adapter_to_a_stable_diffusion_model(
    tmp_path: Path,
) -> None:
    from diffusers import StableDiffusionPipeline

    from generator.backends.tiny_models import tiny_animatediff_parts

    parts = tiny_animatediff_parts()
    adapter = parts.pop("motion_adapter")
    adapter.save_pretrained(tmp_path / "adapter")
    StableDiffusionPipeline(**parts, safety_checker=None, feature_extractor=None,
                            requires_safety_checker=False).save_pretrained(tmp_path / "sd15")
    preset = PresetConfig(model=str(tmp_path / "sd15"), motion_adapter=str(tmp_path / "adapter"))
    backend = DiffusersBackend.load(preset, device="cpu", models_dir=tmp_path)
    assert type(backend.pipe).__name__ == "AnimateDiffPipeline"
    assert backend.family.name == "animatediff"
    assert render(backend, frames=8).shape == (8, 32, 32, 3)
