"""A clip's poster as Telegram wants a video's thumbnail."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

THUMBNAIL_SIDE = 320
THUMBNAIL_MAX_BYTES = 200_000


def telegram_thumbnail(poster: Path) -> bytes:
    """The poster as Telegram wants a thumbnail: JPEG, at most 320 px a side, under 200 kB."""
    with Image.open(poster) as image:
        if max(image.size) <= THUMBNAIL_SIDE and poster.stat().st_size < THUMBNAIL_MAX_BYTES:
            return poster.read_bytes()
        image.thumbnail((THUMBNAIL_SIDE, THUMBNAIL_SIDE))
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=80)
        return out.getvalue()
