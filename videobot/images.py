"""Images sent with a request (the API's `input_reference`, a chat's picture): checked by
their content, turned upright, made RGB and fitted to the clip's size.

PIL only (no numpy): the bot process runs this before a job is queued, and the generator
reads the stored result. Every refusal is a `BadImage` whose message names the problem.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

#: The formats accepted, as PIL names them, and how a reply names them.
FORMATS = ("PNG", "JPEG", "WEBP")
FORMAT_WORDS = "PNG, JPEG or WebP"
MAX_MEGAPIXELS = 40
#: A smaller picture has nothing to animate (a 1x1 "image" is a colour, not a picture).
MIN_SIDE = 8
_BACKGROUND = (255, 255, 255)


class BadImage(ValueError):
    """The image cannot be used; the message says why."""


class ImageTooLarge(BadImage):
    """The image's file is over the size limit."""


@dataclass(frozen=True)
class FittedImage:
    """An image at the clip's size, as PNG, and a note when it had to be cropped or resized."""

    png: bytes
    width: int
    height: int
    note: str = ""


def fit_image(data: bytes, *, width: int, height: int, max_mb: float) -> FittedImage:
    """Check `data` (PNG, JPEG or WebP, by content; at most `max_mb` and 40 megapixels), turn
    it upright by its EXIF orientation, make it RGB, and centre-crop it to the aspect ratio of
    `width` x `height`, then resize it to that size."""
    check_image_size(len(data), max_mb=max_mb)
    image = _open(data)
    upright = _rgb(ImageOps.exif_transpose(image))
    fitted = ImageOps.fit(upright, (width, height), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    fitted.save(out, format="PNG")
    note = "" if upright.size == (width, height) else (
        f"the image ({upright.width}x{upright.height}) was centre-cropped to the clip's "
        f"shape and resized to {width}x{height}")
    return FittedImage(out.getvalue(), width, height, note)


def check_image_size(size: int, *, max_mb: float) -> None:
    """`ImageTooLarge` when a file of `size` bytes is over `max_mb`: front doors that learn the
    size before fetching the file (a chat attachment) check it first."""
    if size > max_mb * 1_000_000:
        raise ImageTooLarge(f"the image is {size / 1_000_000:.1f} MB; the limit is "
                            f"{max_mb:g} MB")


def _open(data: bytes) -> Image.Image:
    """The decoded image, or `BadImage` naming what is wrong with it."""
    try:
        with warnings.catch_warnings():
            # PIL warns of (and past twice its limit refuses) "decompression bombs".
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
    except UnidentifiedImageError:
        raise BadImage(f"the image is not a {FORMAT_WORDS} file") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise BadImage(_too_many_pixels()) from None
    if image.width * image.height > MAX_MEGAPIXELS * 1_000_000:
        raise BadImage(_too_many_pixels(image.width, image.height))
    if min(image.size) < MIN_SIDE:
        raise BadImage(f"the image is only {image.width}x{image.height} pixels; send one at "
                       f"least {MIN_SIDE} pixels on each side")
    try:
        image.load()
    except (OSError, SyntaxError, ValueError):
        raise BadImage(f"the image could not be read: the {image.format} file is damaged or "
                       "cut short") from None
    return image


def _rgb(image: Image.Image) -> Image.Image:
    """RGB, with transparent parts on white (not on whatever colour they happen to hold)."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (*_BACKGROUND, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _too_many_pixels(width: int | None = None, height: int | None = None) -> str:
    size = f" ({width}x{height})" if width and height else ""
    return f"the image has more than {MAX_MEGAPIXELS} megapixels{size}; send a smaller one"
