"""What each text-to-video model family accepts, and how a request is rounded to fit it.

Torch-free on purpose: the bot process rounds a request before it is queued, so that the
acknowledgement shows the parameters the model will really use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from videobot.config.presets import PresetConfig
from videobot.params import RenderRequest


@dataclass(frozen=True)
class Family:
    """A model family's shape rules: frames = frame_multiple * k + frame_offset (at most
    max_frames), sizes a multiple of size_multiple."""

    name: str
    size_multiple: int = 8
    frame_multiple: int = 1
    frame_offset: int = 0
    fixed_frames: int | None = None
    max_frames: int | None = None
    #: The one (width, height) its models render, if they render one only.
    fixed_size: tuple[int, int] | None = None
    #: Whether its models take a picture to animate: "none" (text only), "optional" (text,
    #: or text and a picture: one model does both) or "required" (image to video only).
    image: str = "none"
    #: An image-to-video family's text-to-video kin, whose VAE and transformer blocks it
    #: shares: previews and uncalibrated caches use the kin's settings.
    base: str = ""

    @property
    def kin(self) -> str:
        """The family whose VAE and block layout this one has (itself, or its `base`)."""
        return self.base or self.name


FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family("generic", size_multiple=8),
        Family("text-to-video-sd", size_multiple=8),
        # The motion modules' position embeddings cover 32 frames (`motion_max_seq_length`).
        Family("animatediff", size_multiple=8, max_frames=32),
        Family("wan", size_multiple=16, frame_multiple=4, frame_offset=1),
        # Wan 2.1 I2V 14B (480p and 720p): the picture is the first frame.
        Family("wan-i2v", size_multiple=16, frame_multiple=4, frame_offset=1,
               image="required", base="wan"),
        # Wan 2.2 TI2V 5B: its VAE compresses 16x (not 8x), so sizes are multiples of 32;
        # text to video and image to video in one model.
        Family("wan-5b", size_multiple=32, frame_multiple=4, frame_offset=1, image="optional"),
        # LTX-Video: one model for both (LTXPipeline, LTXImageToVideoPipeline).
        Family("ltx", size_multiple=32, frame_multiple=8, frame_offset=1, image="optional"),
        # 4k+1 frames with k odd make an even number of latent frames, which the VAE (that
        # decodes them in pairs) turns into 4k+4 frames: only 8k+1 come back whole.
        Family("cogvideox", size_multiple=16, frame_multiple=8, frame_offset=1),
        # CogVideoX-5b-I2V: its learned position embeddings cover 49 frames of 720x480.
        Family("cogvideox-i2v", size_multiple=16, frame_multiple=8, frame_offset=1,
               max_frames=49, fixed_size=(720, 480), image="required", base="cogvideox"),
        Family("hunyuan", size_multiple=16, frame_multiple=4, frame_offset=1),
        Family("hunyuan-i2v", size_multiple=16, frame_multiple=4, frame_offset=1,
               image="required", base="hunyuan"),
        Family("demo", size_multiple=8, image="optional"),
    )
}

#: diffusers pipeline class name -> family, for `family = "auto"` on a local model folder.
PIPELINE_FAMILIES: dict[str, str] = {
    "TextToVideoSDPipeline": "text-to-video-sd",
    "AnimateDiffPipeline": "animatediff",
    "WanPipeline": "wan",
    "WanImageToVideoPipeline": "wan-i2v",
    "LTXPipeline": "ltx",
    "LTXImageToVideoPipeline": "ltx",
    "LTXConditionPipeline": "ltx",
    "CogVideoXPipeline": "cogvideox",
    "CogVideoXImageToVideoPipeline": "cogvideox-i2v",
    "HunyuanVideoPipeline": "hunyuan",
    "HunyuanVideoImageToVideoPipeline": "hunyuan-i2v",
}


#: builtin:NAME models -> family.
BUILTIN_FAMILIES: dict[str, str] = {
    "tiny-text-to-video-sd": "text-to-video-sd",
    "tiny-wan": "wan",
    "tiny-wan22": "wan-5b",
    "tiny-ltx": "ltx",
    "tiny-cogvideox": "cogvideox",
    "tiny-hunyuan": "hunyuan",
    "tiny-animatediff": "animatediff",
    "tiny-wan-i2v": "wan-i2v",
    "tiny-cogvideox-i2v": "cogvideox-i2v",
    "tiny-hunyuan-i2v": "hunyuan-i2v",
    "demo": "demo",
}


def family_for_preset(preset: PresetConfig) -> Family:
    """The family a preset's model belongs to: its `family` key, else what the model says
    about itself (builtin name, or `model_index.json` of a local folder), else generic."""
    if preset.family != "auto":
        return FAMILIES[preset.family]
    if preset.model.startswith("builtin:"):
        return FAMILIES[BUILTIN_FAMILIES.get(preset.model.removeprefix("builtin:"), "generic")]
    folder = Path(preset.model).expanduser()
    try:
        class_name = json.loads((folder / "model_index.json").read_text()).get("_class_name", "")
    except (OSError, ValueError, AttributeError):
        return FAMILIES["generic"]
    return FAMILIES[family_of_pipeline(class_name, _vae_channels(folder))]


def family_of_pipeline(class_name: str, vae_channels: int | None) -> str:
    """The family of a diffusers pipeline class ("generic" if unknown): Wan 2.2 5B shares
    WanPipeline (and WanImageToVideoPipeline) with Wan 2.1 and is told apart by its
    48-channel VAE."""
    family = PIPELINE_FAMILIES.get(class_name, "generic")
    wan = family in ("wan", "wan-i2v")
    return "wan-5b" if wan and vae_channels == WAN_22_VAE_CHANNELS else family


#: The latent channels of Wan 2.2 TI2V 5B's VAE (Wan 2.1's has 16).
WAN_22_VAE_CHANNELS = 48


def _vae_channels(folder: Path) -> int | None:
    try:
        config = json.loads((folder / "vae" / "config.json").read_text())
    except (OSError, ValueError):
        return None
    channels = config.get("z_dim") if isinstance(config, dict) else None
    return channels if isinstance(channels, int) else None


def round_to_family(request: RenderRequest, family: Family) -> tuple[RenderRequest, list[str]]:
    """Round frames and size to what `family` accepts; return the new request and one note
    per change, worded for the user."""
    notes: list[str] = []
    width = _round_size(request.width, family.size_multiple)
    height = _round_size(request.height, family.size_multiple)
    if (width, height) != (request.width, request.height):
        notes.append(
            f"size {request.width}x{request.height} rounded to {width}x{height} "
            f"(multiples of {family.size_multiple})"
        )
    frames = _round_frames(request.frames, family)
    if frames != request.frames:
        notes.append(f"frames {request.frames} rounded to {frames} ({_frame_rule(family)})")
    return request.replace(width=width, height=height, frames=frames), notes


def _round_size(value: int, multiple: int) -> int:
    return max(multiple, round(value / multiple) * multiple)


def _round_frames(frames: int, family: Family) -> int:
    if family.fixed_frames:
        return family.fixed_frames
    k = max(1, round((frames - family.frame_offset) / family.frame_multiple))
    if family.max_frames is not None:
        k = min(k, (family.max_frames - family.frame_offset) // family.frame_multiple)
    return k * family.frame_multiple + family.frame_offset


def _frame_rule(family: Family) -> str:
    if family.fixed_frames:
        return f"{family.fixed_frames} frames only"
    rule = f"{family.frame_multiple}k+{family.frame_offset} frames"
    if family.max_frames is None:
        return rule
    limit = f"at most {family.max_frames} frames"
    return limit if family.frame_multiple == 1 else f"{rule}, {limit}"
