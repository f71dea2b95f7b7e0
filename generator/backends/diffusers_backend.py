"""The backend that renders with a diffusers text-to-video pipeline.

One class for every family: the arguments a pipeline does not take are left out, and progress
and cancellation go through `callback_on_step_end` (or the legacy `callback` of older
pipelines such as `TextToVideoSDPipeline`).
"""

from __future__ import annotations

import inspect
import logging
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np
import torch
from diffusers import DiffusionPipeline

from generator.backends.base import (
    Frames,
    GenerationFailed,
    GenerationStopped,
    Image,
    OnPreview,
    OnStep,
    ShouldStop,
)
from generator.backends.caches import DenoiserCache
from generator.backends.image_pipelines import (
    PICTURE_NEEDED,
    check_size,
    needs_image,
    pil_image,
    pipeline_for_pictures,
)
from generator.backends.latent_preview import (
    LatentPreviewer,
    check_previews,
    preview_every,
    vae_latent_channels,
)
from generator.backends.speedups import apply_speedups, free_memory, lighten
from generator.backends.tiny_models import ensure_builtin_model
from videobot.config import PresetConfig
from videobot.families import FAMILIES, Family, family_of_pipeline, round_to_family
from videobot.params import RenderRequest

log = logging.getLogger(__name__)

BUILTIN_PREFIX = "builtin:"

_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


class DiffusersBackend:
    """A diffusers pipeline loaded on one device, kept across jobs."""

    def __init__(self, pipe: Any, *, family: Family, device: str,
                 preset: PresetConfig | None = None) -> None:
        # `Any`: each pipeline class has its own `__call__`; `DiffusionPipeline` declares none.
        self._pipe: Any = pipe
        self._device = device
        self.family = family
        self._preset = preset or PresetConfig()
        self._parameters = call_parameters(pipe)
        #: The pipeline that animates pictures, made on the first job with one.
        self._image_pipe: Any = None
        unknown = sorted(set(self._preset.pipeline_args) - self._parameters)
        if unknown:
            raise ValueError(f"preset {self._preset.name}: pipeline_args.{unknown[0]}: "
                             f"{type(pipe).__name__} takes no such argument")
        self._cache: DenoiserCache | None = None
        self._previewer: LatentPreviewer | None = None
        if self._preset.preview_every_steps:
            factors = check_previews(pipe, family, self._preset.name)
            self._previewer = LatentPreviewer(pipe, family, factors)

    @property
    def renders_previews(self) -> bool:
        """Whether `generate` calls `on_preview` (the preset's `preview_every_steps`)."""
        return self._previewer is not None

    @property
    def pipe(self) -> Any:
        """The loaded pipeline (for inspection: tests, `bench/gpu.py`)."""
        return self._pipeline()

    @classmethod
    def load(cls, preset: PresetConfig, *, device: str, models_dir: Path) -> DiffusersBackend:
        """Load `preset.model` (a local folder, a hub id or `builtin:NAME`) onto `device`."""
        source = resolve_model(preset.model, models_dir)
        dtype = torch_dtype(preset.dtype, device)
        _quiet_loading()
        pipe = _from_pretrained(preset, source, dtype, models_dir)
        pipe.set_progress_bar_config(disable=True)
        family = pipeline_family(pipe, preset.family)
        backend = cls(pipe, family=family, device=device, preset=preset)
        applied = apply_speedups(pipe, preset, device, family)
        backend._cache = applied.cache
        log.info("loaded %s (%s, family %s): %s", preset.model, type(pipe).__name__,
                 family.name, ", ".join(applied.words))
        return backend

    def generate(self, request: RenderRequest, on_step: OnStep, should_stop: ShouldStop,
                 image: Image | None = None, on_preview: OnPreview | None = None) -> Frames:
        """Render `request`; raise `GenerationStopped` if `should_stop` turns true first.
        With the preset's `preview_every_steps`, `on_preview` gets a preview that often."""
        pipe = self._pipeline_for(image)
        request, notes = round_to_family(request, self.family)
        if notes:
            log.debug("request rounded again in the backend: %s", "; ".join(notes))
        progress = _Progress(request, on_step, should_stop, self._preview_hook(request,
                                                                              on_preview))
        check_size(pipe, request)
        picture = {} if image is None else {"image": pil_image(image, request)}
        try:
            return self._render(pipe, request, progress, picture)
        except torch.OutOfMemoryError:
            log.warning("out of memory rendering %s frames at %sx%s", request.frames,
                        request.width, request.height)
        # Out of the handler, so that the traceback's frames (and their tensors) are gone.
        free_memory()
        measure = lighten(pipe, self._device) if self._preset.oom_fallback else None
        if measure is None:
            raise GenerationFailed(out_of_memory_reason(request))
        log.warning("preset %s: retrying with %s (set it in the preset to start that way)",
                    self._preset.name, measure)
        try:
            return self._render(pipe, request, progress, picture)
        except torch.OutOfMemoryError:
            pass
        free_memory()
        raise GenerationFailed(out_of_memory_reason(request))

    def close(self) -> None:
        """Drop the pipeline and give its memory back."""
        if self._pipe is not None:
            self._pipe.remove_all_hooks()
        self._pipe = self._image_pipe = None
        free_memory()

    def _preview_hook(self, request: RenderRequest,
                      on_preview: OnPreview | None) -> _PreviewHook | None:
        if self._previewer is None or on_preview is None:
            return None
        steps = preview_every(request.steps, self._preset.preview_every_steps)
        return _PreviewHook(self._previewer, request, steps, on_preview)

    def image_pipeline(self) -> Any:
        """The pipeline that animates pictures with this model's weights (made once);
        `GenerationFailed` if the model makes videos from text only."""
        if self._image_pipe is None:
            self._image_pipe = pipeline_for_pictures(self._pipeline(), self.family)
        return self._image_pipe

    def _pipeline_for(self, image: Image | None) -> Any:
        """The loaded pipeline, or for a picture the one that animates it."""
        if image is not None:
            return self.image_pipeline()
        pipe = self._pipeline()
        if needs_image(pipe):
            raise GenerationFailed(PICTURE_NEEDED)
        return pipe

    def _render(self, pipe: Any, request: RenderRequest, progress: _Progress,
                picture: dict[str, Any]) -> Frames:
        if progress.should_stop():
            raise GenerationStopped()
        if self._cache is not None:
            self._cache.before_render(request.steps)
        kwargs = self._call_kwargs(request, pipe) | picture | self._progress_kwargs(pipe,
                                                                                    progress)
        with _CallTimer(self._device):
            output = pipe(**kwargs)
        return to_uint8_frames(output.frames)

    def _pipeline(self) -> Any:
        if self._pipe is None:
            raise RuntimeError("the backend is closed")
        return self._pipe

    def _call_kwargs(self, request: RenderRequest, pipe: Any = None) -> dict[str, Any]:
        """The call's keyword arguments that `pipe` (the loaded pipeline by default) takes."""
        pipe = self._pipeline() if pipe is None else pipe
        wanted: dict[str, Any] = {
            "prompt": request.prompt,
            "negative_prompt": request.negative_prompt or None,
            "num_frames": request.frames,
            "height": request.height,
            "width": request.width,
            "num_inference_steps": request.steps,
            "guidance_scale": request.guidance,
            "frame_rate": request.fps,
            # A CPU generator: the same seed gives the same clip on any device.
            "generator": torch.Generator("cpu").manual_seed(request.seed),
            "output_type": "np",
        }
        parameters = self._parameters if pipe is self._pipe else call_parameters(pipe)
        if "use_dynamic_cfg" in parameters:
            # CogVideoX: dynamic CFG with the DPM scheduler it was made for (5b, 1.5).
            scheduler = type(pipe.scheduler).__name__
            wanted["use_dynamic_cfg"] = scheduler == "CogVideoXDPMScheduler"
        wanted |= dict(self._preset.pipeline_args)
        return {name: value for name, value in wanted.items() if name in parameters}

    def _progress_kwargs(self, pipe: Any, progress: _Progress) -> dict[str, Any]:
        parameters = call_parameters(pipe)
        if "callback_on_step_end" in parameters:
            return {"callback_on_step_end": progress.on_step_end}
        if "callback" in parameters:
            return {"callback": progress.on_legacy_step, "callback_steps": 1}
        log.warning("%s reports no progress and cannot be stopped", type(pipe).__name__)
        return {}


class _CallTimer:
    """Logs how long a pipeline call kept the device busy: timed by CUDA events on a GPU
    (bench/gpu.py adds these up to tell a worker's GPU-busy share), by the clock elsewhere."""

    def __init__(self, device: str) -> None:
        self._cuda = torch.device(device).type == "cuda" and torch.cuda.is_available()
        self._events: tuple[Any, Any] | None = None
        self._started = 0.0

    def __enter__(self) -> None:
        self._started = time.perf_counter()
        if self._cuda:
            self._events = (torch.cuda.Event(enable_timing=True),
                            torch.cuda.Event(enable_timing=True))
            self._events[0].record()

    def __exit__(self, kind: object, *_: object) -> None:
        if kind is not None:
            return
        seconds = time.perf_counter() - self._started
        if self._events is not None:
            self._events[1].record()
            self._events[1].synchronize()
            seconds = self._events[0].elapsed_time(self._events[1]) / 1000
        log.info("pipeline call: %.3f s %s", seconds, "on the GPU" if self._cuda else "")


class _PreviewHook:
    """Makes a preview from the latents after the steps in `steps`, for `on_preview`."""

    def __init__(self, previewer: LatentPreviewer, request: RenderRequest,
                 steps: frozenset[int], on_preview: OnPreview) -> None:
        self._previewer = previewer
        self._request = request
        self._steps = steps
        self._on_preview = on_preview

    def after(self, step: int, total: int, latents: torch.Tensor | None) -> None:
        if latents is not None and step in self._steps:
            self._on_preview(step, total, self._previewer.frames(latents, self._request))


class _Progress:
    """Forwards a pipeline's step callbacks to `on_step` (and previews to their hook), and
    stops it when asked to.

    A stop raises out of the callback rather than setting the pipelines' `interrupt` flag:
    an interrupted pipeline still decodes the whole latent video, which on a real model costs
    seconds that a cancel or a time limit should not wait for."""

    def __init__(self, request: RenderRequest, on_step: OnStep, should_stop: ShouldStop,
                 preview: _PreviewHook | None = None) -> None:
        self._steps = request.steps
        self._on_step = on_step
        self.should_stop = should_stop
        self._preview = preview

    def on_step_end(self, pipe: Any, i: int, t: Any,
                    callback_kwargs: dict[str, Any]) -> dict[str, Any]:
        """`callback_on_step_end`: must hand back the tensors it was given."""
        total = getattr(pipe, "num_timesteps", None) or self._steps
        self._step(min(i + 1, total), total, callback_kwargs.get("latents"))
        return callback_kwargs

    def on_legacy_step(self, i: int, t: Any, latents: torch.Tensor) -> None:
        """The legacy `callback(step, timestep, latents)`."""
        self._step(min(i + 1, self._steps), self._steps, latents)

    def _step(self, step: int, total: int, latents: torch.Tensor | None) -> None:
        self._on_step(step, total)
        if self.should_stop():
            raise GenerationStopped()
        if self._preview is not None:
            self._preview.after(step, total, latents)


def call_parameters(pipe: Any) -> frozenset[str]:
    """The names of a pipeline's call arguments."""
    return frozenset(inspect.signature(pipe.__call__).parameters)


def out_of_memory_reason(request: RenderRequest) -> str:
    return (f"the GPU ran out of memory for {request.frames} frames at "
            f"{request.width}x{request.height}; try fewer frames or a smaller size")


def resolve_model(model: str, models_dir: Path) -> str:
    """What to hand `from_pretrained`: a builtin's folder (built on first use), a local
    folder, or else the string itself as a hub id."""
    if model.startswith(BUILTIN_PREFIX):
        return str(ensure_builtin_model(model.removeprefix(BUILTIN_PREFIX), models_dir))
    local = Path(model).expanduser()
    return str(local) if local.is_dir() else model


def pipeline_family(pipe: DiffusionPipeline, configured: str) -> Family:
    """The configured family, or for "auto" the one of the pipeline's class ("generic" if
    the class is not known)."""
    if configured != "auto":
        return FAMILIES[configured]
    return FAMILIES[family_of_pipeline(type(pipe).__name__, vae_latent_channels(pipe))]


def to_uint8_frames(frames: Any) -> Frames:
    """One clip as uint8 (frames, height, width, 3), from a pipeline's `frames` output: a
    batch of float arrays in [0, 1], or of lists of PIL images."""
    clip = frames[0] if isinstance(frames, list) or np.ndim(frames) == 5 else frames
    array = np.stack([np.asarray(frame) for frame in clip])
    if array.dtype != np.uint8:
        array = (np.clip(array, 0.0, 1.0) * 255.0).round().astype(np.uint8)
    if array.ndim != 4 or array.shape[-1] != 3:
        raise ValueError(f"expected frames of shape (T, H, W, 3), got {array.shape}")
    return array


def _from_pretrained(preset: PresetConfig, source: str, dtype: torch.dtype,
                     models_dir: Path) -> Any:
    """The pipeline a model folder names, or for AnimateDiff a Stable Diffusion checkpoint
    with the preset's motion adapter added."""
    if not preset.motion_adapter:
        return DiffusionPipeline.from_pretrained(source, **{_DTYPE_KWARG: dtype})
    from diffusers import AnimateDiffPipeline, MotionAdapter

    adapter = MotionAdapter.from_pretrained(resolve_model(preset.motion_adapter, models_dir),
                                            **{_DTYPE_KWARG: dtype})
    return AnimateDiffPipeline.from_pretrained(source, motion_adapter=adapter,
                                               **{_DTYPE_KWARG: dtype})


def torch_dtype(name: str, device: str) -> torch.dtype:
    """The torch dtype a preset names, float32 on a CPU for float16 (unsupported there)."""
    dtype = _DTYPES[name]
    if dtype == torch.float16 and torch.device(device).type == "cpu":
        log.warning("float16 is not supported on cpu: loading in float32 instead")
        return torch.float32
    return dtype


def _diffusers_takes_dtype() -> bool:
    major, minor = (int(part) for part in version("diffusers").split(".")[:2])
    return (major, minor) >= (0, 42)


# `torch_dtype` is deprecated in favour of `dtype` (diffusers 0.42 knows both).
_DTYPE_KWARG = "dtype" if _diffusers_takes_dtype() else "torch_dtype"


def _quiet_loading() -> None:
    """No progress bars from loading: the worker's log is a log, not a terminal."""
    import diffusers.utils.logging as diffusers_logging
    import transformers.utils.logging as transformers_logging

    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()
