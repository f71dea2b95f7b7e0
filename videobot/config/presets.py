"""`[presets.NAME]`: a named model plus its default parameters and caps, and the choices of
its memory and speed keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True)
class PresetConfig:
    """A named model plus its default parameters and caps."""

    name: str = "tiny"
    backend: str = "diffusers"
    model: str = "builtin:tiny-text-to-video-sd"
    family: str = "auto"
    dtype: str = "float32"
    frames: int = 16
    fps: int = 8
    width: int = 64
    height: int = 64
    steps: int = 4
    guidance: float = 7.5
    negative_prompt: str = ""
    max_frames: int = 64
    max_pixels: int = 512 * 512
    max_steps: int = 50
    #: The longer side over the shorter at most (4: from 1:4 to 4:1).
    max_aspect_ratio: float = 4.0
    #: The `/video` options this preset's model uses (see videobot.options); the others are
    #: ignored, not charged, and the acknowledgement says so. Empty: the backend's own list.
    used_options: tuple[str, ...] = ()
    notice: str = ""
    cost_factor: float = 1.0
    nsfw: bool = False
    #: AnimateDiff: the motion adapter (hub id or folder) added to `model`, a Stable
    #: Diffusion 1.5 checkpoint.
    motion_adapter: str = ""
    # Memory and speed (diffusers presets; README, "Real models on a GPU").
    offload: str = "none"
    group_offload_blocks: int = 1
    vae_tiling: bool = False
    vae_slicing: bool = False
    fp8_weights: bool = False
    compile: str = "none"
    attention_backend: str = ""
    cache: str = "none"
    #: 0: the setting the cache's authors publish for the model's family.
    cache_threshold: float = 0.0
    #: Every this many denoising steps the worker stores a cheap preview of the clip forming
    #: (a linear projection of the latents to RGB, no VAE call); 0: none.
    preview_every_steps: int = 0
    #: x264's speed preset for the clip's encode (see `X264_PRESETS`).
    x264_preset: str = "veryfast"
    #: Extra keyword arguments of the pipeline call (e.g. LTX's decode_timestep).
    pipeline_args: Mapping[str, str | int | float | bool] = field(
        default_factory=lambda: MappingProxyType({}))
    #: A render running longer is stopped at its next step and failed with a message.
    time_limit_seconds: float = 900.0
    #: On out-of-memory, retry once with VAE tiling (then model offload) before failing.
    oom_fallback: bool = True
    #: Whether it takes a picture to animate: none, optional, required, or auto (its model
    #: family's; videobot.image_presets).
    image: str = "auto"
    #: The longest a clip may grow by /extend, in seconds; 0: four times the preset's clip
    #: (`frames / fps`; videobot.extending).
    max_seconds: float = 0.0


#: A diffusers preset as it comes: the memory and speed keys a demo preset must leave alone.
DIFFUSERS_DEFAULTS = PresetConfig()

DEMO_PRESET = PresetConfig(
    name="demo", backend="demo", model="builtin:demo", family="demo", width=256, height=256,
    guidance=0.0, used_options=("frames", "fps", "width", "height", "seed"),
    notice="The embedded demo model draws one coloured shape moving on a plain background.",
)


def default_presets() -> Mapping[str, PresetConfig]:
    """The embedded defaults: the demo model, and a tiny random diffusers pipeline."""
    return MappingProxyType({"demo": DEMO_PRESET, "tiny": PresetConfig()})


BACKENDS = ("diffusers", "demo")
DTYPES = ("float32", "float16", "bfloat16")
#: The choices of the memory and speed keys of a preset.
OFFLOAD_CHOICES = ("none", "model", "sequential", "group")
COMPILE_CHOICES = ("none", "regional", "full")
CACHE_CHOICES = ("none", "first-block", "pyramid", "faster", "mag", "taylorseer")
#: x264's speed presets, fastest first. At one CRF a faster one writes a larger file of about
#: the same quality (bench/x264_presets.py measures both).
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
                "slower", "veryslow")
#: The most steps between two previews (a larger number is a mistake, not a choice).
MAX_PREVIEW_EVERY_STEPS = 1000
#: The keys only diffusers presets take.
SPEED_KEYS = ("motion_adapter", "offload", "group_offload_blocks", "vae_tiling", "vae_slicing",
              "fp8_weights", "compile", "attention_backend", "cache", "cache_threshold",
              "pipeline_args", "preview_every_steps")
