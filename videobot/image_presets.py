"""Which presets take a picture to animate (image to video), and which render from text.

A preset's `image` key says it: "none" (text only), "optional" (text, or text and a
picture), "required" (a picture with every clip); "auto", the default, takes its model
family's (`Family.image`). Torch-free: the bot checks a request against it before queuing.
"""

from __future__ import annotations

from videobot.config.presets import PresetConfig
from videobot.families import family_for_preset

#: What a preset's `image` key may say, "auto" first (its family's).
IMAGE_CHOICES = ("auto", "none", "optional", "required")


def image_mode(preset: PresetConfig) -> str:
    """"none", "optional" or "required": whether `preset` takes a picture."""
    if preset.image != "auto":
        return preset.image
    return family_for_preset(preset).image


def takes_picture(preset: PresetConfig) -> bool:
    """Whether a request with a picture may name `preset`."""
    return image_mode(preset) != "none"


def takes_text_alone(preset: PresetConfig) -> bool:
    """Whether a request without a picture may name `preset`."""
    return image_mode(preset) != "required"


def image_key_error(preset: PresetConfig) -> str | None:
    """Why the preset's `image` key is wrong (for the config's error), or None. A family
    known to be text only cannot be given pictures, nor an image-to-video one none; a
    generic pipeline may be declared either way."""
    if preset.image not in IMAGE_CHOICES:
        return f"must be one of {', '.join(IMAGE_CHOICES)}, not {preset.image!r}"
    family = family_for_preset(preset)
    if preset.image == "auto" or family.name == "generic":
        return None
    if family.image == "none" and preset.image != "none":
        return f"the {family.name} family makes videos from text only; use none or auto"
    if family.image == "required" and preset.image != "required":
        return (f"the {family.name} family animates a picture and needs one with every clip; "
                "use required or auto")
    return None

