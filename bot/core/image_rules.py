"""Whether a request may come with a picture: each preset declares it (`image`: none,
optional, required; videobot.image_presets), and a request that does not fit is refused
before anything is written or queued, with the presets that would take it."""

from __future__ import annotations

from collections.abc import Collection

from bot.core import replies
from bot.core.errors import PictureRefused
from videobot.config import Config, PresetConfig
from videobot.image_presets import takes_picture, takes_text_alone


def check_picture(config: Config, preset: str, *, with_picture: bool,
                  served: Collection[str] | None = None) -> None:
    """Refuse (`PictureRefused`) a picture sent to a text-only preset, or no picture sent to
    an image-to-video one. `served`: the presets running workers take (None: all), which
    are the ones the reply may suggest."""
    chosen = config.preset(preset)
    if with_picture and not takes_picture(chosen):
        raise PictureRefused(replies.picture_not_taken(
            preset, [p.name for p in _candidates(config, served) if takes_picture(p)]))
    if not with_picture and not takes_text_alone(chosen):
        raise PictureRefused(replies.picture_required(
            preset, [p.name for p in _candidates(config, served) if takes_text_alone(p)]))


def _candidates(config: Config, served: Collection[str] | None) -> list[PresetConfig]:
    """The presets a refusal may suggest, by name (only a refusal lists them)."""
    return [config.presets[name] for name in sorted(config.presets)
            if served is None or name in served]
