"""DiffusersBackend on real (tiny, random) diffusers pipelines, built offline once per session."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generator.backends.base import GenerationFailed, GenerationStopped
from generator.backends.diffusers_backend import DiffusersBackend, to_uint8_frames
from generator.backends.tiny_i2v_models import BUILTIN_I2V_MODELS
from generator.backends.tiny_models import BUILTIN_MODELS, ensure_builtin_model
from videobot.config import PresetConfig
from videobot.families import family_for_preset
from videobot.params import RenderRequest

#: builtin -> (frames that fit its family, family detected for family = "auto")
MODELS = {
    "tiny-text-to-video-sd": (8, "text-to-video-sd"),
    "tiny-wan": (5, "wan"),
    "tiny-wan22": (5, "wan-5b"),
    "tiny-ltx": (9, "ltx"),
    "tiny-cogvideox": (9, "cogvideox"),
    "tiny-hunyuan": (5, "hunyuan"),
    "tiny-animatediff": (8, "animatediff"),
}


def _request(**changes: object) -> RenderRequest:
    base = RenderRequest(prompt="a red ball bouncing", negative_prompt="", frames=8, fps=8,
                         width=32, height=32, steps=2, guidance=7.5, seed=1, preset="tiny")
    return base.replace(**changes)


def _load(model: str | Path, models_dir: Path, *, family: str = "auto",
          dtype: str = "float32") -> DiffusersBackend:
    config = PresetConfig(model=str(model), family=family, dtype=dtype)
    return DiffusersBackend.load(config, device="cpu", models_dir=models_dir)


def _never() -> bool:
    return False


def _ignore(step: int, total: int) -> None:
    pass


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session", params=sorted(MODELS))
def backend(request: pytest.FixtureRequest, models_dir: Path) -> Iterator[DiffusersBackend]:
    folder = ensure_builtin_model(request.param, models_dir)
    loaded = _load(folder, models_dir)
    yield loaded
    loaded.close()


def _frames_for(backend: DiffusersBackend) -> int:
    return next(frames for frames, family in MODELS.values() if family == backend.family.name)


def test_renders_uint8_clip_and_reports_each_step(backend: DiffusersBackend) -> None:
    frames = _frames_for(backend)
    steps: list[tuple[int, int]] = []

    clip = backend.generate(_request(frames=frames), lambda s, t: steps.append((s, t)), _never)

    assert clip.shape == (frames, 32, 32, 3)
    assert clip.dtype == np.uint8
    assert steps == [(1, 2), (2, 2)]


def test_same_seed_same_clip_other_seed_other_clip(backend: DiffusersBackend) -> None:
    request = _request(frames=_frames_for(backend), seed=7)

    first = backend.generate(request, _ignore, _never)
    again = backend.generate(request, _ignore, _never)
    other = backend.generate(request.replace(seed=8), _ignore, _never)

    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_a_picture_is_refused_before_any_step(backend: DiffusersBackend) -> None:
    if backend.family.image != "none":
        pytest.skip("this family animates pictures (tests/test_image_to_video_backends.py)")
    steps: list[tuple[int, int]] = []
    picture = np.zeros((32, 32, 3), np.uint8)

    with pytest.raises(GenerationFailed) as refused:
        backend.generate(_request(frames=_frames_for(backend)),
                         lambda s, t: steps.append((s, t)), _never, image=picture)

    assert refused.value.reason == "this model makes videos from text only, not from a picture"
    assert steps == []


def test_stop_after_first_step_raises_generation_stopped(backend: DiffusersBackend) -> None:
    steps: list[tuple[int, int]] = []

    with pytest.raises(GenerationStopped):
        backend.generate(_request(frames=_frames_for(backend)),
                         lambda s, t: steps.append((s, t)), lambda: bool(steps))

    assert steps == [(1, 2)]


def test_a_stop_skips_the_vae_decode(backend: DiffusersBackend) -> None:
    vae = backend.pipe.vae
    decodes: list[int] = []
    original = vae.decode
    vae.decode = lambda *args, **kwargs: decodes.append(1) or original(*args, **kwargs)
    try:
        with pytest.raises(GenerationStopped):
            backend.generate(_request(frames=_frames_for(backend)), _ignore, lambda: True)
        with pytest.raises(GenerationStopped):
            backend.generate(_request(frames=_frames_for(backend)), _ignore,
                             iter([False, True, True]).__next__)
    finally:
        del vae.decode
    assert decodes == []


def test_stop_before_start_renders_nothing(backend: DiffusersBackend) -> None:
    steps: list[tuple[int, int]] = []

    with pytest.raises(GenerationStopped):
        backend.generate(_request(), lambda s, t: steps.append((s, t)), lambda: True)

    assert steps == []


def test_family_auto_is_detected_from_pipeline_class(models_dir: Path) -> None:
    assert set(MODELS) | set(BUILTIN_I2V_MODELS) == set(BUILTIN_MODELS)
    for name, (_, family) in MODELS.items():
        folder = ensure_builtin_model(name, models_dir)
        assert _load(folder, models_dir).family.name == family
        assert family_for_preset(PresetConfig(model=f"builtin:{name}")).name == family


def test_configured_family_overrides_detection(models_dir: Path) -> None:
    folder = ensure_builtin_model("tiny-text-to-video-sd", models_dir)

    backend = _load(folder, models_dir, family="wan")

    assert backend.family.name == "wan"
    clip = backend.generate(_request(frames=6, width=44, height=44), _ignore, _never)
    assert clip.shape == (5, 48, 48, 3)


@pytest.mark.parametrize(
    ("name", "frames", "size", "shape", "notes"),
    [
        ("tiny-wan", 6, 30, (5, 32, 32, 3), [
            "size 30x30 rounded to 32x32 (multiples of 16)",
            "frames 6 rounded to 5 (4k+1 frames)",
        ]),
        # 13 frames, 4k+1, would come back from CogVideoX's VAE as 16.
        ("tiny-cogvideox", 13, 36, (17, 32, 32, 3), [
            "size 36x36 rounded to 32x32 (multiples of 16)",
            "frames 13 rounded to 17 (8k+1 frames)",
        ]),
        ("tiny-hunyuan", 7, 36, (9, 32, 32, 3), [
            "size 36x36 rounded to 32x32 (multiples of 16)",
            "frames 7 rounded to 9 (4k+1 frames)",
        ]),
        ("tiny-animatediff", 40, 30, (32, 32, 32, 3), [
            "size 30x30 rounded to 32x32 (multiples of 8)",
            "frames 40 rounded to 32 (at most 32 frames)",
        ]),
    ],
)
def test_request_is_rounded_to_family(
    name: str, frames: int, size: int, shape: tuple[int, ...], notes: list[str],
    models_dir: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    backend = _load(ensure_builtin_model(name, models_dir), models_dir)
    caplog.set_level(logging.DEBUG, logger="generator.backends.diffusers_backend")

    clip = backend.generate(_request(frames=frames, width=size, height=size), _ignore, _never)

    assert clip.shape == shape
    for note in notes:
        assert note in caplog.text


def test_builtin_model_is_built_on_first_use_then_reused(tmp_path: Path) -> None:
    backend = _load("builtin:tiny-text-to-video-sd", tmp_path)
    index = tmp_path / "tiny-text-to-video-sd" / "model_index.json"
    built_at = index.stat().st_mtime_ns

    folder = ensure_builtin_model("tiny-text-to-video-sd", tmp_path)

    assert folder == tmp_path / "tiny-text-to-video-sd"
    assert index.stat().st_mtime_ns == built_at
    assert [p.name for p in tmp_path.iterdir()] == ["tiny-text-to-video-sd"]
    assert backend.family.name == "text-to-video-sd"


def test_unknown_builtin_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="tiny-nothing"):
        ensure_builtin_model("tiny-nothing", tmp_path)


def test_float16_on_cpu_loads_as_float32(
    models_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = ensure_builtin_model("tiny-text-to-video-sd", models_dir)

    backend = _load(folder, models_dir, dtype="float16")

    assert "loading in float32 instead" in caplog.text
    assert backend.generate(_request(), _ignore, _never).dtype == np.uint8


def test_closed_backend_refuses_to_render(models_dir: Path) -> None:
    backend = _load(ensure_builtin_model("tiny-text-to-video-sd", models_dir), models_dir)

    backend.close()

    with pytest.raises(RuntimeError, match="closed"):
        backend.generate(_request(), _ignore, _never)


def test_pil_frames_become_uint8_array() -> None:
    images = [Image.new("RGB", (4, 2), (255, 0, 10)) for _ in range(3)]

    clip = to_uint8_frames([images])

    assert clip.shape == (3, 2, 4, 3)
    assert clip.dtype == np.uint8
    assert clip[0, 0, 0].tolist() == [255, 0, 10]


def test_float_frames_are_scaled_and_clipped() -> None:
    batch = np.array([[[[[0.0, 0.5, 1.2]]]]], dtype=np.float32)  # (1, 1, 1, 1, 3)

    assert to_uint8_frames(batch).tolist() == [[[[0, 128, 255]]]]


def test_cogvideox_uses_dynamic_cfg_with_the_dpm_scheduler_only(models_dir: Path) -> None:
    from diffusers import CogVideoXDPMScheduler

    backend = _load(ensure_builtin_model("tiny-cogvideox", models_dir), models_dir)
    assert backend._call_kwargs(_request(frames=9))["use_dynamic_cfg"] is False
    pipe = backend.pipe
    pipe.scheduler = CogVideoXDPMScheduler.from_config(pipe.scheduler.config)
    assert backend._call_kwargs(_request(frames=9))["use_dynamic_cfg"] is True
    assert backend.generate(_request(frames=9), _ignore, _never).shape == (9, 32, 32, 3)
