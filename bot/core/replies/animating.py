"""What a user reads about animating a picture: `/animate`, and a picture sent without a
command (the Animate button on Telegram, the "Animate" message command on Discord)."""

from __future__ import annotations

from collections.abc import Collection


def animate_offer(prompt: str, captioned: bool) -> str:
    """The one sentence under a picture sent without a command, beside the Animate button."""
    if captioned:
        return f"Press Animate to make a clip of this picture: “{prompt}”."
    return (f"Press Animate to make a clip of this picture with the prompt “{prompt}” "
            "(a caption sets your own).")


NOT_YOUR_PICTURE = "Sorry: only the person who sent this picture may animate it."

PICTURE_GONE = "Sorry: the picture is no longer there; send it again to animate it."

NO_PICTURE_IN_MESSAGE = ("Sorry: that message has no picture to animate; use Animate on a "
                         "message with a PNG, JPEG or WebP image attached.")

#: How to send `/animate` a picture, by platform (`UserRef.platform`).
_ANIMATE_HOW = {
    "console": "add --image FILE, e.g. /animate --image ball.png it rolls away",
    "telegram": "send a photo with /animate as its caption, or reply /animate to one",
    "discord": "use /animate's image option, or Animate in the Apps menu of a message with "
               "a picture",
}


def animate_needs_picture(platform: str, animators: Collection[str]) -> str:
    """`/animate` sent without a picture: how to send one here, and the presets that take
    one."""
    how = _ANIMATE_HOW.get(platform, "send the picture with the command")
    presets = (f"presets that animate a picture: {', '.join(sorted(animators))}" if animators
               else "no preset here animates a picture")
    return f"/animate needs a picture (PNG, JPEG or WebP) to animate: {how}; {presets}"
