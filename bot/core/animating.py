"""Animating a picture: `/animate [prompt]` sent with one, and a picture sent without a
command (the Animate button on Telegram, the "Animate" message command on Discord): a
`/video` of that picture for whoever asked.

The prompt is the command's or the picture's own text (its caption, the message's content,
read with the same `--options` as `/video`) or, without one, a default prompt that suits the
preset's model. The
preset is the one the text names, else the default preset when it takes a picture, else the
first preset the running workers take that does; with none, the request goes on as it is and
is refused as a `/video` with a picture would be, naming the presets that can.
"""

from __future__ import annotations

from collections.abc import Collection

from bot.core import replies
from bot.core.attachments import AttachedImage, OpenImageFile, picture_of
from bot.core.errors import CommandError
from bot.core.parsing import VideoOptions, parse_video_options
from videobot.config import Config, PresetConfig
from videobot.image_presets import takes_picture

#: The demo model's default: it animates the picture's shape with the motion the prompt names,
#: so the default names one it knows (a prompt without one would not say how to move).
DEMO_ANIMATE_PROMPT = "it is moving right"
#: A real image-to-video model's default: motion without changing what the picture shows.
ANIMATE_PROMPT = "the scene comes to life with gentle, natural motion"


def default_prompt(preset: PresetConfig) -> str:
    """What a picture without text is animated with on `preset`."""
    return DEMO_ANIMATE_PROMPT if preset.backend == "demo" else ANIMATE_PROMPT


def can_animate(config: Config) -> bool:
    """Whether some configured preset takes a picture (else no Animate is offered)."""
    return any(takes_picture(preset) for preset in config.presets.values())


def animating_preset(config: Config, served: Collection[str] | None) -> PresetConfig:
    """The default preset when it takes a picture, else the first served one that does
    (`served` None: every preset), else the default preset (the request is then refused)."""
    default = config.preset(config.default_preset)
    candidates = [default, *(config.presets[name] for name in sorted(config.presets))]
    return next((preset for preset in candidates if takes_picture(preset)
                 and (served is None or preset.name in served)), default)


def animate_options(text: str, config: Config,
                    served: Collection[str] | None = None) -> VideoOptions:
    """The `/video` that animates a picture sent with `text` (its `--image PATH` kept);
    `CommandError` when its options are wrong."""
    options = parse_video_options(text)
    overrides = dict(options.overrides)
    named = config.presets.get(str(overrides.get("preset", "")))
    preset = named or animating_preset(config, served)
    if "preset" not in overrides and preset.name != config.default_preset:
        overrides["preset"] = preset.name
    return VideoOptions(options.prompt.strip() or default_prompt(preset), overrides,
                        options.image_path)


def animate_request(text: str, config: Config, served: Collection[str] | None, *,
                    platform: str, image: AttachedImage | None,
                    open_file: OpenImageFile | None) -> tuple[VideoOptions, AttachedImage]:
    """`/animate text` on `platform`: the `/video` it queues and its picture (the one sent
    with it, or `--image PATH` where `open_file` reads paths). `CommandError` when its options
    are wrong, or without a picture: how to send one here, and the presets that take one."""
    options = animate_options(text, config, served)
    picture = picture_of(options, image, open_file)
    if picture is None:
        animators = [name for name in sorted(config.presets) if takes_picture(
            config.presets[name]) and (served is None or name in served)]
        raise CommandError(replies.animate_needs_picture(platform, animators))
    return options, picture
