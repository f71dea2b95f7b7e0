"""Which presets can describe a clip (video to text): the bot offers `/describe` through
them, and their workers claim describe jobs. A backend says whether it has a captioner (the
demo model's reads any clip); a preset of such a backend can describe."""

from __future__ import annotations

from collections.abc import Iterable

from videobot.config import Config
from videobot.config.presets import PresetConfig

#: The backends that ship a captioner (generator.describing holds the captioners themselves).
CAPTIONING_BACKENDS = frozenset({"demo"})


def can_describe(preset: PresetConfig) -> bool:
    """Whether workers serving `preset` caption clips."""
    return preset.backend in CAPTIONING_BACKENDS


def describing_presets(config: Config, names: Iterable[str]) -> tuple[str, ...]:
    """Those of the presets `names` (in their order) that are configured and can describe."""
    return tuple(name for name in names
                 if name in config.presets and can_describe(config.presets[name]))
