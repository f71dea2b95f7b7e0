"""The picture a job was sent with (image to video), read for its render: the PNG recorded
with the job (a file in the data folder, or bytes in the database on PostgreSQL) as an RGB
array at the request's size, which is what every backend's `image=` takes."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError
from sqlalchemy.ext.asyncio import AsyncEngine

from generator.backends.base import GenerationFailed, Image
from storage.inputs import JobImage, job_image
from videobot.params import RenderRequest

#: Why a job's picture cannot be used (the user is told).
IMAGE_GONE = "the picture sent with this job is no longer stored; send it again"
IMAGE_UNREADABLE = "the picture stored with this job cannot be read; send it again"


async def read_job_image(engine: AsyncEngine, job_id: int) -> JobImage | None:
    """The job's recorded picture, or None for a job sent without one; `GenerationFailed` if
    it had one whose file is gone (a text-only render would not be what was asked for)."""
    image = await job_image(engine, job_id)
    if image is not None and image.png is None:
        raise GenerationFailed(IMAGE_GONE)
    return image


def decode_job_image(image: JobImage, request: RenderRequest) -> Image:
    """The picture as uint8 RGB (height, width, 3) at the request's size. It was fitted to that
    size when it was sent; one that is not (a row written by hand, an older version) is
    centre-cropped and resized here the same way."""
    if image.png is None:
        raise GenerationFailed(IMAGE_GONE)
    return picture_array(image.png, request)


def picture_array(png: bytes, request: RenderRequest) -> Image:
    """A picture's file (as fitted when it was sent) as uint8 RGB (height, width, 3) at the
    request's size, centre-cropped and resized if it is not that size;
    `GenerationFailed` when it cannot be read."""
    try:
        with PILImage.open(io.BytesIO(png)) as opened:
            rgb = opened.convert("RGB")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise GenerationFailed(IMAGE_UNREADABLE) from None
    size = (request.width, request.height)
    if rgb.size != size:
        rgb = ImageOps.fit(rgb, size, PILImage.Resampling.LANCZOS)
    return np.ascontiguousarray(np.asarray(rgb, dtype=np.uint8))
