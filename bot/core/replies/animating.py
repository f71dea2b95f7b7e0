"""What a user reads about animating a picture they sent without a command (the Animate
button on Telegram, the "Animate" message command on Discord)."""

from __future__ import annotations


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
