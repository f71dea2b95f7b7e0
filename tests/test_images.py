"""Images sent with a request (videobot/images.py): accepted by content, refused by name,
turned upright, made RGB and fitted to the clip."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image

from videobot.images import BadImage, ImageTooLarge, check_image_size, fit_image


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_png_jpeg_and_webp_are_taken_by_content_not_by_name(fmt: str) -> None:
    data = encoded(Image.new("RGB", (64, 32), (10, 200, 10)), fmt)
    fitted = fit_image(data, width=64, height=32, max_mb=1)
    assert (fitted.width, fitted.height, fitted.note) == (64, 32, "")
    image = decoded(fitted.png)
    assert (image.format, image.mode, image.size) == ("PNG", "RGB", (64, 32))


def test_other_formats_and_damaged_files_are_refused_by_name() -> None:
    gif = encoded(Image.new("RGB", (8, 8)), "GIF")
    with pytest.raises(BadImage, match=r"^the image is not a PNG, JPEG or WebP file$"):
        fit_image(gif, width=8, height=8, max_mb=1)
    jpeg = encoded(Image.new("RGB", (256, 256), (1, 2, 3)), "JPEG")
    with pytest.raises(BadImage, match="the JPEG file is damaged or cut short"):
        fit_image(jpeg[: len(jpeg) // 2], width=8, height=8, max_mb=1)


def test_size_and_pixel_limits_are_named() -> None:
    with pytest.raises(ImageTooLarge, match=r"^the image is 2\.0 MB; the limit is 1 MB$"):
        fit_image(b"\0" * 2_000_000, width=8, height=8, max_mb=1)
    # Only a header: the limit is checked before a pixel is decoded.
    with pytest.raises(BadImage, match=r"more than 40 megapixels \(8000x6000\)"):
        fit_image(png_header(8000, 6000), width=8, height=8, max_mb=1)
    with pytest.raises(BadImage, match="more than 40 megapixels"):  # PIL's bomb check first
        fit_image(png_header(20000, 20000), width=8, height=8, max_mb=1)


def test_a_picture_too_small_to_show_anything_is_refused() -> None:
    dot = encoded(Image.new("RGB", (1, 1), (255, 0, 0)), "PNG")
    with pytest.raises(BadImage, match=r"^the image is only 1x1 pixels; send one at least 8 "
                                       r"pixels on each side$"):
        fit_image(dot, width=64, height=64, max_mb=1)
    assert fit_image(encoded(Image.new("RGB", (8, 8)), "PNG"), width=64, height=64,
                     max_mb=1).width == 64


def test_the_size_is_checked_before_the_file_is_fetched() -> None:
    check_image_size(1_000_000, max_mb=1)
    with pytest.raises(ImageTooLarge, match=r"^the image is 30\.0 MB; the limit is 20 MB$"):
        check_image_size(30_000_000, max_mb=20)


def test_exif_orientation_is_applied_then_the_image_is_centre_cropped() -> None:
    # 40x20 stored on its side: a red left half, a blue right half once rotated upright.
    upright = Image.new("RGB", (20, 40), (0, 0, 255))
    upright.paste((255, 0, 0), (0, 0, 20, 20))
    stored = upright.transpose(Image.Transpose.ROTATE_90)  # what the camera wrote
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    fitted = fit_image(encoded(stored, "PNG", exif=exif), width=16, height=16, max_mb=1)
    image = decoded(fitted.png)
    assert image.size == (16, 16)
    top, bottom = image.getpixel((8, 2)), image.getpixel((8, 13))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 and bottom[2] > 200
    assert fitted.note == ("the image (20x40) was centre-cropped to the clip's shape and "
                           "resized to 16x16")


def test_transparency_lands_on_white() -> None:
    clear = Image.new("RGBA", (8, 8), (0, 0, 0, 0))
    image = decoded(fit_image(encoded(clear, "PNG"), width=8, height=8, max_mb=1).png)
    assert image.mode == "RGB" and image.getpixel((4, 4)) == (255, 255, 255)


def png_header(width: int, height: int) -> bytes:
    """A PNG's signature, its IHDR chunk and the start of its pixels: all PIL reads to open
    it."""
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                            0, 0, 0)) + chunk(b"IDAT", b"\0" * 8)


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
